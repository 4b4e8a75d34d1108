"""Golden numbers of the example exercises, each derived independently of nncalc.

The expected values are worked out by hand (the arithmetic is written out next to each number)
or recomputed here with plain Python `math` on scalars; none is copied from nncalc's output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import nncalc
from nncalc import BackpropResult

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

Matrix = list[list[float]]
Vector = list[float]


def run(name: str) -> BackpropResult:
    """backprop of examples/<name>.yaml with the spec's own learning rate."""
    return nncalc.backprop(nncalc.load_spec(EXAMPLES / f"{name}.yaml"))


def value(x: float | np.ndarray) -> float:
    """A named-form param (a float), checked to be one."""
    assert isinstance(x, float), f"expected a float, got {type(x).__name__}"
    return x


def only(values: np.ndarray) -> float:
    """The single sample of a per-sample array."""
    assert values.shape == (1,), values.shape
    return float(values[0])


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def approx(expected: float, rel: float = 1e-12, abs_: float = 1e-12) -> object:
    return pytest.approx(expected, rel=rel, abs=abs_)


# --- examples/homework.yaml: the seed exercise ------------------------------------------------
#
# x1 = 1, x2 = 2; h1 ← (x1·w1 + x2·w2), h2 ← (x1·w3 + x2·w4), h3 ← (x1·w5 + x2·w6);
# o ← (h1·w7 + h2·w8 + h3·w9); ReLU everywhere; L = ½(y − ŷ)², y = 6; learning rate 1.
#   w1..w9 = 2, 1, 1, −1, 1, 1, −0.5, 1, 1.2

HOMEWORK_WEIGHTS = {
    "w1": 2.0,
    "w2": 1.0,
    "w3": 1.0,
    "w4": -1.0,
    "w5": 1.0,
    "w6": 1.0,
    "w7": -0.5,
    "w8": 1.0,
    "w9": 1.2,
}

# Forward:
#   a_h1 = 1·2 + 2·1    = 4     z_h1 = 4
#   a_h2 = 1·1 + 2·(−1) = −1    z_h2 = 0
#   a_h3 = 1·1 + 2·1    = 3     z_h3 = 3
#   a_o  = 4·(−0.5) + 0·1 + 3·1.2 = −2 + 3.6 = 1.6    z_o = ŷ = 1.6
#   L = ½(6 − 1.6)² = ½·4.4² = ½·19.36 = 9.68
HOMEWORK_PRE = {"h1": 4.0, "h2": -1.0, "h3": 3.0, "o": 1.6}
HOMEWORK_POST = {"h1": 4.0, "h2": 0.0, "h3": 3.0, "o": 1.6}

# Backward, δ = ∂L/∂a:
#   δ_o  = (ŷ − y)·relu'(1.6) = −4.4·1 = −4.4
#   δ_h1 = δ_o·w7·relu'(4)  = −4.4·(−0.5)·1 = 2.2
#   δ_h2 = δ_o·w8·relu'(−1) = −4.4·1·0      = 0
#   δ_h3 = δ_o·w9·relu'(3)  = −4.4·1.2·1    = −5.28
HOMEWORK_DELTAS = {"o": -4.4, "h1": 2.2, "h2": 0.0, "h3": -5.28}

# ∂L/∂w = δ_destination · z_source:
#   w1 = 2.2·1 = 2.2     w2 = 2.2·2 = 4.4
#   w3 = 0·1   = 0       w4 = 0·2   = 0
#   w5 = −5.28·1 = −5.28 w6 = −5.28·2 = −10.56
#   w7 = −4.4·4 = −17.6  w8 = −4.4·0 = 0   w9 = −4.4·3 = −13.2
HOMEWORK_GRADIENTS = {
    "w1": 2.2,
    "w2": 4.4,
    "w3": 0.0,
    "w4": 0.0,
    "w5": -5.28,
    "w6": -10.56,
    "w7": -17.6,
    "w8": 0.0,
    "w9": -13.2,
}

