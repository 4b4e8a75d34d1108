"""Start-up time of the command line, against a floor app that does the unavoidable minimum.

    nncalc backprop examples/homework.yaml --format json      (the installed console script)
    python benchmarks/floor_app.py examples/homework.yaml     (typer + numpy + PyYAML, one line)

The two run as subprocesses, alternating (who goes first alternates too), `--pairs` times; the
figure is the median of the per-pair ratios nncalc / floor. The target is ≤ 1.2 for the JSON
path; the table path (rich) is measured the same way and reported. The machine is shared and
noisy, so only ratios measured side by side are results; absolute times are for orientation.

Then `python -X importtime` of the JSON path (median over a few runs) lists the imports with the
largest self time, and the imports the floor app does not need.

    python benchmarks/startup.py [--pairs 30] [--check]

Exit status: 0, or with --check 1 when the JSON path misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
SPEC = "examples/homework.yaml"
TARGET = 1.2


# --- machine and environment -------------------------------------------------------------------


def _versions() -> str:
    """numpy, PyYAML (with or without libyaml) and typer, as the measured interpreter sees them."""
    code = (
        "import numpy, yaml, typer, rich; from importlib.metadata import version; "
        "print(f'numpy {numpy.__version__}, PyYAML {yaml.__version__} "
        "(libyaml {yaml.__with_libyaml__}), typer {typer.__version__}, "
        'rich {version("rich")}\')'
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def _installed_package() -> Path:
    """The nncalc package the console script imports (run outside the checkout, so that the
    checkout's own nncalc/ does not shadow the installed one)."""
    code = "import os, nncalc; print(os.path.dirname(nncalc.__file__))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    return Path(done.stdout.strip())


def _bytecode_cache() -> str:
    """Whether the installed nncalc's modules have a bytecode cache to start from; without one
    (and with PYTHONDONTWRITEBYTECODE set) every start compiles them from source."""
    package = _installed_package()
    cache = package / "__pycache__"
    tag = sys.implementation.cache_tag
    cached = len(list(cache.glob(f"*.{tag}.pyc"))) if cache.is_dir() else 0
    sources = len(list(package.glob("*.py")))
    return f"{cached} of {sources} {package}/*.py have a {tag} .pyc"


def header(title: str) -> str:
    env = {
        k: os.environ.get(k, "(unset)") for k in ("PYTHONDONTWRITEBYTECODE", "OPENBLAS_CORETYPE")
    }
    lines = [
        title,
        f"  cpu      {cpu_model()}, nproc {len(os.sched_getaffinity(0))}",
        f"  python   {platform.python_version()} ({sys.executable})",
        f"  libs     {_versions()}",
        "  env      " + ", ".join(f"{k}={v}" for k, v in env.items()),
        f"  cache    {_bytecode_cache()}",
    ]
    return "\n".join(lines)


# --- the commands ------------------------------------------------------------------------------


def nncalc_command() -> list[str]:
    """The installed console script next to the interpreter, else `python -m nncalc`."""
    script = Path(sys.executable).parent / ("nncalc.exe" if os.name == "nt" else "nncalc")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "nncalc"]


def python_command(command: list[str], *flags: str) -> list[str]:
    """`command` run by this interpreter with extra interpreter flags (e.g. -X importtime)."""
    if command[0] == sys.executable:
        return [sys.executable, *flags, *command[1:]]
    return [sys.executable, *flags, *command]  # a console script is a Python file


