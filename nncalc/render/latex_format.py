"""LaTeX: a fragment that needs only amsmath (tables as tabular, derivations as align*), or with
`Options.standalone` a whole document that pdflatex compiles.

What is shown is decided in `view`, as for the terminal tables. All text goes through
`tex.escape`; a character pdflatex cannot typeset is written as '?' and named in a comment at
the top, so a title in any script never breaks the document.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import Options
from .tex import escape, unsupported
from .view import Block, Cell, Column, Derivations, Grid, Heading, Math, Paragraph, Verdict, blocks

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[margin=2.5cm]{geometry}
\begin{document}
"""
END = "\\end{document}\n"
WIDE_COLUMN = r"p{0.3\linewidth}"
NARROW_WIDE_COLUMN = r"p{0.2\linewidth}"  # beside five other columns or more
WIDE_CHARS = 20  # characters a line of the wide column holds, about
PAGE_LINES = 28  # table lines that fit on a page below a heading, with room to spare
ROW_END = r" \\"
LINE_CHARS = 66  # characters of a derivation's Unicode line that fit the text width, about
CONTINUATION_CHARS = 12  # where a continuation line starts, after the aligned left side
ROW_BREAK = " \\\\\n"
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
    wide = WIDE_COLUMN if len(grid.columns) < 6 else NARROW_WIDE_COLUMN
    spec = "".join(wide if c.wide else "r" if c.numeric else "l" for c in grid.columns)
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
            rows.append(_broken(line.text, line.latex))
            if line.note_latex is not None:
                rows.append(_note(line.note_text or "", line.note_latex))
        if rows:
            lines += [r"\begin{align*}", ROW_BREAK.join(rows), r"\end{align*}"]
        lines.append("")
    return lines


def _broken(text: str, latex: str) -> str:
    """A long equation `lhs &= a = b = c` broken onto aligned lines before its `=` signs (and a
    sum too long for a line, before its `+` signs), as many parts to a line as fit: a display
    line does not wrap by itself."""
    head, sep, tail = latex.partition("&=")
    if len(text) <= LINE_CHARS or not sep:
        return latex
    shown = text.split(" = ")
    parts = _split_top_level(tail, " = ")
    same = len(shown) == len(parts) + 1  # the Unicode line's lengths are the better guess
    widths = [len(t) for t in shown[1:]] if same else [_visible(p) for p in parts]
    rows = _packed(_tokens(parts, widths), len(shown[0]) if same else _visible(head))
    rows[0] = head + rows[0]
    return ROW_BREAK.join(rows)


def _tokens(parts: list[str], widths: list[int]) -> list[tuple[str, str, int]]:
    """(the sign before it, LaTeX, width) of each part after an `=`, or of each `+` term of a
    part too wide for a continuation line."""
    tokens: list[tuple[str, str, int]] = []
    for part, width in zip(parts, widths, strict=True):
        if width + CONTINUATION_CHARS <= LINE_CHARS:
            tokens.append(("=", part.strip(), width))
            continue
        for k, term in enumerate(_split_top_level(part, " + ")):
            tokens.append(("=" if k == 0 else "+", term.strip(), _visible(term)))
    return tokens


def _packed(tokens: list[tuple[str, str, int]], used: int) -> list[str]:
    """The tokens as aligned rows, as many to a row as fit; `used` is the width of the left side
    before the first."""
    rows: list[str] = []
    for sign, part, width in tokens:
        if rows and used + 3 + width <= LINE_CHARS:
            rows[-1] += f" {sign} {part}"
        else:
            if rows:
                used = CONTINUATION_CHARS
            rows.append(("&= " if sign == "=" else r"&\quad + ") + part)
        used += 3 + width
    return rows


def _note(text: str, latex: str) -> str:
    """A note under an equation: beside the alignment when short, else as running text
    (amsmath's \\intertext) that wraps, its math inline and its \\text pieces as text."""
    if len(text) <= LINE_CHARS:
        return r"&\quad " + latex
    pieces = []
    for part, is_text in _text_pieces(latex):
        if not is_text and part.strip():
            part = f"${part.strip()}$"
        pieces.append(part)
    return r"\intertext{\quad " + "".join(pieces) + "}"


_OPENS = re.compile(r"\\left(?![A-Za-z])")  # \left( but not \leftarrow
_CLOSES = re.compile(r"\\right(?![A-Za-z])")  # \right) but not \rightarrow


def _split_top_level(latex: str, separator: str) -> list[str]:
    """`latex` split at `separator` where it stands outside every brace and \\left…\\right."""
    parts: list[str] = []
    depth = start = i = 0
    while i < len(latex):
        if _OPENS.match(latex, i) or latex[i] == "{":
            depth += 1
        elif _CLOSES.match(latex, i) or latex[i] == "}":
            depth -= 1
        elif depth == 0 and latex.startswith(separator, i):
            parts.append(latex[start:i])
            start = i + len(separator)
            i = start
            continue
        i += 1
    parts.append(latex[start:])
    return parts


def _text_pieces(latex: str) -> list[tuple[str, bool]]:
    """Math-mode LaTeX as pieces: the contents of its top-level \\text{…} groups (text mode,
    True) and the math between them (False)."""
    out: list[tuple[str, bool]] = []
    i = start = 0
    while (found := latex.find(r"\text{", i)) != -1:
        depth, j = 1, found + len(r"\text{")
        while depth:
            depth += {"{": 1, "}": -1}.get(latex[j], 0)
            j += 1
        if _brace_depth(latex[:found]) == 0:
            out += [(latex[start:found], False), (latex[found + len(r"\text{") : j - 1], True)]
            start = j
        i = j
    out.append((latex[start:], False))
    return [(p, t) for p, t in out if p]


def _brace_depth(latex: str) -> int:
    """How many braces are open at the end of `latex`."""
    return latex.count("{") - latex.count("}")


def _visible(latex: str) -> int:
    """About how many characters wide `latex` prints: its text without command names."""
    return len(re.sub(r"\\[A-Za-z]+|[{}^_&]", "", latex))
