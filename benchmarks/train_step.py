"""One training step of a 784-512-512-10 ReLU network, against the step's own matrix products.

The step is the library call a training loop makes once per batch:

    nncalc.backprop(spec, lr=0.1, input_gradients=False, loss_after=False)

that is forward, softmax cross-entropy, backward and the SGD update, on a batch of 1024 samples,
in float64 and again in float32 (`dtype="float32"`). Its floor is the eight matrix products the
step cannot avoid, timed bare on the same arrays (the step's own activations and deltas, in the
step's dtype) with preallocated outputs:

    forward   X @ W1.T, Z1 @ W2.T, Z2 @ W3.T
    backward  δ3.T @ Z2, δ2.T @ Z1, δ1.T @ X   (∂L/∂W)
              δ3 @ W3, δ2 @ W2                 (back to the hidden layers)

Floor and step alternate, `--pairs` times; the figure is the median of the per-pair ratios
step / floor (target ≤ 1.3 in each dtype). The machine is shared and noisy, so only ratios
measured side by side are reported as results; absolute times are printed for orientation only.

Separately, the spec is loaded from its YAML text (`nncalc.load_spec(text)`, about 31 MB with
every number at full precision) and each load is paired with the median of a few steps right
after it; the load's cost is reported as a multiple of one step and as its share of
load + one step.

    python benchmarks/train_step.py [--pairs 20] [--loads 3] [--dtype float64|float32|both]
                                    [--blas-threads N] [--check] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import gc
import glob
import io
import itertools
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from machine import cpu_model, pin_blas_threads
from numpy.typing import NDArray

import nncalc
from nncalc.engine import network_of

Array = NDArray[np.float64]

SIZES = (784, 512, 512, 10)
BATCH = 1024
LR = 0.1
TARGET = 1.3
DTYPES = ("float64", "float32")


# --- machine and environment -------------------------------------------------------------------


def _blas() -> str:
    """BLAS name and version from numpy's build config, plus threads and core from OpenBLAS."""
    try:
        config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        text = f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception:  # numpy < 1.25 has no mode="dicts"
        text = "unknown"
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-not-found]

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            pool = pools[0]
            return (
                f"{text}; {pool.get('internal_api')} {pool.get('version')}, "
                f"{pool.get('num_threads')} threads, core {pool.get('architecture')}"
            )
    except ImportError:
        pass
    return text + _openblas_runtime()


