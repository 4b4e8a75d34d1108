"""The YAML reader: YAML 1.2 scalars, aliases, documents and nesting, independent of the spec."""

from __future__ import annotations

import pytest

from nncalc import SpecError
from nncalc.yamlio import MAX_DEPTH, MAX_VALUES, parse, plain_scalar


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-7", -7),
        ("+3", 3),
        ("1e-3", 0.001),
        ("1E3", 1000.0),
        ("2.", 2.0),
        (".5", 0.5),
        ("-0.0", -0.0),
        ("0x1F", 31),
        ("0o17", 15),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("1_000", "1_000"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("0b101", "0b101"),
        ("1:30", "1:30"),
        ("w1", "w1"),
        ("TRUE", True),
        ("NULL", None),
        ("Infinity", "Infinity"),
        ("e3", "e3"),
        ("_1", "_1"),
        ("é", "é"),
        ("+.INF", float("inf")),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    got = plain_scalar(text)
    assert got == value
    assert type(got) is type(value)


def test_special_floats_are_floats() -> None:
    assert plain_scalar(".inf") == float("inf")
    assert plain_scalar("-.Inf") == float("-inf")
    nan = plain_scalar(".NaN")
    assert isinstance(nan, float) and nan != nan


def test_quoted_scalars_stay_text() -> None:
    doc = parse("a: '1'\nb: \"2.5\"\nc: !!str 3\nd: !!float 4\n", "t.yaml")
    assert doc.data == {"a": "1", "b": "2.5", "c": "3", "d": 4.0}


def test_aliases_share_the_anchored_value() -> None:
    doc = parse("a: &row [1, 2]\nb: *row\n", "t.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}
    assert not doc.problems


def test_positions_are_found_on_demand() -> None:
    doc = parse("top:\n  inner: [10, 20, 30]\n", "t.yaml")
    assert doc.locate(("top", "inner", 2)) == (2, 19)
    assert doc.locate(("top", "inner"), key=True) == (2, 3)
    assert doc.locate(("top", "missing")) == (2, 3)  # the deepest node the path reached


def test_duplicate_keys_keep_the_first_value_and_are_reported() -> None:
    doc = parse("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert doc.data == {"a": 1, "b": 2}
    assert [(p.line, p.column) for p in doc.problems] == [(3, 1)]
    assert "duplicate key 'a'" in doc.problems[0].message


def test_billion_laughs_is_refused() -> None:
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(SpecError) as caught:
        parse("\n".join(lines) + "\n", "lol.yaml")
    assert f"more than {MAX_VALUES:,} values" in str(caught.value)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    depth = 100_000
    with pytest.raises(SpecError) as caught:
        parse("a: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert "deep.yaml:1:" in str(caught.value)


def test_nesting_past_the_depth_limit_is_located() -> None:
    """The 101st level is refused where it opens, whichever parser reads the file."""
    text = "{a: " * 150 + "1" + "}" * 150 + "\n"
    with pytest.raises(SpecError) as caught:
        parse(text, "deep.yaml")
    assert str(caught.value) == (
        f"deep.yaml:1:{100 * 4 + 1}: nested more than {MAX_DEPTH} levels deep; "
        "no spec or answers file needs that many"
    )
    block = "".join(f"{' ' * k}- \n" for k in range(0, 2 * 120, 2)) + " " * 240 + "- 1\n"
    with pytest.raises(SpecError) as caught:
        parse(block, "block.yaml")
    assert str(caught.value).startswith("block.yaml:101:201: nested more than 100 levels")
    nested = "{a: " * MAX_DEPTH + "1" + "}" * MAX_DEPTH  # at the limit: fine
    assert parse(nested, "ok.yaml").data is not None


def test_a_second_document_is_an_error() -> None:
    with pytest.raises(SpecError) as caught:
        parse("a: 1\n---\nb: 2\n", "two.yaml")
    assert str(caught.value).startswith("two.yaml:2:1: the file must be one YAML document")


def test_an_unknown_alias_is_located() -> None:
    doc = parse("a: [1, *nope]\n", "t.yaml")
    assert [(p.line, p.column, p.message) for p in doc.problems] == [
        (1, 8, "unknown alias '*nope'")
    ]


def test_an_empty_document_has_no_data() -> None:
    assert parse("", "t.yaml").data is None
    assert parse("# only a comment\n", "t.yaml").data is None
