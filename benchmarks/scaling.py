"""How load time, step time and memory grow with the size of a network, in both spec forms.

Named form: a chain of layers of 10 named tanh neurons, each layer fully connected to the one
before (the first to 10 inputs), one weight param per edge and a bias param per neuron. N
neurons make N/10 layers, 10·N edges and 11·N params, so the edges grow linearly with N
(default N = 10, 100, 1 000, 10 000). Half squared error against 10 targets.

Layered form: a 4-layer MLP, w inputs, three hidden ReLU layers of w units and 10 outputs with
softmax cross-entropy (default w = 128, 256, 512, 1024, 2048), stepped on batches of 1, 32 and
1024 samples.

Each size runs in a fresh subprocess that reads the spec's YAML text from standard input and
times `nncalc.load_spec(text)`, the first training step (which lowers the spec for the engine)
and the median of the next few steps, each step being

    nncalc.backprop(spec, lr=0.1, input_gradients=False, loss_after=False)

A layered width is loaded once, with its largest batch (the weights are most of the text: at
w = 2048, 12.6 of 14.7 million numbers, some 90 s to parse on a shared 2-core VM); the smaller
batches are its first samples. Its peak memory is the subprocess's peak resident set size
(VmHWM) minus that of a baseline subprocess, run right before it, that imports the same modules
and loads nothing.

For the named form the figures are growth exponents between consecutive sizes,
log(t₂/t₁) / log(edges₂/edges₁), taken per round (the sizes of one round run side by side,
in alternating order) and then the median over rounds; an exponent above 1.2 is flagged as
super-linear, and the phase with the largest one is profiled. Absolute times are for
orientation.

    python benchmarks/scaling.py [--form both] [--neurons 10,100,1000,10000]
                                 [--widths 128,…,2048] [--batches 1,32,1024] [--rounds 3]
                                 [--blas-threads N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import itertools
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from machine import cpu_model, pin_blas_threads

WIDTH = 10  # neurons per layer of the named chain, and its inputs and outputs
CLASSES = 10  # outputs of the layered MLP
LR = 0.1
SUPER_LINEAR = 1.2
PHASES = ("load", "first", "step")
PHASE_TITLES = {"load": "load_spec", "first": "first step", "step": "step"}


# --- the specs as YAML text --------------------------------------------------------------------


class Size(NamedTuple):
    form: str  # "named" or "layered"
    size: int  # neurons, or the width
    edges: int  # weights: one per edge
    params: int  # weights and biases
    numbers: int  # numbers in the YAML text
    batches: tuple[int, ...]  # the batches stepped; the text holds the largest


def named_size(neurons: int) -> Size:
    """A chain of N/10 layers: 10·10 edges into each layer, one bias per neuron."""
    edges = WIDTH * neurons
    numbers = edges + neurons + 2 * WIDTH + 1  # weights, biases, inputs, targets, learning rate
    return Size("named", neurons, edges, edges + neurons, numbers, (1,))


@cache  # each round runs the same texts
def named_yaml(neurons: int, seed: int) -> str:
    """The chain in the named form: x1…x10 → n1…n10 → n11…n20 → …, weights w1…, biases b1…."""
    rng = np.random.default_rng(seed)
    weights = iter(rng.normal(0.0, WIDTH**-0.5, size=WIDTH * neurons).tolist())
    inputs = rng.random(WIDTH).tolist()
    targets = (rng.random(WIDTH) - 0.5).tolist()
    params: list[str] = []
    lines: list[str] = []
    previous = [f"x{i + 1}" for i in range(WIDTH)]
    edge = 0
    for first in range(1, neurons + 1, WIDTH):
        layer = [f"n{first + i}" for i in range(WIDTH)]
        for name in layer:
            terms: list[str] = []
            for source in previous:
                edge += 1
                params.append(f"  w{edge}: {next(weights)!r}")
                terms.append(f"{source}: w{edge}")
            params.append(f"  b{name[1:]}: 0.0")
            lines.append(
                f"  {name}: {{from: {{{', '.join(terms)}}}, bias: b{name[1:]}, activation: tanh}}"
            )
        previous = layer
    head = [
        f"title: named chain of {neurons} tanh neurons",
        "inputs: {" + ", ".join(f"x{i + 1}: {v!r}" for i, v in enumerate(inputs)) + "}",
        "params:",
    ]
    tail = [
        "target: {"
        + ", ".join(f"{o}: {v!r}" for o, v in zip(previous, targets, strict=True))
        + "}",
        "loss: half_squared_error",
        f"learning_rate: {LR}",
    ]
    return "\n".join([*head, *params, "neurons:", *lines, *tail]) + "\n"


def layered_size(width: int, batches: Sequence[int]) -> Size:
    shapes = [(width, width)] * 3 + [(CLASSES, width)]
    edges = sum(rows * cols for rows, cols in shapes)
    params = edges + sum(rows for rows, _ in shapes)
    numbers = params + 1 + max(batches) * (width + CLASSES)  # and the learning rate
    return Size("layered", width, edges, params, numbers, tuple(batches))


def layered_yaml(width: int, batch: int, seed: int) -> str:
    """The MLP: He-initialised weights, zero biases, inputs in [0, 1), one-hot targets; every
    float written with repr, so that the text reads back as the same numbers."""
    rng = np.random.default_rng(seed)
    lines = [
        f"title: {width}-{width}-{width}-{width}-{CLASSES} MLP, batch of {batch}",
        "loss: softmax_cross_entropy",
        f"learning_rate: {LR}",
        "layers:",
    ]
    for k, rows in enumerate((width, width, width, CLASSES)):
        weights = rng.normal(0.0, math.sqrt(2.0 / width), size=(rows, width))
        lines.append("  - weights:")
        lines.extend(f"      - {row}" for row in weights.tolist())
        lines.append(f"    bias: {[0.0] * rows}")
        lines.append(f"    activation: {'relu' if k < 3 else 'identity'}")
    inputs = rng.random((batch, width)).tolist()
    labels = rng.integers(0, CLASSES, size=batch).tolist()
    lines.append("data:")
    for row, label in zip(inputs, labels, strict=True):
        target = [0] * CLASSES
        target[label] = 1
        lines.append(f"  - {{inputs: {row}, target: {target}}}")
    return "\n".join(lines) + "\n"


def spec_text(size: Size, seed: int) -> str:
    if size.form == "named":
        return named_yaml(size.size, seed)
    return layered_yaml(size.size, max(size.batches), seed)


# --- the measuring subprocess ------------------------------------------------------------------


# Small specs of both forms, loaded and stepped once before timing, so that what the first use
# of a form imports or caches is not charged to the smallest size.
WARM_UP = (
    "inputs: {x1: 1}\nparams: {w: 0.5, b: 0.1}\n"
    "neurons: {n: {from: {x1: w}, bias: b, activation: tanh}}\ntarget: {n: 0.2}\n",
    "loss: softmax_cross_entropy\nlayers:\n"
    "  - {weights: [[0.1, 0.2], [0.3, 0.4]], bias: [0.0, 0.0], activation: relu}\n"
    "  - {weights: [[0.5, 0.6], [0.7, 0.8]], activation: identity}\n"
    "data:\n  - {inputs: [0.5, 0.25], target: [1, 0]}\n  - {inputs: [0.1, 0.9], target: [0, 1]}\n",
)
REPEAT_S = 0.3  # a small size is timed again until its runs add up to this
REPEAT_MAX = 200


def child(steps: int, batches: Sequence[int], profile: str | None) -> int:
    """Read a spec from stdin; print its times and counts as JSON (only the peak memory for
    empty input). With `profile`, print a cProfile of that phase after the JSON.

    Each of load_spec, the first step (on a fresh copy of the spec, so that it lowers it again)
    and the later steps is repeated until its runs add up to REPEAT_S; the medians are reported.
    A spec with `data` is stepped on its first b samples for each b in `batches`."""
    import nncalc

    def step(spec: nncalc.Spec) -> nncalc.BackpropResult:
        return nncalc.backprop(spec, lr=LR, input_gradients=False, loss_after=False)

    for warm in WARM_UP:
        step(nncalc.load_spec(warm))
    text = sys.stdin.read()
    if not text:
        print(json.dumps({"peak_kib": peak_kib()}))
        return 0
    profiler = cProfile.Profile()

    def repeat(name: str, fn: Callable[[], Any], at_least: int = 1) -> tuple[float, Any]:
        """The median time of `fn` over enough runs, and its last value."""
        times: list[float] = []
        while len(times) < at_least or not _enough(times):
            if name == profile:
                profiler.enable()
            start = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - start)
            if name == profile:
                profiler.disable()
        return statistics.median(times), value

    load, spec = repeat("load", partial(nncalc.load_spec, text))
    del text
    runs: dict[str, dict[str, float]] = {}
    for batch in batches if spec.batched else (1,):
        first, result = repeat("first", partial(_first_samples, spec, batch, step))
        step_s, _ = repeat("step", partial(step, result.spec), steps)
        runs[str(batch)] = {"first": first, "step": step_s, "loss": result.loss}
    if spec.form == "named":
        edges = sum(len(n.terms) for n in spec.neurons)
    else:
        edges = sum(int(np.size(spec.params[layer.weight])) for layer in spec.layers)
    report = {
        "load": load,
        "runs": runs,
        "edges": edges,
        "params": sum(int(np.size(v)) for v in spec.params.values()),
        "peak_kib": peak_kib(),
    }
    print(json.dumps(report))
    if profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
        print(out.getvalue().rstrip())
    return 0


def _first_samples(spec: Any, batch: int, step: Callable[[Any], Any]) -> Any:
    """One step on a new spec holding the first `batch` samples: a new spec is lowered again."""
    targets = None if spec.targets is None else spec.targets[:batch]
    return step(dataclasses.replace(spec, inputs=spec.inputs[:batch], targets=targets))


def _enough(times: list[float]) -> bool:
    return sum(times) >= REPEAT_S or len(times) >= REPEAT_MAX


class Measured(NamedTuple):
    report: dict[str, Any]
    peak_kib: int  # the subprocess's peak resident set size
    extra: str  # what it printed after the JSON (a profile)


def measure(
    text: str, steps: int, batches: Sequence[int] = (1,), profile: str | None = None
) -> Measured:
    """Run the measuring subprocess on `text` (empty: the baseline)."""
    command = [sys.executable, __file__, "--child", "--steps", str(steps)]
    command += ["--batches", ",".join(map(str, batches))]
    if profile:
        command += ["--profile-phase", profile]
    done = subprocess.run(command, input=text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace")[-500:]
        raise SystemExit(f"the measuring subprocess exited {done.returncode}: {message}")
    first, _, extra = done.stdout.decode().partition("\n")
    report = json.loads(first)
    return Measured(report, report.pop("peak_kib"), extra)


def peak_kib() -> int:
    """This process's peak RSS since it started: VmHWM, of its own memory map.

    Not ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss at exec, so a child
    of a parent holding 250 MB of YAML text would report at least that much.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- rounds and figures ------------------------------------------------------------------------


