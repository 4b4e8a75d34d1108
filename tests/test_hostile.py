"""Hostile files, streams and file writing, through the real command line.

Every command that reads a spec or an answers file meets bad files and odd streams; every command
that writes a file meets a target it may not replace and a write that fails half-way. Bad input
exits 2 with one line `FILE:LINE:COLUMN: message` (or `FILE: message` when the problem has no
place in the text), nothing on standard output and no traceback.

Covered elsewhere, and not repeated here:
- test_errors.py: `backprop` — a missing file, Latin-1 bytes located at the bad byte, columns in
  characters, a BOM before bad bytes, an empty spec, errors from standard input located, BOM with
  CRLF working and its positions; `forward` — a directory.
- test_check.py: the answers file missing, empty, not a mapping, invalid YAML.
- test_cli.py: `-` reads standard input (forward, backprop); a missing ./net.yaml; `backprop`
  (table, json) into `| head -1` and into a reader already gone, through `python -m nncalc`.
- test_emit.py: `backprop --emit-spec -o`: kept without --force, replaced with it, no temporary
  left; a directory as the target.
- test_init.py: `init` never replaces a file; a missing folder for `init`, `schema -o`,
  `backprop --emit-spec -o` and `graph --render`.
- test_schema.py, test_graph.py, test_plot.py: `schema -o`, `graph --render`, `train --plot` and
  `activations --plot` keep an existing file without --force and replace it with it; dot failing
  or too slow leaves no file.
- test_exercise.py: `exercise -o` with the key existing, --force; a missing folder.

Here: the other commands and cases above for every reader (forward, backprop, train, explain,
check's spec and answers file, gradcheck, graph), and a few through the library (load_spec,
check, write_new); `| head -1` for every command and format with the installed console script;
and for every writer a write that fails half-way (a file size limit, a failing rename, a
read-only folder), a directory as the target and a missing folder.
"""

from __future__ import annotations

import builtins
import errno
import io
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from typer.testing import CliRunner, Result

import nncalc
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK_TEXT = (ROOT / "examples" / "homework.yaml").read_text(encoding="utf-8")
SCRIPT = Path(sys.executable).with_name("nncalc")  # the installed console script
HEAD = shutil.which("head")
DOT = shutil.which("dot")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LOCATED = re.compile(r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)")

# The homework network's numbers, by hand: a_h1 = 1·2 + 2·1 = 4; a_h2 = 1·1 + 2·(−1) = −1, so
# z_h2 = relu(−1) = 0; a_h3 = 1·1 + 2·1 = 3; ŷ = a_o = 4·(−0.5) + 0·1 + 3·1.2 = 1.6;
# L = ½(6 − 1.6)² = 9.68; δ_o = −(6 − 1.6) = −4.4; δ_h1 = relu′(4)·w7·δ_o = (−0.5)(−4.4) = 2.2,
# so ∂L/∂w1 = δ_h1·x1 = 2.2 and w1 ← 2 − 1·2.2 = −0.2; δ_h2 = 0 (dead), so ∂L/∂w3 = 0.
RIGHT_ANSWERS = "a.h1: 4\nz.h2: 0\nloss: 9.68\ngrad.w3: 0\ngrad.w1: 2.2\nnew.w1: -0.2\n"
BAD_SPEC = HOMEWORK_TEXT.replace("activation: relu", "activation: rleu", 1)
BAD_ANSWERS = "a.h1: 4\nz.h2: zero\n"

runner = CliRunner()


# --- helpers ------------------------------------------------------------------------------------


def one_line(stderr: str) -> str:
    """The single line a refusal writes: no traceback, no second line."""
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def refusal(code: int, stdout: str | bytes, stderr: str) -> str:
    """Exit 2, nothing on standard output: the one line on standard error."""
    assert code == 2, (code, stderr)
    assert not stdout, stdout
    return one_line(stderr)


