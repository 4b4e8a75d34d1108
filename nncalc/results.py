"""What a computation returns, and its one documented plain-data (JSON) shape.

Every renderer reads `to_data()`, so the table, JSON and any later format cannot disagree.
The data keeps full precision; −0.0 becomes 0.0 and a non-finite value becomes None with a
warning naming where it arose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .losses import probabilities
from .network import Network
from .notation import SEED, Notation
from .render.numbers import exact
from .spec import Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

MAX_KINK_WARNINGS = 10


@dataclass(frozen=True, eq=False)
class ForwardResult:
    """A forward pass. Arrays are (batch, units); `pre[k]`, `post[k + 1]` are level k + 1."""

    spec: Spec
    network: Network
    theta: Array
    pre: tuple[Array, ...]
    post: tuple[Array, ...]  # post[0] is the inputs
    yhat: Array  # (batch, outputs)
    sample_losses: Array  # (batch,)
    loss: float
    notation: Notation = field(default=SEED, kw_only=True)
    # "float"; "exact" (values are Fractions); "round" (Fractions rounded to `decimals` places)
    arithmetic: str = field(default="float", kw_only=True)
    decimals: int | None = field(default=None, kw_only=True)

    command = "forward"

    # --- per-name access for library users ---------------------------------------------------

    def _column(self, arrays: tuple[Array, ...], name: str, offset: int) -> Array:
        level, unit = self.network.unit_of[name]
        return arrays[level - offset][:, unit]

    def pre_activation(self, name: str) -> Array:
        """a of neuron `name`, one entry per sample."""
        return self._column(self.pre, name, 1)

    def activation(self, name: str) -> Array:
        """z of neuron `name`, one entry per sample."""
        return self._column(self.post, name, 0)

    @property
    def outputs(self) -> dict[str, Array]:
        return {name: self.yhat[:, i] for i, name in enumerate(self.network.output_names)}

    @cached_property
    def probabilities(self) -> Array | None:
        """softmax of the outputs, for a loss that applies it (softmax_cross_entropy)."""
        if not self.spec.loss.applies_softmax:
            return None
        return probabilities(np.asarray(self.yhat, dtype=np.float64))  # floats in any arithmetic

    @property
    def params(self) -> dict[str, float | Array]:
        return self.network.params(self.theta)

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """The spec's warnings, then kinks hit and probability-range problems."""
        return (*self.spec.warnings, *self._kink_warnings(), *self._range_warnings())

    def _kink_warnings(self) -> list[str]:
        found: list[str] = []
        total = 0
        for k, level in enumerate(self.network.levels):
            for activation, units in level.groups:
                if not activation.kinks:
                    continue
                a = self.pre[k][:, units]
                hits = np.argwhere(np.logical_or.reduce([a == k for k in activation.kinks]))
                total += len(hits)
                for sample, unit in hits[: max(0, MAX_KINK_WARNINGS - len(found))]:
                    name = level.names[units.start + int(unit)]
                    value = to_float(a[sample, unit])
                    found.append(
                        f"{name}{self._sample(int(sample))}: pre-activation {value:g} "
                        f"is on the kink of {activation.name}; using {activation.convention}"
                        " (PyTorch's convention)"
                    )
        loss = self.spec.loss
        if loss.kinks and self.spec.targets is not None:
            hits = np.argwhere(self.yhat == self.spec.targets)
            total += len(hits)
            for sample, i in hits[: max(0, MAX_KINK_WARNINGS - len(found))]:
                name = self.network.output_names[int(i)]
                found.append(
                    f"{name}{self._sample(int(sample))}: output equals its target, the "
                    f"kink of {loss.name}; using {loss.kinks}"
                )
        if total > len(found):
            found.append(f"… and {total - len(found)} more values on a kink")
        return found

    def _range_warnings(self) -> list[str]:
        if not self.spec.loss.expects_probabilities:
            return []
        with np.errstate(invalid="ignore"):  # a nan output is named as non-finite elsewhere
            bad = np.argwhere(~((self.yhat >= 0) & (self.yhat <= 1)))
        if not len(bad):
            return []
        sample, i = (int(x) for x in bad[0])
        name = self.network.output_names[i]
        return [
            f"{self.spec.loss.name} expects outputs that are probabilities in [0, 1], but "
            f"{name}{self._sample(sample)} = {to_float(self.yhat[sample, i]):g}; end the "
            "network in sigmoid or softmax"
        ]

    def _sample(self, index: int) -> str:
        return f" (sample {index + 1})" if self.spec.batched else ""

    # --- the documented data shape -------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        data = self._data()
        return finish_data(
            data,
            list(self.warnings),
            exact=self.arithmetic == "exact",
            fractions=self.arithmetic != "float",
        )

    def _data(self) -> dict[str, Any]:
        spec, net = self.spec, self.network
        per_sample = self._per_sample
        data: dict[str, Any] = {
            "command": self.command,
            "title": spec.title,
            "source": spec.source,
            "form": spec.form,
            "batched": spec.batched,
            "batch_size": spec.batch_size,
            "reduction": spec.reduction,
            "notation": {
                "name": self.notation.name,
                "pre": self.notation.pre,
                "act": self.notation.act,
            },
            "arithmetic": {"mode": self.arithmetic}
            | ({"decimals": self.decimals} if self.arithmetic == "round" else {}),
            "inputs": {n: per_sample(spec.inputs[:, j]) for j, n in enumerate(spec.input_names)},
            "neurons": {},
            "outputs": {n: per_sample(v) for n, v in self.outputs.items()},
        }
        formulas = neuron_formulas(spec)
        for name in spec.neuron_names:
            level, unit = net.unit_of[name]
            activation = next(
                act
                for act, units in net.levels[level - 1].groups
                if units.start <= unit < units.stop
            )
            data["neurons"][name] = {
                "formula": formulas[name],
                "activation_function": activation.label,
                "pre_activation": per_sample(self.pre[level - 1][:, unit]),
                "activation": per_sample(self.post[level][:, unit]),
            }
        if self.probabilities is not None:
            data["probabilities"] = {
                n: per_sample(self.probabilities[:, i]) for i, n in enumerate(net.output_names)
            }
        targets = spec.targets
        data["targets"] = (
            None
            if targets is None
            else {n: per_sample(targets[:, i]) for i, n in enumerate(net.output_names)}
        )
        data["loss_function"] = spec.loss.name
        data["loss_formula"] = spec.loss.formula
        data["loss"] = self.loss
        if spec.batched:
            data["sample_losses"] = self.sample_losses.tolist()
        data["params"] = params_data(net.params(self.theta))
        return data

    def _per_sample(self, values: Array) -> float | list[float]:
        listed: list[Any] = values.tolist()
        return listed if self.spec.batched else listed[0]


