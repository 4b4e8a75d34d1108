"""Markdown, LaTeX and CSV, and the table's homework-mode blocks (notation letters, exact and
round arithmetic, derivations, checked answers), each read back and compared with the data.

Markdown tables are parsed back and their numbers compared with the data's numbers formatted;
CSV is parsed back and every value compared exactly; LaTeX is compiled with pdflatex. Results
in exact or round mode, with derivations or with checked answers are built from a real result's
data plus the keys of the data contract, written out here by hand.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import shutil
import string
import subprocess
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

import nncalc
from nncalc.render import Format, Options, renderer
from nncalc.render import view as view_module
from nncalc.render.latex_format import WIDE_COLUMN
from nncalc.render.numbers import fmt
from nncalc.render.tex import escape, math_name, unsupported

ROOT = Path(__file__).resolve().parent.parent


def _is_spec(path: Path) -> bool:
    """A network spec, not another file kept with the examples (such as an answers file)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(document, dict) and ("neurons" in document or "layers" in document)


EXAMPLES = [p for p in sorted((ROOT / "examples").glob("*.yaml")) if _is_spec(p)]
HOMEWORK = ROOT / "examples" / "homework.yaml"
MAZUR = ROOT / "examples" / "mazur-sigmoid.yaml"
BATCH = ROOT / "examples" / "softmax-classifier.yaml"
PDFLATEX = shutil.which("pdflatex")

HOSTILE_TITLE = (
    "Ünïcödé & 50% #1 $x$ ~a^b_c \\ {braces} — Δθ 中文 “q” … <b>*x*</b> `c` [l](u) naïve"
)
HOSTILE_SPEC = r"""
title: "Ünïcödé & 50% #1 $x$ ~a^b_c \\ {braces} — Δθ 中文 “q” … <b>*x*</b> `c` [l](u) naïve"
inputs: {"x%": 1, "h_1": 2, "a,b": 0.5}
params: {"w&1": 0.5, "#w": -1, "$p": 2, "~t": 1, "^e": 0.25, "a\\b": 1, "{c}": 0.1, "θ": 0.3,
         "é": 1, "中": 2, "a|b": 1, "x*y": 1, "q\"t": 0.5, "<i>": 1, "`k`": 1, "[l](u)": 1}
neurons:
  "n_1": {from: {"x%": "w&1", "h_1": "#w", "a,b": "q\"t"}, bias: "$p", activation: sigmoid}
  "n{2}": {from: {"x%": "~t", "h_1": "^e"}, bias: "θ", activation: tanh}
  "o|ut": {from: {"n_1": "a\\b", "n{2}": "{c}"}, bias: "é", activation: identity}
  "ö*": {from: {"n_1": "中", "n{2}": "a|b", "x%": "<i>"}, bias: "x*y",
         activation: {name: leaky_relu, alpha: 0.1}}
  "_e_": {from: {"n_1": "`k`", "n{2}": "[l](u)"}, activation: identity}
target: {"o|ut": 1, "ö*": 0, "_e_": 0.5}
learning_rate: 0.1
frozen: ["#w"]
"""

# The keys of the data that hold values, as the CSV lists them.
VALUE_KEYS = (
    "inputs",
    "neurons",
    "outputs",
    "probabilities",
    "targets",
    "loss",
    "sample_losses",
    "params",
    "gradients",
    "updated",
    "learning_rate",
    "loss_after",
    "input_gradients",
)


# --- data ----------------------------------------------------------------------------------------


def backprop_data(spec: Path | str, lr: float | None = None) -> dict[str, Any]:
    return nncalc.backprop(nncalc.load_spec(spec), lr=lr).to_data()


def hostile_data() -> dict[str, Any]:
    data = backprop_data(HOSTILE_SPEC)
    assert data["title"] == HOSTILE_TITLE
    return data


Keys = tuple[str | int, ...]


def leaves(value: Any, keys: Keys = ()) -> Iterator[tuple[Keys, float | None]]:
    """Every number (or null) of the data with the keys that lead to it."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*keys, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*keys, i))
    elif value is None or isinstance(value, float):
        yield keys, value


def path_of(keys: Keys) -> str:
    """Keys as a path in the contract's grammar: neurons.h1.delta[2]."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else f".{key}" if out else key
    return out


def value_leaves(data: dict[str, Any]) -> dict[Keys, float | None]:
    out: dict[Keys, float | None] = {}
    for key in VALUE_KEYS:
        if data.get(key) is not None:
            out.update(leaves(data[key], (key,)))
        elif key in ("loss_after", "learning_rate") and key in data:
            out[(key,)] = None  # a single value that is null: a row with an empty value
    return out


def at(data: dict[str, Any], keys: Keys) -> Any:
    value: Any = data
    for key in keys:
        value = value[key]
    return value


def exact_data() -> dict[str, Any]:
    """The homework in exact mode, as the contract writes it: floats in place, fractions under
    "exact" for every numeric leaf."""
    data = backprop_data(HOMEWORK)
    data["arithmetic"] = {"mode": "exact"}
    data["exact"] = {
        path_of(keys): str(Fraction(value).limit_denominator(10**6))
        for keys, value in value_leaves(data).items()
        if value is not None
    }
    return data


ROUND_DIFFERS = {
    "neurons.h1.delta": 2.2049,
    "gradients.w9": -13.196,
    "updated.w6": 11.5649,
    "loss_after": 87094.6848123,
}