def rejected(result: Result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return refusal(result.exit_code, result.stdout, result.stderr)


def assert_unlocated(line: str, source: str, *words: str) -> None:
    """`FILE: message`: the problem has no place inside the text."""
    assert line.startswith(f"{source}: "), line
    assert not LOCATED.fullmatch(line), line
    for word in words:
        assert word in line, (word, line)


def assert_located(line: str, source: str, where: tuple[int, int], *words: str) -> None:
    """`FILE:LINE:COLUMN: message` at the 1-based place `where`."""
    assert line.startswith(f"{source}:{where[0]}:{where[1]}: "), (where, line)
    for word in words:
        assert word in line, (word, line)


def position(text: str, line: int, token: str) -> tuple[int, int]:
    """(line, column), 1-based, of the first `token` on `line` of `text`."""
    return line, text.splitlines()[line - 1].index(token) + 1


def invoke(*args: str, stdin: bytes | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


class Reader(NamedTuple):
    """A command reading one file: its arguments around that file, and what it calls it."""

    name: str
    argv: Callable[[str], list[str]]
    noun: str  # "spec" or "answers file", as the empty-file message says
    bad: str  # a file holding one mistake
    where: tuple[int, int]  # where that mistake is
    good: str  # a file that works


SPEC_READER = {"noun": "spec", "bad": BAD_SPEC, "good": HOMEWORK_TEXT}
AT_RLEU = position(BAD_SPEC, 7, "rleu")
READERS = [
    Reader("forward", lambda p: ["forward", p], where=AT_RLEU, **SPEC_READER),
    Reader("backprop", lambda p: ["backprop", p], where=AT_RLEU, **SPEC_READER),
    Reader(
        "train", lambda p: ["train", p, "-n", "2", "--lr", "0.01"], where=AT_RLEU, **SPEC_READER
    ),
    Reader("explain", lambda p: ["explain", p], where=AT_RLEU, **SPEC_READER),
    Reader("check-spec", lambda p: ["check", p, "answers.yaml"], where=AT_RLEU, **SPEC_READER),
    Reader(
        "check-answers",
        lambda p: ["check", "spec.yaml", p],
        noun="answers file",
        bad=BAD_ANSWERS,
        where=position(BAD_ANSWERS, 2, "zero"),
        good=RIGHT_ANSWERS,
    ),
    Reader("gradcheck", lambda p: ["gradcheck", p], where=AT_RLEU, **SPEC_READER),
    Reader("graph", lambda p: ["graph", p], where=AT_RLEU, **SPEC_READER),
]


def readers(*covered: str) -> list[Any]:
    """Every reader as a test parameter, less those a test elsewhere covers already."""
    return [pytest.param(r, id=r.name) for r in READERS if r.name not in covered]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder holding a good spec and good answers for the other file of
    `check`, so messages name files as given on the command line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(HOMEWORK_TEXT, encoding="utf-8")
    (tmp_path / "answers.yaml").write_text(RIGHT_ANSWERS, encoding="utf-8")
    return tmp_path


def put(name: str, content: bytes) -> str:
    Path(name).write_bytes(content)
    return name


def test_the_good_files_work(folder: Path) -> None:
    """The baseline the cases below break: every reader takes its good file (exit 0)."""
    for reader in READERS:
        result = invoke(*reader.argv(put("x.yaml", reader.good.encode())))
        assert result.exit_code == 0, (reader.name, result.stderr)
        assert result.stderr == "", (reader.name, result.stderr)
        assert result.stdout


# --- files that cannot be read ------------------------------------------------------------------


@pytest.mark.parametrize("reader", readers("backprop", "check-answers"))
def test_missing_file(folder: Path, reader: Reader) -> None:
    line = rejected(invoke(*reader.argv("nope.yaml")))
    assert line == "nope.yaml: no such file"


@pytest.mark.parametrize("reader", readers("forward"))
def test_a_directory(folder: Path, reader: Reader) -> None:
    (folder / "specs.yaml").mkdir()
    assert_unlocated(rejected(invoke(*reader.argv("specs.yaml"))), "specs.yaml", "directory")


@pytest.mark.skipif(AS_ROOT, reason="root reads a file whatever its mode; see the simulation")
@pytest.mark.parametrize("reader", readers())
def test_unreadable_file(folder: Path, reader: Reader) -> None:
    locked = Path(put("locked.yaml", reader.good.encode()))
    locked.chmod(0)
    try:
        line = rejected(invoke(*reader.argv("locked.yaml")))
    finally:
        locked.chmod(0o644)
    assert_unlocated(line, "locked.yaml", "permission denied")


def deny_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, opening a file named locked.yaml raises PermissionError, as chmod 000 does
    for anyone but root: at open() and at pathlib's readers, whichever the loader goes through.
    Returns the list of the attempts."""
    tried: list[str] = []

    def guard(path: Any) -> None:
        if isinstance(path, str | os.PathLike) and Path(path).name == "locked.yaml":
            tried.append(str(path))
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

    real_open = builtins.open
    real_read_bytes = pathlib.Path.read_bytes
    real_read_text = pathlib.Path.read_text

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        guard(file)
        return real_open(file, *args, **kwargs)

    def fake_read_bytes(self: pathlib.Path) -> bytes:
        guard(self)
        return real_read_bytes(self)

    def fake_read_text(self: pathlib.Path, *args: Any, **kwargs: Any) -> str:
        guard(self)
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(pathlib.Path, "read_bytes", fake_read_bytes)
    monkeypatch.setattr(pathlib.Path, "read_text", fake_read_text)
    return tried


@pytest.mark.parametrize("reader", readers())
def test_unreadable_file_simulated(
    folder: Path, reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    put("locked.yaml", reader.good.encode())
    tried = deny_reading(monkeypatch)
    line = rejected(invoke(*reader.argv("locked.yaml")))
    assert tried, "the file was never opened"
    assert_unlocated(line, "locked.yaml", "permission denied")


# --- what a file holds --------------------------------------------------------------------------


@pytest.mark.parametrize("reader", readers("backprop", "check-answers"))
def test_empty_file(folder: Path, reader: Reader) -> None:
    line = rejected(invoke(*reader.argv(put("x.yaml", b""))))
    assert_located(line, "x.yaml", (1, 1), f"the {reader.noun} is empty")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


@pytest.mark.parametrize("reader", readers())
def test_an_image(folder: Path, reader: Reader) -> None:
    """A PNG's first byte, 0x89, is no UTF-8 start byte."""
    line = rejected(invoke(*reader.argv(put("x.yaml", PNG))))
    assert_located(line, "x.yaml", (1, 1), "not UTF-8")


@pytest.mark.parametrize(
    ("content", "where"),
    [
        pytest.param(b"inputs: {x1: 1}\n\x00\n", (2, 1), id="nul-on-line-2"),
        pytest.param(b"\x00\x00\x00\x01", (1, 1), id="nul-first"),
        pytest.param(b"title: ab\x00c\n", (1, 10), id="nul-mid-line"),
    ],
)
@pytest.mark.parametrize("reader", readers())
def test_nul_bytes_are_located(
    folder: Path, reader: Reader, content: bytes, where: tuple[int, int]
) -> None:
    """A NUL byte is placed like any other bad character, in the file's own words (not the
    YAML parser's '"<unicode string>", position 16')."""
    line = rejected(invoke(*reader.argv(put("x.yaml", content))))
    assert_located(line, "x.yaml", where)
    assert "<unicode string>" not in line, line


@pytest.mark.parametrize(
    ("eol", "where"),
    [pytest.param("\r\n", (2, 11), id="crlf"), pytest.param("\r", (2, 11), id="cr")],
)
@pytest.mark.parametrize("reader", readers())
def test_latin1_is_located_whatever_the_line_ends(
    folder: Path, reader: Reader, eol: str, where: tuple[int, int]
) -> None:
    """'é' in Latin-1 is the byte 0xE9, the 11th character of line 2; a lone CR ends a line in
    YAML, so it does here too."""
    text = f"inputs: {{x1: 1}}{eol}title: café{eol}"
    line = rejected(invoke(*reader.argv(put("x.yaml", text.encode("latin-1")))))
    assert_located(line, "x.yaml", where, "not UTF-8")


@pytest.mark.parametrize("reader", readers("backprop"))
def test_latin1(folder: Path, reader: Reader) -> None:
    line = rejected(invoke(*reader.argv(put("x.yaml", "title: café\n".encode("latin-1")))))
    assert_located(line, "x.yaml", (1, 11), "not UTF-8")


ASCII_SPEC = "inputs: {x1: 1}\n"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(ASCII_SPEC.encode("utf-16"), id="utf16-bom"),
        pytest.param(ASCII_SPEC.encode("utf-16-le"), id="utf16le-no-bom"),
        pytest.param(ASCII_SPEC.encode("utf-16-be"), id="utf16be-no-bom"),
        pytest.param(ASCII_SPEC.encode("utf-32"), id="utf32-bom"),
    ],
)
@pytest.mark.parametrize("reader", readers())
def test_utf16_and_utf32_say_utf8_is_needed(folder: Path, reader: Reader, content: bytes) -> None:
    """A file saved as 'Unicode' (UTF-16) is told to be saved as UTF-8, with or without a BOM:
    ASCII text in UTF-16 is every other byte NUL, which decodes as UTF-8 but is no YAML."""
    line = rejected(invoke(*reader.argv(put("x.yaml", content))))
    assert line.startswith("x.yaml:"), line
    assert "UTF-8" in line, line


