"""YAML text → plain Python data, keeping the way back to every value's position.

PyYAML resolves plain scalars by YAML 1.1 rules (`1e-3` is a string, `yes`/`no`/`on`/`off` are
booleans) and keeps the last of duplicate keys silently. Here PyYAML (with libyaml's C parser when
installed) only parses; the data is built straight from its event stream, scalars are resolved by
the YAML 1.2 core schema, and duplicate keys are problems. Building from events skips PyYAML's
node tree, which on a large spec costs more than everything else together; positions are found
by a second pass over the events only when an error needs one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from .errors import Problem, SpecError

Key = str | int
KeyPath = tuple[Key, ...]

# Aliases can make a tiny file stand for a huge tree ("billion laughs"); nothing a network spec
# needs comes near this many values (a 784-512-512-10 net has about 670 000).
MAX_VALUES = 20_000_000
# A layered spec nests five deep (the file, layers, a layer, weights, a row); far past that is a
# hostile file, which libyaml would stop only at 1000 and PyYAML's pure-Python parser never.
MAX_DEPTH = 100
# Parsing costs about 3 µs and 200 bytes per value: 16 MB of numbers is some 5 s and 300 MB.
MAX_FILE_MB = 16
MAX_FILE_VARIABLE = "NNCALC_MAX_FILE_MB"

_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = re.compile(r"[-+]?[0-9]+\Z").match
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z").match
_OCT = re.compile(r"0o[0-7]+\Z").match
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z").match
_SPECIAL: dict[str, object] = {
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys(["true", "True", "TRUE"], True),
    **dict.fromkeys(["false", "False", "FALSE"], False),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], float("inf")),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], float("-inf")),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], float("nan")),
}
_EXPLICIT: dict[str, Callable[[str], object]] = {
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:null": lambda text: None,
}


# The first characters of every plain scalar that is not a string (numbers, null, booleans, .inf)
_NON_STRING_START = frozenset("0123456789+-.~nNtTfF")


def plain_scalar(text: str) -> object:
    """The YAML 1.2 core-schema value of a plain scalar."""
    if text and text[0] not in _NON_STRING_START:  # a name such as w1 or tanh, the common key
        return text
    if _FLOAT(text):
        if _INT(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts: too large for a float anyway
                return float("inf") if text[0] != "-" else float("-inf")
        return float(text)
    if text in _SPECIAL:
        return _SPECIAL[text]
    if _HEX(text):
        return int(text[2:], 16)
    if _OCT(text):
        return int(text[2:], 8)
    return text


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser as _Loader  # type: ignore[attr-defined]

    _BYTE_OFFSETS = True

else:  # pragma: no cover - exercised only where libyaml is missing
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    _BYTE_OFFSETS = False


class Document:
    """A parsed YAML document: its plain `data`, and positions on demand."""

    __slots__ = ("_located", "_root", "data", "problems", "source", "text")

    def __init__(self, source: str, text: str, data: Any, problems: tuple[Problem, ...]) -> None:
        self.source = source
        self.text = text
        self.data = data
        self.problems = problems  # duplicate keys and the like: reported with the rest
        self._root: _Place | None = None
        self._located = False

    def _places(self) -> _Place | None:
        """Where everything is, found the first time a position is asked for."""
        if not self._located and self.data is not None:
            try:
                self._root = _places(self.text)
            except yaml.YAMLError:  # positions fall back to the top
                self._root = None
        self._located = True
        return self._root

    def locate(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `path`, or of its key when `key` is set.

        A path that runs off the tree points at the deepest place it reached.
        """
        place = self._places()
        if place is None:
            return (1, 1)
        line, column = place.line, place.column
        for step in path:
            entries = place.entries
            if isinstance(entries, dict):
                found = entries.get(step)
                if found is None:
                    break
                key_line, key_column, line, column, child = found
                if key:
                    line, column = key_line, key_column
            elif isinstance(step, int) and 0 <= step < len(entries):
                line, column, child = entries[step]
            else:
                break
            if child is None:
                break
            place = child
        return (line, column)

    def problem(self, path: KeyPath, message: str, *, key: bool = False) -> Problem:
        line, column = self.locate(path, key=key)
        return Problem(self.source, line, column, message)