def round_data(decimals: int = 2) -> dict[str, Any]:
    """The homework in round mode: values rounded to `decimals`, a few marked as differing."""
    data = backprop_data(HOMEWORK)
    for keys, value in value_leaves(data).items():
        if value is not None:
            at(data, keys[:-1])[keys[-1]] = round(value, decimals)
    data["arithmetic"] = {"mode": "round", "decimals": decimals}
    data["rounding"] = {"decimals": decimals, "differs": dict(ROUND_DIFFERS)}
    return data


def homework_in(mode: str) -> dict[str, Any]:
    """The homework's data in arithmetic mode float, exact or round."""
    if mode == "exact":
        return exact_data()
    if mode == "round":
        return round_data()
    return backprop_data(HOMEWORK)


def explanation() -> dict[str, Any]:
    """Derivations in the contract's shape: a loss section, a δ section with a note, and a
    param section whose name needs escaping (an "&" that is not an alignment point)."""
    return {
        "sections": [
            {
                "kind": "loss",
                "name": None,
                "sample": None,
                "title": {"text": "Loss", "latex": "L"},
                "equations": [
                    {
                        "text": ["L = ½ (", 0, " − ", 1, ")² = ", 2],
                        "latex": [r"L &= \tfrac{1}{2}(", 0, " - ", 1, ")^{2} = ", 2],
                        "numbers": [6.0, 1.6, 9.68],
                        "exact": ["6", "8/5", "242/25"],
                        "note": None,
                    }
                ],
            },
            {
                "kind": "delta",
                "name": "h2",
                "sample": None,
                "title": {"text": "δ of h2", "latex": r"\delta_{h_{2}}"},
                "equations": [
                    {
                        "text": ["δ_h2 = relu′(", 0, ") · (", 1, ") = ", 2],
                        "latex": [
                            *(r"\delta_{h_{2}} &= \operatorname{relu}'(", 0, r") \cdot (", 1),
                            *(") = ", 2),
                        ],
                        "numbers": [-1.0, -4.4, 0.0],
                        "exact": ["-1", "-22/5", "0"],
                        "note": {
                            "text": ["relu′(a) = 0 because a = ", 0, " < 0"],
                            "latex": [r"\text{relu}'(a) = 0 \text{ because } a = ", 0, " < 0"],
                        },
                    }
                ],
            },
            {
                "kind": "param",
                "name": "w&1",
                "sample": None,
                "title": {"text": "∂L/∂w&1", "latex": r"\partial L/\partial " + math_name("w&1")},
                "equations": [
                    {
                        "text": ["∂L/∂w&1 = ", 0, " · ", 1, " = ", 2, " + ", 3],
                        "latex": [
                            *(r"\frac{\partial L}{\partial ", math_name("w&1"), "} &= ", 0),
                            *(r" \cdot ", 1, " = ", 2, " + ", 3),
                        ],
                        "numbers": [1.5e-7, 0.5, 7.5e-8, None],
                        "exact": ["3/20000000", "1/2", "3/40000000", "0"],
                        "note": None,
                    }
                ],
            },
        ]
    }


def explain_data(command: str = "explain", mode: str = "float") -> dict[str, Any]:
    data = homework_in(mode)
    data["command"] = command
    data["explanation"] = explanation()
    return data


def answers() -> list[dict[str, Any]]:
    return [
        {
            "quantity": "grad.w3",
            "kind": "gradient",
            "name": "w3",
            "sample": None,
            "symbol": {"text": "∂L/∂w3", "latex": r"\frac{\partial L}{\partial w_{3}}"},
            "line": 2,
            "column": 10,
            "answer": 10.0,
            "answer_text": "10",
            "correct": 0.0,
            "verdict": "wrong",
            "explanation": "h2 is dead (a = −1 < 0): no gradient reaches w3 | 100% & more.",
            "diagnosis": {
                "mistake": "relu_dead_ignored",
                "description": "ReLU'(a) taken as 1 for a < 0 (dead unit ignored)",
            },
            "follows_from": [],
        },
        {
            "quantity": "z.o",
            "kind": "activation",
            "name": "o",
            "sample": None,
            "symbol": {"text": "z_o", "latex": "z_{o}"},
            "line": 3,
            "column": 6,
            "answer": 1.6,
            "answer_text": "1.6",
            "correct": 1.5999999999999996,
            "verdict": "right",
            "explanation": "Right.",
            "diagnosis": None,
            "follows_from": [],
        },
        {
            "quantity": "grad.w9",
            "kind": "gradient",
            "name": "w9",
            "sample": None,
            "symbol": {"text": "∂L/∂w9", "latex": r"\frac{\partial L}{\partial w_{9}}"},
            "line": 4,
            "column": 10,
            "answer": -13.0,
            "answer_text": "-13",
            "correct": -13.200000000000001,
            "verdict": "consistent",
            "explanation": "Follows from your z.o and δ_o.",
            "diagnosis": None,
            "follows_from": ["z.o", "delta.o"],
        },
    ]


def check_data(mode: str = "float") -> dict[str, Any]:
    data = homework_in(mode)
    data["command"] = "check"
    data["answers_source"] = "answers_{1}.yaml"
    data["answers"] = answers()
    if mode == "exact":
        for answer, fraction in zip(data["answers"], ("0", "8/5", "-66/5"), strict=True):
            answer["correct_exact"] = fraction
        for where in ("gradients.w3", "neurons.o.activation", "gradients.w9"):
            del data["exact"][where]  # the answer's own correct_exact is what shows
    data["summary"] = {"total": 3, "right": 1, "wrong": 1, "consistent": 1}
    return data