def line_ends(text: str, style: str) -> bytes:
    """`text` saved with a BOM, CRLF or lone CR line ends."""
    if style == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    return text.replace("\n", {"crlf": "\r\n", "cr": "\r"}[style]).encode()


STYLES = ["bom", "crlf", "cr"]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("reader", readers())
def test_bom_and_line_ends_work(folder: Path, reader: Reader, style: str) -> None:
    """The same output as the plain file, to the byte (same name, so the same source)."""
    plain = invoke(*reader.argv(put("x.yaml", reader.good.encode())))
    assert plain.exit_code == 0, plain.stderr
    other = invoke(*reader.argv(put("x.yaml", line_ends(reader.good, style))))
    assert (other.exit_code, other.stdout, other.stderr) == (0, plain.stdout, plain.stderr)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("reader", readers())
def test_positions_with_a_bom_or_other_line_ends(folder: Path, reader: Reader, style: str) -> None:
    """A BOM shifts no column; CRLF and a lone CR are one line end, and the CR no column."""
    if reader.name == "backprop" and style == "bom":
        pytest.skip("test_errors.py covers it (with CRLF)")
    line = rejected(invoke(*reader.argv(put("x.yaml", line_ends(reader.bad, style)))))
    assert_located(line, "x.yaml", reader.where)
    assert "\r" not in line


@pytest.mark.parametrize("style", ["lf", *STYLES])
@pytest.mark.parametrize("reader", readers())
def test_errors_at_the_end_of_a_line_or_of_the_text(
    folder: Path, reader: Reader, style: str
) -> None:
    """Marks where no token starts: an unclosed quote at the end of a text with no final line
    end (just after its last character: "title: 'abc" is 11 characters, so column 12), and an
    unclosed flow mapping at the end of the text (line 3, after two line ends)."""
    last = "title: 'abc" if reader.noun == "spec" else "z.h2: 'abc"
    first = "inputs: {x1: 1}" if reader.noun == "spec" else "a.h1: 4"
    for text, where in [
        (f"{first}\n{last}", (2, len(last) + 1)),
        ("{a: 1\nb\n", (3, 1)),
    ]:
        raw = text.encode() if style == "lf" else line_ends(text, style)
        line = rejected(invoke(*reader.argv(put("x.yaml", raw))))
        assert_located(line, "x.yaml", where, "invalid YAML")


# --- streams and odd paths ----------------------------------------------------------------------