class Result(NamedTuple):
    load: float  # seconds
    first: dict[int, float]  # batch → seconds
    step: dict[int, float]
    peak_mb: float  # above the baseline

    def time(self, phase: str, batch: int = 1) -> float:
        return self.load if phase == "load" else getattr(self, phase)[batch]


def run_once(size: Size, steps: int, seed: int) -> Result:
    """One size in its subprocess, with a baseline run right before it."""
    text = spec_text(size, seed)
    baseline = measure("", steps)
    got = measure(text, steps, size.batches)
    del text
    report, runs = got.report, got.report["runs"]
    if (report["edges"], report["params"]) != (size.edges, size.params):
        raise SystemExit(
            f"{size.form} {size.size}: loaded {report['edges']} edges and {report['params']} "
            f"params, expected {size.edges} and {size.params}"
        )
    if not all(math.isfinite(run["loss"]) for run in runs.values()):
        raise SystemExit(f"{size.form} {size.size}: the loss is not finite")
    return Result(
        report["load"],
        {int(b): run["first"] for b, run in runs.items()},
        {int(b): run["step"] for b, run in runs.items()},
        (got.peak_kib - baseline.peak_kib) / 1024,
    )


def run_rounds(
    sizes: Sequence[Size], rounds: int, steps: int, seed: int
) -> list[dict[Size, Result]]:
    """Every size once per round, ascending, then descending in the next round."""
    per_round: list[dict[Size, Result]] = []
    for r in range(rounds):
        results: dict[Size, Result] = {}
        for size in sizes if r % 2 == 0 else reversed(sizes):
            got = results[size] = run_once(size, steps, seed)
            steps_text = ", ".join(
                f"batch {b} {seconds(got.first[b])} then {seconds(got.step[b])}" for b in got.step
            )
            print(
                f"  round {r + 1}  {size.form} {size.size:<6} load {seconds(got.load)}, "
                f"peak {got.peak_mb:.0f} MB; first step then step: {steps_text}",
                flush=True,
            )
        per_round.append(results)
    return per_round