class _Place:
    """Where a mapping or sequence starts, and where each of its entries is: a mapping's by key,
    (key line, key column, line, column, the entry's own place); a sequence's in order,
    (line, column, place). A scalar entry has no place of its own (None)."""

    __slots__ = ("column", "entries", "line")

    def __init__(self, line: int, column: int, mapping: bool) -> None:
        self.line, self.column = line, column
        self.entries: (
            dict[object, tuple[int, int, int, int, _Place | None]]
            | list[tuple[int, int, _Place | None]]
        ) = {} if mapping else []


def _places(text: str) -> _Place | None:
    """The positions of a document, from a second pass over its events: about a tenth of the
    memory of PyYAML's node tree, which an error in a large spec would otherwise compose."""
    loader = _Loader(text)
    stack: list[_Place] = []
    keys: list[Any] = []  # per open mapping: _NO_KEY, or (key, line, column) awaiting its value
    root: _Place | None = None
    try:
        while True:
            event: Any = loader.get_event()
            kind = type(event)
            if kind is StreamEndEvent:
                return root
            if kind is SequenceEndEvent or kind is MappingEndEvent:
                stack.pop()
                keys.pop()
                continue
            if kind not in _NODE_EVENTS:  # the stream's and the document's start and end
                continue
            if root is not None and not stack:  # a second document: parse() refuses it
                return root
            line, column = event.start_mark.line + 1, event.start_mark.column + 1
            place = None
            if kind is SequenceStartEvent or kind is MappingStartEvent:
                place = _Place(line, column, kind is MappingStartEvent)
            if not stack:
                root = place or _Place(line, column, False)
            else:
                entries = stack[-1].entries
                if isinstance(entries, list):
                    entries.append((line, column, place))
                elif keys[-1] is _NO_KEY:
                    keys[-1] = (_key_of(event), line, column)
                else:
                    name, key_line, key_column = keys[-1]
                    entries.setdefault(name, (key_line, key_column, line, column, place))
                    keys[-1] = _NO_KEY
            if place is not None:
                stack.append(place)
                keys.append(_NO_KEY)
    finally:
        loader.dispose()


_NODE_EVENTS = (ScalarEvent, AliasEvent, SequenceStartEvent, MappingStartEvent)


def _key_of(event: Event) -> object:
    """A mapping key as the data has it (a plain scalar resolved, a quoted one as written)."""
    if isinstance(event, ScalarEvent):
        return plain_scalar(event.value) if event.implicit[0] else event.value
    return None


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


_NO_KEY = object()  # a mapping frame waiting for its next key
_SKIP = object()  # a key whose value is dropped (it was a problem already reported)


class _Frame:
    """A sequence or mapping being built."""

    __slots__ = ("anchor", "container", "count", "key", "key_mark")

    def __init__(self, container: list[Any] | dict[Any, Any], anchor: str | None, count: int):
        self.container = container
        self.anchor = anchor
        self.count = count  # values built before this one started
        self.key: object = _NO_KEY
        self.key_mark: Any = None