@pytest.mark.parametrize("reader", readers())
def test_a_fifo_works(folder: Path, reader: Reader) -> None:
    """`nncalc forward <(cat net.yaml)`: a named pipe is read like a file."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    plain = invoke(*reader.argv(put("x.yaml", reader.good.encode())))
    os.mkfifo("pipe.yaml")

    def feed() -> None:
        with open("pipe.yaml", "wb") as out:
            out.write(reader.good.encode())

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        result = invoke(*reader.argv("pipe.yaml"))
    finally:
        if writer.is_alive():  # never opened: let the writer go
            unblock = os.open("pipe.yaml", os.O_RDONLY | os.O_NONBLOCK)
            writer.join(5)
            os.close(unblock)
        writer.join(5)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == plain.stdout.replace("x.yaml", "pipe.yaml")


@pytest.mark.skipif(not os.path.exists(os.devnull), reason="no null device")
@pytest.mark.parametrize("reader", readers())
def test_the_null_device_is_an_empty_file(folder: Path, reader: Reader) -> None:
    line = rejected(invoke(*reader.argv(os.devnull)))
    assert_located(line, os.devnull, (1, 1), f"the {reader.noun} is empty")


@pytest.mark.parametrize("reader", readers())
def test_a_path_with_spaces_and_unicode(folder: Path, reader: Reader) -> None:
    where = folder / "my specs ŷ" / "réseau é 1.yaml"
    where.parent.mkdir()
    where.write_bytes(reader.good.encode())
    assert invoke(*reader.argv(str(where))).exit_code == 0
    where.write_bytes(reader.bad.encode())
    assert_located(rejected(invoke(*reader.argv(str(where)))), str(where), reader.where)


@pytest.mark.parametrize("reader", readers())
def test_standard_input_empty(folder: Path, reader: Reader) -> None:
    line = rejected(invoke(*reader.argv("-"), stdin=b""))
    assert_located(line, "<stdin>", (1, 1), f"the {reader.noun} is empty")


@pytest.mark.parametrize(
    ("garbage", "words"),
    [
        pytest.param(b"\xff\xfe\x00\x01\x80garbage", ("not UTF-8",), id="binary"),
        pytest.param(b"}{ ][ :: ,,\n", ("invalid YAML",), id="text"),
    ],
)
@pytest.mark.parametrize("reader", readers())
def test_standard_input_garbage(
    folder: Path, reader: Reader, garbage: bytes, words: tuple[str, ...]
) -> None:
    line = rejected(invoke(*reader.argv("-"), stdin=garbage))
    assert_located(line, "<stdin>", (1, 1), *words)


def test_standard_input_twice_is_not_an_empty_file(folder: Path) -> None:
    """`check - -` cannot read the spec and the answers from one stream; saying the answers
    file is empty (the stream was read to its end for the spec) misleads."""
    result = invoke("check", "-", "-", stdin=HOMEWORK_TEXT.encode())
    line = rejected(result)
    assert "empty" not in line, line


# --- the same through the library ---------------------------------------------------------------

LIBRARY_CASES = [
    pytest.param(b"", (1, 1), "is empty", id="empty"),
    pytest.param(PNG, (1, 1), "not UTF-8", id="image"),
    pytest.param(
        "inputs: {x1: 1}\r\ntitle: café\r\n".encode("latin-1"), (2, 11), "not UTF-8", id="latin1"
    ),
    pytest.param(line_ends("inputs: {x1: 1}\ntitle: 'abc", "crlf"), (2, 12), "YAML", id="crlf"),
    pytest.param(line_ends("inputs: {x1: 1}\ntitle: 'abc", "bom"), (2, 12), "YAML", id="bom"),
]


@pytest.mark.parametrize(("content", "where", "words"), LIBRARY_CASES)
def test_load_spec_on_hostile_files(
    tmp_path: Path, content: bytes, where: tuple[int, int], words: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    with pytest.raises(nncalc.SpecError) as caught:
        nncalc.load_spec(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line, problem.column) == (str(path), *where)
    assert words in problem.message


@pytest.mark.parametrize(("content", "where", "words"), LIBRARY_CASES)
def test_check_on_hostile_answers_files(
    tmp_path: Path, content: bytes, where: tuple[int, int], words: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_bytes(content.replace(b"inputs: {x1: 1}", b"a.h1: 4"))
    spec = nncalc.load_spec(HOMEWORK_TEXT, source="homework")
    with pytest.raises(nncalc.SpecError) as caught:
        nncalc.check(spec, str(path))
    (problem,) = caught.value.problems
    assert (problem.source, problem.line, problem.column) == (str(path), *where)
    assert words in problem.message


def test_load_spec_on_files_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No place in the text: line 0."""
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "locked.yaml").write_text(HOMEWORK_TEXT, encoding="utf-8")
    deny_reading(monkeypatch)
    for name, words in [
        ("nope.yaml", "no such file"),
        ("folder.yaml", "directory"),
        ("locked.yaml", "permission denied"),
    ]:
        with pytest.raises(nncalc.SpecError) as caught:
            nncalc.load_spec(tmp_path / name)
        (problem,) = caught.value.problems
        assert (problem.source, problem.line) == (str(tmp_path / name), 0)
        assert words in problem.message


