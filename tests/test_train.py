"""`nncalc train`: many steps, schedules, mini-batches, stopping, gradient noise, emit-spec.

Expected numbers are derived by hand (in the comments) or from a second path through the
program (one `backprop` step at a time through emitted specs), never from the trace itself.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner

import nncalc
from nncalc.cli import app
from nncalc.train import Schedule

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "examples" / "homework.yaml"
BATCH = ROOT / "examples" / "softmax-classifier.yaml"
runner = CliRunner()

# o = w·x (identity), ½ squared error, two samples: x = 1 and x = 2, targets 0, w = 1.
# Per-sample ∂L/∂w = (w·x − y)·x = 1 and 4: mean 2.5, standard deviation 1.5.
TWO = (
    "params: {w: 1}\nneurons: {o: {from: {x: w}, activation: identity}}\n"
    "data: [{inputs: {x: 1}, target: {o: 0}}, {inputs: {x: 2}, target: {o: 0}}]\n"
)


def _train(*args: str, spec_text: str | None = None, code: int = 0) -> dict[str, object]:
    result = runner.invoke(app, ["train", *args, "-f", "json"], input=spec_text)
    assert result.exit_code == code, result.stderr
    data: dict[str, object] = json.loads(
        result.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}")
    )
    return data


def test_steps_equal_backprop_steps_through_emitted_specs(tmp_path: Path) -> None:
    data = _train(str(HOMEWORK), "--steps", "3", "--lr", "0.01")
    steps = data["steps"]
    assert isinstance(steps, list)
    # step 1 is the homework's own loss before any step: ½(6 − 1.6)² = 9.68
    assert steps[0]["loss"] == pytest.approx(9.68)
    path = str(HOMEWORK)
    for n in range(3):
        step = nncalc.backprop(nncalc.load_spec(path), lr=0.01)
        assert steps[n]["loss"] == step.loss
        target = tmp_path / f"s{n}.yaml"
        result = runner.invoke(
            app, ["backprop", path, "--lr", "0.01", "--emit-spec", "-o", str(target)]
        )
        assert result.exit_code == 0
        path = str(target)
    final = data["final"]
    assert isinstance(final, dict)
    assert final["params"] == {k: float(v) for k, v in nncalc.load_spec(path).params.items()}


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # step decay ×0.5 every 2 steps: 1, 1, 0.5, 0.5, 0.25
        (Schedule("step", 0.5, 2), [1, 1, 0.5, 0.5, 0.25]),
        # exponential ×0.9 per step: 1, 0.9, 0.81, 0.729, 0.6561
        (Schedule("exponential", 0.9), [1, 0.9, 0.81, 0.729, 0.6561]),
        # cosine from 1 to 0 over 5 steps: (1 + cos(π·k/4))/2 for k = 0 … 4
        (
            Schedule("cosine", minimum=0.0),
            [1, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 0],
        ),
        (Schedule(), [1, 1, 1, 1, 1]),
    ],
)
def test_schedules(schedule: Schedule, expected: list[float]) -> None:
    assert [schedule.rate(1.0, t, 5) for t in range(1, 6)] == pytest.approx(expected, abs=1e-15)


def test_the_trace_shows_the_scheduled_rate() -> None:
    data = _train(
        str(HOMEWORK), "-n", "3", "--lr", "0.01", "--schedule", "exponential", "--gamma", "0.5"
    )
    assert [s["learning_rate"] for s in data["steps"]] == pytest.approx([0.01, 0.005, 0.0025])  # type: ignore[union-attr]


def test_mini_batches_cover_every_sample_once_per_epoch() -> None:
    # with η = 0 nothing moves, so each step's loss is the loss of the one sample it drew
    per_sample = nncalc.forward(nncalc.load_spec(BATCH)).sample_losses.tolist()
    data = _train(str(BATCH), "-n", "6", "--lr", "0", "-b", "1", "--seed", "7")
    losses = [s["loss"] for s in data["steps"]]  # type: ignore[union-attr]
    assert sorted(losses[:3]) == pytest.approx(sorted(per_sample))
    assert sorted(losses[3:]) == pytest.approx(sorted(per_sample))
    assert _train(str(BATCH), "-n", "6", "--lr", "0", "-b", "1", "--seed", "7") == data
    assert data["mini_batch"] == 1 and data["seed"] == 7


def test_until_loss_stops_early() -> None:
    # homework, η = 0.01: 9.68 before step 1; 4.24… before step 2 (≤ 5): stop there
    data = _train(str(HOMEWORK), "-n", "20", "--lr", "0.01", "--until-loss", "5")
    stopped = data["stopped"]
    assert isinstance(stopped, dict)
    assert stopped["reason"] == "until_loss" and stopped["step"] == 2
    assert len(data["steps"]) == 2  # type: ignore[arg-type]


def test_a_diverging_run_ends_cleanly_naming_the_step() -> None:
    # TWO with η = 1: ∂L/∂w = mean((w·x)·x) = 2.5·w, so w ← w − 2.5·w = −1.5·w and
    # L = ½·mean(x²)·w² = 1.25·w² = 1.25·2.25^(t−1) before step t. L > 1e12 first when
    # 2.25^(t−1) > 8e11, t − 1 > ln(8e11)/ln(2.25) = 33.8…: at step 35.
    result = runner.invoke(app, ["train", "-", "-n", "100", "--lr", "1"], input=TWO)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "warning: diverged at step 35" in result.stderr
    data = _train("-", "-n", "100", "--lr", "1", spec_text=TWO, code=1)
    stopped = data["stopped"]
    assert isinstance(stopped, dict)
    assert (stopped["reason"], stopped["step"]) == ("diverged", 35)
    assert data["steps"][-1]["loss"] == pytest.approx(1.25 * 2.25**34)  # type: ignore[index]


def test_gradient_noise_by_hand() -> None:
    data = _train("-", "-n", "1", "--lr", "0", "--noise", spec_text=TWO)
    noise = data["gradient_noise"]
    assert isinstance(noise, dict)
    assert noise["mean"]["w"] == pytest.approx(2.5)
    assert noise["std"]["w"] == pytest.approx(1.5)


def test_adam_training_emits_its_state(tmp_path: Path) -> None:
    target = tmp_path / "trained.yaml"
    args = ["train", str(BATCH), "-n", "4", "--optimizer", "adam", "--emit-spec", "-o", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    trained = nncalc.load_spec(target)
    assert trained.optimizer is not None and trained.optimizer.name == "adam"
    assert trained.state is not None and trained.state.step == 4
    final = _train(str(BATCH), "-n", "4", "--optimizer", "adam")["final"]
    for key, value in trained.params.items():
        assert np.array_equal(np.asarray(value), np.asarray(final["params"][key]))  # type: ignore[index]


def test_refusals_and_quiet_progress() -> None:
    spec = HOMEWORK.read_text(encoding="utf-8").replace("learning_rate: 1\n", "")
    result = runner.invoke(app, ["train", "-", "-n", "2"], input=spec)
    assert result.exit_code == 2 and "needs a learning rate" in result.stderr
    result = runner.invoke(app, ["train", str(HOMEWORK), "--schedule", "linear"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["train", str(HOMEWORK), "-n", "80", "--lr", "0.001"])
    assert result.exit_code == 0
    assert result.stderr == ""  # no progress bar when standard error is not a terminal


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "csv"])
def test_every_format_shows_the_trace(fmt: str) -> None:
    result = runner.invoke(app, ["train", str(BATCH), "-n", "3", "-b", "2", "--noise", "-f", fmt])
    assert result.exit_code == 0
    if fmt == "csv":
        assert "loss,3,," in result.stdout
    else:
        assert "Trace" in result.stdout and "Final params" in result.stdout


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_the_training_report_compiles(tmp_path: Path) -> None:
    args = [
        "train",
        str(BATCH),
        "-n",
        "3",
        "--trace",
        "params",
        "--noise",
        "-f",
        "latex",
        "--standalone",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    compile_latex(result.stdout, tmp_path)


def test_the_loss_curve_in_the_terminal() -> None:
    from nncalc.render.view import loss_curve

    # 4 → 1 linearly: the top, then evenly lower bars, the last at the bottom
    assert loss_curve([4.0, 3.0, 2.0, 1.0]) == "█▆▃▁"
    # more steps than columns: each column is the mean of its run of steps
    assert len(loss_curve([float(v) for v in range(200, 0, -1)], width=50)) == 50
    # a non-finite loss leaves a gap; nothing finite draws nothing
    assert loss_curve([1.0, None, 2.0]) == "▁ █"
    assert loss_curve([None]) == ""
    table = runner.invoke(app, ["train", str(HOMEWORK), "-n", "5", "--lr", "0.01"]).stdout
    assert "Loss curve: █" in table


def test_training_refuses_settings_that_cannot_mean_anything() -> None:
    result = runner.invoke(app, ["train", str(HOMEWORK), "--schedule", "cosine", "--min-lr", "5"])
    assert result.exit_code == 2 and "exceeds the learning rate" in result.stderr
    result = runner.invoke(app, ["train", str(HOMEWORK), "--until-loss", "nan"])
    assert result.exit_code == 2
    # the trained spec keeps the rate the run used (--lr over the spec's)
    text = runner.invoke(app, ["train", str(HOMEWORK), "-n", "2", "--lr", "0.05", "--emit-spec"])
    assert nncalc.load_spec(text.stdout, source="trained").learning_rate == 0.05
