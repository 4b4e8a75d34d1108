"""Checking hand-computed answers: right or wrong, and for a wrong one, why.

An answers file names the quantities a student computed (`a.h2: -1`, `grad.w3: 10`, `loss: 4.5`).
Each is compared with the value worked in the same arithmetic, within the rounding its written
form implies. A wrong answer is then recomputed two ways:
- from the student's own earlier answers (error carried forward): if it follows from them, it is
  "consistent", and the answers it follows from are named;
- under each common mistake of `MISTAKES`: if one reproduces it, that mistake is named.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from .activations import Activation
from .derivation import Equation, Explainer, Symbol, Symbols
from .errors import Problem, SpecError, choice_hint, closest
from .hand import CORRECT, Arithmetic, Hand, Num, Quantity, Rules, Trace, correct_derivative
from .notation import Notation
from .render.numbers import fmt
from .spec import Spec, is_fraction
from .yamlio import Document, parse, read_text

_FLOAT_MAX = Fraction(sys.float_info.max)
_DIGITS = re.compile(r"[0-9]+").fullmatch
RELATIVE_SLACK = Fraction(1, 10**9)  # besides rounding: float noise in the correct value

# --- the mistakes a wrong answer is tested against ---------------------------------------------


def _relu_slope(wrong: Callable[[Num], bool]) -> Callable[..., Num]:
    """ReLU′(a) taken as 1 where `wrong(a)`; everything else done right."""

    def derivative(act: Activation, a: Num, z: Num, arith: Arithmetic) -> Num:
        if act.name == "relu" and wrong(a):
            return arith.one
        return correct_derivative(act, a, z, arith)

    return derivative


def _slope_one(act: Activation, a: Num, z: Num, arith: Arithmetic) -> Num:
    return arith.one


def _slope_at_activation(act: Activation, a: Num, z: Num, arith: Arithmetic) -> Num:
    from .hand import value_of

    return correct_derivative(act, z, value_of(act, z, arith), arith)


class Mistake(NamedTuple):
    name: str
    description: str
    applies: Callable[[Checker], bool]
    rules: Callable[[Spec], Rules]


def _uses(name: str) -> Callable[[Checker], bool]:
    return lambda c: any(act.name == name for level in c.hand.net.levels for act, _ in level.groups)


def _loss_is(*names: str) -> Callable[[Checker], bool]:
    return lambda c: c.spec.loss.name in names


def _updates(c: Checker) -> bool:
    return c.rate is not None


MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "relu_dead_ignored",
        "ReLU′(a) taken as 1 for a < 0: a dead unit was let through",
        _uses("relu"),
        lambda spec: Rules(derivative=_relu_slope(lambda a: a < 0)),
    ),
    Mistake(
        "relu_kink_one",
        "ReLU′(0) taken as 1 (the convention is ReLU′(0) = 0)",
        _uses("relu"),
        lambda spec: Rules(derivative=_relu_slope(lambda a: a == 0)),
    ),
    Mistake(
        "half_dropped",
        "the ½ of ½(y − ŷ)² dropped: L and ∂L/∂ŷ doubled (∂L/∂ŷ = −2(y − ŷ))",
        _loss_is("half_squared_error"),
        lambda spec: Rules(loss_factor=2),
    ),
    Mistake(
        "half_doubled",
        "the ½ applied twice: L and ∂L/∂ŷ halved (∂L/∂ŷ = −½(y − ŷ))",
        _loss_is("half_squared_error"),
        lambda spec: Rules(loss_factor=Fraction(1, 2)),
    ),
    Mistake(
        "half_added",
        "a ½ added that this loss does not have: L and ∂L/∂ŷ halved",
        _loss_is("squared_error"),
        lambda spec: Rules(loss_factor=Fraction(1, 2)),
    ),
    Mistake(
        "mse_two_dropped",
        "the 2 of mse's derivative dropped: ∂L/∂ŷ = −(1/n)(y − ŷ) instead of −(2/n)(y − ŷ)",
        _loss_is("mse"),
        lambda spec: Rules(gradient_factor=Fraction(1, 2)),
    ),
    Mistake(
        "sign_flipped",
        "∂L/∂ŷ written as (y − ŷ) instead of −(y − ŷ): every gradient has the wrong sign",
        lambda c: c.spec.loss.needs_target,
        lambda spec: Rules(gradient_factor=-1),
    ),
    Mistake(
        "batch_mean_sum_swapped",
        "the batch combined the other way (sum instead of mean, or mean instead of sum)",
        lambda c: c.spec.batch_size > 1,
        lambda spec: Rules(
            loss_factor=Fraction(spec.batch_size)
            if spec.reduction == "mean"
            else Fraction(1, spec.batch_size)
        ),
    ),
    Mistake(
        "outputs_summed",
        "the loss summed over the outputs where it averages over them",
        lambda c: (
            c.spec.loss.name in ("mse", "mae", "binary_cross_entropy") and len(c.spec.outputs) > 1
        ),
        lambda spec: Rules(loss_factor=Fraction(len(spec.outputs))),
    ),
    Mistake(
        "activation_derivative_forgotten",
        "the activation's derivative f′(a) left out of the chain rule (taken as 1)",
        lambda c: True,
        lambda spec: Rules(derivative=_slope_one),
    ),
    Mistake(
        "derivative_at_activation",
        "f′ evaluated at the activation z instead of the pre-activation a "
        "(σ(z)(1 − σ(z)) with z already σ(a))",
        lambda c: True,
        lambda spec: Rules(derivative=_slope_at_activation),
    ),
    Mistake(
        "source_pre_activation",
        "∂L/∂w taken as δ times the source's pre-activation a instead of its activation z",
        lambda c: len(c.hand.net.levels) > 1,
        lambda spec: Rules(source_pre=True),
    ),
    Mistake(
        "updated_weights_in_backward",
        "the backward pass used weights already updated in this step",
        _updates,
        lambda spec: Rules(backward_with_updated=True),
    ),
    Mistake(
        "update_added",
        "the update added: w + η·∂L/∂w instead of w − η·∂L/∂w",
        _updates,
        lambda spec: Rules(update=lambda w, g, lr: w + lr * g),
    ),
    Mistake(
        "learning_rate_missed",
        "the learning rate left out: w − ∂L/∂w instead of w − η·∂L/∂w",
        _updates,
        lambda spec: Rules(update=lambda w, g, lr: w - g),
    ),
)

# --- reading an answers file ---------------------------------------------------------------

KINDS = {
    "pre": "pre_activation",
    "act": "activation",
    "out": "output",
    "delta": "delta",
    "δ": "delta",
    "grad": "gradient",
    "new": "updated",
    "updated": "updated",
}
_ORDER = {"pre_activation": 0, "activation": 1, "output": 1}
_WRITTEN = re.compile(  # a number as written, after any anchor (&x) or tag (!!float)
    r"""(?:[&!]\S*\s+)*['"]?\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?:/[0-9]+)?)"""
)


