"""What every human-readable format shows, decided once: the blocks of a rendering (headings,
notes, tables, derivations), each number as displayed under the arithmetic mode, the path of
each value, and the list of scalar values for CSV. Renderers only draw these, so the formats
cannot disagree.

A path names a value in the data the way warnings and the "exact" and "rounding" keys do: keys
joined with ".", list indices as "[i]" (zero-based): `neurons.h1.delta[2]`, `gradients.W1[0][1]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import product
from typing import Any, NamedTuple

from . import Options
from .numbers import NOT_A_NUMBER, exact, fmt

# --- paths ---------------------------------------------------------------------------------------


def path(*keys: str | int) -> str:
    """path("neurons", "h1", "delta", 2) → 'neurons.h1.delta[2]'."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out = f"{out}.{key}" if out else key
    return out


def entries(name: str, value: Any) -> Iterator[tuple[str, tuple[int, ...]]]:
    """One (label, index) per scalar of a param: w1, (); b1[2], (1,); W1[1,2], (0, 1). Labels
    are 1-based, as in the formulas; indices are 0-based, as in paths."""
    if not isinstance(value, list):
        yield name, ()
        return
    shape = [len(value)] + ([len(value[0])] if value and isinstance(value[0], list) else [])
    for index in product(*(range(size) for size in shape)):
        yield f"{name}[{','.join(str(i + 1) for i in index)}]", index


def pick(value: Any, index: Iterable[int]) -> Any:
    for i in index:
        value = value[i]
    return value


_LABEL = re.compile(r"(.+)\[(\d+(?:,\d+)*)\]\Z")


def param_index(params: dict[str, Any], label: str) -> tuple[str, tuple[int, ...]]:
    """A param label as written in tables and answers ("w1", "W1[1,2]") → (name, 0-based index)."""
    if label in params:
        return label, ()
    match = _LABEL.match(label)
    if match and match.group(1) in params:
        return match.group(1), tuple(int(i) - 1 for i in match.group(2).split(","))
    return label, ()


# --- numbers -------------------------------------------------------------------------------------


def rounded(value: float, decimals: int) -> str:
    """`value` with exactly `decimals` decimals; a negative zero loses its sign."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _latex_fraction(text: str) -> str:
    """'-9/2' → '-\\frac{9}{2}'; '4' → '4'."""
    if "/" not in text:
        return text
    sign = "-" if text.startswith("-") else ""
    p, q = text.lstrip("-").split("/")
    return rf"{sign}\frac{{{p}}}{{{q}}}"


def _latex_number(text: str) -> str:
    """A displayed decimal in math mode: '1.5e-7' → '1.5 \\times 10^{-7}'."""
    if text == NOT_A_NUMBER:
        return rf"\text{{{NOT_A_NUMBER}}}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return text


# Sections of the data the spec gives rather than the computation: shown as written.
GIVEN = ("inputs", "targets", "params", "learning_rate")


class Numbers:
    """Shows the numbers of one result's data: in float mode with `precision` significant
    digits; in exact mode as the fraction (and its decimal); in round mode with exactly the
    rounding's decimals, a cell whose full-precision value differs marked with '*'."""

    def __init__(self, data: dict[str, Any], precision: int) -> None:
        arithmetic = data.get("arithmetic") or {"mode": "float"}
        rounding = data.get("rounding") or {}
        self.mode: str = arithmetic.get("mode", "float")
        self.decimals: int = int(arithmetic.get("decimals", rounding.get("decimals", 0)) or 0)
        self.exact: dict[str, str] = data.get("exact") or {}
        self.differs: dict[str, float | None] = rounding.get("differs") or {}
        self.precision = precision
        self.marked: dict[str, str] = {}  # differing paths shown so far → their rounded value

    def plain(self, value: float | None) -> str:
        """A value without a path (no exact form, no mark)."""
        if value is None:
            return NOT_A_NUMBER
        if self.mode == "round":
            return rounded(value, self.decimals)
        return fmt(value, self.precision)

    def at(self, value: float | None, *keys: str | int) -> str:
        """`cell` at path(*keys); the path is only built when the mode looks it up (a large net's
        tables have hundreds of thousands of cells)."""
        if self.mode == "float":
            return self.plain(value)
        return self.cell(value, path(*keys))

    def cell(self, value: float | None, where: str, fraction: str | None = None) -> str:
        """The value at path `where`, as a table cell: '9/2 (4.5)', '0.12*', '2.2'. In exact
        mode `fraction`, when given, is the value's exact form; else the data's at `where`."""
        if value is None:
            return NOT_A_NUMBER
        fraction = fraction or self.exact.get(where)
        if self.mode == "exact" and fraction is not None:
            if "/" not in fraction:
                return fraction
            return f"{fraction} ({fmt(value, self.precision)})"
        if self.mode == "round" and where.partition(".")[0].partition("[")[0] in GIVEN:
            return exact(value)  # given, not computed: as written, never rounded for show
        text = self.plain(value)
        if self.mode == "round" and where in self.differs:
            self.marked[where] = text
            return text + "*"
        return text

    def term(self, value: float | None, fraction: str | None) -> tuple[str, str]:
        """A number inside an equation, as (text, LaTeX math): in exact mode the fraction
        alone ('9/2', '\\frac{9}{2}')."""
        if self.mode == "exact" and fraction is not None and value is not None:
            return fraction, _latex_fraction(fraction)
        if self.mode == "round" and value is not None:
            # An equation mixes given numbers (as written) with computed ones (already rounded
            # to the decimals): the shortest form shows each truthfully.
            text = exact(value)
            return text, _latex_number(text)
        text = self.plain(value)
        return text, _latex_number(text)

    def full_precision(self, where: str) -> str:
        return exact_or_na(self.differs.get(where))


