"""`nncalc check [SPEC] ANSWERS` as a user meets it: answers files written to a temporary folder,
judged through the real command line (typer's CliRunner, stdout and stderr kept apart).

Every expected number is derived here, independently of nncalc: by hand (the arithmetic is
written out next to it) or with a few lines of plain Python `math`. None is copied from the
program's output.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from typer.testing import CliRunner, Result

from nncalc.cli import app
from nncalc.marking import MISTAKES

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "examples" / "homework.yaml"

runner = CliRunner()

# --- examples/homework.yaml, worked by hand --------------------------------------------------
#
# x1 = 1, x2 = 2; w1..w9 = 2, 1, 1, −1, 1, 1, −0.5, 1, 1.2; ReLU everywhere; L = ½(y − ŷ)², y = 6;
# learning rate 1 (in the spec).
#   a_h1 = 1·2 + 2·1 = 4          z_h1 = 4
#   a_h2 = 1·1 + 2·(−1) = −1      z_h2 = 0 (dead)
#   a_h3 = 1·1 + 2·1 = 3          z_h3 = 3
#   a_o  = 4·(−0.5) + 0·1 + 3·1.2 = −2 + 3.6 = 1.6,  z_o = ŷ = 1.6
#   L    = ½(6 − 1.6)² = ½·4.4² = ½·19.36 = 9.68   (exactly ½·(22/5)² = 242/25)
#   ∂L/∂ŷ = −(6 − 1.6) = −4.4;  δ_o = relu′(1.6)·(−4.4) = −4.4
#   δ_h1 = relu′(4)·w7·δ_o = (−0.5)(−4.4) = 2.2;  δ_h2 = relu′(−1)·… = 0;
#   δ_h3 = relu′(3)·w9·δ_o = 1.2·(−4.4) = −5.28
#   ∂L/∂w1 = δ_h1·x1 = 2.2;  ∂L/∂w2 = δ_h1·x2 = 4.4;  ∂L/∂w3 = δ_h2·x1 = 0;
#   ∂L/∂w5 = δ_h3·x1 = −5.28; ∂L/∂w7 = δ_o·z_h1 = −4.4·4 = −17.6
#   new w1 = 2 − 1·2.2 = −0.2;  new w5 = 1 − 1·(−5.28) = 6.28
HOMEWORK_LOSS = 9.68

# --- small specs, each chosen so that one thing shows -------------------------------------------

# One ReLU unit with a < 0: a = 1·(−1) = −1.
DEAD = """\
inputs: {x: 1}
params: {w: -1}
neurons:
  o: {from: {x: w}, activation: relu}
target: {o: 1}
"""

# One ReLU unit exactly on the kink: a = 2·1 − 2 = 0.
KINK = """\
inputs: {x: 2}
params: {w: 1}
neurons:
  o: {from: {x: w}, bias: -2, activation: relu}
target: {o: 1}
"""

# One identity unit, ½ squared error: ŷ = 1·2 = 2, y = 5.
LINEAR = """\
inputs: {x: 1}
params: {w: 2}
neurons:
  o: {from: {x: w}, activation: identity}
target: {o: 5}
loss: half_squared_error
learning_rate: 0.1
"""

SQUARED = LINEAR.replace("half_squared_error", "squared_error")
MSE = LINEAR.replace("half_squared_error", "mse")

# A leaky hidden unit whose pre-activation and activation differ: a_h = 1·(−2) = −2,
# z_h = 0.25·(−2) = −0.5; identity output ŷ = 1·z_h = −0.5, y = 1.
LEAKY_HIDDEN = """\
inputs: {x: 1}
params: {w1: -2, w2: 1}
neurons:
  h: {from: {x: w1}, activation: {name: leaky_relu, alpha: 0.25}}
  o: {from: {h: w2}, activation: identity}
target: {o: 1}
"""

# A batch of two samples, mse (one output), mean: ŷ = 2·x.
BATCH = """\
params: {w: 2}
neurons:
  h1: {from: {x: w}, activation: identity}
data:
  - {inputs: {x: 1}, target: {h1: 5}}
  - {inputs: {x: 2}, target: {h1: 2}}
loss: mse
"""
#   sample 1: ŷ = 2, l₁ = (5 − 2)² = 9;  sample 2: ŷ = 4, l₂ = (2 − 4)² = 4;  L = (9 + 4)/2 = 6.5
#   δ⁽¹⁾ = −2(5 − 2)/2 = −3;  δ⁽²⁾ = −2(2 − 4)/2 = 2;  ∂L/∂w = (−3)(1) + (2)(2) = 1

# Two identity outputs, mse: ŷ = (2, 1), y = (5, 1).
TWO_OUTPUTS = """\
inputs: {x: 1}
params: {w: 2, v: 1}
neurons:
  o1: {from: {x: w}, activation: identity}
  o2: {from: {x: v}, activation: identity}
target: {o1: 5, o2: 1}
loss: mse
"""

# One leaky ReLU unit (α = 0.25) with a < 0: a = −2, z = −0.5, y = 1.5.
LEAKY = """\
inputs: {x: 1}
params: {w: -2}
neurons:
  o: {from: {x: w}, activation: {name: leaky_relu, alpha: 0.25}}
target: {o: 1.5}
"""

# One sigmoid unit at a = 0: z = σ(0) = 0.5, y = 1.
SIGMOID = """\
inputs: {x: 1}
params: {w: 0}
neurons:
  o: {from: {x: w}, activation: sigmoid}
target: {o: 1}
"""

# Two identity units in a chain, learning rate 1: h = x·w1 = 1, ŷ = h·w2 = 2, y = 5.
CHAIN = """\
inputs: {x: 1}
params: {w1: 1, w2: 2}
neurons:
  h: {from: {x: w1}, activation: identity}
  o: {from: {h: w2}, activation: identity}
target: {o: 5}
learning_rate: 1
"""

# The `output` loss (L = ŷ, no target): ŷ = 1·2 = 2, ∂L/∂ŷ = 1, ∂L/∂w = 1; learning rate 0.25.
OUTPUT = """\
inputs: {x: 1}
params: {w: 2}
neurons:
  o: {from: {x: w}, activation: identity}
loss: output
learning_rate: 0.25
"""

# A chain whose first step lands on a half when rounded to one decimal: a_h = 1·0.25 = 0.25.
HALVES = """\
inputs: {x: 1}
params: {w1: 0.25, w2: 3}
neurons:
  h: {from: {x: w1}, activation: identity}
  o: {from: {h: w2}, activation: identity}
