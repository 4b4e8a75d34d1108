"""Loss functions: name → per-sample value and gradient with respect to the outputs.

Arrays are (batch, outputs): ŷ the network's outputs, y the targets. `value` gives one loss per
sample; the engine combines samples by the spec's reduction (mean or sum).

The cross-entropies take no clamps: every probability in (0, 1) gets its exact logarithm and
gradient, a term whose target weight is 0 counts 0 even at ln 0 (0·ln 0 = 0), and only a
probability of exactly 0 (or 1, for the second term of binary_cross_entropy) under a nonzero
weight gives an infinite loss and gradient, which the results report by name.

When the outputs are sigmoid units, or one softmax layer, a loss on probabilities is computed
from the outputs' pre-activations a instead (`through`, as torch's BCEWithLogitsLoss and
cross_entropy do): −ln σ(a) = softplus(−a) and ∂L/∂a = σ(a) − y keep every digit where ŷ itself
has rounded to 1 (from a ≈ 37 on) or has lost digits of 1 − ŷ on the way (from a ≈ 15).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .activations import sigmoid

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]


class Loss:
    name: ClassVar[str]
    formula: ClassVar[str]  # L for one sample
    gradient_formula: ClassVar[str]  # ∂L/∂ŷ_i for one sample
    needs_target: ClassVar[bool] = True
    applies_softmax: ClassVar[bool] = False  # outputs are logits; probabilities are reported
    expects_probabilities: ClassVar[bool] = False  # outputs must lie in [0, 1]
    kinks: ClassVar[str] = ""  # where ∂L/∂ŷ is a convention
    rational: ClassVar[bool] = False  # polynomial or piecewise linear (for --exact)
    # Output functions ("sigmoid", "softmax") the loss can be computed through, from the
    # pre-activations: see value_through and gradient_through.
    through: ClassVar[frozenset[str]] = frozenset()

    def value(self, yhat: Array, y: Array) -> Array:
        raise NotImplementedError

    def gradient(self, yhat: Array, y: Array) -> Array:
        raise NotImplementedError

    def value_through(self, link: str, a: Array, y: Array) -> Array:
        """value(link(a), y), computed from the pre-activations a without losing digits."""
        raise NotImplementedError

    def gradient_through(self, link: str, a: Array, y: Array) -> Array:
        """∂L/∂a of value_through: the outputs' δ, for link in `through`."""
        raise NotImplementedError


class HalfSquaredError(Loss):
    name = "half_squared_error"
    rational = True
    formula = "½ Σ (y − ŷ)²"
    gradient_formula = "−(y − ŷ)"

    def value(self, yhat: Array, y: Array) -> Array:
        half = 0.5 * (y - yhat)  # halved before squaring: ½d² is finite up to d ≈ 1.9e154
        return (half * (y - yhat)).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        return yhat - y


class SquaredError(Loss):
    name = "squared_error"
    rational = True
    formula = "Σ (y − ŷ)²"
    gradient_formula = "−2(y − ŷ)"

    def value(self, yhat: Array, y: Array) -> Array:
        return np.square(y - yhat).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        return 2.0 * (yhat - y)


