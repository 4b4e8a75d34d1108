"""Tables for people: neurons, inputs, outputs, loss and params, drawn with rich.

All user text goes in as `Text`, never as markup, so a name like "net [v2]" prints as written.
Numbers fold onto a second line rather than being cut with "…" on a narrow terminal.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from . import Options
from .numbers import exact, fmt

MIN_COLUMN_WIDTH = 5  # characters a table column gets at least, padding included


def render(data: dict[str, Any], options: Options) -> str:
    out = io.StringIO()
    width = options.width or 10_000
    console = Console(
        file=out,
        width=width,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="auto" if options.color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=options.width is None,
    )
    for block in _blocks(data, options.precision):
        # Folding lets a table fit a narrow terminal, but below about four characters a column
        # rich drops whole columns; print such a table wider and let the terminal wrap it.
        columns = len(block.columns) if isinstance(block, Table) else 0
        console.width = max(width, MIN_COLUMN_WIDTH * columns)
        console.print(block)
    text = out.getvalue()
    if options.width is None:  # nothing to fit: drop the padding rich adds to full width
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return text


def _blocks(data: dict[str, Any], precision: int) -> Iterable[RenderableType]:
    def n(value: Any) -> str:
        return fmt(value, precision)

    backprop = data["command"] == "backprop"
    title = data["title"] or data["source"]
    heading = Text(f"{title} — {data['command']}", style="bold")
    batched = data["batched"]
    if batched:
        count = data["batch_size"]
        heading.append(
            f"  ({count} sample{'s' if count != 1 else ''}, {data['reduction']} reduction)"
        )
    yield heading
    if batched and backprop and data["reduction"] == "mean" and data["batch_size"] > 1:
        yield Text(
            "δ and ∂L/∂input are derivatives of the batch loss L, the mean over samples: "
            f"each sample's carries the factor 1/{data['batch_size']}."
        )
    samples = range(data["batch_size"]) if batched else [None]
    for sample in samples:

        def at(value: Any, s: int | None = sample) -> Any:
            return value if s is None else value[s]

        suffix = "" if sample is None else f" — sample {sample + 1}"
        yield _inputs_table(data, at, n, suffix, backprop)
        yield _neurons_table(data, at, n, suffix, backprop)
        yield _outputs_table(data, at, n, suffix)
    yield _loss_table(data, n)
    yield _params_table(data, n, backprop)
    if backprop:
        yield _update_note(data, n)


def _table(title: str, headers: Sequence[str]) -> Table:
    """A table whose first column is a name and whose other columns hold numbers, except those
    headed by a formula or function name."""
    table = Table(
        title=Text(title, style="bold"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for i, header in enumerate(headers):
        numeric = i > 0 and header not in _TEXT_COLUMNS
        table.add_column(Text(header), justify="right" if numeric else "left", overflow="fold")
    return table


_TEXT_COLUMNS = ("a = pre-activation", "f", "formula")


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(Text(c) for c in cells))


def _inputs_table(data: dict[str, Any], at: Any, n: Any, suffix: str, backprop: bool) -> Table:
    grads = data.get("input_gradients") if backprop else None
    headers = ["input", "value"] + (["∂L/∂input"] if grads else [])
    table = _table(f"Inputs{suffix}", headers)
    for name, value in data["inputs"].items():
        cells = [name, n(at(value))]
        if grads:
            cells.append(n(at(grads[name])))
        _row(table, *cells)
    return table


def _neurons_table(data: dict[str, Any], at: Any, n: Any, suffix: str, backprop: bool) -> Table:
    headers = ["neuron", "a = pre-activation", "a", "f", "z = f(a)"]
    if backprop:
        headers.append("δ = ∂L/∂a")
    table = _table(f"Neurons{suffix}", headers)
    for name, neuron in data["neurons"].items():
        cells = [
            name,
            neuron["formula"],
            n(at(neuron["pre_activation"])),
            neuron["activation_function"],
            n(at(neuron["activation"])),
        ]
        if backprop:
            cells.append(n(at(neuron["delta"])))
        _row(table, *cells)
    return table


def _outputs_table(data: dict[str, Any], at: Any, n: Any, suffix: str) -> Table:
    probabilities = data.get("probabilities")
    targets = data["targets"]
    headers = ["output", "ŷ"]
    if probabilities:
        headers.append("p = softmax(ŷ)")
    if targets is not None:
        headers.append("target y")
    table = _table(f"Outputs{suffix}", headers)
    for name, value in data["outputs"].items():
        cells = [name, n(at(value))]
        if probabilities:
            cells.append(n(at(probabilities[name])))
        if targets is not None:
            cells.append(n(at(targets[name])))
        _row(table, *cells)
    return table


def _loss_table(data: dict[str, Any], n: Any) -> Table:
    table = _table("Loss", ["loss", "formula", "L"])
    formula = f"L = {data['loss_formula']}"
    if data["batched"]:
        what = "mean" if data["reduction"] == "mean" else "sum"
        formula += f", {what} over {data['batch_size']} samples"
        for i, value in enumerate(data["sample_losses"], start=1):
            _row(table, f"sample {i}", "", n(value))
    _row(table, data["loss_function"], formula, n(data["loss"]))
    return table


def _params_table(data: dict[str, Any], n: Any, backprop: bool) -> Table:
    updated = data.get("updated") if backprop else None
    headers = ["param", "value"]
    if backprop:
        headers.append("∂L/∂param")
    if updated is not None:
        headers.append(f"updated = value − {exact(data['learning_rate'])} × ∂L/∂param")
    table = _table("Params", headers)
    frozen = set(data.get("frozen", []))
    for name, value in data["params"].items():
        for label, index in _entries(name, value):
            cells = [label, n(_pick(value, index))]
            if backprop:
                cells.append(n(_pick(data["gradients"][name], index)))
            if updated is not None:
                new = n(_pick(updated[name], index))
                cells.append(f"{new} (frozen)" if name in frozen else new)
            _row(table, *cells)
    return table


def _entries(name: str, value: Any) -> Iterable[tuple[str, tuple[int, ...]]]:
    """One row per scalar: w1; b1[2]; W1[1,2] (indices 1-based, as in the formulas)."""
    if not isinstance(value, list):
        yield name, ()
        return
    shape = [len(value)] + ([len(value[0])] if value and isinstance(value[0], list) else [])
    for index in product(*(range(size) for size in shape)):
        yield f"{name}[{','.join(str(i + 1) for i in index)}]", index


def _pick(value: Any, index: tuple[int, ...]) -> Any:
    for i in index:
        value = value[i]
    return value


def _update_note(data: dict[str, Any], n: Any) -> Text:
    if data["learning_rate"] is None:
        return Text(
            "No learning rate given (--lr, or learning_rate in the spec): "
            "gradients only, no update."
        )
    text = f"One SGD step with learning rate {exact(data['learning_rate'])}"
    if data["loss_after"] is not None:
        text += f": loss {n(data['loss'])} → {n(data['loss_after'])}"
    return Text(text + ".")