def render(fmt_: Format, data: dict[str, Any], **options: Any) -> str:
    return renderer(fmt_)(data, Options(**options))


# --- a tiny GFM table reader ---------------------------------------------------------------------

_ESCAPABLE = re.escape(string.punctuation)
_DELIMITER = re.compile(r"\|( *:?-{3,}:? *\|)+\Z")


def unescape(text: str) -> str:
    return re.sub(rf"\\([{_ESCAPABLE}])", r"\1", text)


def split_row(line: str) -> list[str]:
    """A pipe-table row's cells: split at pipes not escaped by a backslash, then unescaped."""
    assert line.startswith("|") and line.endswith("|"), line
    cells: list[str] = []
    current, escaped = "", False
    for char in line[1:]:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append(unescape(current.strip()))
            current = ""
        else:
            current += char
    assert not escaped and not current.strip(), line
    return cells


Tables = dict[str, tuple[list[str], list[list[str]]]]


def markdown_tables(text: str) -> Tables:
    """Each `### title` followed by a pipe table → (headers, rows); every row as wide as the
    header, the delimiter row well formed."""
    tables: Tables = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("### ") or i + 2 >= len(lines) or not lines[i + 2].startswith("|"):
            continue
        title = unescape(line[4:])
        block = []
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            block.append(row)
        headers = split_row(block[0])
        assert _DELIMITER.match(block[1]), block[1]
        assert len(split_row(block[1])) == len(headers)
        rows = [split_row(row) for row in block[2:]]
        assert all(len(row) == len(headers) for row in rows), title
        assert title not in tables, f"two tables titled {title!r}"
        tables[title] = (headers, rows)
    return tables


def column(tables: Tables, title: str, header: str) -> list[str]:
    headers, rows = tables[title]
    return [row[headers.index(header)] for row in rows]


# --- Markdown ------------------------------------------------------------------------------------


def expected_tables(data: dict[str, Any], precision: int) -> dict[str, list[list[str]]]:
    """What the Markdown tables must hold, worked out here from the data alone."""

    def n(value: Any) -> str:
        return fmt(value, precision)

    out: dict[str, list[list[str]]] = {}
    batched = data["batched"]
    for sample in range(data["batch_size"]) if batched else [None]:

        def one(value: Any, s: int | None = sample) -> Any:
            return value if s is None else value[s]

        suffix = "" if sample is None else f" — sample {sample + 1}"
        grads = data["input_gradients"]
        out[f"Inputs{suffix}"] = [
            [name, n(one(v)), n(one(grads[name]))] for name, v in data["inputs"].items()
        ]
        out[f"Neurons{suffix}"] = [
            [
                name,
                neuron["formula"],
                n(one(neuron["pre_activation"])),
                neuron["activation_function"],
                n(one(neuron["activation"])),
                n(one(neuron["delta"])),
            ]
            for name, neuron in data["neurons"].items()
        ]
        rows = []
        for name, value in data["outputs"].items():
            row = [name, n(one(value))]
            if data.get("probabilities"):
                row.append(n(one(data["probabilities"][name])))
            row.append(n(one(data["targets"][name])))
            rows.append(row)
        out[f"Outputs{suffix}"] = rows
    loss_rows = [[f"sample {i + 1}", "", n(v)] for i, v in enumerate(data.get("sample_losses", []))]
    formula = f"L = {data['loss_formula']}"
    if batched:
        formula += f", mean over {data['batch_size']} samples"
    out["Loss"] = [*loss_rows, [data["loss_function"], formula, n(data["loss"])]]
    params = []
    for name, value in data["params"].items():
        flat = [(name, value, data["gradients"][name], data["updated"][name])]
        if isinstance(value, list):
            flat = []
            matrix = isinstance(value[0], list)
            for i, row in enumerate(value):
                for j, v in enumerate(row if matrix else [row]):
                    label = f"{name}[{i + 1},{j + 1}]" if matrix else f"{name}[{i + 1}]"
                    grad, new = data["gradients"][name][i], data["updated"][name][i]
                    flat.append((label, v, grad[j] if matrix else grad, new[j] if matrix else new))
        for label, v, grad, new in flat:
            frozen = " (frozen)" if name in data["frozen"] else ""
            params.append([label, n(v), n(grad), n(new) + frozen])
    out["Params"] = params
    return out


@pytest.mark.parametrize(
    "spec", [*EXAMPLES, HOSTILE_SPEC], ids=[p.stem for p in EXAMPLES] + ["hostile"]
)
def test_markdown_tables_parse_back_to_the_data(spec: Path | str) -> None:
    data = backprop_data(spec)
    text = render(Format.markdown, data, precision=4)
    tables = markdown_tables(text)
    expected = expected_tables(data, 4)
    assert list(tables) == list(expected)
    for title, rows in expected.items():
        assert tables[title][1] == rows, title
    heading = text.splitlines()[0]
    assert heading.startswith("## ")
    detail = f"  ({data['batch_size']} samples, mean reduction)" if data["batched"] else ""
    assert unescape(heading[3:]) == f"{data['title']} — backprop{detail}"
    lr = repr(data["learning_rate"]).removesuffix(".0")
    step = f"loss {fmt(data['loss'], 4)} → {fmt(data['loss_after'], 4)}"
    assert text.endswith(f"One SGD step with learning rate {lr}: {step}.\n")


