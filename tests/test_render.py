"""Table rendering keeps every character at every terminal width: folding may move characters to
another line, but no column is dropped and nothing is cut with an ellipsis."""

from __future__ import annotations

import io
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


# --- long grids: drawn row by row, exactly as rich draws them -----------------------------------


def _every_kind_of_data() -> list[dict[str, object]]:
    """Results with every kind of grid: each example's step (with derivations), a few training
    steps, and a marked answers file."""
    root = Path(__file__).resolve().parent.parent / "examples"
    out: list[dict[str, object]] = []
    for example in EXAMPLES:
        spec = nncalc.load_spec(example)
        out.append(nncalc.backprop(spec, lr=0.5).to_data())
        out.append(nncalc.forward(spec).to_data())
    homework = nncalc.load_spec(root / "homework.yaml")
    out.append(nncalc.explain(homework))
    out.append(nncalc.check(homework, str(root / "homework-answers.yaml")))
    out.append(nncalc.explain(homework, decimals=2))
    from nncalc import explore, gradcheck, train
    from nncalc.activations import REGISTRY

    classifier = nncalc.load_spec(root / "softmax-classifier.yaml")
    out.append(train.run(classifier, 5, 0.1, batch_size=2, noise=True)[0])
    out.append(gradcheck.gradcheck(homework))
    activations = [cls() for cls in REGISTRY.values()]
    out.append(explore.explore(activations, [-1.0, 0.0, 2.0], 3, 2.0, sketch=True))
    return [d for d in out if d]


@pytest.mark.parametrize(
    "options",
    [Options(), Options(width=60), Options(width=200, color=True), Options(width=30)],
    ids=["file", "narrow", "colour", "too-narrow"],
)
def test_long_grids_are_drawn_as_rich_draws_them(
    options: Options, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the row-by-row path forced on every grid, every byte is the same as rich's own (and
    where a grid would have to fold, rich still draws it)."""
    from nncalc.render import table_format

    for data in _every_kind_of_data():
        monkeypatch.setattr(table_format, "LONG_GRID", 10**9)
        by_rich = render(data, options)
        monkeypatch.setattr(table_format, "LONG_GRID", 0)
        assert render(data, options) == by_rich


def test_long_grid_with_wide_characters_and_odd_names() -> None:
    """Cells are measured in terminal cells (a CJK character is two), as rich measures them."""
    from nncalc.render import table_format
    from nncalc.render.view import Column, Grid

    rows: list[tuple[str, ...]] = [
        (f"名前{i}", "[b]x[/b]", str(-(10 ** (i % 30)))) for i in range(150)
    ]
    grid = Grid("Odd ⚠ names", (Column("name"), Column("markup"), Column("n", numeric=True)), rows)
    fast = table_format._print_long  # the row-by-row path, which takes >LONG_GRID rows
    from rich.console import Console

    outputs = []
    for draw in ("fast", "rich"):
        out = io.StringIO()
        console = Console(file=out, width=200, no_color=True, highlight=False, markup=False)
        if draw == "fast":
            assert fast(console, grid)
        else:
            console.print(table_format._table(grid))
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]


def test_output_to_a_file_is_rich_byte_for_byte_without_rich() -> None:
    """Not a terminal: every block drawn without rich, exactly as rich draws it."""
    from nncalc.render import table_format

    for data in _every_kind_of_data():
        drawn = list(table_format.blocks(data, Options()))
        plain = table_format._plain(drawn)
        assert plain is not None, data["command"]
        assert plain == table_format._with_rich(drawn, Options()), data["command"]


@pytest.mark.parametrize(
    "title",
    ["T", "A title exactly as wide as", "A title wider than its narrow table is"],
)
@pytest.mark.parametrize("cells", [("a", "1"), ("名前", "-2.5"), ("long name here", "0")])
def test_a_grid_without_rich_matches_rich(title: str, cells: tuple[str, str]) -> None:
    """A title wider than its table runs on (rich wraps nothing in a file), wide characters
    count two cells."""
    from nncalc.render import table_format
    from nncalc.render.view import Column, Grid

    grid = Grid(title, (Column("name"), Column("value", numeric=True)), [cells, ("b", "22")])
    lines = table_format._plain_grid(grid)
    assert lines is not None
    assert "\n".join(line.rstrip() for line in lines) + "\n" == table_format._with_rich(
        [grid], Options()
    )


def test_the_characters_taken_as_one_cell_wide_are_one_cell_wide_to_rich() -> None:
    from rich.cells import cell_len

    from nncalc.render.table_format import NARROW_RANGES, _width

    for low, high in NARROW_RANGES:
        for code in range(low, high):
            if chr(code).isprintable():
                assert cell_len(chr(code)) == 1, hex(code)
    assert _width("∂L/∂w₁ ↳ ─ ŷ") == 12
    assert _width("名前") == 4