# Updated with learning rate 1: w − 1·∂L/∂w
#   w1 = 2 − 2.2 = −0.2      w2 = 1 − 4.4 = −3.4
#   w3 = 1 − 0 = 1           w4 = −1 − 0 = −1
#   w5 = 1 + 5.28 = 6.28     w6 = 1 + 10.56 = 11.56
#   w7 = −0.5 + 17.6 = 17.1  w8 = 1 − 0 = 1       w9 = 1.2 + 13.2 = 14.4
HOMEWORK_UPDATED = {
    "w1": -0.2,
    "w2": -3.4,
    "w3": 1.0,
    "w4": -1.0,
    "w5": 6.28,
    "w6": 11.56,
    "w7": 17.1,
    "w8": 1.0,
    "w9": 14.4,
}

# Loss after the step, forward again with the updated weights:
#   a_h1 = 1·(−0.2) + 2·(−3.4) = −7     z_h1 = 0
#   a_h2 = 1·1 + 2·(−1)        = −1     z_h2 = 0
#   a_h3 = 1·6.28 + 2·11.56    = 29.4   z_h3 = 29.4
#   a_o  = 0·17.1 + 0·1 + 29.4·14.4 = 423.36
#   L = ½(6 − 423.36)² = ½·417.36² = ½·174189.3696 = 87094.6848
HOMEWORK_LOSS_AFTER = 87094.6848


def test_homework_forward() -> None:
    result = run("homework")
    for name, a in HOMEWORK_PRE.items():
        assert only(result.pre_activation(name)) == approx(a), name
    for name, z in HOMEWORK_POST.items():
        assert only(result.activation(name)) == approx(z), name
    assert only(result.outputs["o"]) == approx(1.6)
    assert result.loss == approx(9.68)
    assert result.warnings == ()  # no pre-activation sits on ReLU's kink


def test_homework_params_are_the_given_weights() -> None:
    result = run("homework")
    assert {n: value(v) for n, v in result.params.items()} == HOMEWORK_WEIGHTS


def test_homework_deltas() -> None:
    result = run("homework")
    for name, delta in HOMEWORK_DELTAS.items():
        assert only(result.delta(name)) == approx(delta), name


def test_homework_gradients() -> None:
    result = run("homework")
    gradients = {n: value(g) for n, g in result.gradients.items()}
    assert list(gradients) == list(HOMEWORK_GRADIENTS)  # every param, in spec order
    for name, expected in HOMEWORK_GRADIENTS.items():
        assert gradients[name] == approx(expected), name


def test_homework_input_gradients() -> None:
    # ∂L/∂x = Σ over the neurons x feeds of δ·w:
    #   ∂L/∂x1 = δ_h1·w1 + δ_h2·w3 + δ_h3·w5 = 2.2·2 + 0·1 + (−5.28)·1 = 4.4 − 5.28 = −0.88
    #   ∂L/∂x2 = δ_h1·w2 + δ_h2·w4 + δ_h3·w6 = 2.2·1 + 0·(−1) + (−5.28)·1 = −3.08
    result = run("homework")
    assert result.input_gradient is not None
    assert result.input_gradient.shape == (1, 2)
    assert result.input_gradient[0, 0] == approx(-0.88)
    assert result.input_gradient[0, 1] == approx(-3.08)


def test_homework_update_and_loss_after() -> None:
    result = run("homework")
    assert result.learning_rate == 1.0
    assert result.updated is not None
    updated = {n: value(w) for n, w in result.updated.items()}
    for name, expected in HOMEWORK_UPDATED.items():
        assert updated[name] == approx(expected), name
    assert result.loss_after == approx(HOMEWORK_LOSS_AFTER)


def test_homework_learning_rate_override() -> None:
    # lr = 0.1 instead of the spec's 1: w7 = −0.5 − 0.1·(−17.6) = 1.26, w1 = 2 − 0.1·2.2 = 1.78.
    # Forward again: a_h1 = 1.78 + 2·(1 − 0.44) = 2.9, a_h2 = −1 (w3, w4 have no gradient),
    # a_h3 = (1 + 0.528) + 2·(1 + 1.056) = 5.64, a_o = 2.9·1.26 + 5.64·(1.2 + 1.32) = 17.8668,
    # L = ½(6 − 17.8668)² = ½·11.8668² = 70.41047112.
    result = nncalc.backprop(nncalc.load_spec(EXAMPLES / "homework.yaml"), lr=0.1)
    assert result.updated is not None
    assert value(result.updated["w7"]) == approx(1.26)
    assert value(result.updated["w1"]) == approx(1.78)
    assert result.loss_after == approx(70.41047112)


