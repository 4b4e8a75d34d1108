"""Forward pass, backward pass and SGD update: pure functions over numpy arrays.

Notation, as in the seed exercise: a is a unit's pre-activation (weighted sum plus bias) and
z = f(a) its activation. Arrays are (batch, units); level 0 holds the inputs. The deltas are
δ = ∂L/∂a, and ∂L/∂w = Σ_samples δ_dest · z_source for every use of w (a shared param sums them).

The engine is silent: it never prints, and numpy's floating-point warnings are muted here because
the results report every non-finite value by name instead.

It computes in float64 unless asked for float32 (`dtype`), which halves the memory and roughly
doubles the speed of a large layered net's matrix products, at about 7 significant digits.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .losses import Loss
from .network import Dense, Level, Network, Sparse, lower
from .results import BackpropResult, ForwardResult
from .spec import Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

DTYPES = ("float64", "float32")

_networks: weakref.WeakKeyDictionary[Spec, dict[str, Network]] = weakref.WeakKeyDictionary()


def network_of(spec: Spec, dtype: str = "float64") -> Network:
    """The spec lowered for the engine in `dtype`, compiled once per spec and dtype."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    nets = _networks.setdefault(spec, {})
    net = nets.get(dtype)
    if net is None:
        net = nets[dtype] = lower(spec) if dtype == "float64" else network_of(spec).astype(dtype)
    return net


def forward(spec: Spec, *, dtype: str = "float64") -> ForwardResult:
    """Every neuron's pre-activation and activation, the outputs and the loss."""
    net = network_of(spec, dtype)
    targets = net.cast(spec.targets)
    with np.errstate(all="ignore"):
        pre, post = forward_pass(net, net.theta, net.cast(spec.inputs))
        yhat = gather_outputs(net, post)
        sample_losses = loss_per_sample(net, spec.loss, pre, yhat, targets)
    return ForwardResult(
        spec=spec,
        network=net,
        theta=net.theta,
        pre=pre,
        post=post,
        yhat=yhat,
        sample_losses=sample_losses,
        loss=reduce_losses(sample_losses, spec.reduction),
    )


def backprop(
    spec: Spec,
    lr: float | None = None,
    *,
    input_gradients: bool = True,
    loss_after: bool = True,
    dtype: str = "float64",
) -> BackpropResult:
    """Forward, backward and (when a learning rate is known) one SGD step.

    `lr` overrides the spec's learning_rate; with neither, gradients are computed and no update
    is made. `input_gradients` and `loss_after` (a second forward pass with the updated params)
    can be switched off when only the step itself is wanted, as in a training loop.
    """
    rate = spec.learning_rate if lr is None else float(lr)
    if rate is not None and not (math.isfinite(rate) and rate >= 0):
        raise ValueError(f"the learning rate must be a finite number ≥ 0, got {lr}")
    first = forward(spec, dtype=dtype)
    net, theta = first.network, first.theta
    with np.errstate(all="ignore"):
        targets = net.cast(spec.targets)
        dL_dout = output_gradient(net, spec.loss, first.pre, first.yhat, targets, spec.reduction)
        deltas, grad, dL_dx = backward_pass(
            net, theta, first.pre, first.post, dL_dout, input_gradients=input_gradients
        )
        updated = None if rate is None else sgd_step(theta, grad, rate, net.trainable)
        after = None
        if updated is not None and loss_after:
            after = loss_at(spec, net, updated)
    return BackpropResult(
        spec=spec,
        network=net,
        theta=theta,
        pre=first.pre,
        post=first.post,
        yhat=first.yhat,
        sample_losses=first.sample_losses,
        loss=first.loss,
        deltas=deltas,
        gradient=grad,
        learning_rate=rate,
        updated_theta=updated,
        loss_after=after,
        input_gradient=dL_dx,
    )


def forward_pass(
    net: Network, theta: Array, inputs: Array
) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
    """(pre-activations per level, activations per level with the inputs first)."""
    pre: list[Array] = []
    post: list[Array] = [inputs]
    for level in net.levels:
        a = _affine(level.affine, theta, post)
        pre.append(a)
        post.append(_activate(level, a))
    return tuple(pre), tuple(post)


