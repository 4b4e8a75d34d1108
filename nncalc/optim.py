"""Optimizers over the flat param vector θ, one pure step at a time, as torch.optim defines them.

Each entry of `OPTIMIZERS` names its hyper-parameters with their defaults, the formulas of one
step (with η the learning rate, g the gradient used by the step, t the step number from 1), and
the state buffers it keeps. `step` takes θ, ∂L/∂θ, a `State` and the learning rate and returns a
new θ, a new state and a report (the bias-corrected moments m̂, v̂ for adam and adamw). Nothing
passed in is modified, and entries frozen in `trainable` neither move nor change their state.

The arithmetic follows torch.optim's single-tensor code path (maximize=False, no amsgrad, no
centered RMSprop), operation by operation, so a float64 run agrees with torch's to the last bit
or so:

- weight decay is `g + λ·θ` (torch's `grad.add(param, alpha=λ)`), applied only when λ ≠ 0;
- a step is `θ + (−η)·d` (`param.add_(d, alpha=−η)`); a quotient step is `θ + (−η)·n / d`
  (`param.addcdiv_(n, d, value=−η)`, evaluated left to right);
- adam's first moment uses torch's `lerp` (m + (1 − β1)·(g − m), the same as β1·m + (1 − β1)·g
  up to rounding), and its update is torch's `η/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε)`: ε is
  added after the bias correction and outside the square root, so the denominator is √v̂ + ε.

The momentum buffer: torch's `momentum_buffer` (called velocity here) is b ← μ·b + (1 − τ)·g
with θ ← θ − η·b, and the first step sets b = g (no dampening). The textbook form
(`momentum_classic`) keeps v ← μ·v − η·g with θ ← θ + v instead; with a constant η the two give
the same θ at every step and v = −η·b.

The momentum default is 0.9 for momentum, nesterov and momentum_classic (torch's SGD default is
0, which is plain sgd, the separate `sgd` entry); every other default is torch's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .errors import choice_hint

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]
    Mask = NDArray[np.bool_]
    # (θ, ∂L/∂θ, buffers, t, η, hyper-parameters) → (θ, buffers, report), all fresh arrays
    Update = Callable[
        [Array, Array, Mapping[str, Array], int, float, Mapping[str, float]],
        tuple[Array, dict[str, Array], dict[str, Array]],
    ]


class State(NamedTuple):
    """An optimizer's state between steps: the steps taken so far and its buffers.

    A buffer that is absent starts as torch starts it: zeros for the moving averages, and for the
    momentum buffer "none yet" (the next step sets it to g).
    """

    step: int  # steps taken; the next step is number step + 1 (torch's state["step"])
    buffers: Mapping[str, Array]


def initial_state() -> State:
    """The state before the first step."""
    return State(0, {})


class StepResult(NamedTuple):
    theta: Array
    state: State
    # Per-entry values worth a table column that are not state: m̂ and v̂ for adam and adamw.
    # Frozen entries take no step, so theirs are nan.
    report: dict[str, Array]


@dataclass(frozen=True)
class Optimizer:
    name: str
    torch_equivalent: str
    defaults: Mapping[str, float]  # hyper-parameter → default
    formulas: tuple[str, ...]  # one step, in order
    buffers: tuple[str, ...]  # names of the state buffers (torch's names where torch has them)
    reported: tuple[str, ...]  # names of the report's entries
    update: Update = field(repr=False)


# How a table writes each buffer or report entry.
SYMBOLS: dict[str, str] = {
    "velocity": "b",
    "square_avg": "s",
    "exp_avg": "m",
    "exp_avg_sq": "v",
    "m_hat": "m̂",
    "v_hat": "v̂",
}

# name → (whether a value is allowed, the rule in words)
RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "momentum": (lambda x: x >= 0, "at least 0"),
    "dampening": (lambda x: 0 <= x <= 1, "between 0 and 1"),
    "weight_decay": (lambda x: x >= 0, "at least 0"),
    "alpha": (lambda x: 0 <= x <= 1, "between 0 and 1"),
    "beta1": (lambda x: 0 <= x < 1, "at least 0 and below 1"),
    "beta2": (lambda x: 0 <= x < 1, "at least 0 and below 1"),
    "eps": (lambda x: x >= 0, "at least 0"),
}


def _decayed(theta: Array, grad: Array, weight_decay: float) -> Array:
    """g = ∂L/∂θ + λ·θ, torch's `grad.add(param, alpha=λ)`; only when λ ≠ 0."""
    if weight_decay == 0:
        return grad
    return grad + weight_decay * theta


