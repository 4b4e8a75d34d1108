"""`nncalc exercise`: a random backprop exercise with friendly numbers, and its answer key.

Every draw is `random.Random(seed).random()`, the one sequence Python keeps the same for an
integer seed on every platform and version, so a seed names one exercise for good (choices are
made from it directly: `Random.choice` and `shuffle` may change between versions).

Inputs, weights, biases and targets are small integers or one decimal, held as tenths. A unit's
incoming weights are redrawn until its pre-activation is friendly (at most two decimals while
its sources are, |a| ≤ 10, never on a kink) and it plays the part asked of it: dead (ReLU,
a < 0), saturated (sigmoid or tanh, |a| ≥ 4) or neither. The whole step is then checked through
the spec loader and the engine; a draw that fails any check is thrown away and the search goes on.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from . import activations, losses
from .activations import Activation
from .derivation import MAX_PARAMS
from .emit import number, write_files
from .errors import Problem, SpecError, choice_hint
from .spec import Spec, load_spec

KeyFormat = Literal["markdown", "latex"]
KEY_SUFFIX: dict[KeyFormat, str] = {"markdown": "md", "latex": "tex"}

MAX_LAYERS = 6  # layers of neurons: an exercise is worked by hand
MAX_UNITS = 8
SATURATED_AT = 4.0  # |a| from which a sigmoid or tanh unit counts as saturated
SATURATING = ("sigmoid", "tanh")
FLAT = ("sign", "step")  # zero derivative everywhere
PROBABILITY_LOSSES = ("binary_cross_entropy",)
LIMIT = 10.0  # largest |a| of a friendly unit
GRADIENT_LIMIT = 100.0
UNIT_TRIES = 200  # draws of one unit's weights before the attempt starts over
ATTEMPTS = 100

# Pools, in tenths: 15 is 1.5. Integers and halves come up more often than other decimals.
_INPUTS = (-30, -20, -15, -10, -5, 5, 10, 15, 20, 30)
_WEIGHTS = (-20, -15, -10, -10, -5, -5, -4, -3, -2, 2, 3, 4, 5, 5, 10, 10, 15, 20, -12, 12, -8, 8)
_INTEGER_WEIGHTS = (-20, -10, -10, 10, 10, 20)
_BIASES = (-20, -10, -5, 5, 10, 20)
_LARGEST_TERM = max(map(abs, (*_WEIGHTS, *_BIASES))) / 10  # beside a source |z| < 1

Role = Literal["dead", "alive", "saturated", "moderate", "free"]


class RequestError(ValueError):
    """A request no exercise can meet, or a bad option value; `option` names the option."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


class Request(NamedTuple):
    """What the teacher asks for; `activations` holds one canonical name per layer of neurons."""

    shape: tuple[int, ...]
    seed: int
    activations: tuple[str, ...]
    loss: str
    lr: float = 0.1
    bias: bool = False
    dead: int = 0
    saturated: int = 0


class Exercise(NamedTuple):
    """The request, the spec's YAML text and the spec loaded from it."""

    request: Request
    text: str
    spec: Spec


# --- the request ----------------------------------------------------------------------------


def parse_shape(text: str) -> tuple[int, ...]:
    """'2-3-1' → (2, 3, 1): inputs, then the units of each layer of neurons."""
    parts = text.strip().split("-")
    if len(parts) < 2 or not all(p.isdecimal() for p in parts):  # what int() reads ('²' is not)
        raise RequestError(
            "--shape", f"expected unit counts joined by '-', like 2-3-1 or 3-4-4-2, got {text!r}"
        )
    sizes = tuple(int(p) for p in parts)
    if len(sizes) - 1 > MAX_LAYERS:
        raise RequestError(
            "--shape",
            f"{text} has {len(sizes) - 1} layers of neurons; at most {MAX_LAYERS}: an exercise "
            "is worked by hand",
        )
    if not all(1 <= s <= MAX_UNITS for s in sizes):
        raise RequestError(
            "--shape",
            f"every layer needs 1 to {MAX_UNITS} units (an exercise is worked by hand), got {text}",
        )
    return sizes


