"""YAML text → plain Python data, keeping every value's position for error messages.

PyYAML resolves plain scalars by YAML 1.1 rules (`1e-3` is a string, `yes`/`no`/`on`/`off` are
booleans) and keeps the last of duplicate keys silently. Here PyYAML only parses and composes the
node tree (with libyaml's C parser when installed); the scalars are resolved by the YAML 1.2 core
schema and duplicate keys are errors. Nodes are kept, so a position is looked up only when an
error needs one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from .errors import Problem, SpecError

Key = str | int
KeyPath = tuple[Key, ...]

# Aliases can make a tiny file expand into a huge tree ("billion laughs"); nothing a network spec
# needs comes near this many values (a 784-512-512-10 net has about 670 000).
MAX_VALUES = 20_000_000

_PLAIN = "tag:nncalc,2024:plain"  # a plain (unquoted, untagged) scalar, resolved below
_STR = "tag:yaml.org,2002:str"
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL: dict[str, object] = {
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys(["true", "True", "TRUE"], True),
    **dict.fromkeys(["false", "False", "FALSE"], False),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], float("inf")),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], float("-inf")),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], float("nan")),
}


class _PlainResolver(BaseResolver):
    """Marks plain scalars instead of guessing their type the YAML 1.1 way."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _PLAIN
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _Loader(CParser, _PlainResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _PlainResolver.__init__(self)

else:  # pragma: no cover - exercised only where libyaml is missing
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(Reader, Scanner, Parser, Composer, _PlainResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _PlainResolver.__init__(self)


def plain_scalar(text: str) -> object:
    """The YAML 1.2 core-schema value of a plain scalar."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text[:2] in ("0x", "0o"):
        try:
            return int(text[2:], 16 if text[1] == "x" else 8)
        except ValueError:
            return text
    return text


class Document(NamedTuple):
    """A parsed YAML document: its plain `data` and the node tree that knows where things are."""

    source: str
    data: Any
    root: Node | None
    problems: tuple[Problem, ...] = ()  # duplicate keys and the like: reported with the rest

    def locate(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `path`, or of its key when `key` is set.

        A path that runs off the tree points at the deepest node it reached.
        """
        node = self.root
        if node is None:
            return (1, 1)
        mark = node.start_mark
        for step in path:
            child: Node | None = None
            if isinstance(node, MappingNode):
                for key_node, value_node in node.value:
                    if _scalar_key(key_node) == step:
                        child, mark = value_node, (key_node if key else value_node).start_mark
                        break
            elif (
                isinstance(node, SequenceNode)
                and isinstance(step, int)
                and 0 <= step < len(node.value)
            ):
                child = node.value[step]
                mark = child.start_mark
            if child is None:
                break
            node = child
        return (mark.line + 1, mark.column + 1)

    def problem(self, path: KeyPath, message: str, *, key: bool = False) -> Problem:
        line, column = self.locate(path, key=key)
        return Problem(self.source, line, column, message)


def _scalar_key(node: Node) -> object:
    if isinstance(node, ScalarNode):
        return plain_scalar(node.value) if node.tag == _PLAIN else node.value
    return None


class _Builder:
    """Turns a node tree into plain data, collecting every problem on the way."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.count = 0

    def _problem(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.source, mark.line + 1, mark.column + 1, message))

    def build(self, node: Node) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._problem(node, f"YAML tag '{node.tag}' is not supported here")
            return [self.build(item) for item in node.value]
        if isinstance(node, MappingNode):
            return self._mapping(node)
        raise AssertionError(f"unexpected YAML node {node!r}")  # pragma: no cover

    def _scalar(self, node: ScalarNode) -> object:
        if node.tag == _PLAIN:
            return plain_scalar(node.value)
        if node.tag == _STR:
            return node.value
        build = _EXPLICIT.get(node.tag)
        if build is None:
            self._problem(node, f"YAML tag '{node.tag}' is not supported here")
            return plain_scalar(node.value)  # as if untagged, so no second problem follows
        try:
            return build(node.value)
        except ValueError:
            self._problem(node, f"'{node.value}' is not a valid {node.tag.rsplit(':', 1)[-1]}")
            return node.value

    def _mapping(self, node: MappingNode) -> dict[Any, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            self._problem(node, f"YAML tag '{node.tag}' is not supported here")
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                key_node.tag == _PLAIN and key_node.value == "<<"
            ):
                self._problem(
                    key_node, "YAML merge keys ('<<') are not supported; write the keys out"
                )
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, "a key must be a plain name, not a list or mapping")
                continue
            key = self._scalar(key_node)
            if key in out:
                self._problem(key_node, f"duplicate key '{key}'; each key may appear only once")
                continue
            out[key] = self.build(value_node)
        return out


class _TooBig(Exception):
    pass


_EXPLICIT: dict[str, Callable[[str], object]] = {
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:null": lambda text: None,
}


def parse(text: str, source: str) -> Document:
    """Parse YAML `text` (named `source` in messages).

    Malformed YAML raises SpecError. Problems that leave the data usable (a duplicate key keeps
    its first value) are returned in `Document.problems`, to be reported with the rest.
    """
    try:
        root = _Loader(text).get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or "malformed YAML"
        if exc.context:
            what = f"{what} ({exc.context})"
        raise SpecError([Problem(source, line, column, f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(source, 0, 0, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise SpecError([Problem(source, 0, 0, "invalid YAML: nested too deeply")]) from None
    if root is None:
        return Document(source, None, None)
    builder = _Builder(source)
    try:
        data = builder.build(root)
    except _TooBig:
        message = (
            f"the YAML expands to more than {MAX_VALUES:,} values (through aliases?); "
            "a network spec never needs that many"
        )
        raise SpecError([Problem(source, 1, 1, message)]) from None
    except RecursionError:
        raise SpecError([Problem(source, 0, 0, "invalid YAML: nested too deeply")]) from None
    return Document(source, data, root, tuple(builder.problems))


def read_text(path: str | Path) -> str:
    """The text of a spec file ('-' is standard input), as UTF-8 with an optional BOM."""
    import sys

    stdin = str(path) == "-"
    source = "<stdin>" if stdin else str(path)
    try:
        raw = sys.stdin.buffer.read() if stdin else Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(source, 0, 0, "no such file")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(source, 0, 0, "is a directory, not a spec file")]) from None
    except PermissionError:
        raise SpecError([Problem(source, 0, 0, "permission denied")]) from None
    except OSError as exc:
        raise SpecError([Problem(source, 0, 0, f"cannot read: {exc.strerror}")]) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8")) + 1  # in characters
        raise SpecError(
            [Problem(source, line, column, "the file is not UTF-8 text; save it as UTF-8")]
        ) from None
