"""`nncalc gradcheck`: every analytic gradient against a central finite difference, through the
library and typer's CliRunner: the examples pass, a kink is marked and never failed, a wrong
gradient fails, and every format shows the result."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_cli import strict_json  # JSON with no NaN or Infinity tokens
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner, Result

import nncalc
import nncalc.engine
from nncalc.activations import Sigmoid
from nncalc.cli import app
from nncalc.gradcheck import MAX_ENTRIES, gradcheck

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("-answers"))
MAZUR = ROOT / "examples" / "mazur-sigmoid.yaml"
SOFTMAX = ROOT / "examples" / "softmax-classifier.yaml"
ENTRY_KEYS = {"kind", "name", "analytic", "numeric", "abs_error", "rel_error", "passed", "kink"}
TOP_KEYS = {
    "command",
    "title",
    "source",
    "form",
    "tolerance",
    "step",
    "entries",
    "summary",
    "warnings",
}

# h's pre-activation is x1·w1 + x2·w2 = 1 − 1 = 0: exactly on relu's kink.
RELU_KINK = """\
inputs: {x1: 1, x2: 2}
params: {w1: 1, w2: -0.5, w3: 2, c: 0.3}
neurons:
  h: {from: {x1: w1, x2: w2}, activation: relu}
  g: {from: {x1: c}, activation: tanh}
  o: {from: {h: w3, g: 1}, activation: identity}
target: {o: 1}
"""

# ŷ = x1·w = 2 equals the target: mae's kink.
MAE_KINK = """\
inputs: {x1: 1}
params: {w: 2}
neurons:
  o: {from: {x1: w}, activation: identity}
target: {o: 2}
loss: mae
"""

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["gradcheck", *args])


def write(folder: Path, text: str) -> str:
    path = folder / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- the library ----------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes(example: Path) -> None:
    data = gradcheck(nncalc.load_spec(example))
    assert data["summary"]["failed"] == 0, [e for e in data["entries"] if not e["passed"]]
    assert all(e["passed"] for e in data["entries"])
    net = nncalc.engine.network_of(nncalc.load_spec(example))
    spec = nncalc.load_spec(example)
    assert data["summary"]["checked"] == net.theta.size + spec.inputs.size == len(data["entries"])


def test_entries_match_the_engine_and_name_every_value() -> None:
    spec = nncalc.load_spec(SOFTMAX)
    result = nncalc.backprop(spec)
    data = gradcheck(spec)
    names = [e["name"] for e in data["entries"]]
    assert names[:3] == ["W1[1,1]", "W1[1,2]", "W1[2,1]"]
    assert "b2[3]" in names
    assert names[-6:] == ["x1@1", "x2@1", "x1@2", "x2@2", "x1@3", "x2@3"]  # batch: per sample
    first = data["entries"][0]
    assert first["kind"] == "param"
    assert first["analytic"] == result.gradient[0]
    assert first["numeric"] == pytest.approx(first["analytic"], rel=1e-6)
    last = data["entries"][-1]
    assert last["kind"] == "input"
    assert last["analytic"] == result.input_gradient[2, 1]  # type: ignore[index]


def test_error_formulas() -> None:
    data = gradcheck(nncalc.load_spec(MAZUR))
    for e in data["entries"]:
        a, n = e["analytic"], e["numeric"]
        assert e["abs_error"] == abs(a - n)
        assert e["rel_error"] == pytest.approx(abs(a - n) / max(abs(a), abs(n)))
        assert e["passed"] == (e["rel_error"] <= data["tolerance"])


def test_numeric_derivative_is_the_central_difference() -> None:
    spec = nncalc.load_spec(MAZUR)
    net = nncalc.engine.network_of(spec)
    h = 1e-6 * max(1.0, abs(float(net.theta[0])))

    def loss(theta: np.ndarray[Any, Any]) -> float:
        _, post = nncalc.engine.forward_pass(net, theta, spec.inputs)
        yhat = nncalc.engine.gather_outputs(net, post)
        assert spec.targets is not None
        return float(0.5 * ((spec.targets - yhat) ** 2).sum())

    up, down = net.theta.copy(), net.theta.copy()
    up[0] += h
    down[0] -= h
    expected = (loss(up) - loss(down)) / (up[0] - down[0])
    assert gradcheck(spec)["entries"][0]["numeric"] == pytest.approx(expected, rel=1e-12)


def test_a_gradient_zero_by_cancellation_is_not_a_failure() -> None:
    """Σ softmax = 1: every gradient of the `output` loss is 0, the numeric one round-off."""
    text = """\
