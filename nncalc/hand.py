"""Backprop the way it is done by hand: one number at a time, unit by unit, in a chosen arithmetic.

The numpy engine is fast; this is the same mathematics written the way a student writes it, over a
number type that can be exact (fractions, `--exact`), decimals rounded at every written-down step
(`--round N`, exam arithmetic) or plain floats. It records every intermediate a derivation cites:
a, z, f'(a), ∂L/∂z, δ, ∂L/∂ŷ, gradients and updates.

Two more things only hand arithmetic needs:
- `Rules` change how a step is done, so `check` can recompute an exercise the way a common mistake
  does it (ReLU'(a) = 1 for a dead unit, the ½ dropped, the update added, …).
- `overrides` put a student's own numbers in place of computed ones, so that a later answer can be
  judged given the earlier ones (error carried forward).

Its results for floats equal the numpy engine's (a test holds them to 1e-12): two witnesses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np

from . import activations, engine, losses
from .activations import Activation
from .errors import Problem, SpecError
from .network import Dense, Network
from .results import BackpropResult, to_float
from .spec import Spec

Num: TypeAlias = Any  # float, or Fraction in exact and exam arithmetic

RATIONAL_ACTIVATIONS = tuple(name for name, cls in activations.REGISTRY.items() if cls.rational)
RATIONAL_LOSSES = tuple(name for name, cls in losses.REGISTRY.items() if cls.rational)

Mode = Literal["float", "exact", "round"]

# --- arithmetic ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arithmetic:
    """How numbers are held: floats; exact fractions; or fractions rounded to `decimals` places at
    every written-down step (half away from zero, as a calculator rounds)."""

    mode: Mode = "float"
    decimals: int | None = None
    fractions: Mapping[float, Fraction] = field(default_factory=dict)  # values written 'p/q'

    def number(self, value: float) -> Num:
        """A number from the spec, read as written: 0.1 is 1/10, '1/3' is 1/3."""
        if self.mode == "float":
            return float(value)
        written = self.fractions.get(value)
        return written if written is not None else Fraction(repr(float(value)))

    def from_float(self, value: float, *, settle: bool = True) -> Num:
        """A value only floats can compute (e^a): exact arithmetic never asks for one. It is
        rounded as written down unless `settle` is off (a step that goes on computing)."""
        if self.mode == "float":
            return float(value)
        if self.mode == "exact":
            raise AssertionError("exact arithmetic met a value only floats can compute")
        if not math.isfinite(value):
            return value
        return self.settle(Fraction(value)) if settle else Fraction(value)

    def settle(self, value: Num) -> Num:
        """A quantity as written down: rounded to `decimals` places in exam arithmetic."""
        if self.mode != "round" or not isinstance(value, Fraction):
            return value
        return round_half_away(value, self.decimals or 0)

    @property
    def zero(self) -> Num:
        return 0.0 if self.mode == "float" else Fraction(0)

    @property
    def one(self) -> Num:
        return 1.0 if self.mode == "float" else Fraction(1)


def round_half_away(value: Fraction, decimals: int) -> Fraction:
    """value rounded to `decimals` places, halves away from zero: 0.125 → 0.13, −0.125 → −0.13."""
    scale = 10**decimals
    scaled = abs(value) * scale
    whole = math.floor(scaled + Fraction(1, 2))
    return Fraction(whole if value >= 0 else -whole, scale)


def refuse_inexact(spec: Spec) -> None:
    """Exact arithmetic needs rational functions: name the first that is not, where it is used."""
    net = engine.network_of(spec)
    bad = [
        (act.name, level.names[units.start])
        for level in net.levels
        for act, units in level.groups
        if not act.rational
    ]
    problems: list[str] = []
    if bad:
        name, neuron = bad[0]
        problems.append(
            f"--exact needs piecewise-linear activations, but {neuron} uses {name}, whose "
            f"values are irrational; exact arithmetic allows {', '.join(RATIONAL_ACTIVATIONS)} "
            "(use --round N for exam arithmetic with any activation)"
        )
    if not spec.loss.rational:
        problems.append(
            f"--exact needs a polynomial or piecewise-linear loss, but the loss is "
            f"{spec.loss.name}; exact arithmetic allows {', '.join(RATIONAL_LOSSES)}"
        )
    if problems:
        raise SpecError([Problem(spec.source, 0, 0, p) for p in problems])


# --- how each step is done (the mistakes `check` tries change these) -------------------------


def correct_derivative(act: Activation, a: Num, z: Num, arith: Arithmetic) -> Num:
    """f'(a) for an elementwise activation."""
    name = act.name
    if name == "identity":
        return arith.one
    if name == "relu":
        return arith.one if a > 0 else arith.zero
    if name == "leaky_relu":
        return arith.one if a > 0 else arith.number(act.params["alpha"])
    if name in ("sign", "step"):
        return arith.zero
    if name in ("sigmoid", "tanh") and arith.mode == "round":
        # In terms of z, so exam arithmetic works on the rounded z exactly. In floats the
        # activation's own formula keeps its digits where z(1 − z) and 1 − z² round to 0.
        return z * (1 - z) if name == "sigmoid" else 1 - z * z
    cell = np.array([[to_float(a)]])
    return arith.from_float(float(act.derivative(cell, np.array([[to_float(z)]]))[0, 0]))