class Answer(NamedTuple):
    key: str  # as the student wrote it
    kind: str
    name: str | None
    sample: int | None
    quantity: Quantity  # the hand engine's name for it
    rank: tuple[int, ...]  # when it is computed: earlier quantities can explain later ones
    value: Fraction
    text: str  # the number as written
    tolerance: Fraction
    line: int
    column: int


def kinds_for(notation: Notation) -> dict[str, str]:
    """Answer prefixes: the long names, 'loss', and the notation's letters."""
    return {**KINDS, notation.pre: "pre_activation", notation.act: "activation"}


def written_tolerance(text: str, correct: Fraction) -> Fraction:
    """Half a unit in the last written place, plus a hair for float noise: an answer written
    with k decimals is right when it is the correct value rounded to k decimals."""
    slack = RELATIVE_SLACK * max(Fraction(1), abs(correct))
    if "/" in text:
        return slack
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2]) - (int(exponent) if exponent else 0)
    unit = Fraction(1, 10**decimals) if decimals >= 0 else Fraction(10**-decimals)
    return unit / 2 + slack


# kind, name, sample, the hand engine's quantity, and its rank in the order of computation
Parsed = tuple[str, str | None, int | None, Quantity, tuple[int, ...]]


class _Reader:
    """The answers file → Answers, every problem located."""

    def __init__(
        self, doc: Document, spec: Spec, hand: Hand, notation: Notation, rate: float | None
    ) -> None:
        self.doc, self.spec, self.hand, self.rate = doc, spec, hand, rate
        self.kinds = kinds_for(notation)
        self.notation = notation
        self.problems: list[Problem] = list(doc.problems)
        self.yaml_positions = {(p.line, p.column) for p in doc.problems}
        self.labels = {label: i for i, label in enumerate(hand.net.labels)}
        self.units = hand.net.unit_of
        self.depth = len(hand.net.levels)

    def error(self, key: Any, message: str, *, at_key: bool = True) -> None:
        problem = self.doc.problem((key,), message, key=at_key)
        if (problem.line, problem.column) not in self.yaml_positions:  # said there already
            self.problems.append(problem)

    def answers(self) -> list[Answer]:
        data = self.doc.data
        if self.doc.problems and not (isinstance(data, dict) and data):
            raise SpecError(self.problems)  # the YAML's own problems say what is wrong
        if not isinstance(data, dict) or not data:
            what = "empty" if data is None or data == {} else "not a mapping"
            self.problems.append(
                Problem(
                    self.doc.source,
                    1,
                    1,
                    f"the answers file is {what}; expected lines like 'a.h1: 4', 'grad.w3: 0', "
                    "'loss: 9.68'",
                )
            )
            raise SpecError(self.problems)
        out = [a for key, value in data.items() if (a := self.answer(key, value)) is not None]
        if self.problems:
            raise SpecError(self.problems)
        return out

    def answer(self, key: Any, value: Any) -> Answer | None:
        if not isinstance(key, str):
            shown = "null" if key is None else repr(key)
            self.error(key, f"expected a quantity like 'a.h1' or 'grad.w3', got {shown}")
            return None
        written = self.value(key, value)
        parsed = self.quantity(key)
        if written is None or parsed is None:
            return None
        kind, name, sample, quantity, rank = parsed
        number, text = written
        line, column = self.doc.locate((key,), key=True)  # the key: an alias's value is elsewhere
        return Answer(
            key, kind, name, sample, quantity, rank, number, text, Fraction(0), line, column
        )

    def value(self, key: str, value: Any) -> tuple[Fraction, str] | None:
        if isinstance(value, bool) or not (
            isinstance(value, int | float) or (isinstance(value, str) and is_fraction(value))
        ):
            shown = f"'{value}'" if isinstance(value, str) else type(value).__name__
            self.error(
                key,
                f"{key}: expected a number (4.5, -1, 9/2), got {shown}",
                at_key=False,
            )
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.error(key, f"{key}: expected a finite number, got {value}", at_key=False)
            return None
        if isinstance(value, str):
            p, q = (int(x) for x in value.split("/"))
            if q == 0:
                self.error(key, f"{key}: '{value}' divides by zero", at_key=False)
                return None
            number, text = Fraction(p, q), value
        else:
            number = Fraction(repr(value) if isinstance(value, float) else value)
            text = self.text(key, value)
        if abs(number) > _FLOAT_MAX:
            self.error(key, f"{key}: {text[:20]}… is too large for a number", at_key=False)
            return None
        return number, text

    def text(self, key: str, value: int | float) -> str:
        """The number exactly as written in the file (4.50 keeps its two decimals)."""
        line, column = self.doc.locate((key,))
        lines = self.doc.text.splitlines()
        if 0 < line <= len(lines):
            match = _WRITTEN.match(lines[line - 1], column - 1)
            as_read = Fraction(repr(value) if isinstance(value, float) else value)
            if match and Fraction(match.group(1)) == as_read:
                return match.group(1)
        return repr(value)

    def quantity(
        self, key: str
    ) -> tuple[str, str | None, int | None, Quantity, tuple[int, ...]] | None:
        base, sample = key, None
        head, at, tail = key.rpartition("@")
        if at and not self._names_something(key):  # a name may itself hold an '@'
            base = head
            if not _DIGITS(tail) or not 1 <= int(tail) <= self.spec.batch_size:
                allowed = (
                    f"samples are 1 … {self.spec.batch_size}"
                    if self.spec.batched
                    else f"the spec has one sample: write {head} (or {head}@1)"
                )
                self.error(key, f"'{key}': there is no sample '{tail}'; {allowed}")
                return None
            sample = int(tail) - 1
        if base in ("loss", "L"):
            if sample is not None:
                return "sample_loss", None, sample, ("sample_loss", sample), (3000,)
            return "loss", None, None, ("loss",), (3001,)
        prefix, dot, name = base.partition(".")
        if not dot or prefix not in self.kinds:
            kinds = list(dict.fromkeys(self.kinds))
            match = closest(prefix, kinds) if dot else None
            self.error(
                key,
                f"'{key}' is not a quantity; write KIND.NAME with KIND one of "
                f"{', '.join(kinds)}, or loss (L)"
                + (f"; did you mean '{match}.{name}'?" if match else ""),
            )
            return None
        kind = self.kinds[prefix]
        if kind in ("gradient", "updated"):
            return self.param(key, kind, name, sample)
        return self.neuron(key, prefix, kind, name, sample)

    def _names_something(self, key: str) -> bool:
        """Is `key`, '@' and all, a quantity of a neuron or param that exists?"""
        prefix, dot, name = key.partition(".")
        return bool(dot) and prefix in self.kinds and (name in self.units or name in self.labels)

    def param(self, key: str, kind: str, name: str, sample: int | None) -> Parsed | None:
        if sample is not None:
            self.error(key, f"'{key}': a {kind} is one number for the whole batch; drop '@'")
            return None
        index = self.labels.get(name)
        if index is None:
            slot = next((s for s in self.hand.net.slots if s.name == name and s.shape), None)
            hint = (
                f"; name one element, like {name}[1,1]"
                if slot is not None and len(slot.shape) == 2
                else f"; name one element, like {name}[1]"
                if slot is not None
                else choice_hint(name, list(dict.fromkeys(self.labels))[:200], noun="params")
            )
            self.error(key, f"'{name}' is not a param{hint}")
            return None
        if kind == "updated" and self.rate is None:
            self.error(
                key,
                f"'{key}': there is no update without a learning rate; give --lr or "
                "learning_rate in the spec",
            )
            return None
        rank = (6000,) if kind == "gradient" else (7000,)
        return kind, name, None, (("grad" if kind == "gradient" else "new"), index), (*rank, index)

    def neuron(
        self, key: str, prefix: str, kind: str, name: str, sample: int | None
    ) -> Parsed | None:
        unit = self.units.get(name)
        if unit is None:
            self.error(
                key,
                f"'{name}' is not a neuron" + choice_hint(name, list(self.units), noun="neurons"),
            )
            return None
        if kind == "activation" and unit in self.hand.net.outputs and prefix == "out":
            kind = "output"
        if kind == "output" and unit not in self.hand.net.outputs:
            if self.notation.act == "out":
                kind = "activation"
            else:
                outs = ", ".join(self.hand.net.output_names)
                self.error(
                    key,
                    f"'{name}' is not an output (outputs: {outs}); for its activation write "
                    f"{self.notation.act}.{name}",
                )
                return None
        if self.spec.batched and sample is None:
            self.error(
                key,
                f"'{key}': the spec has {self.spec.batch_size} samples; say which, like {key}@1",
            )
            return None
        s = sample or 0
        level, _ = unit
        if kind == "delta":
            return kind, name, sample, ("delta", unit, s), (4000 + self.depth - level, s)
        what = "pre" if kind == "pre_activation" else "act"
        return kind, name, sample, (what, unit, s), (2 * level + _ORDER[kind], s)