def test_load_spec_from_standard_input_closed_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python sets sys.stdin to None when file descriptor 0 is closed."""
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(nncalc.SpecError) as caught:
        nncalc.load_spec("-")
    assert [(p.source, p.line) for p in caught.value.problems] == [("<stdin>", 0)]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(nncalc.SpecError, match="empty") as caught:
        nncalc.load_spec("-")
    assert [(p.source, p.line, p.column) for p in caught.value.problems] == [("<stdin>", 1, 1)]


def script_or_skip() -> Path:
    if not SCRIPT.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    return SCRIPT


CLOSE_STDIN = "import os, sys; os.close(0); os.execv(sys.argv[1], sys.argv[1:])"


def _run_script(argv: list[str], cwd: Path, how: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """The console script in a subprocess, its standard input closed, /dev/null or a pipe."""
    script = str(SCRIPT)
    if how == "closed":  # fd 0 really closed, not just at its end
        command = [sys.executable, "-c", CLOSE_STDIN, script, *argv]
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=60, check=False)
    elif how == "devnull":
        done = subprocess.run(
            [script, *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
    else:
        done = subprocess.run(
            [script, *argv], cwd=cwd, input=stdin, capture_output=True, timeout=60, check=False
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


GARBAGE = b"\x00\x89PNG\xff garbage \x80\n"
STDIN_CASES = [  # in-process tests above give every reader an empty stream and garbage
    *((reader, "closed") for reader in READERS),
    *(
        (reader, how)
        for reader in READERS
        if reader.name in ("backprop", "check-answers")
        for how in ("devnull", "garbage")
    ),
]


@pytest.fixture(scope="module")
def stdin_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """Every standard-input case, run side by side (each is a process start)."""
    script_or_skip()
    cwd = tmp_path_factory.mktemp("stdin")
    (cwd / "spec.yaml").write_text(HOMEWORK_TEXT, encoding="utf-8")
    (cwd / "answers.yaml").write_text(RIGHT_ANSWERS, encoding="utf-8")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            (reader.name, how): pool.submit(_run_script, reader.argv("-"), cwd, how, GARBAGE)
            for reader, how in STDIN_CASES
        }
    return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize(
    ("reader", "how"),
    [pytest.param(r, how, id=f"{r.name}-{how}") for r, how in STDIN_CASES],
)
def test_standard_input_closed_or_at_its_end(
    stdin_runs: dict[tuple[str, str], Any], reader: Reader, how: str
) -> None:
    """`nncalc backprop - <&-`, `< /dev/null`, and a pipe of garbage: exit 2, one line."""
    code, out, err = stdin_runs[(reader.name, how)]
    line = refusal(code, out, err)
    if how == "closed":
        assert_unlocated(line, "<stdin>", "closed")
    elif how == "devnull":
        assert_located(line, "<stdin>", (1, 1), f"the {reader.noun} is empty")
    else:  # NUL is valid UTF-8; the next byte, 0x89, cannot start a character
        assert_located(line, "<stdin>", (1, 2), "not UTF-8")


# --- `| head -1` ----------------------------------------------------------------------------------

SAMPLES = 40
FORMATS = ("table", "json", "markdown", "latex", "csv")


def batch_spec() -> str:
    """A 2-2-1 tanh network on SAMPLES samples: every per-sample table is long."""
    rows = [f"  - {{inputs: [{i / 100}, {-i / 50}], target: [{i % 3}]}}" for i in range(SAMPLES)]
    return (
        "layers:\n"
        "  - weights: [[0.5, -0.4], [0.3, 0.8]]\n"
        "    activation: tanh\n"
        "  - weights: [[1.0, -0.5]]\n"
        "    activation: identity\n"
        "learning_rate: 0.1\n"
        "data:\n" + "\n".join(rows) + "\n"
    )


def batch_answers() -> str:
    """Right answers for every sample of batch_spec, computed here in plain Python: the
    pre-activations a = W1·x (no bias) and their tanh, unit names h1_1, h1_2 by default."""
    lines = []
    for i in range(SAMPLES):
        x1, x2 = i / 100, -i / 50
        a1 = 0.5 * x1 + -0.4 * x2
        a2 = 0.3 * x1 + 0.8 * x2
        s = i + 1
        lines += [f"a.h1_1@{s}: {a1!r}", f"a.h1_2@{s}: {a2!r}"]
        lines += [f"z.h1_1@{s}: {math.tanh(a1)!r}", f"z.h1_2@{s}: {math.tanh(a2)!r}"]
    return "\n".join(lines) + "\n"


def wide_spec() -> str:
    """A 12-12-12-1 ReLU net, for a graph with a long text; positive weights, so no unit sits
    on relu's kink (which would add a warning)."""

    def rows(count: int, width: int, start: int) -> str:
        cells = [
            [(1 + (start + r * width + c) % 5) / 4 for c in range(width)] for r in range(count)
        ]
        return "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in cells) + "]"

    return (
        f"inputs: [{', '.join(['1'] * 12)}]\n"
        "layers:\n"
        f"  - weights: {rows(12, 12, 0)}\n    activation: relu\n"
        f"  - weights: {rows(12, 12, 3)}\n    activation: relu\n"
        f"  - weights: {rows(1, 12, 7)}\n    activation: identity\n"
        "target: [1]\n"
    )


PIPE_CASES: dict[str, list[str]] = {
    **{f"forward-{f}": ["forward", "batch.yaml", "-f", f] for f in FORMATS},
    **{f"backprop-{f}": ["backprop", "batch.yaml", "-f", f] for f in FORMATS},
    **{f"train-{f}": ["train", "batch.yaml", "-n", "200", "-f", f] for f in FORMATS},
    **{f"explain-{f}": ["explain", "batch.yaml", "-f", f] for f in FORMATS},
    **{f"check-{f}": ["check", "batch.yaml", "batch-answers.yaml", "-f", f] for f in FORMATS},
    **{f"gradcheck-{f}": ["gradcheck", "batch.yaml", "-f", f] for f in FORMATS},
    **{f"activations-{f}": ["activations", "-f", f] for f in FORMATS},
    **{f"graph-{f}": ["graph", "wide.yaml", "-f", f] for f in ("mermaid", "dot")},
    "backprop-emit-spec": ["backprop", "batch.yaml", "--emit-spec"],
    "train-emit-spec": ["train", "batch.yaml", "-n", "3", "--emit-spec"],
    "schema": ["schema"],
    "init": ["init", "-"],
    "exercise": ["exercise", "--seed", "5", "-o", "-"],
}


