"""Fuzzing every command through the real command line: mutated examples, random YAML and bytes.

Each case writes its input files into a fresh folder, runs one command in-process through
typer's CliRunner (stdout and stderr apart) and holds it to the promises of the README's
"Exit codes": exit 0, 1 or 2 only, never 70 and never a traceback; exit 1 only where a command
documents it (check: a wrong answer; gradcheck: a failed gradient; train: divergence); on exit 2
nothing on stdout and every problem as FILE:LINE:COLUMN: message naming the file given (or
`<stdin>`) at a line the file has, or as typer's usage error for a bad command-line value; on
success only "warning:" and "wrote" lines on stderr, strict JSON (no NaN, no Infinity, no -0.0)
whenever JSON is asked for, rectangular CSV with no non-finite number, and a spec written by
`--emit-spec` or `exercise -o -` that nncalc reads back.

The inputs: every example (and the answers file) parsed to a tree and mutated — keys deleted,
added and renamed, types swapped, lists reshaped, references renamed, scalars replaced by huge,
tiny, −0.0, NaN, infinite, very long, unicode and beyond-2**64 values, subtrees shared (YAML
anchors and aliases) — then dumped; the text mutated — truncated, bytes flipped, lines
duplicated (duplicate keys) or dropped, anchors, aliases, tags, merge keys and second documents
inserted; and random YAML documents and random bytes.

Budget: NNCALC_FUZZ_EXAMPLES cases per test (400 by default; each test scales it by the cost of
its command): 3066 cases in all, derandomized so that CI runs the same ones every time, in
about 40 s on the 2-core development machine (`pytest -p no:randomly tests/test_fuzz.py`).
Setting NNCALC_FUZZ_EXAMPLES makes the runs random and as long as asked; `-s` prints what each
test's cases ended in.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import functools
import io
import json
import math
import os
import re
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import typer
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import nncalc
from nncalc.activations import ALIASES as ACTIVATION_ALIASES
from nncalc.activations import REGISTRY as ACTIVATIONS
from nncalc.cli import app
from nncalc.losses import ALIASES as LOSS_ALIASES
from nncalc.losses import REGISTRY as LOSSES
from nncalc.optim import OPTIMIZERS

# --- budget ---------------------------------------------------------------------------------------

RANDOM = "NNCALC_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("NNCALC_FUZZ_EXAMPLES", "400"))


def _settings(share: float) -> settings:
    """`share` × EXAMPLES cases; derandomized (the same cases on every run) unless the budget is
    set by hand for a longer campaign."""
    return settings(
        max_examples=max(1, round(EXAMPLES * share)),
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        print_blob=RANDOM,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- the seeds: every example, and an optimizer with its state ------------------------------------

ROOT = Path(__file__).resolve().parent.parent
_FILES = sorted((ROOT / "examples").glob("*.yaml"))
SPECS = {p.name: p.read_bytes() for p in _FILES if not p.stem.endswith("-answers")}
ANSWERS = {p.name: p.read_bytes() for p in _FILES if p.stem.endswith("-answers")}
# The README's "step 2 by hand": an optimizer and its state, which no example has.
SPECS["homework-momentum.yaml"] = SPECS["homework.yaml"] + (
    b"optimizer: {name: momentum, momentum: 0.5}\n"
    b"state:\n  step: 1\n"
    b"  velocity: {w1: 1, w2: -2, w3: 0, w4: 0, w5: 0, w6: 0, w7: 0, w8: 0, w9: 0}\n"
)
TREES = {name: yaml.safe_load(text) for name, text in {**SPECS, **ANSWERS}.items()}

# --- values the mutations draw from ---------------------------------------------------------------

NAMES = (
    *("x1", "x2", "x3", "h1", "h2", "h3", "o", "o1", "o2", "cat", "dog", "bird", "h1_1", "h2_3"),
    *("w1", "w3", "w9", "v", "k", "c", "W1", "W2", "b1", "b2", "W1[1,2]", "W2[3,3]", "b2[1]"),
    *("W1[0,1]", "W1[1", "b9[1]", "w10", ""),
)
KEYS = (
    *("title", "inputs", "target", "data", "loss", "reduction", "learning_rate", "frozen"),
    *("optimizer", "state", "params", "neurons", "outputs", "layers", "weights", "bias"),
    *("activation", "names", "from", "name", "alpha", "step", "momentum", "velocity"),
    *("exp_avg", "exp_avg_sq", "square_avg", "beta1", "beta2", "eps", "weight_decay"),
)
WORDS = (
    *ACTIVATIONS,
    *ACTIVATION_ALIASES,
    *LOSSES,
    *LOSS_ALIASES,
    *OPTIMIZERS,
    *("mean", "sum", "rleu", "half_squared_eror", "adamm"),
)
SPECIAL_NUMBERS = (
    *(0, -0.0, 1, -1, 0.5, 2, 3, 1e-15, 1e15, 1e308, -1e308, 1.7976931348623157e308),
    *(2.2250738585072014e-308, 5e-324, 1e-320, -1e-320, math.nan, math.inf, -math.inf),
    *(2**53 + 1, 2**63, 2**64, 2**64 + 1, -(2**70), 10**400, -(10**400)),
)
SPECIAL_TEXTS = (
    *("", " ", "x" * 5000, "名前", "😀", "a|b", "*x*", "h_1&%$#~^\\{}", "\u202e", "\t"),
    *("line\nbreak", "\x00", "\x7f", "\x1b[31m", "1/0", "1/3", "-7/2", "0/0", "1/-2"),
    *("9" * 400 + "/1", "1e-3", "1e999", "-0", ".nan", ".inf", "-.inf", "0x1F", "0o17"),
    *("yes", "no", "on", "~", "null", "true", "1_000", "1,5", "nan", "Infinity"),
)

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(), st.floats(), finite)
texts = st.one_of(
    st.sampled_from(SPECIAL_TEXTS), st.sampled_from(NAMES + WORDS + KEYS), st.text(max_size=12)
)
scalars = st.one_of(numbers, texts, st.none(), st.booleans())
keys = st.one_of(st.sampled_from(KEYS + NAMES), st.text(max_size=8), st.integers(-2, 3))
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=24,
)
rarely = st.sampled_from([False, False, False, True])

# --- mutations of a parsed tree -------------------------------------------------------------------

Tree = Any
TreePath = tuple[Any, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _paths(tree: Tree) -> list[TreePath]:
    """Every node's path, the root's () first (a shared subtree once per place it appears)."""
    out: list[TreePath] = []
    todo: list[tuple[TreePath, Tree]] = [((), tree)]
    while todo:
        path, node = todo.pop()
        out.append(path)
        if isinstance(node, dict | list):
            children = node.items() if isinstance(node, dict) else enumerate(node)
            todo.extend(((*path, key), child) for key, child in children)
    return sorted(out, key=len)


def _at(tree: Tree, path: TreePath) -> Tree:
    for step in path:
        tree = tree[step]
    return tree


def _put(tree: Tree, path: TreePath, value: Tree) -> Tree:
    """`tree` with the node at `path` replaced by `value` (in place below the root)."""
    if not path:
        return value
    _at(tree, path[:-1])[path[-1]] = value
    return tree


def _pick(draw: Draw, tree: Tree, wanted: Callable[[Tree], bool]) -> TreePath | None:
    paths = [p for p in _paths(tree) if wanted(_at(tree, p))]
    return draw(st.sampled_from(paths)) if paths else None


def delete_node(draw: Draw, tree: Tree) -> Tree:
    path = _pick(draw, tree, lambda node: isinstance(node, dict | list) and len(node) > 0)
    if path is not None:
        parent = _at(tree, path)
        del parent[
            draw(st.sampled_from(list(parent) if isinstance(parent, dict) else range(len(parent))))
        ]
    return tree


def swap_type(draw: Draw, tree: Tree) -> Tree:
    """number ↔ string ↔ list ↔ mapping ↔ null ↔ bool, keeping the content where it can."""
    path = draw(st.sampled_from(_paths(tree)))
    node = _at(tree, path)
    if isinstance(node, dict):
        options = [list(node.values()), list(node), "text", None, 1]
    elif isinstance(node, list):
        options = [dict(enumerate(node)), {str(i): v for i, v in enumerate(node)}, "text", None]
        options += node[:1]
    elif isinstance(node, str):
        options = [[node], {node: 1}, None, False, draw(numbers)]
    elif isinstance(node, bool) or node is None:
        options = [0, "", [], {}, not node]
    else:
        options = [str(node), [node], {"value": node}, None, True]
    return _put(tree, path, draw(st.sampled_from(options)))


def reshape_list(draw: Draw, tree: Tree) -> Tree:
    """A list shorter, longer, empty, nested one level deeper, or with one ragged row."""
    path = _pick(draw, tree, lambda node: isinstance(node, list))
    if path is None:
        return tree
    items = _at(tree, path)
    how = draw(st.sampled_from(["drop", "repeat", "append", "empty", "wrap", "ragged"]))
    if how == "drop" and items:
        del items[draw(st.integers(0, len(items) - 1))]
    elif how == "repeat" and items:
        items.insert(0, copy.deepcopy(items[draw(st.integers(0, len(items) - 1))]))
    elif how == "append":
        items.append(draw(st.one_of(scalars, st.lists(numbers, max_size=3))))
    elif how == "empty":
        items.clear()
    elif how == "wrap":
        items[:] = [[item] for item in items]
    else:
        rows = [row for row in items if isinstance(row, list) and row]
        if rows:
            draw(st.sampled_from(rows)).pop()
    return tree


def _misspelt(draw: Draw, name: str) -> str:
    kinds = [name + "x", "zz" + name, name.upper(), name[::-1], draw(texts)]
    if name:
        kinds += [name[:-1], name[1:], name[:1] + name]
    return str(draw(st.sampled_from(kinds)))


def rename(draw: Draw, tree: Tree) -> Tree:
    """A name (a key, or a text value such as a source, an output or a frozen param) misspelt or
    replaced by another name: a reference to something unknown, or to the wrong thing."""
    path = _pick(draw, tree, lambda node: isinstance(node, dict | str) and node != {})
    if path is None:
        return tree
    node = _at(tree, path)
    if isinstance(node, str):
        return _put(tree, path, _misspelt(draw, node))
    old = draw(st.sampled_from(list(node)))
    new = _misspelt(draw, str(old)) if draw(st.booleans()) else draw(st.sampled_from(KEYS + NAMES))
    renamed = {new if key == old else key: value for key, value in node.items()}
    return _put(tree, path, renamed)


def extreme_number(draw: Draw, tree: Tree) -> Tree:
    """A number replaced by another, often extreme one: the spec stays well-formed, so the
    numbers reach the engine."""
    path = _pick(draw, tree, lambda node: isinstance(node, int | float) and node is not True)
    return tree if path is None else _put(tree, path, draw(numbers))


def replace_scalar(draw: Draw, tree: Tree) -> Tree:
    path = _pick(draw, tree, lambda node: not isinstance(node, dict | list))
    return tree if path is None else _put(tree, path, draw(scalars))


def add_key(draw: Draw, tree: Tree) -> Tree:
    path = _pick(draw, tree, lambda node: isinstance(node, dict))
    if path is not None:
        _at(tree, path)[draw(keys)] = draw(trees)
    return tree


def _reaches(node: Tree, target: Tree) -> bool:
    """Is `target` (the very object) `node` or inside it? Subtrees may be shared."""
    todo, seen = [node], set()
    while todo:
        item = todo.pop()
        if item is target:
            return True
        if isinstance(item, dict | list) and id(item) not in seen:
            seen.add(id(item))
            todo.extend(item.values() if isinstance(item, dict) else item)
    return False


def share(draw: Draw, tree: Tree) -> Tree:
    """One node becomes the very object of another: the dump writes an anchor and an alias."""
    paths = [p for p in _paths(tree) if p]
    if not paths:
        return tree
    target, source = draw(st.sampled_from(paths)), draw(st.sampled_from(paths))
    node = _at(tree, source)
    if _reaches(node, _at(tree, target[:-1])):  # it would hold itself: a cycle
        return tree
    return _put(tree, target, node)


def swap_nodes(draw: Draw, tree: Tree) -> Tree:
    paths = [p for p in _paths(tree) if p]
    if not paths:
        return tree
    a, b = draw(st.sampled_from(paths)), draw(st.sampled_from(paths))
    first, second = _at(tree, a), _at(tree, b)
    if _reaches(first, _at(tree, b[:-1])) or _reaches(second, _at(tree, a[:-1])):
        return tree  # one holds the other's place: a cycle
    _put(tree, a, second)
    return _put(tree, b, first)


TREE_MUTATIONS = (
    delete_node,
    swap_type,
    reshape_list,
    rename,
    replace_scalar,
    add_key,
    share,
    swap_nodes,
)


@st.composite
def mutated_tree(draw: Draw, tree: Tree) -> Tree:
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, 4))):
        tree = draw(st.sampled_from(TREE_MUTATIONS))(draw, tree)
    return tree


@st.composite
def extreme_numbers(draw: Draw, tree: Tree) -> Tree:
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, 3))):
        tree = extreme_number(draw, tree)
    return tree


@st.composite
def dumped(draw: Draw, tree: Tree) -> bytes:
    """The tree as YAML text, block or flow style."""
    return yaml.safe_dump(
        tree,
        sort_keys=False,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, None, True])),
        width=draw(st.sampled_from([80, 10**6])),
    ).encode("utf-8")


# --- mutations of the text ------------------------------------------------------------------------

SNIPPETS = (
    *(b"<<: *fz\n", b"&fz ", b"*fz", b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! !x\n"),
    *(b"!!python/object:os.system ls", b"!custom ", b"!!float ", b"!!int ", b"!!str ", b"!!null "),
    *(b"!!binary aGk=", b"!!timestamp 2001-12-14", b"!!set {a}", b"!!omap [a: 1]", b"? "),
    *(
        b"\t",
        b"  ",
        b"\xef\xbb\xbf",
        b"\r\n",
        b"\r",
        b"\xc2\x85",
        b"\xe2\x80\xa8",
        b"{",
        b"[",
        b"]",
    ),
    *(b"\x00", b"\xff", b"\xc3", b"#", b"|\n  x\n", b">-\n", b"'", b'"', b"\\", b": ", b"- "),
    *(b"&a [*a]", b"1e999", b".nan", b"-.inf", b"99999999999999999999999"),
)
PLAIN_TOKEN = re.compile(rb"(?<=[:,\[-] )[-\w./+]+")


def truncate(draw: Draw, text: bytes) -> bytes:
    return text[: draw(st.integers(0, len(text)))]


def flip_bytes(draw: Draw, text: bytes) -> bytes:
    if not text:
        return text
    out = bytearray(text)
    for _ in range(draw(st.integers(1, 3))):
        out[draw(st.integers(0, len(out) - 1))] ^= draw(st.integers(1, 255))
    return bytes(out)


def insert(draw: Draw, text: bytes) -> bytes:
    at = draw(st.integers(0, len(text)))
    piece = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(min_size=1, max_size=4)))
    return text[:at] + piece + text[at:]


def shuffle_lines(draw: Draw, text: bytes) -> bytes:
    """A line repeated (often a duplicate key), dropped, or moved."""
    lines = text.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["repeat", "drop", "move"]))
    line = lines[i] if how == "repeat" else lines.pop(i)
    if how != "drop":
        lines.insert(draw(st.integers(0, len(lines))), line)
    return b"\n".join(lines)


def alias_scalar(draw: Draw, text: bytes) -> bytes:
    """An anchor on one plain scalar and an alias in place of another (before it: unknown)."""
    spans = [m.span() for m in PLAIN_TOKEN.finditer(text)]
    if len(spans) < 2:
        return text
    (a, b), (c, d) = draw(st.sampled_from(spans)), draw(st.sampled_from(spans))
    if (a, b) == (c, d):
        return text
    edits = sorted([(a, a, b"&fz "), (c, d, b"*fz")], reverse=True)
    for start, end, piece in edits:
        text = text[:start] + piece + text[end:]
    return text


def line_endings(draw: Draw, text: bytes) -> bytes:
    ending = draw(st.sampled_from([b"\r\n", b"\r", b"\xe2\x80\xa8"]))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.replace(b"\n", ending)


TEXT_MUTATIONS = (truncate, flip_bytes, insert, shuffle_lines, alias_scalar, line_endings)


@st.composite
def mutated_text(draw: Draw, text: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(TEXT_MUTATIONS))(draw, text)
    return text


def _laughs(depth: int) -> bytes:
    """Nested aliases, each level doubling the values: 2**depth in all."""
    lines = [b"a0: &a0 [1, 1]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]".encode() for i in range(1, depth + 1)]
    return b"\n".join(lines) + b"\n"


# --- whole input files ----------------------------------------------------------------------------


def _inputs(seeds: dict[str, bytes]) -> st.SearchStrategy[bytes]:
    """A seed as it is, mutated as a tree, as text, or both; random YAML; random bytes."""
    names = st.sampled_from(sorted(seeds))
    as_tree = names.flatmap(lambda n: mutated_tree(TREES[n])).flatmap(dumped)
    extreme = names.flatmap(lambda n: extreme_numbers(TREES[n])).flatmap(dumped)
    return st.one_of(
        names.map(seeds.__getitem__),
        extreme,
        extreme,
        as_tree,
        as_tree,
        as_tree,
        as_tree.flatmap(mutated_text),
        names.map(seeds.__getitem__).flatmap(mutated_text),
        st.one_of(trees, st.dictionaries(st.sampled_from(KEYS), trees, min_size=1)).flatmap(dumped),
        st.one_of(st.binary(max_size=200), st.integers(0, 26).map(_laughs)),
    )


spec_texts = _inputs(SPECS)


@functools.cache
def _answer_names(spec: str) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """The neurons, the param values (W1[1,2] for a matrix entry) and the samples of a spec:
    what its answers files may name."""
    data = nncalc.backprop(nncalc.load_spec(SPECS[spec].decode())).to_data()
    params: list[str] = []
    for name, value in data["gradients"].items():
        if not isinstance(value, list):
            params.append(name)
        for i, row in enumerate(value if isinstance(value, list) else [], 1):
            columns = range(1, len(row) + 1) if isinstance(row, list) else [None]
            params += [f"{name}[{i},{j}]" if j else f"{name}[{i}]" for j in columns]
    return tuple(data["neurons"]), tuple(params), data["batch_size"]


@st.composite
def answers_for(draw: Draw, spec: str) -> bytes:
    """An answers file naming the spec's own quantities (so that they get marked), with now
    and then a name or a sample the spec does not have."""
    neurons, params, samples = _answer_names(spec)
    keys = []
    for _ in range(draw(st.integers(1, 8))):
        sample = draw(st.sampled_from(("", *(f"@{k}" for k in range(1, samples + 1)))))
        if draw(rarely):
            sample = draw(st.sampled_from(("@0", f"@{samples + 1}", "@x", "@")))
        kind = draw(st.sampled_from(("neuron", "neuron", "param", "loss", "other")))
        if kind == "neuron":
            what = draw(st.sampled_from(("a", "pre", "z", "act", "net", "out", "delta", "δ")))
            keys.append(f"{what}.{draw(st.sampled_from(neurons))}{sample}")
        elif kind == "param":
            what = draw(st.sampled_from(("grad", "new", "updated")))
            keys.append(f"{what}.{draw(st.sampled_from(params))}")
        elif kind == "loss":
            keys.append(draw(st.sampled_from(("loss", "L"))) + sample)
        else:
            keys.append(draw(st.sampled_from(("grad", "a.", "x.h1", "grad.zz", "loss.o", "δ"))))
    values = st.one_of(finite, st.sampled_from(("9/2", "-22/5", "1/0", "1/3", "0", "-0.0")))
    answers = {key: draw(st.one_of(values, values, values, scalars)) for key in keys}
    return draw(dumped(answers))


# --- command lines --------------------------------------------------------------------------------

FORMATS = ("table", "json", "json", "json", "markdown", "latex", "csv", "JSON", "xml")
FILE_NAMES = ("net.yaml", "my net.yaml", "sub/spec.yaml", "ünï:1:2.yaml")
OUTPUTS = ("out.yaml", "net.yaml", "missing/out.yaml", ".", "sub")
good_floats = st.sampled_from(("0", "0.1", "1", "0.5", "2", "0.9", "-0.0", "1e308", "1e-320"))
floats_arg = st.one_of(  # mostly valid; a quarter not a number or not finite, some negative
    good_floats,
    good_floats,
    finite.map(repr),
    st.sampled_from(("nan", "inf", "-inf", "abc", "", "1/2", "-1")),
)
lr_arg = st.one_of(good_floats, good_floats, floats_arg)
ints_arg = st.one_of(
    st.integers(0, 15).map(str),
    st.integers(0, 15).map(str),
    st.integers(-2, 40).map(str),
    st.sampled_from(("abc", "1.5", "99999999999999999999")),
)


@dataclass
class Case:
    """One run: the command line, the files it finds in its folder, and what its stdin holds."""

    command: str
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes | None = None
    fmt: str = "table"
    emits: bool = False  # stdout is a spec (--emit-spec or exercise -o -), not the format
    others: tuple[str, ...] = ()  # files named but not given: to be written, or missing

    def sources(self) -> dict[str, bytes]:
        """The inputs a located message may name, each with its text."""
        out = dict(self.files)
        if self.stdin is not None:
            out["<stdin>"] = self.stdin
        return out


@st.composite
def spec_argument(draw: Draw, case: Case, texts: st.SearchStrategy[bytes] = spec_texts) -> None:
    """The spec as a file (under an awkward name, sometimes) or on standard input."""
    text = draw(texts)
    if draw(rarely):
        case.args.append("-")
        case.stdin = text
    else:
        name = draw(st.sampled_from(FILE_NAMES))
        case.args.append(name)
        case.files[name] = text


@st.composite
def output_options(draw: Draw, case: Case) -> None:
    """The format, the precision, --standalone: each usually valid, now and then not."""
    fmt = draw(st.sampled_from(FORMATS))
    case.args += ["-f", fmt]
    case.fmt = fmt.lower()
    if draw(rarely):
        case.args += ["-p", draw(st.sampled_from(("1", "3", "17", "0", "18", "x")))]
    if draw(rarely) and (case.fmt == "latex" or draw(rarely)):
        case.args.append("--standalone")


@st.composite
def arithmetic(draw: Draw, case: Case) -> None:
    """--notation, --exact, --round N (and both, which is bad usage)."""
    notations = ("seed", "nielsen", "mazur", "NIELSEN", "x")
    if draw(rarely):
        case.args += ["--notation", draw(st.sampled_from(notations))]
    mode = draw(st.sampled_from(((), (), (), ("--exact",), ("--round",))))
    if mode == ("--round",):
        mode = ("--round", draw(ints_arg))
    if mode == ("--exact",) and draw(rarely) and draw(rarely):
        mode += ("--round", "1")
    case.args += mode


def option(case: Case, name: str, value: str | None) -> None:
    if value is not None:
        case.args += [name, value]


@st.composite
def optimizer_options(draw: Draw, case: Case) -> None:
    if not draw(rarely):
        return
    names = (*OPTIMIZERS, "adm", "ADAM")
    option(case, "--optimizer", draw(st.none() | st.sampled_from(names)))
    for name in ("--momentum", "--alpha", "--beta1", "--beta2", "--eps", "--weight-decay"):
        if draw(rarely):
            option(case, name, draw(floats_arg))
    if draw(rarely):
        option(case, "--momentum-form", draw(st.sampled_from(("torch", "classic", "x"))))


@st.composite
def emit_options(draw: Draw, case: Case) -> None:
    """--emit-spec to stdout or to a file (which may exist, or sit in a missing folder)."""
    if not draw(rarely):
        return
    emit = draw(st.booleans())
    output = draw(st.none() | st.sampled_from(OUTPUTS))
    if emit:
        case.args.append("--emit-spec")
    if output is not None:
        case.args += ["-o", output]
        case.others = (output,)
        if draw(st.booleans()):
            case.args.append("--force")
        if draw(st.booleans()) and output != ".":  # the target exists (as a folder: sub)
            case.files.setdefault(output if output != "sub" else "sub/x", b"old\n")
    case.emits = emit and output is None


@st.composite
def forward_case(draw: Draw) -> Case:
    case = Case("forward", ["forward"])
    draw(spec_argument(case))
    draw(output_options(case))
    draw(arithmetic(case))
    return case


@st.composite
def backprop_case(draw: Draw) -> Case:
    case = Case("backprop", ["backprop"])
    draw(spec_argument(case))
    draw(output_options(case))
    draw(arithmetic(case))
    if draw(st.booleans()):
        option(case, "--lr", draw(lr_arg))
    if draw(rarely):
        case.args.append("--explain")
    draw(optimizer_options(case))
    draw(emit_options(case))
    return case


@st.composite
def train_case(draw: Draw) -> Case:
    case = Case("train", ["train"])
    draw(spec_argument(case))
    draw(output_options(case))
    option(case, "--steps", draw(st.sampled_from(("1", "2", "3", "5", "1", "2", "3", "0"))))
    if draw(st.booleans()):
        option(case, "--lr", draw(lr_arg))
    if draw(st.booleans()):
        option(case, "--batch-size", draw(st.sampled_from(("1", "2", "3", "4", "0"))))
        option(case, "--seed", draw(ints_arg))
    if draw(rarely):
        schedules = ("constant", "step", "exponential", "cosine", "linear")
        option(case, "--schedule", draw(st.sampled_from(schedules)))
        for name in ("--gamma", "--min-lr"):
            option(case, name, draw(st.none() | floats_arg))
        option(case, "--every", draw(st.none() | ints_arg))
    if draw(rarely):
        option(case, "--until-loss", draw(floats_arg))
    if draw(rarely):
        option(case, "--trace", draw(st.sampled_from(("params", "loss"))))
    if draw(rarely):
        case.args.append("--noise")
    draw(optimizer_options(case))
    draw(emit_options(case))
    return case


@st.composite
def explain_case(draw: Draw) -> Case:
    case = Case("explain", ["explain"])
    draw(spec_argument(case))
    case.args += draw(st.lists(st.sampled_from(NAMES) | st.text(max_size=6), max_size=3))
    draw(output_options(case))
    draw(arithmetic(case))
    if draw(st.booleans()):
        option(case, "--lr", draw(lr_arg))
    return case


@st.composite
def check_case(draw: Draw) -> Case:
    """A spec (mostly an example as it is, so that the answers get marked) and an answers file;
    either may come on stdin, and the spec may be left to ./net.yaml (present or not)."""
    case = Case("check", ["check"])
    name = draw(st.sampled_from(sorted(SPECS)))
    spec = draw(st.one_of(st.just(SPECS[name]), st.just(SPECS[name]), spec_texts))
    answers = draw(st.one_of(answers_for(name), answers_for(name), _inputs(ANSWERS)))
    layout = draw(st.sampled_from(("files", "files", "files", "stdin spec", "stdin answers")))
    layout = draw(st.sampled_from((layout, layout, "default spec", "no spec", "both stdin")))
    if layout == "files":
        case.args += ["net.yaml", "answers.yaml"]
        case.files.update({"net.yaml": spec, "answers.yaml": answers})
    elif layout == "stdin spec":
        case.args += ["-", "answers.yaml"]
        case.files["answers.yaml"], case.stdin = answers, spec
    elif layout == "stdin answers":
        case.args += ["net.yaml", "-"]
        case.files["net.yaml"], case.stdin = spec, answers
    elif layout == "both stdin":
        case.args += ["-", "-"]
        case.stdin = spec
    else:
        case.args.append("answers.yaml")
        case.files["answers.yaml"] = answers
        if layout == "default spec":
            case.files["net.yaml"] = spec
        else:
            case.others = ("net.yaml",)
    draw(output_options(case))
    draw(arithmetic(case))
    if draw(rarely):
        option(case, "--lr", draw(lr_arg))
    return case


@st.composite
def gradcheck_case(draw: Draw) -> Case:
    case = Case("gradcheck", ["gradcheck"])
    draw(spec_argument(case))
    draw(output_options(case))
    if draw(rarely):
        option(case, "--tol", draw(floats_arg))
    return case


@st.composite
def graph_case(draw: Draw) -> Case:
    case = Case("graph", ["graph"])
    draw(spec_argument(case))
    fmt = draw(st.sampled_from((None, "mermaid", "dot", "DOT", "svg")))
    option(case, "-f", fmt)
    if draw(st.booleans()):
        case.args.append("--grad")
    if draw(rarely):
        option(case, "--lr", draw(lr_arg))
    if draw(rarely):
        option(case, "--sample", draw(st.sampled_from(("1", "2", "3", "4", "0"))))
    if draw(rarely):
        option(case, "-p", draw(st.sampled_from(("1", "17", "0"))))
    return case


SHAPE_PARTS = st.sampled_from(("1", "2", "3", "4", "8", "0", "9", "", "x", "-1"))


@st.composite
def exercise_case(draw: Draw) -> Case:
    case = Case("exercise", ["exercise"])
    seeds = st.integers(0, 10**6).map(str)
    option(case, "--seed", draw(st.one_of(seeds, seeds, seeds, ints_arg)))
    if draw(st.booleans()):
        shape = draw(st.lists(SHAPE_PARTS, min_size=1, max_size=5).map("-".join))
        good = draw(st.sampled_from(("2-3-1", "2-2-1", "3-4-2", "2-2-2-1", "1-1")))
        option(case, "--shape", draw(st.sampled_from((shape, good, good))))
    if draw(st.booleans()):
        names = st.sampled_from((*ACTIVATIONS, *ACTIVATION_ALIASES, "rleu", "", "{name: elu}"))
        option(case, "--activations", ",".join(draw(st.lists(names, min_size=1, max_size=4))))
    if draw(rarely):
        option(case, "--loss", draw(st.sampled_from((*LOSSES, *LOSS_ALIASES, "hse"))))
    if draw(rarely):
        option(case, "--lr", draw(lr_arg))
    if draw(rarely):
        case.args.append("--bias")
    for name in ("--dead", "--saturated"):
        if draw(rarely):
            option(case, name, draw(st.sampled_from(("0", "1", "2", "5", "-1"))))
    if draw(rarely):
        option(case, "--key-format", draw(st.sampled_from(("markdown", "latex", "pdf"))))
    output = draw(st.sampled_from((None, "-", "-", "ex", "missing/ex", "sub")))
    option(case, "-o", output)
    if draw(rarely) and (output != "-" or draw(rarely)):
        case.args.append("--force")
    if draw(rarely):
        case.files["ex-key.md"] = b"old\n"
    case.emits = output == "-"
    case.others = (output or "exercise-",)
    return case


activation_names = st.one_of(
    st.sampled_from((*ACTIVATIONS, *ACTIVATION_ALIASES)),
    st.sampled_from((*ACTIVATIONS, *ACTIVATION_ALIASES)),
    st.sampled_from(
        (
            *("leaky_relu(alpha=0.2)", "elu(alpha=2)", "leaky_relu(alpha=nan)", "elu(alpha=-1)"),
            *("relu(alpha=1)", "leaky_relu(alpha=)", "leaky_relu(0.2)", "elu(alpha=1e999)"),
            *("{name: elu, alpha: 2}", "{name: [1]}", "{alpha: 1}", "{name: softmax}", "(", "{"),
            *("leaky_relu(alpha=0.2, alpha=0.3)", "LEAKY_RELU", "rleu", "", "- relu", "[relu]"),
        )
    ),
    st.text(max_size=10),
)


@st.composite
def activations_case(draw: Draw) -> Case:
    case = Case("activations", ["activations"])
    case.args += draw(st.lists(activation_names, max_size=3))
    for _ in range(draw(st.integers(0, 3))):
        option(case, "--at", draw(floats_arg))
    if draw(rarely):
        option(case, "--depth", draw(st.sampled_from(("1", "10", "100", "2000", "0"))))
        if draw(st.booleans()):
            option(case, "--weight", draw(floats_arg))
    elif draw(rarely):
        option(case, "--weight", "2")  # without --depth: bad usage
    fmt = draw(st.sampled_from(("json", "json", "json", "csv", "markdown", "latex", "table")))
    case.args += ["-f", fmt]
    case.fmt = fmt
    return case


@st.composite
def init_case(draw: Draw) -> Case:
    case = Case("init", ["init"])
    name = draw(st.sampled_from(("-", "net.yaml", "sub/x.yaml", "missing/x.yaml", ".", "old.yaml")))
    case.args.append(name)
    case.files["sub/old.yaml"] = b"x: 1\n"
    case.files["old.yaml"] = b"x: 1\n"
    case.emits = name == "-"
    case.others = (name,)
    return case


@st.composite
def schema_case(draw: Draw) -> Case:
    case = Case("schema", ["schema"])
    output = draw(st.sampled_from((None, "s.json", "old.yaml", "missing/s.json", ".")))
    option(case, "-o", output)
    case.others = (output or "",)
    if draw(rarely):
        case.args.append("--force")
    case.files["old.yaml"] = b"x: 1\n"
    return case


# --- running a case, and what every run must keep to ----------------------------------------------

runner = CliRunner()
LOCATED = re.compile(r"(?P<line>\d+):(?P<column>\d+): (?P<message>.+)")
# Problems with no place inside a text: the file itself, a file to be written, or something
# that is missing altogether. Anything else must have a line and a column.
WHOLE_FILE = re.compile(
    r"no such file|is a directory|exists; |the folder .* does not exist|cannot write here"
    r"|training needs a learning rate|--emit-spec writes the updated params|the network has"
)
YAML_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
EXIT_ONE = {"check", "gradcheck", "train"}  # a wrong answer, a failed gradient, divergence
NUMERIC_CSV = {"value", "analytic", "numeric", "abs_error", "rel_error", "answer", "correct"}


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


@functools.cache
def one_command(name: str) -> typer.Typer:
    """`app` with only the command `name`, as nncalc's entry point builds it for a run: typer
    sets up every command's options on each call, which would cost more than most cases."""
    single = typer.Typer(
        name="nncalc", add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    single.registered_callback = app.registered_callback
    single.registered_commands = [
        c for c in app.registered_commands if (c.name or c.callback.__name__) == name
    ]
    assert single.registered_commands, name
    return single


def run(case: Case, *extra: str) -> Result:
    """Run the case in a folder of its own (so nothing written leaks into the checkout)."""
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        for name, data in case.files.items():
            path = Path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return runner.invoke(one_command(case.command), [*case.args, *extra], input=case.stdin)


def describe(case: Case, result: Result) -> str:
    """Everything needed to replay a failed case by hand."""
    parts = [f"nncalc {' '.join(repr(a) for a in case.args)} -> exit {result.exit_code}"]
    parts += [f"--- {name}:\n{data[:2000]!r}" for name, data in case.sources().items()]
    parts += [f"--- stdout:\n{result.stdout[:3000]}", f"--- stderr:\n{result.stderr[:3000]}"]
    if result.exc_info and not isinstance(result.exception, SystemExit):
        parts.append("".join(traceback.format_exception(*result.exc_info))[-3000:])
    elif result.exit_code == 70 and case.command not in ("init", "schema"):
        again = run(case, "--debug")
        if again.exc_info:
            parts.append("".join(traceback.format_exception(*again.exc_info))[-3000:])
    return "\n".join(parts)


def judge(case: Case, result: Result) -> str:
    """What the run ended in (for the statistics); fails on any broken promise."""
    assert result.exit_code in (0, 1, 2), describe(case, result)
    assert result.exception is None or isinstance(result.exception, SystemExit), describe(
        case, result
    )
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, describe(case, result)
        assert "internal error" not in stream, describe(case, result)
    if result.exit_code == 2:
        return _rejected(case, result)
    assert result.exit_code == 0 or case.command in EXIT_ONE, describe(case, result)
    _succeeded(case, result)
    return f"exit {result.exit_code}"


def _rejected(case: Case, result: Result) -> str:
    assert result.stdout == "", describe(case, result)
    # Lines end at "\n" only: a message quoting a "\r" from the spec is a finding of its own
    # (see the regressions), not a reason to stop looking for others.
    lines = [line for line in result.stderr.split("\n") if line.strip()]
    assert lines, describe(case, result)
    if lines[0].startswith("Usage: "):
        error = next((line for line in lines if line.startswith("Error: ")), "")
        assert error, describe(case, result)
        return "usage: " + re.sub(r"(: |\.).*", "", error.removeprefix("Error: "))
    kinds = {_problem(case, line, result) for line in lines}
    return " + ".join(sorted(kinds))


def _problem(case: Case, line: str, result: Result) -> str:
    """The kind of one problem line: located in an input, about a whole file, or about the
    command line."""
    if line.startswith("<command line>: "):
        return "command line"
    for source, text in case.sources().items():
        if not line.startswith(source + ":"):
            continue
        rest = line[len(source) + 1 :]
        located = LOCATED.match(rest)
        if located:
            line_no, column = int(located["line"]), int(located["column"])
            decoded = text.decode("utf-8", "replace")
            lines = len(YAML_LINE_BREAK.findall(decoded)) + 1
            assert line_no >= 1 and column >= 1, describe(case, result)
            if line_no == lines + 1 and column == 1 and not YAML_LINE_BREAK.match(decoded[-1:]):
                return "located past the end"  # the end of a text with no final line break
            assert line_no <= lines, describe(case, result)
            return "located"
        if WHOLE_FILE.match(rest.strip()):
            return "whole file"
    named = any(line.startswith(other) for other in case.others)
    assert named and WHOLE_FILE.search(line), f"not FILE:LINE:COLUMN: message: {line!r}\n" + (
        describe(case, result)
    )
    return "whole file"


def _succeeded(case: Case, result: Result) -> None:
    """Exit 0 or 1: the output is what was asked for, and stderr holds only notes."""
    for line in result.stderr.split("\n"):
        assert line.startswith(("warning: ", "wrote ")) or not line, describe(case, result)
    if case.emits:
        _reads_back(case, result)
    elif case.fmt == "json":
        assert "warning: " not in result.stderr, describe(case, result)  # they go into the JSON
        try:
            data = strict_json(result.stdout)
        except ValueError as exc:  # not JSON, or NaN / Infinity in it
            raise AssertionError(f"{exc}\n{describe(case, result)}") from None
        assert data["command"] == case.command, describe(case, result)
        negative_zero = any(x == 0 and math.copysign(1, x) < 0 for x in _floats(data))
        assert not negative_zero, "-0.0 in the JSON\n" + describe(case, result)
        if result.exit_code == 1:
            assert _exit_one_reason(data), describe(case, result)
    elif case.fmt == "csv":
        _csv_ok(case, result)


def _floats(data: Any) -> list[float]:
    """Every float anywhere in JSON data."""
    if isinstance(data, dict):
        return [x for value in data.values() for x in _floats(value)]
    if isinstance(data, list):
        return [x for value in data for x in _floats(value)]
    return [data] if isinstance(data, float) else []


def _exit_one_reason(data: dict[str, Any]) -> bool:
    """Does the JSON show the documented reason for exit 1?"""
    if data["command"] == "check":
        return bool(data["summary"]["right"] != data["summary"]["total"])
    if data["command"] == "gradcheck":
        return bool(data["summary"]["failed"])
    return bool(data["stopped"]["reason"] == "diverged")


def _csv_ok(case: Case, result: Result) -> None:
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows and len({len(row) for row in rows}) == 1, describe(case, result)
    if case.command == "activations":
        return  # its value column holds text too ("(−∞, ∞)", an infinite end as "inf")
    for row in rows[1:]:
        for name, cell in zip(rows[0], row, strict=True):
            if name in NUMERIC_CSV and re.fullmatch(r"[-+]?(nan|inf)", cell, re.IGNORECASE):
                raise AssertionError(f"non-finite CSV value {cell!r}\n" + describe(case, result))


def _reads_back(case: Case, result: Result) -> None:
    """A spec written to stdout (--emit-spec, exercise -o -) is one nncalc accepts."""
    again = run(Case("forward", ["forward", "-", "-f", "json"], stdin=result.stdout.encode()))
    assert again.exit_code == 0, (again.stderr, describe(case, result))


def campaign(name: str, cases: st.SearchStrategy[Case], share: float = 1.0) -> Counter[str]:
    """Run `share` × EXAMPLES cases of one command; count what they ended in."""
    stats: Counter[str] = Counter()

    @_settings(share)
    @given(cases)
    def one(case: Case) -> None:
        stats[judge(case, run(case))] += 1

    one()
    print(f"\n{name}: {sum(stats.values())} cases: {dict(stats.most_common())}")
    return stats


def reaches_every_outcome(stats: Counter[str], *outcomes: str) -> None:
    """The cases got past the parser into the command (and were also refused at a place), so
    the campaign tested the command and not only the YAML reader."""
    for outcome in outcomes:
        assert any(kind.startswith(outcome) for kind in stats), (outcome, dict(stats))


# --- the oracle itself ----------------------------------------------------------------------------

TEXT = b"inputs: {x1: 1}\nneurons: {}"  # two lines, no line break at the end


def _fake(code: int, stdout: str = "", stderr: str = "") -> Result:
    exception = SystemExit(code) if code else None
    return Result(runner, stdout.encode(), stderr.encode(), b"", None, code, exception)


@pytest.mark.parametrize(
    ("command", "fmt", "result"),
    [
        ("forward", "table", _fake(70, stderr="nncalc: internal error: KeyError: 'x'\n")),
        ("forward", "table", _fake(2, "partial output", "net.yaml:1:1: bad\n")),
        ("forward", "table", _fake(2, stderr="net.yaml: bad, somewhere\n")),
        ("forward", "table", _fake(2, stderr="other.yaml:1:1: bad\n")),
        ("forward", "table", _fake(2, stderr="net.yaml:4:1: beyond the last line\n")),
        ("forward", "table", _fake(2, stderr="net.yaml:3:2: beyond the end\n")),
        ("forward", "table", _fake(2, stderr="net.yaml:0:3: no such line\n")),
        ("forward", "table", _fake(2)),
        ("forward", "table", _fake(1, "a table\n")),
        ("forward", "table", _fake(0, "a table\n", "Traceback (most recent call last):\n")),
        ("forward", "table", _fake(0, "a table\n", "stray text\n")),
        ("forward", "json", _fake(0, '{"command": "forward", "loss": NaN}')),
        ("forward", "json", _fake(0, '{"command": "forward"}', "warning: kink\n")),
        ("forward", "json", _fake(0, '{"command": "backprop"}')),
        ("forward", "json", _fake(0, '{"command": "forward", "loss": [1.5, -0.0]}')),
        ("check", "json", _fake(1, '{"command": "check", "summary": {"right": 2, "total": 2}}')),
        ("forward", "csv", _fake(0, "kind,name,sample,value\nloss,,,1.0,extra\n")),
        ("forward", "csv", _fake(0, "kind,name,sample,value\nloss,,,nan\n")),
    ],
)
def test_the_oracle_fails_a_broken_promise(command: str, fmt: str, result: Result) -> None:
    """Each of these runs breaks a promise of the README, so the campaigns would report it."""
    case = Case(command, [command, "net.yaml"], {"net.yaml": TEXT}, fmt=fmt)
    with pytest.raises(AssertionError):
        judge(case, result)


@pytest.mark.parametrize(
    ("fmt", "result", "outcome"),
    [
        ("table", _fake(2, stderr="net.yaml:2:10: neurons: empty\n"), "located"),
        ("table", _fake(2, stderr="net.yaml:3:1: invalid YAML: end\n"), "located past the end"),
        ("table", _fake(2, stderr="<command line>: unknown activation\n"), "command line"),
        (
            "table",
            _fake(2, stderr="Usage: nncalc forward\n\nError: No such option: --x\n"),
            "usage: No such option",
        ),
        ("json", _fake(0, '{"command": "forward", "loss": null}'), "exit 0"),
        ("table", _fake(0, "a table\n", "warning: a kink\n"), "exit 0"),
    ],
)
def test_the_oracle_passes_what_is_promised(fmt: str, result: Result, outcome: str) -> None:
    case = Case("forward", ["forward", "net.yaml"], {"net.yaml": TEXT}, fmt=fmt)
    assert judge(case, result) == outcome


# --- one campaign per command ---------------------------------------------------------------------


def test_forward() -> None:
    reaches_every_outcome(campaign("forward", forward_case()), "exit 0", "located")


def test_backprop() -> None:
    reaches_every_outcome(campaign("backprop", backprop_case()), "exit 0", "located")


def test_train() -> None:
    stats = campaign("train", train_case(), 0.6)
    reaches_every_outcome(stats, "exit 0", "located", "usage: Invalid value")


def test_explain() -> None:
    reaches_every_outcome(campaign("explain", explain_case(), 0.6), "exit 0", "located")


def test_check() -> None:
    reaches_every_outcome(campaign("check", check_case(), 0.6), "exit 1", "located")


def test_gradcheck() -> None:
    reaches_every_outcome(campaign("gradcheck", gradcheck_case(), 0.6), "exit 0", "located")


def test_graph() -> None:
    reaches_every_outcome(campaign("graph", graph_case(), 0.8), "exit 0", "located")


def test_exercise() -> None:
    stats = campaign("exercise", exercise_case(), 0.6)
    reaches_every_outcome(stats, "exit 0", "usage: Invalid value")


def test_activations() -> None:
    stats = campaign("activations", activations_case(), 0.8)
    reaches_every_outcome(stats, "exit 0", "command line", "usage: Invalid value")


def test_init() -> None:
    reaches_every_outcome(campaign("init", init_case(), 0.1), "exit 0", "whole file")


def test_schema() -> None:
    reaches_every_outcome(campaign("schema", schema_case(), 0.1), "exit 0", "whole file")


# --- the same inputs through the library ----------------------------------------------------------


@_settings(1.0)
@given(spec_texts, st.sampled_from((None, 0.0, 0.5, 1e300)))
def test_library(text: bytes, lr: float | None) -> None:
    """load_spec raises SpecError with located problems, or the spec runs: forward, backprop
    and its JSON data (strict) never raise anything else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.yaml"
        path.write_bytes(text)
        try:
            spec = nncalc.load_spec(path)
        except nncalc.SpecError as exc:
            for problem in exc.problems:
                assert problem.source == str(path)
                assert problem.line >= 1 and problem.column >= 1, problem
            return
    json.dumps(nncalc.forward(spec).to_data(), allow_nan=False)
    json.dumps(nncalc.backprop(spec, lr=lr).to_data(), allow_nan=False)


# --- regressions found by fuzzing -----------------------------------------------------------------

SMALL = (
    "inputs: {x1: 1}\n"
    "params: {w: 1}\n"
    "neurons: {o: {from: {x1: w}, activation: identity}}\n"
    "target: {o: 1}\n"
)


def refused(tmp_path: Path, text: str | bytes, *args: str) -> list[str]:
    """Run `nncalc ARGS` (the full app) on net.yaml holding `text`: it must exit 2 with nothing
    on stdout and no traceback; the lines of stderr."""
    spec = tmp_path / "net.yaml"
    spec.write_bytes(text.encode() if isinstance(text, str) else text)
    (tmp_path / "answers.yaml").write_text("loss: 1\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, list(args))
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.stderr.split("\n")[:-1]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (SMALL.replace("{x1: 1}", "{x1: " + "9" * 400 + "/1}"), "net.yaml:1:14: inputs.x1: "),
        (SMALL.replace("{x1: 1}", '{x1: "-' + "9" * 400 + '/3"}'), "net.yaml:1:14: inputs.x1: "),
        (SMALL + "learning_rate: " + "9" * 400 + "/1\n", "net.yaml:5:16: learning_rate: "),
    ],
)
def test_a_fraction_too_large_for_a_float_is_bad_input(
    tmp_path: Path, text: str, place: str
) -> None:
    """Crashed with OverflowError (exit 70) in spec.py's fraction(): float(Fraction) of a
    numerator beyond 1.8e308. Like a decimal integer that large, it is bad input at its place."""
    lines = refused(tmp_path, text, "forward", "net.yaml")
    assert len(lines) == 1 and lines[0].startswith(place), lines


@pytest.mark.parametrize(
    ("text", "place"),
    [(b"\x00", "net.yaml:1:1: "), (SMALL.encode() + b"title: a\x01b\n", "net.yaml:5:9: ")],
)
def test_a_control_character_is_located(tmp_path: Path, text: bytes, place: str) -> None:
    """Was 'net.yaml: invalid YAML: unacceptable character #x0000: … in "<unicode string>",
    position 0': no line and column (PyYAML's ReaderError carries a position, not a mark), and
    PyYAML's own wording of where."""
    lines = refused(tmp_path, text, "forward", "net.yaml")
    assert len(lines) == 1 and lines[0].startswith(place), lines
    assert "<unicode string>" not in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "net.yaml"],
        ["backprop", "net.yaml", "--explain"],
        ["backprop", "net.yaml", "--round", "2"],
        ["backprop", "net.yaml", "--exact"],
        ["check", "net.yaml", "answers.yaml"],
    ],
)
def test_a_spec_optimizer_that_plain_sgd_modes_refuse_is_located(
    tmp_path: Path, args: list[str]
) -> None:
    """Was 'net.yaml: derivations work plain SGD steps; the optimizer adam is not supported
    there …' (and 'check works plain SGD steps …'): no line and column, though the spec's
    `optimizer` (line 5) is what is refused."""
    lines = refused(tmp_path, SMALL + "optimizer: adam\n", *args)
    assert len(lines) == 1, lines
    assert lines[0].startswith("net.yaml:5:") and LOCATED.match(lines[0][len("net.yaml:") :])


