"""Display rounding for people: significant digits, no −0, no float noise; full precision stays
in the data."""

from __future__ import annotations

NOT_A_NUMBER = "n/a"  # a non-finite value, written as null in the data


def exact(value: float) -> str:
    """A number the user wrote (a constant weight, a learning rate) in its shortest exact form:
    0.1, not 0.1000…1; 2, not 2.0."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def fmt(value: float | int | None, precision: int = 6) -> str:
    """`value` to `precision` significant digits: 2.2000000000000006 → '2.2', −0.0 → '0'."""
    if value is None:
        return NOT_A_NUMBER
    text = f"{value:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    if float(text) == 0:  # −0, or a value that rounds to zero
        return "0"
    return text