def value_of(act: Activation, a: Num, arith: Arithmetic) -> Num:
    """f(a) for an elementwise activation."""
    name = act.name
    if name == "identity":
        return a
    if name == "relu":
        return a if a > 0 else arith.zero
    if name == "leaky_relu":
        return a if a > 0 else arith.number(act.params["alpha"]) * a
    if name == "sign":
        return arith.one if a > 0 else -arith.one if a < 0 else arith.zero
    if name == "step":
        return arith.one if a >= 0 else arith.zero
    return arith.from_float(float(act.value(np.array([[to_float(a)]]))[0, 0]))


Derivative = Callable[[Activation, Num, Num, Arithmetic], Num]


@dataclass(frozen=True)
class Rules:
    """How each step of backprop is done; the defaults are the correct ones."""

    derivative: Derivative = correct_derivative
    loss_factor: Num = 1  # scales L and ∂L/∂ŷ (a dropped ½: 2)
    gradient_factor: Num = 1  # scales ∂L/∂ŷ only (a flipped sign: −1)
    backward_with_updated: bool = False  # δ sent back through already-updated weights
    source_pre: bool = False  # ∂L/∂w = δ·a_source (the pre-activation) instead of δ·z_source
    update: Callable[[Num, Num, Num], Num] = lambda w, g, lr: w - lr * g


CORRECT = Rules()

# --- the unit-level view of a network ---------------------------------------------------------


class Edge(NamedTuple):
    source: tuple[int, int]  # (level, unit); level 0 is the inputs
    weight: int | float  # θ index (int), or a constant (float)


class Unit(NamedTuple):
    edges: tuple[Edge, ...]
    bias: int | float | None  # θ index, constant, or no bias


def units_of(net: Network, spec: Spec) -> list[list[Unit]]:
    """Every unit's incoming edges and bias, level by level (levels counted from 1)."""
    # A named level adds a bias to every unit when any has one; the spec says which do.
    biased = {n.name for n in spec.neurons if n.bias is not None}
    out: list[list[Unit]] = []
    for level in net.levels:
        affine = level.affine
        if isinstance(affine, Dense):
            rows, cols = affine.weight.shape
            units = [
                Unit(
                    edges=tuple(
                        Edge((affine.source, i), affine.weight.offset + j * cols + i)
                        for i in range(cols)
                    ),
                    bias=None if affine.bias is None else affine.bias.offset + j,
                )
                for j in range(rows)
            ]
        else:
            source = [(0, 0)] * len(affine.dest)
            for lvl, cols_arr, edges in affine.gathers:
                for col, e in zip(cols_arr.tolist(), edges.tolist(), strict=True):
                    source[e] = (lvl, col)
            bounds = [*affine.starts.tolist(), len(affine.dest)]

            def weight(index: int, const: float) -> int | float:
                return index if index >= 0 else float(const)

            units = [
                Unit(
                    edges=tuple(
                        Edge(
                            source[e],
                            weight(int(affine.weight_index[e]), affine.weight_const[e]),
                        )
                        for e in range(bounds[j], bounds[j + 1])
                    ),
                    bias=weight(int(affine.bias_index[j]), affine.bias_const[j])
                    if level.names[j] in biased
                    else None,
                )
                for j in range(affine.size)
            ]
        out.append(units)
    return out


