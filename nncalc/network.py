"""A spec lowered into what the engine runs: levels of units, each an affine map then activations.

Both forms lower into the same shape. All params live in one flat float vector θ (a named param
is one entry, a layered W1 a block of entries), so gradients, frozen masks and updates are single
vector operations and shared params need no special case.

- A layered layer becomes a `Dense` level: a = z_prev @ W.T + b, with W and b views into θ.
- The named form's neurons are grouped by depth (longest path from the inputs); a level is a
  `Sparse` map over its incoming edges: a_i = Σ_e z[src_e]·w_e + b_i. Its cost grows with the
  number of edges, never with (neurons × neurons), and an edge may reach back to any earlier level
  (skip connections).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, overload

import numpy as np

from .activations import Activation
from .spec import Neuron, Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]
    Index = NDArray[np.intp]


class ParamSlot(NamedTuple):
    """Where one param lives in θ."""

    name: str
    offset: int
    shape: tuple[int, ...]  # () for a named scalar, (rows, cols) for W, (n,) for b

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def view(self, theta: Array) -> Array:
        return theta[self.offset : self.offset + self.size].reshape(self.shape)


class Dense(NamedTuple):
    """a = z_prev @ W.T + b for a whole layer; `source` is the level it reads."""

    source: int
    weight: ParamSlot
    bias: ParamSlot | None


class Sparse(NamedTuple):
    """a_i = Σ_e z[src_e]·w_e + b_i over explicit edges (the named form).

    Edges are ordered by destination unit, so the sums are one `np.add.reduceat` at `starts`.
    A weight or bias is a θ entry (index ≥ 0) or a constant (index −1, value in `*_const`).
    """

    size: int  # units in this level
    gathers: tuple[tuple[int, Index, Index], ...]  # (source level, source columns, edge positions)
    starts: Index  # first edge of each unit
    dest: Index  # the unit each edge feeds
    weight_index: Index
    weight_const: Array
    bias_index: Index
    bias_const: Array
    has_bias: bool

    def weights(self, theta: Array) -> Array:
        return _bind(theta, self.weight_index, self.weight_const)

    def biases(self, theta: Array) -> Array:
        return _bind(theta, self.bias_index, self.bias_const)


def _bind(theta: Array, index: Index, const: Array) -> Array:
    out = const.copy()
    trainable = index >= 0
    out[trainable] = theta[index[trainable]]
    return out


class Level(NamedTuple):
    names: tuple[str, ...]
    affine: Dense | Sparse
    # Runs of units sharing an activation: (activation, slice of this level's units).
    groups: tuple[tuple[Activation, slice], ...]


@dataclass(frozen=True, eq=False)
class Network:
    input_names: tuple[str, ...]
    levels: tuple[Level, ...]  # levels[0] is the first level of neurons; inputs are level 0 below
    slots: tuple[ParamSlot, ...]  # spec order
    theta: Array  # the spec's param values, flat
    trainable: NDArray[np.bool_]  # False for frozen entries
    outputs: tuple[tuple[int, int], ...]  # (level, unit), levels counted from 1
    output_names: tuple[str, ...]

    @cached_property
    def unit_of(self) -> dict[str, tuple[int, int]]:
        """Neuron name → (level, unit), levels counted from 1 (0 is the inputs)."""
        return {
            name: (k + 1, j)
            for k, level in enumerate(self.levels)
            for j, name in enumerate(level.names)
        }

    @cached_property
    def outputs_are_last_level(self) -> bool:
        last = len(self.levels)
        return self.outputs == tuple((last, j) for j in range(len(self.levels[-1].names)))

    @cached_property
    def output_link(self) -> str | None:
        """The function that makes every output from its pre-activation, where there is one:
        "sigmoid" (every output is a sigmoid unit) or "softmax" (the outputs are the last level,
        one softmax over all of it); otherwise None."""
        last = self.levels[-1].groups
        if self.outputs_are_last_level and len(last) == 1 and last[0][0].name == "softmax":
            return "softmax"
        if all(self.activation_at(level, unit).name == "sigmoid" for level, unit in self.outputs):
            return "sigmoid"
        return None

    def activation_at(self, level: int, unit: int) -> Activation:
        """The activation of a unit, its level counted from 1."""
        return next(
            act
            for act, units in self.levels[level - 1].groups
            if unit in range(units.start, units.stop)
        )

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """θ index → label: w1, or W1[1,2] / b1[2] for layered elements (1-based, as in
        tables and answers)."""
        labels: list[str] = []
        for slot in self.slots:
            if not slot.shape:
                labels.append(slot.name)
            elif len(slot.shape) == 1:
                labels.extend(f"{slot.name}[{i + 1}]" for i in range(slot.shape[0]))
            else:
                rows, cols = slot.shape
                labels.extend(
                    f"{slot.name}[{r + 1},{c + 1}]" for r in range(rows) for c in range(cols)
                )
        return tuple(labels)

    @property
    def dtype(self) -> str:
        return str(self.theta.dtype)

    def astype(self, dtype: str) -> Network:
        """The same network computing in `dtype`: θ and the named form's constants cast."""
        levels = tuple(
            level
            if isinstance(level.affine, Dense)
            else level._replace(
                affine=level.affine._replace(
                    weight_const=level.affine.weight_const.astype(dtype),
                    bias_const=level.affine.bias_const.astype(dtype),
                )
            )
            for level in self.levels
        )
        return replace(self, levels=levels, theta=self.theta.astype(dtype))

    @overload
    def cast(self, values: Array) -> Array: ...
    @overload
    def cast(self, values: None) -> None: ...
    def cast(self, values: Array | None) -> Array | None:
        """Inputs or targets in this network's dtype (the same array in float64)."""
        return None if values is None else values.astype(self.theta.dtype, copy=False)

    def params(self, theta: Array) -> dict[str, float | Array]:
        """θ back as named params: floats for named scalars, arrays (views) for layered ones."""
        return {
            s.name: theta[s.offset : s.offset + 1].tolist()[0] if not s.shape else s.view(theta)
            for s in self.slots
        }


