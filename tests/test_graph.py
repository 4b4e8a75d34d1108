"""`nncalc graph`: every input, neuron, param and edge is drawn exactly once, in DOT and in
Mermaid; labels carry the right numbers; hostile names stay valid; --render writes a file only
when everything succeeded.

The edges are checked against a witness read straight from the YAML with PyYAML (not through
nncalc's spec), and the drawn text is read back with the small parsers below. The numbers are
derived by hand (homework.yaml) or by plain-Python re-implementations of the example networks.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from typer.testing import CliRunner

import nncalc
from nncalc import graph as drawing
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOMEWORK = EXAMPLES / "homework.yaml"
SKIP_SHARED = EXAMPLES / "skip-shared.yaml"
MAZUR = EXAMPLES / "mazur-sigmoid.yaml"
SOFTMAX = EXAMPLES / "softmax-classifier.yaml"
ALL_EXAMPLES = [HOMEWORK, SKIP_SHARED, MAZUR, SOFTMAX]
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed")

runner = CliRunner()


# --- reading the drawn text back ---------------------------------------------------------------


class Drawn(NamedTuple):
    nodes: dict[str, list[str]]  # id → label lines
    shapes: dict[str, str]
    edges: list[tuple[str, str, list[str]]]  # (source id, dest id, label lines; [] unlabelled)
    ranks: list[list[str]]  # DOT only


_MERMAID_NODE = re.compile(r'  (\w+)(\(\[|\[|\{\{)"([^"]*)"(\]\)|\]|\}\})')
_MERMAID_EDGE = re.compile(r'  (\w+) -->\|"([^"]*)"\| (\w+)')
_MERMAID_LOSS_EDGE = re.compile(r"  (\w+) -\.-> (\w+)")
# Inside a Mermaid label nothing Mermaid reads as syntax may appear raw: the only '<' is <br/>,
# and '#' only starts a '#code;' entity.
_MERMAID_RAW = re.compile(r'["\[\]{}|`>&\\:]|<(?!br/>)|#(?!\d+;)')


def _mermaid_lines(label: str) -> list[str]:
    assert not _MERMAID_RAW.search(label.replace("<br/>", "")), label
    return [re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), p) for p in label.split("<br/>")]


def parse_mermaid(text: str) -> Drawn:
    lines = text.splitlines()
    assert lines[0].startswith("%% ") and lines[1] == "flowchart LR"
    nodes: dict[str, list[str]] = {}
    shapes: dict[str, str] = {}
    edges: list[tuple[str, str, list[str]]] = []
    for line in lines[2:]:
        if m := _MERMAID_NODE.fullmatch(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} twice"
            nodes[m.group(1)] = _mermaid_lines(m.group(3))
            shapes[m.group(1)] = m.group(2)
        elif m := _MERMAID_EDGE.fullmatch(line):
            edges.append((m.group(1), m.group(3), _mermaid_lines(m.group(2))))
        elif m := _MERMAID_LOSS_EDGE.fullmatch(line):
            edges.append((m.group(1), m.group(2), []))
        else:
            raise AssertionError(f"not a node or edge line: {line!r}")
    return Drawn(nodes, shapes, edges, [])


_DOT_STRING = r'"((?:[^"\\\n]|\\.)*)"'  # a DOT quoted string with its escapes, on one line
_DOT_NODE = re.compile(rf"\s+(\w+) \[shape=(\w+), label={_DOT_STRING}\];")
_DOT_EDGE = re.compile(rf"  (\w+) -> (\w+) \[(?:label={_DOT_STRING}|style=dashed)\];")


def _dot_lines(label: str) -> list[str]:
    text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label)
    assert not re.search(r"&(?!amp;)", text), label  # Graphviz would read an entity
    return text.replace("&amp;", "&").split("\n")


def parse_dot(text: str) -> Drawn:
    lines = text.splitlines()
    assert lines[0] == "digraph network {" and lines[-1] == "}"
    assert re.fullmatch(
        rf'  graph \[rankdir=LR, charset="UTF-8", labelloc=t, label={_DOT_STRING}\];', lines[1]
    )
    nodes: dict[str, list[str]] = {}
    shapes: dict[str, str] = {}
    edges: list[tuple[str, str, list[str]]] = []
    ranks: list[list[str]] = []
    rank: list[str] | None = None
    for line in lines[2:-1]:
        if line in ("  node [shape=box];", "  edge [fontsize=10];"):
            continue
        if line == "  { rank=same;":
            rank = []
        elif line == "  }":
            assert rank is not None
            ranks.append(rank)
            rank = None
        elif m := _DOT_NODE.fullmatch(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} twice"
            nodes[m.group(1)] = _dot_lines(m.group(3))
            shapes[m.group(1)] = m.group(2)
            if rank is not None:
                rank.append(m.group(1))
        elif m := _DOT_EDGE.fullmatch(line):
            label = m.group(3)
            edges.append((m.group(1), m.group(2), [] if label is None else _dot_lines(label)))
        else:
            raise AssertionError(f"not a node or edge line: {line!r}")
    return Drawn(nodes, shapes, edges, ranks)


def parse(text: str, fmt: str) -> Drawn:
    return parse_dot(text) if fmt == "dot" else parse_mermaid(text)


def draw(path: Path, fmt: str = "mermaid", **options: Any) -> str:
    return drawing.graph(nncalc.load_spec(path), fmt, **options)


# --- the witness: the network read straight from the YAML -------------------------------------


class Witness(NamedTuple):
    inputs: list[str]
    neurons: list[str]
    params: set[str]  # every scalar param, layered ones by entry: W1[1,2], b1[1]
    edges: Counter[tuple[str, str, str | float]]  # (source, neuron, param name or constant)


def witness(path: Path) -> Witness:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "neurons" in doc:
        inputs = list((doc.get("inputs") or doc["data"][0]["inputs"]).keys())
        edges: Counter[tuple[str, str, str | float]] = Counter()
        for name, neuron in doc["neurons"].items():
            for source, weight in neuron["from"].items():
                edges[(source, name, weight if isinstance(weight, str) else float(weight))] += 1
        return Witness(inputs, list(doc["neurons"]), set(doc.get("params", {})), edges)
    first = doc.get("inputs", doc.get("data", [{}])[0].get("inputs"))
    sources = (
        [f"x{j}" for j in range(1, len(first) + 1)] if isinstance(first, list) else list(first)
    )
    inputs, neurons, params, edges = list(sources), [], set(), Counter()
    for k, layer in enumerate(doc["layers"], start=1):
        last = k == len(doc["layers"])
        rows = len(layer["weights"])
        names = layer.get("names") or [f"o{i}" if last else f"h{k}_{i}" for i in range(1, rows + 1)]
        for i, name in enumerate(names, start=1):
            for j, source in enumerate(sources, start=1):
                edges[(source, name, f"W{k}[{i},{j}]")] += 1
                params.add(f"W{k}[{i},{j}]")
            if "bias" in layer:
                params.add(f"b{k}[{i}]")
        neurons += names
        sources = names
    return Witness(inputs, neurons, params, edges)


def _weight_of(line: str) -> str | float:
    """The param named by an edge label's first line ('v (shared) = 0.8' → 'v'), or the
    constant of an unnamed one ('0.7' → 0.7)."""
    if " = " not in line:
        return float(line)
    return line.split(" = ")[0].split(" (")[0]


def names_of(drawn: Drawn) -> dict[str, str]:
    """Node id → the input or neuron name its label starts with."""
    return {i: lines[0].split(" = ")[0] for i, lines in drawn.nodes.items() if i != "loss"}


def value(lines: list[str], prefix: str) -> float:
    """The number after `prefix` on the one label line that starts with it."""
    found = [line[len(prefix) :] for line in lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return float(found[0].split(" → ")[0])


def node(drawn: Drawn, name: str) -> list[str]:
    ids = [i for i, n in names_of(drawn).items() if n == name]
    assert len(ids) == 1, name
    return drawn.nodes[ids[0]]


def edge(drawn: Drawn, param: str) -> list[list[str]]:
    return [lines for _, _, lines in drawn.edges if lines and _weight_of(lines[0]) == param]


# --- structure: every node and edge exactly once -----------------------------------------------


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.stem)
def test_every_input_neuron_param_and_edge_is_drawn_once(path: Path, fmt: str) -> None:
    expected = witness(path)
    drawn = parse(draw(path, fmt, grad=True), fmt)
    names = names_of(drawn)
    assert Counter(names.values()) == Counter(expected.inputs + expected.neurons)
    assert all(re.fullmatch(r"in\d+|n\d+", i) for i in names)  # ids from positions, not names
    weighted = [(s, d, lines) for s, d, lines in drawn.edges if d != "loss"]
    got = Counter((names[s], names[d], _weight_of(lines[0])) for s, d, lines in weighted)
    assert got == expected.edges
    assert max(got.values()) == 1 or path == SKIP_SHARED  # no spec edge is repeated
    # every param appears: on an edge, or as a neuron's bias
    shown = {w for _, _, w in got if isinstance(w, str)}
    for lines in drawn.nodes.values():
        shown |= {_weight_of(line[len("bias ") :]) for line in lines if line.startswith("bias ")}
    assert {w for w in shown if isinstance(w, str)} == expected.params
    # the outputs feed the loss node, unlabelled
    outputs = {names[s] for s, d, lines in drawn.edges if d == "loss" and not lines}
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert outputs == set(doc.get("outputs") or expected.neurons[-len(outputs) :])
    assert len([e for e in drawn.edges if e[1] == "loss"]) == len(outputs)


def test_dot_ranks_inputs_each_hidden_level_and_the_outputs() -> None:
    drawn = parse_dot(draw(HOMEWORK, "dot"))
    names = names_of(drawn)
    assert [[names[i] for i in rank] for rank in drawn.ranks] == [
        ["x1", "x2"],
        ["h1", "h2", "h3"],
        ["o"],
    ]
    skip = parse_dot(draw(SKIP_SHARED, "dot"))
    names = names_of(skip)
    assert [[names[i] for i in rank] for rank in skip.ranks] == [["x1", "x2"], ["h1", "h2"], ["o"]]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_same_spec_same_text(fmt: str) -> None:
    first = runner.invoke(app, ["graph", str(SKIP_SHARED), "-f", fmt, "--grad"])
    second = runner.invoke(app, ["graph", str(SKIP_SHARED), "-f", fmt, "--grad"])
    assert first.exit_code == 0 and first.stdout == second.stdout
    assert first.stdout == draw(SKIP_SHARED, fmt, grad=True)


# --- the numbers -------------------------------------------------------------------------------

# homework.yaml by hand (x1 = 1, x2 = 2, y = 6, all units ReLU):
#   a_h1 = x1·w1 + x2·w2 = 1·2 + 2·1 = 4            z_h1 = 4
#   a_h2 = x1·w3 + x2·w4 = 1·1 + 2·(−1) = −1        z_h2 = relu(−1) = 0 (dead)
#   a_h3 = x1·w5 + x2·w6 = 1·1 + 2·1 = 3            z_h3 = 3
#   a_o = z_h1·w7 + z_h2·w8 + z_h3·w9 = 4·(−0.5) + 0·1 + 3·1.2 = −2 + 3.6 = 1.6,  z_o = 1.6
#   L = ½ (y − z_o)² = ½ · 4.4² = 9.68
# backward:
#   δ_o = relu′(1.6) · ∂L/∂ŷ = 1 · (−(6 − 1.6)) = −4.4
#   δ_h1 = relu′(4) · w7 · δ_o = (−0.5)(−4.4) = 2.2;  δ_h2 = relu′(−1) · … = 0
#   δ_h3 = relu′(3) · w9 · δ_o = 1.2 · (−4.4) = −5.28
#   ∂L/∂w5 = δ_h3 · x1 = −5.28;  ∂L/∂w6 = δ_h3 · x2 = −10.56;  ∂L/∂w1 = δ_h1 · x1 = 2.2
#   ∂L/∂w7 = δ_o · z_h1 = −17.6;  ∂L/∂w9 = δ_o · z_h3 = −13.2;  ∂L/∂w3 = δ_h2 · x1 = 0
#   ∂L/∂x1 = w1·δ_h1 + w3·δ_h2 + w5·δ_h3 = 4.4 + 0 − 5.28 = −0.88
#   ∂L/∂x2 = w2·δ_h1 + w4·δ_h2 + w6·δ_h3 = 2.2 + 0 − 5.28 = −3.08
# one step with η = 1: w1 ← 2 − 2.2 = −0.2;  w9 ← 1.2 − (−13.2) = 14.4
HAND = {
    "a": {"h1": 4, "h2": -1, "h3": 3, "o": 1.6},
    "z": {"h1": 4, "h2": 0, "h3": 3, "o": 1.6},
    "delta": {"h1": 2.2, "h2": 0, "h3": -5.28, "o": -4.4},
    "grad": {"w1": 2.2, "w3": 0, "w5": -5.28, "w6": -10.56, "w7": -17.6, "w9": -13.2},
    "input_grad": {"x1": -0.88, "x2": -3.08},
}


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_homework_labels_carry_the_hand_derived_numbers(fmt: str) -> None:
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--format", fmt, "--grad"])
    assert result.exit_code == 0, result.stderr
    drawn = parse(result.stdout, fmt)
    for name in ("h1", "h2", "h3", "o"):
        lines = node(drawn, name)
        assert value(lines, "a = ") == pytest.approx(HAND["a"][name])
        assert value(lines, "z = relu(a) = ") == pytest.approx(HAND["z"][name])
        assert value(lines, "δ = ∂L/∂a = ") == pytest.approx(HAND["delta"][name])
    assert value(node(drawn, "o"), "target y = ") == 6
    for param, gradient in HAND["grad"].items():
        (lines,) = edge(drawn, param)
        assert value(lines, f"∂L/∂{param} = ") == pytest.approx(gradient)
    assert value(edge(drawn, "w7")[0], "w7 = ") == -0.5
    assert value(node(drawn, "x1"), "x1 = ") == 1
    for name, gradient in HAND["input_grad"].items():
        assert value(node(drawn, name), f"∂L/∂{name} = ") == pytest.approx(gradient)
    assert drawn.nodes["loss"] == ["L = 9.68", "half_squared_error"]


def test_without_grad_no_gradients_and_lr_shows_the_step() -> None:
    plain = parse_mermaid(draw(HOMEWORK))
    assert not any("∂" in line or "δ" in line for lines in plain.nodes.values() for line in lines)
    assert not any("∂" in line for _, _, lines in plain.edges for line in lines)
    stepped = parse_mermaid(draw(HOMEWORK, lr=1))
    assert edge(stepped, "w1")[0] == ["w1 = 2 → -0.2"]  # 2 − 1 × 2.2
    assert edge(stepped, "w9")[0] == ["w9 = 1.2 → 14.4"]  # 1.2 − 1 × (−13.2)
    assert edge(stepped, "w3")[0] == ["w3 = 1 → 1"]  # the dead unit: ∂L/∂w3 = 0


def _skip_shared_loss(v: float) -> float:
    """skip-shared.yaml written out in plain Python: the loss as a function of the shared v."""
    x1, x2 = 0.5, -1.0
    h1 = math.tanh(x1 * v + x2 * -0.3 + 0.1)
    a2 = x1 * 0.6 + x2 * v - 0.2
    h2 = a2 if a2 > 0 else 0.1 * a2
    o = 1 / (1 + math.exp(-(h1 * 1.5 + h2 * 0.7 + x1 * 0.25)))
    return -math.log(o)  # binary cross-entropy with target 1


def test_shared_frozen_constant_and_bias_are_visible() -> None:
    drawn = parse_mermaid(draw(SKIP_SHARED, grad=True))
    shared = edge(drawn, "v")
    assert len(shared) == 2 and all(lines[0] == "v (shared) = 0.8" for lines in shared)
    (frozen,) = edge(drawn, "k")
    assert frozen[0] == "k (frozen) = 1.5"
    assert value(frozen, "∂L/∂k = ") != 0  # a frozen param's gradient is still shown
    (constant,) = [lines for s, d, lines in drawn.edges if lines and " = " not in lines[0]]
    assert constant == ["0.7"]
    h1, h2 = node(drawn, "h1"), node(drawn, "h2")
    assert h1[1] == "bias c = 0.1" and h2[1] == "bias -0.2"
    # a_h1 = 0.5·0.8 + (−1)(−0.3) + 0.1 = 0.8;  a_h2 = 0.5·0.6 + (−1)(0.8) − 0.2 = −0.7
    assert value(h1, "a = ") == pytest.approx(0.8)
    assert value(h1, "z = tanh(a) = ") == pytest.approx(math.tanh(0.8), rel=1e-3)
    assert value(h2, "a = ") == pytest.approx(-0.7)
    assert value(h2, "z = leaky_relu(a; alpha=0.1) = ") == pytest.approx(-0.07)
    # the shared gradient is the sum over both uses: a central difference of the whole loss
    h = 1e-6
    numeric = (_skip_shared_loss(0.8 + h) - _skip_shared_loss(0.8 - h)) / (2 * h)
    assert value(shared[0], "∂L/∂v = ") == pytest.approx(numeric, rel=1e-3)
    assert value(drawn.nodes["loss"], "L = ") == pytest.approx(_skip_shared_loss(0.8), rel=1e-3)


def test_layered_matrix_entries_are_one_based() -> None:
    drawn = parse_dot(draw(MAZUR, "dot"))
    names = names_of(drawn)
    # row = the neuron fed, column = the source: W1[1,2] = 0.20 carries x2 into h1
    (entry,) = [
        (names[s], names[d], lines)
        for s, d, lines in drawn.edges
        if lines and lines[0].startswith("W1[1,2]")
    ]
    assert entry == ("x2", "h1", ["W1[1,2] = 0.2"])
    (entry,) = [
        (names[s], names[d])
        for s, d, lines in drawn.edges
        if lines and lines[0].startswith("W2[2,1]")
    ]
    assert entry == ("h1", "o2")
    h1 = node(drawn, "h1")
    assert h1[1] == "bias b1[1] = 0.35"
    # a_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775
    assert value(h1, "a = ") == pytest.approx(0.3775)
    assert value(h1, "z = sigmoid(a) = ") == pytest.approx(1 / (1 + math.exp(-0.3775)), rel=1e-3)


def _softmax_batch_loss() -> float:
    """softmax-classifier.yaml in plain Python: tanh layer, softmax layer, mean cross-entropy."""
    w1 = [[0.5, -0.4], [0.3, 0.8], [-0.6, 0.1]]
    b1 = [0.1, -0.1, 0.0]
    w2 = [[1.0, -0.5, 0.2], [-0.3, 0.7, 0.4], [0.2, 0.1, -0.9]]
    b2 = [0.0, 0.1, -0.1]
    samples = [([1.0, 0.5], 0), ([-0.5, 1.5], 1), ([0.2, -1.0], 2)]
    total = 0.0
    for x, label in samples:
        h = [
            math.tanh(sum(w * v for w, v in zip(row, x, strict=True)) + b)
            for row, b in zip(w1, b1, strict=True)
        ]
        a = [
            sum(w * v for w, v in zip(row, h, strict=True)) + b
            for row, b in zip(w2, b2, strict=True)
        ]
        total += -(a[label] - math.log(sum(math.exp(v) for v in a)))
    return total / len(samples)


def test_a_batch_shows_one_sample_and_the_batch_loss() -> None:
    first = parse_mermaid(draw(SOFTMAX))
    assert value(node(first, "x1"), "x1 = ") == 1.0
    second = parse_mermaid(draw(SOFTMAX, sample=2))
    assert value(node(second, "x1"), "x1 = ") == -0.5
    assert value(node(second, "x2"), "x2 = ") == 1.5
    # sample 2: a_h1_1 = 0.5·(−0.5) + (−0.4)(1.5) + 0.1 = −0.75; its label is dog
    assert value(node(second, "h1_1"), "a = ") == pytest.approx(-0.75)
    assert value(node(second, "dog"), "target y = ") == 1
    assert value(node(second, "cat"), "target y = ") == 0
    for drawn in (first, second):
        loss = drawn.nodes["loss"]
        assert value(loss, "L = ") == pytest.approx(_softmax_batch_loss(), rel=1e-3)
        assert loss[1:] == ["cross_entropy", "mean over 3 samples"]
    title = runner.invoke(app, ["graph", str(SOFTMAX), "-f", "dot", "--sample", "3"]).stdout
    assert r'label="3-class softmax classifier (batch of 3)\nsample 3 of 3"' in title


@pytest.mark.parametrize("sample", ["4", "0"])
def test_a_sample_the_batch_lacks_is_exit_2(sample: str) -> None:
    result = runner.invoke(app, ["graph", str(SOFTMAX), "--sample", sample])
    assert result.exit_code == 2 and result.stdout == ""
    if sample == "4":
        assert "--sample 4" in result.stderr and "has 3 samples; give 1 … 3" in result.stderr


def test_precision_shortens_labels() -> None:
    drawn = parse_mermaid(draw(MAZUR, precision=2))
    assert value(node(drawn, "h1"), "a = ") == 0.38  # 0.3775 to 2 significant digits


# --- hostile names -----------------------------------------------------------------------------

HOSTILE = r"""
title: 'a "title" {with} \N braces, a backslash & <b>#1</b> | end; 名前'
inputs: {'x"1': 1, "[x2]": 2, "graph": 0.5}
params: {"w|1": 2, "#w2": 1, "<w3>": 1, "&amp;": -1, "`w5`": 1, "{w6}": 1, "style": -0.5,
         'w\8': 1, "名前": 1.2}