target: {o: 2}
"""

# Layered 2-2-1, identity, default names h1_1, h1_2, o1; params W1, b1, W2.
LAYERED = """\
inputs: [1, 2]
layers:
  - weights: [[1, 2], [3, 4]]
    bias: [0, 1]
    activation: identity
  - weights: [[1, -1]]
    activation: identity
target: [0]
"""
#   h1_1 = 1·1 + 2·2 + 0 = 5;  h1_2 = 3·1 + 4·2 + 1 = 12;  o1 = 5 − 12 = −7;  L = ½(0 + 7)² = 24.5
#   ∂L/∂ŷ = −(0 − (−7)) = −7 = δ_o1;  δ_h1_1 = 1·(−7) = −7;  δ_h1_2 = (−1)(−7) = 7
#   ∂L/∂W2[1,1] = δ_o1·h1_1 = −35;  ∂L/∂W2[1,2] = δ_o1·h1_2 = −84
#   ∂L/∂W1[1,2] = δ_h1_1·x2 = −14 (row 1 = neuron 1, column 2 = input 2)
#   ∂L/∂W1[2,1] = δ_h1_2·x1 = 7;  ∂L/∂b1[2] = δ_h1_2 = 7
#   with --lr 0.1: new W1[1,2] = 2 − 0.1·(−14) = 3.4;  new b1[2] = 1 − 0.1·7 = 0.3

ANSWER_KEYS = {
    "quantity",
    "kind",
    "name",
    "sample",
    "symbol",
    "line",
    "column",
    "answer",
    "answer_text",
    "correct",
    "verdict",
    "diagnosis",
    "follows_from",
    "explanation",
}

# --- helpers ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> dict[str, Any]:
    """Parse JSON, refusing the NaN / Infinity tokens Python's parser would let through."""
    data = json.loads(text, parse_constant=_reject_constant)
    assert isinstance(data, dict)
    return data


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["check", *args])


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def spec_file(folder: Path, text: str | None) -> str:
    return str(HOMEWORK) if text is None else write(folder, "net.yaml", text)