def _affine(affine: Dense | Sparse, theta: Array, post: list[Array]) -> Array:
    if isinstance(affine, Dense):
        a = post[affine.source] @ affine.weight.view(theta).T
        if affine.bias is not None:
            a += affine.bias.view(theta)
        return a
    edges = _gather(affine, post)
    edges *= affine.weights(theta)
    a = np.add.reduceat(edges, affine.starts, axis=1)
    if affine.has_bias:
        a += affine.biases(theta)
    return a


def _gather(affine: Sparse, post: list[Array] | tuple[Array, ...]) -> Array:
    """The source activation of every edge: (batch, edges)."""
    batch = post[0].shape[0]
    out = np.empty((batch, len(affine.dest)), dtype=post[0].dtype)
    for level, cols, edges in affine.gathers:
        out[:, edges] = post[level][:, cols]
    return out


def _activate(level: Level, a: Array) -> Array:
    if len(level.groups) == 1:
        return level.groups[0][0].value(a).astype(a.dtype, copy=False)
    z = np.empty_like(a)
    for activation, units in level.groups:
        z[:, units] = activation.value(a[:, units])
    return z


def gather_outputs(net: Network, post: tuple[Array, ...]) -> Array:
    """ŷ: (batch, outputs) in the spec's output order."""
    if net.outputs_are_last_level:
        return post[-1]
    return np.stack([post[level][:, unit] for level, unit in net.outputs], axis=1)


def link_of(net: Network, loss: Loss) -> str | None:
    """The outputs' function when the loss is computed through it from their pre-activations
    (a loss on probabilities of sigmoid or softmax outputs), else None."""
    link = net.output_link
    return link if link in loss.through else None


def _output_pre(net: Network, pre: tuple[Array, ...]) -> Array:
    """The outputs' pre-activations: (batch, outputs) in the spec's output order."""
    if net.outputs_are_last_level:
        return pre[-1]
    return np.stack([pre[level - 1][:, unit] for level, unit in net.outputs], axis=1)


def backward_pass(
    net: Network,
    theta: Array,
    pre: tuple[Array, ...],
    post: tuple[Array, ...],
    dL_dout: OutputGradient,
    *,
    input_gradients: bool = True,
) -> tuple[tuple[Array, ...], Array, Array | None]:
    """(δ per level, ∂L/∂θ, ∂L/∂inputs or None) from the loss's gradient at the outputs."""
    depth = len(net.levels)
    dL_dz: list[Array | None] = [None] * (depth + 1)
    dL_da: list[Array | None] = [None] * (depth + 1)  # the loss's own share of δ, if `through`
    into = dL_da if dL_dout.through else dL_dz
    if net.outputs_are_last_level:
        into[depth] = dL_dout.values
    else:
        for i, (level, unit) in enumerate(net.outputs):
            _accumulate(into, level, post[level].shape, unit, dL_dout.values[:, i])
    grad = np.zeros_like(theta)
    deltas: list[Array] = [np.empty(0)] * depth
    for k in range(depth, 0, -1):
        a, z, g, direct = pre[k - 1], post[k], dL_dz[k], dL_da[k]
        if g is not None:
            delta = _delta(net.levels[k - 1], a, z, g)
            if direct is not None:
                delta += direct
        else:
            delta = np.zeros_like(a) if direct is None else direct
        deltas[k - 1] = delta
        _affine_backward(net.levels[k - 1].affine, theta, post, delta, grad, dL_dz, input_gradients)
    return tuple(deltas), grad, dL_dz[0] if input_gradients else None


def _delta(level: Level, a: Array, z: Array, dL_dz: Array) -> Array:
    if len(level.groups) == 1:
        return level.groups[0][0].vjp(a, z, dL_dz).astype(a.dtype, copy=False)
    delta = np.empty_like(a)
    for activation, units in level.groups:
        delta[:, units] = activation.vjp(a[:, units], z[:, units], dL_dz[:, units])
    return delta


