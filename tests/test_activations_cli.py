"""`nncalc activations`: every stated property of every activation holds when the function is
sampled, a wrong statement is caught, and the command prints the same facts in every format.

The checks sample the functions of nncalc/activations.py on a dense grid over [−50, 50] (step
10⁻³) plus points near kinks and at ±10², ±10³, ±10⁶, and compare the derivative with central
finite differences; no expected number is copied from the program's output.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner

from nncalc import explore
from nncalc.activations import ALIASES, REGISTRY, Activation
from nncalc.cli import app
from nncalc.errors import SpecError
from nncalc.explore import Claims, Range

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()

VANISH = 1e-6  # |f′| below this has vanished (as the brief of the command defines it)
NEAR_KINK = (1e-9, 1e-6, 1e-3)
FAR = (1e2, 1e3, 1e6)


def _configs() -> list[Activation]:
    """Every elementwise activation with its defaults, and the parameterised ones at parameters
    that change their properties (0, negative, above 1, exactly 1)."""
    out = [cls() for cls in REGISTRY.values() if cls.elementwise]
    out += [REGISTRY["leaky_relu"](alpha=a) for a in (0.2, 0.0, 2.0, -0.5, 1.0, -1.0)]
    out += [REGISTRY["elu"](alpha=a) for a in (0.5, 0.0, 2.0, -0.5, 1.0)]
    return out


CONFIGS = _configs()


def _id(activation: Activation) -> str:
    return activation.label


class Samples:
    """f and f′ of one activation on the grid, and one-sided neighbours for jump detection."""

    def __init__(self, activation: Activation, extra: tuple[float, ...]) -> None:
        self.activation = activation
        points = set(np.linspace(-50.0, 50.0, 100_001).tolist())
        points |= {0.0, *FAR, *(-x for x in FAR)}
        for k in (*activation.kinks, *extra):
            points |= {k, *(k + d for d in NEAR_KINK), *(k - d for d in NEAR_KINK)}
        self.a = np.array(sorted(points))
        self.f, self.d = self.at(self.a)

    def at(self, a: Any) -> tuple[np.ndarray, np.ndarray]:
        grid = np.asarray(a, dtype=np.float64).reshape(1, -1)
        z = self.activation.value(grid)
        return z[0], self.activation.derivative(grid, z)[0]

    def f_at(self, a: float) -> float:
        return float(self.at([a])[0][0])

    def d_at(self, a: float) -> float:
        return float(self.at([a])[1][0])


@cache
def samples(label: str, extra: tuple[float, ...] = ()) -> Samples:
    activation = next(c for c in CONFIGS if c.label == label)
    return Samples(activation, extra)


def _samples(activation: Activation, claims: Claims) -> Samples:
    extra = tuple(sorted({*claims.zeros, *(p for p in [claims.max_slope_at] if p is not None)}))
    return samples(activation.label, extra)


# --- the checks, one per stated property ---------------------------------------------------------


def check_range(s: Samples, stated: Range) -> None:
    f, a = s.f, s.a
    if stated.values:
        assert set(np.unique(f).tolist()) == set(stated.values)
        return
    moderate = np.abs(a) <= 15
    for end, closed, sign in (
        (stated.low, stated.low_closed, 1),
        (stated.high, stated.high_closed, -1),
    ):
        if math.isinf(end):
            assert sign * end < 0, "an infinite end on the wrong side"
            assert (sign * f).min() <= -1e3, f"f does not approach {end}"
            continue
        tol = 1e-12 * max(1.0, abs(end))
        assert (sign * (f - end)).min() >= -tol, f"f leaves the range past {end}"
        if closed:
            # every closed end of these functions is reached at some |a| ≤ 5 (at most 10⁻⁶ off
            # when the grid misses the exact point, as for silu's minimum)
            near = np.abs(a) <= 5
            assert (sign * (f[near] - end)).min() <= 1e-6, f"{end} is not attained"
        else:
            assert (sign * (f[moderate] - end)).min() > 0, f"{end} is attained for |a| ≤ 15"
            assert (sign * (f - end)).min() <= 1e-6, f"f does not approach {end}"


def check_bounded(s: Samples, bounded: bool) -> None:
    assert bounded == bool(np.abs(s.f).max() < 1e3)


def check_monotonic(s: Samples, monotonic: bool) -> None:
    steps = np.diff(s.f)
    falls = bool(np.any(steps < -1e-12 * np.maximum(1.0, np.abs(s.f[1:]))))
    rises = bool(np.any(steps > 1e-12 * np.maximum(1.0, np.abs(s.f[1:]))))
    assert monotonic == (not falls or not rises)


def _jump_points(values: Any, plus: Any, minus: Any, bound: Any) -> np.ndarray:
    return np.flatnonzero(np.abs(plus - minus) > bound)


def check_continuity(s: Samples, claims: Claims) -> None:
    """No jump bigger than slope × step at refined steps, except where a jump is stated (and
    every stated jump is seen, with its size)."""
    slope = float(np.abs(s.d).max())
    stated = {a for a, _ in claims.jumps}
    for h in (1e-3, 1e-5, 1e-7):
        up, down = s.a + h, s.a - h
        f_up, f_down = s.at(up)[0], s.at(down)[0]
        bound = slope * (up - down) * (1 + 1e-9) + 4e-16 * np.maximum(1.0, np.abs(s.f))
        for i in _jump_points(s.f, f_up, f_down, bound):
            assert any(abs(s.a[i] - k) <= h for k in stated), f"unstated jump near a = {s.a[i]}"
    for k, size in claims.jumps:
        assert s.f_at(k + 1e-9) - s.f_at(k - 1e-9) == pytest.approx(size, abs=1e-6)
    assert claims.continuous == (not claims.jumps)


def check_smoothness(s: Samples, claims: Claims) -> None:
    """f′ continuous: no jump of f′ bigger than 10⁻⁵ across 2·10⁻⁷ except the stated ones (f″
    is at most about 1 for these functions, so a smooth f′ moves by 2·10⁻⁷ at most)."""
    stated = {a for a, _ in claims.slope_jumps}
    h = 1e-7
    d_up, d_down = s.at(s.a + h)[1], s.at(s.a - h)[1]
    for i in _jump_points(s.d, d_up, d_down, 1e-5):
        assert any(abs(s.a[i] - k) <= h for k in stated), f"unstated f′ jump near a = {s.a[i]}"
    for k, size in claims.slope_jumps:
        assert s.d_at(k + 1e-9) - s.d_at(k - 1e-9) == pytest.approx(size, abs=1e-6)
    assert claims.smooth == (claims.continuous and not claims.slope_jumps)


def check_derivative_matches_differences(s: Samples) -> None:
    a = np.linspace(-20.0, 20.0, 4001)
    a = a[np.all([np.abs(a - k) > 1e-2 for k in (*s.activation.kinks, 1e9)], axis=0)]
    h = 1e-6
    numeric = (s.at(a + h)[0] - s.at(a - h)[0]) / (2 * h)
    np.testing.assert_allclose(s.at(a)[1], numeric, rtol=1e-6, atol=1e-6)


def check_zero_centred(s: Samples, zero_centred: bool) -> None:
    assert zero_centred == (s.f_at(0.0) == 0 and s.f.min() < 0 < s.f.max())


def check_kinks(s: Samples, claims: Claims) -> None:
    assert tuple(k for k, _ in claims.at_kinks) == s.activation.kinks
    for k, slope in claims.at_kinks:
        assert s.d_at(k) == slope


def check_max_slope(s: Samples, claims: Claims) -> None:
    size = np.abs(s.d)
    assert size.max() <= claims.max_slope * (1 + 1e-12)
    if claims.max_slope_at is None:  # a supremum: approached far out, never reached nearby
        assert size[np.abs(s.a) <= 30].max() < claims.max_slope
        assert size.max() >= claims.max_slope - 1e-9
        return
    assert abs(s.d_at(claims.max_slope_at)) == pytest.approx(claims.max_slope, rel=1e-12)
    grid_only = size[np.isin(s.a, np.linspace(-50.0, 50.0, 100_001))]
    assert grid_only.max() >= claims.max_slope - 1e-6  # the plain grid finds it too


def check_vanishing(s: Samples, claims: Claims) -> None:
    vanished = np.abs(s.d) < VANISH
    near_zero = np.any([np.abs(s.a - z) < 1e-2 for z in (*claims.zeros, 1e9)], axis=0)
    tails = vanished & ~near_zero
    kind = claims.vanishes
    if kind == "nowhere":
        assert not vanished.any()
    elif kind == "everywhere":
        assert vanished.all()
    elif kind == "a ≤ 0":
        assert np.array_equal(vanished, s.a <= 0)
        assert np.all(s.d[s.a <= 0] == 0)
    else:
        steps = np.diff(tails.astype(int))
        assert tails[0], "f′ does not vanish as a → −∞"
        assert list(steps[steps != 0]) == ([-1, 1] if kind == "a → ±∞" else [-1])
    for z in claims.zeros:
        assert abs(s.d_at(z)) < 1e-9
        assert s.d_at(z - 1e-3) * s.d_at(z + 1e-3) < 0
    # Every sign change of f′ away from kinks is a stated zero.
    live = np.flatnonzero(~vanished)
    signs = np.sign(s.d[live])
    for i in np.flatnonzero(signs[1:] != signs[:-1]):
        lo, hi = s.a[live[i]], s.a[live[i + 1]]
        assert any(lo <= p <= hi for p in (*s.activation.kinks, *claims.zeros)), (lo, hi)


def check_dead_units(s: Samples, claims: Claims) -> None:
    flat_half = bool(np.all(s.d[s.a < 0] == 0) or np.all(s.d[s.a > 0] == 0))
    assert claims.dead_units == flat_half


def verify(activation: Activation, claims: Claims) -> None:
    s = _samples(activation, claims)
    check_range(s, claims.range)
    check_bounded(s, claims.range.bounded)
    check_monotonic(s, claims.monotonic)
    check_continuity(s, claims)
    check_smoothness(s, claims)
    check_zero_centred(s, claims.zero_centred)
    check_kinks(s, claims)
    check_max_slope(s, claims)
    check_vanishing(s, claims)
    check_dead_units(s, claims)


@pytest.mark.parametrize("activation", CONFIGS, ids=_id)
def test_every_stated_property_holds_when_sampled(activation: Activation) -> None:
    verify(activation, explore.claims(activation))


@pytest.mark.parametrize("activation", CONFIGS, ids=_id)
def test_the_derivative_matches_central_differences(activation: Activation) -> None:
    check_derivative_matches_differences(samples(activation.label))


def test_every_activation_has_stated_properties() -> None:
    assert set(explore.CLAIMS) == {n for n, c in REGISTRY.items() if c.elementwise}


def _by(name: str, **params: float) -> tuple[Activation, Claims]:
    activation = REGISTRY[name](**params)
    return activation, explore.claims(activation)


def _wrong(name: str, params: dict[str, float], **changes: Any) -> Any:
    activation, claims = _by(name, **params)
    return pytest.param(activation, claims._replace(**changes), id=f"{activation.label}-{changes}")


INF = math.inf
WRONG = [
    _wrong("relu", {}, range=Range(-1.0, INF, low_closed=True)),
    _wrong("relu", {}, range=Range(0.0, INF)),  # 0 is attained: the end is closed
    _wrong("sigmoid", {}, range=Range(0.0, 2.0)),
    _wrong("sigmoid", {}, range=Range(0.0, 1.0, high_closed=True)),
    _wrong("tanh", {}, range=Range(-INF, INF)),
    _wrong("silu", {}, range=Range(-0.2784, INF, low_closed=True)),
    _wrong("gelu", {}, range=Range(-0.17, INF, low_closed=True)),
    _wrong("step", {}, range=Range(0.0, 1.0, True, True, values=(1.0,))),
    _wrong("sigmoid", {}, monotonic=False),
    _wrong("silu", {}, monotonic=True),
    _wrong("leaky_relu", {"alpha": -0.5}, monotonic=True),
    _wrong("relu", {}, jumps=((0.0, 1.0),)),
    _wrong("sign", {}, jumps=((0.0, 1.0),)),
    _wrong("step", {}, jumps=()),
    _wrong("relu", {}, slope_jumps=()),
    _wrong("elu", {"alpha": 0.5}, slope_jumps=((0.0, 1.0),)),
    _wrong("elu", {"alpha": 1.0}, slope_jumps=((0.0, 0.5),)),
    _wrong("tanh", {}, zero_centred=False),
    _wrong("relu", {}, zero_centred=True),
    _wrong("silu", {}, zero_centred=False),
    _wrong("relu", {}, at_kinks=((0.0, 1.0),)),
    _wrong("leaky_relu", {"alpha": 0.2}, at_kinks=((0.0, 1.0),)),
    _wrong("elu", {"alpha": 2.0}, at_kinks=((0.0, 1.0),)),
    _wrong("sigmoid", {}, max_slope=0.3),
    _wrong("sigmoid", {}, max_slope_at=1.0),
    _wrong("silu", {}, max_slope=1.1),
    _wrong("gelu", {}, max_slope_at=1.5),
    _wrong("softplus", {}, max_slope_at=0.0),
    _wrong("identity", {}, max_slope=2.0),
    _wrong("leaky_relu", {"alpha": 2.0}, max_slope=1.0, max_slope_at=1.0),
    _wrong("sigmoid", {}, vanishes="a → −∞"),
    _wrong("softplus", {}, vanishes="a → ±∞"),
    _wrong("relu", {}, vanishes="nowhere"),
    _wrong("identity", {}, vanishes="a → ±∞"),
    _wrong("sign", {}, vanishes="a ≤ 0"),
    _wrong("elu", {}, vanishes="a ≤ 0"),
    _wrong("silu", {}, zeros=()),
    _wrong("gelu", {}, zeros=(-0.7,)),
    _wrong("tanh", {}, zeros=(0.0,)),
]


@pytest.mark.parametrize(("activation", "claims"), WRONG)
def test_a_wrong_statement_is_caught(activation: Activation, claims: Claims) -> None:
    with pytest.raises(AssertionError):
        verify(activation, claims)


def test_the_stated_constants_by_independent_derivation() -> None:
    """The turning points of silu and gelu from plain-Python formulas (not nncalc's code)."""

    def sig(a: float) -> float:
        return 1 / (1 + math.exp(-a))

    def silu_slope(a: float) -> float:  # d/da a·σ(a)
        return sig(a) * (1 + a * (1 - sig(a)))

    def gelu_slope(a: float) -> float:  # Φ(a) + a·φ(a)
        return 0.5 * (1 + math.erf(a / math.sqrt(2))) + a * math.exp(-a * a / 2) / math.sqrt(
            2 * math.pi
        )

    def bisect(g: Any, lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if (g(lo) > 0) == (g(mid) > 0) else (lo, mid)
        return (lo + hi) / 2

    silu_min = bisect(silu_slope, -2, -1)
    assert abs(explore.SILU_MIN_AT - silu_min) <= 1e-12
    assert abs(explore.SILU_MIN - (silu_min * sig(silu_min))) <= 1e-14
    steepest = bisect(lambda a: 2 + a * (1 - 2 * sig(a)), 2, 3)  # silu″ = 0
    assert abs(explore.SILU_STEEPEST_AT - steepest) <= 1e-12
    assert abs(explore.SILU_MAX_SLOPE - (silu_slope(steepest))) <= 1e-14
    gelu_min = bisect(gelu_slope, -1, -0.5)
    assert abs(explore.GELU_MIN_AT - gelu_min) <= 1e-12
    phi = 0.5 * (1 + math.erf(gelu_min / math.sqrt(2)))
    assert abs(explore.GELU_MIN - (gelu_min * phi)) <= 1e-14
    # gelu″ = φ(a)(2 − a²) = 0 at a = √2: Φ(√2) = ½(1 + erf 1), φ(√2) = e^(−1)/√(2π)
    expected = 0.5 * (1 + math.erf(1)) + math.sqrt(2) * math.exp(-1) / math.sqrt(2 * math.pi)
    assert abs(explore.GELU_MAX_SLOPE - expected) <= 1e-14


# --- softmax, not elementwise ---------------------------------------------------------------------


def _softmax(a: list[float]) -> list[float]:
    top = max(a)
    e = [math.exp(x - top) for x in a]
    return [x / sum(e) for x in e]


def test_softmax_properties_hold_on_random_vectors() -> None:
    entry = explore.properties(REGISTRY["softmax"]())
    assert entry["range"]["low"] == 0.0 and entry["range"]["high"] == 1.0
    assert not entry["range"]["low_closed"] and not entry["range"]["high_closed"]
    assert entry["monotonic"] is None  # N/A
    assert entry["bounded"] and entry["continuous"] and entry["continuously_differentiable"]
    assert not entry["zero_centred"] and not entry["dead_units"]
    largest = entry["max_abs_derivative"]["value"]
    softmax = REGISTRY["softmax"]()
    rng = np.random.default_rng(0)
    seen = 0.0
    for _ in range(300):
        a = rng.uniform(-10, 10, size=(1, int(rng.integers(2, 7))))
        z = softmax.value(a)[0]
        assert np.all(z > 0) and np.all(z < 1)  # (0, 1), open; every z_i > 0: not zero-centred
        assert z.sum() == pytest.approx(1.0, abs=1e-12)
        jacobian = np.diag(z) - np.outer(z, z)
        h = 1e-6
        for j in range(a.shape[1]):
            step = np.zeros_like(a)
            step[0, j] = h
            numeric = (softmax.value(a + step)[0] - softmax.value(a - step)[0]) / (2 * h)
            np.testing.assert_allclose(jacobian[:, j], numeric, atol=1e-8)
        assert np.abs(jacobian).max() <= largest
        seen = max(seen, float(np.abs(jacobian).max()))
    assert seen > 0.24  # approached
    z = softmax.value(np.zeros((1, 2)))[0]
    assert z[0] * (1 - z[0]) == largest  # reached at z_i = ½
    z = softmax.value(np.array([[50.0, 0.0, 0.0]]))[0]  # one z_i → 1: every entry vanishes
    assert np.abs(np.diag(z) - np.outer(z, z)).max() < VANISH


def test_softmax_at_points_is_one_vector() -> None:
    z, diagonal = explore.evaluate(REGISTRY["softmax"](), [-1.0, 0.0, 2.0])
    expected = _softmax([-1.0, 0.0, 2.0])
    assert z == pytest.approx(expected, rel=1e-14)
    assert diagonal == pytest.approx([p * (1 - p) for p in expected], rel=1e-14)


# --- the command ------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["activations", *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def strict_json(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_every_activation_by_default() -> None:
    code, out, _ = run("-f", "json")
    assert code == 0
    data = strict_json(out)
    assert data["command"] == "activations"
    assert [e["name"] for e in data["activations"]] == list(REGISTRY)
    assert data["at"] is None and data["depth"] is None
    for entry in data["activations"]:
        assert "sketch" not in entry
        assert entry["aliases"] == [k for k, v in ALIASES.items() if v == entry["name"]]


def test_a_negative_alpha_gives_no_negative_zero() -> None:
    # elu(0) = alpha·(e^0 − 1) = −1·0, which floats make −0.0; the data has 0.0, as elsewhere
    code, out, _ = run("elu(alpha=-1)", "-f", "json")
    assert code == 0
    value = strict_json(out)["activations"][0]["value_at_zero"]
    assert value == 0 and math.copysign(1.0, value) == 1.0


def test_the_table_shows_one_block_and_one_plot_per_activation() -> None:
    code, out, _ = run()
    assert code == 0
    for activation in explore.chosen([]):
        title = re.escape(activation.label)
        assert re.search(rf"^{title}( \(alias .*\))?$", out, re.M), activation.label
    assert out.count("* f(a)   + f′(a)") == len(REGISTRY) - 1
    assert "* z₁ = softmax(a, 0)₁   + ∂z₁/∂a" in out
    sketch_lines = [line for line in out.splitlines() if "┤" in line or "−4" in line]
    assert sketch_lines and max(len(line) for line in sketch_lines) <= 64


def test_the_sketch_puts_each_value_in_its_row() -> None:
    """relu over [−4, 4] with 11 rows: f from 0 (bottom row) to 4 (top row), so f = a lands in
    row round((4 − a)/4 · 10); f′ = 1 for a > 0 lands in row round(7.5) = 8 (column 24 + 6a)."""
    curve = explore.curves([REGISTRY["relu"]()], explore.SKETCH_WIDTH)[0]
    lines = explore.draw(curve)
    rows = [line.split("┤", 1)[1].ljust(explore.SKETCH_WIDTH) for line in lines[:11]]
    assert rows[0][48] == "*"  # a = 4, f = 4
    assert rows[10][0] == "#"  # a = −4: f = 0 and f′ = 0 share the bottom row
    assert rows[8][36] == "+"  # a = 2: f′ = 1
    assert rows[5][36] == "*"  # a = 2: f = 2, row (4 − 2)/4 · 10 = 5
    assert rows[8][30] == "#"  # a = 1: f = 1 and f′ = 1 share row round(7.5) = 8
    assert lines[0].startswith("        4 ┤") and lines[10].startswith("        0 ┤")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("sgn", "sign"), ("heaviside", "step"), ("swish", "silu"), ("linear", "identity")],
)
def test_aliases_resolve(name: str, expected: str) -> None:
    code, out, _ = run(name, "-f", "json")
    assert code == 0
    assert [e["name"] for e in strict_json(out)["activations"]] == [expected]