def test_homework_data_shape() -> None:
    data = run("homework").to_data()
    assert data["loss"] == approx(9.68)
    assert data["gradients"]["w7"] == approx(-17.6)
    assert data["neurons"]["h3"]["delta"] == approx(-5.28)
    assert data["neurons"]["h2"]["pre_activation"] == approx(-1.0)
    assert data["input_gradients"] == {"x1": approx(-0.88), "x2": approx(-3.08)}
    assert data["updated"]["w9"] == approx(14.4)
    assert data["loss_after"] == approx(HOMEWORK_LOSS_AFTER)


# --- examples/mazur-sigmoid.yaml ---------------------------------------------------------------
#
# Matt Mazur, "A Step by Step Backpropagation Example": a 2-2-2 sigmoid net, ½ squared error,
# learning rate 0.5. His w1..w4 are W1 (w1 = i1→h1, w2 = i2→h1, w3 = i1→h2, w4 = i2→h2), his
# w5..w8 are W2 (w5 = h1→o1, w6 = h2→o1, w7 = h1→o2, w8 = h2→o2). He does not update the
# biases; nncalc does, and those numbers are derived below.

MAZUR_PUBLISHED = {  # value, half a unit of its last published digit
    "out_h1": (0.593269992, 5e-10),
    "out_h2": (0.596884378, 5e-10),
    "out_o1": (0.75136507, 5e-9),
    "out_o2": (0.772928465, 5e-10),
    "E_total": (0.298371109, 5e-10),
    "dE/dw5": (0.082167041, 5e-10),
    "dE/dw1": (0.000438568, 5e-10),
    "w5+": (0.35891648, 5e-9),
    "w6+": (0.408666186, 5e-10),
    "w7+": (0.511301270, 5e-10),
    "w8+": (0.561370121, 5e-10),
    "w1+": (0.149780716, 5e-10),
    "w2+": (0.19956143, 5e-9),
    "w3+": (0.24975114, 5e-9),
    "w4+": (0.29950229, 5e-9),
}


class Mazur:
    """The whole exercise recomputed on scalars."""

    i = (0.05, 0.10)
    w1: ClassVar[Matrix] = [[0.15, 0.20], [0.25, 0.30]]
    b1: ClassVar[Vector] = [0.35, 0.35]
    w2: ClassVar[Matrix] = [[0.40, 0.45], [0.50, 0.55]]
    b2: ClassVar[Vector] = [0.60, 0.60]
    y = (0.01, 0.99)
    lr = 0.5

    def __init__(self) -> None:
        self.a_h, self.z_h, self.a_o, self.z_o, self.loss = self.forward(
            self.w1, self.b1, self.w2, self.b2
        )
        # δ_o = (ŷ − y)·σ'(a_o) = (z_o − y)·z_o·(1 − z_o)
        self.d_o = [(z - y) * z * (1 - z) for z, y in zip(self.z_o, self.y, strict=True)]
        # δ_h = (Σ_k δ_o[k]·W2[k][j])·z_h·(1 − z_h), with the weights before the update
        self.d_h = [
            sum(self.d_o[k] * self.w2[k][j] for k in range(2)) * z * (1 - z)
            for j, z in enumerate(self.z_h)
        ]
        self.g_w2 = [[self.d_o[k] * self.z_h[j] for j in range(2)] for k in range(2)]
        self.g_b2 = list(self.d_o)
        self.g_w1 = [[self.d_h[j] * self.i[n] for n in range(2)] for j in range(2)]
        self.g_b1 = list(self.d_h)
        self.g_x = [sum(self.d_h[j] * self.w1[j][n] for j in range(2)) for n in range(2)]
        self.new_w1 = step(self.w1, self.g_w1, self.lr)
        self.new_b1 = [b - self.lr * g for b, g in zip(self.b1, self.g_b1, strict=True)]
        self.new_w2 = step(self.w2, self.g_w2, self.lr)
        self.new_b2 = [b - self.lr * g for b, g in zip(self.b2, self.g_b2, strict=True)]
        self.loss_after = self.forward(self.new_w1, self.new_b1, self.new_w2, self.new_b2)[4]

    def forward(
        self, w1: Matrix, b1: Vector, w2: Matrix, b2: Vector
    ) -> tuple[Vector, Vector, Vector, Vector, float]:
        a_h = [w1[j][0] * self.i[0] + w1[j][1] * self.i[1] + b1[j] for j in range(2)]
        z_h = [sigmoid(a) for a in a_h]
        a_o = [w2[k][0] * z_h[0] + w2[k][1] * z_h[1] + b2[k] for k in range(2)]
        z_o = [sigmoid(a) for a in a_o]
        loss = sum(0.5 * (y - z) ** 2 for y, z in zip(self.y, z_o, strict=True))
        return a_h, z_h, a_o, z_o, loss