def test_markdown_tables_parse_the_same_in_a_commonmark_parser() -> None:
    """A real parser (markdown-it, GFM tables) sees the hostile names as written, one cell
    each, and no emphasis, link, code or HTML made from them."""
    data = hostile_data()
    text = render(Format.markdown, data)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"em_open", "strong_open", "link_open", "code_inline", "html_inline"}
    cells: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "td_open":
            cells.append(tokens[i + 1].content)
    names = [*data["inputs"], *data["neurons"], *data["params"]]
    first_cells = {unescape(c) for c in cells}
    for name in names:
        assert name in first_cells, name
    headings = [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h2"
    ]
    assert [unescape(h) for h in headings] == [f"{HOSTILE_TITLE} — backprop"]


def test_markdown_escapes_every_special_character() -> None:
    from nncalc.render.markdown_format import escape as md_escape

    text = "a|b *c* _d_ `e` [f](g) <h> &amp; ~~i~~ $j$ #k \\l !m\nn"
    escaped = md_escape(text)
    assert "\n" not in escaped
    assert unescape(escaped) == text.replace("\n", " ")
    assert not re.search(r"(?<!\\)[|*_`\[\]<>&~$#!]", escaped.replace("\\\\", ""))


# --- CSV -----------------------------------------------------------------------------------------


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    assert "\r" not in text
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert reader.fieldnames is not None
    return list(reader.fieldnames), rows


def csv_keys(data: dict[str, Any], row: dict[str, str]) -> Keys:
    """Where a CSV row's value lives in the data, worked out here from kind, name and sample."""
    kind, name = row["kind"], row["name"]
    sample: Keys = (int(row["sample"]) - 1,) if row["sample"] else ()
    if kind in ("pre_activation", "activation", "delta"):
        return ("neurons", name, kind, *sample)
    keyed = {
        "input": "inputs",
        "output": "outputs",
        "probability": "probabilities",
        "target": "targets",
        "input_gradient": "input_gradients",
    }
    if kind in keyed:
        return (keyed[kind], name, *sample)
    if kind == "sample_loss":
        return ("sample_losses", *sample)
    if kind in ("loss", "learning_rate", "loss_after"):
        return (kind,)
    key = {"param": "params", "gradient": "gradients", "updated": "updated"}[kind]
    match = re.fullmatch(r"(.+)\[(\d+)(?:,(\d+))?\]", name)
    if name in data["params"] or not match:
        return (key, name)
    return (key, match.group(1), *(int(i) - 1 for i in match.groups()[1:] if i))


@pytest.mark.parametrize(
    "spec", [*EXAMPLES, HOSTILE_SPEC], ids=[p.stem for p in EXAMPLES] + ["hostile"]
)
def test_csv_round_trips_every_value_exactly(spec: Path | str) -> None:
    data = backprop_data(spec)
    data["loss_after"] = None  # a null is an empty cell
    header, rows = csv_rows(render(Format.csv, data))
    assert header == ["kind", "name", "sample", "value"]
    seen: list[Keys] = []
    for row in rows:
        where = csv_keys(data, row)
        value = at(data, where)
        if value is None:
            assert row["value"] == ""
        else:
            assert float(row["value"]) == value, where
            assert row["value"] == repr(value)
        seen.append(where)
    assert Counter(seen) == Counter(list(value_leaves(data))), "each value exactly once"
    kinds = [row["kind"] for row in rows]
    assert kinds == sorted(kinds, key=KIND_ORDER.index), "rows grouped by kind"


KIND_ORDER = [
    "input",
    "pre_activation",
    "activation",
    "delta",
    "output",
    "probability",
    "target",
    "loss",
    "sample_loss",
    "param",
    "gradient",
    "updated",
    "learning_rate",
    "loss_after",
    "input_gradient",
]


def test_csv_samples_and_matrix_entries_are_one_based() -> None:
    data = backprop_data(BATCH)
    _, rows = csv_rows(render(Format.csv, data))
    samples = {row["sample"] for row in rows if row["kind"] == "delta"}
    assert samples == {"1", "2", "3"}
    assert {row["sample"] for row in rows if row["kind"] in ("param", "loss")} == {""}
    names = [row["name"] for row in rows if row["kind"] == "gradient"]
    assert names[:3] == ["W1[1,1]", "W1[1,2]", "W1[2,1]"]
    w = next(r for r in rows if r["kind"] == "gradient" and r["name"] == "W1[2,1]")
    assert float(w["value"]) == data["gradients"]["W1"][1][0]


def test_csv_exact_mode_adds_the_fractions() -> None:
    data = exact_data()
    header, rows = csv_rows(render(Format.csv, data))
    assert header == ["kind", "name", "sample", "value", "exact"]
    for row in rows:
        assert row["exact"] == data["exact"][path_of(csv_keys(data, row))]
    delta = next(r for r in rows if r["kind"] == "delta" and r["name"] == "h1")
    assert delta["exact"] == "11/5"


def test_csv_round_mode_adds_the_full_precision_where_it_differs() -> None:
    data = round_data()
    header, rows = csv_rows(render(Format.csv, data))
    assert header == ["kind", "name", "sample", "value", "full_precision"]
    shown = {
        path_of(csv_keys(data, row)): row["full_precision"] for row in rows if row["full_precision"]
    }
    assert {k: float(v) for k, v in shown.items()} == ROUND_DIFFERS