def _pipe() -> tuple[int, int, int]:
    """A pipe with the smallest buffer the system allows (Linux), so a long write must wait
    for the reader: its read end, its write end and its capacity in bytes."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # type: ignore[attr-defined]
        capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        capacity = 65536  # the most a POSIX system gives a pipe by default
    return read_end, write_end, capacity


def _head_one(argv: list[str], cwd: Path) -> tuple[int, bytes, str]:
    """`nncalc ARGV | head -1`: nncalc's exit code and standard error, and head's line."""
    assert HEAD is not None
    read_end, write_end, _ = _pipe()
    try:
        nncalc = subprocess.Popen(
            [str(SCRIPT), *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
        head = subprocess.Popen([HEAD, "-n", "1"], stdin=read_end, stdout=subprocess.PIPE)
    finally:
        os.close(read_end)
        os.close(write_end)
    first, _ = head.communicate(timeout=120)
    _, err = nncalc.communicate(timeout=120)
    return nncalc.returncode, first, err.decode()


def _reader_gone(argv: list[str], cwd: Path) -> tuple[int, bytes, str]:
    """nncalc writing into a pipe whose reader has gone: its first write fails."""
    read_end, write_end, _ = _pipe()
    os.close(read_end)
    try:
        nncalc = subprocess.Popen(
            [str(SCRIPT), *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    _, err = nncalc.communicate(timeout=120)
    return nncalc.returncode, b"", err.decode()


class PipeRun(NamedTuple):
    first: bytes  # the first line of the whole output (in-process)
    how: str  # "head": `| head -1` cuts it short; "gone": too short for that, so the reader
    # has gone before the first write
    run: tuple[int, bytes, str]  # exit code, what the reader got, standard error


@pytest.fixture(scope="module")
def pipe_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PipeRun]:
    """Every case's whole output, in-process; then one subprocess per case, side by side.

    `head -1` reads at most one pipe's worth and exits; an output longer than two pipes' worth
    is then still being written, so its write fails. A shorter one would pass through whole and
    test nothing: it is written into a pipe whose reader has already gone instead."""
    script_or_skip()
    if HEAD is None:
        pytest.skip("no head program")
    cwd = tmp_path_factory.mktemp("pipes")
    (cwd / "batch.yaml").write_text(batch_spec(), encoding="utf-8")
    (cwd / "batch-answers.yaml").write_text(batch_answers(), encoding="utf-8")
    (cwd / "wide.yaml").write_text(wide_spec(), encoding="utf-8")
    probe = _pipe()
    os.close(probe[0])
    os.close(probe[1])
    cut = 2 * probe[2] + 1024
    whole: dict[str, bytes] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        for case, argv in PIPE_CASES.items():
            result = invoke(*argv)
            assert (result.exit_code, result.stderr) == (0, ""), (case, result.stderr)
            whole[case] = result.stdout.encode()
    how = {case: "head" if len(text) > cut else "gone" for case, text in whole.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {
            case: pool.submit(_head_one if how[case] == "head" else _reader_gone, argv, cwd)
            for case, argv in PIPE_CASES.items()
        }
    return {
        case: PipeRun(whole[case].split(b"\n", 1)[0] + b"\n", how[case], runs[case].result())
        for case in PIPE_CASES
    }


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("case", list(PIPE_CASES))
def test_head_one(pipe_runs: dict[str, PipeRun], case: str) -> None:
    """`nncalc … | head -1` ends quietly: exit 0, nothing on standard error (no
    BrokenPipeError, no 'Exception ignored'), and head's line is the output's first."""
    run = pipe_runs[case]
    code, got, err = run.run
    assert (code, err) == (0, ""), (run.how, code, err)
    assert got == (run.first if run.how == "head" else b"")


def test_most_outputs_are_cut_by_head(pipe_runs: dict[str, PipeRun]) -> None:
    """The batch is large enough that `| head -1` really cuts every per-sample output short;
    only the fixed short texts and the few summaries fall back to a reader already gone."""
    gone = sorted(case for case, run in pipe_runs.items() if run.how == "gone")
    assert {"init", "exercise"} <= set(gone)
    assert {"forward-table", "backprop-json", "explain-latex", "schema"}.isdisjoint(gone)
    assert len(gone) <= len(pipe_runs) // 3, gone


def test_check_exit_code_does_not_depend_on_the_reader(tmp_path: Path) -> None:
    """A wrong answer exits 1 whether or not the reader of the output stayed: the verdict is
    the exit code, and a pipeline with `pipefail` reads it."""
    script_or_skip()
    (tmp_path / "spec.yaml").write_text(HOMEWORK_TEXT, encoding="utf-8")
    (tmp_path / "answers.yaml").write_text("a.h1: 5\n", encoding="utf-8")  # a_h1 = 4
    argv = ["check", "spec.yaml", "answers.yaml"]
    stayed = subprocess.run(
        [str(SCRIPT), *argv], cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert stayed.returncode == 1, stayed.stderr
    assert _reader_gone(argv, tmp_path) == (1, b"", "")


# --- writing files ------------------------------------------------------------------------------


class Writer(NamedTuple):
    """A command writing files: its arguments for the target `T` (a stem for exercise) and the
    files it then writes; `force` says whether it replaces a file with --force."""

    name: str
    argv: list[str]
    suffix: str
    force: bool = True
    needs: str | None = None  # "dot" or "matplotlib"

    def targets(self, stem: Path) -> list[Path]:
        if self.name == "exercise":
            return [stem.with_name(stem.name + ".yaml"), stem.with_name(stem.name + "-key.md")]
        return [stem.with_name(stem.name + self.suffix)]

    def args(self, stem: Path, *, force: bool = False) -> list[str]:
        target = str(stem) if self.name == "exercise" else str(self.targets(stem)[0])
        filled = [target if a == "T" else a for a in self.argv]
        return [*filled, "--force"] if force else filled


HOMEWORK = str(ROOT / "examples" / "homework.yaml")
WRITERS = [
    Writer("emit-spec", ["backprop", HOMEWORK, "--emit-spec", "-o", "T"], ".yaml"),
    Writer(
        "train-emit-spec",
        ["train", HOMEWORK, "-n", "2", "--lr", "0.01", "--emit-spec", "-o", "T"],
        ".yaml",
    ),
    Writer("init", ["init", "T"], ".yaml", force=False),
    Writer("schema", ["schema", "-o", "T"], ".json"),
    Writer("exercise", ["exercise", "--seed", "3", "-o", "T"], ""),
    Writer("graph-render", ["graph", HOMEWORK, "--render", "T"], ".svg", needs="dot"),
    Writer(
        "train-plot",
        ["train", HOMEWORK, "-n", "2", "--lr", "0.01", "--plot", "T"],
        ".png",
        needs="matplotlib",
    ),
    Writer("activations-plot", ["activations", "relu", "--plot", "T"], ".png", needs="matplotlib"),
]

EXERCISE, TRAIN_EMIT = (
    next(w for w in WRITERS if w.name == n) for n in ("exercise", "train-emit-spec")
)


def writers(*covered: str) -> list[Any]:
    """Every writer as a test parameter, less those a test elsewhere covers already."""
    return [pytest.param(w, id=w.name) for w in WRITERS if w.name not in covered]


def missing(writer: Writer) -> str | None:
    """What a writer needs and this machine lacks. Importing matplotlib builds its font cache
    here, so a child process under a file size limit has nothing of its own to write."""
    if writer.needs == "dot" and DOT is None:
        return "Graphviz's dot is not installed"
    if writer.needs == "matplotlib":
        try:
            import matplotlib.font_manager  # noqa: F401
        except ImportError:
            return "matplotlib (the plot extra) is not installed"
    return None


def ready(writer: Writer) -> None:
    """Skip a writer whose tool is missing."""
    reason = missing(writer)
    if reason is not None:
        pytest.skip(reason)


OLD = b"\x00my own work, not UTF-8: \xe9\n"  # what a replaced file held: must survive byte for byte


def keep_old(targets: list[Path]) -> None:
    for target in targets:
        target.write_bytes(OLD)


def assert_intact(folder: Path, targets: list[Path], *, old: bool) -> None:
    """The old files as they were (or no file at all), and nothing else in the folder."""
    for target in targets:
        if old:
            assert target.read_bytes() == OLD, target
        else:
            assert not target.exists(), target
    assert sorted(p.name for p in folder.iterdir()) == sorted(t.name for t in targets if old), (
        "a temporary or half-written file was left"
    )


def test_train_emit_spec_never_replaces_without_force(tmp_path: Path) -> None:
    writer = TRAIN_EMIT
    (target,) = writer.targets(tmp_path / "out")
    keep_old([target])
    line = rejected(invoke(*writer.args(tmp_path / "out")))
    assert_unlocated(line, str(target), "exists", "--force")
    assert_intact(tmp_path, [target], old=True)
    result = invoke(*writer.args(tmp_path / "out", force=True))
    assert result.exit_code == 0, result.stderr
    written = target.read_text(encoding="utf-8")
    assert "params:" in written
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_exercise_never_replaces_its_spec_without_force(tmp_path: Path) -> None:
    """test_exercise.py covers an existing key; here the spec exists, and the key is not
    written either."""
    spec, key = EXERCISE.targets(tmp_path / "ex")
    keep_old([spec])
    line = rejected(invoke(*EXERCISE.args(tmp_path / "ex")))
    assert_unlocated(line, str(spec), "exists", "--force")
    assert spec.read_bytes() == OLD
    assert not key.exists()


def _limited(argv: list[str], cwd: Path, limit: int) -> tuple[int, str, str]:
    """The console script with a file size limit: a write past `limit` bytes fails (EFBIG;
    Python ignores SIGXFSZ)."""
    code = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(SCRIPT), *argv],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


LIMIT = 128  # bytes: smaller than anything a writer writes


class Limited(NamedTuple):
    folder: Path
    targets: list[Path]
    old: bool  # whether the targets held a file before (to be replaced with --force)
    run: tuple[int, str, str]


@pytest.fixture(scope="module")
def limited_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Limited]:
    """Every writer under a file size limit of LIMIT bytes, each in its own folder, side by
    side; and `exercise` with a limit its spec fits under and its key does not."""
    script_or_skip()
    pytest.importorskip("resource")
    probe = tmp_path_factory.mktemp("probe")
    assert invoke(*EXERCISE.args(probe / "ex")).exit_code == 0
    spec_size, key_size = (p.stat().st_size for p in EXERCISE.targets(probe / "ex"))
    assert key_size > spec_size + 64
    cases = [(w, w.name, LIMIT) for w in WRITERS if missing(w) is None]
    cases.append((EXERCISE, "exercise-pair", spec_size + 32))
    planned: dict[str, tuple[Path, list[Path], bool, list[str], int]] = {}
    for writer, name, limit in cases:
        folder = tmp_path_factory.mktemp(name)
        targets = writer.targets(folder / "out")
        if writer.force:
            keep_old(targets)
        planned[name] = (
            folder,
            targets,
            writer.force,
            writer.args(folder / "out", force=writer.force),
            limit,
        )
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {
            name: pool.submit(_limited, argv, folder, limit)
            for name, (folder, _, _, argv, limit) in planned.items()
        }
    return {
        name: Limited(folder, targets, old, runs[name].result())
        for name, (folder, targets, old, _, _) in planned.items()
    }


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
@pytest.mark.parametrize("writer", writers())
def test_a_write_that_fails_half_way_leaves_the_old_file(
    limited_runs: dict[str, Limited], writer: Writer
) -> None:
    """A full disk, simulated by a file size limit: exit 2 naming the file, the old file byte
    for byte (with --force, it was to be replaced), no half-written or temporary file."""
    ready(writer)
    case = limited_runs[writer.name]
    assert_intact(case.folder, case.targets, old=case.old)
    line = refusal(*case.run)
    assert any(line.startswith(f"{t}: ") for t in case.targets), line
    assert "too large" in line.lower(), line


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_exercise_writes_both_files_or_neither(limited_runs: dict[str, Limited]) -> None:
    """The spec fits under the limit and the key does not: the pair stays as it was, not a new
    spec next to the old key."""
    case = limited_runs["exercise-pair"]
    assert_intact(case.folder, case.targets, old=True)
    line = refusal(*case.run)
    assert line.startswith(f"{case.targets[1]}: "), line


@pytest.fixture
def failing_rename(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The last step of an atomic write, the rename onto the target, fails (an I/O error)."""
    renamed: list[str] = []

    def fail(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        renamed.append(str(target))
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", fail)
    monkeypatch.setattr(os, "rename", fail)
    return renamed


@pytest.mark.parametrize("writer", writers())
def test_a_failing_rename_leaves_the_old_file(
    tmp_path: Path, writer: Writer, failing_rename: list[str]
) -> None:
    ready(writer)
    targets = writer.targets(tmp_path / "out")
    if writer.force:
        keep_old(targets)
    result = invoke(*writer.args(tmp_path / "out", force=writer.force))
    assert failing_rename, "nothing was renamed into place"
    assert_intact(tmp_path, targets, old=writer.force)
    line = rejected(result)
    assert any(line.startswith(f"{t}: ") for t in targets), line
    assert "Input/output error" in line, line


def test_write_new_with_a_failing_rename(tmp_path: Path, failing_rename: list[str]) -> None:
    """The library's atomic write: a SpecError naming the file, the old file intact."""
    from nncalc.emit import write_new

    target = tmp_path / "out.yaml"
    keep_old([target])
    with pytest.raises(nncalc.SpecError) as caught:
        write_new(str(target), "inputs: {x1: 1}\n", force=True)
    assert failing_rename
    assert_intact(tmp_path, [target], old=True)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line) == (str(target), 0)