def _dashed(shape: Sequence[int]) -> str:
    """(2, 3, 1) → '2-3-1', the shape as --shape writes it."""
    return "-".join(map(str, shape))


def parse_activations(text: str, layers: int) -> tuple[str, ...]:
    """One canonical activation name per layer (hidden layers, then output); one name for all."""
    names = [n.strip() for n in text.split(",")]
    if len(names) not in (1, layers):
        raise RequestError(
            "--activations",
            f"{len(names)} names for {layers} layers of neurons (hidden layers, then the output "
            f"layer); give one name for all, or {layers}",
        )
    out: list[str] = []
    for name in names:
        canonical = activations.ALIASES.get(name, name)
        if canonical not in activations.REGISTRY:
            hint = choice_hint(
                name, activations.REGISTRY, noun="activations", aliases=activations.ALIASES
            )
            raise RequestError("--activations", f"unknown activation '{name}'{hint}")
        if canonical == "softmax":
            raise RequestError(
                "--activations",
                "softmax acts on a whole layer, and an exercise gives each neuron its own "
                "activation; for a classifier use identity outputs with --loss "
                "softmax_cross_entropy",
            )
        out.append(canonical)
    return tuple(out * layers if len(out) == 1 else out)


def parse_loss(name: str) -> str:
    """The loss's canonical name."""
    canonical = losses.ALIASES.get(name, name)
    if canonical not in losses.REGISTRY:
        hint = choice_hint(name, losses.REGISTRY, noun="losses", aliases=losses.ALIASES)
        raise RequestError("--loss", f"unknown loss '{name}'{hint}")
    return canonical


def request(
    shape: str,
    seed: int,
    activation_names: str = "relu",
    loss: str = "half_squared_error",
    lr: float = 0.1,
    *,
    bias: bool = False,
    dead: int = 0,
    saturated: int = 0,
) -> Request:
    """A checked request from the command line's words; RequestError names what cannot be."""
    sizes = parse_shape(shape)
    made = Request(
        sizes,
        seed,
        parse_activations(activation_names, len(sizes) - 1),
        parse_loss(loss),
        lr,
        bias,
        dead,
        saturated,
    )
    check(made)
    return made


def check(req: Request) -> None:
    """Refuse, with the reason, a request that no network of its shape can meet."""
    if req.seed < 0:
        raise RequestError("--seed", f"must be ≥ 0, got {req.seed}")
    if not (math.isfinite(req.lr) and req.lr > 0):
        raise RequestError("--lr", f"must be a finite number > 0, got {req.lr}")
    if len(req.activations) != len(req.shape) - 1:
        raise RequestError("--activations", "one activation per layer of neurons")
    params = sum(a * b for a, b in itertools.pairwise(req.shape))
    params += sum(req.shape[1:]) if req.bias else 0
    if params > MAX_PARAMS:
        raise RequestError(
            "--shape",
            f"a {_dashed(req.shape)} network{' with biases' if req.bias else ''} has {params} "
            f"params; the answer key derives at most {MAX_PARAMS}: choose fewer or smaller layers",
        )
    output = req.activations[-1]
    if output in FLAT:
        raise RequestError(
            "--activations",
            f"{output}′(a) = 0 everywhere: through a {output} output layer no gradient reaches "
            "any param; choose another output activation",
        )
    _check_loss(req.loss, output, req.shape[-1])
    for option, count, room in (
        ("--dead", req.dead, _dead_room(req)),
        ("--saturated", req.saturated, _saturated_room(req)),
    ):
        if count < 0:
            raise RequestError(option, f"must be ≥ 0, got {count}")
        if count > sum(room):
            what, why = _ROOM_RULES[option]
            if count == 1:
                what = what.replace(" units", " unit")
            raise RequestError(
                option,
                f"asked for {count} {what}, but a {_dashed(req.shape)} network "
                f"({', '.join(req.activations)}) has room for {sum(room)}: {why}",
            )


