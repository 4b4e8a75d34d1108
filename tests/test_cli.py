"""The command line as a user meets it: `nncalc forward|backprop [SPEC]` in table and JSON format,
through typer's CliRunner (stdout and stderr kept apart) and, where a real pipe or terminal
matters, in a subprocess."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest
import typer.testing
from typer.testing import CliRunner, Result

import nncalc
import nncalc.engine
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
# Every example spec (answers files, examples/*-answers.yaml, are not specs).
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("-answers"))
HOMEWORK = ROOT / "examples" / "homework.yaml"
MAZUR = ROOT / "examples" / "mazur-sigmoid.yaml"
COMMANDS = ("forward", "backprop")
FORMATS = ("table", "json")

BACKWARD_KEYS = ("gradients", "frozen", "learning_rate", "updated", "loss_after", "input_gradients")
COMMON_KEYS = ("title", "loss", "outputs", "targets", "neurons", "params", "warnings")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?![\d.eE])")  # "-0" alone, not "-0.5" or "x-0"
NON_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)

runner = CliRunner()


# --- helpers --------------------------------------------------------------------------------------


def invoke(
    *args: str, stdin: str | None = None, env: dict[str, str | None] | None = None
) -> Result:
    return runner.invoke(app, list(args), input=stdin, env=env)


def ok(result: Result) -> Result:
    """The run succeeded cleanly: exit 0, no traceback anywhere."""
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    return result


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> dict[str, Any]:
    """Parse JSON, refusing the NaN / Infinity / -Infinity tokens Python would accept."""
    data = json.loads(text, parse_constant=_reject_constant)
    assert isinstance(data, dict)
    return data


def run_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = ok(invoke(*args, "--format", "json", stdin=stdin))
    assert result.stderr == "", "JSON mode puts warnings into the JSON, not on stderr"
    return strict_json(result.stdout)


def flat(value: Any) -> list[float]:
    """A param value (number, vector or matrix) as a flat list."""
    if isinstance(value, list):
        return [x for item in value for x in flat(item)]
    assert isinstance(value, float), value
    return [value]


def floats(data: Any) -> Iterator[float]:
    """Every float anywhere in the JSON data."""
    if isinstance(data, float):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from floats(value)
    elif isinstance(data, list):
        for value in data:
            yield from floats(value)


def write_spec(folder: Path, text: str, name: str = "net.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def loss_cell(table: str, loss_function: str) -> str:
    """The L column of the Loss table, its folded pieces joined."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(loss_function))
    pieces = []
    for line in lines[start:]:
        if not line.strip():
            break
        pieces.append(line.split()[-1])
    return "".join(pieces)


def visible(text: str) -> Counter[str]:
    """The characters a table shows, ignoring layout: spaces and the rule under the header."""
    return Counter(c for c in ANSI.sub("", text) if not c.isspace() and c != "─")


def set_terminal(monkeypatch: pytest.MonkeyPatch, is_terminal: bool) -> None:
    """Make CliRunner's stdout claim to be a terminal (or not), as it would in a shell."""
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: is_terminal)


@pytest.fixture
def fake_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    set_terminal(monkeypatch, True)


def test_strict_json_rejects_nan_and_infinity() -> None:
    for token in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not strict JSON"):
            strict_json(f'{{"x": {token}}}')
    assert strict_json('{"x": 1.5}') == {"x": 1.5}


# --- every example, every command, every format ---------------------------------------------------