# --- the computation --------------------------------------------------------------------------

Quantity = tuple[Any, ...]  # ("pre" | "act" | "delta", (level, unit), sample), ("loss",), …


@dataclass
class Trace:
    """Every number of one backprop step, [sample][level][unit] (level 0 of `post` is inputs)."""

    arithmetic: Arithmetic
    theta: list[Num]
    pre: list[list[list[Num]]] = field(default_factory=list)
    post: list[list[list[Num]]] = field(default_factory=list)
    slope: list[list[list[Num | None]]] = field(default_factory=list)  # f'(a); None: softmax
    dL_dz: list[list[list[Num]]] = field(default_factory=list)
    delta: list[list[list[Num]]] = field(default_factory=list)
    dL_dyhat: list[list[Num]] = field(default_factory=list)  # [sample][output]
    # [sample][output]: ∂L/∂a of the outputs, when the loss is computed through their function
    dL_da: list[list[Num]] | None = None
    yhat: list[list[Num]] = field(default_factory=list)
    sample_losses: list[Num] = field(default_factory=list)
    loss: Num = 0
    gradient: list[Num] = field(default_factory=list)
    learning_rate: Num | None = None
    updated: list[Num] | None = None
    loss_after: Num | None = None


class Hand:
    """One spec's network, ready to be worked by hand in a given arithmetic."""

    def __init__(self, spec: Spec, arithmetic: Arithmetic | None = None) -> None:
        self.spec = spec
        self.net = engine.network_of(spec)
        self.units = units_of(self.net, spec)
        self.arith = arithmetic or Arithmetic(fractions=spec.fractions)
        if self.arith.mode == "exact":
            refuse_inexact(spec)
        self.activation_of = [
            [act for act, units in level.groups for _ in range(units.start, units.stop)]
            for level in self.net.levels
        ]
        self.frozen = ~self.net.trainable
        # In floats the loss on probabilities of sigmoid or softmax outputs is computed from
        # their pre-activations, as the engine does (where ŷ rounds to 1, ∂L/∂ŷ·σ′(a) is inf·0
        # but δ = σ(a) − y is not).
        self.link = engine.link_of(self.net, spec.loss)

    # --- entry point ----------------------------------------------------------------------

    def backprop(
        self,
        lr: float | None = None,
        rules: Rules = CORRECT,
        overrides: Mapping[Quantity, Num] | None = None,
    ) -> Trace:
        a = self.arith
        spec = self.spec
        rate = spec.learning_rate if lr is None else lr
        theta = [a.number(v) for v in self.net.theta.tolist()]
        trace = Trace(arithmetic=a, theta=theta)
        trace.learning_rate = None if rate is None else a.number(rate)
        over = overrides or {}
        with np.errstate(all="ignore"):  # silent, like the engine: results name non-finite values
            self._work(trace, theta, rules, over)
        return trace

    def _work(
        self, trace: Trace, theta: list[Num], rules: Rules, over: Mapping[Quantity, Num]
    ) -> None:
        a = self.arith
        self._forward(trace, theta, rules, over)
        self._backward(trace, rules, over)
        if trace.learning_rate is not None:
            trace.updated = self._update(trace, rules, over)
            after = Trace(arithmetic=a, theta=trace.updated)
            self._forward(after, trace.updated, CORRECT, {})
            trace.loss_after = after.loss

    # --- forward --------------------------------------------------------------------------

    def _forward(
        self, trace: Trace, theta: list[Num], rules: Rules, over: Mapping[Quantity, Num]
    ) -> None:
        a, spec = self.arith, self.spec
        settle = a.settle

        def param(w: int | float) -> Num:
            return theta[w] if isinstance(w, int) else a.number(w)

        for s in range(spec.batch_size):
            post: list[list[Num]] = [[a.number(x) for x in spec.inputs[s].tolist()]]
            pre: list[list[Num]] = []
            slope: list[list[Num | None]] = []
            for k, units in enumerate(self.units, start=1):
                level_pre: list[Num] = []
                for j, unit in enumerate(units):
                    total = sum(
                        (post[e.source[0]][e.source[1]] * param(e.weight) for e in unit.edges),
                        a.zero,
                    )
                    if unit.bias is not None:
                        total += param(unit.bias)
                    level_pre.append(over.get(("pre", (k, j), s), settle(total)))
                z, d = self._activate(k, level_pre, rules)
                z = [over.get(("act", (k, j), s), v) for j, v in enumerate(z)]
                pre.append(level_pre)
                post.append(z)
                slope.append(d)
            trace.pre.append(pre)
            trace.post.append(post)
            trace.slope.append(slope)
            trace.yhat.append([post[k][j] for k, j in self.net.outputs])
        targets = spec.targets
        through = self.link is not None and a.mode == "float" and rules is CORRECT and not over
        if through:
            trace.dL_da = []
        for s, yhat in enumerate(trace.yhat):
            y = [a.number(t) for t in targets[s].tolist()] if targets is not None else None
            value, grad = self._loss(yhat, y)
            if trace.dL_da is not None:
                value, dL_da = self._loss_through(trace.pre[s], y)
                batch_factor = a.one / spec.batch_size if spec.reduction == "mean" else a.one
                trace.dL_da.append([settle(g * batch_factor) for g in dL_da])
            value = over.get(("sample_loss", s), settle(value * rules.loss_factor))
            trace.sample_losses.append(value)
            scale = rules.loss_factor * rules.gradient_factor
            if spec.reduction == "mean" and spec.batch_size > 1:
                scale = scale / a.number(spec.batch_size)
            trace.dL_dyhat.append([settle(g * scale) for g in grad])
            if trace.dL_da is not None and self.link == "sigmoid":
                # ∂L/∂ŷ = (∂L/∂a)/σ′(a): the same number, kept where 1 − ŷ has rounded away
                for i, (k, j) in enumerate(self.net.outputs):
                    derivative = trace.slope[s][k - 1][j]
                    if derivative:
                        trace.dL_dyhat[s][i] = trace.dL_da[s][i] / derivative
        total = sum(trace.sample_losses, a.zero)
        if spec.reduction == "mean":
            total = total / a.number(spec.batch_size)
        trace.loss = over.get(("loss",), settle(total))

    def _activate(self, k: int, pre: list[Num], rules: Rules) -> tuple[list[Num], list[Num | None]]:
        a = self.arith
        z: list[Num] = [None] * len(pre)
        slope: list[Num | None] = [None] * len(pre)
        for act, units in self.net.levels[k - 1].groups:
            if act.elementwise:
                for j in range(units.start, units.stop):
                    z[j] = a.settle(value_of(act, pre[j], a))
                    slope[j] = a.settle(rules.derivative(act, pre[j], z[j], a))
            else:  # softmax over the group
                values = act.value(np.array([[to_float(v) for v in pre[units]]]))[0].tolist()
                z[units] = [a.from_float(v) for v in values]
        return z, slope

    def _loss(self, yhat: list[Num], y: list[Num] | None) -> tuple[Num, list[Num]]:
        """One sample's loss and ∂L/∂ŷ, written out for the rational losses."""
        a, name = self.arith, self.spec.loss.name
        n = a.number(len(yhat))
        y = y if y is not None else [a.zero] * len(yhat)
        diff = [t - p for t, p in zip(y, yhat, strict=True)]  # y − ŷ
        if name == "half_squared_error":
            return sum((d * d for d in diff), a.zero) / 2, [-d for d in diff]
        if name == "squared_error":
            return sum((d * d for d in diff), a.zero), [-2 * d for d in diff]
        if name == "mse":
            return sum((d * d for d in diff), a.zero) / n, [-2 * d / n for d in diff]
        if name == "mae":
            sign = [a.one if d < 0 else -a.one if d > 0 else a.zero for d in diff]
            return sum((abs(d) for d in diff), a.zero) / n, [g / n for g in sign]
        if name == "output":
            return sum(yhat, a.zero), [a.one for _ in yhat]
        row = np.array([[to_float(v) for v in yhat]])
        target = np.array([[to_float(v) for v in y]])
        loss = self.spec.loss
        value = float(loss.value(row, target)[0])
        grad = loss.gradient(row, target)[0].tolist()
        # Not rounded here: the caller rounds once, after any factor.
        return a.from_float(value, settle=False), [a.from_float(g, settle=False) for g in grad]

    def _loss_through(self, pre: list[list[Num]], y: list[Num] | None) -> tuple[Num, list[Num]]:
        """One sample's loss and ∂L/∂a of the outputs, from their pre-activations (floats)."""
        assert self.link is not None and y is not None  # losses on probabilities have targets
        a_out = np.array([[to_float(pre[k - 1][j]) for k, j in self.net.outputs]])
        target = np.array([[to_float(v) for v in y]])
        loss, arith = self.spec.loss, self.arith
        value = float(loss.value_through(self.link, a_out, target)[0])
        dL_da = loss.gradient_through(self.link, a_out, target)[0].tolist()
        return arith.from_float(value, settle=False), [arith.from_float(g) for g in dL_da]

    # --- backward -------------------------------------------------------------------------

    def _backward(self, trace: Trace, rules: Rules, over: Mapping[Quantity, Num]) -> None:
        a, net = self.arith, self.net
        settle = a.settle
        batch = self.spec.batch_size
        theta = trace.theta
        grad: list[Num] = [a.zero] * len(theta)
        dL_dz = [[[a.zero] * len(level) for level in trace.post[s]] for s in range(batch)]
        # Through the outputs' function the loss gives its share of δ itself (trace.dL_da), and
        # ∂L/∂ŷ joins ∂L/∂z only as written down, once every δ is known.
        if trace.dL_da is None:
            self._add_outputs(dL_dz, trace.dL_dyhat)
        deltas: list[list[list[Num]]] = [
            [[a.zero] * len(units) for units in self.units] for _ in range(batch)
        ]
        lr = trace.learning_rate if trace.learning_rate is not None else a.zero
        for k in range(len(self.units), 0, -1):
            units = self.units[k - 1]
            for s in range(batch):
                deltas[s][k - 1] = [
                    over.get(("delta", (k, j), s), d)
                    for j, d in enumerate(self._deltas(trace, s, k, dL_dz[s][k]))
                ]
                if trace.dL_da is not None:
                    for i, (level, j) in enumerate(net.outputs):
                        if level == k:
                            deltas[s][k - 1][j] = settle(deltas[s][k - 1][j] + trace.dL_da[s][i])
            for j, unit in enumerate(units):
                for e in unit.edges:
                    if isinstance(e.weight, int):
                        grad[e.weight] += sum(
                            (deltas[s][k - 1][j] * self._source(trace, s, e.source, rules))
                            for s in range(batch)
                        )
                if isinstance(unit.bias, int):
                    grad[unit.bias] += sum(deltas[s][k - 1][j] for s in range(batch))
            for j, unit in enumerate(units):
                for e in unit.edges:
                    w = theta[e.weight] if isinstance(e.weight, int) else a.number(e.weight)
                    if rules.backward_with_updated and isinstance(e.weight, int):
                        w = rules.update(w, settle(grad[e.weight]), lr)
                    for s in range(batch):
                        dL_dz[s][e.source[0]][e.source[1]] += w * deltas[s][k - 1][j]
        if trace.dL_da is not None:
            self._add_outputs(dL_dz, trace.dL_dyhat)
        trace.dL_dz = [[[settle(v) for v in level] for level in sample] for sample in dL_dz]
        trace.delta = deltas
        trace.gradient = [over.get(("grad", i), settle(g)) for i, g in enumerate(grad)]

    def _add_outputs(self, dL_dz: list[list[list[Num]]], dL_dyhat: list[list[Num]]) -> None:
        """∂L/∂z += ∂L/∂ŷ at every output, per sample."""
        for s, sample in enumerate(dL_dyhat):
            for i, (k, j) in enumerate(self.net.outputs):
                dL_dz[s][k][j] += sample[i]

    @staticmethod
    def _source(trace: Trace, s: int, source: tuple[int, int], rules: Rules) -> Num:
        level, unit = source
        if rules.source_pre and level > 0:
            return trace.pre[s][level - 1][unit]
        return trace.post[s][level][unit]

    def _deltas(self, trace: Trace, s: int, k: int, g: list[Num]) -> list[Num]:
        a = self.arith
        g = [a.settle(v) for v in g]  # ∂L/∂z as written down
        out: list[Num] = [None] * len(g)
        for act, units in self.net.levels[k - 1].groups:
            if act.elementwise:
                for j in range(units.start, units.stop):
                    out[j] = a.settle(trace.slope[s][k - 1][j] * g[j])
            else:  # δ_j = z_j (g_j − Σ_i z_i g_i)
                z = trace.post[s][k][units]
                dot = sum((zi * gi for zi, gi in zip(z, g[units], strict=True)), a.zero)
                for j, zj in zip(range(units.start, units.stop), z, strict=True):
                    out[j] = a.settle(zj * (g[j] - dot))
        return out

    # --- update ---------------------------------------------------------------------------

    def _update(self, trace: Trace, rules: Rules, over: Mapping[Quantity, Num]) -> list[Num]:
        lr = trace.learning_rate
        return [
            w
            if self.frozen[i]
            else over.get(("new", i), self.arith.settle(rules.update(w, trace.gradient[i], lr)))
            for i, w in enumerate(trace.theta)
        ]

    # --- as an engine result ----------------------------------------------------------------

    def result(self, trace: Trace) -> BackpropResult:
        """The trace in the engine's result shape, so every renderer shows it unchanged."""
        dtype = np.float64 if self.arith.mode == "float" else object

        def levels(values: Sequence[Sequence[Sequence[Num]]], first: int) -> tuple[Any, ...]:
            depth = len(values[0])
            return tuple(
                np.array([values[s][k] for s in range(len(values))], dtype=dtype)
                for k in range(first, depth)
            )

        def vector(values: Sequence[Num] | None) -> Any:
            return None if values is None else np.array(values, dtype=dtype)

        batch = self.spec.batch_size
        return BackpropResult(
            spec=self.spec,
            network=self.net,
            theta=vector(trace.theta),
            pre=levels(trace.pre, 0),
            post=levels(trace.post, 0),
            yhat=np.array(trace.yhat, dtype=dtype),
            sample_losses=vector(trace.sample_losses),
            loss=trace.loss,
            deltas=levels(trace.delta, 0),
            gradient=vector(trace.gradient),
            learning_rate=trace.learning_rate,
            updated_theta=vector(trace.updated),
            loss_after=trace.loss_after,
            input_gradient=np.array([trace.dL_dz[s][0] for s in range(batch)], dtype=dtype),
            arithmetic=self.arith.mode,
            decimals=self.arith.decimals,
        )
