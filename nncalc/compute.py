"""One command's result data: the engine's numbers, in the arithmetic and notation asked for.

Floats come from the numpy engine. Exact (`--exact`) and exam (`--round N`) arithmetic come from
the hand engine, in the same result shape, so every renderer shows them unchanged; in exam
arithmetic the data also says which values differ from full precision. Derivations (`--explain`)
are always worked by the hand engine, in the arithmetic of the rest of the output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import engine
from .errors import Problem, SpecError
from .notation import SEED, Notation
from .results import BackpropResult, ForwardResult, finish_data, params_data
from .spec import OptimizerChoice, Spec

if TYPE_CHECKING:  # the hand engine and derivations load only when a run needs them
    from fractions import Fraction

    from .hand import Arithmetic, Hand, Trace

Command = Literal["forward", "backprop", "explain"]

# Sections of the data that the computation produces (the rest is given by the spec).
COMPUTED = (
    "neurons",
    "outputs",
    "probabilities",
    "loss",
    "sample_losses",
    "gradients",
    "updated",
    "loss_after",
    "input_gradients",
)
_NEURON_VALUES = ("pre_activation", "activation", "delta")


@dataclasses.dataclass(frozen=True)
class Mode:
    """The arithmetic and notation of one run."""

    notation: Notation = SEED
    exact: bool = False
    decimals: int | None = None  # exam arithmetic: round every written-down step

    def __post_init__(self) -> None:
        if self.exact and self.decimals is not None:
            raise ValueError("exact and exam arithmetic exclude each other: give one")
        if self.decimals is not None and not 0 <= self.decimals <= 15:
            raise ValueError(f"decimals must be 0 … 15, got {self.decimals}")

    def arithmetic(self, spec: Spec) -> Arithmetic:
        from .hand import Arithmetic

        if self.exact:
            return Arithmetic("exact", fractions=spec.fractions)
        if self.decimals is not None:
            return Arithmetic("round", self.decimals, spec.fractions)
        return Arithmetic("float", fractions=spec.fractions)


def worked(spec: Spec, mode: Mode, lr: float | None) -> tuple[Hand, Trace]:
    """The step worked by hand in the mode's arithmetic."""
    from .hand import Hand

    hand = Hand(spec, mode.arithmetic(spec))
    try:
        return hand, hand.backprop(lr)
    except OverflowError:  # a fraction past ±1.8e308 met a float (a log, an inf) it must join
        message = (
            "exact and exam arithmetic reach a number beyond the float range (±1.8e308) where "
            "it meets a value computed in floats; drop --exact or --round for this spec"
        )
        raise SpecError([Problem(spec.source, 0, 0, message)]) from None


