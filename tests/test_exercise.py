"""`nncalc exercise`: the same seed gives the same exercise, its numbers are friendly, its units
play the parts asked of them, and its key holds the numbers an independent backprop computes."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner, Result

import nncalc
from nncalc import exercise
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FRIENDLY = re.compile(r"-?\d+(\.\d)?")  # an integer or one decimal, as written in the YAML

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["exercise", *args])


def made(folder: Path, *args: str) -> tuple[str, str]:
    """(spec, key) texts of a run writing into `folder`."""
    stem = folder / "ex"
    result = invoke(*args, "-o", str(stem))
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stdout == ""
    key = next(folder.glob("ex-key.*"))
    assert f"wrote {stem}.yaml and {key}" in result.stderr
    return (folder / "ex.yaml").read_text(encoding="utf-8"), key.read_text(encoding="utf-8")


# --- an independent scalar backprop: relu, sigmoid, tanh, identity; ½ squared error ------------


def f(name: str, a: float) -> float:
    if name == "relu":
        return max(0.0, a)
    if name == "sigmoid":
        return 1 / (1 + math.exp(-a))
    if name == "tanh":
        return math.tanh(a)
    assert name == "identity"
    return a


def slope(name: str, a: float, z: float) -> float:
    if name == "relu":
        return 1.0 if a > 0 else 0.0
    if name == "sigmoid":
        return z * (1 - z)
    if name == "tanh":
        return 1 - z * z
    return 1.0


def forward(doc: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """(pre-activations, values of inputs and neurons), the neurons in spec order."""
    values = {k: float(v) for k, v in doc["inputs"].items()}
    params = doc["params"]
    pre: dict[str, float] = {}
    for name, neuron in doc["neurons"].items():
        a = sum(values[s] * params[w] for s, w in neuron["from"].items())
        a += params[neuron["bias"]] if "bias" in neuron else 0.0
        pre[name] = a
        values[name] = f(neuron["activation"], a)
    return pre, values


def backprop(doc: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """(L, ∂L/∂param) for L = ½ Σ (y − ŷ)²: δ_j = f′(a_j)·∂L/∂z_j from the last neuron back,
    ∂L/∂z_i = Σ_j w_ij δ_j, ∂L/∂w_ij = δ_j·z_i, ∂L/∂b_j = δ_j."""
    pre, values = forward(doc)
    params, target = doc["params"], doc["target"]
    loss = 0.5 * sum((target[o] - values[o]) ** 2 for o in doc["outputs"])
    dz = {o: values[o] - target[o] for o in doc["outputs"]}
    grads = dict.fromkeys(params, 0.0)
    for name, neuron in reversed(doc["neurons"].items()):
        delta = slope(neuron["activation"], pre[name], values[name]) * dz.get(name, 0.0)
        for source, w in neuron["from"].items():
            grads[w] += delta * values[source]
            dz[source] = dz.get(source, 0.0) + delta * params[w]
        if "bias" in neuron:
            grads[neuron["bias"]] += delta
    return loss, grads


def key_table(key: str, title: str) -> dict[str, list[str]]:
    """A Markdown table of the key: first cell → the other cells."""
    block = key.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split(" | ") for line in block.splitlines()[2:]]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def shown(value: float, text: str) -> bool:
    """`text` is `value` to the key's 6 significant digits."""
    return math.isclose(float(text), value, rel_tol=5e-6, abs_tol=1e-12)


# --- the same seed, the same exercise -----------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    args = ("--seed", "7", "--dead", "1", "--bias")
    first = made(tmp_path / "a", *args)
    assert made(tmp_path / "b", *args) == first
    library = exercise.make(exercise.request("2-3-1", 7, dead=1, bias=True))
    assert library.text == first[0]
    assert exercise.answer_key(library) == first[1]


def test_another_interpreter_with_another_hash_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    args = ["--seed", "11", "--shape", "3-4-2", "--activations", "tanh,identity"]
    reference = made(tmp_path, *args)
    for hash_seed in ("0", "4242"):
        folder = tmp_path / hash_seed
        folder.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-m", "nncalc", "exercise", *args, "-o", str(folder / "ex")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        spec = (folder / "ex.yaml").read_text(encoding="utf-8")
        assert (spec, (folder / "ex-key.md").read_text(encoding="utf-8")) == reference


def test_different_seeds_give_different_exercises() -> None:
    texts = {
        exercise.make(exercise.request("2-3-1", seed)).text.split("title:")[1] for seed in range(20)
    }
    assert len(texts) == 20