@pytest.mark.parametrize(
    ("optimizer", "args"),
    [
        ("", ["backprop"]),
        ("optimizer: momentum\n", ["backprop", "--optimizer", "sgd"]),
        ("optimizer: momentum\n", ["backprop", "--optimizer", "adam"]),
        ("optimizer: momentum\n", ["train", "--steps", "1", "--optimizer", "sgd"]),
    ],
)
def test_state_buffers_the_optimizer_does_not_keep_are_located(
    tmp_path: Path, optimizer: str, args: list[str]
) -> None:
    """Were 'net.yaml: the state has buffers (velocity), which sgd does not keep …' and
    'net.yaml: the state has a buffer 'velocity', which adam does not keep …' with no place,
    though the buffer is the spec's state.velocity (where `optimizer: adam` in the spec reports
    the same buffer)."""
    text = SMALL + "learning_rate: 1\n" + optimizer + "state: {step: 1, velocity: {w: 1}}\n"
    line = text.splitlines().index("state: {step: 1, velocity: {w: 1}}") + 1
    lines = refused(tmp_path, text, args[0], "net.yaml", *args[1:])
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"net.yaml:{line}:"), lines
    assert LOCATED.match(lines[0][len("net.yaml:") :]), lines


@pytest.mark.parametrize("escape", ["\\r", "\\e[31m"])
def test_a_control_character_in_a_value_is_escaped_in_its_message(
    tmp_path: Path, escape: str
) -> None:
    """The message quoted the text raw: '\\r' printed one problem as two lines (a terminal
    overwrites its start with its end), '\\e[31m' turned the terminal red. Each problem is one
    line of printable text."""
    lines = refused(tmp_path, SMALL + f'learning_rate: "a{escape}b"\n', "forward", "net.yaml")
    assert len(lines) == 1 and lines[0].startswith("net.yaml:5:16: learning_rate: "), lines
    assert lines[0].isprintable(), lines