def test_there_are_examples() -> None:
    assert HOMEWORK in EXAMPLES
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_runs(example: Path, command: str, fmt: str) -> None:
    result = ok(invoke(command, str(example), "--format", fmt))
    assert result.stdout.endswith("\n")
    if fmt == "json":
        data = strict_json(result.stdout)
        assert data["command"] == command
        assert data["source"] == str(example)
        assert result.stderr == ""
    else:
        title = strict_json(invoke(command, str(example), "-f", "json").stdout)["title"]
        assert result.stdout.startswith(f"{title} — {command}")
        assert "\x1b" not in result.stdout, "colour codes in output that is not a terminal"
        assert "…" not in result.stdout
        assert all(line.startswith("warning: ") for line in result.stderr.splitlines())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_backprop_json_has_the_documented_keys(example: Path) -> None:
    data = run_json("backprop", str(example))
    for key in (*COMMON_KEYS, *BACKWARD_KEYS):
        assert key in data, key
    assert isinstance(data["loss"], float)
    assert isinstance(data["warnings"], list)
    assert data["neurons"]
    for name, neuron in data["neurons"].items():
        for key in ("pre_activation", "activation", "delta"):
            assert key in neuron, (name, key)
    assert set(data["gradients"]) == set(data["params"])
    assert set(data["input_gradients"]) == set(data["inputs"])
    # every example gives a learning rate, so the step is made
    assert isinstance(data["learning_rate"], float)
    assert set(data["updated"]) == set(data["params"])
    assert isinstance(data["loss_after"], float)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_forward_json_has_no_backward_keys(example: Path) -> None:
    data = run_json("forward", str(example))
    for key in COMMON_KEYS:
        assert key in data, key
    for key in BACKWARD_KEYS:
        assert key not in data, key
    for neuron in data["neurons"].values():
        assert "pre_activation" in neuron
        assert "activation" in neuron
        assert "delta" not in neuron


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_forward_and_backprop_agree_on_the_forward_pass(example: Path) -> None:
    forward = run_json("forward", str(example))
    backprop = run_json("backprop", str(example))
    assert backprop["loss"] == forward["loss"]
    assert backprop["outputs"] == forward["outputs"]
    for name, neuron in forward["neurons"].items():
        assert backprop["neurons"][name]["activation"] == neuron["activation"]


# --- the learning rate ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_lr_overrides_the_spec(example: Path) -> None:
    lr = 0.125
    spec_step = run_json("backprop", str(example))
    data = run_json("backprop", str(example), "--lr", str(lr))
    assert spec_step["learning_rate"] != lr, "pick an --lr that differs from the spec's"
    assert data["learning_rate"] == lr
    frozen = set(data["frozen"])
    changed = False
    for name, value in data["params"].items():
        old, grad, new = flat(value), flat(data["gradients"][name]), flat(data["updated"][name])
        assert len(old) == len(grad) == len(new)
        for o, g, n in zip(old, grad, new, strict=True):
            expected = o if name in frozen else o - lr * g
            assert n == pytest.approx(expected, rel=1e-12, abs=1e-15), name
        changed |= new != flat(spec_step["updated"][name])
    assert changed, "--lr made no difference to the update"


def test_lr_in_the_table() -> None:
    out = ok(invoke("backprop", str(HOMEWORK), "--lr", "0.25")).stdout
    assert "updated = value − 0.25 × ∂L/∂param" in out
    assert "learning rate 0.25" in out
    # w1 = 2 − 0.25 · 2.2 = 1.45 (the spec's rate 1 would give −0.2)
    w1 = next(line for line in out.splitlines() if line.split()[:1] == ["w1"])
    assert w1.split() == ["w1", "2", "2.2", "1.45"]


def test_frozen_params_keep_their_value() -> None:
    example = ROOT / "examples" / "skip-shared.yaml"
    data = run_json("backprop", str(example))
    assert data["frozen"] == ["k"]
    assert data["gradients"]["k"] != 0
    assert data["updated"]["k"] == data["params"]["k"]
    out = ok(invoke("backprop", str(example))).stdout
    assert "(frozen)" in out


HOMEWORK_WITHOUT_LR = HOMEWORK.read_text(encoding="utf-8").replace("learning_rate: 1\n", "")