@pytest.mark.parametrize(
    "written", ["leaky_relu(alpha=0.2)", "{name: leaky_relu, alpha: 0.2}", "leaky_relu(alpha=1/5)"]
)
def test_parameters_in_the_printed_and_the_spec_form(written: str) -> None:
    code, out, _ = run(written, "-f", "json")
    assert code == 0
    (entry,) = strict_json(out)["activations"]
    assert entry["label"] == "leaky_relu(alpha=0.2)"
    assert entry["params"] == {"alpha": 0.2}
    assert entry["derivative_at_kinks"] == [{"a": 0.0, "derivative": 0.2}]
    assert entry["derivative_jumps"] == [{"a": 0.0, "size": pytest.approx(0.8)}]


def test_an_unknown_name_names_the_closest_and_the_allowed() -> None:
    code, out, err = run("relu", "rleu")
    assert code == 2 and out == ""
    allowed = ", ".join(REGISTRY)
    assert err == (
        "<command line>: unknown activation 'rleu'; did you mean 'relu'? "
        f"(allowed activations: {allowed})\n"
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "leaky_relu(alfa=1)",
            "<command line>: leaky_relu(alfa=1): alfa: unknown parameter 'alfa' for leaky_relu; "
            "did you mean 'alpha'? (allowed parameters: alpha)",
        ),
        (
            "{name: relu, alpha: 1}",
            "<command line>: {name: relu, alpha: 1}: alpha: unknown parameter 'alpha' for relu "
            "(relu takes no parameters)",
        ),
        (
            "elu(alpha=x)",
            "<command line>: elu(alpha=x): alpha: expected a number, got the text 'x'",
        ),
        ("elu(alpha)", "<command line>: elu(alpha): expected parameter=value, got 'alpha'"),
        ("elu(alpha=1, alpha=2)", "<command line>: elu(alpha=1, alpha=2): 'alpha' is given twice"),
    ],
)
def test_bad_parameters_are_reported_like_the_spec(written: str, message: str) -> None:
    code, out, err = run(written)
    assert code == 2 and out == ""
    assert err.splitlines() == [message]