def step(w: Matrix, g: Matrix, lr: float) -> Matrix:
    return [
        [wij - lr * gij for wij, gij in zip(wr, gr, strict=True)]
        for wr, gr in zip(w, g, strict=True)
    ]


def test_mazur_published_values() -> None:
    result = run("mazur-sigmoid")
    assert result.updated is not None
    new_w1, new_w2 = result.updated["W1"], result.updated["W2"]
    assert isinstance(new_w1, np.ndarray)
    assert isinstance(new_w2, np.ndarray)
    grad_w1, grad_w2 = result.gradients["W1"], result.gradients["W2"]
    assert isinstance(grad_w1, np.ndarray)
    assert isinstance(grad_w2, np.ndarray)
    got = {
        "out_h1": only(result.activation("h1")),
        "out_h2": only(result.activation("h2")),
        "out_o1": only(result.outputs["o1"]),
        "out_o2": only(result.outputs["o2"]),
        "E_total": result.loss,
        "dE/dw5": grad_w2[0, 0],
        "dE/dw1": grad_w1[0, 0],
        "w5+": new_w2[0, 0],
        "w6+": new_w2[0, 1],
        "w7+": new_w2[1, 0],
        "w8+": new_w2[1, 1],
        "w1+": new_w1[0, 0],
        "w2+": new_w1[0, 1],
        "w3+": new_w1[1, 0],
        "w4+": new_w1[1, 1],
    }
    for key, (published, tolerance) in MAZUR_PUBLISHED.items():
        assert abs(float(got[key]) - published) <= tolerance, (key, got[key], published)


def test_mazur_forward_and_loss() -> None:
    m, result = Mazur(), run("mazur-sigmoid")
    # a_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775 (Mazur's net_h1)
    assert only(result.pre_activation("h1")) == approx(0.3775)
    for j, name in enumerate(("h1", "h2")):
        assert only(result.pre_activation(name)) == approx(m.a_h[j])
        assert only(result.activation(name)) == approx(m.z_h[j])
    for k, name in enumerate(("o1", "o2")):
        assert only(result.pre_activation(name)) == approx(m.a_o[k])
        assert only(result.outputs[name]) == approx(m.z_o[k])
    assert result.loss == approx(m.loss)


def test_mazur_deltas_and_gradients() -> None:
    m, result = Mazur(), run("mazur-sigmoid")
    for name, delta in zip(("h1", "h2", "o1", "o2"), [*m.d_h, *m.d_o], strict=True):
        assert only(result.delta(name)) == approx(delta), name
    # Mazur: δ_o1 = 0.74136507·0.186815602 = 0.138498562
    assert only(result.delta("o1")) == pytest.approx(0.138498562, abs=5e-10)
    expected: dict[str, Matrix | Vector] = {"W1": m.g_w1, "b1": m.g_b1, "W2": m.g_w2, "b2": m.g_b2}
    assert list(result.gradients) == list(expected)
    for name, grad in expected.items():
        np.testing.assert_allclose(result.gradients[name], grad, rtol=1e-12, atol=1e-15)
    assert result.input_gradient is not None
    np.testing.assert_allclose(result.input_gradient, [m.g_x], rtol=1e-12, atol=1e-15)