def lower(spec: Spec) -> Network:
    """Compile a validated spec into the engine's representation."""
    slots: list[ParamSlot] = []
    offset = 0
    # Named scalars go into θ in one assignment: a numpy call per param costs a named net of
    # 40 000 weights a tenth of a second.
    scalar_at: list[int] = []
    scalars: list[float] = []
    arrays: list[tuple[int, Array]] = []
    for name, value in spec.params.items():
        if isinstance(value, float | int):
            slots.append(ParamSlot(name, offset, ()))
            scalar_at.append(offset)
            scalars.append(value)
            offset += 1
        else:
            array = np.asarray(value, dtype=np.float64)
            slots.append(ParamSlot(name, offset, array.shape))
            arrays.append((offset, array))
            offset += array.size
    theta = np.empty(offset, dtype=np.float64)
    theta[scalar_at] = scalars
    for at, array in arrays:
        theta[at : at + array.size] = array.ravel()
    trainable = np.ones(offset, dtype=np.bool_)
    for slot in slots:
        if slot.name in spec.frozen:
            trainable[slot.offset : slot.offset + slot.size] = False
    levels = _layered_levels(spec, slots) if spec.form == "layered" else _named_levels(spec)
    unit_of = {
        name: (k + 1, j) for k, level in enumerate(levels) for j, name in enumerate(level.names)
    }
    return Network(
        input_names=spec.input_names,
        levels=tuple(levels),
        slots=tuple(slots),
        theta=theta,
        trainable=trainable,
        outputs=tuple(unit_of[name] for name in spec.outputs),
        output_names=spec.outputs,
    )


