"""Plain YAML data → a validated, frozen network spec (named or layered form).

Every problem in a file is collected and reported together, each at its own line and column,
naming what is allowed and the closest match for a typo.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from . import activations, losses
from .errors import Problem, SpecError, choice_hint
from .yamlio import Document, KeyPath, parse, read_text

if TYPE_CHECKING:
    from fractions import Fraction

    from numpy.typing import NDArray

    Array = NDArray[np.float64]
Form = Literal["named", "layered"]
Weight = str | float  # a param name (trainable) or a constant

MAX_PROBLEMS = 50  # report at most this many problems of one file

COMMON_KEYS = (
    "title",
    "inputs",
    "target",
    "data",
    "loss",
    "reduction",
    "learning_rate",
    "frozen",
    "optimizer",
    "state",
)
NAMED_KEYS = (*COMMON_KEYS, "params", "neurons", "outputs")
LAYERED_KEYS = (*COMMON_KEYS, "layers")
NEURON_KEYS = ("from", "bias", "activation")
LAYER_KEYS = ("weights", "bias", "activation", "names")
SAMPLE_KEYS = ("inputs", "target")
REDUCTIONS = ("mean", "sum")


class Neuron(NamedTuple):
    """One unit of the named form: a = Σ source·weight (+ bias), z = activation(a)."""

    name: str
    terms: tuple[tuple[str, Weight], ...]  # (source, weight) in spec order
    bias: Weight | None
    activation: activations.Activation


class OptimizerChoice(NamedTuple):
    """An optimizer by name, with the hyper-parameters given (the rest are its defaults)."""

    name: str
    hyper: dict[str, float]


class OptimizerState(NamedTuple):
    """An optimizer's state before the step: steps already taken, buffers by param name."""

    step: int
    buffers: dict[str, dict[str, float | Array]]


class Layer(NamedTuple):
    """One layer of the layered form: a = W·z_prev (+ b), z = activation(a)."""

    weight: str  # param name, W1, W2, …
    bias: str | None  # b1, b2, … or None
    activation: activations.Activation
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Spec:
    """A validated network with its data. Values are float64; per-sample arrays are (batch, n)."""

    source: str
    title: str | None
    form: Form
    input_names: tuple[str, ...]
    inputs: Array  # (batch, inputs)
    batched: bool  # True when given as `data:` (results are then per sample)
    params: dict[str, float | Array]  # spec order; named: scalars, layered: W1, b1, W2, …
    neurons: tuple[Neuron, ...]  # named form
    layers: tuple[Layer, ...]  # layered form
    outputs: tuple[str, ...]
    targets: Array | None  # (batch, outputs), None when the loss needs none
    loss: losses.Loss
    reduction: Literal["mean", "sum"]
    learning_rate: float | None
    frozen: frozenset[str]
    warnings: tuple[str, ...] = field(default=())
    # Numbers written as 'p/q', by their float value: exact arithmetic reads them exactly.
    fractions: Mapping[float, Fraction] = field(default_factory=dict)
    optimizer: OptimizerChoice | None = None
    state: OptimizerState | None = None
    # The parsed file, to locate problems only a later stage can see (an optimizer a mode
    # refuses, say); None for a spec built in code.
    document: Document | None = field(default=None, repr=False)

    @property
    def neuron_names(self) -> tuple[str, ...]:
        if self.form == "named":
            return tuple(n.name for n in self.neurons)
        return tuple(name for layer in self.layers for name in layer.names)

    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[0])

    def problem(self, path: KeyPath, message: str) -> Problem:
        """A problem with the spec's value at `path`, at its place in the file when known."""
        if self.document is None:
            return Problem(self.source, 0, 0, message)
        return self.document.problem(path, f"{_where(path)}{message}")


def load_spec(path_or_text: str | Path, *, source: str | None = None, exact: bool = False) -> Spec:
    """Read and validate a spec from a file path (a `Path`, or a one-line `str`), or YAML text.

    A `str` holding a newline, or starting with '{', is taken as YAML text; '-' is standard input.
    With `exact`, activations and the loss must be ones exact arithmetic can work (rational).
    Raises SpecError with every problem found, each at its position.
    """
    if isinstance(path_or_text, str) and ("\n" in path_or_text or path_or_text.lstrip()[:1] == "{"):
        return validate(parse(path_or_text, source or "<string>"), exact=exact)
    text = read_text(path_or_text)
    name = "<stdin>" if str(path_or_text) == "-" else str(path_or_text)
    return validate(parse(text, source or name), exact=exact)


def validate(doc: Document, *, exact: bool = False) -> Spec:
    """Turn a parsed document into a Spec, or raise SpecError listing every problem."""
    return _Validator(doc, exact=exact).spec()


def validate_activation(doc: Document) -> activations.Activation:
    """One activation as a spec writes it: a name or alias, or a mapping with `name` and
    parameters. Raises SpecError with the spec's own messages (`nncalc activations` reads its
    arguments this way)."""
    validator = _Validator(doc)
    activation = _Body(validator).activation((), doc.data)
    if validator.problems or activation is None:
        raise SpecError(validator.problems)
    return activation


class _Invalid(Exception):
    """Raised inside the validator when a problem makes going further meaningless."""