def test_csv_check_has_one_row_per_answer() -> None:
    data = check_data()
    header, rows = csv_rows(render(Format.csv, data))
    assert header == [
        "quantity",
        "kind",
        "name",
        "sample",
        "answer",
        "correct",
        "verdict",
        "mistake",
        "follows_from",
        "explanation",
    ]
    assert len(rows) == len(data["answers"])
    for row, answer in zip(rows, data["answers"], strict=True):
        assert row["quantity"] == answer["quantity"]
        assert row["verdict"] == answer["verdict"]
        assert float(row["answer"]) == answer["answer"]
        assert float(row["correct"]) == answer["correct"]
        assert row["explanation"] == answer["explanation"]
        assert row["mistake"] == ((answer["diagnosis"] or {}).get("mistake") or "")
        assert row["follows_from"] == ";".join(answer["follows_from"])
        assert row["sample"] == ""
    assert rows[2]["follows_from"] == "z.o;delta.o"
    data["answers"][1]["sample"] = 1  # as in a batch: 0-based in the data, 1-based in CSV
    assert csv_rows(render(Format.csv, data))[1][1]["sample"] == "2"


def test_csv_has_no_rows_for_derivations() -> None:
    data = explain_data()
    plain = backprop_data(HOMEWORK)
    assert render(Format.csv, data) == render(Format.csv, plain)


# --- LaTeX ---------------------------------------------------------------------------------------


def compile_latex(document: str, folder: Path) -> str:
    """Compile with pdflatex, stopping at the first error; the log."""
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    (folder / "doc.tex").write_text(document, encoding="utf-8")
    run = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
        cwd=folder,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    errors = "\n".join(line for line in log.splitlines() if line.startswith("!"))
    assert run.returncode == 0, errors or log[-3000:]
    assert (folder / "doc.pdf").stat().st_size > 0
    assert "Missing character" not in log
    return log


def standalone(data: dict[str, Any], **options: Any) -> str:
    document = render(Format.latex, data, standalone=True, **options)
    assert document.startswith("\\documentclass{article}\n")
    for package in ("\\usepackage{amsmath}", "\\usepackage[T1]{fontenc}"):
        assert package in document
    assert document.endswith("\\end{document}\n")
    return document


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_latex_compiles_for_every_example(example: Path, tmp_path: Path) -> None:
    compile_latex(standalone(backprop_data(example)), tmp_path)


def test_latex_compiles_with_hostile_names_and_title(tmp_path: Path) -> None:
    data = hostile_data()
    data["explanation"] = explanation()
    document = standalone(data)
    assert "中" not in document and "文" not in document
    assert "% characters pdflatex cannot typeset are written as '?': U+4E2D U+6587" in document
    assert escape(HOSTILE_TITLE) in document
    compile_latex(document, tmp_path)


@pytest.mark.parametrize("mode", ["exact", "round", "float"])
def test_latex_compiles_derivations_and_checks(mode: str, tmp_path: Path) -> None:
    for i, data in enumerate((explain_data("backprop", mode), check_data(mode))):
        folder = tmp_path / str(i)
        folder.mkdir()
        compile_latex(standalone(data), folder)


def wide_spec(width: int) -> str:
    """A layered 2-width-1 network: 4·width params, more rows than a page holds."""
    rows = [[round(0.1 * (i + j) - 0.3, 2) for j in range(2)] for i in range(width)]
    return (
        "title: wide [net]\ninputs: [0.5, -1]\nlayers:\n"
        f"  - {{weights: {rows}, bias: {[0.1] * width}, activation: tanh}}\n"
        f"  - {{weights: [{[0.05] * width}], activation: identity}}\n"
        "target: [1]\nlearning_rate: 0.1\n"
    )


def test_latex_long_tables_come_in_page_sized_pieces(tmp_path: Path) -> None:
    data = backprop_data(wide_spec(20))  # 80 params
    fragment = render(Format.latex, data)
    params = fragment.split("\\subsection*{Params}\n", 1)[1].split("\\subsection*", 1)[0]
    pieces = re.findall(r"\\begin\{tabular\}\{lrrr\}\n(.*?)\\end\{tabular\}", params, re.S)
    assert len(pieces) == 3
    labels = []
    for piece in pieces:
        header, rule, *rows = piece.strip().split("\n")
        assert header.startswith("param & value & ") and rule == "\\hline"
        assert len(rows) <= 28
        labels += [row.split(" & ")[0] for row in rows]
    expected = [
        f"{name}[{i + 1},{j + 1}]" if isinstance(row, list) else f"{name}[{i + 1}]"
        for name, value in data["params"].items()
        for i, row in enumerate(value)
        for j in range(len(row) if isinstance(row, list) else 1)
    ]
    assert labels == expected and len(labels) == 80
    compile_latex(standalone(data), tmp_path)


def test_latex_fragment_is_only_the_body() -> None:
    data = backprop_data(HOMEWORK)
    fragment = render(Format.latex, data)
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    assert "\\usepackage" not in fragment
    assert standalone(data).count(fragment) == 1