# Outputs +inf and −inf: under the `output` loss the two sample losses are +inf and −inf.
OPPOSITE_INFINITIES = (
    "params: {w: 10}\n"
    "neurons: {o: {from: {x1: w}, activation: identity}}\n"
    "data:\n"
    "  - {inputs: {x1: 1e308}}\n"
    "  - {inputs: {x1: -1e308}}\n"
    "loss: output\n"
)


@pytest.mark.parametrize("args", [["forward"], ["backprop", "--lr", "1"]])
def test_a_loss_of_opposite_infinities_warns_in_nncalc_words_only(
    tmp_path: Path, args: list[str]
) -> None:
    """The mean of the sample losses +inf and −inf printed numpy's 'RuntimeWarning: invalid
    value encountered in reduce' (two lines of numpy's source) on stderr, and with warnings as
    errors (as here) ended in an internal error: engine.reduce_losses runs outside np.errstate.
    The loss is nan: null in JSON, named in a warning."""
    (tmp_path / "net.yaml").write_text(OPPOSITE_INFINITIES, encoding="utf-8")
    with contextlib.chdir(tmp_path):
        table = runner.invoke(app, [*args, "net.yaml"])
        data = runner.invoke(app, [*args, "net.yaml", "-f", "json"])
    assert table.exit_code == 0, table.stderr
    assert all(line.startswith("warning: ") for line in table.stderr.splitlines()), table.stderr
    assert data.exit_code == 0 and data.stderr == "", data.stderr
    assert strict_json(data.stdout)["loss"] is None
    spec = nncalc.load_spec(tmp_path / "net.yaml")
    assert math.isnan(nncalc.forward(spec).loss)  # and no RuntimeWarning (an error here)