def result_data(
    spec: Spec,
    command: Command,
    mode: Mode = Mode(),
    lr: float | None = None,
    params: Sequence[str] = (),
    optimizer: OptimizerChoice | None = None,
) -> dict[str, Any]:
    """The data of `forward`, `backprop` (with derivations when `params` is not None for
    `explain`, or `command` is "explain") in the given mode. `optimizer` overrides the spec's;
    without either, the step is plain SGD."""
    explain = command == "explain" or bool(params)
    choice = optimizer or spec.optimizer
    if command != "forward" and choice is not None and not _plain_sgd(choice):
        if explain or mode.exact or mode.decimals is not None:
            what = "derivations" if explain else "exact and exam arithmetic"
            message = (
                f"{what} work plain SGD steps; the optimizer {choice.name} is not supported "
                "there; remove the spec's optimizer, or use plain backprop"
            )
            if spec.optimizer is None or choice.name != spec.optimizer.name:  # --optimizer
                raise SpecError([Problem("<command line>", 0, 0, message)])
            raise SpecError([spec.problem(("optimizer",), message)])
        stepped, section = _optimizer_step(spec, engine.backprop(spec, lr), choice)
        data = dataclasses.replace(stepped, notation=mode.notation).to_data()
        # A frozen param's m̂ and v̂ are nan on purpose (it takes no step): null, no warning.
        section["report"] = _nan_as_null(section["report"])  # an infinite m̂ is still named
        plain = finish_data({"optimizer": section}, [])
        data["optimizer"] = plain["optimizer"]
        data["warnings"] += plain["warnings"]
        return data
    if command != "forward" and spec.state is not None and spec.state.buffers:
        name = (choice or OptimizerChoice("sgd", {})).name
        first = next(iter(spec.state.buffers))
        message = (
            f"the state has buffers ({', '.join(spec.state.buffers)}), which {name} does not "
            "keep; name the optimizer they belong to"
        )
        raise SpecError([spec.problem(("state", first), message)])
    if not mode.exact and mode.decimals is None:
        result: ForwardResult = (
            engine.forward(spec) if command == "forward" else engine.backprop(spec, lr)
        )
        result = dataclasses.replace(result, notation=mode.notation)
        data = result.to_data()
        if explain:
            hand, trace = worked(spec, mode, lr)
            _add_explanation(data, _explanation(hand, trace, mode.notation, params))
    else:
        hand, trace = worked(spec, mode, lr)
        full = hand.result(trace)
        full = dataclasses.replace(full, notation=mode.notation)
        shown = full if command != "forward" else _forward_only(full)
        data = shown.to_data()
        if mode.exact:
            data["exact"].update(_given_exactly(spec, hand.arith))
        if explain:
            _add_explanation(data, _explanation(hand, trace, mode.notation, params))
        if mode.decimals is not None:
            reference = engine.forward(spec) if command == "forward" else engine.backprop(spec, lr)
            data["rounding"] = {
                "decimals": mode.decimals,
                "differs": differences(data, reference.to_data(), mode.decimals),
            }
    if command == "explain":
        data["command"] = "explain"
    return data