def test_mazur_update_and_loss_after() -> None:
    m, result = Mazur(), run("mazur-sigmoid")
    assert result.learning_rate == 0.5
    assert result.updated is not None
    expected: dict[str, Matrix | Vector] = {
        "W1": m.new_w1,
        "b1": m.new_b1,
        "W2": m.new_w2,
        "b2": m.new_b2,
    }
    for name, new in expected.items():
        np.testing.assert_allclose(result.updated[name], new, rtol=1e-12, atol=1e-15)
    assert result.loss_after == approx(m.loss_after)
    assert result.loss_after is not None and result.loss_after < result.loss


# --- examples/skip-shared.yaml -------------------------------------------------------------------
#
# x1 = 0.5, x2 = −1;  v = 0.8, u1 = −0.3, u2 = 0.6, s = 0.25, c = 0.1, k = 1.5 (frozen)
#   h1 = tanh(x1·v + x2·u1 + c)                          a_h1 = 0.4 + 0.3 + 0.1 = 0.8
#   h2 = leaky_relu_0.1(x1·u2 + x2·v − 0.2)              a_h2 = 0.3 − 0.8 − 0.2 = −0.7
#   o  = σ(h1·k + h2·0.7 + x1·s)                         (x1 → o skips the hidden layer)
#   L  = binary cross-entropy with y = 1: −ln ŷ; learning rate 0.5


class SkipShared:
    x1, x2 = 0.5, -1.0
    params: ClassVar[dict[str, float]] = {
        "v": 0.8,
        "u1": -0.3,
        "u2": 0.6,
        "s": 0.25,
        "c": 0.1,
        "k": 1.5,
    }
    lr = 0.5

    def __init__(self) -> None:
        p = self.params
        self.a_h1, self.a_h2, self.a_o, self.loss = self.forward(p)
        self.z_h1 = math.tanh(self.a_h1)
        self.z_h2 = 0.1 * self.a_h2  # a_h2 < 0
        self.z_o = sigmoid(self.a_o)
        # BCE with y = 1 through a sigmoid: ∂L/∂a_o = ŷ − y
        self.d_o = self.z_o - 1.0
        self.d_h1 = self.d_o * p["k"] * (1.0 - self.z_h1**2)
        self.d_h2 = self.d_o * 0.7 * 0.1  # leaky_relu'(a < 0) = alpha = 0.1
        self.gradients = {
            "v": self.d_h1 * self.x1 + self.d_h2 * self.x2,  # v is used by x1→h1 and x2→h2
            "u1": self.d_h1 * self.x2,
            "u2": self.d_h2 * self.x1,
            "s": self.d_o * self.x1,
            "c": self.d_h1,
            "k": self.d_o * self.z_h1,
        }
        self.input_gradients = (
            self.d_h1 * p["v"] + self.d_h2 * p["u2"] + self.d_o * p["s"],
            self.d_h1 * p["u1"] + self.d_h2 * p["v"],
        )
        self.updated = {n: w if n == "k" else w - self.lr * self.gradients[n] for n, w in p.items()}
        self.loss_after = self.forward(self.updated)[3]

    def forward(self, p: dict[str, float]) -> tuple[float, float, float, float]:
        a_h1 = self.x1 * p["v"] + self.x2 * p["u1"] + p["c"]
        a_h2 = self.x1 * p["u2"] + self.x2 * p["v"] - 0.2
        z_h2 = a_h2 if a_h2 > 0 else 0.1 * a_h2
        a_o = math.tanh(a_h1) * p["k"] + z_h2 * 0.7 + self.x1 * p["s"]
        return a_h1, a_h2, a_o, -math.log(sigmoid(a_o))


def test_skip_shared_forward() -> None:
    m, result = SkipShared(), run("skip-shared")
    assert m.a_h1 == pytest.approx(0.8) and m.a_h2 == pytest.approx(-0.7)  # the hand sums
    assert only(result.pre_activation("h1")) == approx(m.a_h1)
    assert only(result.pre_activation("h2")) == approx(m.a_h2)
    assert only(result.activation("h1")) == approx(m.z_h1)
    assert only(result.activation("h2")) == approx(-0.07)
    assert only(result.pre_activation("o")) == approx(m.a_o)
    assert only(result.outputs["o"]) == approx(m.z_o)
    assert result.loss == approx(m.loss)
    assert result.warnings == ()


