"""The one error type for bad input: each problem carries the file, line and column it is at."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Problem(NamedTuple):
    """One thing wrong with the input, at a 1-based line and column of `source`.

    Line 0 means the problem has no place inside the text (a missing file, say).
    """

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = self.source if self.line <= 0 else f"{self.source}:{self.line}:{self.column}"
        return _printable(f"{where}: {self.message}")


def _printable(text: str) -> str:
    """One line of visible text: a control character quoted from the file (a carriage return,
    a terminal escape) is written as its escape, so it can neither split nor recolour the line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class SpecError(Exception):
    """Bad input: one or more located problems, all reported together."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.line, p.column))
        )
        super().__init__("\n".join(str(p) for p in self.problems))


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to a mistyped `word`, or None when nothing is close."""
    import difflib  # only on the error path

    pool = list(choices)
    folded = {c.lower(): c for c in pool}
    if word.lower() in folded:
        return folded[word.lower()]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def choice_hint(
    word: str, choices: Iterable[str], *, noun: str = "", aliases: Iterable[str] = ()
) -> str:
    """'; did you mean 'relu'? (allowed: ...)' — the tail of an unknown-name message.

    `aliases` are matched too but not listed.
    """
    pool = list(choices)
    match = closest(word, [*pool, *aliases]) if word else None
    listing = ", ".join(pool) if len(pool) <= 20 else ", ".join(pool[:20]) + ", …"
    allowed = f"allowed {noun}: {listing}" if noun else f"allowed: {listing}"
    if not pool:
        return ""
    if match is not None:
        return f"; did you mean '{match}'? ({allowed})"
    return f" ({allowed})"