def test_parse_raises_spec_errors_for_the_library() -> None:
    assert explore.parse("sgn") == REGISTRY["sign"]()
    assert explore.parse("elu(alpha=2)") == REGISTRY["elu"](alpha=2.0)
    with pytest.raises(SpecError) as caught:
        explore.parse("{name: tanhh}")
    assert "did you mean 'tanh'?" in str(caught.value)


def test_values_at_points_with_negative_numbers() -> None:
    code, out, _ = run("relu", "sigmoid", "--at", "-1", "--at", "0", "--at=2", "-f", "json")
    assert code == 0
    data = strict_json(out)
    relu, sigmoid = data["at"]
    assert [(p["a"], p["value"], p["derivative"]) for p in relu["points"]] == [
        (-1.0, 0.0, 0.0),
        (0.0, 0.0, 0.0),  # relu′(0) = 0 by the convention
        (2.0, 2.0, 1.0),
    ]
    assert [p["kink"] for p in relu["points"]] == [False, True, False]
    for point in sigmoid["points"]:
        s = 1 / (1 + math.exp(-point["a"]))
        assert point["value"] == pytest.approx(s, rel=1e-15)
        assert point["derivative"] == pytest.approx(s * (1 - s), rel=1e-14)
    assert data["warnings"] == ["relu: a = 0 is a kink; f′ there is the convention relu′(0) = 0"]