def test_skip_shared_deltas() -> None:
    m, result = SkipShared(), run("skip-shared")
    assert only(result.delta("o")) == approx(m.d_o)
    assert only(result.delta("h1")) == approx(m.d_h1)
    assert only(result.delta("h2")) == approx(m.d_h2)


def test_skip_shared_gradients_sum_over_uses_of_v() -> None:
    m, result = SkipShared(), run("skip-shared")
    gradients = {n: value(g) for n, g in result.gradients.items()}
    assert set(gradients) == set(m.gradients)
    for name, expected in m.gradients.items():
        assert gradients[name] == approx(expected), name
    # v's gradient is the sum of its two uses, neither of which alone matches
    assert gradients["v"] != approx(m.d_h1 * m.x1)
    assert gradients["v"] != approx(m.d_h2 * m.x2)


def test_skip_shared_input_gradients() -> None:
    m, result = SkipShared(), run("skip-shared")
    assert result.input_gradient is not None
    np.testing.assert_allclose(result.input_gradient, [m.input_gradients], rtol=1e-12, atol=1e-15)


def test_skip_shared_frozen_k_update_and_loss_after() -> None:
    m, result = SkipShared(), run("skip-shared")
    assert result.updated is not None
    updated = {n: value(w) for n, w in result.updated.items()}
    assert updated["k"] == 1.5  # frozen: unchanged …
    assert value(result.gradients["k"]) == approx(m.gradients["k"])  # … its gradient reported
    assert value(result.gradients["k"]) != 0.0
    for name, expected in m.updated.items():
        assert updated[name] == approx(expected), name
    assert result.loss_after == approx(m.loss_after)
    data = result.to_data()
    assert data["frozen"] == ["k"]
    assert data["updated"]["k"] == 1.5


# --- examples/softmax-classifier.yaml --------------------------------------------------------
#
# A 2-3-3 net, tanh hidden layer, softmax output, cross-entropy, a batch of three samples with
# mean reduction, learning rate 0.1; re-implemented below with scalar loops.

SM_W1: Matrix = [[0.5, -0.4], [0.3, 0.8], [-0.6, 0.1]]
SM_B1: Vector = [0.1, -0.1, 0.0]
SM_W2: Matrix = [[1.0, -0.5, 0.2], [-0.3, 0.7, 0.4], [0.2, 0.1, -0.9]]
SM_B2: Vector = [0.0, 0.1, -0.1]
SM_DATA: list[tuple[Vector, Vector]] = [
    ([1.0, 0.5], [1.0, 0.0, 0.0]),
    ([-0.5, 1.5], [0.0, 1.0, 0.0]),
    ([0.2, -1.0], [0.0, 0.0, 1.0]),
]
SM_LR = 0.1


def dense(w: Sequence[Sequence[float]], b: Sequence[float], x: Sequence[float]) -> Vector:
    return [sum(w[i][j] * x[j] for j in range(len(x))) + b[i] for i in range(len(w))]


def softmax(a: Sequence[float]) -> Vector:
    top = max(a)
    e = [math.exp(ai - top) for ai in a]
    total = sum(e)
    return [ei / total for ei in e]


def sm_forward(w1: Matrix, b1: Vector, w2: Matrix, b2: Vector, x: Vector) -> tuple[Vector, ...]:
    a1 = dense(w1, b1, x)
    z1 = [math.tanh(a) for a in a1]
    a2 = dense(w2, b2, z1)
    return a1, z1, a2, softmax(a2)


def sm_loss(w1: Matrix, b1: Vector, w2: Matrix, b2: Vector) -> float:
    total = 0.0
    for x, y in SM_DATA:
        p = sm_forward(w1, b1, w2, b2, x)[3]
        total += -sum(yi * math.log(pi) for yi, pi in zip(y, p, strict=True))
    return total / len(SM_DATA)


