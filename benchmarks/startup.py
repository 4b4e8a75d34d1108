"""Start-up time of every command, against a floor app that does the unavoidable minimum.

    nncalc COMMAND … --format json    (the installed console script), and the table output
    python benchmarks/floor_app.py examples/homework.yaml     (typer + numpy + PyYAML, one line)

Each command's output path runs as a subprocess paired with a run of the floor app (who goes
first alternates); every round times one pair of each path, so a noisy spell of the shared
machine touches all of them alike. A path's figure is the median of its per-pair ratios
nncalc / floor: the JSON path has to reach ≤ 1.1, the table path (rich) ≤ 1.3. A command without
`--format` has a single plain-text path, held to the JSON target.

Then `python -X importtime` of each path (median over a few runs) lists, per command, the imports
the floor app does not make, with their self time: the candidates for lazy imports.

    python benchmarks/startup.py [--pairs 15] [--commands forward,backprop] [--check]

Exit status: 0, or with --check 1 when any path misses its target.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
SPEC = "examples/homework.yaml"
ANSWERS = "examples/homework-answers.yaml"
JSON_TARGET = 1.1
TABLE_TARGET = 1.3

PathName = Literal["json", "table"]
Output = Literal["json", "text", "files"]


class Case(NamedTuple):
    """One output path of one command: how to run it and what a good run looks like."""

    command: str
    path: PathName
    argv: tuple[str, ...]  # after the program
    output: Output  # stdout parses as JSON, is non-empty text, or the run writes files
    exits: tuple[int, ...] = (0,)  # check and gradcheck exit 1 for a wrong answer or gradient


def cases(spec: str, answers: str, scratch: Path) -> list[Case]:
    """Every command's JSON path and table path.

    graph has no JSON: its default Mermaid text is its machine-readable output, so it counts
    as the JSON path. schema prints JSON only; exercise and init write text of a fixed kind
    (exercise the spec and its Markdown key into a scratch folder, init the starter to stdout),
    which is their only path, held to the JSON target: none of them needs rich.
    """
    exercise = str(scratch / "exercise-1")
    both: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
        "forward": (("forward", spec), (0,)),
        "backprop": (("backprop", spec), (0,)),
        "train": (("train", spec, "--steps", "3"), (0,)),
        "explain": (("explain", spec), (0,)),
        "check": (("check", spec, answers), (0, 1)),
        "gradcheck": (("gradcheck", spec), (0, 1)),
        "activations": (("activations",), (0,)),
    }
    out: list[Case] = []
    for name, (argv, exits) in both.items():
        out.append(Case(name, "json", (*argv, "--format", "json"), "json", exits))
        out.append(Case(name, "table", argv, "text", exits))
    out += [
        Case("graph", "json", ("graph", spec), "text"),
        Case("schema", "json", ("schema",), "json"),
        Case("exercise", "json", ("exercise", "--seed", "1", "-o", exercise, "--force"), "files"),
        Case("init", "json", ("init", "-"), "text"),
    ]
    order = ["forward", "backprop", "train", "explain", "check", "gradcheck", "graph"]
    order += ["schema", "exercise", "activations", "init"]
    return sorted(out, key=lambda c: (order.index(c.command), c.path))


COMMANDS = tuple(dict.fromkeys(c.command for c in cases(SPEC, ANSWERS, Path())))


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
    tag = sys.implementation.cache_tag
    folders = [package, *(p for p in package.iterdir() if (p / "__init__.py").is_file())]
    sources = [s for folder in folders for s in folder.glob("*.py")]
    cached = sum((s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").is_file() for s in sources)
    return f"{cached} of {len(sources)} modules under {package} have a {tag} .pyc"


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


# --- running -----------------------------------------------------------------------------------


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


def run_once(command: Sequence[str], exits: Sequence[int] = (0,)) -> float:
    """Wall-clock seconds from start to exit of `command`, which must exit with one of `exits`."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in exits:
        message = done.stderr.decode(errors="replace")[-500:]
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {message}")
    return elapsed


def sanity(case: Case, command: list[str], scratch: Path) -> None:
    """The path works and prints (or writes) what it should; this also warms the file cache."""
    for old in scratch.iterdir():
        old.unlink()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    name = f"{case.command} ({case.path})"
    if done.returncode not in case.exits:
        raise SystemExit(f"{name}: exited {done.returncode}: {done.stderr[-500:]}")
    if case.output == "json":
        json.loads(done.stdout)
    elif case.output == "text" and not done.stdout.strip():
        raise SystemExit(f"{name}: printed nothing")
    elif case.output == "files" and len(list(scratch.iterdir())) != 2:
        raise SystemExit(f"{name}: expected the spec and its key in {scratch}")


