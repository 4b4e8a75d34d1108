"""Table rendering keeps every character at every terminal width: folding may move characters to
another line, but no column is dropped and nothing is cut with an ellipsis."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

import nncalc
from nncalc.render import Options
from nncalc.render.numbers import fmt
from nncalc.render.table_format import render

EXAMPLES = sorted(
    p
    for p in (Path(__file__).resolve().parent.parent / "examples").glob("*.yaml")
    if not p.stem.endswith("-answers")  # answers files are not specs
)


def _characters(text: str) -> Counter[str]:
    return Counter(re.sub(r"[\s─]", "", text))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_width_keeps_every_character(example: Path) -> None:
    data = nncalc.backprop(nncalc.load_spec(example)).to_data()
    unwrapped = render(data, Options(width=None))
    for width in range(8, 121, 7):
        text = render(data, Options(width=width))
        assert "…" not in text
        assert _characters(text) == _characters(unwrapped), f"width {width} lost characters"


@pytest.mark.parametrize(
    ("value", "precision", "shown"),
    [
        (2.2000000000000006, 6, "2.2"),
        (-0.0, 6, "0"),
        (0.0, 6, "0"),
        (9.680000000000001, 6, "9.68"),
        (87094.72, 6, "87094.7"),
        (1.5e-7, 6, "1.5e-7"),
        (-1e20, 3, "-1e20"),
        (1 / 3, 3, "0.333"),
        (None, 6, "n/a"),
    ],
)
def test_display_rounding(value: float | None, precision: int, shown: str) -> None:
    assert fmt(value, precision) == shown
