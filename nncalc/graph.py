"""The network as a diagram: Graphviz DOT or a Mermaid flowchart, one node per input and neuron.

A diagram is drawn from a spec (which edges exist, which weight each carries) and the data of
`forward` or `backprop` (every number), so it shows exactly the numbers of those commands. Node
ids are derived from positions (in1, n1, loss), never from names: a neuron called `end` or
`a"b` appears only inside an escaped label.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .errors import Problem, SpecError
from .render.numbers import fmt
from .spec import Spec

MAX_NEURONS = 200  # beyond these a diagram is unreadable, and Graphviz slow
MAX_EDGES = 2000
RENDER_SUFFIXES = (".svg", ".png", ".pdf")
DOT_TIMEOUT = 60  # seconds
NOT_INSTALLED = "Graphviz's dot is not installed: apt-get install graphviz / brew install graphviz"


class Node(NamedTuple):
    id: str
    lines: tuple[str, ...]
    kind: Literal["input", "neuron", "output", "loss"]


class Edge(NamedTuple):
    source: str
    dest: str
    lines: tuple[str, ...]  # empty: an unlabelled edge (an output into the loss)


class Diagram(NamedTuple):
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    ranks: tuple[tuple[str, ...], ...]  # node ids drawn side by side: inputs, levels, outputs


class Weight(NamedTuple):
    """What an edge or bias carries: a param entry (name and 0-based index) or a constant."""

    param: str | None
    at: tuple[int, ...]
    constant: float = 0.0

    @property
    def label(self) -> str:
        """'w1', or a matrix entry 1-based as everywhere else: 'W1[1,2]'."""
        if self.param is None or not self.at:
            return self.param or ""
        return f"{self.param}[{','.join(str(i + 1) for i in self.at)}]"


def graph(
    spec: Spec,
    fmt_name: str = "mermaid",
    *,
    grad: bool = False,
    lr: float | None = None,
    sample: int = 1,
    precision: int = 4,
) -> str:
    """The diagram of `spec` as DOT or Mermaid text (the library form of `nncalc graph`)."""
    data = graph_data(spec, grad=grad, lr=lr, sample=sample)
    return draw(
        spec, data, fmt_name, grad=grad, updates=lr is not None, sample=sample, precision=precision
    )


def graph_data(
    spec: Spec, *, grad: bool = False, lr: float | None = None, sample: int = 1
) -> dict[str, Any]:
    """The numbers a diagram shows: `backprop`'s data with --grad or --lr, else `forward`'s.
    A network too large to draw, or a sample the spec does not have, is refused first."""
    from .compute import result_data

    neurons = len(spec.neuron_names)
    edges = _edge_count(spec)
    if neurons > MAX_NEURONS or edges > MAX_EDGES:
        raise SpecError(
            [
                Problem(
                    spec.source,
                    0,
                    0,
                    f"the network has {neurons} neurons and {edges} edges; nncalc graph draws "
                    f"at most {MAX_NEURONS} neurons and {MAX_EDGES} edges (a larger diagram "
                    "cannot be read)",
                )
            ]
        )
    if not 1 <= sample <= spec.batch_size:
        count = f"{spec.batch_size} sample" + ("s" if spec.batch_size > 1 else "")
        allowed = "1" if spec.batch_size == 1 else f"1 … {spec.batch_size}"
        raise SpecError(
            [
                Problem(
                    "<command line>",
                    0,
                    0,
                    f"--sample {sample}: {spec.source} has {count}; give {allowed}",
                )
            ]
        )
    if grad or lr is not None:
        return result_data(spec, "backprop", lr=lr)
    return result_data(spec, "forward")


def draw(
    spec: Spec,
    data: dict[str, Any],
    fmt_name: str,
    *,
    grad: bool = False,
    updates: bool = False,
    sample: int = 1,
    precision: int = 4,
) -> str:
    """DOT or Mermaid text (`fmt_name` "dot" or "mermaid") of the spec's network with the
    numbers of `data`, the data of `graph_data`; `updates` adds each param after the step."""
    if fmt_name not in ("dot", "mermaid"):
        raise ValueError(f"a diagram is dot or mermaid, not {fmt_name!r}")
    diagram = _Builder(spec, data, grad, updates, sample, precision).diagram()
    return to_dot(diagram) if fmt_name == "dot" else to_mermaid(diagram)


def _edges(spec: Spec) -> Iterator[tuple[str, str, Weight]]:
    """(source, neuron, weight) for every edge, in spec order."""
    if spec.form == "named":
        for neuron in spec.neurons:
            for source, w in neuron.terms:
                yield source, neuron.name, _weight(w)
        return
    sources = spec.input_names
    for layer in spec.layers:
        for i, name in enumerate(layer.names):
            for j, source in enumerate(sources):
                yield source, name, Weight(layer.weight, (i, j))
        sources = layer.names


def _edge_count(spec: Spec) -> int:
    """The number of edges, without listing them (a layered net may have millions)."""
    if spec.form == "named":
        return sum(len(neuron.terms) for neuron in spec.neurons)
    widths = [len(spec.input_names), *(len(layer.names) for layer in spec.layers)]
    return sum(a * b for a, b in pairwise(widths))


def _biases(spec: Spec) -> dict[str, Weight]:
    if spec.form == "named":
        return {n.name: _weight(n.bias) for n in spec.neurons if n.bias is not None}
    return {
        name: Weight(layer.bias, (i,))
        for layer in spec.layers
        if layer.bias is not None
        for i, name in enumerate(layer.names)
    }


def _weight(w: str | float) -> Weight:
    return Weight(w, ()) if isinstance(w, str) else Weight(None, (), w)


class _Builder:
    """Turns a spec and its data into nodes and edges with their label lines."""

    def __init__(
        self,
        spec: Spec,
        data: dict[str, Any],
        grad: bool,
        updates: bool,
        sample: int,
        precision: int,
    ) -> None:
        self.spec, self.data = spec, data
        self.grad, self.updates = grad, updates
        self.sample, self.precision = sample, precision
        self.edges = list(_edges(spec))
        self.biases = _biases(spec)
        weights = [w for _, _, w in self.edges] + list(self.biases.values())
        uses = Counter((w.param, w.at) for w in weights if w.param is not None)
        self.shared = {entry for entry, n in uses.items() if n > 1}
        self.ids = {name: f"in{j}" for j, name in enumerate(spec.input_names, start=1)}
        self.ids.update({name: f"n{k}" for k, name in enumerate(spec.neuron_names, start=1)})

    def number(self, value: float | None) -> str:
        return fmt(value, self.precision)

    def at_sample(self, value: Any) -> Any:
        return value[self.sample - 1] if self.data["batched"] else value

    def diagram(self) -> Diagram:
        spec, data = self.spec, self.data
        nodes = [self.input_node(name) for name in spec.input_names]
        nodes += [self.neuron_node(name) for name in spec.neuron_names]
        nodes.append(self.loss_node())
        edges = [
            Edge(self.ids[source], self.ids[dest], self.weight_lines(w))
            for source, dest, w in self.edges
        ]
        edges += [Edge(self.ids[name], "loss", ()) for name in spec.outputs]
        title = data["title"] or data["source"]
        if data["batched"]:
            title += f"\nsample {self.sample} of {data['batch_size']}"
        return Diagram(title, tuple(nodes), tuple(edges), self.ranks())

    def ranks(self) -> tuple[tuple[str, ...], ...]:
        from .engine import network_of

        level_of = network_of(self.spec).unit_of
        outputs = set(self.spec.outputs)
        levels: dict[int, list[str]] = {}
        for name in self.spec.neuron_names:
            if name not in outputs:
                levels.setdefault(level_of[name][0], []).append(self.ids[name])
        inputs = tuple(self.ids[n] for n in self.spec.input_names)
        hidden = tuple(tuple(levels[k]) for k in sorted(levels))
        return (inputs, *hidden, tuple(self.ids[n] for n in self.spec.outputs))

    def input_node(self, name: str) -> Node:
        lines = [f"{name} = {self.number(self.at_sample(self.data['inputs'][name]))}"]
        if self.grad:
            gradient = self.at_sample(self.data["input_gradients"][name])
            lines.append(f"∂L/∂{name} = {self.number(gradient)}")
        return Node(self.ids[name], tuple(lines), "input")

    def neuron_node(self, name: str) -> Node:
        entry = self.data["neurons"][name]
        lines = [name]
        if name in self.biases:
            lines += self.weight_lines(self.biases[name], prefix="bias ")
        pre = self.number(self.at_sample(entry["pre_activation"]))
        act = self.number(self.at_sample(entry["activation"]))
        name_of_f, _, settings = entry["activation_function"].partition("(")
        f_of_a = f"{name_of_f}(a; {settings}" if settings else f"{name_of_f}(a)"
        lines += [f"a = {pre}", f"z = {f_of_a} = {act}"]
        if self.grad:
            lines.append(f"δ = ∂L/∂a = {self.number(self.at_sample(entry['delta']))}")
        output = name in self.spec.outputs
        if output:
            lines += self.output_lines(name)
        return Node(self.ids[name], tuple(lines), "output" if output else "neuron")

    def output_lines(self, name: str) -> list[str]:
        lines = []
        probabilities = self.data.get("probabilities")
        if probabilities is not None:
            lines.append(f"p = softmax(ŷ) = {self.number(self.at_sample(probabilities[name]))}")
        targets = self.data["targets"]
        if targets is not None:
            lines.append(f"target y = {self.number(self.at_sample(targets[name]))}")
        return lines

    def loss_node(self) -> Node:
        data = self.data
        lines = [f"L = {self.number(data['loss'])}", data["loss_function"]]
        if data["batched"]:
            lines.append(f"{data['reduction']} over {data['batch_size']} samples")
        return Node("loss", tuple(lines), "loss")

    def weight_lines(self, w: Weight, prefix: str = "") -> tuple[str, ...]:
        """'w1 = 2' (with marks, the update and the gradient as asked); a constant: its value."""
        if w.param is None:
            return (prefix + self.number(w.constant),)
        head = w.label
        if (w.param, w.at) in self.shared:
            head += " (shared)"
        if w.param in self.spec.frozen:
            head += " (frozen)"
        value = self.number(_entry(self.data["params"][w.param], w.at))
        line = f"{prefix}{head} = {value}"
        if self.updates:
            line += f" → {self.number(_entry(self.data['updated'][w.param], w.at))}"
        lines = [line]
        if self.grad:
            gradient = _entry(self.data["gradients"][w.param], w.at)
            lines.append(f"∂L/∂{w.label} = {self.number(gradient)}")
        return tuple(lines)


def _entry(value: Any, index: Sequence[int]) -> Any:
    for i in index:
        value = value[i]
    return value


# --- DOT ---------------------------------------------------------------------------------------

_DOT_ESCAPES = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "{": "\\{", "}": "\\}", "\n": "\\n", "&": "&amp;"}
)
_DOT_SHAPES = {"input": "ellipse", "neuron": "box", "output": "box", "loss": "hexagon"}


def dot_string(text: str) -> str:
    """A DOT double-quoted string showing `text` literally: Graphviz reads \\N, \\G, … in labels
    as escapes (so every backslash is doubled) and &…; as entities (so & is &amp;); braces are
    escaped for record shapes."""
    return '"' + text.translate(_DOT_ESCAPES) + '"'


def _dot_label(lines: Sequence[str]) -> str:
    return dot_string("\n".join(lines))


def to_dot(diagram: Diagram) -> str:
    """A `digraph` laid out left to right, inputs, each level of hidden neurons and the
    outputs each in a rank of their own."""
    by_id = {node.id: node for node in diagram.nodes}
    out = [
        "digraph network {",
        f'  graph [rankdir=LR, charset="UTF-8", labelloc=t, label={dot_string(diagram.title)}];',
        "  node [shape=box];",
        "  edge [fontsize=10];",
    ]
    placed: set[str] = set()
    for rank in diagram.ranks:
        out.append("  { rank=same;")
        for node_id in rank:
            out.append("    " + _dot_node(by_id[node_id]))
            placed.add(node_id)
        out.append("  }")
    out += ["  " + _dot_node(n) for n in diagram.nodes if n.id not in placed]
    for edge in diagram.edges:
        attributes = f"label={_dot_label(edge.lines)}" if edge.lines else "style=dashed"
        out.append(f"  {edge.source} -> {edge.dest} [{attributes}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_node(node: Node) -> str:
    return f"{node.id} [shape={_DOT_SHAPES[node.kind]}, label={_dot_label(node.lines)}];"


# --- Mermaid -----------------------------------------------------------------------------------

# Characters Mermaid (or the HTML it makes) would read as syntax, as its #code; entities; also
# ':', since Mermaid cuts the last ';' off a line matching `style.*:\S*#.*;` (or `classDef…`),
# which would break an entity in a label naming `style:[x]`.
_MERMAID_ESCAPES = str.maketrans({c: f"#{ord(c)};" for c in '"#<>[]{}|&`\\:'})
_MERMAID_SHAPES = {
    "input": ("([", "])"),
    "neuron": ("[", "]"),
    "output": ("[", "]"),
    "loss": ("{{", "}}"),
}


def mermaid_text(lines: Sequence[str]) -> str:
    """The quoted text of a Mermaid label: each line escaped, lines joined by <br/>."""
    return '"' + "<br/>".join(line.translate(_MERMAID_ESCAPES) for line in lines) + '"'


def to_mermaid(diagram: Diagram) -> str:
    """A `flowchart LR` that GitHub renders inside a ```mermaid block."""
    # Mermaid reads `%%{…}%%` anywhere, even in a comment, as a directive that sets its config.
    lines = (" ".join(line.split()) for line in diagram.title.split("\n"))
    title = " — ".join(lines).replace("%%{", "%% {")
    out = [f"%% {title}", "flowchart LR"]
    for node in diagram.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        out.append(f"  {node.id}{left}{mermaid_text(node.lines)}{right}")
    for edge in diagram.edges:
        if edge.lines:
            out.append(f"  {edge.source} -->|{mermaid_text(edge.lines)}| {edge.dest}")
        else:
            out.append(f"  {edge.source} -.-> {edge.dest}")
    return "\n".join(out) + "\n"


# --- rendering with Graphviz -------------------------------------------------------------------


def check_target(path: str, *, force: bool) -> None:
    """Refuse, before any work, a file that cannot or may not be written, or a missing dot."""
    target = Path(path)
    if target.suffix.lower() not in RENDER_SUFFIXES:
        allowed = ", ".join(RENDER_SUFFIXES)
        raise SpecError(
            [Problem(path, 0, 0, f"--render writes {allowed} files; name one of those")]
        )
    from .emit import check_new  # only for --render: emit brings fractions and tempfile

    check_new(path, force=force)
    if shutil.which("dot") is None:
        raise SpecError([Problem(path, 0, 0, NOT_INSTALLED)])


def render_file(dot: str, path: str, *, force: bool) -> None:
    """Draw DOT text with Graphviz's `dot` into `path` (.svg, .png or .pdf), atomically: a
    temporary file in the same folder, then a rename; nothing is left behind on failure."""
    check_target(path, force=force)
    program = shutil.which("dot")
    assert program is not None  # check_target refused a missing dot
    target = Path(path)
    try:
        done = subprocess.run(
            [program, f"-T{target.suffix.lower()[1:]}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SpecError(
            [Problem(path, 0, 0, f"Graphviz's dot took longer than {DOT_TIMEOUT} s; gave up")]
        ) from None
    except OSError as exc:
        raise SpecError([Problem(path, 0, 0, f"cannot run Graphviz's dot: {exc}")]) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = f": {said[0]}" if said else ""
        raise SpecError(
            [Problem(path, 0, 0, f"Graphviz's dot failed (exit {done.returncode}){reason}")]
        )
    from .emit import write_new

    write_new(path, done.stdout, force=force)
