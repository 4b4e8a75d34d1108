"""`backprop --emit-spec`: the spec written back with its updated params.

The emitted spec must load as the same network with the updated params, exactly: its forward
pass gives the engine's loss after the step, bit for bit, and its params are the step's.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import nncalc
from nncalc.cli import app
from nncalc.emit import emit, name
from nncalc.yamlio import parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("-answers"))
runner = CliRunner()


def _emitted(spec: Path | str, *options: str) -> str:
    result = runner.invoke(app, ["backprop", str(spec), "--emit-spec", *options])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_emitted_spec_is_the_stepped_network(example: Path) -> None:
    step = nncalc.backprop(nncalc.load_spec(example))
    assert step.updated is not None
    text = _emitted(example)
    again = nncalc.load_spec(text, source="emitted")
    assert again.form == step.spec.form
    assert list(again.params) == list(step.spec.params)  # same names, same order
    for key, value in step.updated.items():
        assert np.array_equal(np.asarray(again.params[key]), np.asarray(value)), key
    # bit for bit: the same float operations on the same floats
    assert nncalc.forward(again).loss == step.loss_after
    assert again.neuron_names == step.spec.neuron_names
    assert again.input_names == step.spec.input_names
    assert np.array_equal(again.inputs, step.spec.inputs)
    assert again.frozen == step.spec.frozen
    assert again.loss.name == step.spec.loss.name
    assert again.learning_rate == step.spec.learning_rate


def test_stepping_an_emitted_spec_again_is_the_second_step() -> None:
    # homework, lr 1: step 1 gives w1 = 2 − 2.2 = −0.2 (README); stepping the emitted spec is
    # step 2, from the updated params
    first = _emitted(ROOT / "examples" / "homework.yaml")
    second = nncalc.backprop(nncalc.load_spec(first, source="step1"))
    assert second.updated is not None
    step1 = nncalc.load_spec(first, source="step1").params
    assert step1["w1"] == pytest.approx(-0.2, abs=1e-15)
    for key in step1:
        g = second.gradients[key]
        assert second.updated[key] == pytest.approx(step1[key] - 1.0 * g)


def test_exact_arithmetic_emits_fractions() -> None:
    # x = 1/3, w = 1, identity, y = 1, lr 1: ŷ = 1/3, ∂L/∂ŷ = 1/3 − 1 = −2/3,
    # ∂L/∂w = −2/3 · 1/3 = −2/9, w ← 1 + 2/9 = 11/9 (no finite decimal: written "11/9")
    spec = (
        'inputs: {x: "1/3"}\nparams: {w: 1}\nneurons: {o: {from: {x: w}, activation: identity}}\n'
        "target: {o: 1}\nlearning_rate: 1\n"
    )
    text = emit_from_text(spec, "--exact")
    assert 'inputs: {x: "1/3"}' in text
    assert 'params: {w: "11/9"}' in text
    homework = _emitted(ROOT / "examples" / "homework.yaml", "--exact")
    assert "w1: -0.2," in homework  # −1/5 has a short decimal


def emit_from_text(spec: str, *options: str) -> str:
    result = runner.invoke(app, ["backprop", "-", "--emit-spec", *options], input=spec)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_output_is_written_atomically_and_never_clobbered(tmp_path: Path) -> None:
    target = tmp_path / "step1.yaml"
    homework = str(ROOT / "examples" / "homework.yaml")
    result = runner.invoke(app, ["backprop", homework, "--emit-spec", "-o", str(target)])
    assert result.exit_code == 0
    assert "One SGD step" in result.stdout  # the tables still go to stdout
    written = target.read_text(encoding="utf-8")
    assert nncalc.load_spec(target).params["w7"] == pytest.approx(17.1)
    # an existing file is kept without --force, and nothing is printed
    result = runner.invoke(app, ["backprop", homework, "--emit-spec", "-o", str(target)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{target}: exists; give --force" in result.stderr
    assert target.read_text(encoding="utf-8") == written
    # with --force it is replaced (here by step 2, from step 1)
    result = runner.invoke(
        app, ["backprop", str(target), "--emit-spec", "-o", str(target), "--force"]
    )
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") != written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step1.yaml"]  # no temporary left


def test_emit_spec_refusals(tmp_path: Path) -> None:
    homework = str(ROOT / "examples" / "homework.yaml")
    # no learning rate, no update to write
    spec = (ROOT / "examples" / "homework.yaml").read_text(encoding="utf-8")
    spec = spec.replace("learning_rate: 1\n", "")
    result = runner.invoke(app, ["backprop", "-", "--emit-spec"], input=spec)
    assert result.exit_code == 2
    assert "no update without a learning rate" in result.stderr
    assert result.stdout == ""
    # a directory as the output
    result = runner.invoke(app, ["backprop", homework, "--emit-spec", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.stderr
    # --output without --emit-spec is a usage error
    result = runner.invoke(app, ["backprop", homework, "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize(
    "text", ["h1", "x_1", "a.b", "yes", "null", "1/3", "12", "a b", "x%", "ŷ", 'q"uote', "#x"]
)
def test_names_read_back_as_themselves(text: str) -> None:
    assert parse(f"{name(text)}: 1", "names").data == {text: 1}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_layered_specs_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    widths = [int(w) for w in rng.integers(1, 4, size=rng.integers(2, 4))]
    layers = []
    for n_in, n_out in itertools.pairwise(widths):
        layers.append(
            {
                "weights": rng.normal(size=(n_out, n_in)).tolist(),
                "bias": rng.normal(size=n_out).tolist(),
                "activation": str(rng.choice(["relu", "tanh", "sigmoid", "identity"])),
            }
        )
    spec_data = {
        "inputs": rng.normal(size=widths[0]).tolist(),
        "layers": layers,
        "target": rng.normal(size=widths[-1]).tolist(),
        "learning_rate": float(rng.uniform(0, 1)),
    }
    spec = nncalc.load_spec(json.dumps(spec_data), source="random")
    step = nncalc.backprop(spec)
    assert step.updated is not None
    again = nncalc.load_spec(emit(spec, step.updated), source="emitted")
    assert nncalc.forward(again).loss == step.loss_after


@pytest.mark.parametrize(
    "args",
    [
        ["backprop", "{spec}", "--emit-spec", "-o", "-"],
        ["train", "{spec}", "-n", "2", "--emit-spec", "-o", "-"],
        ["schema", "-o", "-"],
    ],
    ids=["backprop", "train", "schema"],
)
def test_output_dash_is_standard_output(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'-o -' prints what would be written, as `init -` and `exercise -o -` do; no file '-'."""
    spec = Path(__file__).resolve().parent.parent / "examples" / "homework.yaml"
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [a.format(spec=spec) for a in args])
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "-").exists()
    without = [a.format(spec=spec) for a in args if a not in ("-o", "-")]
    assert result.stdout == runner.invoke(app, without).stdout


def test_an_exact_integer_beyond_a_float_is_written_so_it_reads_back() -> None:
    """2⁵³ + 1 has no float: it is written "9007199254740993/1", which a spec reads exactly (it
    was written "9007199254740993", text where a number belongs, found by fuzzing)."""
    from fractions import Fraction

    from nncalc.emit import number

    assert number(Fraction(2**53 + 1)) == '"9007199254740993/1"'
    assert number(Fraction(-(2**53) - 1, 4)) == '"-9007199254740993/4"'
    assert number(Fraction(2**52)) == "4503599627370496"
    spec = nncalc.load_spec(
        'inputs: {x1: "9007199254740993/1"}\nparams: {w: 1}\n'
        "neurons: {o: {from: {x1: w}, activation: identity}}\ntarget: {o: 0}\n",
        exact=True,
    )
    assert spec.fractions[spec.inputs[0, 0]] == 2**53 + 1