@pytest.mark.skipif(AS_ROOT, reason="root writes into a read-only folder; see the simulations")
@pytest.mark.parametrize("writer", writers())
def test_a_read_only_folder(tmp_path: Path, writer: Writer) -> None:
    ready(writer)
    folder = tmp_path / "locked"
    folder.mkdir()
    targets = writer.targets(folder / "out")
    if writer.force:
        keep_old(targets)
    folder.chmod(0o555)
    try:
        result = invoke(*writer.args(folder / "out", force=writer.force))
    finally:
        folder.chmod(0o755)
    assert_intact(folder, targets, old=writer.force)
    line = rejected(result)
    assert any(line.startswith(f"{t}: ") for t in targets), line


@pytest.mark.parametrize("writer", writers("emit-spec"))
def test_the_target_is_a_directory(tmp_path: Path, writer: Writer) -> None:
    ready(writer)
    first = writer.targets(tmp_path / "out")[0]
    first.mkdir()
    for force in (False, True) if writer.force else (False,):
        line = rejected(invoke(*writer.args(tmp_path / "out", force=force)))
        assert_unlocated(line, str(first), "directory")
        assert [p.name for p in tmp_path.iterdir()] == [first.name]
        assert list(first.iterdir()) == []


@pytest.mark.parametrize(
    "writer", writers("emit-spec", "init", "schema", "exercise", "graph-render")
)
def test_the_folder_is_missing(tmp_path: Path, writer: Writer) -> None:
    ready(writer)
    stem = tmp_path / "no such folder" / "out"
    line = rejected(invoke(*writer.args(stem)))
    assert_unlocated(line, str(writer.targets(stem)[0]), f"the folder {stem.parent} does not exist")
    assert list(tmp_path.iterdir()) == []