def _check_loss(loss: str, output: str, outputs: int) -> None:
    if loss == "cross_entropy":
        raise RequestError(
            "--loss",
            "cross_entropy takes the probabilities of a softmax layer, which an exercise "
            "(each neuron its own activation) cannot have; use softmax_cross_entropy with "
            "identity outputs, or binary_cross_entropy with a sigmoid output",
        )
    if loss in PROBABILITY_LOSSES and output != "sigmoid":
        raise RequestError(
            "--loss",
            f"{loss} takes probabilities: the output activation must be sigmoid, got {output}",
        )
    if loss == "softmax_cross_entropy" and outputs < 2:
        raise RequestError(
            "--loss",
            "softmax_cross_entropy over one output is always 0 (its probability is 1); "
            "give the shape at least 2 outputs",
        )


def _dead_room(req: Request) -> list[int]:
    """Per layer, how many units may be dead: hidden ReLU layers keep one live unit each (else
    no gradient gets through), and a dead output would stop every gradient."""
    hidden = len(req.activations) - 1
    return [
        size - 1 if act == "relu" and layer < hidden else 0
        for layer, (act, size) in enumerate(zip(req.activations, req.shape[1:], strict=True))
    ]


def _saturated_room(req: Request) -> list[int]:
    """Per layer, how many units may saturate: sigmoid and tanh units, but not those fed by
    sigmoid or tanh units through 2 terms or fewer, each below 2 in size (|z| < 1, |w| ≤ 2,
    |b| ≤ 2), which stay below |a| = 4."""
    room = []
    for layer, (act, size) in enumerate(zip(req.activations, req.shape[1:], strict=True)):
        fed_by_saturating = layer > 0 and req.activations[layer - 1] in SATURATING
        terms = req.shape[layer] + req.bias
        reachable = not fed_by_saturating or terms * _LARGEST_TERM > SATURATED_AT
        room.append(size if act in SATURATING and reachable else 0)
    return room


# option → (the units it asks for, why a network has only so much room for them)
_ROOM_RULES = {
    "--dead": (
        "dead ReLU units",
        "every hidden ReLU layer keeps one live unit and the output stays live",
    ),
    "--saturated": (
        "saturated sigmoid or tanh units",
        "only sigmoid and tanh units saturate, and not those fed by sigmoid or tanh units "
        "through 2 terms or fewer (each below 2 in size, so |a| stays below 4)",
    ),
}


# --- the search -----------------------------------------------------------------------------


class _Draft(NamedTuple):
    """One draw, in tenths: inputs, per layer a weight row and a bias per unit, the targets."""

    inputs: list[int]
    weights: list[list[list[int]]]
    biases: list[list[int]]
    target: list[int] | None


def make(req: Request, source: str = "<exercise>") -> Exercise:
    """The first draw from the seed that passes every check; SpecError when none is found."""
    check(req)
    rng = random.Random(req.seed)
    for _ in range(ATTEMPTS):
        draft = _draw(rng, req)
        if draft is None:
            continue
        text = _spec_text(req, draft)
        spec = load_spec(text, source=source)
        if _sound(spec):
            return Exercise(req, text, spec)
    raise SpecError(
        [
            Problem(
                "<command line>",
                0,
                0,
                f"no exercise with friendly numbers found in {ATTEMPTS} draws from seed "
                f"{req.seed}; try another --seed, or ask for fewer --dead or --saturated units",
            )
        ]
    )


def _pick(rng: random.Random, pool: Sequence[int]) -> int:
    return pool[int(rng.random() * len(pool))]