def test_no_learning_rate_json(tmp_path: Path) -> None:
    assert "learning_rate" not in HOMEWORK_WITHOUT_LR
    spec = write_spec(tmp_path, HOMEWORK_WITHOUT_LR)
    data = run_json("backprop", str(spec))
    assert data["learning_rate"] is None
    assert data["updated"] is None
    assert data["loss_after"] is None
    assert data["gradients"]["w1"] == pytest.approx(2.2)


def test_no_learning_rate_table(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, HOMEWORK_WITHOUT_LR)
    result = ok(invoke("backprop", str(spec)))
    notes = [line for line in result.stdout.splitlines() if "learning rate" in line.lower()]
    assert len(notes) == 1, notes
    assert "no update" in notes[0].lower() or "gradients only" in notes[0].lower()
    assert "updated" not in result.stdout
    assert "∂L/∂param" in result.stdout  # the gradients are still shown
    assert result.stderr == ""


@pytest.mark.parametrize("how", ["option", "spec"])
def test_a_learning_rate_of_zero_is_a_rate(tmp_path: Path, how: str) -> None:
    """0 is a learning rate (the step changes nothing), not 'no learning rate'."""
    if how == "option":
        spec, args = write_spec(tmp_path, HOMEWORK_WITHOUT_LR), ["--lr", "0"]
    else:
        spec, args = write_spec(tmp_path, HOMEWORK_WITHOUT_LR + "learning_rate: 0\n"), []
    data = run_json("backprop", str(spec), *args)
    assert data["learning_rate"] == 0.0
    assert data["updated"] == data["params"]
    assert data["loss_after"] == pytest.approx(data["loss"])


# --- precision ------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", [None, 1, 3, 10, 17])
def test_precision_sets_table_digits(precision: int | None) -> None:
    loss = run_json("forward", str(MAZUR))["loss"]
    args = [] if precision is None else ["--precision", str(precision)]
    out = ok(invoke("forward", str(MAZUR), *args)).stdout
    digits = 6 if precision is None else precision
    assert loss_cell(out, "half_squared_error") == f"{loss:.{digits}g}"


def test_precision_short_option_and_json_keeps_full_precision() -> None:
    full = run_json("backprop", str(MAZUR))
    rounded = run_json("backprop", str(MAZUR), "-p", "2")
    assert rounded == full
    assert (
        ok(invoke("backprop", str(MAZUR), "-p", "2")).stdout
        != ok(invoke("backprop", str(MAZUR))).stdout
    )


# --- where the spec comes from --------------------------------------------------------------------


def test_spec_defaults_to_net_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(HOMEWORK, tmp_path / "net.yaml")
    monkeypatch.chdir(tmp_path)
    data = run_json("backprop")
    assert data["source"] == "net.yaml"
    assert data["loss"] == pytest.approx(9.68)
    out = ok(invoke("forward")).stdout
    assert out.startswith("2-3-1 ReLU network (homework) — forward")


def test_missing_default_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("backprop")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "net.yaml: no such file\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_reads_stdin(command: str) -> None:
    text = HOMEWORK.read_text(encoding="utf-8")
    from_file = run_json(command, str(HOMEWORK))
    from_stdin = run_json(command, "-", stdin=text)
    assert from_stdin["source"] == "<stdin>"
    from_file.pop("source")
    from_stdin.pop("source")
    assert from_stdin == from_file
    table = ok(invoke(command, "-", stdin=text)).stdout
    assert table.startswith(f"2-3-1 ReLU network (homework) — {command}")


def test_version() -> None:
    result = ok(invoke("--version"))
    assert result.stdout == f"nncalc {nncalc.__version__}\n"
    assert result.stderr == ""


def test_help_lists_the_options() -> None:
    out = ok(invoke("backprop", "--help")).stdout
    for option in ("--lr", "--format", "-f", "--precision", "-p", "--debug"):
        assert option in out, option


# --- tables are for people ------------------------------------------------------------------------