# --- the spec -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "acts", "loss", "per_layer", "loss_name"),
    [
        ("2-3-1", "relu", "half_squared_error", ["relu", "relu"], "half_squared_error"),
        ("3-4-4-2", "relu,tanh,identity", "sse", ["relu", "tanh", "identity"], "squared_error"),
        ("2-2-1", "logistic", "bce", ["sigmoid", "sigmoid"], "binary_cross_entropy"),
        (
            "2-3-3",
            "relu,linear",
            "softmax_cross_entropy",
            ["relu", "identity"],
            "softmax_cross_entropy",
        ),
        ("1-1", "identity", "output", ["identity"], "output"),
    ],
)
def test_the_spec_has_the_asked_shape_activations_and_loss(
    tmp_path: Path, shape: str, acts: str, loss: str, per_layer: list[str], loss_name: str
) -> None:
    made(tmp_path, "--seed", "3", "--shape", shape, "--activations", acts, "--loss", loss)
    spec = nncalc.load_spec(tmp_path / "ex.yaml")
    sizes = [int(s) for s in shape.split("-")]
    assert len(spec.input_names) == sizes[0]
    assert len(spec.outputs) == sizes[-1]
    assert len(spec.neurons) == sum(sizes[1:])
    assert spec.loss.name == loss_name
    start = 0
    for size, act in zip(sizes[1:], per_layer, strict=True):
        layer = spec.neurons[start : start + size]
        assert [n.activation.name for n in layer] == [act] * size
        start += size
    assert spec.learning_rate == 0.1
    assert spec.warnings == ()


def test_names_and_numbering_follow_the_homework(tmp_path: Path) -> None:
    spec, _ = made(tmp_path, "--seed", "5")
    doc = yaml.safe_load(spec)
    homework = yaml.safe_load((ROOT / "examples" / "homework.yaml").read_text(encoding="utf-8"))
    assert {n: v["from"] for n, v in doc["neurons"].items()} == {
        n: v["from"] for n, v in homework["neurons"].items()
    }
    assert list(doc["params"]) == [f"w{i}" for i in range(1, 10)]
    assert doc["outputs"] == ["o"]
    comments = spec.splitlines()[:2]
    assert comments[0] == "# Exercise 5 (seed 5, shape 2-3-1): one backprop step by hand."
    assert (
        "compute the forward pass, the loss, every ∂L/∂w and one SGD step with η = 0.1"
        in (comments[1])
    )


def test_layers_and_biases_are_numbered_as_a_student_numbers_them(tmp_path: Path) -> None:
    spec, _ = made(
        tmp_path,
        "--seed",
        "2",
        "--shape",
        "2-2-2-2",
        "--bias",
        "--activations",
        "relu,relu,identity",
    )
    doc = yaml.safe_load(spec)
    assert list(doc["neurons"]) == ["h1_1", "h1_2", "h2_1", "h2_2", "o1", "o2"]
    assert doc["neurons"]["h2_2"] == {
        "from": {"h1_1": "w7", "h1_2": "w8"},
        "bias": "b4",
        "activation": "relu",
    }
    assert list(doc["params"]) == [f"w{i}" for i in range(1, 13)] + [f"b{i}" for i in range(1, 7)]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("args", [(), ("--shape", "3-4-4-1", "--bias"), ("--dead", "2")])
def test_every_number_is_friendly(seed: int, args: tuple[str, ...]) -> None:
    result = invoke("--seed", str(seed), *args, "-o", "-")
    assert result.exit_code == 0, result.stderr
    given = {}
    for key in ("inputs", "params", "target"):
        line = re.search(rf"^{key}: \{{(.*?)\}}$", result.stdout, re.S | re.M)
        assert line, key
        pairs = [p.split(": ") for p in line.group(1).replace("\n", " ").split(", ")]
        for name, value in pairs:
            assert FRIENDLY.fullmatch(value.strip()), f"{name}: {value}"
            given[name.strip()] = value
    doc = yaml.safe_load(result.stdout)
    assert len(given) == len(doc["inputs"]) + len(doc["params"]) + len(doc["target"])
    pre, values = forward(doc)  # relu all through: every value stays exact to two decimals
    for name, a in pre.items():
        assert abs(a) <= 10
        assert abs(a * 100 - round(a * 100)) < 1e-6, (name, a)
        assert a != 0  # never on relu's kink
    assert all(values[o] != doc["target"][o] for o in doc["outputs"])