def _choose(rng: random.Random, n: int, k: int) -> set[int]:
    """k of range(n), by a partial Fisher-Yates shuffle on rng.random()."""
    order = list(range(n))
    for i in range(k):
        j = i + int(rng.random() * (n - i))
        order[i], order[j] = order[j], order[i]
    return set(order[:k])


def _spread(count: int, room: list[int]) -> list[int]:
    """`count` units shared out over the layers in turn, each layer within its room."""
    share = [0] * len(room)
    while count:
        for layer, space in enumerate(room):
            if count and share[layer] < space:
                share[layer] += 1
                count -= 1
    return share


def _roles(rng: random.Random, req: Request) -> list[list[Role]]:
    dead = _spread(req.dead, _dead_room(req))
    saturated = _spread(req.saturated, _saturated_room(req))
    hidden = len(req.activations) - 1
    out: list[list[Role]] = []
    for layer, (act, size) in enumerate(zip(req.activations, req.shape[1:], strict=True)):
        usual: Role = "alive" if act == "relu" else "moderate" if act in SATURATING else "free"
        special: Role = "dead" if act == "relu" and layer < hidden else "saturated"
        chosen = _choose(rng, size, dead[layer] + saturated[layer])
        out.append([special if unit in chosen else usual for unit in range(size)])
    return out


def _plays(a: float, role: Role, act: Activation) -> bool:
    """Whether a unit with pre-activation `a` is friendly and plays its part."""
    if not abs(a) <= LIMIT or a in act.kinks:
        return False
    if role == "dead":
        return a < 0
    if role == "alive":
        return a > 0
    if role == "saturated":
        return abs(a) >= SATURATED_AT
    if role == "moderate":
        return abs(a) < SATURATED_AT
    return True


def _unit(
    rng: random.Random,
    sources: list[float],
    exact: list[Fraction] | None,
    role: Role,
    act: Activation,
    bias: bool,
) -> tuple[list[int], int, float] | None:
    """Weights (and bias) in tenths for one unit, and its pre-activation. While the sources are
    friendly (`exact` holds them as decimals), the sum is exact and must have two decimals."""
    pools = [_WEIGHTS if exact is None else _weights_for(s) for s in exact or sources]
    for _ in range(UNIT_TRIES):
        weights = [_pick(rng, pool) for pool in pools]
        b = _pick(rng, _BIASES) if bias else 0
        if exact is not None:
            terms = (s * Fraction(w, 10) for s, w in zip(exact, weights, strict=True))
            sum_exact = sum(terms, Fraction(b, 10))
            if (sum_exact * 100).denominator != 1:
                continue
            a = float(sum_exact)
        else:
            a = sum(s * w / 10 for s, w in zip(sources, weights, strict=True)) + b / 10
        if _plays(a, role, act):
            return weights, b, a
    return None


def _weights_for(source: Fraction | float) -> Sequence[int]:
    """A source with two decimals takes an integer weight, so that their product keeps two."""
    if isinstance(source, Fraction) and (source * 10).denominator != 1:
        return _INTEGER_WEIGHTS
    return _WEIGHTS


def _friendly(values: list[float]) -> list[Fraction] | None:
    """The values as exact decimals when each has at most two decimals."""
    exact = [Fraction(repr(v)) for v in values]
    return exact if all((x * 100).denominator == 1 for x in exact) else None


def _draw(rng: random.Random, req: Request) -> _Draft | None:
    roles = _roles(rng, req)
    inputs = [_pick(rng, _INPUTS) for _ in range(req.shape[0])]
    sources = [k / 10 for k in inputs]
    exact: list[Fraction] | None = [Fraction(k, 10) for k in inputs]
    weights: list[list[list[int]]] = []
    biases: list[list[int]] = []
    for name, layer_roles in zip(req.activations, roles, strict=True):
        act = activations.REGISTRY[name]()
        units = []
        for role in layer_roles:
            unit = _unit(rng, sources, exact, role, act, req.bias)
            if unit is None:
                return None
            units.append(unit)
        weights.append([u[0] for u in units])
        biases.append([u[1] for u in units])
        sources = [float(z) for z in act.value(np.array([[u[2] for u in units]]))[0]]
        exact = _friendly(sources) if act.rational and exact is not None else None
    target = _target(rng, req, sources)
    if target is None and req.loss != "output":
        return None
    return _Draft(inputs, weights, biases, target)


