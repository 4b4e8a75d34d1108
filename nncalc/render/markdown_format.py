"""GitHub-flavoured Markdown: a heading, the tables as pipe tables, derivations as $…$ math.

What is shown is decided in `view`, as for the terminal tables. User text is escaped so that a
name like "a|b" or "w_1*" stays one table cell and prints as written.
"""

from __future__ import annotations

from typing import Any

from . import Options
from .view import (
    Block,
    Cell,
    Derivations,
    Grid,
    Heading,
    Math,
    Paragraph,
    Verdict,
    blocks,
    unaligned,
)

# Characters that could start Markdown syntax inside a line (emphasis, code, links, HTML,
# entities, strikethrough, math, table cells, heading ends); each is written backslash-escaped.
_SPECIAL = set("\\`*_[]<>|~$&#!")


def escape(text: str) -> str:
    """User or program text as Markdown that shows exactly `text`, on one line."""
    text = " ".join(text.splitlines())
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def render(data: dict[str, Any], options: Options) -> str:
    chunks = [chunk for block in blocks(data, options) for chunk in _draw(block)]
    return "\n\n".join(chunks) + "\n"


def _draw(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [f"## {escape(block.title + block.detail)}"]
    if isinstance(block, Paragraph):
        return [escape(block.text)]
    if isinstance(block, Grid):
        return [f"### {escape(block.title)}", _table(block)]
    return _derivations(block)


def _table(grid: Grid) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    lines = [
        row([escape(c.header) for c in grid.columns]),
        row(["---:" if c.numeric else "---" for c in grid.columns]),
    ]
    lines.extend(row([_cell(cell) for cell in cells]) for cells in grid.rows)
    return "\n".join(lines)


def _cell(cell: Cell) -> str:
    if isinstance(cell, Math):
        return escape(cell.text)
    if isinstance(cell, Verdict):
        return escape(cell.word)
    return escape(cell)


def _math(latex: str) -> str:
    return f"${unaligned(latex)}$"


def _derivations(block: Derivations) -> list[str]:
    out = [f"### {escape(block.title)}"]
    for section in block.sections:
        out.append(f"#### {escape(section.title)}")
        for line in section.lines:
            out.append(_math(line.latex))
            if line.note_latex is not None:
                out.append(_math(r"\qquad " + line.note_latex))
    return out