def test_softmax_at_points_in_the_table() -> None:
    code, out, _ = run("softmax", "--at", "0", "--at", "0")
    assert code == 0
    assert "softmax of the vector a = (0, 0)" in out
    # two equal pre-activations: z = ½ each, ∂z_i/∂a_i = ½ · ½ = 0.25
    assert re.search(r"^ 1\s+0\s+0\.5\s+0\.25$", out, re.M)
    assert "the points are one vector of pre-activations" in out


def test_depth_shows_vanishing_and_exploding_side_by_side() -> None:
    code, out, _ = run("sigmoid", "relu", "--depth", "10", "--weight", "2", "-f", "json")
    assert code == 0
    depth = strict_json(out)["depth"]
    assert (depth["n"], depth["weight"]) == (10, 2.0)
    rows = {(r["activation"], r["a"]): r for r in depth["rows"]}
    assert [r["a"] for r in depth["rows"]] == [-2.0, 0.0, 2.0] * 2  # the default points
    # sigmoid′(0) = ¼, W·f′ = ½, (½)^10 = 1/1024
    assert rows[("sigmoid", 0.0)]["product"] == 1 / 1024
    assert rows[("sigmoid", 0.0)]["verdict"] == "vanishes"
    # relu′(2) = 1, W·f′ = 2, 2^10 = 1024
    assert rows[("relu", 2.0)]["product"] == 1024.0
    assert rows[("relu", 2.0)]["verdict"] == "explodes"
    assert rows[("relu", -2.0)]["product"] == 0.0
    bounds = {b["activation"]: b for b in depth["bounds"]}
    assert bounds["sigmoid"]["bound"] == 0.5**10
    assert bounds["sigmoid"]["verdict"] == "vanishes at every a"
    assert bounds["relu"]["bound"] == 1024.0 and bounds["relu"]["verdict"] == "can explode"