def test_latex_tables_and_derivations() -> None:
    data = explain_data("backprop")
    fragment = render(Format.latex, data)
    assert "\\begin{tabular}{lrr}\ninput & value & $\\partial$L/$\\partial$input \\\\" in fragment
    assert "x1 & 1 & $-$0.88 \\\\" in fragment  # a number's sign is a minus
    assert "\\paragraph{$\\delta_{h_{2}}$}" in fragment
    loss = r"L &= \tfrac{1}{2}(6 - 1.6)^{2} = 9.68"
    delta = r"\delta_{h_{2}} &= \operatorname{relu}'(-1) \cdot (-4.4) = 0"
    note = r"&\quad \text{relu}'(a) = 0 \text{ because } a = -1 < 0"
    assert f"\\begin{{align*}}\n{loss}\n\\end{{align*}}" in fragment
    assert f"\\begin{{align*}}\n{delta} \\\\\n{note}\n\\end{{align*}}" in fragment
    assert r"&= 1.5 \times 10^{-7} \cdot 0.5 = 7.5 \times 10^{-8} + \text{n/a}" in fragment
    assert fragment.index("\\subsection*{Params}") < fragment.index("\\subsection*{Derivations}")


def test_latex_section_without_a_latex_title_uses_its_text() -> None:
    data = explain_data()
    data["explanation"]["sections"][1]["title"]["latex"] = ""
    fragment = render(Format.latex, data)
    assert "\\paragraph{$\\delta$ of h2}" in fragment


def test_latex_exact_numbers_are_fractions() -> None:
    fragment = render(Format.latex, explain_data(mode="exact"))
    assert r"(6 - \frac{8}{5})^{2} = \frac{242}{25}" in fragment
    assert r"\operatorname{relu}'(-1) \cdot (-\frac{22}{5}) = 0" in fragment
    assert "\\subsection*{Params}" not in fragment  # explain: heading and derivations only


def test_tex_escape_and_math_name() -> None:
    assert escape("x%_&#$~^\\{}") == (
        r"x\%\_\&\#\$\textasciitilde{}\textasciicircum{}\textbackslash{}\{\}"
    )
    assert escape("δ — ŷ → é 中") == r"$\delta$ --- $\hat{y}$ $\rightarrow$ é ?"
    assert escape("e\u0301") == "é"  # decomposed accents are composed first
    assert unsupported("a中b文中✓") == ["中", "文", "✓"]
    assert unsupported("Ünïcödé δ — “q”") == []
    assert math_name("w1") == "w_{1}"
    assert math_name("h_1") == r"\mathit{h\_1}"
    assert math_name("x%") == r"\mathit{x\%}"


# --- homework mode in every format ---------------------------------------------------------------


def table_text(data: dict[str, Any], **options: Any) -> str:
    return render(Format.table, data, **options)


def _header(text: str, first: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.split()[:1] == [first])
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.parametrize(
    ("name", "pre", "act"), [("seed", "a", "z"), ("nielsen", "z", "a"), ("mazur", "net", "out")]
)
def test_notation_letters_in_headers(name: str, pre: str, act: str) -> None:
    data = backprop_data(HOMEWORK)
    data["notation"] = {"name": name, "pre": pre, "act": act}
    headers = ["neuron", f"{pre} = pre-activation", pre, "f", f"{act} = f({pre})", f"δ = ∂L/∂{pre}"]
    assert _header(table_text(data), "neuron") == headers
    assert markdown_tables(render(Format.markdown, data))["Neurons"][0] == headers
    latex = render(Format.latex, data)
    # the pre-activation's formula wraps in a paragraph column, whose rows end in \tabularnewline
    assert " & ".join(escape(h) for h in headers) + " \\tabularnewline" in latex


def test_exact_mode_shows_fractions_and_their_decimals() -> None:
    data = exact_data()
    tables = markdown_tables(render(Format.markdown, data))
    assert column(tables, "Neurons", "δ = ∂L/∂a") == [
        "11/5 (2.2)",
        "0",
        "-132/25 (-5.28)",
        "-22/5 (-4.4)",
    ]
    assert column(tables, "Neurons", "a") == ["4", "-1", "3", "8/5 (1.6)"]
    assert column(tables, "Loss", "L") == ["242/25 (9.68)"]
    with_precision = markdown_tables(render(Format.markdown, data, precision=2))
    assert column(with_precision, "Params", "∂L/∂param")[0] == "11/5 (2.2)"
    assert column(with_precision, "Params", "∂L/∂param")[8] == "-66/5 (-13)"
    table = table_text(data)
    assert re.search(r"^ h1 .* 11/5 \(2\.2\)$", table, re.M)
    assert "& 11/5 (2.2) \\tabularnewline" in render(Format.latex, data)


def _starred(tables: Tables) -> set[tuple[str, str, str]]:
    return {
        (title, row[0], headers[i])
        for title, (headers, rows) in tables.items()
        for row in rows
        for i, cell in enumerate(row)
        if cell.endswith("*") and title != view_module.DIFFERS_TITLE
    }


def test_round_mode_marks_differing_cells_and_lists_them() -> None:
    data = round_data(2)
    text = render(Format.markdown, data)
    tables = markdown_tables(text)
    assert column(tables, "Neurons", "δ = ∂L/∂a") == ["2.20*", "0.00", "-5.28", "-4.40"]
    assert column(tables, "Neurons", "a") == ["4.00", "-1.00", "3.00", "1.60"]
    assert _starred(tables) == {
        ("Neurons", "h1", "δ = ∂L/∂a"),
        ("Params", "w9", "∂L/∂param"),
        ("Params", "w6", "updated = value − 1 × ∂L/∂param"),
    }
    assert "loss 9.68 → 87094.68\\*." in text
    headers, rows = tables[view_module.DIFFERS_TITLE]
    assert headers == ["path", "rounded", "full precision"]
    assert {row[0]: (row[1], float(row[2])) for row in rows} == {
        "neurons.h1.delta": ("2.20", 2.2049),
        "gradients.w9": ("-13.20", -13.196),
        "updated.w6": ("11.56", 11.5649),
        "loss_after": ("87094.68", 87094.6848123),
    }
    table = table_text(data)
    assert table.count("*") == 4 + 1  # the marks and the note's title
    assert " gradients.w9  " in table and "-13.196" in table
    latex = render(Format.latex, data)
    # a given value (the param) as written; computed ones with the rounding's decimals
    assert "w9 & 1.2 & $-$13.20* & 14.40 \\\\" in latex