neurons:
  'h"1': {from: {'x"1': "w|1", "[x2]": "#w2"}, activation: relu}
  "end": {from: {'x"1': "<w3>", "[x2]": "&amp;", "graph": 0.5}, activation: relu}
  "subgraph": {from: {'x"1': "`w5`", "[x2]": "{w6}"}, bias: "名前", activation: relu}
  "-->o%%": {from: {'h"1': "style", "end": 'w\8', "subgraph": "名前"}, activation: relu}
target: {"-->o%%": 6}
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_hostile_names_stay_valid_and_read_back(hostile: Path, fmt: str) -> None:
    text = draw(hostile, fmt, grad=True, lr=1)
    drawn = parse(text, fmt)  # every line parses; no raw quote or Mermaid syntax in a label
    expected = witness(hostile)
    names = names_of(drawn)
    assert sorted(names.values()) == sorted(expected.inputs + expected.neurons)
    got = Counter(
        (names[s], names[d], _weight_of(lines[0])) for s, d, lines in drawn.edges if lines
    )
    assert got == expected.edges
    assert node(drawn, "subgraph")[1] == "bias 名前 (shared) = 1.2 → 17.18"


def test_hostile_mermaid_ids_are_never_keywords(hostile: Path) -> None:
    text = draw(hostile)
    ids = {m.group(1) for m in re.finditer(r"^  (\w+)", text, re.M)}
    assert ids == {"in1", "in2", "in3", "n1", "n2", "n3", "n4", "loss"}
    assert text.splitlines()[0] == (
        '%% a "title" {with} \\N braces, a backslash & <b>#1</b> | end; 名前'
    )