def _lerp(start: Array, end: Array, weight: float) -> Array:
    """torch.lerp: start + w·(end − start) for |w| < ½, else end − (end − start)·(1 − w)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _sgd(
    theta: Array,
    grad: Array,
    buffers: Mapping[str, Array],
    t: int,
    lr: float,
    h: Mapping[str, float],
) -> tuple[Array, dict[str, Array], dict[str, Array]]:
    g = _decayed(theta, grad, h["weight_decay"])
    return theta + (-lr) * g, {}, {}


def _momentum(nesterov: bool) -> Update:
    def update(
        theta: Array,
        grad: Array,
        buffers: Mapping[str, Array],
        t: int,
        lr: float,
        h: Mapping[str, float],
    ) -> tuple[Array, dict[str, Array], dict[str, Array]]:
        mu = h["momentum"]
        g = _decayed(theta, grad, h["weight_decay"])
        previous = buffers.get("velocity")
        dampening = h.get("dampening", 0.0)
        # The first step copies g (torch: torch.clone(grad)), without dampening.
        b = g.copy() if previous is None else previous * mu + (1 - dampening) * g
        direction = g + mu * b if nesterov else b
        return theta + (-lr) * direction, {"velocity": b}, {}

    return update


def _momentum_classic(
    theta: Array,
    grad: Array,
    buffers: Mapping[str, Array],
    t: int,
    lr: float,
    h: Mapping[str, float],
) -> tuple[Array, dict[str, Array], dict[str, Array]]:
    g = _decayed(theta, grad, h["weight_decay"])
    previous = buffers.get("velocity")
    v = (-lr) * g if previous is None else h["momentum"] * previous - lr * g
    return theta + v, {"velocity": v}, {}


def _rmsprop(
    theta: Array,
    grad: Array,
    buffers: Mapping[str, Array],
    t: int,
    lr: float,
    h: Mapping[str, float],
) -> tuple[Array, dict[str, Array], dict[str, Array]]:
    alpha = h["alpha"]
    g = _decayed(theta, grad, h["weight_decay"])
    previous = buffers.get("square_avg")
    s = np.zeros_like(theta) if previous is None else previous * alpha
    s = s + (1 - alpha) * g * g  # torch: square_avg.mul_(α).addcmul_(g, g, value=1 − α)
    denom = np.sqrt(s) + h["eps"]
    return theta + (-lr) * g / denom, {"square_avg": s}, {}


def _adam(decoupled: bool) -> Update:
    def update(
        theta: Array,
        grad: Array,
        buffers: Mapping[str, Array],
        t: int,
        lr: float,
        h: Mapping[str, float],
    ) -> tuple[Array, dict[str, Array], dict[str, Array]]:
        beta1, beta2, weight_decay = h["beta1"], h["beta2"], h["weight_decay"]
        if decoupled:
            g = grad
            if weight_decay != 0:
                theta = theta * (1 - lr * weight_decay)  # torch: param.mul_(1 − η·λ)
        else:
            g = _decayed(theta, grad, weight_decay)
        zeros = np.zeros_like(theta)
        m = _lerp(buffers.get("exp_avg", zeros), g, 1 - beta1)
        v = buffers.get("exp_avg_sq", zeros) * beta2 + (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        step_size = lr / bias_correction1
        denom = np.sqrt(v) / bias_correction2**0.5 + h["eps"]
        report = {"m_hat": m / bias_correction1, "v_hat": v / bias_correction2}
        return theta + (-step_size) * m / denom, {"exp_avg": m, "exp_avg_sq": v}, report

    return update


_SGD_STEP = "θ ← θ − η·g"
_DECAY = "g = ∂L/∂θ + λ·θ"
_ADAM = (
    "m ← β1·m + (1 − β1)·g",
    "v ← β2·v + (1 − β2)·g²",
    "m̂ = m / (1 − β1^t)",
    "v̂ = v / (1 − β2^t)",
    "θ ← θ − η·m̂ / (√v̂ + ε)",
)

OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o
    for o in (
        Optimizer(
            name="sgd",
            torch_equivalent="torch.optim.SGD",
            defaults={"weight_decay": 0.0},
            formulas=(_DECAY, _SGD_STEP),
            buffers=(),
            reported=(),
            update=_sgd,
        ),
        Optimizer(
            name="momentum",
            torch_equivalent="torch.optim.SGD(momentum=μ)",
            defaults={"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
            formulas=(
                _DECAY,
                "b ← g on the first step, then b ← μ·b + (1 − τ)·g",
                "θ ← θ − η·b",
            ),
            buffers=("velocity",),
            reported=(),
            update=_momentum(nesterov=False),
        ),
        Optimizer(
            name="nesterov",
            torch_equivalent="torch.optim.SGD(momentum=μ, nesterov=True)",
            defaults={"momentum": 0.9, "weight_decay": 0.0},
            formulas=(
                _DECAY,
                "b ← g on the first step, then b ← μ·b + g",
                "θ ← θ − η·(g + μ·b)",
            ),
            buffers=("velocity",),
            reported=(),
            update=_momentum(nesterov=True),
        ),
        Optimizer(
            name="momentum_classic",
            torch_equivalent="none (the textbook form; torch.optim.SGD(momentum=μ) with v = −η·b)",
            defaults={"momentum": 0.9, "weight_decay": 0.0},
            formulas=(_DECAY, "v ← μ·v − η·g   (v = 0 before the first step)", "θ ← θ + v"),
            buffers=("velocity",),
            reported=(),
            update=_momentum_classic,
        ),
        Optimizer(
            name="rmsprop",
            torch_equivalent="torch.optim.RMSprop",
            defaults={"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0},
            formulas=(
                _DECAY,
                "s ← α·s + (1 − α)·g²",
                "θ ← θ − η·g / (√s + ε)",
            ),
            buffers=("square_avg",),
            reported=(),
            update=_rmsprop,
        ),
        Optimizer(
            name="adam",
            torch_equivalent="torch.optim.Adam",
            defaults={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
            formulas=(_DECAY, *_ADAM),
            buffers=("exp_avg", "exp_avg_sq"),
            reported=("m_hat", "v_hat"),
            update=_adam(decoupled=False),
        ),
        Optimizer(
            name="adamw",
            torch_equivalent="torch.optim.AdamW",
            defaults={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
            formulas=("θ ← θ·(1 − η·λ)", "g = ∂L/∂θ", *_ADAM),
            buffers=("exp_avg", "exp_avg_sq"),
            reported=("m_hat", "v_hat"),
            update=_adam(decoupled=True),
        ),
    )
}


def get(name: str) -> Optimizer:
    """The optimizer called `name`; ValueError with the closest name otherwise."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        hint = choice_hint(name, OPTIMIZERS, noun="optimizers")
        raise ValueError(f"unknown optimizer '{name}'{hint}") from None