class SoftmaxClassifier:
    def __init__(self) -> None:
        n = len(SM_DATA)
        self.loss = sm_loss(SM_W1, SM_B1, SM_W2, SM_B2)
        self.g_w1 = [[0.0] * 2 for _ in range(3)]
        self.g_b1 = [0.0] * 3
        self.g_w2 = [[0.0] * 3 for _ in range(3)]
        self.g_b2 = [0.0] * 3
        self.probabilities: list[Vector] = []
        self.hidden: list[Vector] = []
        self.d_out: list[Vector] = []
        self.d_hidden: list[Vector] = []
        self.g_x: list[Vector] = []
        for x, y in SM_DATA:
            _, z1, _, p = sm_forward(SM_W1, SM_B1, SM_W2, SM_B2, x)
            self.probabilities.append(p)
            self.hidden.append(z1)
            # softmax then −Σ y ln p: ∂L/∂a2_i = p_i·Σ_k y_k − y_i, over n samples (mean)
            d2 = [(p[i] * sum(y) - y[i]) / n for i in range(3)]
            d1 = [sum(d2[i] * SM_W2[i][j] for i in range(3)) * (1 - z1[j] ** 2) for j in range(3)]
            self.d_out.append(d2)
            self.d_hidden.append(d1)
            self.g_x.append([sum(d1[j] * SM_W1[j][k] for j in range(3)) for k in range(2)])
            for i in range(3):
                self.g_b2[i] += d2[i]
                for j in range(3):
                    self.g_w2[i][j] += d2[i] * z1[j]
            for j in range(3):
                self.g_b1[j] += d1[j]
                for k in range(2):
                    self.g_w1[j][k] += d1[j] * x[k]
        self.new_w1 = step(SM_W1, self.g_w1, SM_LR)
        self.new_b1 = [b - SM_LR * g for b, g in zip(SM_B1, self.g_b1, strict=True)]
        self.new_w2 = step(SM_W2, self.g_w2, SM_LR)
        self.new_b2 = [b - SM_LR * g for b, g in zip(SM_B2, self.g_b2, strict=True)]
        self.loss_after = sm_loss(self.new_w1, self.new_b1, self.new_w2, self.new_b2)


def test_softmax_classifier_loss_and_probabilities() -> None:
    m, result = SoftmaxClassifier(), run("softmax-classifier")
    assert result.loss == approx(m.loss)
    for i, name in enumerate(("cat", "dog", "bird")):
        np.testing.assert_allclose(
            result.outputs[name], [p[i] for p in m.probabilities], rtol=1e-12, atol=1e-15
        )
    for j, name in enumerate(("h1_1", "h1_2", "h1_3")):
        np.testing.assert_allclose(
            result.activation(name), [z[j] for z in m.hidden], rtol=1e-12, atol=1e-15
        )
    # cross_entropy reads probabilities already, so nothing is reported separately
    assert result.probabilities is None
    assert result.warnings == ()


def test_softmax_classifier_deltas() -> None:
    m, result = SoftmaxClassifier(), run("softmax-classifier")
    for i, name in enumerate(("cat", "dog", "bird")):
        np.testing.assert_allclose(
            result.delta(name), [d[i] for d in m.d_out], rtol=1e-10, atol=1e-15
        )
    for j, name in enumerate(("h1_1", "h1_2", "h1_3")):
        np.testing.assert_allclose(
            result.delta(name), [d[j] for d in m.d_hidden], rtol=1e-10, atol=1e-15
        )


def test_softmax_classifier_gradients() -> None:
    m, result = SoftmaxClassifier(), run("softmax-classifier")
    expected: dict[str, Matrix | Vector] = {"W1": m.g_w1, "b1": m.g_b1, "W2": m.g_w2, "b2": m.g_b2}
    assert list(result.gradients) == list(expected)
    for name, grad in expected.items():
        np.testing.assert_allclose(result.gradients[name], grad, rtol=1e-10, atol=1e-15)
    assert result.input_gradient is not None
    np.testing.assert_allclose(result.input_gradient, m.g_x, rtol=1e-10, atol=1e-15)


def test_softmax_classifier_update_and_loss_after() -> None:
    m, result = SoftmaxClassifier(), run("softmax-classifier")
    assert result.updated is not None
    expected: dict[str, Matrix | Vector] = {
        "W1": m.new_w1,
        "b1": m.new_b1,
        "W2": m.new_w2,
        "b2": m.new_b2,
    }
    for name, new in expected.items():
        np.testing.assert_allclose(result.updated[name], new, rtol=1e-12, atol=1e-15)
    assert result.loss_after == approx(m.loss_after, rel=1e-11)