MERMAID_TRAPS = """
title: "x %%{init: {'theme': 'forest'}}%% y"
inputs: {x1: 1}
params: {"classDef:[w]": 2}
neurons:
  "style:[o]": {from: {x1: "classDef:[w]"}, activation: relu}
target: {"style:[o]": 1}
"""


def test_mermaid_title_sets_no_directive_and_style_names_keep_their_entities() -> None:
    text = drawing.graph(nncalc.load_spec(MERMAID_TRAPS))
    # Mermaid applies `%%{…}%%` found anywhere in the text, comments included, as its config.
    assert "%%{" not in text
    assert text.splitlines()[0] == "%% x %% {init: {'theme': 'forest'}}%% y"
    # Mermaid cuts the last ';' off any line matching these (encodeEntities in mermaid's source),
    # which turned the label 'style:[o]' into 'style:[o#93'.
    for line in text.splitlines()[1:]:
        assert not re.search(r"style.*:\S*#.*;|classDef.*:\S*#.*;", line), line
    drawn = parse_mermaid(text)
    assert sorted(names_of(drawn).values()) == ["style:[o]", "x1"]
    assert [lines for _, _, lines in drawn.edges if lines] == [["classDef:[w] = 2"]]


@needs_dot
def test_hostile_dot_is_accepted_by_graphviz(hostile: Path) -> None:
    done = subprocess.run(
        [str(DOT), "-Tsvg"],
        input=draw(hostile, "dot", grad=True).encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    texts = _svg_texts(done.stdout)
    for text in ('x"1 = 1', "[x2] = 2", 'h"1', "end", "subgraph", "-->o%%", "w|1 = 2", "{w6} = 1"):
        assert text in texts
    assert "&amp; = -1" in texts  # as written, not read as the entity for an ampersand
    assert "w\\8 = 1" in texts  # one backslash, not read as an escape
    assert 'a "title" {with} \\N braces, a backslash & <b>#1</b> | end; 名前' in texts


def _svg_texts(svg: bytes) -> set[str]:
    root = ElementTree.fromstring(svg)
    return {el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}text")}


# --- --render ----------------------------------------------------------------------------------


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@needs_dot
def test_render_writes_an_svg_naming_every_neuron(tmp_path: Path) -> None:
    target = tmp_path / "net.svg"
    result = runner.invoke(app, ["graph", str(SKIP_SHARED), "--render", str(target), "--grad"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    texts = _svg_texts(target.read_bytes())
    for name in ["x1", "x2", "h1", "h2", "o"]:
        assert any(t == name or t.startswith(f"{name} = ") for t in texts), name
    assert stat.S_IMODE(target.stat().st_mode) == _file_mode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.svg"]


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_png_and_pdf(tmp_path: Path, suffix: str, magic: bytes) -> None:
    target = tmp_path / f"net{suffix}"
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(target)])
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(magic)


@needs_dot
def test_render_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "net.svg"
    target.write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(target)])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{target}: exists; give --force to replace it" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine"
    forced = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(target), "--force"])
    assert forced.exit_code == 0, forced.stderr
    assert "h1" in _svg_texts(target.read_bytes())