inputs: [0.3, -0.7]
layers:
  - weights: [[0.5, -0.4], [0.3, 0.8], [-0.6, 0.1]]
    bias: [0.1, -0.1, 0.0]
    activation: softmax
loss: output
"""
    data = gradcheck(nncalc.load_spec(text))
    assert data["summary"]["failed"] == 0


def test_relu_exactly_on_its_kink_is_a_kink_not_a_failure() -> None:
    data = gradcheck(nncalc.load_spec(RELU_KINK))
    by_name = {e["name"]: e for e in data["entries"]}
    for name in ("w1", "w2", "x1", "x2"):  # they move h's pre-activation off 0, both ways
        assert by_name[name]["kink"], name
        assert by_name[name]["passed"], name
    for name in ("w3", "c"):  # w3 acts after h, c on another unit: h stays on its kink
        assert not by_name[name]["kink"], name
        assert by_name[name]["passed"], name
    assert data["summary"] == {"checked": 6, "failed": 0, "kinks": 4}
    kink_warnings = [w for w in data["warnings"] if "kink of relu" in w]
    assert len(kink_warnings) == 4
    assert kink_warnings[0].startswith("w1: ")
    assert "pre-activation of h" in kink_warnings[0]


def test_the_kink_is_really_there() -> None:
    """Without the kink rule the relu entries would fail: the finite difference sees half a
    slope, the analytic gradient uses relu'(0) = 0."""
    data = gradcheck(nncalc.load_spec(RELU_KINK))
    w1 = next(e for e in data["entries"] if e["name"] == "w1")
    assert w1["analytic"] == 0
    assert w1["rel_error"] > 1e-3


def test_mae_at_its_target_is_a_kink() -> None:
    data = gradcheck(nncalc.load_spec(MAE_KINK))
    assert [e["kink"] for e in data["entries"]] == [True, True]
    assert data["summary"]["failed"] == 0
    assert any("across its target, the kink of mae" in w for w in data["warnings"])


def test_a_unit_near_but_not_across_a_kink_is_checked() -> None:
    data = gradcheck(nncalc.load_spec(RELU_KINK.replace("w2: -0.5", "w2: -0.4")))
    assert data["summary"]["kinks"] == 0
    assert data["summary"]["failed"] == 0


def test_a_wrong_activation_derivative_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Sigmoid.derivative

    def wrong(self: Sigmoid, a: Any, z: Any) -> Any:
        return original(self, a, z) * 1.01

    monkeypatch.setattr(Sigmoid, "derivative", wrong)
    data = gradcheck(nncalc.load_spec(MAZUR))
    assert data["summary"]["failed"] > 0
    failed = {e["name"] for e in data["entries"] if not e["passed"]}
    assert "W2[1,1]" in failed  # through the output sigmoid's derivative
    result = invoke(str(MAZUR))
    assert result.exit_code == 1, result.stderr
    assert "✗ fail" in result.stdout


def test_a_wrong_backward_pass_fails_through_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    original = nncalc.engine.backward_pass

    def wrong(*args: Any, **kwargs: Any) -> Any:
        deltas, grad, dL_dx = original(*args, **kwargs)
        grad = grad.copy()
        grad[-1] += 1e-3  # one param's gradient off
        return deltas, grad, dL_dx

    monkeypatch.setattr(nncalc.engine, "backward_pass", wrong)
    result = invoke(str(MAZUR), "-f", "json")
    assert result.exit_code == 1, result.stderr
    data = strict_json(result.stdout)
    failed = [e["name"] for e in data["entries"] if not e["passed"]]
    assert failed == ["b2[2]"]
    assert data["summary"]["failed"] == 1


def test_tolerance_applies_to_the_relative_error() -> None:
    spec = nncalc.load_spec(MAZUR)
    loose = gradcheck(spec, 1e-3)
    assert loose["tolerance"] == 1e-3
    assert loose["summary"]["failed"] == 0
    with pytest.raises(ValueError, match="tolerance"):
        gradcheck(spec, 0.0)