def _affine_backward(
    affine: Dense | Sparse,
    theta: Array,
    post: tuple[Array, ...],
    delta: Array,
    grad: Array,
    dL_dz: list[Array | None],
    input_gradients: bool,
) -> None:
    """Add this level's ∂L/∂θ into `grad` and its ∂L/∂z_source into `dL_dz`."""
    if isinstance(affine, Dense):
        source = post[affine.source]
        np.matmul(delta.T, source, out=affine.weight.view(grad))
        if affine.bias is not None:
            np.sum(delta, axis=0, out=affine.bias.view(grad))
        if affine.source > 0 or input_gradients:
            back = delta @ affine.weight.view(theta)
            previous = dL_dz[affine.source]
            if previous is None:
                dL_dz[affine.source] = back
            else:
                previous += back
        return
    per_edge = delta[:, affine.dest]  # δ of each edge's destination
    dL_dw = np.einsum("be,be->e", per_edge, _gather(affine, post))
    _scatter_into(grad, affine.weight_index, dL_dw)
    if affine.has_bias:
        _scatter_into(grad, affine.bias_index, delta.sum(axis=0))
    per_edge *= affine.weights(theta)
    for level, cols, edges in affine.gathers:
        if level > 0 or input_gradients:
            target = dL_dz[level]
            if target is None:
                target = dL_dz[level] = np.zeros_like(post[level])
            np.add.at(target, (slice(None), cols), per_edge[:, edges])  # type: ignore[arg-type]


def _scatter_into(grad: Array, index: NDArray[np.intp], values: Array) -> None:
    """grad[index[e]] += values[e] for every e with a param (index ≥ 0); repeats add up.

    Only the span of θ the indices reach is touched: a pass over all of θ per level would make a
    deep named net's step grow with levels × params."""
    trainable = index >= 0
    if not trainable.any():
        return
    index = index[trainable]
    low, high = int(index.min()), int(index.max()) + 1
    grad[low:high] += np.bincount(index - low, weights=values[trainable], minlength=high - low)


def _accumulate(
    dL_dz: list[Array | None], level: int, shape: tuple[int, ...], unit: int, values: Array
) -> None:
    target = dL_dz[level]
    if target is None:
        target = dL_dz[level] = np.zeros(shape, dtype=values.dtype)
    target[:, unit] += values


def sgd_step(theta: Array, grad: Array, lr: float, trainable: NDArray[np.bool_]) -> Array:
    """θ − lr·∂L/∂θ as a fresh vector; frozen entries keep their value."""
    updated = grad * -lr  # written in place below: one temporary the size of θ, not two
    updated += theta
    if not trainable.all():
        frozen = ~trainable
        updated[frozen] = theta[frozen]
    return updated


class OutputGradient(NamedTuple):
    """The batch loss's gradient at the outputs, (batch, outputs): ∂L/∂ŷ, or ∂L/∂a of the
    outputs' pre-activations when the loss is computed `through` their function."""

    values: Array
    through: bool


def output_gradient(
    net: Network,
    loss: Loss,
    pre: tuple[Array, ...],
    yhat: Array,
    targets: Array | None,
    reduction: str,
) -> OutputGradient:
    """Each sample's gradient at the outputs, times 1/N under a mean over N samples."""
    y = targets if targets is not None else np.zeros_like(yhat)
    link = link_of(net, loss)
    if link is None:
        values = loss.gradient(yhat, y)
    else:
        values = loss.gradient_through(link, _output_pre(net, pre), y)
    values = values.astype(yhat.dtype, copy=False)
    if reduction == "mean" and len(yhat) > 1:
        values /= len(yhat)
    return OutputGradient(values, link is not None)


def loss_at(spec: Spec, net: Network, theta: Array) -> float:
    """The loss over all of the spec's samples with params θ (a forward pass, no gradient)."""
    with np.errstate(all="ignore"):
        pre, post = forward_pass(net, theta, net.cast(spec.inputs))
        yhat = gather_outputs(net, post)
        sample_losses = loss_per_sample(net, spec.loss, pre, yhat, net.cast(spec.targets))
        return reduce_losses(sample_losses, spec.reduction)


def loss_per_sample(
    net: Network, loss: Loss, pre: tuple[Array, ...], yhat: Array, targets: Array | None
) -> Array:
    """Each sample's loss; through the outputs' function where there is one (see link_of)."""
    y = targets if targets is not None else np.zeros_like(yhat)
    link = link_of(net, loss)
    if link is None:
        return loss.value(yhat, y)
    return loss.value_through(link, _output_pre(net, pre), y)


def reduce_losses(sample_losses: Array, reduction: str) -> float:
    with np.errstate(all="ignore"):  # +inf and −inf samples give nan, reported by name
        return float(sample_losses.mean() if reduction == "mean" else sample_losses.sum())