def test_depth_with_weight_one_sigmoid_is_a_quarter_to_the_n() -> None:
    code, out, _ = run("sigmoid", "identity", "--depth", "5", "--at", "0", "-f", "json")
    assert code == 0
    depth = strict_json(out)["depth"]
    assert depth["rows"][0]["product"] == 0.25**5
    assert depth["rows"][1]["verdict"] == "stays"  # identity: W·f′ = 1
    assert depth["bounds"][1]["verdict"] == "never grows"


def test_an_overflowing_product_is_null_with_a_warning() -> None:
    code, out, err = run("identity", "--depth", "1000", "--weight", "10", "--at", "1", "-f", "json")
    assert code == 0 and err == ""
    data = strict_json(out)
    assert data["depth"]["rows"][0]["product"] is None
    assert data["depth"]["rows"][0]["verdict"] == "explodes"
    assert "depth.rows[0].product is not a finite number (inf); written as null" in data["warnings"]


def test_a_value_too_large_for_a_float_is_null_with_a_warning() -> None:
    code, out, _ = run("leaky_relu(alpha=2)", "gelu", "--at=-1e308", "-f", "json")
    assert code == 0
    data = strict_json(out)
    leaky, gelu = (entry["points"][0] for entry in data["at"])
    assert leaky["value"] is None and leaky["derivative"] == 2.0  # 2 · (−10³⁰⁸) overflows
    assert gelu["value"] == 0.0 and gelu["derivative"] == 0.0  # Φ(−10³⁰⁸) = 0, φ = 0
    assert data["warnings"] == [
        "at[0].points[0].value is not a finite number (-inf); written as null"
    ]