def _layered_levels(spec: Spec, slots: list[ParamSlot]) -> list[Level]:
    by_name = {s.name: s for s in slots}
    return [
        Level(
            names=layer.names,
            affine=Dense(k, by_name[layer.weight], by_name[layer.bias] if layer.bias else None),
            groups=((layer.activation, slice(0, len(layer.names))),),
        )
        for k, layer in enumerate(spec.layers)
    ]


def _named_levels(spec: Spec) -> list[Level]:
    index = {name: i for i, name in enumerate(spec.params)}
    inputs = {name: j for j, name in enumerate(spec.input_names)}
    neurons = {n.name: n for n in spec.neurons}

    depth: dict[str, int] = {}
    for neuron in spec.neurons:  # iterative longest-path depth; the spec is known to be acyclic
        stack = [neuron.name]
        while stack:
            name = stack[-1]
            pending = [s for s, _ in neurons[name].terms if s in neurons and s not in depth]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[name] = 1 + max((depth.get(s, 0) for s, _ in neurons[name].terms), default=0)

    by_level: dict[int, list[str]] = {}
    for neuron in spec.neurons:  # spec order within a level
        by_level.setdefault(depth[neuron.name], []).append(neuron.name)
    count = max(by_level)
    levels_names = [by_level.get(k, []) for k in range(1, count + 1)]
    spec_order = {n.name: i for i, n in enumerate(spec.neurons)}
    position: dict[str, tuple[int, int]] = {name: (0, j) for name, j in inputs.items()}

    levels: list[Level] = []
    for k, names in enumerate(levels_names, start=1):
        # Group runs of the same activation together by sorting units by activation label,
        # keeping spec order within a run.
        names = sorted(names, key=lambda n: (neurons[n].activation.label, spec_order[n]))
        for j, name in enumerate(names):
            position[name] = (k, j)
        levels.append(_sparse_level(names, neurons, position, index))
    return levels


def _sparse_level(
    names: list[str],
    neurons: dict[str, Neuron],
    position: dict[str, tuple[int, int]],
    index: dict[str, int],
) -> Level:
    units = [neurons[n] for n in names]
    dest: list[int] = []
    src_level: list[int] = []
    src_col: list[int] = []
    w_index: list[int] = []
    w_const: list[float] = []
    starts: list[int] = []
    b_index: list[int] = []
    b_const: list[float] = []
    for j, unit in enumerate(units):
        starts.append(len(dest))
        for source, weight in unit.terms:
            level, col = position[source]
            dest.append(j)
            src_level.append(level)
            src_col.append(col)
            w_index.append(index[weight] if isinstance(weight, str) else -1)
            w_const.append(0.0 if isinstance(weight, str) else float(weight))
        bias = unit.bias
        b_index.append(index[bias] if isinstance(bias, str) else -1)
        b_const.append(float(bias) if isinstance(bias, float | int) else 0.0)
    levels_arr = np.asarray(src_level, dtype=np.intp)
    cols_arr = np.asarray(src_col, dtype=np.intp)
    # One gather per source level. (A plain set, not np.unique: that pulls in numpy.ma at
    # start-up for nothing.)
    gathers = tuple(
        (level, cols_arr[edges], edges)
        for level in sorted(set(src_level))
        for edges in [np.flatnonzero(levels_arr == level)]
    )
    groups: list[tuple[Activation, slice]] = []
    start = 0
    for j in range(1, len(units) + 1):
        if j == len(units) or units[j].activation != units[start].activation:
            groups.append((units[start].activation, slice(start, j)))
            start = j
    return Level(
        names=tuple(names),
        affine=Sparse(
            size=len(units),
            gathers=gathers,
            starts=np.asarray(starts, dtype=np.intp),
            dest=np.asarray(dest, dtype=np.intp),
            weight_index=np.asarray(w_index, dtype=np.intp),
            weight_const=np.asarray(w_const, dtype=np.float64),
            bias_index=np.asarray(b_index, dtype=np.intp),
            bias_const=np.asarray(b_const, dtype=np.float64),
            has_bias=any(u.bias is not None for u in units),
        ),
        groups=tuple(groups),
    )