MARKUP = """\
title: "net [v2] [bold red]loud[/]"
inputs: {"[i]x1": 1}
params: {"[u]w": 2}
neurons:
  "[bold]x": {from: {"[i]x1": "[u]w"}, activation: relu}
target: {"[bold]x": 1}
learning_rate: 0.5
"""


@pytest.mark.parametrize("command", COMMANDS)
def test_markup_looking_text_prints_literally(tmp_path: Path, command: str) -> None:
    spec = write_spec(tmp_path, MARKUP)
    out = ok(invoke(command, str(spec))).stdout
    assert out.startswith(f"net [v2] [bold red]loud[/] — {command}")
    for name in ("[i]x1", "[bold]x", "[u]w", "[i]x1·[u]w"):
        assert name in out, name
    assert "\x1b" not in out
    assert run_json(command, str(spec))["title"] == "net [v2] [bold red]loud[/]"


def test_markup_looking_text_prints_literally_in_colour(
    tmp_path: Path, fake_terminal: None
) -> None:
    spec = write_spec(tmp_path, MARKUP)
    env: dict[str, str | None] = {"NO_COLOR": None, "TERM": "xterm-256color", "COLUMNS": "120"}
    raw = ok(invoke("backprop", str(spec), env=env)).stdout
    assert "\x1b[" in raw, "a terminal gets colour (bold) codes"
    out = ANSI.sub("", raw)
    for text in ("net [v2] [bold red]loud[/] — backprop", "[i]x1", "[bold]x", "[u]w"):
        assert text in out, text


def test_no_colour_when_not_a_terminal_even_if_colour_is_forced() -> None:
    out = ok(invoke("backprop", str(HOMEWORK), env={"FORCE_COLOR": "1", "TERM": "xterm"})).stdout
    assert "\x1b" not in out


