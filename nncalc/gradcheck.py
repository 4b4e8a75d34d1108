"""Gradient check: every analytic gradient of the engine against a central finite difference.

For each param value v (a named scalar, or one element of a layered W or b) and each input v
(per sample for a batch), the analytic ∂L/∂v comes from `engine.backprop`, and the numeric one
from the engine's own forward pass and loss on perturbed copies:

    h       = 1e-6 · max(1, |v|)
    numeric = (L(v + h) − L(v − h)) / ((v + h) − (v − h))

The denominator is the distance between the two perturbed values as floats, so the rounding of
v ± h does not bias the quotient. Then

    abs_error = |analytic − numeric|
    rel_error = |analytic − numeric| / max(|analytic|, |numeric|, tiny)

with tiny the smallest normal float (so two zeros agree with rel_error 0). An entry passes when
rel_error ≤ tol, or when abs_error is below the round-off floor of the difference itself,

    floor = 16 · ε · max(|L(v + h)|, |L(v − h)|) / ((v + h) − (v − h))     (ε = 2⁻⁵²)

where two losses a few ulps apart cannot resolve the gradient (a gradient that is 0 by
cancellation, say, whose numeric value is one ulp of L over 2h).

Kinks: where the ±h perturbation moves any unit's pre-activation to another side of a kink of
its activation (relu, leaky_relu, elu, sign, step at 0), or any output to another side of its
target under a loss with a kink there (mae), the finite difference measures the kink, not the
derivative. Such an entry is marked `kink`, counted as passed and named in a warning. The side of
every kinked unit and output (below, on, above) is compared at v + h, v and v − h.

The module is silent and pure: it reads a Spec and returns the plain (JSON-shaped) data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import engine
from .activations import Activation
from .errors import Problem, SpecError
from .network import Network
from .results import finish_data
from .spec import Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

DEFAULT_TOL = 1e-6  # on the relative error
RELATIVE_STEP = 1e-6  # h = RELATIVE_STEP · max(1, |v|)
MAX_ENTRIES = 20_000  # param values + inputs (each costs two forward passes)
MAX_WARNINGS = 10  # kink warnings named one by one; the rest are counted
TINY = float(np.finfo(np.float64).tiny)
EPS = float(np.finfo(np.float64).eps)
ROUNDOFF_ULPS = 16  # the floor below which a difference of two losses is round-off
STEP = (
    "central difference per entry v: h = 1e-6·max(1, |v|), "
    "numeric = (L(v + h) − L(v − h)) / ((v + h) − (v − h))"
)


class _Difference(NamedTuple):
    numeric: float
    floor: float  # round-off floor of `numeric`
    crossing: str | None  # the kink crossed, or None


def gradcheck(spec: Spec, tol: float = DEFAULT_TOL) -> dict[str, Any]:
    """The data of `nncalc gradcheck`: one entry per param value and per input (per sample)."""
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"the tolerance must be a finite number > 0, got {tol}")
    net = engine.network_of(spec)
    count = int(net.theta.size + spec.inputs.size)
    if count > MAX_ENTRIES:
        raise SpecError(
            [
                Problem(
                    spec.source,
                    0,
                    0,
                    f"the network has {net.theta.size} param values and {spec.inputs.size} "
                    f"inputs ({count} in all); gradcheck checks at most {MAX_ENTRIES:,} at once "
                    "(two forward passes each): use a smaller network or fewer samples",
                )
            ]
        )
    result = engine.backprop(spec, loss_after=False)
    probe = _Probe(spec, net)
    entries: list[dict[str, Any]] = []
    kinks: list[str] = []

    theta = net.theta.copy()
    for i, label in enumerate(net.labels):

        def at_param(value: float, i: int = i) -> tuple[float, list[Array]]:
            theta[i] = value
            return probe.evaluate(theta, spec.inputs)

        difference = probe.difference(float(net.theta[i]), at_param)
        theta[i] = net.theta[i]
        entries.append(_entry("param", label, float(result.gradient[i]), difference, tol))
        if difference.crossing:
            kinks.append(f"{label}: {difference.crossing}")

    inputs = spec.inputs.copy()
    gradient = result.input_gradient
    assert gradient is not None
    for s in range(spec.batch_size):
        for j, name in enumerate(spec.input_names):
            label = f"{name}@{s + 1}" if spec.batched else name

            def at_input(value: float, s: int = s, j: int = j) -> tuple[float, list[Array]]:
                inputs[s, j] = value
                return probe.evaluate(theta, inputs)

            difference = probe.difference(float(spec.inputs[s, j]), at_input)
            inputs[s, j] = spec.inputs[s, j]
            entries.append(_entry("input", label, float(gradient[s, j]), difference, tol))
            if difference.crossing:
                kinks.append(f"{label}: {difference.crossing}")

    warnings = [*spec.warnings, *kinks[:MAX_WARNINGS]]
    if len(kinks) > MAX_WARNINGS:
        warnings.append(f"… and {len(kinks) - MAX_WARNINGS} more entries on a kink")
    data: dict[str, Any] = {
        "command": "gradcheck",
        "title": spec.title,
        "source": spec.source,
        "form": spec.form,
        "tolerance": tol,
        "step": STEP,
        "entries": entries,
        "summary": {
            "checked": len(entries),
            "failed": sum(not e["passed"] for e in entries),
            "kinks": sum(e["kink"] for e in entries),
        },
    }
    return finish_data(data, warnings)


def _entry(
    kind: str, name: str, analytic: float, difference: _Difference, tol: float
) -> dict[str, Any]:
    numeric = difference.numeric
    abs_error = abs(analytic - numeric)
    rel_error = abs_error / max(abs(analytic), abs(numeric), TINY)
    kink = difference.crossing is not None
    # a non-finite error compares False both ways: it fails
    passed = kink or rel_error <= tol or abs_error <= difference.floor
    return {
        "kind": kind,
        "name": name,
        "analytic": analytic,
        "numeric": numeric,
        "abs_error": abs_error,
        "rel_error": rel_error,
        "passed": passed,
        "kink": kink,
    }


class _Probe:
    """The loss at a perturbed point, with the side of every kink each unit and output is on."""

    def __init__(self, spec: Spec, net: Network) -> None:
        self.spec, self.net = spec, net
        self.kinked: list[tuple[int, slice, Activation]] = [
            (k, units, activation)
            for k, level in enumerate(net.levels)
            for activation, units in level.groups
            if activation.kinks
        ]
        self.loss_kink = bool(spec.loss.kinks) and spec.targets is not None
        _, self.sides = self.evaluate(net.theta, spec.inputs)

    def evaluate(self, theta: Array, inputs: Array) -> tuple[float, list[Array]]:
        """(L, sides): sides[g] is (kinks, batch, units) of −1, 0, 1 for kinked group g, then
        (1, batch, outputs) for the loss's kink."""
        net, spec = self.net, self.spec
        with np.errstate(all="ignore"):
            pre, post = engine.forward_pass(net, theta, inputs)
            yhat = engine.gather_outputs(net, post)
            loss = engine.reduce_losses(
                engine.loss_per_sample(net, spec.loss, pre, yhat, spec.targets), spec.reduction
            )
            sides = [
                np.stack([np.sign(pre[k][:, units] - c) for c in activation.kinks])
                for k, units, activation in self.kinked
            ]
            if self.loss_kink:
                assert spec.targets is not None
                sides.append(np.sign(yhat - spec.targets)[None])
        return loss, sides

    def difference(
        self, value: float, at: Callable[[float], tuple[float, list[Array]]]
    ) -> _Difference:
        """The numeric derivative at `value`, its round-off floor and the kink crossed."""
        h = RELATIVE_STEP * max(1.0, abs(value))
        up, down = value + h, value - h
        loss_up, sides_up = at(up)
        loss_down, sides_down = at(down)
        with np.errstate(all="ignore"):
            numeric = float(np.float64(loss_up - loss_down) / (up - down))
            floor = float(ROUNDOFF_ULPS * EPS * np.float64(max(abs(loss_up), abs(loss_down))))
            floor /= up - down
        if not math.isfinite(floor):  # a non-finite loss resolves nothing: no floor
            floor = 0.0
        return _Difference(numeric, floor, self._crossing(sides_up, sides_down))

    def _crossing(self, up: list[Array], down: list[Array]) -> str | None:
        for g, (base, plus, minus) in enumerate(zip(self.sides, up, down, strict=True)):
            moved = (plus != base) | (minus != base)
            if not moved.any():
                continue
            kink, sample, unit = (int(i) for i in np.argwhere(moved)[0])
            where = f" (sample {sample + 1})" if self.spec.batched else ""
            if g < len(self.kinked):
                k, units, activation = self.kinked[g]
                name = self.net.levels[k].names[units.start + unit]
                return (
                    f"±h moves the pre-activation of {name}{where} across the kink of "
                    f"{activation.name} at {activation.kinks[kink]:g}; the finite difference "
                    "is meaningless there (not failed)"
                )
            name = self.net.output_names[unit]
            return (
                f"±h moves the output {name}{where} across its target, the kink of "
                f"{self.spec.loss.name}; the finite difference is meaningless there (not failed)"
            )
        return None
