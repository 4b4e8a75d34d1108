"""Tables for people: neurons, inputs, outputs, loss and params, derivations and checked answers,
drawn with rich. What is shown is decided in `view`; this module only draws it.

All user text goes in as `Text`, never as markup, so a name like "net [v2]" prints as written.
Numbers fold onto a second line rather than being cut with "…" on a narrow terminal.

rich lays a table out cell by cell, about 0.1 ms a cell: a 10 000-neuron net's tables would take
tens of seconds. A long grid that fits the width as it is, which is every grid of numbers on a
wide enough terminal or in a file, is drawn here instead, row by row, in rich's own layout: only
its title and header go through rich. Output that is not a terminal (a file, a pipe) needs no
folding and no colour, so it is drawn here whole, in rich's layout, without importing rich at
all (a third of the start-up of a command); tests hold the two byte for byte equal.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import Options
from .view import Block, Cell, Derivations, Grid, Heading, Math, Paragraph, Verdict, blocks

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

MIN_COLUMN_WIDTH = 5  # characters a table column gets at least, padding included
LONG_GRID = 100  # rows above which a grid that fits is drawn row by row, not by rich
NOTE_INDENT = "    ↳ "


def render(data: dict[str, Any], options: Options) -> str:
    drawn = list(blocks(data, options))
    if options.width is None and not options.color:
        plain = _plain(drawn)
        if plain is not None:
            return plain
    return _with_rich(drawn, options)


def _with_rich(drawn: list[Block], options: Options) -> str:
    from rich.console import Console
    from rich.table import Table

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
    for block in drawn:
        if isinstance(block, Grid) and len(block.rows) > LONG_GRID and _print_long(console, block):
            continue
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


def _plain(drawn: list[Block]) -> str | None:
    """The blocks as rich prints them to a file, or None where that takes rich's own handling
    (a control character, a line break inside a cell)."""
    lines: list[str] = []
    for block in drawn:
        if isinstance(block, Heading):
            lines.append(block.title + block.detail)
        elif isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Grid):
            grid = _plain_grid(block)
            if grid is None:
                return None
            lines += grid
        else:
            lines.append(block.title)
            for section in block.sections:
                lines += ["", section.title]
                for line in section.lines:
                    lines.append(line.text)
                    if line.note_text is not None:
                        lines.append(NOTE_INDENT + line.note_text)
            lines.append("")
    text = "\n".join(lines)
    if not text.replace("\n", "").isprintable():
        return None
    return "\n".join(line.rstrip() for line in text.split("\n")) + "\n"


def _plain_grid(grid: Grid) -> list[str] | None:
    """A grid in rich's SIMPLE_HEAD layout: title, a blank edge, header, rule, rows, blank edge."""
    layout = _layout(grid)
    if layout is None:
        return None
    widths, head, body = layout
    rule = " " + "─" * (sum(widths) + 3 * (len(widths) - 1)) + " "
    # soft wrap: a title wider than its table runs on, as rich prints it to a file
    return [grid.title, "", head, rule, *body, ""]


def _layout(grid: Grid) -> tuple[list[int], str, list[str]] | None:
    """(column widths, header line, row lines) of `grid` as rich lays it out when nothing has
    to fold: one space at each edge, three between columns. None when a cell breaks a line."""
    headers = [column.header for column in grid.columns]
    columns = list(zip(*([_cell(cell) for cell in row] for row in grid.rows), strict=True))
    columns = columns or [() for _ in headers]
    if any("\n" in text for texts in columns for text in texts):
        return None
    narrow = [all(map(str.isascii, texts)) for texts in columns]  # one cell per character
    widths = [
        max(_width(header), *map(len if ascii else _width, texts), 0)
        for header, texts, ascii in zip(headers, columns, narrow, strict=True)
    ]
    numeric = [column.numeric for column in grid.columns]
    rows = [
        _justify(texts, width, right=right, ascii=ascii)
        for texts, width, right, ascii in zip(columns, widths, numeric, narrow, strict=True)
    ]
    head = [
        _justify((h,), w, right=r, ascii=h.isascii())[0]
        for h, w, r in zip(headers, widths, numeric, strict=True)
    ]
    return (
        widths,
        " " + "   ".join(head) + " ",
        [" " + "   ".join(cells) + " " for cells in zip(*rows, strict=True)],
    )


def _draw(block: Block) -> Iterable[RenderableType]:
    from rich.text import Text

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
    from rich import box
    from rich.table import Table
    from rich.text import Text

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


def _print_long(console: Console, grid: Grid) -> bool:
    """Print `grid` as rich would when no cell has to fold; False (nothing printed) otherwise.
    Its title and header go through rich, for their style on a terminal."""
    layout = _layout(grid)
    if layout is None or sum(layout[0]) + 3 * len(layout[0]) - 1 > console.width:
        return False
    widths, _, body = layout
    head = _table(Grid(grid.title, grid.columns, []))
    for column, width in zip(head.columns, widths, strict=True):
        column.width = width
    with console.capture() as capture:
        console.print(head)
    *top, edge = capture.get().split("\n")[:-1]  # the last line is the table's blank bottom edge
    console.file.write("\n".join((*top, *body, edge)) + "\n")
    return True


def _justify(texts: tuple[str, ...], width: int, *, right: bool, ascii: bool) -> list[str]:
    if ascii:
        return [t.rjust(width) for t in texts] if right else [t.ljust(width) for t in texts]
    pads = [" " * (width - _width(t)) for t in texts]  # a CJK character takes two cells
    return (
        [p + t for p, t in zip(pads, texts, strict=True)]
        if right
        else [t + p for p, t in zip(pads, texts, strict=True)]
    )


def _cell(cell: Cell) -> str:
    if isinstance(cell, Math):
        return cell.text
    if isinstance(cell, Verdict):
        return f"{cell.symbol} {cell.word}"
    return cell


def _derivations(block: Derivations) -> Iterable[RenderableType]:
    from rich.text import Text

    yield Text(block.title, style="bold")
    for section in block.sections:
        yield Text("")
        yield Text(section.title, style="bold")
        for line in section.lines:
            yield Text(line.text)
            if line.note_text is not None:
                yield Text(NOTE_INDENT + line.note_text)
    yield Text("")


def _width(text: str) -> int:
    """Terminal cells, as rich counts them (a CJK character takes two)."""
    if text.isascii() or not text.translate(_NARROW):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


# Characters one cell wide (Latin, Greek, punctuation, sub- and superscripts, arrows,
# mathematical operators, box drawing): the text of a table is almost all of them, and knowing
# it spares importing rich to measure. A test checks each against rich's own table.
NARROW_RANGES = (
    (0x20, 0x7F),
    (0xA0, 0x300),
    (0x370, 0x400),
    (0x2010, 0x2028),
    (0x2030, 0x205F),
    (0x2070, 0x20D0),
    (0x2100, 0x2300),
    (0x2500, 0x25FD),
    (0x2301, 0x2302),  # ⌁, a kink in a gradient check
    (0x2713, 0x2719),  # ✓ ✗ of checked answers
)
_NARROW = dict.fromkeys((c for low, high in NARROW_RANGES for c in range(low, high)), None)