def exact_or_na(value: float | None) -> str:
    return NOT_A_NUMBER if value is None else exact(value)


# --- equations -----------------------------------------------------------------------------------

_ALIGN = re.compile(r"(?<!\\)&")


def join(parts: Iterable[str | int], terms: list[str]) -> str:
    """Equation parts joined: a str is literal, an int k stands for terms[k]."""
    return "".join(part if isinstance(part, str) else terms[part] for part in parts)


def unaligned(latex: str) -> str:
    """LaTeX math without its alignment points (every '&' not escaped by a backslash)."""
    return _ALIGN.sub("", latex).strip()


# --- blocks --------------------------------------------------------------------------------------


class Heading(NamedTuple):
    title: str  # shown bold
    detail: str = ""  # shown after it, plain


class Paragraph(NamedTuple):
    text: str


class Column(NamedTuple):
    header: str
    numeric: bool = False
    wide: bool = False  # long prose: LaTeX wraps it in a paragraph column


class Math(NamedTuple):
    """A cell with a Unicode form and a LaTeX math form."""

    text: str
    latex: str


class Verdict(NamedTuple):
    word: str  # right, wrong, consistent (or whatever the data says)

    @property
    def symbol(self) -> str:
        return VERDICT_SYMBOLS.get(self.word, "?")


VERDICT_SYMBOLS = {
    "right": "✓",
    "wrong": "✗",
    "consistent": "~",
    "pass": "✓",
    "fail": "✗",
    "kink": "⌁",
}

Cell = str | Math | Verdict


class Grid(NamedTuple):
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]

    def add(self, *cells: Cell) -> None:
        self.rows.append(cells)


class Line(NamedTuple):
    """One equation (or its note) in both forms; `latex` keeps its alignment '&'."""

    text: str
    latex: str
    note_text: str | None = None
    note_latex: str | None = None


class Section(NamedTuple):
    title: str
    title_latex: str
    lines: tuple[Line, ...]


class Derivations(NamedTuple):
    sections: tuple[Section, ...]
    title: str = "Derivations"


Block = Heading | Paragraph | Grid | Derivations

DIFFERS_TITLE = "* differs from full precision"


def blocks(data: dict[str, Any], options: Options) -> list[Block]:
    """Everything a table, Markdown or LaTeX rendering shows, in order."""
    numbers = Numbers(data, options.precision)
    command = data["command"]
    if command == "gradcheck":
        return list(_gradcheck(data, numbers))
    if command == "train":
        return list(_train(data, numbers))
    if command == "activations":
        return list(_activations(data, numbers))
    out: list[Block] = [_heading(data)]
    if command == "check":
        out.extend(_check(data, numbers))
    elif command == "explain":
        out.append(_derivations(data, numbers))
    else:
        out.extend(_tables(data, numbers))
        if data.get("explanation"):
            out.append(_derivations(data, numbers))
    if numbers.marked:
        grid = Grid(
            DIFFERS_TITLE,
            (Column("path"), Column("rounded", True), Column("full precision", True)),
            [],
        )
        for where, shown in numbers.marked.items():
            grid.add(where, shown, numbers.full_precision(where))
        out.append(grid)
    return out


def _heading(data: dict[str, Any]) -> Heading:
    title = data["title"] or data["source"]
    detail = ""
    if data["batched"]:
        count = data["batch_size"]
        detail = f"  ({count} sample{'s' if count != 1 else ''}, {data['reduction']} reduction)"
    return Heading(f"{title} — {data['command']}", detail)


class _Letters(NamedTuple):
    pre: str
    act: str


def _letters(data: dict[str, Any]) -> _Letters:
    notation = data.get("notation") or {}
    return _Letters(notation.get("pre", "a"), notation.get("act", "z"))