def test_round_mode_drops_the_sign_of_a_rounded_zero() -> None:
    data = round_data(2)
    data["gradients"]["w3"] = -0.001
    cells = column(markdown_tables(render(Format.markdown, data)), "Params", "∂L/∂param")
    assert cells[2] == "0.00"


def test_derivations_in_the_table() -> None:
    text = table_text(explain_data("backprop"))
    lines = text.splitlines()
    start = lines.index("Derivations")
    assert lines[start:] == [
        "Derivations",
        "",
        "Loss",
        "L = ½ (6 − 1.6)² = 9.68",
        "",
        "δ of h2",
        "δ_h2 = relu′(-1) · (-4.4) = 0",
        "    ↳ relu′(a) = 0 because a = -1 < 0",
        "",
        "∂L/∂w&1",
        "∂L/∂w&1 = 1.5e-7 · 0.5 = 7.5e-8 + n/a",
        "",
    ]
    assert "Params" in lines[:start]


def test_derivations_in_exact_and_round_mode() -> None:
    exact = table_text(explain_data(mode="exact"))
    assert "L = ½ (6 − 8/5)² = 242/25" in exact
    assert "∂L/∂w&1 = 3/20000000 · 1/2 = 3/40000000 + n/a" in exact
    rounded = table_text(explain_data(mode="round"))
    # An equation mixes given and computed numbers: each in its shortest form, which for a
    # computed one has at most the rounding's decimals.
    assert "δ_h2 = relu′(-1) · (-4.4) = 0" in rounded
    assert "    ↳ relu′(a) = 0 because a = -1 < 0" in rounded


def test_derivations_in_markdown() -> None:
    text = render(Format.markdown, explain_data("backprop"))
    after = text.split("### Derivations\n\n", 1)[1]
    assert after.split("\n\n") == [
        "#### Loss",
        r"$L = \tfrac{1}{2}(6 - 1.6)^{2} = 9.68$",
        "#### δ of h2",
        r"$\delta_{h_{2}} = \operatorname{relu}'(-1) \cdot (-4.4) = 0$",
        r"$\qquad \text{relu}'(a) = 0 \text{ because } a = -1 < 0$",
        r"#### ∂L/∂w\&1",
        r"$\frac{\partial L}{\partial \mathit{w\&1}} = 1.5 \times 10^{-7} \cdot 0.5 = "
        r"7.5 \times 10^{-8} + \text{n/a}$" + "\n",
    ]
    exact = render(Format.markdown, explain_data(mode="exact"))
    assert r"$L = \tfrac{1}{2}(6 - \frac{8}{5})^{2} = \frac{242}{25}$" in exact


@pytest.mark.parametrize("fmt_", [Format.table, Format.markdown, Format.latex])
def test_explain_shows_only_the_heading_and_the_derivations(fmt_: Format) -> None:
    text = render(fmt_, explain_data(mode="round"))
    assert "2-3-1 ReLU network (homework) — explain" in text.replace("---", "—")
    for title in ("Inputs", "Neurons", "Outputs", "Params", "differs from full precision"):
        assert title not in text
    assert "Derivations" in text
    assert "δ of h2" in text or r"\delta_{h_{2}}" in text


def test_check_table() -> None:
    text = table_text(check_data())
    lines = text.splitlines()
    assert lines[0] == "2-3-1 ReLU network (homework) — check"
    assert _header(text, "quantity") == [
        "quantity",
        "your answer",
        "correct value",
        "verdict",
        "explanation",
    ]
    row = next(line for line in lines if line.startswith(" ∂L/∂w3"))
    assert re.split(r"\s{2,}", row.strip())[:4] == ["∂L/∂w3", "10", "0", "✗ wrong"]
    assert re.search(r"^ z_o +1\.6 +1\.6 +✓ right +Right\.$", text, re.M)
    assert re.search(r"^ ∂L/∂w9 +-13 +-13\.2 +~ consistent ", text, re.M)
    assert lines[-1] == "1 of 3 right, 1 wrong, 1 consistent with an earlier answer."
    for title in ("Inputs", "Neurons", "Params", "Derivations"):
        assert title not in text


def test_check_markdown_and_latex() -> None:
    data = check_data()
    tables = markdown_tables(render(Format.markdown, data))
    assert list(tables) == ["Answers (answers_{1}.yaml)"]
    rows = tables["Answers (answers_{1}.yaml)"][1]
    assert [row[3] for row in rows] == ["wrong", "right", "consistent"]
    assert rows[0] == ["∂L/∂w3", "10", "0", "wrong", data["answers"][0]["explanation"]]
    latex = render(Format.latex, data)
    assert "\\begin{tabular}{lrrl" + WIDE_COLUMN + "}" in latex
    assert (
        r"$\frac{\partial L}{\partial w_{3}}$ & 10 & 0 & wrong & \raggedright h2 is dead "
        r"(a = $-$1 < 0): no gradient reaches w3 | 100\% \& more. \tabularnewline"
    ) in latex
    assert "1 of 3 right, 1 wrong, 1 consistent with an earlier answer." in latex