def test_a_depth_too_large_for_a_float_keeps_the_limit_of_the_power() -> None:
    """n = 10⁴⁰⁰ does not fit a float: 0.25ⁿ → 0, 1ⁿ = 1, (−1)ⁿ = ±1 by parity, 2ⁿ → ∞."""
    n = 10**400
    for depth, tanh_sign in ((n, 1.0), (n + 1, -1.0)):
        code, out, _ = run(
            "sigmoid", "tanh", "relu", "--at", "0", "--at", "1", "--depth", str(depth),
            "--weight", "-1", "-f", "json",
        )  # fmt: skip
        assert code == 0
        data = strict_json(out)
        rows = {(r["activation"], r["a"]): r for r in data["depth"]["rows"]}
        assert rows[("sigmoid", 0.0)]["product"] == 0.0  # |−1 · ¼| < 1
        assert rows[("sigmoid", 0.0)]["verdict"] == "vanishes"
        assert rows[("tanh", 0.0)]["product"] == tanh_sign  # −1 · tanh′(0) = −1
        assert rows[("relu", 1.0)]["product"] == tanh_sign  # −1 · relu′(1) = −1
        bounds = {b["activation"]: b["bound"] for b in data["depth"]["bounds"]}
        assert bounds == {"sigmoid": 0.0, "tanh": 1.0, "relu": 1.0}
        assert data["warnings"] == [
            "relu: a = 0 is a kink; f′ there is the convention relu′(0) = 0"
        ]
    code, out, _ = run("identity", "--at", "1", "--depth", str(n), "--weight", "2", "-f", "json")
    data = strict_json(out)
    assert code == 0 and data["depth"]["rows"][0]["product"] is None  # 2ⁿ overflows
    assert "depth.rows[0].product is not a finite number (inf); written as null" in data["warnings"]