def test_no_colour_with_no_color_set(fake_terminal: None) -> None:
    env: dict[str, str | None] = {"NO_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "120"}
    out = ok(invoke("backprop", str(HOMEWORK), env=env)).stdout
    assert "\x1b" not in out
    assert "2-3-1 ReLU network (homework) — backprop" in out


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_narrow_terminal_folds_numbers(
    example: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env: dict[str, str | None] = {"COLUMNS": "40", "NO_COLOR": "1"}
    set_terminal(monkeypatch, False)
    wide = ok(invoke(command, str(example), "-p", "17", env=env)).stdout
    assert max(len(line) for line in wide.splitlines()) > 40, "not a test of folding"
    set_terminal(monkeypatch, True)
    narrow = ok(invoke(command, str(example), "-p", "17", env=env)).stdout
    assert "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 40
    # Nothing is cut or dropped: the same characters, only laid out on more lines.
    assert visible(narrow) == visible(wide)
    assert "\x1b" not in narrow


def test_a_folded_number_keeps_every_digit(fake_terminal: None) -> None:
    loss = run_json("forward", str(MAZUR))["loss"]
    env: dict[str, str | None] = {"COLUMNS": "40", "NO_COLOR": "1"}
    narrow = ok(invoke("forward", str(MAZUR), "-p", "17", env=env)).stdout
    cell = loss_cell(narrow, "half_square")
    assert cell == f"{loss:.17g}"
    assert len(cell) > 12, "the loss should need folding at this width"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_real_terminal(no_color: bool) -> None:
    import pty

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(COLUMNS="40", TERM="xterm-256color")
    if no_color:
        env["NO_COLOR"] = "1"
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "backprop", str(MAZUR), "-p", "17"],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert stderr == b""
    raw = b"".join(chunks).decode("utf-8")
    assert ("\x1b[" in raw) is not no_color
    out = ANSI.sub("", raw)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 40
    assert "2-2-2 sigmoid network" in out


# --- numbers that are awkward ---------------------------------------------------------------------

NEGATIVE_ZEROS = """\
inputs: {x1: 0, x2: -0.0}
params: {w: -1}
neurons:
  o: {from: {x1: w, x2: 1}, activation: identity}
target: {o: 0}
learning_rate: 0.5
"""


def test_negative_zero_spec_has_negative_zeros() -> None:
    """Precondition: the engine really produces −0.0 for this spec."""
    result = nncalc.backprop(nncalc.load_spec(NEGATIVE_ZEROS))
    assert np.signbit(result.pre_activation("o")).all()
    assert np.signbit(result.activation("o")).all()
    assert np.signbit(result.delta("o")).all()
    assert np.signbit(result.spec.inputs[0, 1])


@pytest.mark.parametrize("precision", ["1", "6", "17"])
@pytest.mark.parametrize("command", COMMANDS)
def test_negative_zero_is_never_printed(tmp_path: Path, command: str, precision: str) -> None:
    spec = write_spec(tmp_path, NEGATIVE_ZEROS)
    table = ok(invoke(command, str(spec), "-p", precision)).stdout
    assert not NEGATIVE_ZERO.search(table), table
    result = ok(invoke(command, str(spec), "-f", "json"))
    assert not re.search(r"-0\.0(?!\d)|-0(?![.\d])", result.stdout), result.stdout
    data = strict_json(result.stdout)
    zeros = [x for x in floats(data) if x == 0]
    assert zeros
    assert all(math.copysign(1.0, x) == 1.0 for x in zeros)
    assert data["neurons"]["o"]["pre_activation"] == 0.0


OVERFLOW = """\
inputs: {x1: 1}
params: {w1: 1e200}
neurons:
  o: {from: {x1: w1}, activation: identity}
target: {o: 0}
loss: squared_error
learning_rate: 0.1
"""

NOT_A_NUMBER = """\
inputs: {x1: 1e200, x2: 1e200}
params: {w1: 1e200, w2: -1e200}
neurons:
  o: {from: {x1: w1, x2: w2}, activation: identity}
target: {o: 0}
"""


@pytest.mark.parametrize("command", COMMANDS)
def test_overflow_is_null_with_a_warning(tmp_path: Path, command: str) -> None:
    spec = write_spec(tmp_path, OVERFLOW)
    data = run_json(command, str(spec))
    assert data["loss"] is None
    assert data["outputs"]["o"] == 1e200
    loss_warnings = [w for w in data["warnings"] if re.search(r"\bloss\b", w)]
    assert loss_warnings, data["warnings"]
    assert "null" in loss_warnings[0]
    if command == "backprop":
        assert data["loss_after"] is None
        assert any("loss_after" in w for w in data["warnings"])


def test_not_a_number_is_null_with_a_warning_naming_the_neuron(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, NOT_A_NUMBER)
    data = run_json("backprop", str(spec))
    assert data["neurons"]["o"]["pre_activation"] is None
    assert any("neurons.o.pre_activation" in w for w in data["warnings"]), data["warnings"]


@pytest.mark.parametrize("command", COMMANDS)
def test_overflow_in_the_table_warns_on_stderr(tmp_path: Path, command: str) -> None:
    spec = write_spec(tmp_path, OVERFLOW)
    result = ok(invoke(command, str(spec)))
    assert not NON_FINITE.search(result.stdout)
    warnings = result.stderr.splitlines()
    assert warnings
    assert all(line.startswith("warning: ") for line in warnings)
    assert any(re.search(r"\bloss\b", line) for line in warnings)
    json_warnings = run_json(command, str(spec))["warnings"]
    assert warnings == [f"warning: {w}" for w in json_warnings]


WARNED = """\
inputs: {x1: 1, x2: 0, spare: 3}
params: {w1: 0, unused: 1}
neurons:
  o: {from: {x1: w1, x2: 1}, activation: relu}
target: {o: 1}
"""


@pytest.mark.parametrize("command", COMMANDS)
def test_warnings_go_to_stderr_in_tables_and_into_json(tmp_path: Path, command: str) -> None:
    spec = write_spec(tmp_path, WARNED)
    data = run_json(command, str(spec))
    assert any("spare" in w for w in data["warnings"]), data["warnings"]
    assert any("unused" in w for w in data["warnings"]), data["warnings"]
    result = ok(invoke(command, str(spec)))
    assert result.stderr.splitlines() == [f"warning: {w}" for w in data["warnings"]]
    for warning in data["warnings"]:
        assert warning not in result.stdout


# --- pipes ----------------------------------------------------------------------------------------


def big_spec(folder: Path, samples: int = 200) -> Path:
    """A batch whose output is far larger than a pipe's buffer."""
    rows = [f"  - {{inputs: [{i / 100}, {-i / 50}], target: [{i % 3}]}}" for i in range(samples)]
    text = (
        "layers:\n"
        "  - weights: [[0.5, -0.4], [0.3, 0.8]]\n"
        "    activation: tanh\n"
        "  - weights: [[1.0, -0.5]]\n"
        "    activation: identity\n"
        "learning_rate: 0.1\n"
        "data:\n" + "\n".join(rows) + "\n"
    )
    return write_spec(folder, text)


def _shrink(fd: int) -> None:
    """Make the pipe's buffer as small as the system allows (Linux), so a write must block."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
    except (ImportError, AttributeError, OSError):
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("fmt", FORMATS)
def test_reader_gone_before_writing(fmt: str) -> None:
    """`nncalc … | head -1` where head has already gone: quiet, exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "backprop", str(HOMEWORK), "-f", fmt],
        stdout=write_end,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(write_end)
    _, stderr = process.communicate()
    assert b"Traceback" not in stderr
    assert stderr == b""
    assert process.returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("fmt", FORMATS)
