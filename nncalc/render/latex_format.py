"""LaTeX: a fragment that needs only amsmath (tables as tabular, derivations as align*), or with
`Options.standalone` a whole document that pdflatex compiles.

What is shown is decided in `view`, as for the terminal tables. All text goes through
`tex.escape`; a character pdflatex cannot typeset is written as '?' and named in a comment at
the top, so a title in any script never breaks the document.
"""

from __future__ import annotations

import math
from typing import Any

from . import Options
from .tex import escape, unsupported
from .view import Block, Cell, Column, Derivations, Grid, Heading, Math, Paragraph, Verdict, blocks

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\begin{document}
"""
END = "\\end{document}\n"
WIDE_COLUMN = r"p{0.3\linewidth}"
WIDE_CHARS = 20  # characters a line of the wide column holds, about
PAGE_LINES = 28  # table lines that fit on a page below a heading, with room to spare
ROW_END = r" \\"
# \raggedright redefines \\ inside its cell; \tabularnewline keeps the tabular's meaning
WIDE_ROW_END = r" \tabularnewline"


class _Writer:
    """Escapes text and remembers the characters it could not write."""

    def __init__(self) -> None:
        self.lost: dict[str, None] = {}

    def text(self, text: str) -> str:
        self.lost.update(dict.fromkeys(unsupported(text)))
        return escape(text)


def render(data: dict[str, Any], options: Options) -> str:
    writer = _Writer()
    body = "\n".join(chunk for block in blocks(data, options) for chunk in _draw(block, writer))
    head = ""
    if writer.lost:
        shown = " ".join(f"U+{ord(c):04X}" for c in writer.lost)
        head = f"% characters pdflatex cannot typeset are written as '?': {shown}\n"
    fragment = head + body
    return PREAMBLE + fragment + END if options.standalone else fragment


def _draw(block: Block, writer: _Writer) -> list[str]:
    if isinstance(block, Heading):
        return [f"\\section*{{{writer.text(block.title + block.detail)}}}", ""]
    if isinstance(block, Paragraph):
        return ["\\noindent " + writer.text(block.text), ""]
    if isinstance(block, Grid):
        return _table(block, writer)
    return _derivations(block, writer)


def _table(grid: Grid, writer: _Writer) -> list[str]:
    """One tabular, or for a long table several, each under the header row: a tabular never
    breaks across pages, so each piece must fit on one."""
    spec = "".join(WIDE_COLUMN if c.wide else "r" if c.numeric else "l" for c in grid.columns)
    end = WIDE_ROW_END if any(c.wide for c in grid.columns) else ROW_END
    header = " & ".join(writer.text(c.header) for c in grid.columns) + end
    lines = [f"\\subsection*{{{writer.text(grid.title)}}}"]
    for piece in _pieces(grid):
        lines += ["\\noindent", f"\\begin{{tabular}}{{{spec}}}", header, r"\hline"]
        for row in piece:
            text = " & ".join(
                _cell(cell, writer, column) for cell, column in zip(row, grid.columns, strict=True)
            )
            # a row starting with "[" would be read as the optional argument of the row end
            lines.append(("{}" if text.startswith("[") else "") + text + end)
        lines += [r"\end{tabular}", ""]
    return lines


def _pieces(grid: Grid) -> list[list[tuple[Cell, ...]]]:
    """The rows in runs of at most PAGE_LINES estimated lines (a wide cell wraps)."""
    pieces: list[list[tuple[Cell, ...]]] = [[]]
    used = 0
    for row in grid.rows:
        lines = max(
            [1]
            + [
                math.ceil(len(str(cell)) / WIDE_CHARS)
                for cell, column in zip(row, grid.columns, strict=True)
                if column.wide
            ]
        )
        if pieces[-1] and used + lines > PAGE_LINES:
            pieces.append([])
            used = 0
        pieces[-1].append(row)
        used += lines
    return pieces


def _cell(cell: Cell, writer: _Writer, column: Column) -> str:
    if isinstance(cell, Math):
        return f"${cell.latex}$"
    if isinstance(cell, Verdict):
        return writer.text(cell.word)
    if column.wide:
        return r"\raggedright " + writer.text(cell)
    # a number's sign as a minus, not a hyphen
    return writer.text(cell.replace("-", "−") if column.numeric else cell)


def _derivations(block: Derivations, writer: _Writer) -> list[str]:
    lines = [f"\\subsection*{{{writer.text(block.title)}}}"]
    for section in block.sections:
        title = f"${section.title_latex}$" if section.title_latex else writer.text(section.title)
        lines.append(f"\\paragraph{{{title}}}")
        rows: list[str] = []
        for line in section.lines:
            rows.append(line.latex)
            if line.note_latex is not None:
                rows.append(r"&\quad " + line.note_latex)
        if rows:
            lines += [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]
        lines.append("")
    return lines