class _Validator:
    def __init__(self, doc: Document, *, exact: bool = False) -> None:
        self.doc = doc
        self.exact = exact  # --exact: only rational activations and losses
        self.problems: list[Problem] = list(doc.problems)
        self.yaml_positions = {(p.line, p.column) for p in doc.problems}
        self.warnings: list[str] = []
        self.fractions: dict[float, Fraction] = {}

    # --- reporting -------------------------------------------------------------------------

    def error(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        problem = self.doc.problem(path, f"{_where(path)}{message}", key=key)
        if (problem.line, problem.column) not in self.yaml_positions:  # said there already
            self.problems.append(problem)

    def warn(self, path: KeyPath, message: str) -> None:
        self.warnings.append(str(self.doc.problem(path, message)))

    def fail(self) -> SpecError:
        problems = self.problems
        if len(problems) > MAX_PROBLEMS:
            last = problems[MAX_PROBLEMS - 1]
            more = len(problems) - MAX_PROBLEMS + 1
            problems = [
                *problems[: MAX_PROBLEMS - 1],
                Problem(
                    last.source, last.line, last.column, f"… and {more} more problems like these"
                ),
            ]
        return SpecError(problems)

    # --- small checkers --------------------------------------------------------------------

    def mapping(self, path: KeyPath, value: Any, what: str) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"expected {what} (a mapping of name: value), got {_kind(value)}")
        return None

    def sequence(self, path: KeyPath, value: Any, what: str) -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.error(path, f"expected {what} (a list), got {_kind(value)}")
        return None

    def number(self, path: KeyPath, value: Any, what: str = "a number") -> float | None:
        if isinstance(value, str) and is_fraction(value):
            return self.fraction(path, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"expected {what}, got {_kind(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            self.error(path, f"expected {what}, got an integer too large for a float")
            return None
        if not math.isfinite(number):
            self.error(path, f"expected {what}, got {value}; numbers must be finite")
            return None
        return number

    def fraction(self, path: KeyPath, text: str) -> float | None:
        """A number written 'p/q': its float, with the exact value kept for --exact."""
        from fractions import Fraction

        numerator, denominator = (int(part) for part in text.split("/"))
        if denominator == 0:
            self.error(path, f"'{text}' divides by zero")
            return None
        exact = Fraction(numerator, denominator)
        try:
            value = float(exact)
        except OverflowError:
            self.error(path, f"'{_shortened(text)}' is too large for a float (beyond ±1.8e308)")
            return None
        self.fractions[value] = exact
        return value

    def name(self, path: KeyPath, value: Any, what: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.error(path, f"{_article(what)} name must be text, got {_kind(value)}", key=True)
            return None
        if " " in value or not value.isprintable():  # every other space is unprintable
            self.error(path, f"{what} name '{value}' must not contain spaces", key=True)
            return None
        return value

    def unknown_keys(
        self, path: KeyPath, mapping: Mapping[Any, Any], allowed: Sequence[str], what: str
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(
                    (*path, key),
                    f"unknown key '{key}' in {what}" + choice_hint(str(key), allowed, noun="keys"),
                    key=True,
                )

    def numbers(self, path: KeyPath, value: Any, what: str) -> Array | None:
        """A list of numbers as a float vector."""
        items = self.sequence(path, value, what)
        if items is None:
            return None
        if _all_numbers(items):
            try:
                out = np.asarray(items, dtype=np.float64)
            except OverflowError:  # an int too large for a float: reported below
                out = np.full(1, np.nan)
            if np.isfinite(out).all():
                return out
        ok = [self.number((*path, i), v) for i, v in enumerate(items)]
        return None if any(v is None for v in ok) else np.asarray(ok, dtype=np.float64)

    def matrix(self, path: KeyPath, value: Any, what: str) -> Array | None:
        """A list of equally long lists of numbers as a float matrix (rows × columns)."""
        rows = self.sequence(path, value, f"{what} (a list of rows)")
        if rows is None:
            return None
        if not rows:
            self.error(path, f"{what} needs at least one row")
            return None
        vectors = [self.numbers((*path, i), row, "a row of numbers") for i, row in enumerate(rows)]
        if any(v is None for v in vectors):
            return None
        widths = {len(v) for v in vectors if v is not None}
        if len(widths) != 1:
            first = len(rows[0])
            for i, row in enumerate(rows):
                if len(row) != first:
                    self.error(
                        (*path, i),
                        f"row {i + 1} of {what} has {_count(len(row), 'number')} but "
                        f"row 1 has {first}; every row needs one weight per input",
                    )
            return None
        if 0 in widths:
            self.error(path, f"the rows of {what} are empty")
            return None
        return np.vstack([v for v in vectors if v is not None])

    # --- the document ------------------------------------------------------------------------

    def spec(self) -> Spec:
        try:
            spec = self._spec()
        except _Invalid:
            spec = None
        if self.problems or spec is None:
            raise self.fail()
        return spec

    def _spec(self) -> Spec:
        root = self.doc.data
        if root is None:
            self.error(
                (),
                "the spec is empty; expected a mapping with 'inputs' and 'neurons' "
                "(named form) or 'inputs' and 'layers' (layered form)",
            )
            raise _Invalid
        if not isinstance(root, dict):
            self.error(
                (),
                f"expected a mapping with 'inputs' and 'neurons' or 'layers' at the "
                f"top of the spec, got {_kind(root)}",
            )
            raise _Invalid
        if "neurons" in root and "layers" in root:
            self.error(
                ("layers",),
                "a spec has either 'neurons' (named form) or 'layers' (layered form), not both",
                key=True,
            )
            raise _Invalid
        if "layers" in root:
            form: Form = "layered"
            self.unknown_keys((), root, LAYERED_KEYS, "a layered spec")
        else:
            form = "named"
            if "neurons" not in root:
                self.error((), "missing 'neurons' (named form) or 'layers' (layered form)")
                raise _Invalid
            self.unknown_keys((), root, NAMED_KEYS, "a named spec")

        title = root.get("title")
        if title is not None and (
            isinstance(title, bool) or not isinstance(title, str | int | float)
        ):
            hint = "; quote it to mean the text" if isinstance(title, bool) else ""
            self.error(("title",), f"expected text, got {_kind(title)}{hint}")
        elif isinstance(title, str) and not title.isprintable():
            # Control characters (a terminal escape, say) would act on the reader's terminal.
            self.error(("title",), "the title must be printable text on one line")
        loss = self._loss(root)
        reduction = self._reduction(root)
        learning_rate = self._learning_rate(root)

        body: _Body = _NamedBody(self, root) if form == "named" else _LayeredBody(self, root)
        frozen = self._frozen(root, body.declared)
        input_names, inputs, targets, batched = self._data(root, body, loss)

        optimizer = self._optimizer(root)
        state = self._state(root, body.params, optimizer)

        if loss is not None and loss.applies_softmax and body.ends_in_softmax():
            self.warn(
                ("loss",),
                "the output layer already applies softmax and the loss "
                "softmax_cross_entropy applies it again; use cross_entropy on "
                "probabilities, or an identity output layer with softmax_cross_entropy",
            )
        if self.problems or loss is None or inputs is None:
            raise _Invalid
        return Spec(
            source=self.doc.source,
            title=None if title is None else str(title),
            form=form,
            input_names=input_names,
            inputs=inputs,
            batched=batched,
            params=body.params,
            neurons=body.neurons,
            layers=body.layers,
            outputs=body.outputs,
            targets=targets,
            loss=loss,
            reduction=reduction,
            learning_rate=learning_rate,
            frozen=frozen,
            warnings=tuple(self.warnings),
            fractions=self.fractions,
            optimizer=optimizer,
            state=state,
            document=self.doc,
        )

    def _loss(self, root: dict[Any, Any]) -> losses.Loss | None:
        name = root.get("loss", "half_squared_error")
        if not isinstance(name, str):
            self.error(
                ("loss",),
                f"expected a loss name, got {_kind(name)}"
                + choice_hint("", losses.REGISTRY, noun="losses"),
            )
            return None
        cls = losses.REGISTRY.get(losses.ALIASES.get(name, name))
        if cls is None:
            self.error(
                ("loss",),
                f"unknown loss '{name}'"
                + choice_hint(name, losses.REGISTRY, noun="losses", aliases=losses.ALIASES),
            )
            return None
        if self.exact and not cls.rational:
            allowed = [n for n, c in losses.REGISTRY.items() if c.rational]
            self.error(
                ("loss",),
                f"--exact needs a polynomial or piecewise-linear loss, but {cls.name} takes "
                f"logarithms; allowed with --exact: {', '.join(allowed)} (or use --round N)",
            )
            return None
        return cls()

    def _reduction(self, root: dict[Any, Any]) -> Literal["mean", "sum"]:
        value = root.get("reduction", "mean")
        if value == "sum":
            return "sum"
        if not isinstance(value, str):
            self.error(("reduction",), f"expected 'mean' or 'sum', got {_kind(value)}")
        elif value != "mean":
            self.error(
                ("reduction",), f"unknown reduction '{value}'" + choice_hint(value, REDUCTIONS)
            )
        return "mean"

    def _learning_rate(self, root: dict[Any, Any]) -> float | None:
        if "learning_rate" not in root or root["learning_rate"] is None:
            return None
        lr = self.number(("learning_rate",), root["learning_rate"], "a learning rate (a number)")
        if lr is not None and lr < 0:
            self.error(("learning_rate",), f"the learning rate must be ≥ 0, got {lr:g}")
            return None
        return lr

    def _optimizer(self, root: dict[Any, Any]) -> OptimizerChoice | None:
        raw = root.get("optimizer")
        if raw is None:
            return None
        from . import optim  # a spec without an optimizer never loads them

        path: KeyPath = ("optimizer",)
        fields: dict[Any, Any] = {}
        if isinstance(raw, dict):
            if "name" not in raw:
                self.error(path, "an optimizer mapping needs 'name', e.g. {name: adam, beta1: 0.9}")
                return None
            fields, name, path = raw, raw["name"], ("optimizer", "name")
        else:
            name = raw
        if not isinstance(name, str) or name not in optim.OPTIMIZERS:
            shown = f"'{name}'" if isinstance(name, str) else _kind(name)
            self.error(
                path,
                f"unknown optimizer {shown}"
                + choice_hint(
                    name if isinstance(name, str) else "", optim.OPTIMIZERS, noun="optimizers"
                ),
            )
            return None
        chosen = optim.OPTIMIZERS[name]
        hyper: dict[str, float] = {}
        for key, value in fields.items():
            if key == "name":
                continue
            where: KeyPath = ("optimizer", key)
            if key not in chosen.defaults:
                self.error(
                    where,
                    f"{name} has no hyper-parameter '{key}'"
                    + choice_hint(str(key), chosen.defaults, noun="hyper-parameters"),
                    key=True,
                )
                continue
            number = self.number(where, value)
            if number is None:
                continue
            try:
                optim.hyperparameters(chosen, {str(key): number})
            except ValueError as exc:
                self.error(where, str(exc))
                continue
            hyper[str(key)] = number
        return OptimizerChoice(name, hyper)

    def _state(
        self,
        root: dict[Any, Any],
        params: Mapping[str, float | Array],
        optimizer: OptimizerChoice | None,
    ) -> OptimizerState | None:
        raw = (
            self.mapping(("state",), root["state"], "the optimizer's state")
            if root.get("state") is not None
            else None
        )
        if raw is None:
            return None
        from . import optim

        keeps = (
            optim.OPTIMIZERS[optimizer.name].buffers
            if optimizer is not None
            else tuple(dict.fromkeys(b for o in optim.OPTIMIZERS.values() for b in o.buffers))
        )
        step = raw.get("step")
        if step is None:
            self.error(("state",), "the state needs 'step': how many steps were already taken")
        elif isinstance(step, bool) or not isinstance(step, int) or step < 0:
            self.error(("state", "step"), f"expected a whole number ≥ 0, got {_kind(step)}")
        buffers: dict[str, dict[str, float | Array]] = {}
        for key, value in raw.items():
            if key == "step":
                continue
            where: KeyPath = ("state", key)
            if key not in keeps:
                whose = f" of {optimizer.name}" if optimizer is not None else ""
                self.error(
                    where,
                    f"unknown state buffer '{key}'"
                    + choice_hint(str(key), keeps, noun=f"buffers{whose}"),
                    key=True,
                )
                continue
            values = self.mapping(where, value, f"the buffer {key} (param name: value)")
            if values is None:
                continue
            buffer: dict[str, float | Array] = {}
            for param, given in values.items():
                at: KeyPath = (*where, param)
                if param not in params:
                    self.error(
                        at,
                        f"'{param}' is not a param"
                        + choice_hint(str(param), params, noun="params"),
                        key=True,
                    )
                    continue
                shape = np.shape(params[param])
                if not shape:
                    number = self.number(at, given)
                    if number is not None:
                        buffer[str(param)] = number
                    continue
                array = (
                    self.numbers(at, given, f"{param}'s buffer values")
                    if len(shape) == 1
                    else self.matrix(at, given, f"{param}'s buffer values")
                )
                if array is not None and array.shape != shape:
                    self.error(at, f"expected the shape of {param}, {shape}, got {array.shape}")
                elif array is not None:
                    buffer[str(param)] = array
            if key in ("square_avg", "exp_avg_sq") and any(
                np.any(np.asarray(v) < 0) for v in buffer.values()
            ):
                self.error(where, f"the buffer {key} holds squares: its values must be ≥ 0")
            missing = [p for p in params if p not in values]
            if missing:
                self.error(where, f"the buffer {key} has no value for {_list(missing)}")
            buffers[str(key)] = buffer
        if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
            return OptimizerState(step, buffers)
        return None

    def _frozen(self, root: dict[Any, Any], params: Collection[str]) -> frozenset[str]:
        if root.get("frozen") is None:
            return frozenset()
        items = self.sequence(("frozen",), root["frozen"], "a list of param names")
        names: set[str] = set()
        for i, item in enumerate(items or []):
            if isinstance(item, str) and item in params:
                names.add(item)
            else:
                self.error(
                    ("frozen", i),
                    f"'{item}' is not a param" + choice_hint(str(item), params, noun="params"),
                )
        return frozenset(names)

    def _data(
        self, root: dict[Any, Any], body: _Body, loss: losses.Loss | None
    ) -> tuple[tuple[str, ...], Array | None, Array | None, bool]:
        needs_target = loss is None or loss.needs_target
        if "data" in root:
            for key in ("inputs", "target"):
                if key in root:
                    self.error(
                        (key,),
                        f"'{key}' and 'data' cannot both be given; put each "
                        "sample's inputs and target under 'data'",
                        key=True,
                    )
            samples = self.sequence(("data",), root["data"], "a list of samples")
            if samples is None:
                raise _Invalid
            if not samples:
                self.error(("data",), "'data' needs at least one sample")
                raise _Invalid
            rows: list[Array] = []
            target_rows: list[Array] = []
            names: tuple[str, ...] = ()
            first = 0
            for i, sample in enumerate(samples):
                path: KeyPath = ("data", i)
                if self.mapping(path, sample, "a sample with 'inputs' and 'target'") is None:
                    continue
                self.unknown_keys(path, sample, SAMPLE_KEYS, "a sample")
                if "inputs" not in sample:
                    self.error(path, "this sample has no 'inputs'")
                    continue
                sample_names, row = body.inputs((*path, "inputs"), sample["inputs"])
                if not names:  # the first sample whose input names are known sets them
                    names, first = sample_names, i
                elif row is not None and sample_names != names and set(sample_names) == set(names):
                    row = row[[sample_names.index(n) for n in names]]
                elif row is not None and sample_names != names:
                    self.error(
                        (*path, "inputs"),
                        f"sample {i + 1} has inputs "
                        f"{', '.join(sample_names)} but sample {first + 1} has {', '.join(names)}",
                    )
                    row = None
                target = self._target((*path, "target"), sample, body, needs_target)
                if row is not None:
                    rows.append(row)
                if target is not None:
                    target_rows.append(target)
            body.check_inputs(names)
            if self.problems:
                raise _Invalid
            targets = np.vstack(target_rows) if needs_target else None
            return names, np.vstack(rows), targets, True
        if "inputs" not in root:
            self.error((), "missing 'inputs' (or 'data', a list of samples)")
            raise _Invalid
        names, row = body.inputs(("inputs",), root["inputs"])
        body.check_inputs(names)
        target = self._target(("target",), root, body, needs_target)
        if row is None or (needs_target and target is None):
            raise _Invalid
        return names, row[None, :], None if target is None else target[None, :], False

    def _target(
        self, path: KeyPath, where: Mapping[str, Any], body: _Body, needs_target: bool
    ) -> Array | None:
        if not body.outputs_known:  # already reported; targets cannot be checked against it
            return None
        if "target" not in where or where["target"] is None:
            if needs_target:
                self.error(
                    path if "target" in where else path[:-1],
                    ("'target' is empty" if "target" in where else "missing 'target'")
                    + f": the loss needs a target for {_list(body.outputs)}",
                )
            return None
        if not needs_target:
            self.warn(path, "the loss 'output' uses no target; the target is ignored")
            return None
        return body.target(path, where["target"])


class _Body:
    """What differs between the two forms: params, structure, inputs and targets."""

    params: dict[str, float | Array]
    neurons: tuple[Neuron, ...] = ()
    layers: tuple[Layer, ...] = ()
    outputs: tuple[str, ...] = ()

    def __init__(self, v: _Validator) -> None:
        self.v = v
        self.declared: dict[str, None] = {}  # param names as written (valid or not), in order
        self.outputs_known = True  # False when the outputs could not be told

    def inputs(self, path: KeyPath, value: Any) -> tuple[tuple[str, ...], Array | None]:
        raise NotImplementedError

    def check_inputs(self, names: tuple[str, ...]) -> None:
        pass

    def target(self, path: KeyPath, value: Any) -> Array | None:
        raise NotImplementedError

    def ends_in_softmax(self) -> bool:
        return False

    def activation(self, path: KeyPath, value: Any) -> activations.Activation | None:
        v = self.v
        names = activations.REGISTRY
        if isinstance(value, dict):
            if "name" not in value:
                v.error(
                    path, "an activation mapping needs 'name', e.g. {name: leaky_relu, alpha: 0.1}"
                )
                return None
            name, params, name_path = value["name"], value, (*path, "name")
        else:
            name, params, name_path = value, {}, path
        if not isinstance(name, str):
            v.error(
                name_path,
                f"expected an activation name, got {_kind(name)}"
                + choice_hint("", names, noun="activations"),
            )
            return None
        cls = activations.REGISTRY.get(activations.ALIASES.get(name, name))
        if cls is None:
            v.error(
                name_path,
                f"unknown activation '{name}'"
                + choice_hint(name, names, noun="activations", aliases=activations.ALIASES),
            )
            return None
        if v.exact and not cls.rational:
            allowed = [n for n, c in names.items() if c.rational]
            v.error(
                name_path,
                f"--exact needs piecewise-linear activations, but {cls.name} has irrational "
                f"values; allowed with --exact: {', '.join(allowed)} (or use --round N, exam "
                "arithmetic, with any activation)",
            )
            return None
        values: dict[str, float] = {}
        for key, raw in params.items():
            if key == "name":
                continue
            if key not in cls.defaults:
                if cls.defaults:
                    hint = choice_hint(str(key), cls.defaults, noun="parameters")
                else:
                    hint = f" ({cls.name} takes no parameters)"
                v.error((*path, key), f"unknown parameter '{key}' for {cls.name}{hint}", key=True)
                continue
            number = v.number((*path, key), raw)
            if number is not None:
                values[str(key)] = number
        return cls(**values)


class _NamedBody(_Body):
    def __init__(self, v: _Validator, root: dict[Any, Any]) -> None:
        super().__init__(v)
        self.params = self._params(root.get("params"))
        raw_neurons = v.mapping(("neurons",), root["neurons"], "the neurons")
        if raw_neurons is None:
            raise _Invalid
        if not raw_neurons:
            v.error(("neurons",), "'neurons' needs at least one neuron")
            raise _Invalid
        self.neuron_names = [n for n in raw_neurons if v.name(("neurons", n), n, "neuron")]
        for name in self.neuron_names:
            if name in self.params:
                v.error(("neurons", name), f"'{name}' names both a neuron and a param", key=True)
        self.raw_neurons = raw_neurons
        # Each neuron's source names as written, kept even when the neuron has other problems,
        # so that one typo does not hide or fake problems elsewhere.
        self.sources: dict[str, list[str]] = {
            name: [s for s in raw_neurons[name]["from"] if isinstance(s, str)]
            if isinstance(raw_neurons[name], dict)
            and isinstance(raw_neurons[name].get("from"), dict)
            else []
            for name in self.neuron_names
        }
        self.input_names: tuple[str, ...] = ()
        self.used_params: set[str] = set()
        self.neurons = tuple(
            n
            for n in (self._neuron(name, raw_neurons[name]) for name in self.neuron_names)
            if n is not None
        )
        self._check_acyclic()
        self.outputs = self._outputs(root)

    def _params(self, raw: Any) -> dict[str, float | Array]:
        v = self.v
        if raw is None:
            return {}
        mapping = v.mapping(("params",), raw, "the params")
        out: dict[str, float | Array] = {}
        for name, value in (mapping or {}).items():
            if v.name(("params", name), name, "param"):
                self.declared[name] = None  # declared even when its value is bad
                number = v.number(("params", name), value)
                if number is not None:
                    out[name] = number
        return out

    def _neuron(self, name: str, raw: Any) -> Neuron | None:
        v = self.v
        path: KeyPath = ("neurons", name)
        if v.mapping(path, raw, f"neuron '{name}' with 'from' and 'activation'") is None:
            return None
        v.unknown_keys(path, raw, NEURON_KEYS, f"neuron '{name}'")
        if "from" not in raw:
            v.error(
                path,
                f"neuron '{name}' has no 'from' (its sources and weights, "
                "e.g. from: {x1: w1, x2: w2})",
            )
        if "activation" not in raw:
            v.error(
                path,
                f"neuron '{name}' has no 'activation'"
                + choice_hint("", activations.REGISTRY, noun="activations"),
            )
        terms: list[tuple[str, Weight]] = []
        sources = v.mapping((*path, "from"), raw.get("from", {}), "sources with their weights")
        if sources is not None and not sources and "from" in raw:
            v.error((*path, "from"), f"neuron '{name}' needs at least one source")
        for source, weight in (sources or {}).items():
            spath: KeyPath = (*path, "from", source)
            if not isinstance(source, str):
                v.error(
                    spath,
                    f"a source must be an input or neuron name, got {_kind(source)}",
                    key=True,
                )
                continue
            w = self._weight(spath, weight, f"the weight of {source} → {name}")
            if w is not None:
                terms.append((source, w))
        bias = self._weight((*path, "bias"), raw["bias"], "the bias") if "bias" in raw else None
        activation = None
        if "activation" in raw:
            activation = self.activation((*path, "activation"), raw["activation"])
            if activation is not None and not activation.elementwise:
                v.error(
                    (*path, "activation"),
                    f"{activation.name} acts on a whole layer; "
                    "write the network in the layered form to use it",
                )
                activation = None
        if activation is None or (sources and len(terms) != len(sources)):
            return None
        return Neuron(name, tuple(terms), bias, activation)

    def _weight(self, path: KeyPath, value: Any, what: str) -> Weight | None:
        v = self.v
        if isinstance(value, str) and not is_fraction(value):
            if value in self.declared:
                self.used_params.add(value)
                return value
            v.error(
                path,
                f"'{value}' in {what} is not a declared param; declare it under "
                "'params' or write a number" + choice_hint(value, self.params, noun="params"),
            )
            return None
        return v.number(path, value, f"a param name or a number for {what}")

    def _outputs(self, root: dict[Any, Any]) -> tuple[str, ...]:
        v = self.v
        if root.get("outputs") is None:
            fed = {source for sources in self.sources.values() for source in sources}
            return tuple(n for n in self.neuron_names if n not in fed)
        problems = len(v.problems)
        raw = v.sequence(("outputs",), root["outputs"], "a list of neuron names")
        out: list[str] = []
        for i, name in enumerate(raw or []):
            if isinstance(name, str) and name in self.raw_neurons:
                if name in out:
                    v.error(("outputs", i), f"output '{name}' is listed twice")
                out.append(name)
            else:
                v.error(
                    ("outputs", i),
                    (
                        f"'{name}' is not a neuron"
                        if isinstance(name, str)
                        else f"expected a neuron name, got {_kind(name)}"
                    )
                    + choice_hint(str(name), self.neuron_names, noun="neurons"),
                )
        if raw is not None and not raw:
            v.error(("outputs",), "'outputs' needs at least one neuron")
        self.outputs_known = len(v.problems) == problems
        return tuple(out)

    def inputs(self, path: KeyPath, value: Any) -> tuple[tuple[str, ...], Array | None]:
        v = self.v
        mapping = v.mapping(path, value, "the inputs (name: value)")
        if mapping is None:
            return (), None
        if not mapping:
            v.error(path, "expected at least one input")
            return (), None
        names = tuple(n for n in mapping if v.name((*path, n), n, "input"))
        values = [v.number((*path, n), mapping[n]) for n in names]
        if len(names) != len(mapping) or any(x is None for x in values):
            return names, None
        return names, np.asarray(values, dtype=np.float64)

    def check_inputs(self, names: tuple[str, ...]) -> None:
        """Sources must name inputs or neurons; the graph must be acyclic."""
        v = self.v
        self.input_names = names
        known = [*names, *self.neuron_names]
        for name in names:
            if name in self.raw_neurons:
                v.error(("neurons", name), f"'{name}' names both an input and a neuron", key=True)
            if name in self.params:
                v.error(("params", name), f"'{name}' names both an input and a param", key=True)
        used_inputs: set[str] = set()
        for neuron, sources in self.sources.items():
            for source in sources:
                if source in names:
                    used_inputs.add(source)
                elif source not in self.raw_neurons and names:  # unknown inputs: cannot tell
                    others = [k for k in known if k != neuron]
                    v.error(
                        ("neurons", neuron, "from", source),
                        f"unknown source '{source}' of neuron '{neuron}'; a source is an "
                        "input or a neuron" + choice_hint(source, others, noun="sources"),
                        key=True,
                    )
        if v.problems:
            return
        for name in names:
            if name not in used_inputs:
                v.warn(("inputs", name), f"input '{name}' feeds no neuron")
        for name in self.params:
            if name not in self.used_params:
                v.warn(("params", name), f"param '{name}' is used by no neuron")

    def _check_acyclic(self) -> None:
        # Only edges between neurons that were read: one refused for its name has no sources.
        sources = {n: [s for s in ss if s in self.sources] for n, ss in self.sources.items()}
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in sources:
            if state.get(start):
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = [start]
            state[start] = 1
            while stack:
                node, i = stack[-1]
                if i < len(sources[node]):
                    stack[-1] = (node, i + 1)
                    nxt = sources[node][i]
                    if state.get(nxt) == 1:
                        cycle = [*path[path.index(nxt) :], nxt]
                        self.v.error(
                            ("neurons", nxt),
                            "the neurons form a cycle: "
                            + " → ".join(cycle)
                            + "; a feed-forward network has none",
                            key=True,
                        )
                        # Outputs and targets of a cyclic graph mean nothing; stop here rather
                        # than report their knock-on problems.
                        raise _Invalid
                    if not state.get(nxt):
                        state[nxt] = 1
                        stack.append((nxt, 0))
                        path.append(nxt)
                else:
                    state[node] = 2
                    stack.pop()
                    path.pop()

    def target(self, path: KeyPath, value: Any) -> Array | None:
        v = self.v
        mapping = v.mapping(path, value, "the targets (output name: value)")
        if mapping is None:
            return None
        ok = True
        for name in mapping:
            if name not in self.outputs:
                ok = False
                v.error(
                    (*path, name),
                    f"target '{name}' names no output"
                    + choice_hint(str(name), self.outputs, noun="outputs"),
                    key=True,
                )
        missing = [o for o in self.outputs if o not in mapping]
        if missing:
            ok = False
            v.error(
                path,
                f"no target for output{'s' if len(missing) > 1 else ''} "
                f"{_list(missing)}; give one per output",
            )
        values = [v.number((*path, o), mapping[o]) for o in self.outputs if o in mapping]
        if not ok or any(x is None for x in values):
            return None
        return np.asarray(values, dtype=np.float64)


class _LayeredBody(_Body):
    def __init__(self, v: _Validator, root: dict[Any, Any]) -> None:
        super().__init__(v)
        self.params = {}
        raw = v.sequence(("layers",), root["layers"], "a list of layers")
        if raw is None:
            raise _Invalid
        if not raw:
            v.error(("layers",), "'layers' needs at least one layer")
            raise _Invalid
        self.widths: list[int | None] = []  # neurons per layer; None where not known
        layers = [self._layer(i, layer, len(raw)) for i, layer in enumerate(raw)]
        # A broken layer is reported; the rest (targets, frozen, inputs) is still checked as far
        # as what is known allows, and the spec is refused at the end.
        self.layers = tuple(layer for layer in layers if layer is not None)
        self.complete = len(self.layers) == len(layers)
        if layers[-1] is not None:
            self.outputs = layers[-1].names
        else:
            self.outputs_known = False
        for i, layer in enumerate(raw):
            if isinstance(layer, dict):
                if "weights" in layer:
                    self.declared[f"W{i + 1}"] = None
                if layer.get("bias") is not None:
                    self.declared[f"b{i + 1}"] = None
        self._check_names()

    def _layer(self, i: int, raw: Any, count: int) -> Layer | None:
        v = self.v
        path: KeyPath = ("layers", i)
        n = i + 1
        if v.mapping(path, raw, f"layer {n} with 'weights' and 'activation'") is None:
            self.widths.append(None)
            return None
        v.unknown_keys(path, raw, LAYER_KEYS, f"layer {n}")
        self.widths.append(None)
        if "weights" not in raw:
            v.error(path, f"layer {n} has no 'weights' (one row per neuron)")
            return None
        if "activation" not in raw:
            v.error(
                path,
                f"layer {n} has no 'activation'"
                + choice_hint("", activations.REGISTRY, noun="activations"),
            )
        weights = v.matrix((*path, "weights"), raw["weights"], f"the weights of layer {n}")
        if weights is None:
            return None
        rows, cols = weights.shape
        self.widths[i] = rows
        before = self.widths[i - 1] if i > 0 else None
        if before is not None and cols != before:
            v.error(
                (*path, "weights"),
                f"the weights of layer {n} have {_count(cols, 'column')} but layer {i} has "
                f"{_count(before, 'neuron')}; each row needs one weight per neuron of "
                "the layer before",
            )
        self.params[f"W{n}"] = weights
        bias_name = None
        if raw.get("bias") is not None:
            bias = v.numbers((*path, "bias"), raw["bias"], f"the biases of layer {n}")
            if bias is not None and len(bias) != rows:
                v.error(
                    (*path, "bias"),
                    f"layer {n} has {_count(rows, 'neuron')} but "
                    f"{_count(len(bias), 'bias', 'biases')}; give one per neuron",
                )
            elif bias is not None:
                bias_name = f"b{n}"
                self.params[bias_name] = bias
        activation = None
        if "activation" in raw:
            activation = self.activation((*path, "activation"), raw["activation"])
        names = self._names(path, raw.get("names"), rows, n, last=n == count)
        if activation is None or names is None:
            return None
        return Layer(f"W{n}", bias_name, activation, names)

    def _names(
        self, path: KeyPath, raw: Any, rows: int, n: int, last: bool
    ) -> tuple[str, ...] | None:
        v = self.v
        if raw is None:
            return tuple(f"o{j}" if last else f"h{n}_{j}" for j in range(1, rows + 1))
        items = v.sequence((*path, "names"), raw, "a list of neuron names")
        if items is None:
            return None
        if len(items) != rows:
            v.error(
                (*path, "names"),
                f"layer {n} has {_count(rows, 'neuron')} but {_count(len(items), 'name')}",
            )
            return None
        names = [v.name((*path, "names", j), item, "neuron") for j, item in enumerate(items)]
        if any(name is None for name in names):
            return None
        return tuple(name for name in names if name is not None)

    def _check_names(self) -> None:
        seen: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            for j, name in enumerate(layer.names):
                if name in seen or name in self.params:
                    self.v.error(
                        ("layers", i, "names", j),
                        f"neuron name '{name}' is used twice"
                        if name in seen
                        else f"neuron name '{name}' is a param name",
                    )
                seen[name] = i

    def ends_in_softmax(self) -> bool:
        return self.complete and self.layers[-1].activation.name == "softmax"

    def inputs(self, path: KeyPath, value: Any) -> tuple[tuple[str, ...], Array | None]:
        v = self.v
        if isinstance(value, dict):
            names = tuple(n for n in value if v.name((*path, n), n, "input"))
            values = [v.number((*path, n), value[n]) for n in names]
            if len(names) != len(value) or any(x is None for x in values):
                return names, None
            row = np.asarray(values, dtype=np.float64)
        else:
            vector = v.numbers(path, value, "the inputs (a list of numbers, or name: value)")
            if vector is None:
                return (), None
            names = tuple(f"x{j}" for j in range(1, len(vector) + 1))
            row = vector
        first = self.params.get("W1")
        width = None if first is None else int(np.shape(first)[1])
        if width is not None and len(row) != width:
            v.error(
                path,
                f"{_count(len(row), 'input')} given but the weights of layer 1 have "
                f"{_count(width, 'column')}",
            )
            return names, None
        return names, row

    def check_inputs(self, names: tuple[str, ...]) -> None:
        neuron_names = {n for layer in self.layers for n in layer.names}
        for name in names:
            if name in neuron_names or name in self.params:
                self.v.error(("inputs",), f"input name '{name}' is also a neuron or param name")

    def target(self, path: KeyPath, value: Any) -> Array | None:
        v = self.v
        outputs = self.outputs
        if isinstance(value, dict):
            for name in value:
                if name not in outputs:
                    v.error(
                        (*path, name),
                        f"target '{name}' names no output"
                        + choice_hint(str(name), outputs, noun="outputs"),
                        key=True,
                    )
            missing = [o for o in outputs if o not in value]
            if missing:
                v.error(path, f"no target for {_list(missing)}; give one per output")
            if missing or any(name not in outputs for name in value):
                return None
            values = [v.number((*path, o), value[o]) for o in outputs]
            return None if any(x is None for x in values) else np.asarray(values)
        vector = v.numbers(path, value, "the targets (a list with one number per output)")
        if vector is not None and len(vector) != len(outputs):
            v.error(
                path,
                f"{_count(len(vector), 'target')} given but the output layer has "
                f"{_count(len(outputs), 'neuron')}",
            )
            return None
        return vector


_FRACTION = re.compile(r"[-+]?[0-9]+/[0-9]+\Z")


def is_fraction(text: str) -> bool:
    """'1/3', '-2/7': a number written as a fraction of integers."""
    return _FRACTION.match(text) is not None


def _all_numbers(items: Iterable[Any]) -> bool:
    return all(type(x) is float or type(x) is int for x in items)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _where(path: KeyPath) -> str:
    """'neurons.h1.activation: ' — the key path a message is about."""
    if not path:
        return ""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return f"{out}: "


def _count(n: int, word: str, plural: str = "") -> str:
    """'1 neuron', '2 neurons'."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _shortened(text: str, keep: int = 24) -> str:
    """A long number in a message: its start, '…', and how many characters it has."""
    return text if len(text) <= keep else f"{text[:keep]}… ({len(text)} characters)"


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


LISTED = 10  # names a message lists before it only counts the rest


def _list(names: Iterable[str]) -> str:
    """'a', 'b', 'c': at most LISTED names, then how many more (a big net's message stays short)."""
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:LISTED])
    return shown if len(names) <= LISTED else f"{shown} and {len(names) - LISTED:,} more"
