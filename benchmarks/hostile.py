"""Hostile and huge inputs: each is refused or handled within 2 s of CPU and 200 MB of memory.

Every case runs the installed `nncalc` in a subprocess on a file written to a temporary folder;
the time is the child's CPU time (user + system, from `os.wait4`), which a busy shared machine
disturbs far less than wall time, and the memory its peak resident set. Beside each case the
same figures for `nncalc backprop examples/homework.yaml --format json` (the smallest job) are
measured in the same run, so a reader can tell the machine's state from the case's cost.

    python benchmarks/hostile.py [--runs 3] [--check]

The cases:
- billion laughs: nine levels of ten aliases each, 10⁹ values from 500 bytes;
- 100 000 nested flow sequences, and 100 000 nested flow mappings;
- a 50 MB file of numbers, and the same through standard input;
- a 50 MB file that is one comment;
- a named spec of 10 000 neurons in 100 levels, each fed by 4 neurons of the level below (40 000
  named weights, 1.6 MB of YAML): `forward` and `backprop` in JSON and in the table format;
- the same spec with one mistake (an unknown activation on the last neuron).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "examples" / "homework.yaml"
CPU_LIMIT = 2.0  # seconds
MEMORY_LIMIT = 200.0  # MB
MB = 2**20


def laughs(path: Path) -> None:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n")


def nested_sequences(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")


def nested_mappings(path: Path) -> None:
    path.write_text("{a: " * 100_000 + "1" + "}" * 100_000 + "\n")


def numbers(path: Path) -> None:
    rng = random.Random(0)
    with path.open("w") as f:
        f.write("inputs:\n  x1: [")
        while f.tell() < 50 * MB:
            f.write(", ".join(f"{rng.random():.15f}" for _ in range(10_000)) + ", ")
        f.write("0]\nneurons: {o: {from: {x1: 1}, activation: identity}}\ntarget: {o: 1}\n")


def comment(path: Path) -> None:
    with path.open("w") as f:
        f.write("# ")
        for _ in range(50):  # a megabyte at a time: this process stays small (see `run`)
            f.write("x" * MB)
        f.write("\ninputs: {x1: 1}\n")


def named(path: Path, *, mistake: bool = False) -> None:
    """10 000 neurons, 100 levels of 100, each fed by 4 neurons of the level below."""
    rng = random.Random(1)
    width, depth, fan_in = 100, 100, 4
    inputs = ", ".join(f"x{i}: {rng.random():.3f}" for i in range(width))
    params, neurons = ["params:"], ["neurons:"]
    below = [f"x{i}" for i in range(width)]
    w = 0
    for level in range(depth):
        here = []
        for j in range(width):
            sources = []
            for k in range(fan_in):
                w += 1
                params.append(f"  w{w}: {rng.uniform(-1, 1):.3f}")
                sources.append(f"{below[(j + k) % width]}: w{w}")
            activation = "tanh" if level < depth - 1 else "identity"
            name = f"h{level}_{j}"
            neurons.append(
                f"  {name}: {{from: {{{', '.join(sources)}}}, activation: {activation}}}"
            )
            here.append(name)
        below = here
    if mistake:
        neurons[-1] = neurons[-1].replace("activation: identity", "activation: identiti")
    target = ", ".join(f"{n}: 0.5" for n in below)
    text = [
        f"inputs: {{{inputs}}}",
        *params,
        *neurons,
        f"target: {{{target}}}",
        "learning_rate: 0.1",
    ]
    path.write_text("\n".join(text) + "\n")


def run(args: Sequence[str], stdin: Path | None = None) -> tuple[int, float, float, str]:
    """(exit code, CPU seconds, peak MB, first line of stderr) of one run.

    Linux carries a process's peak memory across exec, so a child's peak is at least this
    process's: the files are written in small pieces to keep it small.
    """
    with open(stdin or os.devnull, "rb") as feed:
        child = subprocess.Popen(
            args, stdin=feed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert child.stderr is not None
        err = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    first = err.decode(errors="replace").splitlines()[:1]
    return child.returncode, cpu, usage.ru_maxrss / 1024, first[0][:110] if first else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case; medians (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a case misses a limit")
    args = parser.parse_args(argv)
    nncalc = shutil.which("nncalc", path=str(Path(sys.executable).parent)) or "nncalc"
    print("nncalc hostile-input benchmark")
    print(f"  cpu      {cpu_model()}, nproc {len(os.sched_getaffinity(0))}")
    print(f"  nncalc   {nncalc}")
    print(f"  limits   {CPU_LIMIT:g} s of CPU, {MEMORY_LIMIT:g} MB peak (resident)")

    tmp = Path(tempfile.mkdtemp(prefix="nncalc-hostile-"))
    try:
        files: dict[str, Callable[[Path], None]] = {
            "laughs.yaml": laughs,
            "nested-seq.yaml": nested_sequences,
            "nested-map.yaml": nested_mappings,
            "numbers-50mb.yaml": numbers,
            "comment-50mb.yaml": comment,
            "named-10k.yaml": named,
            "named-10k-typo.yaml": lambda p: named(p, mistake=True),
        }
        for name, make in files.items():
            make(tmp / name)
        cases: list[tuple[str, list[str], Path | None]] = [
            ("billion laughs", ["backprop", "laughs.yaml"], None),
            ("100 000 nested sequences", ["backprop", "nested-seq.yaml"], None),
            ("100 000 nested mappings", ["backprop", "nested-map.yaml"], None),
            ("50 MB of numbers", ["backprop", "numbers-50mb.yaml"], None),
            ("50 MB of numbers on stdin", ["backprop", "-"], tmp / "numbers-50mb.yaml"),
            ("50 MB comment", ["backprop", "comment-50mb.yaml"], None),
            ("10 000 neurons: forward, json", ["forward", "named-10k.yaml", "-f", "json"], None),
            ("10 000 neurons: backprop, json", ["backprop", "named-10k.yaml", "-f", "json"], None),
            ("10 000 neurons: backprop, table", ["backprop", "named-10k.yaml"], None),
            ("10 000 neurons, one typo", ["backprop", "named-10k-typo.yaml"], None),
        ]
        os.chdir(tmp)
        baseline = [nncalc, "backprop", str(HOMEWORK), "-f", "json"]
        print()
        print(f"{'case':34} {'exit':>4} {'cpu s':>7} {'peak MB':>8} {'homework':>15}  result")
        failed = False
        for title, command, stdin in cases:
            runs, base = [], []
            for _ in range(args.runs):
                runs.append(run([nncalc, *command], stdin))
                base.append(run(baseline))
            code = runs[0][0]
            cpu = statistics.median(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            base_cpu = statistics.median(b[1] for b in base)
            base_peak = max(b[2] for b in base)
            ok = code in (0, 2) and cpu <= CPU_LIMIT and peak <= MEMORY_LIMIT
            failed |= not ok
            message = runs[0][3] if code else "handled"
            homework = f"{base_cpu:>6.2f} s {base_peak:>4.0f} MB"
            verdict = "PASS" if ok else "FAIL"
            print(f"{title:34} {code:>4} {cpu:>7.2f} {peak:>8.0f} {homework}  {verdict}  {message}")
    finally:
        os.chdir(ROOT)
        shutil.rmtree(tmp)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