def paired(
    runs: dict[Case, list[str]], floor: list[str], pairs: int
) -> dict[Case, tuple[list[float], list[float]]]:
    """Per case, (its times, the paired floor times): each round runs one pair of every case,
    alternating which of the two goes first."""
    times: dict[Case, tuple[list[float], list[float]]] = {c: ([], []) for c in runs}
    for i in range(pairs):
        for k, (case, command) in enumerate(runs.items()):
            if (i + k) % 2:
                tf = run_once(floor)
                tc = run_once(command, case.exits)
            else:
                tc = run_once(command, case.exits)
                tf = run_once(floor)
            times[case][0].append(tc)
            times[case][1].append(tf)
    return times


class Figure(NamedTuple):
    ratio: float  # median of the per-pair ratios
    q1: float
    q3: float
    median_s: float  # the command's median time, for orientation


def figure(times: list[float], floor: list[float]) -> Figure:
    ratios = [x / y for x, y in zip(times, floor, strict=True)]
    q1, ratio, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return Figure(ratio, q1, q3, statistics.median(times))


def print_figures(
    figures: dict[Case, Figure], floor_s: float, targets: dict[PathName, float], pairs: int
) -> list[Case]:
    """The compact table, one row per command; returns the cases that miss their target."""
    print()
    print(
        f"start-up vs floor app: median of {pairs} per-pair ratios (quartiles), median time; "
        f"targets JSON ≤ {targets['json']:g}, table ≤ {targets['table']:g}"
    )
    print(f"  {'command':<12} {'JSON path':<32} {'table path':<32}")
    missed: list[Case] = []
    for command in dict.fromkeys(c.command for c in figures):
        cells: list[str] = []
        for path in ("json", "table"):
            found = [(c, f) for c, f in figures.items() if c.command == command and c.path == path]
            if not found:
                cells.append("—")
                continue
            case, f = found[0]
            ok = f.ratio <= targets[path]
            if not ok:
                missed.append(case)
            cells.append(
                f"{f.ratio:.2f} ({f.q1:.2f}–{f.q3:.2f}) {f.median_s * 1e3:4.0f} ms "
                f"{'ok' if ok else 'MISS'}"
            )
        print(f"  {command:<12} {cells[0]:<32} {cells[1]:<32}")
    print(f"  {'floor app':<12} {floor_s * 1e3:.0f} ms (median of all its runs)")
    return missed


# --- -X importtime -----------------------------------------------------------------------------