class MeanSquaredError(Loss):
    name = "mse"
    rational = True
    formula = "(1/n) Σ (y − ŷ)²   (n = number of outputs)"
    gradient_formula = "−(2/n)(y − ŷ)"

    def value(self, yhat: Array, y: Array) -> Array:
        return np.square(y - yhat).mean(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        scaled: Array = (yhat - y) / yhat.shape[1] * 2.0  # doubled last: 2(ŷ − y) may overflow
        return scaled


class MeanAbsoluteError(Loss):
    name = "mae"
    rational = True
    formula = "(1/n) Σ |y − ŷ|   (n = number of outputs)"
    gradient_formula = "sign(ŷ − y)/n"
    kinks = "∂|y − ŷ|/∂ŷ = 0 where ŷ = y"

    def value(self, yhat: Array, y: Array) -> Array:
        return np.abs(y - yhat).mean(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        return np.sign(yhat - y) / yhat.shape[1]  # type: ignore[no-any-return]


class BinaryCrossEntropy(Loss):
    name = "binary_cross_entropy"
    expects_probabilities = True
    formula = "−(1/n) Σ [y ln ŷ + (1 − y) ln(1 − ŷ)]   (ŷ are probabilities)"
    gradient_formula = "(ŷ − y) / (n·ŷ(1 − ŷ))"

    def value(self, yhat: Array, y: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):  # ln 0 = −inf is meant
            terms = _weighted(y, np.log(yhat)) + _weighted(1.0 - y, np.log1p(-yhat))
        return -terms.mean(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        n = yhat.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (yhat - y) / (yhat * (1.0 - yhat) * n)
            # at ŷ = 0 or 1 that is 0/0 or c/0: take the limit term by term, −y/ŷ + (1 − y)/(1 − ŷ)
            edge = (_weighted(1.0 - y, 1.0 / (1.0 - yhat)) - _weighted(y, 1.0 / yhat)) / n
        chosen: Array = np.where((yhat == 0) | (yhat == 1), edge, slope)
        return chosen

    through = frozenset({"sigmoid"})

    def value_through(self, link: str, a: Array, y: Array) -> Array:
        # −ln σ(a) = softplus(−a) and −ln(1 − σ(a)) = −ln σ(−a) = softplus(a)
        terms = _weighted(y, np.logaddexp(0.0, -a)) + _weighted(1.0 - y, np.logaddexp(0.0, a))
        return terms.mean(axis=1)  # type: ignore[no-any-return]

    def gradient_through(self, link: str, a: Array, y: Array) -> Array:
        # σ(a) − y, written as (1 − y) − σ(−a) for a ≥ 0: exact where σ(a) has rounded to 1
        with np.errstate(invalid="ignore"):
            residual = np.where(a >= 0, (1.0 - y) - sigmoid(-a), sigmoid(a) - y)
        return residual / a.shape[1]  # type: ignore[no-any-return]


class CrossEntropy(Loss):
    name = "cross_entropy"
    expects_probabilities = True
    formula = "−Σ y ln ŷ   (ŷ are probabilities, e.g. from a softmax layer)"
    gradient_formula = "−y / ŷ"

    def value(self, yhat: Array, y: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):  # ln 0 = −inf is meant
            return -_weighted(y, np.log(yhat)).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -_weighted(y, 1.0 / yhat)

    through = frozenset({"sigmoid", "softmax"})

    def value_through(self, link: str, a: Array, y: Array) -> Array:
        if link == "softmax":  # −ln p = lse − a
            return SoftmaxCrossEntropy().value(a, y)
        return _weighted(y, np.logaddexp(0.0, -a)).sum(axis=1)  # type: ignore[no-any-return]

    def gradient_through(self, link: str, a: Array, y: Array) -> Array:
        if link == "softmax":
            return SoftmaxCrossEntropy().gradient(a, y)
        return -y * sigmoid(-a)  # −y(1 − σ(a))


class SoftmaxCrossEntropy(Loss):
    name = "softmax_cross_entropy"
    formula = "−Σ y ln p,  p = softmax(ŷ)   (ŷ are logits)"
    gradient_formula = "p·Σy − y   (= p − y for one-hot y)"
    applies_softmax = True

    def value(self, yhat: Array, y: Array) -> Array:
        # −ln p_j = lse − ŷ_j = (m − ŷ_j) + ln(1 + r), m the largest logit and r = Σ e^(ŷ_i − m)
        # over the others (see _spread): exact where p_j underflows to 0, and where p_j rounds
        # to 1 (ln(1 + r) by log1p). Beyond the float range it is inf, which counts only under a
        # nonzero target weight.
        shifted, rest, _ = _spread(yhat)
        with np.errstate(over="ignore"):
            surprise = np.log1p(rest) - shifted
        return _weighted(y, surprise).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        # p·Σy − y; at the largest logit p = 1/(1 + r), and p·Σy − y = (Σy − y) − Σy·r/(1 + r)
        # keeps the digits that p − 1 loses once p nears 1 (−r/(1 + r) for one-hot y there).
        shifted, rest, top = _spread(yhat)
        mass: Array = y.sum(axis=1, keepdims=True)
        total = 1.0 + rest
        out: Array = np.exp(shifted) / total * mass - y
        at_top = (mass - np.take_along_axis(y, top, axis=1)) - mass * (rest / total)
        np.put_along_axis(out, top, at_top, axis=1)
        return out


class Output(Loss):
    """L = Σ ŷ: the gradient of the raw outputs themselves (micrograd's out.backward())."""

    name = "output"
    rational = True
    formula = "Σ ŷ"
    gradient_formula = "1"
    needs_target = False

    def value(self, yhat: Array, y: Array) -> Array:
        return yhat.sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        return np.ones_like(yhat)


def _weighted(weight: Array, values: Array) -> Array:
    """weight·values, with 0·±∞ = 0 (0·ln 0 = 0); 0·nan stays nan (a log outside its domain)."""
    with np.errstate(invalid="ignore"):
        return np.where((weight == 0) & np.isinf(values), 0.0, weight * values)


def _shifted(s: Array) -> Array:
    """s − max(s) per sample. A difference beyond −1.8e308 is −inf, whose e^ is exactly 0; an
    infinite logit (a pre-activation that overflowed) gives nan, reported by name downstream."""
    with np.errstate(over="ignore", invalid="ignore"):
        return s - s.max(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _spread(s: Array) -> tuple[Array, Array, NDArray[np.intp]]:
    """(s − max(s), r, the largest's position) per sample, r = Σ e^(s_i − max) over every other
    logit: the sum of e^(s − max) is exactly 1 + r, and r keeps its digits however small."""
    shifted = _shifted(s)
    top = np.argmax(s, axis=1, keepdims=True)  # a nan logit's place, if any: all is nan then
    e = np.exp(shifted)
    np.put_along_axis(e, top, 0.0, axis=1)
    return shifted, e.sum(axis=1, keepdims=True), top


def probabilities(logits: Array) -> Array:
    """softmax over each sample's outputs, computed without overflow."""
    e = np.exp(_shifted(logits))
    return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


REGISTRY: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        HalfSquaredError,
        SquaredError,
        MeanSquaredError,
        MeanAbsoluteError,
        BinaryCrossEntropy,
        CrossEntropy,
        SoftmaxCrossEntropy,
        Output,
    )
}

ALIASES: dict[str, str] = {
    "sse": "squared_error",
    "mean_squared_error": "mse",
    "l1": "mae",
    "mean_absolute_error": "mae",
    "bce": "binary_cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
}
