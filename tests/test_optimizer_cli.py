"""Optimizers on the command line and in the spec: `backprop --optimizer`, `optimizer:` and
`state:`, the state tables, and `--emit-spec` carrying the state into the next step.

The optimizers' arithmetic is tested against hand-derived steps in test_optim.py; here the
numbers are derived by hand again for the homework network, whose gradients are known
(∂L/∂w1..w9 = 2.2, 4.4, 0, 0, −5.28, −10.56, −17.6, 0, −13.2; README).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner

import nncalc
from nncalc import optim
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "examples" / "homework.yaml"
MAZUR = ROOT / "examples" / "mazur-sigmoid.yaml"
runner = CliRunner()


def _json(*args: str, spec_text: str | None = None) -> dict[str, object]:
    result = runner.invoke(app, [*args, "-f", "json"], input=spec_text)
    assert result.exit_code == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _refused(*args: str, spec_text: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=spec_text)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def test_one_adam_step_by_hand() -> None:
    # t = 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g²; w ← w − η·g/(|g| + ε), η = 1, ε = 1e-8:
    # w1 = 2 − 2.2/(2.2 + 1e-8) = 2 − 0.99999999545454547… = 1.0000000045454545…
    # w3: g = 0, so m̂ = v̂ = 0 and w3 stays 1; w7 = −0.5 + 17.6/(17.6 + 1e-8) = 0.49999999943…
    data = _json("backprop", str(HOMEWORK), "--optimizer", "adam")
    updated = data["updated"]
    assert isinstance(updated, dict)
    assert updated["w1"] == pytest.approx(2 - 2.2 / (2.2 + 1e-8), abs=1e-15)
    assert updated["w3"] == 1
    assert updated["w7"] == pytest.approx(-0.5 + 17.6 / (17.6 + 1e-8), abs=1e-15)
    opt = data["optimizer"]
    assert isinstance(opt, dict)
    assert opt["name"] == "adam" and opt["step"] == 1
    assert opt["state_before"] == {}
    assert opt["state_after"]["exp_avg"]["w1"] == pytest.approx(0.22)
    assert opt["state_after"]["exp_avg_sq"]["w1"] == pytest.approx(0.00484)
    assert opt["report"]["m_hat"]["w5"] == pytest.approx(-5.28)
    assert opt["report"]["v_hat"]["w5"] == pytest.approx(27.8784)


def test_step_two_of_momentum_from_a_state_written_in_the_spec() -> None:
    # μ = 0.5, buffer b(w1) = 1 after step 1: b ← 0.5·1 + 2.2 = 2.7, w1 ← 2 − 1·2.7 = −0.7;
    # w2: b = 0.5·(−2) + 4.4 = 3.4, w2 ← 1 − 3.4 = −2.4; w3: b = 0.5·0 + 0 = 0, w3 stays 1
    spec = HOMEWORK.read_text(encoding="utf-8") + (
        "optimizer: {name: momentum, momentum: 0.5}\n"
        "state:\n  step: 1\n"
        "  velocity: {w1: 1, w2: -2, w3: 0, w4: 0, w5: 0, w6: 0, w7: 0, w8: 0, w9: 0}\n"
    )
    data = _json("backprop", "-", spec_text=spec)
    updated = data["updated"]
    assert isinstance(updated, dict)
    assert updated["w1"] == pytest.approx(-0.7)
    assert updated["w2"] == pytest.approx(-2.4)
    assert updated["w3"] == 1
    opt = data["optimizer"]
    assert isinstance(opt, dict)
    assert opt["step"] == 2
    assert opt["state_after"]["velocity"]["w1"] == pytest.approx(2.7)
    # the command line overrides the spec's hyper-parameter: μ = 0.9, b = 0.9 + 2.2 = 3.1
    data = _json("backprop", "-", "--momentum", "0.9", spec_text=spec)
    assert data["updated"]["w1"] == pytest.approx(2 - 3.1)  # type: ignore[index]


def test_emitted_specs_carry_the_state_into_the_next_step(tmp_path: Path) -> None:
    # two adam steps through emitted specs equal two steps of the optimizer itself
    spec = nncalc.load_spec(MAZUR)
    net = nncalc.backprop(spec).network
    theta, state = net.theta.copy(), optim.initial_state()
    path = str(MAZUR)
    for n in (1, 2):
        gradient = nncalc.backprop(nncalc.load_spec(path)).gradient
        done = optim.step("adam", theta, gradient, state, 0.5, net.trainable)
        theta, state = done.theta, done.state
        target = tmp_path / f"step{n}.yaml"
        result = runner.invoke(
            app, ["backprop", path, "--optimizer", "adam", "--emit-spec", "-o", str(target)]
        )
        assert result.exit_code == 0, result.stderr
        path = str(target)
        emitted = nncalc.load_spec(target)
        assert emitted.state is not None and emitted.state.step == n
        flat = np.concatenate([np.ravel(emitted.params[k]) for k in emitted.params])
        assert np.array_equal(flat, theta)
    # the spec now names its optimizer, so a plain `backprop` takes step 3
    data = _json("backprop", path)
    assert data["optimizer"]["step"] == 3  # type: ignore[index]


def test_plain_sgd_is_unchanged() -> None:
    plain = _json("backprop", str(HOMEWORK))
    sgd = _json("backprop", str(HOMEWORK), "--optimizer", "sgd")
    assert sgd["updated"] == plain["updated"]
    assert "optimizer" not in plain


def test_weight_decay_and_classic_momentum() -> None:
    # sgd with λ = 0.1: g(w1) = 2.2 + 0.1·2 = 2.4, w1 = 2 − 2.4 = −0.4
    data = _json("backprop", str(HOMEWORK), "--optimizer", "sgd", "--weight-decay", "0.1")
    assert data["updated"]["w1"] == pytest.approx(-0.4)  # type: ignore[index]
    # classic momentum, first step: v = −η·g = −2.2, w1 = 2 − 2.2 = −0.2 (same as torch's)
    data = _json("backprop", str(HOMEWORK), "--optimizer", "momentum", "--momentum-form", "classic")
    assert data["optimizer"]["name"] == "momentum_classic"  # type: ignore[index]
    assert data["updated"]["w1"] == pytest.approx(-0.2)  # type: ignore[index]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("optimizer: adma\n", "unknown optimizer 'adma'; did you mean 'adam'?"),
        ("optimizer: {name: adam, beta1: 1.5}\n", "beta1 must be at least 0 and below 1"),
        ("optimizer: {name: adam, momentum: 0.9}\n", "adam has no hyper-parameter 'momentum'"),
        ("optimizer: adam\nstate: {step: 1, velocity: {w1: 1}}\n", "unknown state buffer"),
        ("optimizer: momentum\nstate: {velocity: {w1: 1}}\n", "the state needs 'step'"),
        ("optimizer: momentum\nstate: {step: 1, velocity: {w1: 1}}\n", "has no value for 'w2'"),
        ("optimizer: momentum\nstate: {step: 1, velocity: {w0: 1}}\n", "'w0' is not a param"),
    ],
)
def test_bad_optimizer_specs_are_located(extra: str, message: str) -> None:
    spec = HOMEWORK.read_text(encoding="utf-8") + extra
    stderr = _refused("backprop", "-", spec_text=spec)
    assert message in stderr
    assert stderr.startswith("<stdin>:")
    line = int(stderr.split(":")[1])
    assert line > len(HOMEWORK.read_text(encoding="utf-8").splitlines())  # in the added lines


def test_what_works_plain_sgd_only_refuses_other_optimizers() -> None:
    spec = HOMEWORK.read_text(encoding="utf-8") + "optimizer: adam\n"
    assert "derivations work plain SGD steps" in _refused("explain", "-", spec_text=spec)
    assert "exact and exam arithmetic" in _refused(
        "backprop", str(HOMEWORK), "--optimizer", "adam", "--exact"
    )
    answers = ROOT / "examples" / "homework-answers.yaml"
    result = runner.invoke(app, ["check", "-", str(answers)], input=spec)
    assert result.exit_code == 2
    assert "check works plain SGD steps" in result.stderr
    assert "has no hyper-parameter 'momentum'" in _refused(
        "backprop", str(HOMEWORK), "--optimizer", "adam", "--momentum", "0.5"
    )
    assert "unknown optimizer" in _refused("backprop", str(HOMEWORK), "--optimizer", "adma")


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "csv"])
def test_every_format_shows_the_state(fmt: str) -> None:
    result = runner.invoke(app, ["backprop", str(MAZUR), "--optimizer", "adam", "-f", fmt])
    assert result.exit_code == 0
    text = result.stdout
    if fmt == "csv":
        import csv

        rows = {(r[0], r[1]) for r in csv.reader(text.splitlines())}
        assert ("state_after", "exp_avg:W2[1,1]") in rows
        assert ("report", "m_hat:b1[2]") in rows
    else:
        assert "Optimizer state" in text
        assert "m after" in text


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_the_state_table_compiles(tmp_path: Path) -> None:
    args = ["backprop", str(MAZUR), "--optimizer", "adam", "-f", "latex", "--standalone"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    compile_latex(result.stdout, tmp_path)


def test_a_frozen_param_under_adam_is_strict_json() -> None:
    # skip-shared.yaml freezes k: it takes no step, so it has no m̂ or v̂ (null, no warning)
    data = _json("backprop", str(ROOT / "examples" / "skip-shared.yaml"), "--optimizer", "adam")
    opt = data["optimizer"]
    assert isinstance(opt, dict)
    assert opt["report"]["m_hat"]["k"] is None
    assert opt["state_after"]["exp_avg"]["k"] == 0.0
    assert data["updated"]["k"] == 1.5  # type: ignore[index]
    assert not any("optimizer" in w for w in data["warnings"])  # type: ignore[union-attr]


def test_the_emitted_spec_keeps_the_rate_the_step_used() -> None:
    # --lr 0.1 over the spec's 1: the next step must use 0.1 too
    text = runner.invoke(
        app, ["backprop", str(HOMEWORK), "--lr", "0.1", "--optimizer", "momentum", "--emit-spec"]
    ).stdout
    assert nncalc.load_spec(text, source="step1").learning_rate == 0.1


def test_review_findings_on_state_and_frozen_reports() -> None:
    # a frozen layered matrix under adam: its nan m̂, v̂ are null, with no warning at all
    spec = (ROOT / "examples" / "softmax-classifier.yaml").read_text(encoding="utf-8")
    spec += "frozen: [W1]\n"
    data = _json("backprop", "-", "--optimizer", "adam", spec_text=spec)
    assert not [w for w in data["warnings"] if "non-finite" in w]  # type: ignore[union-attr]
    # squares cannot be negative
    state = HOMEWORK.read_text(encoding="utf-8") + (
        "optimizer: rmsprop\nstate:\n  step: 1\n"
        "  square_avg: {w1: -1, w2: 0, w3: 0, w4: 0, w5: 0, w6: 0, w7: 0, w8: 0, w9: 0}\n"
    )
    assert "values must be ≥ 0" in _refused("backprop", "-", spec_text=state)
    # a state the run's optimizer does not keep is refused by backprop as by train
    adam_state = HOMEWORK.read_text(encoding="utf-8") + (
        "optimizer: adam\nstate:\n  step: 1\n"
        "  exp_avg: {w1: 1, w2: 0, w3: 0, w4: 0, w5: 0, w6: 0, w7: 0, w8: 0, w9: 0}\n"
    )
    assert "does not keep" in _refused("backprop", "-", "--optimizer", "sgd", spec_text=adam_state)
