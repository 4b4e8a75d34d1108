"""What each activation function does to a gradient, for `nncalc activations`: its properties as
stated facts, its value and slope at chosen points, and the gradient factor through a stack of
units. Every stated fact is checked by sampling the function in tests/test_activations_cli.py.

Notation: a is the pre-activation, z = f(a); f′ at a kink is the class's `convention`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

from .activations import ALIASES, REGISTRY, Activation
from .errors import Problem, SpecError
from .render.numbers import fmt

SOURCE = "<command line>"
INF = math.inf
VANISH_BELOW = 1e-6  # |f′| below this counts as vanished
DEFAULT_DEPTH_POINTS = (-2.0, 0.0, 2.0)
PLOT_SPAN = 4.0  # curves are drawn over a ∈ [−4, 4]
PLOT_POINTS = 401  # points per curve in an image (--plot)

Vanishing = Literal["nowhere", "everywhere", "a ≤ 0", "a → −∞", "a → ±∞"]


class Range(NamedTuple):
    """The values f takes: an interval, or a finite set (`values`) for a step-like f."""

    low: float
    high: float
    low_closed: bool = False
    high_closed: bool = False
    values: tuple[float, ...] = ()

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def text(self) -> str:
        if self.values:
            return "{" + ", ".join(_number(v) for v in self.values) + "}"
        left, right = "[" if self.low_closed else "(", "]" if self.high_closed else ")"
        return f"{left}{_number(self.low)}, {_number(self.high)}{right}"


class Claims(NamedTuple):
    """The stated properties of an elementwise activation."""

    range: Range
    monotonic: bool  # never decreasing (or never increasing)
    zero_centred: bool  # f(0) = 0 and f takes both signs
    max_slope: float  # max |f′|, or its supremum when `max_slope_at` is None
    max_slope_at: float | None  # a point where |f′| = max_slope; None: approached, never reached
    max_slope_where: str
    vanishes: Vanishing  # where |f′| < VANISH_BELOW, apart from `zeros`
    cost: str  # the operations one evaluation of f costs
    jumps: tuple[tuple[float, float], ...] = ()  # (a, f(a⁺) − f(a⁻)) where f jumps
    slope_jumps: tuple[tuple[float, float], ...] = ()  # (a, f′(a⁺) − f′(a⁻)) where f′ jumps
    at_kinks: tuple[tuple[float, float], ...] = ()  # (a, f′(a)) as the convention sets it
    zeros: tuple[float, ...] = ()  # single points where f′ = 0 (minima of f)

    @property
    def continuous(self) -> bool:
        return not self.jumps

    @property
    def smooth(self) -> bool:
        """Continuously differentiable (C¹)."""
        return self.continuous and not self.slope_jumps

    @property
    def dead_units(self) -> bool:
        """f′ = 0 on a whole half-line: a unit that stays there gets no gradient."""
        return self.vanishes in ("a ≤ 0", "everywhere")


# Where silu and gelu turn: roots of f′ and of f″ (found by bisection to double precision).
SILU_MIN_AT = -1.278464542761074  # silu′ = 0: σ(a)·(1 + a·(1 − σ(a))) = 0
SILU_MIN = -0.27846454276107385
SILU_STEEPEST_AT = 2.399357280515467  # silu″ = 0: 2 + a·(1 − 2σ(a)) = 0
SILU_MAX_SLOPE = 1.099839320128867
GELU_MIN_AT = -0.7517915246935645  # gelu′ = Φ(a) + a·φ(a) = 0
GELU_MIN = -0.16997120747990369
GELU_MAX_SLOPE = 1.128904145185155  # gelu″ = φ(a)·(2 − a²) = 0 at a = √2: Φ(√2) + √2·φ(√2)


def _leaky_relu(alpha: float) -> Claims:
    steep = abs(alpha)
    return Claims(
        range=Range(-INF, INF) if alpha > 0 else Range(0.0, INF, low_closed=True),
        monotonic=alpha >= 0,
        zero_centred=alpha > 0,
        max_slope=max(1.0, steep),
        max_slope_at=1.0 if steep <= 1 else -1.0,
        max_slope_where="for a > 0" if steep < 1 else "everywhere" if steep == 1 else "for a ≤ 0",
        vanishes="a ≤ 0" if alpha == 0 else "nowhere",
        cost="1 comparison + 1 multiplication",
        slope_jumps=() if alpha == 1 else ((0.0, 1.0 - alpha),),
        at_kinks=((0.0, alpha),),
    )


def _elu(alpha: float) -> Claims:
    steep = abs(alpha)
    return Claims(
        range=Range(-alpha, INF) if alpha > 0 else Range(0.0, INF, low_closed=True),
        monotonic=alpha >= 0,
        zero_centred=alpha > 0,
        max_slope=max(1.0, steep),
        max_slope_at=1.0 if steep <= 1 else 0.0,
        max_slope_where="for a > 0"
        if steep < 1
        else "for a ≥ 0"
        if steep == 1
        else "at a = 0, by the convention (|f′| → |alpha| as a → 0⁻)",
        vanishes="a ≤ 0" if alpha == 0 else "a → −∞",
        cost="1 comparison + 1 exp",
        slope_jumps=() if alpha == 1 else ((0.0, 1.0 - alpha),),
        at_kinks=((0.0, alpha),),
    )


CLAIMS: dict[str, Callable[[dict[str, float]], Claims]] = {
    "identity": lambda _: Claims(
        range=Range(-INF, INF),
        monotonic=True,
        zero_centred=True,
        max_slope=1.0,
        max_slope_at=0.0,
        max_slope_where="everywhere",
        vanishes="nowhere",
        cost="none (a copy)",
    ),
    "relu": lambda _: Claims(
        range=Range(0.0, INF, low_closed=True),
        monotonic=True,
        zero_centred=False,
        max_slope=1.0,
        max_slope_at=1.0,
        max_slope_where="for a > 0",
        vanishes="a ≤ 0",
        cost="1 comparison",
        slope_jumps=((0.0, 1.0),),
        at_kinks=((0.0, 0.0),),
    ),
    "leaky_relu": lambda p: _leaky_relu(p["alpha"]),
    "sigmoid": lambda _: Claims(
        range=Range(0.0, 1.0),
        monotonic=True,
        zero_centred=False,
        max_slope=0.25,
        max_slope_at=0.0,
        max_slope_where="at a = 0",
        vanishes="a → ±∞",
        cost="1 exp + 1 division",
    ),
    "tanh": lambda _: Claims(
        range=Range(-1.0, 1.0),
        monotonic=True,
        zero_centred=True,
        max_slope=1.0,
        max_slope_at=0.0,
        max_slope_where="at a = 0",
        vanishes="a → ±∞",
        cost="1 tanh (2 exp + 1 division)",
    ),
    "sign": lambda _: Claims(
        range=Range(-1.0, 1.0, True, True, values=(-1.0, 0.0, 1.0)),
        monotonic=True,
        zero_centred=True,
        max_slope=0.0,
        max_slope_at=0.0,
        max_slope_where="everywhere",
        vanishes="everywhere",
        cost="2 comparisons",
        jumps=((0.0, 2.0),),
        at_kinks=((0.0, 0.0),),
    ),
    "step": lambda _: Claims(
        range=Range(0.0, 1.0, True, True, values=(0.0, 1.0)),
        monotonic=True,
        zero_centred=False,
        max_slope=0.0,
        max_slope_at=0.0,
        max_slope_where="everywhere",
        vanishes="everywhere",
        cost="1 comparison",
        jumps=((0.0, 1.0),),
        at_kinks=((0.0, 0.0),),
    ),
    "softplus": lambda _: Claims(
        range=Range(0.0, INF),
        monotonic=True,
        zero_centred=False,
        max_slope=1.0,
        max_slope_at=None,
        max_slope_where="as a → ∞, never reached",
        vanishes="a → −∞",
        cost="1 exp + 1 log",
    ),
    "elu": lambda p: _elu(p["alpha"]),
    "silu": lambda _: Claims(
        range=Range(SILU_MIN, INF, low_closed=True),
        monotonic=False,
        zero_centred=True,
        max_slope=SILU_MAX_SLOPE,
        max_slope_at=SILU_STEEPEST_AT,
        max_slope_where=f"at a ≈ {_number(SILU_STEEPEST_AT)}",
        vanishes="a → −∞",
        cost="1 exp + 1 division + 1 multiplication",
        zeros=(SILU_MIN_AT,),
    ),
    "gelu": lambda _: Claims(
        range=Range(GELU_MIN, INF, low_closed=True),
        monotonic=False,
        zero_centred=True,
        max_slope=GELU_MAX_SLOPE,
        max_slope_at=math.sqrt(2.0),
        max_slope_where="at a = √2",
        vanishes="a → −∞",
        cost="1 erf (f′: + 1 exp)",
        zeros=(GELU_MIN_AT,),
    ),
}

# Softmax is a map of a whole vector: its facts are stated per component and per Jacobian entry.
SOFTMAX_MAX_ENTRY = 0.25  # z_i(1 − z_i) at z_i = ½; off the diagonal −z_i·z_j ≥ −¼
SOFTMAX = {
    "range": "(0, 1) per component; Σ z_i = 1",
    "monotonic": "N/A: not elementwise (z_i rises with a_i and falls with every other a_j)",
    "zero_centred": "no: every z_i > 0",
    "max_where": "on the diagonal, ∂z_i/∂a_i at z_i = ½ (off it, −z_i·z_j ≥ −¼)",
    "vanishes": "as one z_i → 1 (a_i − a_j → +∞ for every j ≠ i): every Jacobian entry → 0",
    "dead_units": "no: saturation shrinks the Jacobian, never to exactly 0",
    "cost": "n exp + n divisions + 1 max (the shift) + 1 sum",
}


def _number(value: float) -> str:
    """A stated number for text: 6 significant digits, '−' for minus, '∞' for infinity."""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return fmt(value, 6).replace("-", "−")


def claims(activation: Activation) -> Claims:
    """The stated properties of an elementwise activation (softmax has none of this form)."""
    if not activation.elementwise:
        raise TypeError(f"{activation.name} is not elementwise; see SOFTMAX")
    return CLAIMS[activation.name](activation.params)


# --- names from the command line ----------------------------------------------------------------

_CALL = re.compile(r"\s*([^\s(){}]+)\s*\((.*)\)\s*\Z", re.S)


def parse(text: str) -> Activation:
    """An activation as written on the command line: a name or alias ('relu', 'sgn'), the form
    nncalc prints ('leaky_relu(alpha=0.2)'), or the spec's mapping ('{name: elu, alpha: 2}').

    The spec's own validation checks it, so the messages are the spec's; raises SpecError at
    <command line>."""
    from .spec import validate_activation
    from .yamlio import Document, plain_scalar
    from .yamlio import parse as parse_yaml

    call = _CALL.match(text)
    if call is None:
        try:
            doc = parse_yaml(text, SOURCE)
        except SpecError as exc:
            raise _bad(text, "; ".join(p.message for p in exc.problems)) from None
    else:
        value: dict[str, Any] = {"name": call.group(1)}
        for item in filter(None, (part.strip() for part in call.group(2).split(","))):
            key, equals, raw = (part.strip() for part in item.partition("="))
            if not equals or not key:
                raise _bad(text, f"expected parameter=value, got '{item}'")
            if key == "name":
                raise _bad(text, "the name goes before '(', not inside")
            if key in value:
                raise _bad(text, f"'{key}' is given twice")
            value[key] = plain_scalar(raw)
        doc = Document(SOURCE, text, value, ())
    try:
        return validate_activation(doc)
    except SpecError as exc:
        bare = isinstance(doc.data, str)
        raise SpecError(
            [
                Problem(SOURCE, 0, 0, p.message if bare else f"{text}: {p.message}")
                for p in exc.problems
            ]
        ) from None


def _bad(text: str, message: str) -> SpecError:
    return SpecError([Problem(SOURCE, 0, 0, f"{text}: {message}")])


def chosen(names: Sequence[str]) -> list[Activation]:
    """The activations named (each once, in order), or every activation when none is."""
    if not names:
        return [cls() for cls in REGISTRY.values()]
    return list(dict.fromkeys(parse(name) for name in names))


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(activation: Activation, points: Sequence[float]) -> tuple[list[float], list[float]]:
    """(f(a), f′(a)) at each point; for softmax the points are one vector a, and the result is
    (z, the Jacobian's diagonal ∂z_i/∂a_i = z_i(1 − z_i))."""
    a = np.asarray(points, dtype=np.float64).reshape(1, -1)
    with np.errstate(all="ignore"):  # a value too large for a float is reported, as null
        z = activation.value(a)
        slope = z * (1.0 - z) if not activation.elementwise else activation.derivative(a, z)
    return [float(v) for v in z[0]], [float(v) for v in slope[0]]


def _finite(value: float, where: str, warnings: list[str]) -> float | None:
    if math.isfinite(value):
        return value
    warnings.append(f"{where} is not a finite number ({value}); written as null")
    return None


def _kink_warnings(activation: Activation, points: Sequence[float], warnings: list[str]) -> None:
    for a in dict.fromkeys(points):
        if a in activation.kinks:
            warnings.append(
                f"{activation.label}: a = {fmt(a)} is a kink; f′ there is the convention "
                f"{activation.convention}"
            )


def properties(activation: Activation) -> dict[str, Any]:
    """One activation's entry in the data: its formulas and stated properties."""
    entry: dict[str, Any] = {
        "name": activation.name,
        "label": activation.label,
        "params": dict(activation.params),
        "aliases": [alias for alias, name in ALIASES.items() if name == activation.name],
        "elementwise": activation.elementwise,
        "formula": activation.formula,
        "derivative_formula": activation.derivative_formula,
        "kinks": list(activation.kinks),
        "convention": activation.convention,
    }
    if not activation.elementwise:
        return entry | _softmax_properties()
    stated = claims(activation)
    value_at_zero, _ = evaluate(activation, [0.0])
    return entry | {
        "range": _range(stated.range),
        "bounded": stated.range.bounded,
        "monotonic": stated.monotonic,
        "continuous": stated.continuous,
        "jumps": [{"a": a, "size": size} for a, size in stated.jumps],
        "continuously_differentiable": stated.smooth,
        "derivative_jumps": [{"a": a, "size": size} for a, size in stated.slope_jumps],
        "zero_centred": stated.zero_centred,
        "value_at_zero": value_at_zero[0],
        "derivative_at_kinks": [{"a": a, "derivative": d} for a, d in stated.at_kinks],
        "max_abs_derivative": {
            "value": stated.max_slope,
            "at": stated.max_slope_at,
            "attained": stated.max_slope_at is not None,
            "where": stated.max_slope_where,
        },
        "vanishes": stated.vanishes,
        "derivative_zeros": list(stated.zeros),
        "dead_units": stated.dead_units,
        "cost": stated.cost,
    }


def _range(stated: Range) -> dict[str, Any]:
    """A range for JSON: ±∞ as the strings "-inf" and "inf"."""

    def end(value: float) -> float | str:
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")

    return {
        "text": stated.text(),
        "low": end(stated.low),
        "high": end(stated.high),
        "low_closed": stated.low_closed,
        "high_closed": stated.high_closed,
        "values": list(stated.values) or None,
    }


def _softmax_properties() -> dict[str, Any]:
    return {
        "range": _range(Range(0.0, 1.0)) | {"text": SOFTMAX["range"]},
        "bounded": True,
        "monotonic": None,
        "continuous": True,
        "jumps": [],
        "continuously_differentiable": True,
        "derivative_jumps": [],
        "zero_centred": False,
        "value_at_zero": None,
        "derivative_at_kinks": [],
        "max_abs_derivative": {
            "value": SOFTMAX_MAX_ENTRY,
            "at": None,
            "attained": True,
            "where": SOFTMAX["max_where"],
        },
        "vanishes": SOFTMAX["vanishes"],
        "derivative_zeros": [],
        "dead_units": False,
        "cost": SOFTMAX["cost"],
        "notes": {key: SOFTMAX[key] for key in ("monotonic", "zero_centred", "dead_units")},
    }


def _at(
    activations: Sequence[Activation], points: Sequence[float], warnings: list[str]
) -> list[dict[str, Any]]:
    out = []
    for i, activation in enumerate(activations):
        values, slopes = evaluate(activation, points)
        where = f"at[{i}].points"
        out.append(
            {
                "activation": activation.label,
                "elementwise": activation.elementwise,
                "points": [
                    {
                        "a": a,
                        "value": _finite(v, f"{where}[{j}].value", warnings),
                        "derivative": _finite(d, f"{where}[{j}].derivative", warnings),
                        "kink": a in activation.kinks,
                    }
                    for j, (a, v, d) in enumerate(zip(points, values, slopes, strict=True))
                ],
            }
        )
        if activation.elementwise:
            _kink_warnings(activation, points, warnings)
    return out


def verdict(factor: float) -> str:
    """What repeating a per-unit gradient factor does: vanishes, explodes or stays."""
    size = abs(factor)
    return "vanishes" if size < 1 else "explodes" if size > 1 else "stays"


# What the bound (|W|·max |f′|)^N says about every a.
BOUND_VERDICTS = {
    "vanishes": "vanishes at every a",
    "explodes": "can explode",
    "stays": "never grows",
}


def _power(value: float, n: int) -> float:
    try:
        return value**n
    except OverflowError:  # the power, or n itself, is too large for a float
        size = abs(value)
        limit = INF if size > 1 else size if size == 1 else 0.0
        return math.copysign(limit, value) if n % 2 else limit


def _depth(
    activations: Sequence[Activation],
    points: Sequence[float],
    n: int,
    weight: float,
    warnings: list[str],
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    skipped: list[str] = []
    for activation in activations:
        if not activation.elementwise:
            skipped.append(activation.label)
            continue
        _, slopes = evaluate(activation, points)
        for a, slope in zip(points, slopes, strict=True):
            factor = weight * slope
            where = f"depth.rows[{len(rows)}]"
            rows.append(
                {
                    "activation": activation.label,
                    "a": a,
                    "derivative": _finite(slope, f"{where}.derivative", warnings),
                    "factor": _finite(factor, f"{where}.factor", warnings),
                    "product": _finite(_power(factor, n), f"{where}.product", warnings),
                    "verdict": verdict(factor),
                }
            )
        _kink_warnings(activation, points, warnings)
        steepest = claims(activation).max_slope
        factor = weight * steepest
        where = f"depth.bounds[{len(bounds)}]"
        bounds.append(
            {
                "activation": activation.label,
                "max_abs_derivative": steepest,
                "factor": _finite(abs(factor), f"{where}.factor", warnings),
                "bound": _finite(_power(abs(factor), n), f"{where}.bound", warnings),
                "verdict": BOUND_VERDICTS[verdict(factor)],
            }
        )
    return {"n": n, "weight": weight, "rows": rows, "bounds": bounds, "skipped": skipped}


def explore(
    activations: Sequence[Activation],
    at: Sequence[float] = (),
    depth: int | None = None,
    weight: float = 1.0,
    *,
    sketch: bool = False,
) -> dict[str, Any]:
    """The data of `nncalc activations`: properties, then values at `at`, then with `depth`
    the gradient factor Π W·f′(a) through that many units (at `at`, or at −2, 0 and 2).
    `sketch` adds a character plot of f and f′ per activation (the table format draws it)."""
    warnings: list[str] = []
    entries = [_unsigned_zeros(properties(activation)) for activation in activations]
    if sketch:
        for entry, curve in zip(entries, curves(activations, SKETCH_WIDTH), strict=True):
            entry["sketch"] = draw(curve)
    points = list(at)
    return {
        "command": "activations",
        "activations": entries,
        "at": _unsigned_zeros(_at(activations, points, warnings)) if points else None,
        "depth": None
        if depth is None
        else _unsigned_zeros(
            _depth(activations, points or DEFAULT_DEPTH_POINTS, depth, weight, warnings)
        ),
        "warnings": list(dict.fromkeys(warnings)),
    }


def _unsigned_zeros(value: Any) -> Any:
    """−0.0 as 0.0 throughout, as every command's data has it (relu′(−2)·(−1) is −0.0)."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, dict):
        return {k: _unsigned_zeros(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsigned_zeros(v) for v in value]
    return value


# --- curves -------------------------------------------------------------------------------------


class Curve(NamedTuple):
    label: str
    a: list[float]
    value: list[float]
    slope: list[float]
    value_name: str  # 'f(a)', or for softmax 'z₁ of softmax(a, 0)'
    slope_name: str


def curves(activations: Sequence[Activation], count: int) -> list[Curve]:
    """f and f′ at `count` evenly spaced points of [−4, 4]; softmax as z₁ of the pair (a, 0)."""
    a = [PLOT_SPAN * (2 * i / (count - 1) - 1) for i in range(count)]
    out = []
    for activation in activations:
        if activation.elementwise:
            value, slope = evaluate(activation, a)
            out.append(Curve(activation.label, a, value, slope, "f(a)", "f′(a)"))
            continue
        pairs = np.column_stack([a, np.zeros(count)])
        z = activation.value(pairs)[:, 0]
        out.append(
            Curve(
                activation.label,
                a,
                [float(v) for v in z],
                [float(v) for v in z * (1 - z)],
                "z₁ = softmax(a, 0)₁",
                "∂z₁/∂a",
            )
        )
    return out


SKETCH_WIDTH = 49  # columns of the plot: a = −4, −3.83, …, 4, with a = 0 in the middle
SKETCH_HEIGHT = 11
VALUE_MARK, SLOPE_MARK, BOTH_MARK = "*", "+", "#"


def draw(curve: Curve) -> list[str]:
    """A character plot of f (*) and f′ (+) over a ∈ [−4, 4], at most 64 columns wide; a value
    too large for a float is left out. Halves keep top − bottom within range."""
    ys = [y for y in (*curve.value, *curve.slope, 0.0) if math.isfinite(y)]
    top, bottom = max(ys), min(ys)
    span = (top / 2 - bottom / 2) or 1.0

    def row(y: float) -> int:
        return round((top / 2 - y / 2) / span * (SKETCH_HEIGHT - 1))

    grid = [[" "] * SKETCH_WIDTH for _ in range(SKETCH_HEIGHT)]
    middle = SKETCH_WIDTH // 2
    for r in range(SKETCH_HEIGHT):
        grid[r][middle] = "│"
    grid[row(0.0)] = ["─"] * SKETCH_WIDTH
    grid[row(0.0)][middle] = "┼"
    for column, (value, slope) in enumerate(zip(curve.value, curve.slope, strict=True)):
        if math.isfinite(slope):
            grid[row(slope)][column] = SLOPE_MARK
        if math.isfinite(value):
            mark_row = row(value)
            mark = BOTH_MARK if grid[mark_row][column] == SLOPE_MARK else VALUE_MARK
            grid[mark_row][column] = mark
    labels = {0: _number(top), row(0.0): "0", SKETCH_HEIGHT - 1: _number(bottom)}
    width = max(9, *(len(label) for label in labels.values()))
    lines = [
        f"{labels.get(r, ''):>{width}} ┤{''.join(cells)}".rstrip() for r, cells in enumerate(grid)
    ]
    axis = f"{'':>{width}}  {'−4':<{middle}}0{'4':>{middle}}"
    legend = f"{'':>{width}}  {VALUE_MARK} {curve.value_name}   {SLOPE_MARK} {curve.slope_name}"
    return [*lines, axis, legend]