def _target_pool(req: Request) -> Sequence[int]:
    output = req.activations[-1]
    if output == "sigmoid" or req.loss in PROBABILITY_LOSSES:
        return (0, 10)
    if output == "tanh":
        return (-10, 10)
    if output in ("relu", "softplus"):
        return tuple(range(0, 55, 5))
    return tuple(range(-30, 55, 5))


def _target(rng: random.Random, req: Request, outputs: list[float]) -> list[int] | None:
    """Targets in tenths, each away from its output (a zero error teaches nothing)."""
    if req.loss == "output":
        return None
    if req.loss == "softmax_cross_entropy":
        hot = int(rng.random() * len(outputs))
        return [10 if i == hot else 0 for i in range(len(outputs))]
    pool = _target_pool(req)
    for _ in range(UNIT_TRIES):
        target = [_pick(rng, pool) for _ in outputs]
        if all(t / 10 != y for t, y in zip(target, outputs, strict=True)):
            return target
    return None


def _sound(spec: Spec) -> bool:
    """The engine's step is clean: no warning, a loss > 0, gradients not huge and not all 0."""
    from .engine import backprop

    result = backprop(spec)
    grads = [float(g) for g in result.gradients.values()]
    return (
        not result.warnings
        and math.isfinite(result.loss)
        and result.loss > 0
        and all(abs(g) <= GRADIENT_LIMIT for g in grads)
        and any(g != 0 for g in grads)
    )


# --- the spec's text ------------------------------------------------------------------------


def names(shape: Sequence[int]) -> tuple[list[str], list[list[str]]]:
    """Inputs x1 …; one hidden layer h1 …, several h1_1 … (layer, unit); outputs o or o1 …."""
    inputs = [f"x{i}" for i in range(1, shape[0] + 1)]
    hidden = shape[1:-1]
    layers: list[list[str]] = []
    for layer, size in enumerate(hidden, start=1):
        prefix = "h" if len(hidden) == 1 else f"h{layer}_"
        layers.append([f"{prefix}{i}" for i in range(1, size + 1)])
    out = shape[-1]
    layers.append(["o"] if out == 1 else [f"o{i}" for i in range(1, out + 1)])
    return inputs, layers


def _tenths(k: int) -> str:
    return number(k / 10)  # k / 10 is the float nearest the decimal, which prints as written


def _wrap(head: str, items: list[str], tail: str, width: int = 100) -> list[str]:
    """`head` + items joined by ', ' + `tail`, continued under the first item when too long."""
    lines = [head]
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else tail)
        if lines[-1] != head and len(lines[-1]) + 1 + len(piece) > width:
            lines.append(" " * len(head) + piece)
        else:
            lines[-1] += ("" if lines[-1] == head else " ") + piece
    return lines