# --- dead and saturated units -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("shape", "dead"), [("2-3-1", 1), ("2-3-1", 2), ("3-3-3-1", 3)])
def test_dead_units(seed: int, shape: str, dead: int) -> None:
    result = invoke("--seed", str(seed), "--shape", shape, "--dead", str(dead), "-o", "-")
    assert result.exit_code == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    pre, _ = forward(doc)
    relu = [n for n, v in doc["neurons"].items() if v["activation"] == "relu"]
    assert sum(1 for n in relu if pre[n] < 0) == dead
    assert all(pre[o] > 0 for o in doc["outputs"])  # the output stays live


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    ("acts", "saturated"),
    [("sigmoid", 1), ("sigmoid", 3), ("tanh,sigmoid", 2), ("relu,sigmoid", 1)],
)
def test_saturated_units(seed: int, acts: str, saturated: int) -> None:
    result = invoke(
        "--seed", str(seed), "--activations", acts, "--saturated", str(saturated), "-o", "-"
    )
    assert result.exit_code == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    pre, _ = forward(doc)
    squashing = [n for n, v in doc["neurons"].items() if v["activation"] in ("sigmoid", "tanh")]
    assert sum(1 for n in squashing if abs(pre[n]) >= 4) == saturated


# --- the key ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--seed", "7"),
        ("--seed", "7", "--dead", "1", "--lr", "0.5"),
        ("--seed", "9", "--shape", "3-4-3-2", "--bias", "--activations", "relu,sigmoid,identity"),
        ("--seed", "4", "--activations", "tanh,sigmoid", "--saturated", "2", "--bias"),
    ],
)
def test_the_key_holds_every_gradient_an_independent_backprop_computes(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    spec, key = made(tmp_path, *args)
    doc = yaml.safe_load(spec)
    loss, grads = backprop(doc)
    assert shown(loss, key_table(key, "Loss")["half\\_squared\\_error"][-1])
    table = key_table(key, "Params")
    assert list(table) == list(doc["params"])
    lr = doc["learning_rate"]
    for name, (value, gradient, updated) in table.items():
        assert float(value) == doc["params"][name]
        assert shown(grads[name], gradient), (name, grads[name], gradient)
        assert shown(doc["params"][name] - lr * grads[name], updated)
    assert any(g != 0 for g in grads.values())
    for name in doc["params"]:  # a derivation for each
        assert f"#### ∂L/∂{name}\n" in key


def test_the_key_is_what_backprop_explain_prints(tmp_path: Path) -> None:
    _, key = made(tmp_path, "--seed", "21", "--dead", "1")
    shown_by_backprop = runner.invoke(
        app, ["backprop", str(tmp_path / "ex.yaml"), "--explain", "-f", "markdown"]
    )
    assert shown_by_backprop.exit_code == 0
    assert key == shown_by_backprop.stdout


def test_the_latex_key_compiles(tmp_path: Path) -> None:
    _, key = made(tmp_path, "--seed", "7", "--dead", "1", "--bias", "--key-format", "latex")
    assert (tmp_path / "ex-key.tex").exists()
    assert key.startswith("\\documentclass{article}\n")
    assert "\\partial" in key
    folder = tmp_path / "build"
    folder.mkdir()
    compile_latex(key, folder)


# --- files --------------------------------------------------------------------------------------


def test_default_names_and_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("--seed", "12")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exercise-12-key.md", "exercise-12.yaml"]
    printed = invoke("--seed", "12", "-o", "-")
    assert printed.exit_code == 0
    assert printed.stdout == (tmp_path / "exercise-12.yaml").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exercise-12-key.md", "exercise-12.yaml"]


def test_existing_files_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    key = tmp_path / "ex-key.md"
    key.write_text("my own key\n", encoding="utf-8")
    result = invoke("--seed", "7", "-o", str(tmp_path / "ex"))
    assert result.exit_code == 2
    assert f"{key}: exists; give --force to replace it, or another -o STEM" in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex-key.md"]
    assert key.read_text(encoding="utf-8") == "my own key\n"
    forced = invoke("--seed", "7", "-o", str(tmp_path / "ex"), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert key.read_text(encoding="utf-8").startswith("## 2-3-1 relu network (exercise 7)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex-key.md", "ex.yaml"]


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    result = invoke("--seed", "7", "-o", str(tmp_path / "nowhere" / "ex"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- bad requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shape", "2x3"], "expected unit counts joined by '-', like 2-3-1 or 3-4-4-2"),
        (["--shape", "2-9-1"], "every layer needs 1 to 8 units"),
        (["--shape", "2-0-1"], "every layer needs 1 to 8 units"),
        (["--shape", "2-2-2-2-2-2-2-1"], "7 layers of neurons; at most 6"),
        (["--shape", "²-1"], "expected unit counts joined by '-'"),  # isdigit, but not int()
        # 2·8 + 5·(8·8) = 336 weights; 4·8 + 2·(8·8) + 8·2 = 176, + 8 + 8 + 8 + 2 biases = 202
        (["--shape", "2-8-8-8-8-8-8"], "has 336 params; the answer key derives at most 200"),
        (["--shape", "4-8-8-8-2", "--bias"], "with biases has 202 params"),
        # the tanh layer and the output each sum 2 terms below 2 (|z| < 1, |w| ≤ 2): |a| < 4
        (
            ["--shape", "2-2-2-1", "--activations", "sigmoid,tanh,sigmoid", "--saturated", "3"],
            "has room for 2: only sigmoid and tanh units saturate, and not those fed by",
        ),
        (["--activations", "rleu"], "unknown activation 'rleu'; did you mean 'relu'?"),
        (["--activations", "relu,relu,relu"], "3 names for 2 layers of neurons"),
        (["--activations", "softmax"], "softmax acts on a whole layer"),
        (["--activations", "relu,step"], "no gradient reaches any param"),
        (["--loss", "half_squared_eror"], "did you mean 'half_squared_error'?"),
        (["--loss", "cross_entropy"], "use softmax_cross_entropy with identity outputs"),
        (["--loss", "bce"], "the output activation must be sigmoid, got relu"),
        (["--loss", "softmax_cross_entropy"], "at least 2 outputs"),
        (
            ["--dead", "3"],
            "asked for 3 dead ReLU units, but a 2-3-1 network (relu, relu) has room for 2",
        ),
        (["--saturated", "1"], "has room for 0: only sigmoid and tanh units saturate"),
        (["--lr", "0"], "must be a finite number > 0, got 0.0"),
        (["--lr", "nan"], "must be a finite number > 0"),
        (["--key-format", "pdf"], "must be markdown or latex, got 'pdf'"),
        (["-o", "-", "--force"], "-o - writes no file to replace"),
    ],
)
def test_bad_requests_exit_2_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("--seed", "7", *args)
    assert result.exit_code == 2, result.stdout
    assert message in " ".join(result.stderr.split()), result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_the_seed_is_required() -> None:
    result = invoke("--shape", "2-3-1")
    assert result.exit_code == 2
    assert "Missing option '--seed'" in result.stderr


def test_no_friendly_draw_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every unit saturated: the second layer and the output, fed by sigmoids below 1, need
    # nearly the largest weights on every source; no draw from seed 3 has them.
    monkeypatch.chdir(tmp_path)
    result = invoke(
        "--seed", "3", "--shape", "3-3-3-1", "--activations", "sigmoid", "--saturated", "7"
    )
    assert result.exit_code == 2
    assert "<command line>: no exercise with friendly numbers found in 100 draws from seed 3" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "params"),
    [
        (("--shape", "4-8-8-8-2"), 176),  # 4·8 + 8·8 + 8·8 + 8·2 weights
        (("--shape", "3-8-8-8-2", "--bias"), 194),  # 3·8 + 128 + 16 weights, 8 + 8 + 8 + 2 biases
    ],
)
def test_the_largest_shapes_the_key_derives(
    tmp_path: Path, args: tuple[str, ...], params: int
) -> None:
    spec, key = made(tmp_path, "--seed", "5", *args)
    assert len(yaml.safe_load(spec)["params"]) == params
    assert len(re.findall(r"^#### ∂L/∂", key, re.M)) == params  # one derivation per param