def test_a_negative_training_seed_is_bad_usage() -> None:
    """`train --batch-size 1 --seed -1` crashed with ValueError: expected non-negative integer
    (exit 70) in numpy's default_rng; a seed that cannot seed is a bad command-line value."""
    homework = str(ROOT / "examples" / "homework.yaml")
    args = ["train", homework, "--steps", "1", "--batch-size", "1", "--seed", "-1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert "Invalid value for '--seed'" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "inputs: {x1: 1e308}\nparams: {w: 10}\n"
        "neurons: {o: {from: {x1: w}, activation: identity}}\ntarget: {o: 0}\nlearning_rate: 1\n",
        "inputs: [1e308]\nlayers:\n  - {weights: [[10]], activation: identity}\n"
        "target: [0]\nlearning_rate: 1\n",
    ],
    ids=["named", "layered"],
)
@pytest.mark.parametrize("output", [[], ["-o", "step1.yaml"]])
def test_emit_spec_refuses_an_update_that_is_not_finite(
    tmp_path: Path, text: str, output: list[str]
) -> None:
    """One step takes w (or W1[1,1]) from 10 to −inf. `backprop --emit-spec` crashed in the named
    form (TypeError: float() argument must be … not 'NoneType', exit 70) and in the layered form
    wrote `weights: [[nan]]`, a spec nncalc then refuses (and not even the −inf it computed).
    A spec cannot hold an infinite number: bad input, nothing written."""
    lines = refused(tmp_path, text, "backprop", "net.yaml", "--emit-spec", *output)
    assert lines and all(line.startswith("net.yaml:") for line in lines), lines
    assert not (tmp_path / "step1.yaml").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["relu", "--depth", "1", "--weight", "-1"],
        ["silu", "--depth", "1", "--weight", "0"],
        ["tanh", "--at", "-0.0"],
    ],
)
def test_activations_json_writes_negative_zero_as_zero(args: list[str]) -> None:
    """'-0.0 written as 0.0' (README, JSON output) did not hold for `activations`: relu's
    factor W·f′(−2) = −1 × 0 and product came out as -0.0, silu's 0 × f′(−2) < 0 too, and a
    point given as -0.0 was echoed with tanh(−0) as -0.0."""
    result = runner.invoke(app, ["activations", *args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    zeros = [x for x in _floats(strict_json(result.stdout)) if x == 0]
    assert zeros and all(math.copysign(1, x) > 0 for x in zeros)


def test_a_source_naming_a_refused_neuron_is_bad_input(tmp_path: Path) -> None:
    """A neuron named '' is refused, and o takes '' as a source: the cycle check looked the
    refused neuron up and crashed with KeyError: '' (spec.py _check_acyclic, exit 70)."""
    text = (
        "inputs: {x1: 1}\n"
        "neurons:\n"
        "  o: {from: {'': 1}, activation: relu}\n"
        "  '': 0\n"
        "target: {o: 1}\n"
    )
    lines = refused(tmp_path, text, "forward", "net.yaml")
    assert lines and all(LOCATED.match(line[len("net.yaml:") :]) for line in lines), lines
    assert any(line.startswith("net.yaml:4:3: ") for line in lines), lines


def test_exact_emit_spec_writes_a_large_integer_that_reads_back(tmp_path: Path) -> None:
    """`backprop --exact --emit-spec` wrote w6 as the quoted text "-9007199706320805", which
    nncalc refuses (a number, not a fraction p/q, in quotes), so the step could not be taken on.

    With w9 = 38745323 the homework net gives a_o = 4·(−0.5) + 0 + 3·w9 = 3·w9 − 2, δ_o = ŷ − y
    = 3·w9 − 8, ∂L/∂w6 = w9·δ_o·relu′(3)·x2 = 2·w9·(3·w9 − 8) and w6 ← 1 − 1 × ∂L/∂w6: an odd
    integer above 2**53, so no float holds it."""
    homework = (ROOT / "examples" / "homework.yaml").read_text(encoding="utf-8")
    (tmp_path / "net.yaml").write_text(homework.replace("w9: 1.2", "w9: 38745323"), "utf-8")
    with contextlib.chdir(tmp_path):
        step = runner.invoke(app, ["backprop", "net.yaml", "--exact", "--emit-spec"])
    assert step.exit_code == 0, step.stderr
    again = runner.invoke(app, ["forward", "-", "--exact", "-f", "json"], input=step.stdout)
    assert again.exit_code == 0, again.stderr
    w9 = 38745323
    assert strict_json(again.stdout)["exact"]["params.w6"] == str(1 - 2 * w9 * (3 * w9 - 8))
