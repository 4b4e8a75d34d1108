"""`nncalc train` per step, against a plain-numpy reference step, with and without a progress bar.

The run is the issue's: a layered 784-512-512-10 ReLU net, softmax cross-entropy, 1024 samples,
mini-batches of 64 (16 steps an epoch), plain SGD, float64. Timed in-process:

    train     nncalc.train.run(spec, steps, lr, batch_size=64)      (what `nncalc train` runs)
    progress  the same with a rich progress bar drawn to an in-memory terminal at every step
    numpy     the same steps written directly in numpy: gather the mini-batch, three affine
              maps with ReLU, softmax cross-entropy, its backward pass, W ← W − η·∂L/∂W

The three alternate, `--pairs` times, each over `--epochs` epochs; the figures are the medians of
the per-pair ratios train / numpy (target ≤ 1.5) and progress / train. The reference's losses are
checked against the run's, so both do the same arithmetic. The machine is shared and noisy: only
ratios measured side by side are results.

    python benchmarks/train_run.py [--pairs 5] [--epochs 2]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from train_step import SIZES, make_yaml

import nncalc
from nncalc import train
from nncalc.engine import network_of

Array = NDArray[np.float64]
SAMPLES = 1024
MINI = 64
LR = 0.1
TARGET = 1.5


def numpy_run(spec: nncalc.Spec, steps: int, seed: int = 0) -> list[float]:
    """The same steps as `train.run` (same shuffling), written directly in numpy."""
    net = network_of(spec)
    params = {k: np.array(v, dtype=np.float64) for k, v in net.params(net.theta.copy()).items()}
    w = [params[f"W{k}"] for k in (1, 2, 3)]
    b = [params[f"b{k}"] for k in (1, 2, 3)]
    x_all, y_all = spec.inputs, spec.targets
    assert y_all is not None
    rng = np.random.default_rng(seed)
    order, position = np.arange(SAMPLES), SAMPLES
    losses: list[float] = []
    for _ in range(steps):
        if position + MINI > SAMPLES:
            order, position = rng.permutation(SAMPLES), 0
        chosen = order[position : position + MINI]
        position += MINI
        x, y = x_all[chosen], y_all[chosen]
        a1 = x @ w[0].T + b[0]
        z1 = np.maximum(a1, 0.0)
        a2 = z1 @ w[1].T + b[1]
        z2 = np.maximum(a2, 0.0)
        logits = z2 @ w[2].T + b[2]
        top = logits.max(axis=1, keepdims=True)
        e = np.exp(logits - top)
        total = e.sum(axis=1, keepdims=True)
        losses.append(float((y * (top + np.log(total) - logits)).sum(axis=1).mean()))
        d3 = (e / total * y.sum(axis=1, keepdims=True) - y) / MINI
        d2 = np.where(a2 > 0, d3 @ w[2], 0.0)
        d1 = np.where(a1 > 0, d2 @ w[1], 0.0)
        grads = [(d1.T @ x, d1.sum(0)), (d2.T @ z1, d2.sum(0)), (d3.T @ z2, d3.sum(0))]
        for k, (gw, gb) in enumerate(grads):
            w[k] = w[k] - LR * gw
            b[k] = b[k] - LR * gb
    return losses


def train_run(spec: nncalc.Spec, steps: int, bar: bool = False) -> list[float]:
    on_step = None
    progress = None
    if bar:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(file=io.StringIO(), force_terminal=True, width=100))
        progress.start()
        task = progress.add_task("training", total=steps)

        def on_step(step: int) -> None:
            progress.update(task, completed=step)

    try:
        data, _, _ = train.run(spec, steps, LR, batch_size=MINI, on_step=on_step)
    finally:
        if progress is not None:
            progress.stop()
    return [float(entry["loss"]) for entry in data["steps"]]


def timed(run: object, *args: object) -> float:
    start = time.perf_counter()
    run(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    steps = args.epochs * SAMPLES // MINI
    print(f"{'-'.join(map(str, SIZES))} ReLU net, {SAMPLES} samples, batch {MINI}, {steps} steps")
    spec = nncalc.load_spec(make_yaml(0, SAMPLES), source="benchmark")
    theirs, mine = numpy_run(spec, 3), train_run(spec, 3)
    if not np.allclose(theirs, mine, rtol=1e-9):
        print(f"the reference is not the same arithmetic: {theirs} vs {mine}")
        return 1
    ratios, bars = [], []
    for _ in range(args.pairs):
        t_train = timed(train_run, spec, steps)
        t_numpy = timed(numpy_run, spec, steps)
        t_bar = timed(train_run, spec, steps, True)
        ratios.append(t_train / t_numpy)
        bars.append(t_bar / t_train)
        print(
            f"  per step: train {1000 * t_train / steps:.2f} ms, numpy {1000 * t_numpy / steps:.2f}"
            f" ms, train with progress bar {1000 * t_bar / steps:.2f} ms"
        )
    ratio, bar = statistics.median(ratios), statistics.median(bars)
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"train / numpy reference per step: median {ratio:.3f} (target ≤ {TARGET}): {verdict}")
    print(f"with / without the progress bar: median {bar:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