def read_answers(
    path: str, spec: Spec, hand: Hand, notation: Notation, rate: float | None
) -> list[Answer]:
    text = read_text(path)
    doc = parse(text, "<stdin>" if path == "-" else path)
    return _Reader(doc, spec, hand, notation, rate).answers()


# --- judging ------------------------------------------------------------------------------


def value_in(trace: Trace, quantity: Quantity) -> Num:
    what = quantity[0]
    if what == "pre":
        (k, j), s = quantity[1], quantity[2]
        return trace.pre[s][k - 1][j]
    if what == "act":
        (k, j), s = quantity[1], quantity[2]
        return trace.post[s][k][j]
    if what == "delta":
        (k, j), s = quantity[1], quantity[2]
        return trace.delta[s][k - 1][j]
    if what == "loss":
        return trace.loss
    if what == "sample_loss":
        return trace.sample_losses[quantity[1]]
    if what == "grad":
        return trace.gradient[quantity[1]]
    assert trace.updated is not None
    return trace.updated[quantity[1]]


def _close(value: Fraction, target: Num, tolerance: Fraction) -> bool:
    if isinstance(target, float) and not math.isfinite(target):
        return False
    return abs(value - Fraction(target)) <= tolerance


@dataclass
class Checker:
    spec: Spec
    hand: Hand
    notation: Notation
    lr: float | None  # --lr, overriding the spec's
    traces: dict[str, Trace] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.spec.learning_rate if self.lr is None else self.lr

    def trace(
        self, name: str, rules: Rules = CORRECT, overrides: Mapping[Quantity, Num] | None = None
    ) -> Trace:
        if overrides or not name:
            return self.hand.backprop(self.lr, rules, overrides)
        if name not in self.traces:
            self.traces[name] = self.hand.backprop(self.lr, rules)
        return self.traces[name]

    def mistakes(self) -> list[Mistake]:
        return [m for m in MISTAKES if m.applies(self)]

    def judge(self, answers: Sequence[Answer]) -> list[dict[str, Any]]:
        correct = self.trace("correct")
        explainer = Explainer(self.hand, correct, self.notation)
        out: list[dict[str, Any]] = []
        for answer in answers:
            true = value_in(correct, answer.quantity)
            tolerance = written_tolerance(
                answer.text, Fraction(true) if _finite(true) else Fraction(0)
            )
            answer = answer._replace(tolerance=tolerance)
            entry = self._entry(answer, true, explainer)
            if _finite(true) and _close(answer.value, true, tolerance):
                entry["verdict"] = "right"
            else:
                self._why(answer, answers, true, entry, explainer)
            out.append(entry)
        return out

    def _entry(self, answer: Answer, true: Num, explainer: Explainer) -> dict[str, Any]:
        symbol = self._symbol(answer)
        return {
            "quantity": answer.key,
            "kind": answer.kind,
            "name": answer.name,
            "sample": answer.sample,
            "symbol": {"text": symbol.text, "latex": symbol.latex},
            "line": answer.line,
            "column": answer.column,
            "answer": float(answer.value),
            "answer_text": answer.text,
            "correct": true,
            "verdict": "wrong",
            "explanation": "",
            "diagnosis": None,
            "follows_from": [],
        }

    def _symbol(self, answer: Answer) -> Symbol:
        s = Symbols(self.notation)
        name = answer.name or ""
        kind = answer.kind
        symbol = {
            "pre_activation": s.pre,
            "activation": s.act,
            "output": s.output,
            "delta": s.delta,
        }.get(kind)
        if symbol is not None:
            base = symbol(name)
        elif kind == "gradient":
            base = s.d(Symbol("L", "L"), s.name(name))
        elif kind == "updated":
            base = Symbol(f"{name} (updated)", rf"{s.name(name).latex}^{{\text{{new}}}}")
        else:
            base = Symbol("L", "L")
        if answer.sample is None:
            return base
        return Symbol(
            f"{base.text} (sample {answer.sample + 1})", f"{base.latex}^{{({answer.sample + 1})}}"
        )

    def _why(
        self,
        answer: Answer,
        answers: Sequence[Answer],
        true: Num,
        entry: dict[str, Any],
        explainer: Explainer,
    ) -> None:
        """Judge an answer that is not the correct value: carried from the student's own
        earlier numbers, or reproduced by a common mistake, or neither."""
        earlier = [a for a in answers if a.rank < answer.rank and a.quantity != answer.quantity]
        overrides = {a.quantity: self._as_number(a.value) for a in earlier}
        correct = self.trace("correct")
        wrong_earlier = [
            a
            for a in earlier
            if not _close(a.value, value_in(correct, a.quantity), self._tolerance(a, correct))
        ]
        derivation = self._derivation(answer, explainer)
        if earlier and self._reproduces(answer, CORRECT, overrides):
            sources = self._sources(answer, earlier, wrong_earlier, CORRECT)
            if not sources:  # it follows from earlier answers that are right, as rounded
                entry["verdict"] = "right"
                entry["explanation"] = (
                    f"right, carrying on from your rounded {_said(earlier, limit=3)}"
                )
                return
            entry["verdict"] = "consistent"
            entry["follows_from"] = [a.key for a in sources]
            entry["explanation"] = (
                f"follows correctly from your {_said(sources)}, which "
                f"{'is' if len(sources) == 1 else 'are'} wrong; {derivation}"
            )
            return
        # A mistake must agree with what the student got right: try each with the student's
        # earlier answers in place first, and only then each on its own.
        passes = [overrides, {}] if earlier else [{}]
        for given in passes:
            for mistake in self.mistakes():
                rules = mistake.rules(self.spec)
                if not self._reproduces(answer, rules, given, mistake.name):
                    continue
                follows = self._sources(answer, earlier, wrong_earlier, rules) if given else []
                entry["diagnosis"] = {"mistake": mistake.name, "description": mistake.description}
                entry["follows_from"] = [a.key for a in follows]
                also = f" (from your {_said(follows)})" if follows else ""
                entry["explanation"] = f"{mistake.description}{also}; {derivation}"
                return
        hint = _hint(answer.value, true)
        entry["explanation"] = f"no common mistake reproduces {answer.text}{hint}; {derivation}"

    def _reproduces(
        self,
        answer: Answer,
        rules: Rules,
        overrides: Mapping[Quantity, Num],
        name: str = "",
    ) -> bool:
        """Does working the step under `rules`, with `overrides` in place, give this answer?"""
        value = value_in(self.trace(name, rules, overrides), answer.quantity)
        return _finite(value) and _close(answer.value, value, answer.tolerance)

    def _sources(
        self, answer: Answer, earlier: Sequence[Answer], wrong: Sequence[Answer], rules: Rules
    ) -> list[Answer]:
        """The fewest wrong earlier answers that still reproduce this one: each is dropped from
        the student's numbers in turn, and stays dropped when the answer follows without it."""
        kept = list(wrong)
        right = [a for a in earlier if a not in wrong]
        for candidate in list(kept):
            trial = [a for a in kept if a is not candidate]
            overrides = {a.quantity: self._as_number(a.value) for a in [*right, *trial]}
            value = value_in(self.trace("", rules, overrides), answer.quantity)
            if _finite(value) and _close(answer.value, value, answer.tolerance):
                kept = trial
        return kept

    def _tolerance(self, answer: Answer, trace: Trace) -> Fraction:
        true = value_in(trace, answer.quantity)
        return written_tolerance(answer.text, Fraction(true) if _finite(true) else Fraction(0))

    def _as_number(self, value: Fraction) -> Num:
        return float(value) if self.hand.arith.mode == "float" else value

    def _derivation(self, answer: Answer, explainer: Explainer) -> str:
        """The correct value, with its derivation when there is one to show."""
        eq = self._equation(answer, explainer)
        if eq is None:
            true = value_in(self.trace("correct"), answer.quantity)
            return f"the correct value is {_show(true, self.hand.arith)}"
        text = _text(eq, self.hand.arith)
        if eq.note is not None:
            text += f" ({_text(eq.note, self.hand.arith)})"
        return f"correct: {text}"

    def _equation(self, answer: Answer, explainer: Explainer) -> Equation | None:
        q = answer.quantity
        if q[0] in ("pre", "act"):
            pre, act = explainer.forward_equations(q[1], q[2])
            return pre if q[0] == "pre" else act
        if q[0] in ("loss", "sample_loss"):
            equations = explainer.loss_equations()
            if q[0] == "sample_loss":
                return equations[q[1]]
            return equations[self.spec.batch_size if self.spec.batched else 0]
        if q[0] == "delta":
            return explainer.delta_equation(q[1], q[2])
        if q[0] in ("grad", "new"):
            index = q[1]
            if q[0] == "new":
                return explainer.update_equation(index)
            uses = explainer.uses.get(index, [])
            return explainer.gradient_equation(index, uses) if uses else None
        return None