def _openblas_runtime() -> str:
    """Threads and core type straight from numpy's bundled OpenBLAS, when it is one."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libs / "*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            try:
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
                core = getattr(lib, f"{prefix}_get_corename{suffix}")
            except AttributeError:
                continue
            threads.restype = ctypes.c_int
            core.restype = ctypes.c_char_p
            return f"; {threads()} threads, core {core().decode()}"
    return ""


def header(title: str) -> str:
    env = {
        k: os.environ.get(k, "(unset)") for k in ("PYTHONDONTWRITEBYTECODE", "OPENBLAS_CORETYPE")
    }
    threads = {
        k: os.environ[k]
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    }
    lines = [
        title,
        f"  cpu      {cpu_model()}, nproc {len(os.sched_getaffinity(0))}",
        f"  python   {platform.python_version()} ({sys.executable})",
        f"  numpy    {np.__version__}, BLAS {_blas()}",
        "  env      " + ", ".join(f"{k}={v}" for k, v in {**env, **threads}.items()),
    ]
    return "\n".join(lines)


# --- the network and its YAML text -------------------------------------------------------------


def make_yaml(seed: int, batch: int = BATCH) -> str:
    """A layered 784-512-512-10 spec: He-initialised weights, zero biases, inputs in [0, 1) and
    one-hot targets over 10 classes; every float written at full (round-trip) precision."""
    rng = np.random.default_rng(seed)

    def flow(values: Array) -> str:
        return "[" + ", ".join(map(repr, values.tolist())) + "]"

    lines = [
        f"title: {'-'.join(map(str, SIZES))} ReLU classifier, batch of {batch}",
        "loss: softmax_cross_entropy",
        "reduction: mean",
        f"learning_rate: {LR}",
        "layers:",
    ]
    last = len(SIZES) - 2
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES)):
        weights = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        lines.append("  - weights:")
        lines.extend(f"      - {flow(row)}" for row in weights)
        lines.append(f"    bias: {flow(np.zeros(fan_out))}")
        lines.append(f"    activation: {'identity' if k == last else 'relu'}")
    inputs = rng.random((batch, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=batch)
    lines.append("data:")
    for row, label in zip(inputs, labels, strict=True):
        target = ["0"] * SIZES[-1]
        target[int(label)] = "1"
        lines.append(f"  - {{inputs: {flow(row)}, target: [{', '.join(target)}]}}")
    return "\n".join(lines) + "\n"


# --- the step and its floor --------------------------------------------------------------------


def step(spec: nncalc.Spec, dtype: str = "float64") -> nncalc.BackpropResult:
    return nncalc.backprop(spec, lr=LR, input_gradients=False, loss_after=False, dtype=dtype)


def gemm_floor(spec: nncalc.Spec, result: nncalc.BackpropResult) -> Callable[[], None]:
    """The step's eight matrix products on its own operands (in its dtype), into preallocated
    outputs.

    Checks on the way that the products are the step's: each ∂L/∂W equals the step's gradient.
    """
    dtype = result.theta.dtype
    net = network_of(spec, str(dtype))
    params = net.params(net.theta)
    w1, w2, w3 = (np.ascontiguousarray(params[f"W{k}"]) for k in (1, 2, 3))
    x, z1, z2 = (np.ascontiguousarray(a) for a in result.post[:3])
    d1, d2, d3 = (np.ascontiguousarray(d) for d in result.deltas)
    a1, a2 = np.empty((BATCH, SIZES[1]), dtype), np.empty((BATCH, SIZES[2]), dtype)
    a3 = np.empty((BATCH, SIZES[3]), dtype)
    g1, g2, g3 = np.empty_like(w1), np.empty_like(w2), np.empty_like(w3)
    b2, b1 = np.empty_like(z2), np.empty_like(z1)

    def floor() -> None:
        np.matmul(x, w1.T, out=a1)
        np.matmul(z1, w2.T, out=a2)
        np.matmul(z2, w3.T, out=a3)
        np.matmul(d3.T, z2, out=g3)
        np.matmul(d3, w3, out=b2)
        np.matmul(d2.T, z1, out=g2)
        np.matmul(d2, w2, out=b1)
        np.matmul(d1.T, x, out=g1)

    floor()
    assert all(a.dtype == dtype for a in (x, z1, z2, d1, d2, d3, w1, w2, w3)), "mixed dtypes"
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-4, 1e-6)
    gradients = result.gradients
    for name, mine in (("W1", g1), ("W2", g2), ("W3", g3)):
        theirs = gradients[name]
        if not np.allclose(mine, theirs, rtol=rtol, atol=atol):
            raise SystemExit(f"the floor's ∂L/∂{name} differs from the step's: not the same maths")
    pre = result.pre
    for k, mine in enumerate((a1, a2, a3)):
        bias = params[f"b{k + 1}"]
        if not np.allclose(mine + bias, pre[k], rtol=rtol, atol=atol):
            raise SystemExit(f"the floor's pre-activations of layer {k + 1} differ from the step's")
    return floor


def gemm_flops(batch: int = BATCH) -> int:
    """Floating-point operations of the eight products: 2·m·n·k each."""
    pairs = list(itertools.pairwise(SIZES))
    forward = sum(2 * batch * n_in * n_out for n_in, n_out in pairs)
    back = sum(2 * batch * n_in * n_out for n_in, n_out in pairs[1:])  # not to the inputs
    return 2 * forward + back  # forward, ∂L/∂W (same size), back-propagation


def against_floor(spec: nncalc.Spec, dtype: str, pairs: int, target: float) -> bool:
    """Time the step against its GEMM floor in `dtype`, alternating; print and judge the ratio."""
    first = step(spec, dtype)  # lowers the spec (cached per spec and dtype), warms BLAS up
    floor = gemm_floor(spec, first)
    del first
    for _ in range(2):
        step(spec, dtype)
        floor()
    gc.collect()
    ratios: list[float] = []
    step_times: list[float] = []
    floor_times: list[float] = []
    for i in range(pairs):
        if i % 2:
            t_step = timed(lambda: step(spec, dtype))
            t_floor = timed(floor)
        else:
            t_floor = timed(floor)
            t_step = timed(lambda: step(spec, dtype))
        ratios.append(t_step / t_floor)
        step_times.append(t_step)
        floor_times.append(t_floor)
    q1, ratio, q3 = quartiles(ratios)
    print()
    print(f"training step vs GEMM floor, {dtype} ({pairs} alternating pairs)")
    floor_median = statistics.median(floor_times)
    print(
        f"  GEMM floor (8 products)  median {ms(floor_median)}  "
        f"({gemm_flops() / floor_median / 1e9:.0f} GFLOP/s)"
    )
    print(f"  nncalc.backprop step     median {ms(statistics.median(step_times))}")
    print(f"  ratio step/floor         median {ratio:.3f}  (quartiles {q1:.3f} … {q3:.3f})")
    passed = ratio <= target
    print(f"  target ≤ {target:g}: {'PASS' if passed else 'FAIL'}")
    return passed


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


# --- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20, help="floor/step pairs (default 20)")
    parser.add_argument(
        "--loads", type=int, default=3, help="YAML loads, each paired with steps (default 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="numpy RNG seed (default 0)")
    parser.add_argument("--target", type=float, default=TARGET, help="ratio target (1.3)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="re-run with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to this (default: as is)",
    )
    parser.add_argument(
        "--dtype", choices=(*DTYPES, "both"), default="both", help="the step's float type (both)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 10 steps")
    args = parser.parse_args(argv)
    if args.pairs < 2 or args.loads < 1:
        parser.error("--pairs must be at least 2 and --loads at least 1")
    pin_blas_threads(args.blas_threads, __file__, argv)

    print(header("nncalc train_step benchmark"))
    print(
        f"  network  {'-'.join(map(str, SIZES))}, ReLU, softmax_cross_entropy, "
        f"batch {BATCH}, {args.dtype if args.dtype != 'both' else 'float64 and float32'}, "
        f"seed {args.seed}"
    )

    text = make_yaml(args.seed)
    spec = nncalc.load_spec(text)  # built once, not timed
    dtypes = DTYPES if args.dtype == "both" else (args.dtype,)
    results = [against_floor(spec, dtype, args.pairs, args.target) for dtype in dtypes]
    passed = all(results)

    # 2. YAML load vs one step: each load paired with the median of 3 steps right after it
    load_ratios: list[float] = []
    load_times: list[float] = []
    for _ in range(args.loads):
        t_load = timed(lambda: nncalc.load_spec(text))
        load_times.append(t_load)
        t_step = statistics.median(timed(lambda: step(spec)) for _ in range(3))
        load_ratios.append(t_load / t_step)
    load_ratio = statistics.median(load_ratios)
    share = load_ratio / (load_ratio + 1.0)
    print()
    print(f"YAML load vs one step ({args.loads} loads, {len(text) / 1e6:.1f} MB of YAML)")
    print(f"  nncalc.load_spec(text)   median {ms(statistics.median(load_times))}")
    print(f"  ratio load/step          median {load_ratio:.1f}  (all: ", end="")
    print(", ".join(f"{r:.1f}" for r in load_ratios) + ")")
    print(f"  load's share of load + one step: {share:.1%}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            step(spec)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print()
        print("cProfile of 10 steps, by own time")
        print(out.getvalue().rstrip())

    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
