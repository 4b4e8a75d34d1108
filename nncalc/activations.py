"""Activation functions: name → value, derivative and vector-Jacobian product.

Notation: a is a unit's pre-activation, z = f(a) its activation. Arrays are (batch, units).
Derivatives at kinks follow torch.nn.functional's autograd, stated per class as `convention`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]


class Activation:
    """An activation function with its parameters bound (e.g. leaky_relu with alpha = 0.1)."""

    name: ClassVar[str]
    formula: ClassVar[str]  # z = f(a), written with a
    derivative_formula: ClassVar[str]  # f'(a)
    kinks: ClassVar[tuple[float, ...]] = ()  # where f' is undefined and a convention is used
    convention: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float]] = {}
    elementwise: ClassVar[bool] = True
    rational: ClassVar[bool] = False  # rational values and slopes on rationals (for --exact)

    def __init__(self, **params: float) -> None:
        self.params = {**self.defaults, **params}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Activation)
            and self.name == other.name
            and (self.params == other.params)
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    @property
    def label(self) -> str:
        """The name with its parameters, defaults included: 'leaky_relu(alpha=0.01)'."""
        if not self.params:
            return self.name
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({args})"

    def value(self, a: Array) -> Array:
        raise NotImplementedError

    def derivative(self, a: Array, z: Array) -> Array:
        """f'(a), given a and z = f(a) (several derivatives are cheapest in terms of z)."""
        raise NotImplementedError

    def vjp(self, a: Array, z: Array, dL_dz: Array) -> Array:
        """dL/da from dL/dz: the derivative times the incoming gradient, elementwise."""
        return self.derivative(a, z) * dL_dz


class Identity(Activation):
    name = "identity"
    rational = True
    formula = "a"
    derivative_formula = "1"

    def value(self, a: Array) -> Array:
        return a.copy()

    def derivative(self, a: Array, z: Array) -> Array:
        return np.ones_like(a)

    def vjp(self, a: Array, z: Array, dL_dz: Array) -> Array:
        return dL_dz


class ReLU(Activation):
    name = "relu"
    rational = True
    formula = "max(0, a)"
    derivative_formula = "1 if a > 0, else 0"
    kinks = (0.0,)
    convention = "relu′(0) = 0"

    def value(self, a: Array) -> Array:
        return np.maximum(a, 0.0)

    def derivative(self, a: Array, z: Array) -> Array:
        return (a > 0).astype(np.float64)

    def vjp(self, a: Array, z: Array, dL_dz: Array) -> Array:
        return np.where(a > 0, dL_dz, 0.0)


class LeakyReLU(Activation):
    name = "leaky_relu"
    rational = True
    formula = "a if a > 0, else alpha·a"
    derivative_formula = "1 if a > 0, else alpha"
    kinks = (0.0,)
    convention = "leaky_relu′(0) = alpha"
    defaults: ClassVar[dict[str, float]] = {"alpha": 0.01}

    def value(self, a: Array) -> Array:
        return np.where(a > 0, a, self.params["alpha"] * a)

    def derivative(self, a: Array, z: Array) -> Array:
        return np.where(a > 0, 1.0, self.params["alpha"])


class Sigmoid(Activation):
    name = "sigmoid"
    formula = "1 / (1 + e^(−a))"
    derivative_formula = "σ(a)·(1 − σ(a))"

    def value(self, a: Array) -> Array:
        return sigmoid(a)

    def derivative(self, a: Array, z: Array) -> Array:
        # z·(1 − z) loses digits as z nears 1 (half by a ≈ 18, all once z rounds to 1 at a ≈ 37)
        e = np.exp(-np.abs(a))
        return e / np.square(1.0 + e)


class Tanh(Activation):
    name = "tanh"
    formula = "tanh(a)"
    derivative_formula = "1 − tanh(a)²"

    def value(self, a: Array) -> Array:
        return np.tanh(a)

    def derivative(self, a: Array, z: Array) -> Array:
        # 1 − z² loses digits as z nears ±1 (all once it rounds to ±1 at |a| ≈ 19); sech² keeps them
        e = np.square(np.exp(-np.abs(a)))  # e^(−2|a|), without −2|a| overflowing
        return 4.0 * e / np.square(1.0 + e)


class Sign(Activation):
    name = "sign"
    rational = True
    formula = "−1 if a < 0, 0 if a = 0, 1 if a > 0"
    derivative_formula = "0"
    kinks = (0.0,)
    convention = "sign′(a) = 0 everywhere, including the jump at 0; sign(0) = 0"

    def value(self, a: Array) -> Array:
        return np.sign(a)

    def derivative(self, a: Array, z: Array) -> Array:
        return np.zeros_like(a)