def test_too_many_values_ask_for_fewer(tmp_path: Path) -> None:
    width = 150  # 150×150 weights + 150 inputs > 20 000
    row = "[" + ", ".join(["0.01"] * width) + "]"
    text = (
        f"inputs: {row}\nlayers:\n  - weights: [{', '.join([row] * width)}]\n"
        "    activation: identity\nloss: output\n"
    )
    result = invoke(write(tmp_path, text))
    assert result.exit_code == 2
    assert f"at most {MAX_ENTRIES:,}" in result.stderr
    assert "net.yaml: the network has 22500 param values and 150 inputs" in result.stderr
    assert result.stdout == ""


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_cli_every_example_exits_0(example: Path) -> None:
    result = invoke(str(example))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "✓ pass" in result.stdout
    assert "✗" not in result.stdout


def test_cli_json_is_strict_and_has_the_documented_shape() -> None:
    result = invoke(str(SOFTMAX), "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == ""
    data = strict_json(result.stdout)
    assert set(data) == TOP_KEYS
    assert data["command"] == "gradcheck"
    assert data["tolerance"] == 1e-6
    assert "h = 1e-6·max(1, |v|)" in data["step"]
    assert set(data["summary"]) == {"checked", "failed", "kinks"}
    for entry in data["entries"]:
        assert set(entry) == ENTRY_KEYS
        assert entry["kind"] in ("param", "input")
        assert isinstance(entry["passed"], bool)
        assert isinstance(entry["kink"], bool)


def test_cli_kink_is_shown_and_warned_and_exits_0(tmp_path: Path) -> None:
    result = invoke(write(tmp_path, RELU_KINK))
    assert result.exit_code == 0, result.stderr
    assert "kink" in result.stdout
    assert "6 checked, 0 failed, 4 on a kink (marked, not failed)." in result.stdout
    assert result.stderr.count("warning: ") == 4


def test_cli_bad_input_exits_2_with_a_position(tmp_path: Path) -> None:
    result = invoke(write(tmp_path, RELU_KINK.replace("activation: relu", "activation: rleu")))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{tmp_path / 'net.yaml'}:4:" in result.stderr
    assert "relu" in result.stderr


@pytest.mark.parametrize("tol", ["0", "-1", "nan", "inf"])
def test_cli_bad_tolerance_exits_2(tol: str) -> None:
    result = invoke(str(MAZUR), "--tol", tol)
    assert result.exit_code == 2
    assert "--tol" in result.stderr


def test_cli_internal_error_exits_70(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(nncalc.engine, "backward_pass", broken)
    result = invoke(str(MAZUR))
    assert result.exit_code == 70
    assert "internal error: RuntimeError: boom" in result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "latex", "csv"])
def test_every_format_shows_every_entry(fmt: str, tmp_path: Path) -> None:
    result = invoke(write(tmp_path, RELU_KINK), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    for name in ("w1", "w2", "w3", "c", "x1", "x2"):
        assert name in result.stdout
    assert "kink" in result.stdout
    assert "pass" in result.stdout or "true" in result.stdout


def test_csv_has_one_row_per_entry() -> None:
    result = invoke(str(MAZUR), "--format", "csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "kind,name,analytic,numeric,abs_error,rel_error,passed,kink,verdict"
    assert len(lines) == 1 + 14
    assert lines[1].startswith('param,"W1[1,1]",')
    assert lines[1].endswith(",true,false,pass")


def test_precision_changes_the_table_only() -> None:
    short = invoke(str(MAZUR), "-p", "3").stdout
    assert "0.000439" in short
    assert "0.000438568" not in short


def test_standalone_needs_latex() -> None:
    assert invoke(str(MAZUR), "--standalone").exit_code == 2


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("spec", [MAZUR, SOFTMAX, None], ids=["mazur", "batch", "kink"])
def test_latex_compiles(spec: Path | None, tmp_path: Path) -> None:
    source = str(spec) if spec else write(tmp_path, RELU_KINK)
    result = invoke(source, "--format", "latex", "--standalone")
    assert result.exit_code == 0, result.stderr
    compile_latex(result.stdout, tmp_path)
