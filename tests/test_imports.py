"""What a fresh interpreter imports: the JSON path never loads rich's console or tables (start-up
time matters for scripts), the table path does; and `python -m nncalc` works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nncalc

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "examples" / "homework.yaml"

# Runs the console-script entry point with the given arguments, then reports (on the last line of
# stderr, after whatever nncalc wrote there) its exit code and the rich modules it loaded.
DRIVER = """\
import json, os, sys
sys.argv = ["nncalc", *sys.argv[1:]]
if os.environ.get("FAKE_TTY"):  # as if standard output were a terminal
    sys.stdout.isatty = lambda: True
from nncalc.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
report = {
    "code": code,
    "rich": sorted(m for m in sys.modules if m == "rich" or m.startswith("rich.")),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("nncalc", "numpy")),
}
sys.stderr.write("\\n" + json.dumps(report) + "\\n")
"""


def drive(*args: str) -> tuple[str, dict[str, Any]]:
    """(stdout, report) of a fresh interpreter running `nncalc args…`."""
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    assert process.returncode in (0, 1), process.stderr
    assert "Traceback" not in process.stderr
    report = json.loads(process.stderr.splitlines()[-1])
    assert isinstance(report, dict)
    return process.stdout, report


@pytest.mark.parametrize("command", ["backprop", "forward"])
def test_json_path_does_not_import_rich(command: str) -> None:
    stdout, report = drive(command, str(HOMEWORK), "-f", "json")
    assert report["code"] == 0
    assert json.loads(stdout)["command"] == command  # it really ran
    assert "rich.table" not in report["rich"]
    assert "rich.console" not in report["rich"]


def test_table_path_to_a_pipe_does_not_import_rich() -> None:
    """Not a terminal: the table is laid out without rich (tests/test_render.py holds it equal
    to rich's)."""
    stdout, report = drive("backprop", str(HOMEWORK))
    assert report["code"] == 0
    assert stdout.startswith("2-3-1 ReLU network (homework) — backprop")
    assert report["rich"] == []


def test_a_table_on_a_terminal_imports_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: on a terminal (colour, folding) rich draws the table."""
    monkeypatch.setenv("FAKE_TTY", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    stdout, report = drive("backprop", str(HOMEWORK))
    assert report["code"] == 0
    assert "2-3-1 ReLU network (homework)" in stdout
    assert "rich.table" in report["rich"]
    assert "rich.console" in report["rich"]


def test_python_m_nncalc_version() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "nncalc", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert process.returncode in (0, 1), process.stderr
    assert process.stdout == f"nncalc {nncalc.__version__}\n"
    assert process.stderr == ""


def test_python_m_nncalc_runs_a_command() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "nncalc", "backprop", str(HOMEWORK), "-f", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    assert process.returncode in (0, 1), process.stderr
    assert json.loads(process.stdout)["loss"] == pytest.approx(9.68)


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["init", "-"], ["nncalc.engine", "nncalc.spec", "numpy"]),
        (["schema"], ["nncalc.engine", "nncalc.network"]),
        (["backprop", str(HOMEWORK), "-f", "json"], ["nncalc.optim", "nncalc.hand"]),
        (["train", str(HOMEWORK), "-n", "2", "-f", "json"], ["numpy.random", "nncalc.emit"]),
        (["graph", str(HOMEWORK)], ["nncalc.emit", "nncalc.optim"]),
        (["activations", "relu", "-f", "json"], ["nncalc.engine", "nncalc.network"]),
    ],
    ids=["init", "schema", "backprop", "train", "graph", "activations"],
)
def test_a_command_loads_only_what_it_uses(args: list[str], absent: list[str]) -> None:
    """Start-up is mostly imports: each of these modules costs milliseconds this command does
    not need (the engine for init, numpy.random for a full-batch run, the optimizers for plain
    SGD, file writing for a graph printed to standard output)."""
    _, report = drive(*args)
    assert report["code"] == 0
    loaded = set(report["modules"])
    assert not loaded & set(absent), sorted(loaded & set(absent))