class _Builder:
    """Plain data from the event stream, collecting every problem on the way.

    Iterative, so nesting depth costs no recursion; an alias refers to the value already built
    for its anchor (shared, not copied), and counts as that value's size towards MAX_VALUES.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.count = 0
        self.anchors: dict[str, tuple[object, int]] = {}

    def _problem(self, mark: Any, message: str) -> None:
        self.problems.append(Problem(self.source, mark.line + 1, mark.column + 1, message))

    def value(self, get: Callable[[], Any]) -> Any:
        """Build one whole value (the next node of the stream)."""
        stack: list[_Frame] = []
        items: list[Any] | None = None  # the sequence being built, if the innermost is one
        while True:
            event = get()
            kind = type(event)
            if kind is ScalarEvent and event.implicit[0] and not event.anchor and stack:
                # The hot path: a plain scalar in a list (a weight matrix has thousands) or a
                # mapping (a named spec's params and sources).
                self.count += 1
                if items is not None:
                    items.append(plain_scalar(event.value))
                else:
                    self._attach(stack[-1], plain_scalar(event.value), event)
                continue
            start = self.count
            if kind is ScalarEvent:
                self.count += 1
                value = self._scalar(event)
                anchor = event.anchor
            elif kind is AliasEvent:
                anchored = self.anchors.get(event.anchor)
                if anchored is None:
                    self._problem(event.start_mark, f"unknown alias '*{event.anchor}'")
                    value, size = None, 1
                else:
                    value, size = anchored
                self.count += size
                anchor = None
            elif kind is SequenceStartEvent or kind is MappingStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeep(event.start_mark)
                self.count += 1
                tag = event.tag
                if tag is not None and tag not in (_SEQ, _MAP, "!"):
                    self._problem(event.start_mark, f"YAML tag '{tag}' is not supported here")
                container: list[Any] | dict[Any, Any] = [] if kind is SequenceStartEvent else {}
                stack.append(_Frame(container, event.anchor, start))
                items = container if isinstance(container, list) else None
                continue
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                frame = stack.pop()
                value, anchor, start = frame.container, frame.anchor, frame.count
                parent = stack[-1].container if stack else None
                items = parent if isinstance(parent, list) else None
            else:  # pragma: no cover - the parser guarantees a node here
                raise AssertionError(f"unexpected YAML event {event!r}")
            if self.count > MAX_VALUES:
                raise _TooBig
            if anchor is not None:
                self.anchors[anchor] = (value, self.count - start)
            if not stack:
                return value
            self._attach(stack[-1], value, event)

    def _attach(self, frame: _Frame, value: Any, event: Event) -> None:
        container = frame.container
        if isinstance(container, list):
            container.append(value)
            return
        if frame.key is _NO_KEY:  # this value is a key
            frame.key, frame.key_mark = self._key(container, value, event), event.start_mark
        else:
            if frame.key is not _SKIP:
                container[frame.key] = value
            frame.key = _NO_KEY

    def _key(self, mapping: dict[Any, Any], key: Any, event: Event) -> object:
        mark = event.start_mark
        if isinstance(event, ScalarEvent) and (
            event.tag == "tag:yaml.org,2002:merge" or (event.implicit[0] and event.value == "<<")
        ):
            self._problem(mark, "YAML merge keys ('<<') are not supported; write the keys out")
            return _SKIP
        if isinstance(key, list | dict) or not isinstance(event, ScalarEvent | AliasEvent):
            self._problem(mark, "a key must be a plain name, not a list or mapping")
            return _SKIP
        if key in mapping:
            self._problem(mark, f"duplicate key '{key}'; each key may appear only once")
            return _SKIP
        return key

    def _scalar(self, event: ScalarEvent) -> object:
        if event.implicit[0]:
            return plain_scalar(event.value)
        tag = event.tag
        if tag is None or tag in (_STR, "!"):
            return event.value
        build = _EXPLICIT.get(tag)
        if build is None:
            self._problem(event.start_mark, f"YAML tag '{tag}' is not supported here")
            return plain_scalar(event.value)  # as if untagged, so no second problem follows
        try:
            return build(event.value)
        except ValueError:
            self._problem(event.start_mark, f"'{event.value}' is not a valid {tag.rsplit(':')[-1]}")
            return event.value


def parse(text: str, source: str) -> Document:
    """Parse YAML `text` (named `source` in messages).

    Malformed YAML raises SpecError. Problems that leave the data usable (a duplicate key keeps
    its first value) are returned in `Document.problems`, to be reported with the rest.
    """
    loader = _Loader(text)
    builder = _Builder(source)
    try:
        get = loader.get_event
        get()  # stream start
        if isinstance(get(), StreamEndEvent):
            return Document(source, text, None, ())
        data = builder.value(get)
        get()  # document end
        extra = get()
        if isinstance(extra, DocumentStartEvent) and extra.start_mark is not None:
            raise SpecError(
                [
                    Problem(
                        source,
                        extra.start_mark.line + 1,
                        extra.start_mark.column + 1,
                        "the file must be one YAML document; remove the second one (after '---')",
                    )
                ]
            )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or "malformed YAML"
        if exc.context:
            what = f"{what} ({exc.context})"
        raise SpecError([Problem(source, line, column, f"invalid YAML: {what}")]) from None
    except yaml.reader.ReaderError as exc:
        raise SpecError([_bad_character(source, text, exc)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(source, 0, 0, f"invalid YAML: {exc}")]) from None
    except _TooDeep as deep:
        line, column = deep.mark.line + 1, deep.mark.column + 1
        message = (
            f"nested more than {MAX_DEPTH} levels deep; no spec or answers file needs that many"
        )
        raise SpecError([Problem(source, line, column, message)]) from None
    except _TooBig:
        message = (
            f"the YAML expands to more than {MAX_VALUES:,} values (through aliases?); "
            "no network spec or answers file needs that many"
        )
        raise SpecError([Problem(source, 1, 1, message)]) from None
    finally:
        loader.dispose()
    return Document(source, text, data, tuple(builder.problems))


def max_file_bytes() -> int:
    """The size limit of a spec or answers file: MAX_FILE_MB, or NNCALC_MAX_FILE_MB if set."""
    import os

    given = os.environ.get(MAX_FILE_VARIABLE, "").strip()
    if not given:
        return MAX_FILE_MB * 2**20
    try:
        megabytes = float(given)
    except ValueError:
        megabytes = math.nan
    if not megabytes > 0 or math.isinf(megabytes):
        message = f"{MAX_FILE_VARIABLE}={given}: expected a positive number of megabytes"
        raise SpecError([Problem("<environment>", 0, 0, message)])
    return int(megabytes * 2**20)


def _too_large(limit: int) -> str:
    return (
        f"larger than {round(limit / 2**20, 3):g} MB, the most a spec or answers file may be "
        f"(parsing one that large takes seconds and memory); set {MAX_FILE_VARIABLE} to raise "
        "the limit"
    )


def read_text(path: str | Path) -> str:
    """The text of a spec or answers file ('-' is standard input), as UTF-8 with an optional BOM.

    A file above the size limit is refused before it is read: a 50 MB YAML file would take tens
    of seconds and gigabytes to parse.
    """
    import sys

    stdin = str(path) == "-"
    source = "<stdin>" if stdin else str(path)
    limit = max_file_bytes()
    if stdin and sys.stdin is None:
        raise SpecError([Problem(source, 0, 0, "standard input is closed; give a file instead")])
    try:
        if stdin:
            raw = _read_at_most(sys.stdin.buffer, limit)
        else:
            with open(path, "rb") as stream:
                raw = _read_at_most(stream, limit)
    except FileNotFoundError:
        raise SpecError([Problem(source, 0, 0, "no such file")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(source, 0, 0, "is a directory, not a file")]) from None
    except PermissionError:
        raise SpecError([Problem(source, 0, 0, "permission denied")]) from None
    except OSError as exc:
        raise SpecError([Problem(source, 0, 0, f"cannot read: {exc.strerror}")]) from None
    if raw is None:
        raise SpecError([Problem(source, 0, 0, _too_large(limit))])
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    if _wide(raw):
        message = "the file is UTF-16 or UTF-32 text, not UTF-8; save it as UTF-8"
        raise SpecError([Problem(source, 1, 1, message)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        line, column = position(before, len(before))
        raise SpecError(
            [Problem(source, line, column, "the file is not UTF-8 text; save it as UTF-8")]
        ) from None


def _bad_character(source: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow in its text (a control character, as in a binary file)."""
    index = exc.position
    if _BYTE_OFFSETS:  # libyaml counts bytes of the UTF-8 text
        index = len(text.encode("utf-8")[:index].decode("utf-8", "ignore"))
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    line, column = position(text, index)
    if code == 0:
        return Problem(source, line, column, "a NUL byte: this looks like a binary file, not YAML")
    message = f"the control character U+{code:04X} is not allowed in YAML text"
    return Problem(source, line, column, message)


def _wide(raw: bytes) -> bool:
    """Whether `raw` looks like UTF-16 or UTF-32 without a byte-order mark: ASCII text in those
    has a NUL byte beside every character, which is valid UTF-8 and so would pass as text."""
    head = raw[:4096]
    return len(head) >= 4 and (
        head[0::2].count(0) * 2 >= len(head) // 2 or head[1::2].count(0) * 2 >= len(head) // 2
    )


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character `index` of `text`, counting line breaks as YAML
    does: LF, CR LF, a lone CR, NEL, LS and PS."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def _read_at_most(stream: Any, limit: int) -> bytes | None:
    """The bytes of `stream`, or None when there are more than `limit` (a regular file's size is
    looked up first, so a huge one is not read at all)."""
    import os
    import stat

    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):  # not a real file (a test's stream)
        info = None
    if info is not None and stat.S_ISREG(info.st_mode) and info.st_size > limit:
        return None
    raw: bytes = stream.read(limit + 1)
    return None if len(raw) > limit else raw