def judge(
    folder: Path, answers: str, *options: str, spec: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Check `answers` against `spec` (homework by default): (exit code, the strict JSON)."""
    path = write(folder, "answers.yaml", answers)
    result = invoke(spec_file(folder, spec), path, *options, "-f", "json")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr, result.exception)
    assert result.stderr == "", "JSON mode reports nothing on stderr"
    assert "Traceback" not in result.stdout
    return result.exit_code, strict_json(result.stdout)


def entries(
    folder: Path, answers: str, *options: str, spec: str | None = None
) -> dict[str, dict[str, Any]]:
    """The judged answers by the key the student wrote."""
    _, data = judge(folder, answers, *options, spec=spec)
    return {entry["quantity"]: entry for entry in data["answers"]}


def refused(folder: Path, answers: str | None, *options: str, spec: str | None = None) -> list[str]:
    """The problems of a bad answers file (None: no file at all): exit 2, nothing on stdout."""
    path = (
        str(folder / "answers.yaml") if answers is None else write(folder, "answers.yaml", answers)
    )
    result = invoke(spec_file(folder, spec), path, *options, "-f", "json")
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.exception)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


# --- 1. verdicts, exit codes, the JSON of each answer -------------------------------------------


def test_all_right_exits_0(tmp_path: Path) -> None:
    code, data = judge(tmp_path, "a.h1: 4\nloss: 9.68\ngrad.w3: 0\nnew.w1: -0.2\n")
    assert code == 0
    assert data["command"] == "check"
    assert [e["verdict"] for e in data["answers"]] == ["right"] * 4
    assert data["summary"] == {"total": 4, "right": 4, "wrong": 0, "consistent": 0}


def test_one_wrong_answer_exits_1(tmp_path: Path) -> None:
    # grad.w3 = δ_h2·x1 = 0 (h2 is dead); 10 is wrong
    code, data = judge(tmp_path, "a.h1: 4\ngrad.w3: 10\n")
    assert code == 1
    assert [e["verdict"] for e in data["answers"]] == ["right", "wrong"]
    assert data["summary"] == {"total": 2, "right": 1, "wrong": 1, "consistent": 0}


def test_consistent_answers_alone_still_exit_1(tmp_path: Path) -> None:
    # z.o = 3 is wrong (1.6); loss = ½(6 − 3)² = 4.5 follows from it
    code, data = judge(tmp_path, "z.o: 3\nloss: 4.5\n")
    assert code == 1
    assert data["summary"] == {"total": 2, "right": 0, "wrong": 1, "consistent": 1}


def test_json_lists_every_answer_with_its_place_and_values(tmp_path: Path) -> None:
    answers = "a.h1: 4\nz.o:   3\nloss: 4.5\ndelta.o: -3\ngrad.w3: 10\ngrad.w1: 2.2\n"
    code, data = judge(tmp_path, answers)
    assert code == 1
    assert data["answers_source"].endswith("answers.yaml")
    rows = data["answers"]
    assert [e["quantity"] for e in rows] == ["a.h1", "z.o", "loss", "delta.o", "grad.w3", "grad.w1"]
    for entry in rows:
        assert set(entry) >= ANSWER_KEYS, ANSWER_KEYS - set(entry)
        assert isinstance(entry["explanation"], str)
    # (line, column) of each answer's key, where its line starts
    assert [(e["line"], e["column"]) for e in rows] == [(n, 1) for n in range(1, 7)]
    a_h1, z_o, loss, delta_o, grad_w3, grad_w1 = rows
    assert (a_h1["kind"], a_h1["name"], a_h1["sample"]) == ("pre_activation", "h1", None)
    assert (z_o["kind"], z_o["name"]) == ("activation", "o")
    assert (loss["kind"], loss["name"], loss["sample"]) == ("loss", None, None)
    assert (delta_o["kind"], grad_w3["kind"]) == ("delta", "gradient")
    assert (grad_w3["name"], grad_w3["answer"], grad_w3["answer_text"]) == ("w3", 10.0, "10")
    assert (loss["answer"], loss["answer_text"]) == (4.5, "4.5")
    # correct values, from the hand derivation at the top
    assert a_h1["correct"] == approx(4)
    assert z_o["correct"] == approx(1.6)
    assert loss["correct"] == approx(HOMEWORK_LOSS)
    assert delta_o["correct"] == approx(-4.4)
    assert grad_w3["correct"] == approx(0)
    assert grad_w1["correct"] == approx(2.2)
    assert [e["verdict"] for e in rows] == [
        "right",
        "wrong",
        "consistent",
        "consistent",
        "wrong",
        "right",
    ]
    # relu_dead_ignored would give ∂L/∂w3 = w8·δ_o·x1 = 1·(−4.4)·1 = −4.4, not 10: no diagnosis
    assert grad_w3["diagnosis"] is None
    assert grad_w3["follows_from"] == []
    assert "10" in grad_w3["explanation"]
    assert a_h1["diagnosis"] is None and a_h1["follows_from"] == []
    assert data["summary"] == {"total": 6, "right": 2, "wrong": 2, "consistent": 2}


# --- 2. tolerance from the written form -------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "verdict"),
    [
        ("9.68", "right"),  # exact
        ("9.7", "right"),  # 1 decimal: |9.7 − 9.68| = 0.02 ≤ 0.05
        ("9.6", "wrong"),  # |9.6 − 9.68| = 0.08 > 0.05
        ("9.70", "wrong"),  # 2 decimals: 0.02 > 0.005
        ("9.67", "wrong"),  # 0.01 > 0.005
        ("10", "right"),  # integer: 0.32 ≤ 0.5
        ("9", "wrong"),  # 0.68 > 0.5
        ("968e-2", "right"),  # 2 decimals, exact
        ("97e-1", "right"),  # 1 decimal: 0.02 ≤ 0.05
        ("96e-1", "wrong"),  # 1 decimal (not 0): 0.08 > 0.05
        ("0.968E1", "right"),  # 3 − 1 = 2 decimals, exact
        ("9.7e0", "right"),  # 1 decimal
        ('"242/25"', "right"),  # ½(22/5)² = 242/25 exactly
        ('"484/50"', "right"),  # the same number
        ('"97/10"', "wrong"),  # a fraction must be exact, though "9.7" is right
    ],
)
def test_written_rounding_sets_the_tolerance(tmp_path: Path, written: str, verdict: str) -> None:
    entry = entries(tmp_path, f"loss: {written}\n")["loss"]
    assert entry["verdict"] == verdict
    assert entry["answer_text"] == written.strip('"')


def test_trailing_zeros_are_kept_in_the_answer_text(tmp_path: Path) -> None:
    entry = entries(tmp_path, "loss: 9.70\n")["loss"]
    assert entry["answer_text"] == "9.70"
    assert entry["answer"] == 9.7


def test_integer_answers(tmp_path: Path) -> None:
    got = entries(tmp_path, "a.h1: 4\na.h2: -1\ngrad.w3: 0\nz.h3: 2\n")
    assert {k: e["verdict"] for k, e in got.items()} == {
        "a.h1": "right",  # 4
        "a.h2": "right",  # −1
        "grad.w3": "right",  # 0
        "z.h3": "wrong",  # 3: |2 − 3| = 1 > 0.5
    }


def test_fraction_answers_are_exact(tmp_path: Path) -> None:
    # LINEAR: L = ½(5 − 2)² = 9/2; ∂L/∂w = −(5 − 2)·1 = −3
    got = entries(tmp_path, 'loss: "9/2"\nL: "22/5"\ngrad.w: "-6/2"\n', spec=LINEAR)
    assert got["loss"]["verdict"] == "right"
    assert got["loss"]["answer"] == 4.5
    assert got["loss"]["answer_text"] == "9/2"
    assert got["L"]["verdict"] == "wrong"  # 4.4
    assert got["grad.w"]["verdict"] == "right"


# --round 1 on HALVES, every written-down step rounded half away from zero and carried on:
#   a_h = 0.25 → 0.3 (half away; Python's round() would give 0.2);  a_o = 0.3·3 = 0.9
#   L = ½(2 − 0.9)² = ½·1.21 = 0.605 → 0.6
#   δ_o = −(2 − 0.9) = −1.1;  δ_h = 3·(−1.1) = −3.3;  ∂L/∂w1 = −3.3·1 = −3.3
# Full precision: a_h = 0.25, a_o = 0.75, L = ½·1.25² = 0.78125, δ_h = 3·(−1.25) = −3.75.
ROUNDED_ANSWERS = "a.o: 0.9\nloss: 0.6\ngrad.w1: -3.3\n"
FULL_ANSWERS = "a.o: 0.75\nloss: 0.78125\ngrad.w1: -3.75\n"


def test_round_n_changes_the_correct_values(tmp_path: Path) -> None:
    code, data = judge(tmp_path, ROUNDED_ANSWERS, "--round", "1", spec=HALVES)
    assert code == 0
    assert [e["correct"] for e in data["answers"]] == [approx(0.9), approx(0.6), approx(-3.3)]
    assert data["arithmetic"] == {"mode": "round", "decimals": 1}

    code, data = judge(tmp_path, FULL_ANSWERS, "--round", "1", spec=HALVES)
    assert code == 1
    assert [e["verdict"] for e in data["answers"]] == ["wrong"] * 3


def test_full_precision_answers_without_round(tmp_path: Path) -> None:
    code, data = judge(tmp_path, FULL_ANSWERS, spec=HALVES)
    assert code == 0
    assert [e["correct"] for e in data["answers"]] == [approx(0.75), approx(0.78125), approx(-3.75)]


def test_exact_mode_gives_each_correct_value_as_a_fraction(tmp_path: Path) -> None:
    # a_o = −2 + 3·(6/5) = 8/5; L = 242/25 (see the top)
    code, data = judge(tmp_path, 'loss: 9.68\nz.o: "8/5"\n', "--exact")
    assert code == 0
    assert [e["correct_exact"] for e in data["answers"]] == ["242/25", "8/5"]
    assert data["exact"]["answers[0].correct"] == "242/25"


# --- 3. the mistakes ----------------------------------------------------------------------------
#
# For each mistake of the registry: a spec, an answer made with exactly that mistake, the correct
# value, and the derivation. Each spec is chosen so that the mistake changes the answer and no
# mistake before it in the registry reproduces the same number.

_S = sigmoid(0.5)
_AT_ACTIVATION = -0.5 * _S * (1 - _S)  # ∂L/∂ŷ · σ′ evaluated at z = 0.5 instead of a = 0

MISTAKE_CASES: dict[str, tuple[str, str, float, float, tuple[str, ...]]] = {
    # name: (spec, answers, wrong value, correct value, options); the answer's key is the first
    # key of the answers.
    #
    # DEAD: a = −1, z = 0, ∂L/∂ŷ = −(1 − 0) = −1; right: δ = relu′(−1)·(−1) = 0, ∂L/∂w = 0.
    # With relu′(−1) taken as 1: δ = −1, ∂L/∂w = −1·x = −1. (First in the registry.)
    "relu_dead_ignored": (DEAD, "grad.w: -1\n", -1, 0, ()),
    # KINK: a = 0, z = 0, ∂L/∂ŷ = −1; right: relu′(0) = 0, ∂L/∂w = 0.
    # relu′(0) taken as 1: δ = −1, ∂L/∂w = −1·x = −2. (relu_dead_ignored only touches a < 0: 0.)
    "relu_kink_one": (KINK, "grad.w: -2\n", -2, 0, ()),
    # LINEAR: L = ½(5 − 2)² = 4.5; without the ½: 9. (No ReLU: the ReLU mistakes do not apply.)
    "half_dropped": (LINEAR, "loss: 9\n", 9, 4.5, ()),
    # ½ applied twice: ¼·9 = 2.25 (half_dropped: 9).
    "half_doubled": (LINEAR, "loss: 2.25\n", 2.25, 4.5, ()),
    # SQUARED: L = (5 − 2)² = 9; with a ½ added: 4.5 (the two before are for ½ squared error only).
    "half_added": (SQUARED, "loss: 4.5\n", 4.5, 9, ()),
    # MSE (one output, n = 1): ∂L/∂ŷ = −(2/1)(5 − 2) = −6 = δ, ∂L/∂w = −6·1 = −6; without the 2:
    # −3. (The ½ mistakes are for the other squared losses; it comes before sign_flipped: +6.)
    "mse_two_dropped": (MSE, "grad.w: -3\n", -3, -6, ()),
    # LINEAR: ∂L/∂ŷ = −(5 − 2) = −3 = δ, ∂L/∂w = −3·1 = −3; sign flipped: +3.
    # (half_dropped: −6, half_doubled: −1.5.)
    "sign_flipped": (LINEAR, "grad.w: 3\n", 3, -3, ()),
    # BATCH (mean): L = (9 + 4)/2 = 6.5; summed instead: 13. (mse: no ½ mistakes; a flipped sign
    # leaves L alone.)
    "batch_mean_sum_swapped": (BATCH, "loss: 13\n", 13, 6.5, ()),
    # TWO_OUTPUTS (mse): L = ((5 − 2)² + (1 − 1)²)/2 = 4.5; summed over the outputs: 9.
    # (One sample: the batch mistake does not apply.)
    "outputs_summed": (TWO_OUTPUTS, "loss: 9\n", 9, 4.5, ()),
    # LEAKY: a = −2, z = 0.25·(−2) = −0.5, ∂L/∂ŷ = −(1.5 − (−0.5)) = −2;
    # right: δ = 0.25·(−2) = −0.5 = ∂L/∂w; f′ left out (1): δ = −2 = ∂L/∂w.
    # (Not ReLU; half_dropped: −1, half_doubled: −0.25, sign_flipped: +0.5.)
    "activation_derivative_forgotten": (LEAKY, "grad.w: -2\n", -2, -0.5, ()),
    # SIGMOID: a = 0, z = 0.5, ∂L/∂ŷ = −(1 − 0.5) = −0.5; right: δ = σ′(0)·(−0.5) = 0.25·(−0.5)
    # = −0.125 = ∂L/∂w. With f′ at z: −0.5·σ(0.5)(1 − σ(0.5)) ≈ −0.117502 (plain math above).
    # (half_dropped: −0.25, half_doubled: −0.0625, sign_flipped: 0.125, f′ = 1: −0.5.)
    "derivative_at_activation": (
        SIGMOID,
        f"grad.w: {_AT_ACTIVATION:.6f}\n",
        _AT_ACTIVATION,
        -0.125,
        (),
    ),
    # LEAKY_HIDDEN: δ_o = ∂L/∂ŷ = −(1 − (−0.5)) = −1.5; right: ∂L/∂w2 = δ_o·z_h = (−1.5)(−0.5)
    # = 0.75; with the pre-activation: δ_o·a_h = (−1.5)(−2) = 3. (half_dropped: 1.5, half_doubled:
    # 0.375, sign_flipped: −0.75; the f′ mistakes leave δ_o and z_h alone: 0.75.)
    "source_pre_activation": (LEAKY_HIDDEN, "grad.w2: 3\n", 3, 0.75, ()),
    # CHAIN: ∂L/∂ŷ = −(5 − 2) = −3 = δ_o; ∂L/∂w2 = δ_o·h = −3; right: δ_h = w2·δ_o = −6 = ∂L/∂w1.
    # Through the updated w2 = 2 − 1·(−3) = 5: δ_h = 5·(−3) = −15 = ∂L/∂w1.
    # (half_dropped: −12, half_doubled: −3, sign_flipped: +6; identity: the f′ mistakes give −6.)
    "updated_weights_in_backward": (CHAIN, "grad.w1: -15\n", -15, -6, ()),
    # OUTPUT: ∂L/∂w = 1, η = 0.25; right: 2 − 0.25·1 = 1.75; added: 2 + 0.25 = 2.25.
    # The `output` loss has no target, so sign_flipped (which gives the same w + η·g whenever it
    # applies) does not; one level, so updated_weights_in_backward changes nothing.
    "update_added": (OUTPUT, "new.w: 2.25\n", 2.25, 1.75, ()),
    # OUTPUT: w − g = 2 − 1 = 1 (update_added: 2.25).
    "learning_rate_missed": (OUTPUT, "new.w: 1\n", 1, 1.75, ()),
}

MISTAKE_NAMES = [mistake.name for mistake in MISTAKES]


@pytest.mark.parametrize("name", MISTAKE_NAMES)
def test_each_mistake_is_named(tmp_path: Path, name: str) -> None:
    assert name in MISTAKE_CASES, f"no test makes the mistake {name!r}: add it to MISTAKE_CASES"
    spec, answers, wrong, correct, options = MISTAKE_CASES[name]
    key = answers.partition(":")[0]
    code, data = judge(tmp_path, answers, *options, spec=spec)
    assert code == 1
    (entry,) = data["answers"]
    assert entry["quantity"] == key
    assert entry["answer"] == pytest.approx(wrong, abs=1e-6)
    assert entry["correct"] == approx(correct)
    assert entry["verdict"] == "wrong"
    assert entry["diagnosis"] is not None, entry["explanation"]
    assert entry["diagnosis"]["mistake"] == name
    description = next(m.description for m in MISTAKES if m.name == name)
    assert entry["diagnosis"]["description"] == description
    assert entry["explanation"].startswith(description)
    assert entry["follows_from"] == []


def test_every_case_is_a_mistake_of_the_registry() -> None:
    assert sorted(MISTAKE_CASES) == sorted(MISTAKE_NAMES)
    assert len(set(MISTAKE_NAMES)) == len(MISTAKE_NAMES)


def test_reduction_sum_swapped_the_other_way(tmp_path: Path) -> None:
    # BATCH with reduction sum: L = 9 + 4 = 13; the mean taken instead: 6.5
    spec = BATCH + "reduction: sum\n"
    entry = entries(tmp_path, "loss: 6.5\n", spec=spec)["loss"]
    assert entry["correct"] == approx(13)
    assert entry["diagnosis"]["mistake"] == "batch_mean_sum_swapped"


def test_a_mistake_on_top_of_an_earlier_wrong_answer(tmp_path: Path) -> None:
    # z.o = 3 (wrong); the ½ dropped from the student's own ŷ: (6 − 3)² = 9
    loss = entries(tmp_path, "z.o: 3\nloss: 9\n")["loss"]
    assert loss["verdict"] == "wrong"
    assert loss["diagnosis"]["mistake"] == "half_dropped"
    assert loss["follows_from"] == ["z.o"]
    assert "z.o = 3" in loss["explanation"]


# --- 4. error carried forward -----------------------------------------------------------------


def test_later_answers_follow_from_the_students_wrong_activation(tmp_path: Path) -> None:
    # z.o = 3 instead of 1.6: L = ½(6 − 3)² = 4.5; δ_o = relu′(1.6)·(−(6 − 3)) = −3;
    # ∂L/∂w7 = δ_o·z_h1 = −3·4 = −12
    got = entries(tmp_path, "z.o: 3\nloss: 4.5\ndelta.o: -3\ngrad.w7: -12\n")
    assert got["z.o"]["verdict"] == "wrong"
    for key in ("loss", "delta.o"):
        assert got[key]["verdict"] == "consistent", key
        assert got[key]["follows_from"] == ["z.o"], key
        assert got[key]["diagnosis"] is None
        assert "z.o = 3" in got[key]["explanation"]
    assert got["loss"]["correct"] == approx(HOMEWORK_LOSS)
    assert got["delta.o"]["correct"] == approx(-4.4)
    # ∂L/∂w7 follows from z.o = 3 and from δ_o = −3 alike: either one alone is the fewest
    assert got["grad.w7"]["verdict"] == "consistent"
    assert got["grad.w7"]["follows_from"] in (["z.o"], ["delta.o"])
    assert got["grad.w7"]["correct"] == approx(-17.6)


def test_a_gradient_follows_from_a_wrong_activation_two_steps_back(tmp_path: Path) -> None:
    # only z.o = 3 written before it: ∂L/∂w7 = relu′(1.6)·(−(6 − 3))·z_h1 = −3·4 = −12
    got = entries(tmp_path, "z.o: 3\ngrad.w7: -12\n")
    assert got["grad.w7"]["verdict"] == "consistent"
    assert got["grad.w7"]["follows_from"] == ["z.o"]


def test_each_forward_step_follows_from_the_one_before(tmp_path: Path) -> None:
    # z.h1 = 5 (right: 4): a_o = 5·(−0.5) + 0·1 + 3·1.2 = −2.5 + 3.6 = 1.1 (right: 1.6);
    # then z_o = relu(1.1) = 1.1. Written in reverse order: the order of computation counts.
    got = entries(tmp_path, "z.o: 1.1\na.o: 1.1\nz.h1: 5\n")
    assert got["a.o"]["verdict"] == "consistent"
    assert got["a.o"]["follows_from"] == ["z.h1"]
    assert got["z.o"]["verdict"] == "consistent"
    assert got["z.o"]["follows_from"] in (["a.o"], ["z.h1"])
    # a pre-activation comes before its activation: a.o = 2.5 gives z_o = relu(2.5) = 2.5
    got = entries(tmp_path, "z.o: 2.5\na.o: 2.5\n")
    assert got["z.o"]["verdict"] == "consistent"
    assert got["z.o"]["follows_from"] == ["a.o"]
    assert got["a.o"]["verdict"] == "wrong"


def test_deltas_follow_from_the_level_after_them(tmp_path: Path) -> None:
    # δ_o = −3 (right: −4.4): δ_h1 = relu′(4)·w7·δ_o = (−0.5)(−3) = 1.5 (right: 2.2),
    # ∂L/∂w1 = δ_h1·x1 = 1.5
    got = entries(tmp_path, "delta.h1: 1.5\ndelta.o: -3\ngrad.w1: 1.5\n")
    assert got["delta.h1"]["verdict"] == "consistent"
    assert got["delta.h1"]["follows_from"] == ["delta.o"]
    assert got["grad.w1"]["verdict"] == "consistent"
    assert got["delta.o"]["verdict"] == "wrong"


def test_follows_from_names_only_the_answers_needed(tmp_path: Path) -> None:
    # a.h1 = 5 is wrong too, but the loss uses only the student's ŷ = z.o = 3: ½(6 − 3)² = 4.5
    got = entries(tmp_path, "a.h1: 5\nz.o: 3\nloss: 4.5\n")
    assert got["a.h1"]["verdict"] == "wrong"
    assert got["loss"]["verdict"] == "consistent"
    assert got["loss"]["follows_from"] == ["z.o"]


def test_an_update_follows_from_a_wrong_gradient_alone(tmp_path: Path) -> None:
    # grad.w1 = 5 (right: 2.2), grad.w2 = 7 (right: 4.4); new w1 = 2 − 1·5 = −3 (right: −0.2)
    got = entries(tmp_path, "grad.w1: 5\ngrad.w2: 7\nnew.w1: -3\n")
    assert got["new.w1"]["verdict"] == "consistent"
    assert got["new.w1"]["follows_from"] == ["grad.w1"]
    assert got["new.w1"]["correct"] == approx(-0.2)


def test_a_batch_loss_follows_from_a_wrong_sample_loss(tmp_path: Path) -> None:
    # BATCH: loss@1 = 10 (right: 9); the student's mean (10 + 4)/2 = 7 (right: 6.5);
    # "7.0" has one decimal, so 7 is not within rounding of 6.5
    got = entries(tmp_path, "loss@1: 10\nloss: 7.0\n", spec=BATCH)
    assert got["loss"]["verdict"] == "consistent"
    assert got["loss"]["follows_from"] == ["loss@1"]


def test_a_wrong_answer_that_follows_from_nothing_is_wrong(tmp_path: Path) -> None:
    # with z.o = 3 the loss would be 4.5; 7 is neither that nor 9.68 (nor 2·4.5, ½·4.5, 2·9.68…)
    code, data = judge(tmp_path, "z.o: 3\nloss: 7\n")
    assert code == 1
    loss = data["answers"][1]
    assert loss["verdict"] == "wrong"
    assert loss["follows_from"] == []
    assert loss["diagnosis"] is None


def test_a_right_answer_after_a_wrong_one_stays_right(tmp_path: Path) -> None:
    got = entries(tmp_path, "z.o: 3\nloss: 9.68\n")
    assert got["loss"]["verdict"] == "right"
    assert got["loss"]["follows_from"] == []


def test_an_earlier_answer_cannot_follow_from_a_later_one(tmp_path: Path) -> None:
    # loss = 4.5 written first, then z.o = 3: the loss still follows from z.o (computed earlier),
    # but z.o (computed before the loss) is just wrong
    got = entries(tmp_path, "loss: 4.5\nz.o: 3\n")
    assert got["loss"]["verdict"] == "consistent"
    assert got["z.o"]["verdict"] == "wrong"
    assert got["z.o"]["follows_from"] == []


# --- 5. the grammar -----------------------------------------------------------------------------


def test_every_spelling_of_a_quantity(tmp_path: Path) -> None:
    answers = (
        "a.h1: 4\npre.h2: -1\nz.h3: 3\nact.h1: 4\nout.o: 1.6\ndelta.h1: 2.2\nδ.h3: -5.28\n"
        "grad.w3: 0\nnew.w1: -0.2\nupdated.w5: 6.28\nloss: 9.68\nL: 9.7\n"
    )
    code, data = judge(tmp_path, answers)
    assert code == 0, [e for e in data["answers"] if e["verdict"] != "right"]
    kinds = {e["quantity"]: (e["kind"], e["name"]) for e in data["answers"]}
    assert kinds == {
        "a.h1": ("pre_activation", "h1"),
        "pre.h2": ("pre_activation", "h2"),
        "z.h3": ("activation", "h3"),
        "act.h1": ("activation", "h1"),
        "out.o": ("output", "o"),
        "delta.h1": ("delta", "h1"),
        "δ.h3": ("delta", "h3"),
        "grad.w3": ("gradient", "w3"),
        "new.w1": ("updated", "w1"),
        "updated.w5": ("updated", "w5"),
        "loss": ("loss", None),
        "L": ("loss", None),
    }


def test_seed_letters_a_and_z(tmp_path: Path) -> None:
    # seed: a = pre-activation, z = activation. a_h2 = −1, z_h2 = relu(−1) = 0
    got = entries(tmp_path, "a.h2: -1\nz.h2: 0\n")
    assert [got["a.h2"]["verdict"], got["z.h2"]["verdict"]] == ["right", "right"]


def test_nielsen_swaps_a_and_z(tmp_path: Path) -> None:
    # nielsen: z = pre-activation (−1 for h2), a = activation (0 for h2)
    answers = "z.h2: -1\na.h2: 0\na.o: 1.6\n"
    code, data = judge(tmp_path, answers, "--notation", "nielsen")
    assert code == 0
    assert [e["kind"] for e in data["answers"]] == ["pre_activation", "activation", "activation"]
    assert data["answers"][0]["symbol"]["text"].startswith("z")
    # the same file under the seed letters is wrong twice: z_h2 = 0, a_h2 = −1
    code, data = judge(tmp_path, answers)
    assert code == 1
    assert [e["verdict"] for e in data["answers"]] == ["wrong", "wrong", "right"]


def test_mazur_net_and_out(tmp_path: Path) -> None:
    # mazur: net = pre-activation, out = activation of any neuron (not only outputs)
    code, data = judge(tmp_path, "net.h2: -1\nout.h2: 0\nout.o: 1.6\n", "--notation", "mazur")
    assert code == 0
    assert [e["kind"] for e in data["answers"][:2]] == ["pre_activation", "activation"]
    assert data["answers"][0]["symbol"]["text"].startswith("net")
    # and a/z are not letters of this notation
    (problem,) = refused(tmp_path, "a.h1: 4\n", "--notation", "mazur")
    assert problem.startswith(f"{tmp_path / 'answers.yaml'}:1:1: 'a.h1' is not a quantity")


def test_out_names_an_output_under_the_seed_letters(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\nout.h1: 4\n")
    path = tmp_path / "answers.yaml"
    assert problem == (
        f"{path}:2:1: 'h1' is not an output (outputs: o); for its activation write z.h1"
    )


def test_layered_params_by_element(tmp_path: Path) -> None:
    answers = (
        "a.h1_2: 12\nz.o1: -7\nloss: 24.5\ngrad.W2[1,1]: -35\ngrad.W2[1,2]: -84\n"
        "grad.W1[1,2]: -14\ngrad.W1[2,1]: 7\ngrad.b1[2]: 7\nnew.W1[1,2]: 3.4\nnew.b1[2]: 0.3\n"
    )
    code, data = judge(tmp_path, answers, "--lr", "0.1", spec=LAYERED)
    assert code == 0, [e for e in data["answers"] if e["verdict"] != "right"]
    names = {e["quantity"]: e["name"] for e in data["answers"]}
    assert names["grad.W1[1,2]"] == "W1[1,2]"
    assert names["new.b1[2]"] == "b1[2]"
    # row and column are not interchangeable: W1[2,1] is 7, W1[1,2] is −14
    got = entries(tmp_path, "grad.W1[2,1]: -14\n", spec=LAYERED)
    assert got["grad.W1[2,1]"]["verdict"] == "wrong"


def test_layered_param_needs_an_element(tmp_path: Path) -> None:
    problems = refused(tmp_path, "grad.W1: 1\ngrad.b1: 1\n", spec=LAYERED)
    path = tmp_path / "answers.yaml"
    assert problems == [
        f"{path}:1:1: 'W1' is not a param; name one element, like W1[1,1]",
        f"{path}:2:1: 'b1' is not a param; name one element, like b1[1]",
    ]


def test_batched_answers_name_their_sample(tmp_path: Path) -> None:
    # BATCH (derivation under its spec): ŷ = 2, 4; l = 9, 4; L = 6.5; δ = −3, 2; ∂L/∂w = 1
    answers = (
        "a.h1@1: 2\na.h1@2: 4\nz.h1@2: 4\nloss@1: 9\nloss@2: 4\nL@2: 4\nloss: 6.5\n"
        "delta.h1@1: -3\ndelta.h1@2: 2\ngrad.w: 1\n"
    )
    code, data = judge(tmp_path, answers, spec=BATCH)
    assert code == 0, [e for e in data["answers"] if e["verdict"] != "right"]
    got = {e["quantity"]: (e["kind"], e["sample"]) for e in data["answers"]}
    assert got["a.h1@2"] == ("pre_activation", 1)  # 0-based in the JSON
    assert got["a.h1@1"] == ("pre_activation", 0)
    assert got["loss@2"] == ("sample_loss", 1)
    assert got["L@2"] == ("sample_loss", 1)
    assert got["loss"] == ("loss", None)
    assert got["grad.w"] == ("gradient", None)
    # samples are not interchangeable: ŷ⁽¹⁾ = 2, not 4
    wrong = entries(tmp_path, "a.h1@1: 4\nloss@2: 9\n", spec=BATCH)
    assert [e["verdict"] for e in wrong.values()] == ["wrong", "wrong"]


# --- 6. bad answers files -----------------------------------------------------------------------


def test_unknown_neuron_with_the_closest_name(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\nz.hh3: 3\n")
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:2:1: 'hh3' is not a neuron; did you mean 'h3'? "
        "(allowed neurons: h1, h2, h3, o)"
    )


def test_unknown_param(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "grad.w10: 4\n")
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:1:1: 'w10' is not a param; did you mean 'w1'? "
        "(allowed params: w1, w2, w3, w4, w5, w6, w7, w8, w9)"
    )


def test_unknown_kind(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\n\ndleta.h1: 2.2\n")
    prefix = (
        f"{tmp_path / 'answers.yaml'}:3:1: 'dleta.h1' is not a quantity; write KIND.NAME with "
        "KIND one of "
    )
    assert problem.startswith(prefix)
    assert "did you mean 'delta.h1'?" in problem
    listed = problem.removeprefix(prefix).partition(", or loss (L)")[0].split(", ")
    assert sorted(listed) == sorted(
        ["a", "z", "pre", "act", "out", "delta", "δ", "grad", "new", "updated"]
    )


def test_unknown_kind_message_lists_each_kind_once(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "b.h1: 4\n")
    assert problem.count("grad") == 1
    assert problem.count("loss") == 1


@pytest.mark.parametrize(
    ("value", "column", "message"),
    [
        ("four", 7, "a.h1: expected a number (4.5, -1, 9/2), got 'four'"),
        ("yes", 7, "a.h1: expected a number (4.5, -1, 9/2), got 'yes'"),  # YAML 1.2: text
        ('"4.5"', 7, "a.h1: expected a number (4.5, -1, 9/2), got '4.5'"),
        (".inf", 7, "a.h1: expected a finite number, got inf"),
        ("-.inf", 7, "a.h1: expected a finite number, got -inf"),
        (".nan", 7, "a.h1: expected a finite number, got nan"),
        ('"1/0"', 7, "a.h1: '1/0' divides by zero"),
    ],
)
def test_bad_values(tmp_path: Path, value: str, column: int, message: str) -> None:
    (problem,) = refused(tmp_path, f"z.o: 1.6\na.h1: {value}\n")
    assert problem == f"{tmp_path / 'answers.yaml'}:2:{column}: {message}"


def test_unknown_sample(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1@9: 1\n", spec=BATCH)
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:1:1: 'a.h1@9': there is no sample '9'; samples are 1 … 2"
    )


def test_missing_sample_on_a_batched_spec(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "loss: 6.5\na.h1: 2\n", spec=BATCH)
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:2:1: 'a.h1': the spec has 2 samples; say which, like a.h1@1"
    )


def test_a_gradient_has_no_sample(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "grad.w@1: 1\n", spec=BATCH)
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:1:1: 'grad.w@1': a gradient is one number for the whole "
        "batch; drop '@'"
    )


def test_update_without_a_learning_rate(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "grad.w: 0\nnew.w: -1\n", spec=DEAD)
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:2:1: 'new.w': there is no update without a learning rate; "
        "give --lr or learning_rate in the spec"
    )
    # with --lr 0.5 the same file is judged: ∂L/∂w = 0 (dead unit), so new w = −1 − 0.5·0 = −1
    code, data = judge(tmp_path, "grad.w: 0\nnew.w: -1\n", "--lr", "0.5", spec=DEAD)
    assert code == 0
    assert data["answers"][1]["correct"] == approx(-1)


EXPECTED_LINES = "expected lines like 'a.h1: 4', 'grad.w3: 0', 'loss: 9.68'"


def test_empty_file(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "")
    path = tmp_path / "answers.yaml"
    assert problem.startswith(f"{path}:")
    assert problem.endswith(f" the answers file is empty; {EXPECTED_LINES}")
    (problem,) = refused(tmp_path, "{}\n")
    assert problem == f"{path}:1:1: the answers file is empty; {EXPECTED_LINES}"


@pytest.mark.parametrize("text", ["", "# nothing yet\n"])
def test_empty_file_is_located(tmp_path: Path, text: str) -> None:
    (problem,) = refused(tmp_path, text)
    assert (
        problem == f"{tmp_path / 'answers.yaml'}:1:1: the answers file is empty; {EXPECTED_LINES}"
    )


@pytest.mark.parametrize("text", ["- a.h1: 4\n", "42\n", "just text\n"])
def test_not_a_mapping(tmp_path: Path, text: str) -> None:
    (problem,) = refused(tmp_path, text)
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:1:1: the answers file is not a mapping; {EXPECTED_LINES}"
    )


def test_missing_file(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, None)
    assert problem == f"{tmp_path / 'answers.yaml'}: no such file"


def test_invalid_yaml(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\n  b: 5\n")
    what = (
        "mapping values are not allowed in this context"
        if getattr(yaml, "__with_libyaml__", False)
        else "mapping values are not allowed here"
    )
    assert problem == f"{tmp_path / 'answers.yaml'}:2:4: invalid YAML: {what}"


def test_duplicate_keys(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\nz.h1: 4\na.h1: 5\n")
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:3:1: duplicate key 'a.h1'; each key may appear only once"
    )


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    problems = refused(tmp_path, "a.hh1: 4\nloss: 9.68\ngrad.w10: 1\nz.o: four\n")
    assert [p.split(": ", 1)[0].rsplit(":", 2)[1:] for p in problems] == [
        ["1", "1"],
        ["3", "1"],
        ["4", "6"],
    ]


def test_a_key_that_is_not_text_is_located(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a.h1: 4\n3: 5\n")
    assert problem == (
        f"{tmp_path / 'answers.yaml'}:2:1: expected a quantity like 'a.h1' or 'grad.w3', got 3"
    )


# --- 7. the SPEC argument -----------------------------------------------------------------------


def test_one_file_is_the_answers_and_the_spec_is_net_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(HOMEWORK, tmp_path / "net.yaml")
    (tmp_path / "mine.yaml").write_text("loss: 9.68\ngrad.w3: 0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("mine.yaml", "-f", "json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    data = strict_json(result.stdout)
    assert data["source"] == "net.yaml"
    assert data["answers_source"] == "mine.yaml"
    assert data["summary"]["right"] == 2


def test_one_file_without_net_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text("loss: 9.68\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("mine.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["net.yaml: no such file"]


def test_three_files_is_a_usage_error(tmp_path: Path) -> None:
    answers = write(tmp_path, "answers.yaml", "loss: 9.68\n")
    result = invoke(str(HOMEWORK), answers, answers)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "expected [SPEC] ANSWERS, got 3 files" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_file_is_a_usage_error() -> None:
    result = invoke()
    assert result.exit_code == 2
    assert result.stdout == ""


# --- 8. output formats --------------------------------------------------------------------------

MIXED = "a.h1: 4\nz.o: 3\nloss: 4.5\ngrad.w3: 10\n"  # right, wrong, consistent, wrong


def test_table_shows_each_verdict_and_the_summary(tmp_path: Path) -> None:
    answers = write(tmp_path, "answers.yaml", MIXED)
    result = invoke(str(HOMEWORK), answers)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()

    def row(symbol: str) -> str:
        (line,) = [line for line in lines if line.split()[:1] == [symbol]]
        return line

    assert "✓ right" in row("a_h1")
    assert "✗ wrong" in row("z_o")
    assert "~ consistent" in row("L")
    assert "✗ wrong" in row("∂L/∂w3")
    assert "1 of 4 right, 2 wrong, 1 consistent with an earlier answer" in result.stdout


def test_json_is_strict(tmp_path: Path) -> None:
    answers = write(tmp_path, "answers.yaml", MIXED)
    result = invoke(str(HOMEWORK), answers, "-f", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout, parse_constant=_reject_constant)
    assert data["summary"] == {"total": 4, "right": 1, "wrong": 2, "consistent": 1}


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "latex", "csv"])
@pytest.mark.parametrize(("answers", "code"), [("loss: 9.68\n", 0), (MIXED, 1)])
def test_every_format_exits_with_the_same_code(
    tmp_path: Path, fmt: str, answers: str, code: int
) -> None:
    path = write(tmp_path, "answers.yaml", answers)
    result = invoke(str(HOMEWORK), path, "-f", fmt)
    assert result.exit_code == code, (result.stderr, result.exception)


# --- found while writing these tests ------------------------------------------------------------


def test_update_added_when_the_students_gradient_is_right(tmp_path: Path) -> None:
    # LINEAR, η = 0.1: ∂L/∂w = −3 (written, right); w + η·g = 2 + 0.1·(−3) = 1.7 (right: 2.3)
    got = entries(tmp_path, "grad.w: -3\nnew.w: 1.7\n", spec=LINEAR)
    assert got["grad.w"]["verdict"] == "right"
    assert got["new.w"]["correct"] == approx(2.3)
    assert got["new.w"]["diagnosis"]["mistake"] == "update_added"


def test_answers_carried_from_right_rounded_ones_are_right(tmp_path: Path) -> None:
    # HALVES in floats: a_h = 0.25, so "0.3" is right (|0.3 − 0.25| ≤ 0.05); the student goes on
    # with 0.3: a_o = 0.3·3 = 0.9 (full precision: 0.75), L = ½(2 − 0.9)² = 0.605 ≈ 0.6 (full
    # precision: 0.78125). Both follow from a rounding the student was allowed to make, so they
    # are right, and say that they carry it on.
    got = entries(tmp_path, "a.h: 0.3\na.o: 0.9\nloss: 0.6\n", spec=HALVES)
    assert [e["verdict"] for e in got.values()] == ["right", "right", "right"]
    assert got["a.o"]["follows_from"] == []
    assert "carrying on from your rounded a.h = 0.3" in got["a.o"]["explanation"]
    # Without the rounded a.h, 0.9 is simply wrong.
    alone = entries(tmp_path, "a.o: 0.9\n", spec=HALVES)
    assert alone["a.o"]["verdict"] == "wrong"


@pytest.mark.parametrize("written", ["&x 9.70", "!!float 9.70"])
def test_anchored_or_tagged_value_keeps_its_decimals(tmp_path: Path, written: str) -> None:
    entry = entries(tmp_path, f"loss: {written}\n")["loss"]
    assert entry["answer_text"] == "9.70"
    assert entry["verdict"] == "wrong"  # |9.70 − 9.68| = 0.02 > 0.005


def test_hexadecimal_answer_text(tmp_path: Path) -> None:
    entry = entries(tmp_path, "a.h1: 0x4\n")["a.h1"]
    assert entry["answer"] == 4.0
    assert entry["answer_text"] in ("0x4", "4")


def test_an_alias_answer_is_placed_at_its_own_key(tmp_path: Path) -> None:
    # z.h1's value is the anchor's, on line 1; the answer itself is on line 2
    _, data = judge(tmp_path, "a.h1: &x 4\nz.h1: *x\n")
    assert [(e["line"], e["column"]) for e in data["answers"]] == [(1, 1), (2, 1)]


def test_names_holding_an_at_sign_are_answers_not_samples(tmp_path: Path) -> None:
    spec = LINEAR.replace("{w: 2}", '{"w@1": 2}').replace("{x: w}", '{x: "w@1"}')
    # ∂L/∂w = −(5 − 2)·1 = −3
    code, data = judge(tmp_path, '"grad.w@1": -3\n', spec=spec)
    assert code == 0, data["answers"]
    assert data["answers"][0]["name"] == "w@1"


@pytest.mark.parametrize("answers", ["loss: 1" + "0" * 400 + "\n", "a.h1@²: 4\n"])
def test_hostile_numbers_and_samples_are_refused(tmp_path: Path, answers: str) -> None:
    (problem,) = refused(tmp_path, answers)
    assert problem.startswith(f"{tmp_path / 'answers.yaml'}:1:")