@dataclass(frozen=True, eq=False)
class BackpropResult(ForwardResult):
    """A forward and backward pass, with the SGD step when a learning rate was given."""

    deltas: tuple[Array, ...]  # δ = ∂L/∂a per level
    gradient: Array  # ∂L/∂θ, flat like θ
    learning_rate: float | None
    updated_theta: Array | None
    loss_after: float | None
    input_gradient: Array | None  # (batch, inputs)

    command = "backprop"

    def delta(self, name: str) -> Array:
        """δ = ∂L/∂a of neuron `name`, one entry per sample."""
        return self._column(self.deltas, name, 1)

    @property
    def gradients(self) -> dict[str, float | Array]:
        return self.network.params(self.gradient)

    @property
    def updated(self) -> dict[str, float | Array] | None:
        return None if self.updated_theta is None else self.network.params(self.updated_theta)

    def _data(self) -> dict[str, Any]:
        data = super()._data()
        spec, net = self.spec, self.network
        for name, entry in data["neurons"].items():
            level, unit = net.unit_of[name]
            entry["delta"] = self._per_sample(self.deltas[level - 1][:, unit])
        data["gradients"] = params_data(self.gradients)
        data["frozen"] = [name for name in spec.params if name in spec.frozen]
        data["learning_rate"] = self.learning_rate
        updated = self.updated
        data["updated"] = None if updated is None else params_data(updated)
        data["loss_after"] = self.loss_after
        gradient = self.input_gradient
        data["input_gradients"] = (
            None
            if gradient is None
            else {n: self._per_sample(gradient[:, j]) for j, n in enumerate(spec.input_names)}
        )
        return data