def test_a_unit_fed_by_saturating_units_saturates_with_a_third_term() -> None:
    # With a bias each of the upper units sums 3 terms below 2: |a| < 6 can reach 4, room 5.
    for seed in range(4):
        made = exercise.make(
            exercise.request("2-2-2-1", seed, "sigmoid,tanh,sigmoid", bias=True, saturated=5)
        )
        doc = yaml.safe_load(made.text)
        pre, _ = forward(doc)
        assert all(abs(a) >= 4 - 1e-12 for a in pre.values()), pre  # float sums of decimals


def test_the_library_names_the_option_at_fault() -> None:
    with pytest.raises(exercise.RequestError) as caught:
        exercise.request("2-3-1", 1, "relu", dead=5)
    assert caught.value.option == "--dead"
    with pytest.raises(exercise.RequestError) as caught:
        exercise.make(exercise.Request((2, 1), 1, ("relu",), "half_squared_error", lr=-1))
    assert caught.value.option == "--lr"


# --- the README ---------------------------------------------------------------------------------


def test_the_readme_sample_is_the_real_output() -> None:
    command = "nncalc exercise --shape 2-2-1 --seed 7 -o -"
    block = re.search(rf"```text\n\$ {re.escape(command)}\n(.*?)```", README, re.S)
    assert block, "the README's exercise sample is missing"
    result = runner.invoke(app, command.split()[1:])
    assert result.exit_code == 0
    assert result.stdout == block.group(1)