def import_times(command: list[str], runs: int, exits: Sequence[int] = (0,)) -> dict[str, float]:
    """Module → median self time (µs) over `runs` runs with -X importtime."""
    samples: dict[str, list[int]] = {}
    for _ in range(runs):
        done = subprocess.run(
            python_command(command, "-X", "importtime"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode not in exits:
            raise SystemExit(f"-X importtime {' '.join(command)} exited {done.returncode}")
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = line[len("import time:") :].split("|", 2)
            samples.setdefault(name.strip(), []).append(int(self_us))
    return {name: statistics.median(xs) for name, xs in samples.items()}


def _own(name: str) -> bool:
    return name == "nncalc" or name.startswith("nncalc.")


def _extra_line(label: str, extra: dict[str, float], top: int) -> str:
    total = sum(extra.values()) / 1e3
    own = sum(s for n, s in extra.items() if _own(n)) / 1e3
    ranked = sorted(extra.items(), key=lambda kv: kv[1], reverse=True)[:top]
    names = ", ".join(f"{n} {s / 1e3:.1f}" for n, s in ranked)
    return f"    {label:<6} {len(extra):3d} modules {total:5.1f} ms (nncalc {own:4.1f})  {names}"


def print_imports(
    times: dict[Case, dict[str, float]], floor: set[str], runs: int, top: int
) -> None:
    """Per command, the imports the floor app does not make (the table path: those its JSON
    path does not make either), by self time; then the worst of them over all commands."""
    print()
    print(
        f"-X importtime (median self time of {runs} runs, ms): imports the floor app does not "
        f"make; 'table' lists only what the table path adds to the JSON path"
    )
    overall: dict[str, list[float]] = {}
    for command in dict.fromkeys(c.command for c in times):
        print(f"  {command}")
        by_path = {c.path: t for c, t in times.items() if c.command == command}
        json_modules = set(by_path.get("json", {}))
        for path, modules in by_path.items():
            skip = floor if path == "json" else floor | json_modules
            extra = {n: s for n, s in modules.items() if n not in skip}
            print(_extra_line(path, extra, top))
            for n, s in extra.items():
                overall.setdefault(n, []).append(s)
    ranked = sorted(overall.items(), key=lambda kv: max(kv[1]), reverse=True)[:12]
    print("  the slowest of them over all commands (largest self time, how many paths):")
    print("    " + ", ".join(f"{n} {max(s) / 1e3:.1f} ({len(s)})" for n, s in ranked))


def compile_cost(modules: set[str], floor: list[str]) -> tuple[int, float]:
    """(modules, median ratio) of compiling from source the installed nncalc modules the
    commands import, paired with runs of the floor app. Every start pays this for the modules
    it imports when no .pyc exists and PYTHONDONTWRITEBYTECODE forbids writing one."""
    package = _installed_package()
    sources: list[tuple[str, str]] = []
    for name in sorted(modules):
        if not _own(name):
            continue
        base = package.parent.joinpath(*name.split("."))
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


# --- main --------------------------------------------------------------------------------------


def _commands(value: str) -> list[str]:
    """--commands a,b: known command names, with the closest one named for a typo."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if name not in COMMANDS:
            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise argparse.ArgumentTypeError(
                f"unknown command {name!r}{hint}; the commands are {', '.join(COMMANDS)}"
            )
    if not names:
        raise argparse.ArgumentTypeError("name at least one command")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pairs", type=int, default=15, help="alternating pairs per path (default 15)"
    )
    parser.add_argument(
        "--commands",
        type=_commands,
        default=list(COMMANDS),
        help="comma-separated commands to time (default: all)",
    )
    parser.add_argument("--spec", default=SPEC, help=f"spec file, from the repo root ({SPEC})")
    parser.add_argument("--answers", default=ANSWERS, help=f"answers of check ({ANSWERS})")
    parser.add_argument(
        "--json-target", type=float, default=JSON_TARGET, help=f"JSON ratio target ({JSON_TARGET})"
    )
    parser.add_argument(
        "--table-target",
        type=float,
        default=TABLE_TARGET,
        help=f"table ratio target ({TABLE_TARGET})",
    )
    parser.add_argument(
        "--importtime-runs", type=int, default=3, help="-X importtime runs per path (default 3)"
    )
    parser.add_argument("--top", type=int, default=6, help="imports listed per path (default 6)")
    parser.add_argument("--check", action="store_true", help="exit 1 when any target is missed")
    args = parser.parse_args(argv)
    if args.pairs < 2 or args.importtime_runs < 1:
        parser.error("--pairs must be at least 2 and --importtime-runs at least 1")

    started = time.perf_counter()
    base = nncalc_command()
    floor = [sys.executable, str(FLOOR_APP), args.spec]
    with tempfile.TemporaryDirectory(prefix="nncalc-startup-") as folder:
        scratch = Path(folder)
        chosen = [c for c in cases(args.spec, args.answers, scratch) if c.command in args.commands]
        runs = {c: [*base, *c.argv] for c in chosen}
        print(header("nncalc start-up benchmark"))
        print(f"  nncalc   {' '.join(base)}")
        print(f"  floor    {' '.join(floor)}")
        for case, command in runs.items():
            sanity(case, command, scratch)
        run_once(floor)
        for case, command in runs.items():  # warm-up
            run_once(command, case.exits)

        times = paired(runs, floor, args.pairs)
        figures = {c: figure(*t) for c, t in times.items()}
        floor_s = statistics.median(t for _, fl in times.values() for t in fl)
        targets: dict[PathName, float] = {"json": args.json_target, "table": args.table_target}
        missed = print_figures(figures, floor_s, targets, args.pairs)
        print()
        if missed:
            print("MISSED: " + ", ".join(f"{c.command} ({c.path})" for c in missed))
        else:
            print("every path within its target")

        imports = {
            c: import_times(command, args.importtime_runs, c.exits) for c, command in runs.items()
        }
        floor_modules = set(import_times(floor, 1))
        print_imports(imports, floor_modules, args.importtime_runs, args.top)

    count, share = compile_cost({n for t in imports.values() for n in t}, floor)
    print(
        f"  compiling those {count} nncalc modules from source costs {share:.1%} of a floor "
        f"app start (median of 5 pairs); a start pays it for each module without a .pyc "
        f"({_bytecode_cache()})"
    )
    print(f"  (the whole run took {time.perf_counter() - started:.0f} s)")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