def run_once(command: Sequence[str]) -> float:
    """Wall-clock seconds from start to exit of `command`, which must succeed."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace")[-500:]
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {message}")
    return elapsed


def sanity(commands: dict[str, list[str]]) -> None:
    """Each command works and prints what it should (this also warms the file cache)."""
    for name, command in commands.items():
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{name}: exited {done.returncode}: {done.stderr[-500:]}")
        if "json" in name or name == "floor":
            json.loads(done.stdout)


def paired(a: list[str], b: list[str], pairs: int) -> tuple[list[float], list[float]]:
    """Wall-clock times of a and of b, run in pairs, alternating which runs first."""
    times_a: list[float] = []
    times_b: list[float] = []
    for i in range(pairs):
        if i % 2:
            tb = run_once(b)
            ta = run_once(a)
        else:
            ta = run_once(a)
            tb = run_once(b)
        times_a.append(ta)
        times_b.append(tb)
    return times_a, times_b


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def report(label: str, times: list[float], floor: list[float]) -> float:
    """Print both medians and the median of the per-pair ratios; return that ratio."""
    ratios = [x / y for x, y in zip(times, floor, strict=True)]
    q1, ratio, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    print(f"  {label:<24} median {ms(statistics.median(times))}")
    print(f"  {'floor app':<24} median {ms(statistics.median(floor))}")
    print(f"  {'ratio':<24} median {ratio:.3f}  (quartiles {q1:.3f} … {q3:.3f})")
    return ratio


# --- -X importtime -----------------------------------------------------------------------------


def import_times(command: list[str], runs: int) -> dict[str, tuple[float, float]]:
    """Module → (median self µs, median cumulative µs) over `runs` runs with -X importtime."""
    samples: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        done = subprocess.run(
            python_command(command, "-X", "importtime"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative, name = line[len("import time:") :].split("|", 2)
            samples.setdefault(name.strip(), []).append((int(self_us), int(cumulative)))
    return {
        name: (statistics.median(s for s, _ in xs), statistics.median(c for _, c in xs))
        for name, xs in samples.items()
    }


def compile_cost(modules: Sequence[str], floor: list[str]) -> tuple[int, float]:
    """(modules, median ratio) of compiling from source the nncalc modules a start imports,
    paired with runs of the floor app. Every start pays this when no .pyc exists and
    PYTHONDONTWRITEBYTECODE forbids writing one."""
    sources: list[tuple[str, str]] = []
    for name in modules:
        if name != "nncalc" and not name.startswith("nncalc."):
            continue
        base = ROOT.joinpath(*name.split("."))
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if path.is_file():
            sources.append((str(path), path.read_text(encoding="utf-8")))
    ratios: list[float] = []
    for _ in range(5):
        floor_time = run_once(floor)
        start = time.perf_counter()
        for filename, text in sources:
            compile(text, filename, "exec", dont_inherit=True)
        ratios.append((time.perf_counter() - start) / floor_time)
    return len(sources), statistics.median(ratios)


def print_imports(nncalc_times: dict[str, tuple[float, float]], floor: set[str], runs: int) -> None:
    print()
    print(f"-X importtime, JSON path: top 10 imports by self time (median of {runs} runs)")
    top = sorted(nncalc_times.items(), key=lambda kv: kv[1][0], reverse=True)[:10]
    print(f"  {'self':>8} {'cumulative':>11}  module")
    for name, (self_us, cumulative) in top:
        mark = "" if name in floor else "   (not imported by the floor app)"
        print(f"  {self_us / 1e3:6.1f} ms {cumulative / 1e3:8.1f} ms  {name}{mark}")
    extra = {n: t for n, t in nncalc_times.items() if n not in floor}
    total = sum(s for s, _ in extra.values())
    own = sum(s for n, (s, _) in extra.items() if n == "nncalc" or n.startswith("nncalc."))
    print(
        f"  imports the floor app does not make: {len(extra)} modules, {total / 1e3:.1f} ms self "
        f"time, of which nncalc's own {own / 1e3:.1f} ms"
    )
    others = sorted(
        ((n, s) for n, (s, _) in extra.items() if not n.startswith("nncalc")),
        key=lambda kv: kv[1],
        reverse=True,
    )
    if others:
        print("  the others: " + ", ".join(f"{n} {s / 1e3:.1f} ms" for n, s in others[:8]))


# --- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=30, help="alternating pairs (default 30)")
    parser.add_argument("--spec", default=SPEC, help=f"spec file, from the repo root ({SPEC})")
    parser.add_argument("--target", type=float, default=TARGET, help="JSON ratio target (1.2)")
    parser.add_argument(
        "--importtime-runs", type=int, default=5, help="-X importtime runs (default 5)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    if args.pairs < 2 or args.importtime_runs < 1:
        parser.error("--pairs must be at least 2 and --importtime-runs at least 1")

    base = nncalc_command()
    commands: dict[str, list[str]] = {
        "json": [*base, "backprop", args.spec, "--format", "json"],
        "table": [*base, "backprop", args.spec],
        "floor": [sys.executable, str(FLOOR_APP), args.spec],
    }
    print(header("nncalc start-up benchmark"))
    for name, command in commands.items():
        print(f"  {name:<8} {' '.join(command)}")
    sanity(commands)
    for command in commands.values():  # warm-up
        run_once(command)

    results: dict[str, float] = {}
    for name in ("json", "table"):
        times, floor = paired(commands[name], commands["floor"], args.pairs)
        print()
        print(f"{name} path vs floor app ({args.pairs} alternating pairs)")
        results[name] = report(f"nncalc --format {name}", times, floor)
    passed = results["json"] <= args.target
    print()
    print(
        f"JSON path ratio {results['json']:.3f}, target ≤ {args.target:g}: "
        f"{'PASS' if passed else 'FAIL'}   (table path ratio {results['table']:.3f})"
    )

    runs = args.importtime_runs
    nncalc_times = import_times(commands["json"], runs)
    floor_names = set(import_times(commands["floor"], 1))
    print_imports(nncalc_times, floor_names, runs)
    count, share = compile_cost(list(nncalc_times), commands["floor"])
    print(
        f"  compiling those {count} nncalc modules from source costs {share:.1%} of a floor "
        f"app start (median of 5 pairs); a start pays it for each module without a .pyc "
        f"({_bytecode_cache()})"
    )
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
