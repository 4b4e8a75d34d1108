"""Many steps: a training run over a spec's data, with an optimizer and a learning-rate schedule.

Each step takes a mini-batch (the whole batch, or `batch_size` samples drawn without replacement
in an order shuffled once per epoch by `seed`), computes the loss and its gradient there with the
engine, and lets the optimizer step. The trace records, per step, the learning rate used and the
mini-batch's loss before the step. A run stops after `steps`, when the loss reaches `until_loss`,
or when it diverges (a loss that is not finite, or above `max_loss`), naming the step.

The run is silent; `on_step` lets a caller draw progress.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import engine, optim
from .results import finish_data, params_data
from .spec import OptimizerChoice, Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

SCHEDULES = ("constant", "step", "exponential", "cosine")
MAX_LOSS = 1e12  # a loss above this is divergence


class Schedule(NamedTuple):
    """η_t for step t = 1, 2, …: constant η; step decay η·γ^⌊(t−1)/k⌋; exponential η·γ^(t−1);
    cosine η_min + (η − η_min)·(1 + cos(π·(t−1)/T))/2 over the T steps of the run."""

    name: str = "constant"
    gamma: float = 0.5  # step: the factor every `every` steps; exponential: per step
    every: int = 10
    minimum: float = 0.0  # cosine's floor

    def rate(self, lr: float, t: int, total: int) -> float:
        if self.name == "step":
            return lr * self.gamma ** ((t - 1) // self.every)
        if self.name == "exponential":
            return lr * self.gamma ** (t - 1)
        if self.name == "cosine":
            progress = (t - 1) / max(1, total - 1)
            return self.minimum + (lr - self.minimum) * (1 + math.cos(math.pi * progress)) / 2
        return lr


CONSTANT = Schedule()


def run(
    spec: Spec,
    steps: int,
    lr: float,
    *,
    optimizer: OptimizerChoice | None = None,
    schedule: Schedule = CONSTANT,
    batch_size: int | None = None,
    seed: int = 0,
    until_loss: float | None = None,
    max_loss: float = MAX_LOSS,
    trace_params: bool = False,
    noise: bool = False,
    on_step: Callable[[int], None] | None = None,
    dtype: str = "float64",
) -> tuple[dict[str, Any], Array, optim.State]:
    """The data of `nncalc train` (the per-step trace, the final params and loss, and why the
    run stopped), with the final θ and optimizer state; `dtype` is the engine's float type."""
    net = engine.network_of(spec, dtype)
    choice = optimizer or spec.optimizer or OptimizerChoice("sgd", {})
    opt = optim.get(choice.name)
    hyper = optim.hyperparameters(opt, choice.hyper)
    state = _initial_state(spec, net, opt)
    theta = net.theta.copy()
    samples = spec.batch_size
    size = samples if batch_size is None else min(batch_size, samples)
    rng = None  # numpy.random takes tens of milliseconds to import: only for mini-batches
    order = np.arange(samples)
    position = samples  # start a new epoch at the first step
    trace: list[dict[str, Any]] = []
    stopped: dict[str, Any] = {"reason": "steps", "step": steps, "message": f"ran {steps} steps"}
    for t in range(1, steps + 1):
        if size == samples:
            chosen = order
        else:
            if position + size > samples:
                rng = rng or np.random.default_rng(seed)
                order = rng.permutation(samples)
                position = 0
            chosen = order[position : position + size]
            position += size
        rate = schedule.rate(lr, t, steps)
        loss, grad = _loss_and_gradient(spec, net, theta, chosen)
        entry: dict[str, Any] = {"step": t, "learning_rate": rate, "loss": loss}
        if trace_params:
            entry["params"] = params_data(net.params(theta.copy()))
        trace.append(entry)
        if not math.isfinite(loss) or loss > max_loss:
            what = "is not finite" if not math.isfinite(loss) else f"exceeds {max_loss:g}"
            stopped = {
                "reason": "diverged",
                "step": t,
                "message": f"diverged at step {t}: the loss {what} (lower the learning rate, or "
                "check the optimizer's settings)",
            }
            break
        if until_loss is not None and loss <= until_loss:
            stopped = {
                "reason": "until_loss",
                "step": t,
                "message": f"the loss reached {loss:g} ≤ {until_loss:g} at step {t}",
            }
            break
        with np.errstate(all="ignore"):
            done = optim.step(opt, theta, grad, state, rate, net.trainable, hyper)
        theta, state = done.theta, done.state
        if on_step is not None:
            on_step(t)
    final_loss, final_grad = _loss_and_gradient(spec, net, theta, np.arange(samples))
    data: dict[str, Any] = {
        "command": "train",
        "title": spec.title,
        "source": spec.source,
        "form": spec.form,
        "batched": spec.batched,
        "batch_size": samples,
        "reduction": spec.reduction,
        "optimizer": {"name": opt.name, "hyperparameters": hyper},
        "schedule": schedule._asdict(),
        "mini_batch": size,
        "seed": seed,
        "dtype": net.dtype,
        "steps": trace,
        "stopped": stopped,
        "final": {
            "loss": final_loss,
            "params": params_data(net.params(theta)),
            "gradients": params_data(net.params(final_grad)),
            "state_step": state.step,
        },
    }
    if noise and samples > 1:
        data["gradient_noise"] = _noise(spec, net, theta)
    warnings = list(spec.warnings)
    if stopped["reason"] == "diverged":
        warnings.append(stopped["message"])
    return finish_data(data, warnings), theta, state


def _initial_state(spec: Spec, net: Any, opt: optim.Optimizer) -> optim.State:
    from .compute import state_of

    state: optim.State = state_of(spec, net, opt)
    return state


def _loss_and_gradient(
    spec: Spec, net: Any, theta: Array, chosen: NDArray[np.intp]
) -> tuple[float, Array]:
    inputs = net.cast(spec.inputs[chosen])
    targets = None if spec.targets is None else net.cast(spec.targets[chosen])
    with np.errstate(all="ignore"):
        pre, post = engine.forward_pass(net, theta, inputs)
        yhat = engine.gather_outputs(net, post)
        loss = engine.reduce_losses(
            engine.loss_per_sample(net, spec.loss, pre, yhat, targets), spec.reduction
        )
        dL_dout = engine.output_gradient(net, spec.loss, pre, yhat, targets, spec.reduction)
        _, grad, _ = engine.backward_pass(net, theta, pre, post, dL_dout, input_gradients=False)
    return loss, grad


def _noise(spec: Spec, net: Any, theta: Array) -> dict[str, Any]:
    """Per param, the spread of the per-sample gradients at the final params: their standard
    deviation, and that of a mini-batch mean of B samples (σ/√B), which shrinks with B."""
    per_sample = np.stack(
        [_loss_and_gradient(spec, net, theta, np.array([s]))[1] for s in range(spec.batch_size)]
    )
    with np.errstate(all="ignore"):  # infinite gradients: nan spreads, named as non-finite
        std, mean = per_sample.std(axis=0), per_sample.mean(axis=0)
    return {"std": params_data(net.params(std)), "mean": params_data(net.params(mean))}