@pytest.mark.parametrize(
    ("written", "drawn"), [("leaky_relu(alpha=1e308)", 35), ("elu(alpha=-1e308)", 49)]
)
def test_the_sketch_of_values_near_the_float_limit(written: str, drawn: int) -> None:
    """The columns are a = −4 + i/6. leaky_relu with alpha = 10³⁰⁸: f = 10³⁰⁸·a overflows for
    a < −1.798, columns i ≤ 13, left out; 35 columns keep their f. elu with alpha = −10³⁰⁸:
    f ≈ 0.98·10³⁰⁸ at −4 and f′ = −10³⁰⁸ at 0, all 49 finite. Top minus bottom overflows a
    float, and the longer labels keep the axis in one column."""
    code, out, _ = run(written)
    assert code == 0
    lines = [line for line in out.splitlines() if "┤" in line]
    assert len(lines) == explore.SKETCH_HEIGHT
    assert len({line.index("┤") for line in lines}) == 1
    assert all(len(line) <= 64 for line in lines)
    assert sum(line.count("*") + line.count("#") for line in lines) == drawn


def test_plot_refuses_values_too_large_to_draw(tmp_path: Path) -> None:
    target = tmp_path / "curves.png"
    code, out, err = run("relu", "leaky_relu(alpha=1e306)", "--plot", str(target))
    assert code == 2 and out == ""
    # f(−4) = −4·10³⁰⁶, beyond the 10³⁰⁰ the image's axes can hold
    assert "leaky_relu(alpha=1e+306): f or f′ exceeds 1e+300 on [−4, 4], too large to draw" in err
    assert list(tmp_path.iterdir()) == []