def test_head_one(tmp_path: Path, fmt: str) -> None:
    """`nncalc … | head -1`: the reader takes one line and closes the pipe mid-output."""
    spec = big_spec(tmp_path)
    read_end, write_end = os.pipe()
    _shrink(write_end)
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "backprop", str(spec), "-f", fmt],
        stdout=write_end,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    _, stderr = process.communicate()
    if fmt == "json":
        assert first == b"{\n"
    else:
        assert first.decode().startswith(f"{spec} — backprop  (200 samples")
    assert b"Traceback" not in stderr
    assert stderr == b""
    assert process.returncode == 0


# --- internal errors ------------------------------------------------------------------------------


def _explode(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError("engine exploded\nin two lines")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", COMMANDS)
def test_internal_error_is_one_line_exit_70(
    monkeypatch: pytest.MonkeyPatch, command: str, fmt: str
) -> None:
    monkeypatch.setattr(nncalc.engine, "forward_pass", _explode)
    result = invoke(command, str(HOMEWORK), "-f", fmt)
    assert result.exit_code == 70, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for words in ("internal error", "RuntimeError", "engine exploded", "--debug"):
        assert words in result.stderr, words


def test_internal_error_with_debug_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nncalc.engine, "forward_pass", _explode)
    with pytest.raises(RuntimeError, match="engine exploded"):
        runner.invoke(app, ["backprop", str(HOMEWORK), "--debug"], catch_exceptions=False)


def test_internal_error_while_rendering_writes_nothing_to_stdout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nncalc.render import json_format, table_format

    monkeypatch.setattr(json_format, "render", _explode)
    monkeypatch.setattr(table_format, "render", _explode)
    for fmt in FORMATS:
        result = invoke("backprop", str(HOMEWORK), "-f", fmt)
        assert result.exit_code == 70
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1


def test_bad_input_in_json_mode_writes_nothing_to_stdout(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, HOMEWORK_WITHOUT_LR.replace("relu", "rleu", 1))
    for command in COMMANDS:
        result = invoke(command, str(spec), "-f", "json")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert "did you mean 'relu'?" in result.stderr
