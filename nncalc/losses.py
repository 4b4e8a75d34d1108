"""Loss functions: name → per-sample value and gradient with respect to the outputs.

Arrays are (batch, outputs): ŷ the network's outputs, y the targets. `value` gives one loss per
sample; the engine combines samples by the spec's reduction (mean or sum).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

LOG_FLOOR = -100.0  # ln of a probability is clamped here, as torch's binary_cross_entropy does
PROB_EPS = 1e-12  # gradient denominators are kept at least this large, as torch's are


class Loss:
    name: ClassVar[str]
    formula: ClassVar[str]  # L for one sample
    gradient_formula: ClassVar[str]  # ∂L/∂ŷ_i for one sample
    needs_target: ClassVar[bool] = True
    applies_softmax: ClassVar[bool] = False  # outputs are logits; probabilities are reported
    expects_probabilities: ClassVar[bool] = False  # outputs must lie in [0, 1]
    kinks: ClassVar[str] = ""  # where ∂L/∂ŷ is a convention
    rational: ClassVar[bool] = False  # polynomial or piecewise linear (for --exact)

    def value(self, yhat: Array, y: Array) -> Array:
        raise NotImplementedError

    def gradient(self, yhat: Array, y: Array) -> Array:
        raise NotImplementedError


class HalfSquaredError(Loss):
    name = "half_squared_error"
    rational = True
    formula = "½ Σ (y − ŷ)²"
    gradient_formula = "−(y − ŷ)"

    def value(self, yhat: Array, y: Array) -> Array:
        return 0.5 * np.square(y - yhat).sum(axis=1)  # type: ignore[no-any-return]

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
        scaled: Array = 2.0 * (yhat - y) / yhat.shape[1]
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
        log_p = np.maximum(np.log(yhat), LOG_FLOOR)
        log_q = np.maximum(np.log1p(-yhat), LOG_FLOOR)
        return -(y * log_p + (1.0 - y) * log_q).mean(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        scale: Array = np.maximum(yhat * (1.0 - yhat), PROB_EPS) * yhat.shape[1]
        return (yhat - y) / scale


class CrossEntropy(Loss):
    name = "cross_entropy"
    expects_probabilities = True
    formula = "−Σ y ln ŷ   (ŷ are probabilities, e.g. from a softmax layer)"
    gradient_formula = "−y / ŷ"

    def value(self, yhat: Array, y: Array) -> Array:
        log_p = np.maximum(np.log(yhat), LOG_FLOOR)
        return -(np.where(y == 0, 0.0, y * log_p)).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        floor: Array = np.maximum(yhat, PROB_EPS)
        return -y / floor


class SoftmaxCrossEntropy(Loss):
    name = "softmax_cross_entropy"
    formula = "−Σ y ln p,  p = softmax(ŷ)   (ŷ are logits)"
    gradient_formula = "p·Σy − y   (= p − y for one-hot y)"
    applies_softmax = True

    def value(self, yhat: Array, y: Array) -> Array:
        return (y * (_logsumexp(yhat) - yhat)).sum(axis=1)  # type: ignore[no-any-return]

    def gradient(self, yhat: Array, y: Array) -> Array:
        mass: Array = y.sum(axis=1, keepdims=True)
        return probabilities(yhat) * mass - y


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


def _logsumexp(s: Array) -> Array:
    top = s.max(axis=1, keepdims=True)
    return top + np.log(np.exp(s - top).sum(axis=1, keepdims=True))  # type: ignore[no-any-return]


def probabilities(logits: Array) -> Array:
    """softmax over each sample's outputs, computed without overflow."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
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