def _fake_dot(folder: Path, script: str) -> None:
    folder.mkdir()
    fake = folder / "dot"
    fake.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    fake.chmod(0o755)


def test_render_without_graphviz_is_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = tmp_path / "net.svg"
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(target)])
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        "Graphviz's dot is not installed: apt-get install graphviz / brew install graphviz"
        in result.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


@pytest.mark.parametrize(
    "script, message",
    [
        (
            "printf 'partial'; echo 'Error: syntax error in line 1' >&2; exit 1",
            "Graphviz's dot failed (exit 1): Error: syntax error in line 1",
        ),
        ("exec sleep 5", "Graphviz's dot took longer than 1 s"),
    ],
)
def test_render_failure_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, message: str
) -> None:
    _fake_dot(tmp_path / "bin", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(drawing, "DOT_TIMEOUT", 1)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(out / "net.svg")])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr
    assert list(out.iterdir()) == []  # neither the file nor a temporary one


def test_render_refuses_an_unknown_suffix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", str(HOMEWORK), "--render", str(tmp_path / "n.txt")])
    assert result.exit_code == 2
    assert "--render writes .svg, .png, .pdf files" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_library_render_file(tmp_path: Path) -> None:
    if DOT is None:
        pytest.skip("Graphviz's dot is not installed")
    target = tmp_path / "net.svg"
    drawing.render_file(draw(HOMEWORK, "dot"), str(target), force=False)
    assert {"h1", "o", "L = 9.68"} <= _svg_texts(target.read_bytes())
    with pytest.raises(nncalc.SpecError, match="exists"):
        drawing.render_file(draw(HOMEWORK, "dot"), str(target), force=False)