def test_softmax_is_not_stacked() -> None:
    code, out, _ = run("softmax", "--depth", "3")
    assert code == 0
    assert "Not stacked: softmax maps a whole layer" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "nan"], "every point must be a finite number"),
        (["--at", "inf"], "every point must be a finite number"),
        (["--weight", "2"], "applies with --depth only"),
        (["--depth", "2", "--weight", "inf"], "must be a finite number"),
        (["--depth", "0"], "0"),
        (["--force"], "applies with --plot only"),
        (["--standalone"], "applies to --format latex only"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    code, out, err = run("relu", *args)
    assert code == 2 and out == ""
    assert message in err


def test_json_writes_infinite_range_ends_as_strings() -> None:
    code, out, _ = run("identity", "relu", "sign", "-f", "json")
    assert code == 0
    identity, relu, sign = strict_json(out)["activations"]
    assert (identity["range"]["low"], identity["range"]["high"]) == ("-inf", "inf")
    assert (relu["range"]["low"], relu["range"]["high"]) == (0.0, "inf")
    assert sign["range"]["values"] == [-1.0, 0.0, 1.0]


def test_markdown_is_a_table_per_activation() -> None:
    code, out, _ = run("relu", "tanh", "--at", "1", "-f", "markdown")
    assert code == 0
    assert "### relu\n\n| property | value |\n| --- | --- |\n| f(a) | max(0, a) |" in out
    assert "| range | \\[0, ∞) |" in out
    assert "┤" not in out  # the character plot is for the terminal only


def test_latex_compiles(tmp_path: Path) -> None:
    code, out, _ = run("--at", "-1", "--at", "0", "--depth", "4", "-f", "latex", "--standalone")
    assert code == 0
    assert "characters pdflatex cannot typeset" not in out
    compile_latex(out, tmp_path)


def test_latex_fragment_writes_infinity_in_math_and_wraps_the_long_values() -> None:
    code, out, _ = run("relu", "-f", "latex")
    assert code == 0
    assert r"range & \raggedright [0, $\infty$) \tabularnewline" in out
    assert r"\begin{tabular}{lp{" in out  # the values wrap in a paragraph column


def test_csv_has_one_header_and_rows_for_each_section() -> None:
    code, out, _ = run("relu", "softmax", "--at", "-1", "--at", "2", "--depth", "3", "-f", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["section", "activation", "index", "a", "property", "value"]
    body = {(r[0], r[1], r[2], r[3], r[4]): r[5] for r in rows[1:]}
    assert body[("properties", "relu", "", "", "range.text")] == "[0, ∞)"
    assert body[("properties", "relu", "", "", "range.high")] == "inf"
    assert body[("properties", "relu", "", "0.0", "derivative_at_kink")] == "0.0"
    assert body[("properties", "relu", "", "", "dead_units")] == "true"
    assert body[("properties", "softmax", "", "", "monotonic")] == ""  # N/A
    assert body[("at", "relu", "", "2.0", "derivative")] == "1.0"
    z = _softmax([-1.0, 2.0])
    assert float(body[("at", "softmax", "2", "2.0", "value")]) == pytest.approx(z[1], rel=1e-15)
    assert body[("depth", "relu", "", "2.0", "product")] == "1.0"  # (1·1)^3
    assert body[("bound", "relu", "", "", "bound")] == "1.0"
    assert all(len(r) == 6 for r in rows)


def test_the_library_gives_the_same_data() -> None:
    chosen = explore.chosen(["tanh", "tanh", "sgn"])
    assert [a.name for a in chosen] == ["tanh", "sign"]  # each once
    data = explore.explore(chosen, [0.5], 2, 3.0)
    row = data["depth"]["rows"][0]
    t = math.tanh(0.5)
    assert row["activation"] == "tanh"
    assert row["derivative"] == pytest.approx(1 - t * t, rel=1e-15)
    assert row["product"] == pytest.approx((3 * (1 - t * t)) ** 2, rel=1e-14)
    code, out, _ = run("tanh", "sgn", "--at", "0.5", "--depth", "2", "--weight", "3", "-f", "json")
    assert code == 0
    assert strict_json(out) == json.loads(json.dumps(data))


# --- --plot (matplotlib, the optional extra) ----------------------------------------------------


def test_a_missing_matplotlib_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    code, out, err = run("relu", "--plot", str(tmp_path / "curves.png"))
    assert code == 2 and out == ""
    assert "--plot needs matplotlib, an optional extra: pip install 'nncalc[plot]'" in err
    assert list(tmp_path.iterdir()) == []


def test_plot_refuses_other_files(tmp_path: Path) -> None:
    code, out, err = run("relu", "--plot", str(tmp_path / "curves.txt"))
    assert code == 2 and out == ""
    assert "--plot writes .png, .svg, .pdf files" in err


# --- the README -----------------------------------------------------------------------------------


def test_readme_sample_is_current() -> None:
    heading = "$ nncalc activations sigmoid relu --at -1 --at 0.5 --depth 10 --weight 2"
    block = re.search(rf"```text\n{re.escape(heading)}\n(.*?)```", README, re.S)
    assert block, "the README does not show `nncalc activations …`"
    code, out, _ = run(*heading.split()[3:])
    assert code == 0
    assert out == block.group(1)
