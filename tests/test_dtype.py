"""float32: the engine computes in it throughout (no silent float64 promotion), and its numbers
agree with float64's to float32's precision, on every example and a large layered net."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nncalc
from nncalc import engine
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("-answers"))


def _close(low: np.ndarray, high: np.ndarray) -> None:
    """float32 against float64: within a few float32 ulps of the largest value in play."""
    scale = max(1.0, float(np.max(np.abs(high), initial=0.0)))
    np.testing.assert_allclose(low, high, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_array_stays_float32_and_agrees_with_float64(example: Path) -> None:
    spec = nncalc.load_spec(example)
    high = engine.backprop(spec, 0.5)
    low = engine.backprop(spec, 0.5, dtype="float32")
    for name in ("theta", "yhat", "gradient", "updated_theta", "input_gradient"):
        assert getattr(low, name).dtype == np.float32, name
        _close(getattr(low, name), getattr(high, name))
    for k, (a, z, d) in enumerate(zip(low.pre, low.post[1:], low.deltas, strict=True)):
        assert a.dtype == z.dtype == d.dtype == np.float32, k
    assert low.loss == pytest.approx(high.loss, rel=1e-6)


def test_a_large_layered_net_in_float32() -> None:
    """Relu and softmax cross-entropy over a 64-128-10 net, batch 32: no float64 anywhere."""
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(0, 0.2, (128, 64)), rng.normal(0, 0.2, (10, 128))
    x, labels = rng.random((32, 64)), rng.integers(0, 10, 32)
    y = np.eye(10)[labels]
    data = [{"inputs": a, "target": b} for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    text = (
        f"layers:\n  - weights: {w1.tolist()}\n    bias: {[0.1] * 128}\n    activation: relu\n"
        f"  - weights: {w2.tolist()}\n    activation: softmax\n"
        f"data: {data}\n"
        "loss: cross_entropy\n"
    )
    spec = nncalc.load_spec(text.replace("'", ""), source="big.yaml")
    high = engine.backprop(spec, 0.1, input_gradients=False, loss_after=False)
    low = engine.backprop(spec, 0.1, input_gradients=False, loss_after=False, dtype="float32")
    assert low.gradient.dtype == low.updated_theta.dtype == np.float32
    _close(low.gradient, high.gradient)
    _close(low.updated_theta, high.updated_theta)


def test_train_dtype_option() -> None:
    runner = CliRunner()
    args = ["train", str(ROOT / "examples" / "softmax-classifier.yaml"), "-n", "5", "-f", "json"]
    high = json.loads(runner.invoke(app, args).stdout)
    result = runner.invoke(app, [*args, "--dtype", "float32"])
    assert result.exit_code == 0, result.stderr
    low = json.loads(result.stdout)
    assert (high["dtype"], low["dtype"]) == ("float64", "float32")
    for a, b in zip(low["steps"], high["steps"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    table = runner.invoke(app, [*args[:-2], "--dtype", "float32"]).stdout
    assert "computed in float32" in table
    bad = runner.invoke(app, [*args, "--dtype", "float16"])
    assert bad.exit_code == 2
    assert "'float64', 'float32'" in bad.stderr  # the allowed values, named


def test_an_unknown_dtype_is_refused() -> None:
    spec = nncalc.load_spec(ROOT / "examples" / "homework.yaml")
    with pytest.raises(ValueError, match="float64, float32"):
        engine.backprop(spec, dtype="float16")