def _spec_text(req: Request, draft: _Draft) -> str:
    """The spec in the homework's compact flow style, under a comment that states the task;
    params numbered as a student numbers them: layer by layer, neuron by neuron, source by
    source (biases b1 … in neuron order, after the weights)."""
    inputs, layers = names(req.shape)
    weights: list[str] = []
    biases: list[str] = []
    neurons: list[str] = []
    width = max(len(n) for layer in layers for n in layer) + 1
    sources = inputs
    for units, rows, bias_row, act in zip(
        layers, draft.weights, draft.biases, req.activations, strict=True
    ):
        for unit, row, b in zip(units, rows, bias_row, strict=True):
            terms = []
            for source, k in zip(sources, row, strict=True):
                weights.append(f"w{len(weights) + 1}: {_tenths(k)}")
                terms.append(f"{source}: w{len(weights)}")
            tail = "}"
            if req.bias:
                biases.append(f"b{len(biases) + 1}: {_tenths(b)}")
                tail += f", bias: b{len(biases)}"
            neurons += _wrap(
                f"  {(unit + ':').ljust(width)} {{from: {{", terms, tail + f", activation: {act}}}"
            )
        sources = units
    kinds = "/".join(dict.fromkeys(req.activations))
    lines = [*_header(req), f"title: {_dashed(req.shape)} {kinds} network (exercise {req.seed})"]
    lines += _wrap(
        "inputs: {", [f"{n}: {_tenths(k)}" for n, k in zip(inputs, draft.inputs, strict=True)], "}"
    )
    lines += _wrap("params: {", weights + biases, "}")
    lines += ["neurons:", *neurons, f"outputs: [{', '.join(layers[-1])}]"]
    if draft.target is not None:
        pairs = zip(layers[-1], draft.target, strict=True)
        lines += _wrap("target: {", [f"{o}: {_tenths(k)}" for o, k in pairs], "}")
    lines += [f"loss: {req.loss}", f"learning_rate: {number(req.lr)}"]
    return "\n".join(lines) + "\n"


def _header(req: Request) -> list[str]:
    """The task in words, as YAML comments."""
    shape = _dashed(req.shape)
    grads = "every ∂L/∂w and ∂L/∂b" if req.bias else "every ∂L/∂w"
    return [
        f"# Exercise {req.seed} (seed {req.seed}, shape {shape}): one backprop step by hand.",
        f"# Task: compute the forward pass, the loss, {grads} and one SGD step with "
        f"η = {number(req.lr)}.",
        "# a = Σ source·weight (+ bias) is a neuron's pre-activation, z = activation(a).",
    ]


# --- the answer key and the files -----------------------------------------------------------


def answer_key(exercise: Exercise, key_format: KeyFormat = "markdown") -> str:
    """The worked step as `nncalc backprop --explain` shows it: the tables, then every
    derivation; LaTeX as a whole document (`--standalone`)."""
    from .compute import Mode, result_data
    from .render import Options, latex_format, markdown_format

    data = result_data(exercise.spec, "explain", Mode())
    data["command"] = "backprop"
    if key_format == "latex":
        return latex_format.render(data, Options(standalone=True))
    return markdown_format.render(data, Options())


def paths(stem: str, key_format: KeyFormat) -> tuple[str, str]:
    """The spec's and the key's file names: STEM.yaml and STEM-key.md (or .tex)."""
    return f"{stem}.yaml", f"{stem}-key.{KEY_SUFFIX[key_format]}"


def write(
    exercise: Exercise, spec_path: str, key_path: str, key_format: KeyFormat, *, force: bool
) -> None:
    """Both files, atomically together: both targets are checked and both written to temporary
    files before either is renamed into place, so a refusal or a failed write changes nothing."""
    key = answer_key(exercise, key_format)
    problems = [p for path in (spec_path, key_path) for p in _target_problems(path, force)]
    if problems:
        raise SpecError(problems)
    write_files(
        [
            (spec_path, lambda temporary: Path(temporary).write_text(exercise.text, "utf-8")),
            (key_path, lambda temporary: Path(temporary).write_text(key, "utf-8")),
        ],
        force=force,
    )


def _target_problems(path: str, force: bool) -> list[Problem]:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        return [Problem(path, 0, 0, "is a directory; give another -o STEM")]
    if target.exists() and not force:
        return [Problem(path, 0, 0, "exists; give --force to replace it, or another -o STEM")]
    if not folder.is_dir():
        return [Problem(path, 0, 0, f"the folder {folder} does not exist")]
    return []