_RATIOS: dict[Fraction, str] = {
    Fraction(-1): "the sign is wrong",
    Fraction(2): "it is twice the correct value",
    Fraction(1, 2): "it is half the correct value",
}


def _hint(answer: Fraction, true: Num) -> str:
    """What a wrong number has in common with the right one, when it is that simple."""
    if not _finite(true) or true == 0:
        return ""
    ratio = answer / Fraction(true)
    for factor, said in _RATIOS.items():
        if abs(ratio - factor) <= Fraction(1, 10**6):
            return f" ({said})"
    return ""


def _said(answers: Sequence[Answer], limit: int = 0) -> str:
    said = [f"{a.key} = {a.text}" for a in answers]
    if limit and len(said) > limit:
        said = [*said[: limit - 1], f"… ({len(said) - limit + 1} more)"]
    return ", ".join(said)


def _finite(value: Num) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _show(value: Num, arith: Arithmetic) -> str:
    """A number in the explanation text, as this arithmetic writes it."""
    if arith.mode == "exact":
        return str(Fraction(value))
    if arith.mode == "round" and _finite(value):
        shown = f"{float(value):.{arith.decimals}f}"
        return shown.lstrip("-") if float(shown) == 0 else shown
    return fmt(float(value))


def _text(eq: Equation, arith: Arithmetic) -> str:
    return "".join(p if isinstance(p, str) else _show(eq.numbers[p], arith) for p in eq.text)


def check(
    spec: Spec, answers_path: str, *, hand: Hand, notation: Notation, lr: float | None
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every answer judged, and the counts of right, wrong and consistent ones."""
    checker = Checker(spec, hand, notation, lr)
    answers = read_answers(answers_path, spec, hand, notation, checker.rate)
    judged = checker.judge(answers)
    summary = {
        "total": len(judged),
        "right": sum(e["verdict"] == "right" for e in judged),
        "wrong": sum(e["verdict"] == "wrong" for e in judged),
        "consistent": sum(e["verdict"] == "consistent" for e in judged),
    }
    return judged, summary