def hyperparameters(
    optimizer: Optimizer, overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The defaults with `overrides` applied, each checked against its range."""
    values = dict(optimizer.defaults)
    for name, value in (overrides or {}).items():
        if name not in values:
            hint = choice_hint(name, values, noun="hyper-parameters")
            raise ValueError(f"{optimizer.name} has no hyper-parameter '{name}'{hint}")
        values[name] = float(value)
    for name, value in values.items():
        allowed, rule = RANGES[name]
        if optimizer.name == "nesterov" and name == "momentum":
            allowed, rule = (lambda x: x > 0), "above 0"  # torch: nesterov requires a momentum
        if not (math.isfinite(value) and allowed(value)):
            raise ValueError(f"{optimizer.name}: {name} must be {rule}, not {value:g}")
    return values


def step(
    optimizer: Optimizer | str,
    theta: Array,
    grad: Array,
    state: State,
    lr: float,
    trainable: Mask,
    hyper: Mapping[str, float] | None = None,
) -> StepResult:
    """One step of `optimizer` from θ with gradient ∂L/∂θ; the inputs are left untouched.

    `hyper` overrides the optimizer's defaults. Entries where `trainable` is False keep their
    value and their buffers (a buffer created by this step holds 0 there).
    """
    opt = get(optimizer) if isinstance(optimizer, str) else optimizer
    h = hyperparameters(opt, hyper)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"the learning rate must be finite and at least 0, not {lr:g}")
    if grad.shape != theta.shape or trainable.shape != theta.shape:
        raise ValueError(
            f"θ, ∂L/∂θ and the trainable mask differ in shape:"
            f" {theta.shape}, {grad.shape}, {trainable.shape}"
        )
    for name, buffer in state.buffers.items():
        if name not in opt.buffers:
            raise ValueError(f"{opt.name} keeps no buffer '{name}' (it keeps {opt.buffers})")
        if buffer.shape != theta.shape:
            raise ValueError(f"buffer '{name}' has shape {buffer.shape}, θ has {theta.shape}")
    t = state.step + 1
    new_theta, buffers, report = opt.update(theta, grad, state.buffers, t, float(lr), h)
    if not trainable.all():
        frozen = ~trainable
        new_theta[frozen] = theta[frozen]
        for name, buffer in buffers.items():
            previous = state.buffers.get(name)
            buffer[frozen] = 0.0 if previous is None else previous[frozen]
        for values in report.values():
            values[frozen] = np.nan
    return StepResult(new_theta, State(t, buffers), report)