def _nan_as_null(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nan_as_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_as_null(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _plain_sgd(choice: OptimizerChoice) -> bool:
    return choice.name == "sgd" and not choice.hyper.get("weight_decay")


def _optimizer_step(
    spec: Spec, result: BackpropResult, choice: OptimizerChoice
) -> tuple[BackpropResult, dict[str, Any]]:
    """The backprop result with the optimizer's step in place of plain SGD's, and the
    "optimizer" section of the data: hyper-parameters, step number, state before and after."""
    from . import optim

    opt = optim.get(choice.name)
    hyper = optim.hyperparameters(opt, choice.hyper)
    net = result.network
    before = state_of(spec, net, opt)
    section: dict[str, Any] = {
        "name": opt.name,
        "torch": opt.torch_equivalent,
        "hyperparameters": hyper,
        "formulas": list(opt.formulas),
        "step": before.step + 1,
        "state_before": {b: params_data(net.params(v)) for b, v in before.buffers.items()},
        "state_after": None,
        "report": None,
    }
    if result.learning_rate is None:
        return result, section
    with np.errstate(all="ignore"):
        done = optim.step(
            opt, result.theta, result.gradient, before, result.learning_rate, net.trainable, hyper
        )
        after = engine.loss_at(spec, net, done.theta)
    section["state_after"] = {b: params_data(net.params(v)) for b, v in done.state.buffers.items()}
    section["report"] = {k: params_data(net.params(v)) for k, v in done.report.items()}
    stepped = dataclasses.replace(result, updated_theta=done.theta, loss_after=after)
    return stepped, section


def state_of(spec: Spec, net: Any, opt: Any) -> Any:
    """The spec's optimizer state as flat buffers over θ (absent: the state before step 1)."""
    from . import optim

    if spec.state is None:
        return optim.initial_state()
    buffers: dict[str, np.ndarray[Any, Any]] = {}
    for name, values in spec.state.buffers.items():
        if name not in opt.buffers:
            message = (
                f"the state has a buffer '{name}', which {opt.name} does not keep "
                f"(it keeps {', '.join(opt.buffers) or 'none'})"
            )
            raise SpecError([spec.problem(("state", name), message)])
        flat = np.zeros_like(net.theta)
        for slot in net.slots:
            flat[slot.offset : slot.offset + slot.size] = np.ravel(values[slot.name])
        buffers[name] = flat
    return optim.State(spec.state.step, buffers)


def check_data(
    spec: Spec, answers: str, mode: Mode = Mode(), lr: float | None = None
) -> dict[str, Any]:
    """The backprop data with every answer of the `answers` file judged."""
    from fractions import Fraction

    from .hand import Hand
    from .marking import check

    if spec.optimizer is not None and not _plain_sgd(spec.optimizer):
        message = (
            f"check works plain SGD steps; the spec's optimizer {spec.optimizer.name} is not "
            "supported there (remove 'optimizer' to check the gradients)"
        )
        raise SpecError([spec.problem(("optimizer",), message)])
    data = result_data(spec, "backprop", mode, lr)
    hand = Hand(spec, mode.arithmetic(spec))
    judged, summary = check(spec, answers, hand=hand, notation=mode.notation, lr=lr)
    data["command"] = "check"
    data["answers_source"] = "<stdin>" if answers == "-" else answers
    warnings = data.pop("warnings")
    in_fractions = mode.exact or mode.decimals is not None
    finished = finish_data({"answers": judged}, [], exact=mode.exact, fractions=in_fractions)
    if mode.exact:
        data["exact"].update(finished["exact"])
        for entry, raw in zip(finished["answers"], judged, strict=True):
            entry["correct_exact"] = str(Fraction(raw["correct"]))
    data["answers"] = finished["answers"]
    data["summary"] = summary
    data["warnings"] = warnings + finished["warnings"]
    return data


def _given_exactly(spec: Spec, arith: Arithmetic) -> dict[str, str]:
    """The exact forms of the inputs and targets, which the data holds as the spec's floats."""
    out: dict[str, str] = {}
    tables = [("inputs", spec.input_names, spec.inputs)]
    if spec.targets is not None:
        tables.append(("targets", spec.outputs, spec.targets))
    for key, names, values in tables:
        for j, name in enumerate(names):
            for sample, value in enumerate(values[:, j].tolist()):
                where = f"{key}.{name}" + (f"[{sample}]" if spec.batched else "")
                out[where] = str(arith.number(value))
    return out


def _explanation(
    hand: Hand, trace: Trace, notation: Notation, params: Sequence[str]
) -> dict[str, Any]:
    from .derivation import explanation, select

    chosen = select(hand.net, params, hand.spec.source)
    return explanation(hand, trace, notation, chosen, forward=not params)


def _add_explanation(data: dict[str, Any], explained: dict[str, Any]) -> None:
    """The derivations into the data, with a warning when some of their numbers are not finite
    (they are null, like every other non-finite value)."""
    data["explanation"] = explained
    numbers = (n for s in explained["sections"] for e in s["equations"] for n in e["numbers"])
    if any(n is None for n in numbers):
        data["warnings"].append(
            "non-finite values in the derivations are shown as n/a (null in JSON)"
        )


def _forward_only(result: BackpropResult) -> ForwardResult:
    names = [f.name for f in dataclasses.fields(ForwardResult)]
    return ForwardResult(**{name: getattr(result, name) for name in names})


def leaves(data: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(PATH, value) for every number of the data, paths as in the documented grammar."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaves(value, f"{path}[{i}]")
    elif isinstance(data, float | int) and not isinstance(data, bool):
        yield path, data


def _half_unit(decimals: int) -> Fraction:
    from fractions import Fraction

    return Fraction(1, 2 * 10**decimals) * (1 + Fraction(1, 10**9))


def differences(rounded: dict[str, Any], full: dict[str, Any], decimals: int) -> dict[str, float]:
    """PATH → full-precision value, for each computed value whose exam-arithmetic result is not
    the full-precision value rounded to the same places."""
    from fractions import Fraction

    computed = {key: full[key] for key in COMPUTED if key in full}
    out: dict[str, float] = {}
    mine = dict(leaves({key: rounded.get(key) for key in COMPUTED if key in rounded}))
    for path, value in leaves(computed):
        if path.startswith("neurons.") and path.split(".")[-1].split("[")[0] not in _NEURON_VALUES:
            continue
        shown = mine.get(path)
        if shown is None:
            continue
        # Not a rounding of the full-precision value (a hair of slack: 0.3925 computed in
        # floats is 0.39249999999999996, and exam arithmetic rightly rounds it up to 0.393).
        if abs(Fraction(repr(float(shown))) - Fraction(value)) > _half_unit(decimals):
            out[path] = float(value)
    return out