def _tables(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    backprop = "gradients" in data
    if data["batched"] and backprop and data["reduction"] == "mean" and data["batch_size"] > 1:
        yield Paragraph(
            "δ and ∂L/∂input are derivatives of the batch loss L, the mean over samples: "
            f"each sample's carries the factor 1/{data['batch_size']}."
        )
    samples: list[int | None] = list(range(data["batch_size"])) if data["batched"] else [None]
    for sample in samples:
        suffix = "" if sample is None else f" — sample {sample + 1}"
        yield _inputs(data, numbers, sample, suffix, backprop)
        yield _neurons(data, numbers, sample, suffix, backprop)
        yield _outputs(data, numbers, sample, suffix)
    yield _loss(data, numbers)
    yield _params(data, numbers, backprop)
    if data.get("optimizer"):
        yield from _optimizer(data, numbers)
    if backprop:
        yield _update_note(data, numbers)


def _at(value: Any, sample: int | None) -> Any:
    return value if sample is None else value[sample]


def _keys(sample: int | None, *keys: str) -> tuple[str | int, ...]:
    return keys if sample is None else (*keys, sample)


def _inputs(
    data: dict[str, Any], numbers: Numbers, sample: int | None, suffix: str, backprop: bool
) -> Grid:
    grads = data.get("input_gradients") if backprop else None
    columns = [Column("input"), Column("value", True)]
    if grads:
        columns.append(Column("∂L/∂input", True))
    grid = Grid(f"Inputs{suffix}", tuple(columns), [])
    for name, value in data["inputs"].items():
        cells: list[Cell] = [
            name,
            numbers.at(_at(value, sample), *_keys(sample, "inputs", name)),
        ]
        if grads:
            where = path(*_keys(sample, "input_gradients", name))
            cells.append(numbers.cell(_at(grads[name], sample), where))
        grid.add(*cells)
    return grid


def _neurons(
    data: dict[str, Any], numbers: Numbers, sample: int | None, suffix: str, backprop: bool
) -> Grid:
    pre, act = _letters(data)
    columns = [
        Column("neuron"),
        Column(f"{pre} = pre-activation", wide=True),
        Column(pre, True),
        Column("f"),
        Column(f"{act} = f({pre})", True),
    ]
    if backprop:
        columns.append(Column(f"δ = ∂L/∂{pre}", True))
    grid = Grid(f"Neurons{suffix}", tuple(columns), [])
    for name, neuron in data["neurons"].items():

        def show(key: str, name: str = name, neuron: dict[str, Any] = neuron) -> str:
            return numbers.at(_at(neuron[key], sample), *_keys(sample, "neurons", name, key))

        cells: list[Cell] = [
            name,
            neuron["formula"],
            show("pre_activation"),
            neuron["activation_function"],
            show("activation"),
        ]
        if backprop:
            cells.append(show("delta"))
        grid.add(*cells)
    return grid


def _outputs(data: dict[str, Any], numbers: Numbers, sample: int | None, suffix: str) -> Grid:
    probabilities = data.get("probabilities")
    targets = data["targets"]
    columns = [Column("output"), Column("ŷ", True)]
    if probabilities:
        columns.append(Column("p = softmax(ŷ)", True))
    if targets is not None:
        columns.append(Column("target y", True))
    grid = Grid(f"Outputs{suffix}", tuple(columns), [])
    for name, value in data["outputs"].items():
        cells: list[Cell] = [
            name,
            numbers.at(_at(value, sample), *_keys(sample, "outputs", name)),
        ]
        for key, table in (("probabilities", probabilities), ("targets", targets)):
            if table:
                where = path(*_keys(sample, key, name))
                cells.append(numbers.cell(_at(table[name], sample), where))
        grid.add(*cells)
    return grid


def _loss(data: dict[str, Any], numbers: Numbers) -> Grid:
    grid = Grid("Loss", (Column("loss"), Column("formula", wide=True), Column("L", True)), [])
    formula = f"L = {data['loss_formula']}"
    if data["batched"]:
        what = "mean" if data["reduction"] == "mean" else "sum"
        formula += f", {what} over {data['batch_size']} samples"
        for i, value in enumerate(data["sample_losses"]):
            grid.add(f"sample {i + 1}", "", numbers.at(value, "sample_losses", i))
    grid.add(data["loss_function"], formula, numbers.cell(data["loss"], "loss"))
    return grid


def update_header(learning_rate: float) -> str:
    return f"updated = value − {exact(learning_rate)} × ∂L/∂param"


def _params(data: dict[str, Any], numbers: Numbers, backprop: bool) -> Grid:
    updated = data.get("updated") if backprop else None
    columns = [Column("param"), Column("value", True)]
    if backprop:
        columns.append(Column("∂L/∂param", True))
    if updated is not None:
        optimizer = data.get("optimizer")
        header = (
            update_header(data["learning_rate"])
            if optimizer is None
            else f"updated ({optimizer['name']}, step {optimizer['step']})"
        )
        columns.append(Column(header, True))
    grid = Grid("Params", tuple(columns), [])
    frozen = set(data.get("frozen", []))
    for name, value in data["params"].items():
        for label, index in entries(name, value):
            cells: list[Cell] = [
                label,
                numbers.at(pick(value, index), "params", name, *index),
            ]
            if backprop:
                cells.append(
                    numbers.at(pick(data["gradients"][name], index), "gradients", name, *index)
                )
            if updated is not None:
                new = numbers.at(pick(updated[name], index), "updated", name, *index)
                cells.append(f"{new} (frozen)" if name in frozen else new)
            grid.add(*cells)
    return grid


_BARS = " ▁▂▃▄▅▆▇█"


def loss_curve(losses: list[float | None], width: int = 60) -> str:
    """The losses as a one-line chart of block characters (log scale when they span more than
    two decades), at most `width` characters: each the mean of its run of steps."""
    import math

    finite = [v for v in losses if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    runs = max(1, math.ceil(len(losses) / width))
    points = [
        [v for v in losses[i : i + runs] if v is not None] for i in range(0, len(losses), runs)
    ]
    values = [sum(p) / len(p) if p else None for p in points]
    low, high = min(finite), max(finite)
    log = low > 0 and high / low > 100

    def level(v: float) -> float:
        return math.log(v) if log else v

    lo, hi = level(low), level(high)
    span = (hi - lo) or 1.0
    return "".join(
        " " if v is None else _BARS[1 + round((level(v) - lo) / span * (len(_BARS) - 2))]
        for v in values
    )


def _train(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    title = data["title"] or data["source"]
    yield Heading(f"{title} — train")
    opt = data["optimizer"]
    settings = ", ".join(f"{k} = {exact(v)}" for k, v in opt["hyperparameters"].items())
    schedule = data["schedule"]
    how = {
        "constant": "constant",
        "step": f"step decay ×{exact(schedule['gamma'])} every {schedule['every']} steps",
        "exponential": f"exponential decay ×{exact(schedule['gamma'])} per step",
        "cosine": f"cosine down to {exact(schedule['minimum'])}",
    }[schedule["name"]]
    yield Paragraph(
        f"Optimizer {opt['name']}"
        + (f" ({settings})" if settings else "")
        + f"; learning rate {how}; {data['mini_batch']} of {data['batch_size']} samples per step"
        + (
            f" (shuffled with seed {data['seed']})"
            if data["mini_batch"] < data["batch_size"]
            else ""
        )
        + (
            "; computed in float32 (about 7 significant digits)"
            if data["dtype"] == "float32"
            else ""
        )
        + "."
    )
    steps = data["steps"]
    traced = bool(steps) and "params" in steps[0]
    columns = [Column("step"), Column("η", True), Column("loss", True)]
    labels: list[tuple[str, str, tuple[int, ...]]] = []
    if traced:
        for name, value in steps[0]["params"].items():
            labels += [(label, name, index) for label, index in entries(name, value)]
        columns += [Column(label, True) for label, _, _ in labels]
    grid = Grid("Trace (loss of the step's samples, before the step)", tuple(columns), [])
    for i, entry in enumerate(steps):
        cells: list[Cell] = [
            str(entry["step"]),
            numbers.at(entry["learning_rate"], "steps", i, "learning_rate"),
            numbers.at(entry["loss"], "steps", i, "loss"),
        ]
        for _, name, index in labels:
            value = pick(entry["params"][name], index)
            cells.append(numbers.at(value, "steps", i, "params", name, *index))
        grid.add(*cells)
    yield grid
    curve = loss_curve([e["loss"] for e in steps])
    if curve:
        yield Paragraph(f"Loss curve: {curve}")
    final = data["final"]
    grid = Grid(
        "Final params", (Column("param"), Column("value", True), Column("∂L/∂param", True)), []
    )
    for name, value in final["params"].items():
        for label, index in entries(name, value):
            grid.add(
                label,
                numbers.at(pick(value, index), "final", "params", name, *index),
                numbers.cell(
                    pick(final["gradients"][name], index), path("final", "gradients", name, *index)
                ),
            )
    yield grid
    noise = data.get("gradient_noise")
    if noise:
        grid = Grid(
            "Gradient noise at the final params (per-sample spread)",
            (
                Column("param"),
                Column("mean gradient", True),
                Column("σ per sample", True),
                Column(f"σ of a mean of {data['mini_batch']}", True),
            ),
            [],
        )
        root = data["mini_batch"] ** 0.5
        for name, value in noise["std"].items():
            for label, index in entries(name, value):
                sigma = pick(value, index)
                grid.add(
                    label,
                    numbers.plain(pick(noise["mean"][name], index)),
                    numbers.plain(sigma),
                    numbers.plain(None if sigma is None else sigma / root),
                )
        yield grid
    stopped = data["stopped"]
    yield Paragraph(
        f"{stopped['message'][0].upper()}{stopped['message'][1:]}; final loss over all "
        f"samples {numbers.cell(final['loss'], 'final.loss')}."
    )


# How tables write an optimizer's buffers and reported values.
STATE_SYMBOLS = {
    "velocity": "b",
    "square_avg": "s",
    "exp_avg": "m",
    "exp_avg_sq": "v",
    "m_hat": "m̂",
    "v_hat": "v̂",
}


def _optimizer(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    """The optimizer's formulas and hyper-parameters, then its state per param: each buffer
    before and after the step, and the bias-corrected moments where it has them."""
    opt = data["optimizer"]
    settings = ", ".join(f"{k} = {exact(v)}" for k, v in opt["hyperparameters"].items())
    yield Paragraph(
        f"Optimizer {opt['name']} ({opt['torch']}), step {opt['step']}"
        + (f"; {settings}" if settings else "")
        + ": "
        + "; ".join(opt["formulas"])
    )
    before, after = opt["state_before"] or {}, opt["state_after"] or {}
    report = opt["report"] or {}
    buffers = list(dict.fromkeys([*before, *after]))
    if not buffers and not report:
        return
    columns = [Column("param")]
    parts: list[tuple[str, dict[str, Any], str]] = []
    for buffer in buffers:
        symbol = STATE_SYMBOLS.get(buffer, buffer)
        parts.append((f"{symbol} before", before, buffer))
        parts.append((f"{symbol} after", after, buffer))
    parts += [(STATE_SYMBOLS.get(k, k), report, k) for k in report]
    columns += [Column(title, True) for title, _, _ in parts]
    grid = Grid("Optimizer state", tuple(columns), [])
    for name, value in data["params"].items():
        for label, index in entries(name, value):
            cells: list[Cell] = [label]
            for _, table, key in parts:
                values = table.get(key)
                if values is None:
                    cells.append("—")
                    continue
                section = "state_before" if table is before else "state_after"
                section = "report" if table is report else section
                where = path("optimizer", section, key, name, *index)
                cells.append(numbers.cell(pick(values[name], index), where))
            grid.add(*cells)
    yield grid


def _update_note(data: dict[str, Any], numbers: Numbers) -> Paragraph:
    if data["learning_rate"] is None:
        return Paragraph(
            "No learning rate given (--lr, or learning_rate in the spec): "
            "gradients only, no update."
        )
    optimizer = data.get("optimizer")
    how = (
        "One SGD step" if optimizer is None else f"Step {optimizer['step']} of {optimizer['name']}"
    )
    text = f"{how} with learning rate {exact(data['learning_rate'])}"
    if data["loss_after"] is not None:
        before = numbers.cell(data["loss"], "loss")
        text += f": loss {before} → {numbers.cell(data['loss_after'], 'loss_after')}"
    return Paragraph(text + ".")


# --- derivations ---------------------------------------------------------------------------------


def _derivations(data: dict[str, Any], numbers: Numbers) -> Derivations:
    sections: list[Section] = []
    for section in (data.get("explanation") or {}).get("sections", []):
        lines: list[Line] = []
        for equation in section["equations"]:
            values: list[float | None] = equation["numbers"]
            fractions: list[str | None] = equation.get("exact") or [None] * len(values)
            shown = [numbers.term(v, f) for v, f in zip(values, fractions, strict=True)]
            texts = [t for t, _ in shown]
            latexes = [x for _, x in shown]
            note = equation.get("note")
            lines.append(
                Line(
                    join(equation["text"], texts),
                    join(equation["latex"], latexes),
                    None if note is None else join(note["text"], texts),
                    None if note is None else unaligned(join(note["latex"], latexes)),
                )
            )
        title = section["title"]
        sections.append(Section(title["text"], title["latex"], tuple(lines)))
    return Derivations(tuple(sections))


# --- check ---------------------------------------------------------------------------------------


def answer_path(data: dict[str, Any], answer: dict[str, Any]) -> str | None:
    """Where the correct value of an answer lives in the data, or None for an unknown kind."""
    kind, sample = answer["kind"], answer.get("sample")
    name: str = answer.get("name") or ""
    tail: tuple[int, ...] = () if sample is None else (sample,)
    if kind in ("pre_activation", "activation", "delta"):
        return path("neurons", name, kind, *tail)
    if kind == "output":
        return path("outputs", name, *tail)
    if kind == "loss":
        return "loss"
    if kind == "sample_loss":
        return path("sample_losses", *tail)
    if kind in ("gradient", "updated"):
        key = "gradients" if kind == "gradient" else "updated"
        param, index = param_index(data.get("params") or {}, name)
        return path(key, param, *index)
    return None


def summary(counts: dict[str, int]) -> str:
    return (
        f"{counts.get('right', 0)} of {counts.get('total', 0)} right, "
        f"{counts.get('wrong', 0)} wrong, "
        f"{counts.get('consistent', 0)} consistent with an earlier answer"
    )


def _check(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    columns = (
        Column("quantity"),
        Column("your answer", True),
        Column("correct value", True),
        Column("verdict"),
        Column("explanation", wide=True),
    )
    source = data.get("answers_source")
    grid = Grid(f"Answers ({source})" if source else "Answers", columns, [])
    for answer in data["answers"]:
        where = answer_path(data, answer) or ""
        correct = numbers.cell(answer["correct"], where, answer.get("correct_exact"))
        symbol = answer["symbol"]
        grid.add(
            Math(symbol["text"], symbol["latex"]),
            answer["answer_text"],
            correct,
            Verdict(answer["verdict"]),
            answer["explanation"],
        )
    yield grid
    yield Paragraph(summary(data["summary"]) + ".")


# --- gradcheck ----------------------------------------------------------------------------------


def gradcheck_verdict(entry: dict[str, Any]) -> str:
    """pass, fail or kink (a kink never fails)."""
    if entry["kink"]:
        return "kink"
    return "pass" if entry["passed"] else "fail"


def gradcheck_summary(counts: dict[str, int]) -> str:
    failed, kinks = counts.get("failed", 0), counts.get("kinks", 0)
    text = f"{counts.get('checked', 0)} checked, {failed} failed"
    if kinks:
        text += f", {kinks} on a kink (marked, not failed)"
    return text


def _gradcheck(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    title = data["title"] or data["source"]
    yield Heading(f"{title} — gradcheck", f"  (tolerance {exact(data['tolerance'])} on rel error)")
    yield Paragraph(
        f"{data['step']}; rel error = |analytic − numeric| / max(|analytic|, |numeric|). An "
        "entry passes when its rel error is at most the tolerance, or its abs error is below the "
        "round-off floor of the difference; an entry whose ±h crosses a kink is marked, not failed."
    )
    columns = (
        Column("name"),
        Column("analytic", True),
        Column("numeric", True),
        Column("abs error", True),
        Column("rel error", True),
        Column("verdict"),
    )
    for kind, heading in (("param", "Params"), ("input", "Inputs")):
        grid = Grid(heading, columns, [])
        for i, entry in enumerate(data["entries"]):
            if entry["kind"] != kind:
                continue
            grid.add(
                entry["name"],
                *(
                    numbers.at(entry[key], "entries", i, key)
                    for key in ("analytic", "numeric", "abs_error", "rel_error")
                ),
                Verdict(gradcheck_verdict(entry)),
            )
        if grid.rows:
            yield grid
    yield Paragraph(gradcheck_summary(data["summary"]) + ".")


# --- activations ---------------------------------------------------------------------------------


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _jumps(what: str, jumps: list[dict[str, Any]]) -> str:
    return "; ".join(f"{what} jumps by {exact(j['size'])} at a = {exact(j['a'])}" for j in jumps)


def _zeros(zeros: list[float]) -> str:
    return ", ".join(f"a ≈ {fmt(z)}" for z in zeros)


_VANISHES = {
    "nowhere": "nowhere",
    "everywhere": "everywhere (f′ = 0)",
    "a ≤ 0": "for a ≤ 0 (f′ = 0 exactly)",
    "a → −∞": "as a → −∞ (saturation)",
    "a → ±∞": "as a → ±∞ (saturation)",
}
_DEAD = {
    "a ≤ 0": "yes: f′ = 0 for every a ≤ 0; a unit whose pre-activation stays there gets no "
    "gradient and stops learning",
    "everywhere": "yes: f′ = 0 everywhere; no gradient passes, so gradient descent cannot train it",
    "a → −∞": "no: f′ gets small when saturated, but never 0",
    "a → ±∞": "no: f′ gets small when saturated, but never 0",
    "nowhere": "no",
}


def _monotonic(entry: dict[str, Any]) -> str:
    if entry["monotonic"] is None:
        return str(entry["notes"]["monotonic"])
    if entry["monotonic"]:
        return "yes (never decreasing)"
    if entry["derivative_zeros"]:
        return f"no: falls, then rises (minimum at {_zeros(entry['derivative_zeros'])})"
    return "no: f′ < 0 for a < 0"


def _zero_centred(entry: dict[str, Any]) -> str:
    if not entry["elementwise"]:
        return str(entry["notes"]["zero_centred"])
    if entry["zero_centred"]:
        return "yes: f(0) = 0, and f takes both signs"
    if entry["value_at_zero"] != 0:
        return f"no: f(0) = {fmt(entry['value_at_zero'])}"
    return "no: f(0) = 0, but f ≥ 0"


def _steepest(entry: dict[str, Any], numbers: Numbers) -> str:
    steepest = entry["max_abs_derivative"]
    kind = "" if steepest["attained"] else " (a supremum)"
    return f"{numbers.plain(steepest['value'])} {steepest['where']}{kind}"


def _vanishes(entry: dict[str, Any]) -> str:
    text = str(_VANISHES.get(entry["vanishes"], entry["vanishes"]))
    if entry["derivative_zeros"]:
        text += f"; and f′ = 0 at the single point {_zeros(entry['derivative_zeros'])}"
    return text


def _dead(entry: dict[str, Any]) -> str:
    if not entry["elementwise"]:
        return str(entry["notes"]["dead_units"])
    text = _DEAD[entry["vanishes"]]
    if entry["derivative_zeros"] and not entry["dead_units"]:
        text += " (f′ = 0 at single points only)"
    return text


def _property_rows(entry: dict[str, Any], numbers: Numbers) -> list[tuple[str, str]]:
    continuity = "yes" if entry["continuous"] else "no: " + _jumps("f", entry["jumps"])
    if entry["continuously_differentiable"]:
        smooth = "yes"
    elif not entry["continuous"]:
        smooth = "no: f itself jumps"
    else:
        smooth = "no: " + _jumps("f′", entry["derivative_jumps"])
    rows = [("f(a)", entry["formula"]), ("f′(a)", entry["derivative_formula"])]
    if entry["params"]:
        rows.append(
            ("parameters", ", ".join(f"{k} = {exact(v)}" for k, v in entry["params"].items()))
        )
    return [
        *rows,
        ("range", entry["range"]["text"]),
        ("bounded", _yes(entry["bounded"])),
        ("monotonic", _monotonic(entry)),
        ("continuous", continuity),
        ("continuously differentiable", smooth),
        ("zero-centred", _zero_centred(entry)),
        ("f′ at kinks", entry["convention"] or "no kinks"),
        ("max |f′|", _steepest(entry, numbers)),
        ("f′ vanishes", _vanishes(entry)),
        ("dead-unit risk", _dead(entry)),
        ("cost", entry["cost"]),
    ]


def _activations(data: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    yield Heading("Activation functions")
    intro = (
        "a is the pre-activation, z = f(a). At a kink f′ takes the value stated as its "
        "convention (as PyTorch's autograd does)."
    )
    if any(not entry["elementwise"] for entry in data["activations"]):
        intro += " Softmax maps a whole vector: its facts are per component and per entry of "
        intro += "the Jacobian."
    yield Paragraph(intro)
    for entry in data["activations"]:
        aliases = ", ".join(entry["aliases"])
        title = entry["label"] + (f" (alias {aliases})" if aliases else "")
        grid = Grid(title, (Column("property"), Column("value", wide=True)), [])
        for name, text in _property_rows(entry, numbers):
            grid.add(name, text)
        yield grid
        if entry.get("sketch"):
            yield Paragraph("\n".join(entry["sketch"]))
    if data.get("at"):
        yield from _values_at(data["at"], numbers)
    if data.get("depth"):
        yield from _depth(data["depth"], numbers)


def _values_at(at: list[dict[str, Any]], numbers: Numbers) -> Iterator[Block]:
    grid = Grid(
        "Values at the given points",
        (Column("activation"), Column("a", True), Column("f(a)", True), Column("f′(a)", True)),
        [],
    )
    for entry in (e for e in at if e["elementwise"]):
        for point in entry["points"]:
            slope = numbers.plain(point["derivative"]) + (" (kink)" if point["kink"] else "")
            grid.add(entry["activation"], exact(point["a"]), numbers.plain(point["value"]), slope)
    if grid.rows:
        yield grid
    for entry in (e for e in at if not e["elementwise"]):
        vector = ", ".join(exact(p["a"]) for p in entry["points"])
        grid = Grid(
            f"{entry['activation']} of the vector a = ({vector})",
            (Column("i"), Column("a_i", True), Column("z_i", True), Column("∂z_i/∂a_i", True)),
            [],
        )
        for i, point in enumerate(entry["points"]):
            grid.add(
                str(i + 1),
                exact(point["a"]),
                numbers.plain(point["value"]),
                numbers.plain(point["derivative"]),
            )
        yield grid
        yield Paragraph(
            "Softmax is not elementwise: the points are one vector of pre-activations, "
            "z_i = e^(a_i) / Σ_j e^(a_j) (Σ z_i = 1), and ∂z_i/∂a_i = z_i(1 − z_i) is the "
            "Jacobian's diagonal; off it, ∂z_i/∂a_j = −z_i·z_j."
        )


def _depth(depth: dict[str, Any], numbers: Numbers) -> Iterator[Block]:
    n, weight = depth["n"], exact(depth["weight"])
    yield Paragraph(
        f"The gradient through {n} stacked units, each a = W·z_prev with W = {weight}, is "
        f"the product of the factors W·f′(a); with every unit at the same a it is "
        f"(W·f′(a))^{n}. It vanishes when |W·f′(a)| < 1 and explodes when |W·f′(a)| > 1."
    )
    grid = Grid(
        f"Gradient factor through {n} units (W = {weight})",
        (
            Column("activation"),
            Column("a", True),
            Column("f′(a)", True),
            Column("W·f′(a)", True),
            Column(f"(W·f′(a))^{n}", True),
            Column("verdict"),
        ),
        [],
    )
    for row in depth["rows"]:
        grid.add(
            row["activation"],
            exact(row["a"]),
            *(numbers.plain(row[key]) for key in ("derivative", "factor", "product")),
            row["verdict"],
        )
    if grid.rows:
        yield grid
    grid = Grid(
        f"Bound over every a: (|W|·max |f′|)^{n}",
        (
            Column("activation"),
            Column("max |f′|", True),
            Column("|W|·max |f′|", True),
            Column(f"(|W|·max |f′|)^{n}", True),
            Column("verdict"),
        ),
        [],
    )
    for bound in depth["bounds"]:
        grid.add(
            bound["activation"],
            *(numbers.plain(bound[key]) for key in ("max_abs_derivative", "factor", "bound")),
            bound["verdict"],
        )
    if grid.rows:
        yield grid
    if depth["skipped"]:
        yield Paragraph(
            f"Not stacked: {', '.join(depth['skipped'])} maps a whole layer (an output layer), "
            "not one unit; its Jacobian entries are at most 1/4 in size."
        )


# --- scalar values, for CSV ----------------------------------------------------------------------


class Value(NamedTuple):
    kind: str
    name: str  # neuron, output, input or param label ("W1[1,2]"); "" for loss and the like
    sample: int | None  # 0-based; None when the value is not per sample
    path: str
    value: float | None


def values(data: dict[str, Any]) -> list[Value]:
    """Every scalar value of a result, one per row, in a fixed order of kinds."""
    out: list[Value] = []
    batched = bool(data["batched"])

    def per_sample(kind: str, name: str, value: Any, *keys: str) -> None:
        if batched:
            for s, v in enumerate(value):
                out.append(Value(kind, name, s, path(*keys, s), v))
        else:
            out.append(Value(kind, name, None, path(*keys), value))

    def by_name(kind: str, key: str) -> None:
        for name, value in (data.get(key) or {}).items():
            per_sample(kind, name, value, key, name)

    def neurons(kind: str) -> None:
        for name, neuron in data["neurons"].items():
            if kind in neuron:
                per_sample(kind, name, neuron[kind], "neurons", name, kind)

    def params(kind: str, key: str) -> None:
        table = data.get(key)
        if table is None:
            return
        for name, value in table.items():
            for label, index in entries(name, value):
                out.append(Value(kind, label, None, path(key, name, *index), pick(value, index)))

    def single(kind: str, key: str) -> None:
        if key in data:
            out.append(Value(kind, "", None, key, data[key]))

    by_name("input", "inputs")
    for kind in ("pre_activation", "activation", "delta"):
        neurons(kind)
    by_name("output", "outputs")
    by_name("probability", "probabilities")
    by_name("target", "targets")
    single("loss", "loss")
    for i, value in enumerate(data.get("sample_losses") or []):
        out.append(Value("sample_loss", "", i, path("sample_losses", i), value))
    params("param", "params")
    params("gradient", "gradients")
    params("updated", "updated")
    single("learning_rate", "learning_rate")
    single("loss_after", "loss_after")
    by_name("input_gradient", "input_gradients")
    optimizer = data.get("optimizer") or {}
    for section in ("state_before", "state_after", "report"):
        for buffer, table in (optimizer.get(section) or {}).items():
            for name, value in table.items():
                for label, index in entries(name, value):
                    where = path("optimizer", section, buffer, name, *index)
                    out.append(Value(section, f"{buffer}:{label}", None, where, pick(value, index)))
    return out