class Step(Activation):
    name = "step"
    rational = True
    formula = "1 if a ≥ 0, else 0"
    derivative_formula = "0"
    kinks = (0.0,)
    convention = "step′(a) = 0 everywhere, including the jump at 0; step(0) = 1"

    def value(self, a: Array) -> Array:
        return (a >= 0).astype(np.float64)

    def derivative(self, a: Array, z: Array) -> Array:
        return np.zeros_like(a)


class Softplus(Activation):
    name = "softplus"
    formula = "ln(1 + e^a)"
    derivative_formula = "σ(a)"

    def value(self, a: Array) -> Array:
        return np.logaddexp(0.0, a)

    def derivative(self, a: Array, z: Array) -> Array:
        return sigmoid(a)


class ELU(Activation):
    name = "elu"
    formula = "a if a > 0, else alpha·(e^a − 1)"
    derivative_formula = "1 if a > 0, else alpha·e^a"
    kinks = (0.0,)
    convention = "elu′(0) = alpha"
    defaults: ClassVar[dict[str, float]] = {"alpha": 1.0}

    def value(self, a: Array) -> Array:
        return np.where(a > 0, a, self.params["alpha"] * np.expm1(np.minimum(a, 0.0)))

    def derivative(self, a: Array, z: Array) -> Array:
        return np.where(a > 0, 1.0, self.params["alpha"] * np.exp(np.minimum(a, 0.0)))


class SiLU(Activation):
    name = "silu"
    formula = "a·σ(a)"
    derivative_formula = "σ(a)·(1 + a·(1 − σ(a)))"

    def value(self, a: Array) -> Array:
        return _times(a, sigmoid(a))

    def derivative(self, a: Array, z: Array) -> Array:
        s = sigmoid(a)
        return _times(1.0 + _times(a, 1.0 - s), s)


class GELU(Activation):
    """The exact GELU, a·Φ(a) with Φ the standard normal CDF (not the tanh approximation)."""

    name = "gelu"
    formula = "a·Φ(a),  Φ(a) = ½(1 + erf(a/√2))"
    derivative_formula = "Φ(a) + a·φ(a),  φ(a) = e^(−a²/2)/√(2π)"

    def value(self, a: Array) -> Array:
        return _times(a, _normal_cdf(a))

    def derivative(self, a: Array, z: Array) -> Array:
        with np.errstate(over="ignore"):  # a² beyond the float range is inf, and e^−inf is 0
            density = np.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)
        return _normal_cdf(a) + _times(a, density)


class Softmax(Activation):
    """Softmax over a whole layer: z_i = e^(a_i) / Σ_j e^(a_j); not elementwise."""

    name = "softmax"
    formula = "e^(a_i) / Σ_j e^(a_j)"
    derivative_formula = "∂z_i/∂a_j = z_i·([i = j] − z_j)"
    elementwise = False

    def value(self, a: Array) -> Array:
        # a shift beyond −1.8e308 is −inf, whose e^ is 0; an infinite a gives nan, reported later
        with np.errstate(over="ignore", invalid="ignore"):
            shifted = a - a.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def derivative(self, a: Array, z: Array) -> Array:
        raise TypeError("softmax has a Jacobian, not an elementwise derivative; use vjp")

    def vjp(self, a: Array, z: Array, dL_dz: Array) -> Array:
        return z * (dL_dz - (z * dL_dz).sum(axis=1, keepdims=True))  # type: ignore[no-any-return]


def sigmoid(a: Array) -> Array:
    """σ(a) without overflow: e^(−|a|) never exceeds 1."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _times(a: Array, factor: Array) -> Array:
    """a·factor, 0 where the factor has vanished: an a that overflowed to ±inf stands for a
    huge finite number, whose product with a vanished factor (e^−a underflowed) is 0."""
    with np.errstate(invalid="ignore"):
        return np.where(factor == 0, 0.0, a * factor)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _normal_cdf(a: Array) -> Array:
    """Φ(a) = ½·erfc(−a/√2): 1 + erf(a/√2) would cancel every digit for a ≲ −8.

    numpy has no vectorised erfc; math.erfc per element is exact to double precision."""
    erfc: Array = _erfc(-a / math.sqrt(2.0))
    return 0.5 * erfc


REGISTRY: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (
        Identity,
        ReLU,
        LeakyReLU,
        Sigmoid,
        Tanh,
        Sign,
        Step,
        Softplus,
        ELU,
        SiLU,
        GELU,
        Softmax,
    )
}

ALIASES: dict[str, str] = {
    "linear": "identity",
    "logistic": "sigmoid",
    "sgn": "sign",
    "heaviside": "step",
    "swish": "silu",
}
