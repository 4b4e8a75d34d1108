"""Tables for people: neurons, inputs, outputs, loss and params, derivations and checked answers,
drawn with rich. What is shown is decided in `view`; this module only draws it.

All user text goes in as `Text`, never as markup, so a name like "net [v2]" prints as written.
Numbers fold onto a second line rather than being cut with "…" on a narrow terminal.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from . import Options
from .view import Block, Cell, Derivations, Grid, Heading, Math, Paragraph, Verdict, blocks

MIN_COLUMN_WIDTH = 5  # characters a table column gets at least, padding included
NOTE_INDENT = "    ↳ "


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
    for block in blocks(data, options):
        for renderable in _draw(block):
            # Folding lets a table fit a narrow terminal, but below about four characters a
            # column rich drops whole columns; print such a table wider and let the terminal
            # wrap it.
            columns = len(renderable.columns) if isinstance(renderable, Table) else 0
            console.width = max(width, MIN_COLUMN_WIDTH * columns)
            console.print(renderable)
    text = out.getvalue()
    if options.width is None:  # nothing to fit: drop the padding rich adds to full width
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return text


def _draw(block: Block) -> Iterable[RenderableType]:
    if isinstance(block, Heading):
        heading = Text(block.title, style="bold")
        heading.append(block.detail)
        yield heading
    elif isinstance(block, Paragraph):
        yield Text(block.text)
    elif isinstance(block, Grid):
        yield _table(block)
    else:
        yield from _derivations(block)


def _table(grid: Grid) -> Table:
    table = Table(
        title=Text(grid.title, style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in grid.columns:
        table.add_column(
            Text(column.header), justify="right" if column.numeric else "left", overflow="fold"
        )
    for row in grid.rows:
        table.add_row(*(Text(_cell(cell)) for cell in row))
    return table


def _cell(cell: Cell) -> str:
    if isinstance(cell, Math):
        return cell.text
    if isinstance(cell, Verdict):
        return f"{cell.symbol} {cell.word}"
    return cell


def _derivations(block: Derivations) -> Iterable[RenderableType]:
    yield Text(block.title, style="bold")
    for section in block.sections:
        yield Text("")
        yield Text(section.title, style="bold")
        for line in section.lines:
            yield Text(line.text)
            if line.note_text is not None:
                yield Text(NOTE_INDENT + line.note_text)
    yield Text("")