# --- bad input and usage -----------------------------------------------------------------------


def test_bad_spec_is_file_line_column_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        HOMEWORK.read_text(encoding="utf-8").replace(
            "h2: {from: {x1: w3, x2: w4}, activation: relu}",
            "h2: {from: {x1: w3, x2: w4}, activation: rleu}",
        ),
        encoding="utf-8",
    )
    # where 'rleu' stands in the file, found by plain text search (lines and columns 1-based)
    lines = path.read_text(encoding="utf-8").splitlines()
    (line,) = [n for n, text in enumerate(lines, start=1) if "rleu" in text]
    column = lines[line - 1].index("rleu") + 1
    for extra in ([], ["--render", str(tmp_path / "net.svg")]):
        result = runner.invoke(app, ["graph", str(path), *extra])
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith(f"{path}:{line}:{column}: ")
        assert "unknown activation 'rleu'; did you mean 'relu'?" in result.stderr
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["-f", "svg"], "'svg' is not one of 'mermaid', 'dot'"),
        (["--force"], "applies with --render only"),
        (["-f", "mermaid", "--render", "x.svg"], "leave out --format mermaid"),
        (["--lr", "-1"], "must be a finite number ≥ 0"),
    ],
)
def test_bad_usage_is_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["graph", str(HOMEWORK), *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in " ".join(result.stderr.split())


def test_library_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="dot or mermaid"):
        draw(HOMEWORK, "svg")


@pytest.mark.parametrize(
    "rows, columns, what",
    [(201, 1, "201 neurons and 201 edges"), (50, 41, "50 neurons and 2050 edges")],
)
def test_a_network_too_large_to_draw_is_refused(
    tmp_path: Path, rows: int, columns: int, what: str
) -> None:
    path = tmp_path / "big.yaml"
    weights = "[" + ", ".join(["[" + ", ".join(["0.1"] * columns) + "]"] * rows) + "]"
    inputs = "[" + ", ".join(["1"] * columns) + "]"
    path.write_text(
        f"inputs: {inputs}\nlayers:\n  - {{weights: {weights}, activation: identity}}\n"
        "loss: output\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["graph", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"the network has {what}; nncalc graph draws at most 200 neurons and 2000 edges" in (
        " ".join(result.stderr.split())
    )


# --- the README ----------------------------------------------------------------------------------


def test_readme_sample_is_the_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"`nncalc graph examples/homework\.yaml`:\n\n```mermaid\n(.*?)```", readme, re.S
    )
    assert block, "the README's graph sample is missing"
    result = runner.invoke(app, ["graph", str(HOMEWORK)])
    assert result.exit_code == 0
    assert result.stdout == block.group(1)