def medians(size: Size, per_round: list[dict[Size, Result]]) -> Result:
    results = [rep[size] for rep in per_round]
    batches = results[0].step

    def median(phase: str, batch: int) -> float:
        return statistics.median(r.time(phase, batch) for r in results)

    return Result(
        median("load", 1),
        {b: median("first", b) for b in batches},
        {b: median("step", b) for b in batches},
        statistics.median(r.peak_mb for r in results),
    )


class Growth(NamedTuple):
    small: Size
    large: Size
    exponents: dict[str, float]  # phase → median over rounds


def growth(sizes: Sequence[Size], per_round: list[dict[Size, Result]]) -> list[Growth]:
    """log(t₂/t₁) / log(edges₂/edges₁) per consecutive pair of sizes, median over rounds."""
    out: list[Growth] = []
    for small, large in itertools.pairwise(sizes):
        scale = math.log(large.edges / small.edges)
        exponents = {
            p: statistics.median(
                math.log(rep[large].time(p) / rep[small].time(p)) / scale for rep in per_round
            )
            for p in PHASES
        }
        out.append(Growth(small, large, exponents))
    return out


def seconds(t: float) -> str:
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def named_table(sizes: Sequence[Size], per_round: list[dict[Size, Result]]) -> str:
    lines = [
        "| neurons | edges | params | load_spec | first step | step | step per edge | peak MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in sizes:
        r = medians(s, per_round)
        lines.append(
            f"| {s.size:,} | {s.edges:,} | {s.params:,} | {seconds(r.load)} | "
            f"{seconds(r.first[1])} | {seconds(r.step[1])} | "
            f"{r.step[1] / s.edges * 1e6:.2f} µs | {r.peak_mb:.0f} |"
        )
    return "\n".join(lines)


def growth_table(growths: list[Growth]) -> str:
    lines = [
        "| neurons | growth exponent of load_spec | of the first step | of a step |",
        "| --- | ---: | ---: | ---: |",
    ]
    for g in growths:
        cells = [
            f"**{e:.2f}** (super-linear)" if e > SUPER_LINEAR else f"{e:.2f}"
            for e in (g.exponents[p] for p in PHASES)
        ]
        lines.append(f"| {g.small.size:,} → {g.large.size:,} | {' | '.join(cells)} |")
    return "\n".join(lines)


def layered_table(sizes: Sequence[Size], per_round: list[dict[Size, Result]]) -> str:
    """One row per width: the load (with the largest batch), the step on each batch, the step's
    time per edge on the smallest batch and per edge and sample on the largest."""
    batches = sizes[0].batches
    small, large = min(batches), max(batches)
    lines = [
        "| width | params | YAML numbers | load_spec | per number | peak MB | "
        + " | ".join(f"step, batch {b}" for b in batches)
        + f" | per edge, batch {small} | per edge and sample, batch {large} |",
        "| ---: " * (8 + len(batches)) + "|",
    ]
    for s in sizes:
        r = medians(s, per_round)
        lines.append(
            f"| {s.size} | {s.params:,} | {s.numbers:,} | {seconds(r.load)} | "
            f"{r.load / s.numbers * 1e6:.1f} µs | {r.peak_mb:.0f} | "
            + " | ".join(seconds(r.step[b]) for b in batches)
            + f" | {r.step[small] / s.edges / small * 1e9:.0f} ns"
            f" | {r.step[large] / s.edges / large * 1e9:.2f} ns |"
        )
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def header() -> str:
    import nncalc

    env = {
        k: os.environ.get(k, "(unset)")
        for k in (
            "PYTHONDONTWRITEBYTECODE",
            "OPENBLAS_CORETYPE",
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
        )
    }
    return "\n".join(
        [
            "nncalc scaling benchmark",
            f"  cpu      {cpu_model()}, nproc {len(os.sched_getaffinity(0))}",
            f"  python   {platform.python_version()} ({sys.executable})",
            f"  libs     numpy {np.__version__}, nncalc {nncalc.__version__} "
            f"({Path(nncalc.__file__).parent})",
            "  env      " + ", ".join(f"{k}={v}" for k, v in env.items()),
        ]
    )


def _ints(value: str) -> list[int]:
    try:
        numbers = [int(x.replace("_", "")) for x in value.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {value!r}"
        ) from None
    if not numbers or min(numbers) < 1 or numbers != sorted(set(numbers)):
        raise argparse.ArgumentTypeError("expected increasing positive integers")
    return numbers


def profile_worst(growths: list[Growth], steps: int, seed: int, always: bool) -> None:
    """A cProfile (top 10 by own time) of the phase with the largest exponent, when that is
    super-linear (or always, with --profile), at the largest size: where a cost that grows
    faster than the edges shows most."""
    g, phase = max(((g, p) for g in growths for p in PHASES), key=lambda gp: gp[0].exponents[gp[1]])
    exponent = g.exponents[phase]
    if exponent <= SUPER_LINEAR and not always:
        print(f"no super-linear step (largest exponent {exponent:.2f}, {PHASE_TITLES[phase]})")
        return
    neurons = growths[-1].large.size
    print(
        f"largest exponent {exponent:.2f}: {PHASE_TITLES[phase]}, {g.small.size:,} → "
        f"{g.large.size:,} neurons. cProfile of {PHASE_TITLES[phase]} at {neurons:,} neurons, "
        "top 10 functions by own time:"
    )
    print(measure(named_yaml(neurons, seed), steps, profile=phase).extra)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--form", choices=("named", "layered", "both"), default="both")
    parser.add_argument(
        "--neurons", type=_ints, default=[10, 100, 1000, 10000], help="named: neuron counts"
    )
    parser.add_argument(
        "--widths", type=_ints, default=[128, 256, 512, 1024, 2048], help="layered: widths"
    )
    parser.add_argument("--batches", type=_ints, default=[1, 32, 1024], help="layered: batches")
    parser.add_argument("--rounds", type=int, default=3, help="named: rounds (default 3)")
    parser.add_argument("--layered-rounds", type=int, default=1, help="layered: rounds (default 1)")
    parser.add_argument(
        "--steps", type=int, default=3, help="timed steps after the first, at least (3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="numpy RNG seed (default 0)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="run with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to this (default: as is)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the worst named phase even if linear"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.steps, args.batches, args.profile_phase)
    if args.rounds < 1 or args.layered_rounds < 1 or args.steps < 1:
        parser.error("--rounds, --layered-rounds and --steps must be at least 1")
    if any(n % WIDTH for n in args.neurons):
        parser.error(f"--neurons must be multiples of {WIDTH} (layers of {WIDTH} neurons)")
    pin_blas_threads(args.blas_threads, __file__, argv)

    started = time.perf_counter()
    print(header())
    if args.form in ("named", "both"):
        print()
        print(f"named form: chains of layers of {WIDTH} tanh neurons, {args.rounds} rounds")
        named = [named_size(n) for n in args.neurons]
        per_round = run_rounds(named, args.rounds, args.steps, args.seed)
        growths = growth(named, per_round)
        print()
        print(named_table(named, per_round))
        if growths:
            print()
            print(growth_table(growths))
            print()
            profile_worst(growths, args.steps, args.seed, args.profile)
    if args.form in ("layered", "both"):
        print()
        print(
            f"layered form: w-w-w-w-{CLASSES} MLP, loaded once per width with a batch of "
            f"{max(args.batches)}, {args.layered_rounds} round(s)"
        )
        layered = [layered_size(w, args.batches) for w in args.widths]
        per_round = run_rounds(layered, args.layered_rounds, args.steps, args.seed)
        print()
        print(layered_table(layered, per_round))
    print()
    print(f"(the whole run took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
