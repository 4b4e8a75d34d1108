"""User text into LaTeX that pdflatex accepts: escaping for text mode and names in math mode.

Only amsmath is assumed, with T1 fonts and utf8 input (Latin letters with accents work in text
mode). Greek letters and the few symbols this program prints map to commands; any other character
pdflatex cannot typeset becomes '?', so a name never breaks the document.
"""

from __future__ import annotations

import re
import unicodedata

_TEXT_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
}
_MATH_SPECIAL = {
    **_TEXT_SPECIAL,
    "\\": r"\backslash{}",
    "^": r"\wedge{}",
    "~": r"\sim{}",
    "'": r"{'}",
}
# Symbols this program itself writes, as math-mode commands.
MATH_SYMBOLS = {
    "δ": r"\delta",
    "∂": r"\partial",
    "η": r"\eta",
    "Σ": r"\sum",
    "σ": r"\sigma",
    "−": "-",
    "×": r"\times",
    "·": r"\cdot",
    "½": r"\tfrac{1}{2}",
    "←": r"\leftarrow",
    "²": "^{2}",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "…": r"\dots",
    "√": r"\surd",
    "′": "'",
    "→": r"\rightarrow",
    "∞": r"\infty",
    "∈": r"\in",
    "⁺": "^{+}",
    "⁻": "^{-}",
}
# Typographic punctuation with a text-mode spelling.
_TEXT_SYMBOLS = {"—": "---", "–": "--", "‘": "`", "’": "'", "“": "``", "”": "''"}
_GREEK = {
    chr(code): "\\" + unicodedata.name(chr(code)).split()[-1].lower()
    for code in range(0x3B1, 0x3CA)
    if code != 0x3C2  # final sigma has no command
}
_GREEK.update({"ο": "o", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda"})
_GREEK.update({"Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Φ": r"\Phi", "Ψ": r"\Psi"})
_GREEK.update({"Ω": r"\Omega", "ℓ": r"\ell"})
_GREEK["ο"] = "o"
_GREEK["λ"] = r"\lambda"  # Unicode spells it LAMDA
_INDEXED = re.compile(r"([A-Za-z])(\d+)((?:\[[0-9,]+\])?)\Z")


def _latin(char: str) -> bool:
    """A character T1 fonts with utf8 input typeset in text mode (Latin-1 letters and signs)."""
    return 0xA0 <= ord(char) <= 0xFF and char not in "×÷"


def _text_char(char: str) -> str | None:
    """One character in text mode, or None when pdflatex cannot typeset it."""
    if char in _TEXT_SPECIAL:
        return _TEXT_SPECIAL[char]
    if char.isascii():
        return char if char.isprintable() else None
    if _latin(char):
        return char
    if char in _TEXT_SYMBOLS:
        return _TEXT_SYMBOLS[char]
    if char in MATH_SYMBOLS:
        return f"${MATH_SYMBOLS[char]}$"
    if char in _GREEK:
        return f"${_GREEK[char]}$"
    if char == "ŷ":
        return r"$\hat{y}$"
    return None


_HATTED = re.compile("([A-Za-z])\u0302")  # m̂, v̂: a letter and a combining circumflex


def escape(text: str) -> str:
    """Text-mode LaTeX for user text (titles, names in tables, explanations)."""
    parts = _HATTED.split(unicodedata.normalize("NFC", text))
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # a hatted letter (NFC has no precomposed m̂ or v̂)
            out.append(rf"$\hat{{{part}}}$")
            continue
        out += ["?" if (tex := _text_char(char)) is None else tex for char in part]
    return "".join(out)


def unsupported(text: str) -> list[str]:
    """The characters of `text` that `escape` writes as '?', each once, in order."""
    chars = unicodedata.normalize("NFC", text)
    return list(dict.fromkeys(c for c in chars if _text_char(c) is None))


def math_name(name: str) -> str:
    """A user's name in math mode: w1 → w_{1}, W1[1,2] → W_{1}[1,2], h_1 → \\mathit{h\\_1}."""
    match = _INDEXED.match(name)
    if match:
        letter, digits, index = match.groups()
        return f"{letter}_{{{digits}}}{index}"
    if len(name) == 1 and name.isascii() and name.isalpha():
        return name
    if name in _GREEK:
        return _GREEK[name]
    out: list[str] = []
    for char in name:
        if char in _MATH_SPECIAL:
            out.append(_MATH_SPECIAL[char])
        elif char.isascii():
            out.append(char if char.isprintable() else "?")
        elif char in _GREEK:
            out.append(f"{{{_GREEK[char]}}}")
        elif char in MATH_SYMBOLS:
            out.append(f"{{{MATH_SYMBOLS[char]}}}")
        elif _latin(char):
            out.append(rf"\text{{{char}}}")
        else:
            out.append("?")
    return r"\mathit{" + "".join(out) + "}"