def neuron_formulas(spec: Spec) -> dict[str, str]:
    """Each neuron's pre-activation written out: 'x1·w1 + x2·w2 + b1'."""
    if spec.form == "named":
        return {n.name: _named_formula(n.terms, n.bias) for n in spec.neurons}
    out: dict[str, str] = {}
    sources = spec.input_names
    for k, layer in enumerate(spec.layers, start=1):
        bias = f" + b{k}[{{i}}]" if layer.bias else ""
        for i, name in enumerate(layer.names, start=1):
            if len(sources) <= 8:
                terms = " + ".join(f"W{k}[{i},{j}]·{s}" for j, s in enumerate(sources, start=1))
            else:
                terms = f"W{k}[{i},:]·({sources[0]} … {sources[-1]})"
            out[name] = terms + bias.format(i=i)
        sources = layer.names
    return out


def _named_formula(terms: tuple[tuple[str, str | float], ...], bias: str | float | None) -> str:
    text = " + ".join(f"{source}·{_weight(w)}" for source, w in terms)
    if isinstance(bias, str):
        text += f" + {bias}"
    elif bias is not None:
        text += f" − {exact(-bias)}" if bias < 0 else f" + {exact(bias)}"
    return text


def _weight(w: str | float) -> str:
    if isinstance(w, str):
        return w
    return f"({exact(w)})" if w < 0 else exact(w)


def to_float(value: Any) -> float:
    """A number of any arithmetic as a float; a fraction beyond float range becomes ±inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def params_data(params: dict[str, float | Array]) -> dict[str, Any]:
    return {n: v.tolist() if isinstance(v, np.ndarray) else v for n, v in params.items()}


def finish_data(
    data: dict[str, Any], warnings: list[str], *, exact: bool = False, fractions: bool = False
) -> dict[str, Any]:
    """Make the data plain: −0.0 becomes 0.0, a non-finite number None (named once in the
    warnings). With `fractions` (exact and exam arithmetic), a Fraction becomes its float, and
    with `exact` its "p/q" is kept under "exact"."""
    bad: list[str] = []
    long: list[str] = []
    written: dict[str, str] = {}
    rational: tuple[type, ...] = ()  # isinstance(x, ()) is False: no Fractions in float data
    if fractions or exact:
        from fractions import Fraction

        rational = (Fraction,)

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, rational):
            if exact:
                try:
                    written[path] = str(value)
                except ValueError:  # more digits than Python writes (4300): the float stays
                    long.append(path)
            value = to_float(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return value + 0.0  # −0.0 + 0.0 is 0.0
            bad.append(f"non-finite value: {path} is {value} (null in JSON)")
            return None
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            if value and type(value[0]) is float:  # a row of floats: check it in one go
                row = np.array(value, dtype=object if rational else None)
                if row.dtype == np.float64 and np.isfinite(row).all():
                    return (row + 0.0).tolist()  # −0.0 + 0.0 is 0.0
            return [clean(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    cleaned: dict[str, Any] = clean(data, "")
    if exact:
        cleaned["exact"] = written
    cleaned["warnings"] = [*warnings, *_collapse(bad)]
    if long:
        cleaned["warnings"].append(
            f"{long[0]}{f' and {len(long) - 1} more' if len(long) > 1 else ''}: the exact "
            "fraction has more than 4300 digits, so only its float is given"
        )
    return cleaned


def _collapse(paths: list[str], limit: int = 10) -> list[str]:
    if len(paths) <= limit:
        return paths
    return [*paths[:limit], f"… and {len(paths) - limit} more non-finite values"]