def test_check_correct_values_follow_the_arithmetic_mode() -> None:
    exact = markdown_tables(render(Format.markdown, check_data("exact")))
    assert column(exact, "Answers (answers_{1}.yaml)", "correct value") == [
        "0",
        "8/5 (1.6)",
        "-66/5 (-13.2)",
    ]
    rounded = markdown_tables(render(Format.markdown, check_data("round")))
    # gradients.w9 differs from its full-precision value: marked, and listed
    assert column(rounded, "Answers (answers_{1}.yaml)", "correct value") == [
        "0.00",
        "1.60",
        "-13.20*",
    ]
    assert [row[0] for row in rounded[view_module.DIFFERS_TITLE][1]] == ["gradients.w9"]


def test_answer_paths() -> None:
    data = backprop_data(MAZUR)
    path = view_module.answer_path
    assert path(data, {"kind": "gradient", "name": "W1[1,2]"}) == "gradients.W1[0][1]"
    assert path(data, {"kind": "updated", "name": "b2[2]"}) == "updated.b2[1]"
    assert path(data, {"kind": "delta", "name": "h1", "sample": 2}) == "neurons.h1.delta[2]"
    assert path(data, {"kind": "sample_loss", "sample": 0}) == "sample_losses[0]"
    assert path(data, {"kind": "loss", "name": None}) == "loss"
    assert view_module.path("gradients", "W1", 0, 1) == "gradients.W1[0][1]"


def _characters(text: str) -> Counter[str]:
    return Counter(re.sub(r"[\s─]", "", text))


@pytest.mark.parametrize("maker", [explain_data, check_data, round_data], ids=lambda f: f.__name__)
def test_new_blocks_keep_every_character_at_every_width(maker: Any) -> None:
    data = maker()
    unwrapped = table_text(data)
    for width in range(8, 121, 9):
        text = table_text(data, width=width)
        assert "…" not in text
        assert _characters(text) == _characters(unwrapped), f"width {width} lost characters"


def test_user_text_is_never_markup_in_the_new_blocks() -> None:
    data = check_data()
    data["answers"][0]["explanation"] = "[bold red]loud[/] and [i]x"
    data["answers"][0]["symbol"]["text"] = "[u]w"
    text = table_text(data, color=True, width=200)
    assert "[bold red]loud[/] and [i]x" in re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "[u]w" in re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("mode", ["float", "exact", "round"])
def test_the_formats_agree_on_every_number(mode: str) -> None:
    """The terminal table, Markdown and LaTeX show the same cells: one view decides them."""
    data = backprop_data(BATCH) if mode == "float" else homework_in(mode)
    tables = markdown_tables(render(Format.markdown, data, precision=3))
    table = table_text(data, precision=3)
    latex = render(Format.latex, data, precision=3)
    assert len(tables) > 4
    for title, (_, rows) in tables.items():
        for row in rows:
            for cell in filter(None, row):
                assert cell in table, (title, cell)
                assert escape(cell) in latex or escape(cell.replace("-", "−")) in latex, cell


@pytest.mark.parametrize("maker", [check_data, round_data], ids=lambda f: f.__name__)
def test_rendering_leaves_the_data_as_it_was(maker: Any) -> None:
    data = maker()
    before = copy.deepcopy(data)
    for fmt_ in Format:
        render(fmt_, data)
    assert data == before


OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_a_worked_step_stays_on_the_page(example: Path, tmp_path: Path) -> None:
    # Display maths does not wrap: long derivations are broken before '=' (or '+') and long
    # notes and table cells wrap, so nothing runs past the margin of the standalone document.
    spec = nncalc.load_spec(example)
    data = nncalc.explain(spec)
    data["command"] = "backprop"  # the tables and every derivation, as backprop --explain
    log = compile_latex(standalone(data), tmp_path)
    assert [float(pt) for pt in OVERFULL.findall(log) if float(pt) > 1.0] == []


def test_a_long_equation_is_broken_before_its_equals_signs() -> None:
    from nncalc.render.latex_format import _broken

    text = "L = " + " + ".join(["(0.123456)(0.654321)"] * 4) + " = 0.3 = 0.30000"
    latex = "L &= " + " + ".join([r"(0.123456)(0.654321)"] * 4) + " = 0.3 = 0.30000"
    rows = _broken(text, latex).split(" \\\\\n")
    assert rows[0].startswith("L &= ")
    assert all(r.startswith(("L &= ", "&= ", r"&\quad + ")) for r in rows)
    assert len(rows) > 1
    # nothing lost or reordered: the rows read back as the one equation
    joined = " ".join(r.removeprefix("L ").removeprefix("&").strip() for r in rows)
    assert joined.replace(r"\quad ", "") == latex.removeprefix("L &")


def test_an_arrow_is_not_a_bracket_when_breaking_an_equation() -> None:
    from nncalc.render.latex_format import _split_top_level

    latex = r"a \rightarrow b = \left(c = d\right) = e \leftarrow f"
    assert _split_top_level(latex, " = ") == [
        r"a \rightarrow b",
        r"\left(c = d\right)",
        r"e \leftarrow f",
    ]
