"""Derivations (`nncalc explain`, `backprop --explain`): every equation checked against numbers
worked out without the derivation code.

Each equation is data: text and LaTeX parts, where an integer part k stands for numbers[k]. The
tests read the numbers an equation lists and redo its arithmetic here (a sum of products, a
slope times a sum, θ − η·g), and compare the value it ends in with the numpy engine's
(floats), with the exact fractions of the result (--exact), or with the exam values (--round).
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_gradients import LOSSES, kink_distance, layered_specs, named_specs
from test_hand import (
    ALL_ACTIVATIONS,
    FLOAT_SLOPES,
    SMALL_EXACT_SPEC,
    Exact,
    Float,
    label,
    off_the_kinks,
    rational_specs,
    ref_loss,
    ref_net,
    reference,
    with_step,
    yaml_data,
)
from typer.testing import CliRunner, Result

import nncalc
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("answers"))
HOMEWORK = ROOT / "examples" / "homework.yaml"
MAZUR = ROOT / "examples" / "mazur-sigmoid.yaml"
SKIP = ROOT / "examples" / "skip-shared.yaml"
SOFTMAX = ROOT / "examples" / "softmax-classifier.yaml"

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SpecData = dict[str, Any]
Equation = dict[str, Any]
Section = dict[str, Any]
runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def run_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = invoke(*args, "-f", "json", stdin=stdin)
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def text(data: SpecData) -> str:
    return json.dumps(data)


# --- reading an equation --------------------------------------------------------------------------


def shown(eq: Equation, form: str = "text") -> str:
    """The equation as printed: parts joined, numbers with repr."""
    return "".join(p if isinstance(p, str) else repr(eq["numbers"][p]) for p in eq[form])


def symbols(eq: Equation, form: str = "text") -> str:
    """The equation's strings only (what changes with the notation)."""
    return "".join(p if isinstance(p, str) else "#" for p in eq[form])


def segments(parts: list[str | int]) -> list[list[str | int]]:
    """The parts between the ' = ' signs."""
    out: list[list[str | int]] = [[]]
    for p in parts:
        if p == " = ":
            out.append([])
        else:
            out[-1].append(p)
    return out


def ints(parts: list[str | int]) -> list[int]:
    return [p for p in parts if isinstance(p, int)]


def split(parts: list[str | int], sep: str) -> list[list[str | int]]:
    out: list[list[str | int]] = [[]]
    for p in parts:
        if p == sep:
            out.append([])
        else:
            out[-1].append(p)
    return out


class Reader:
    """An equation's numbers as floats, or as Fractions from its "exact" strings."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact

    def numbers(self, eq: Equation) -> list[Any]:
        if not self.exact:
            return list(eq["numbers"])
        assert len(eq["exact"]) == len(eq["numbers"])
        out = [Fraction(s) for s in eq["exact"]]
        for f, x in zip(out, eq["numbers"], strict=True):
            assert float(f) == x, (str(f), x)  # the float shown is the fraction's float
        return out

    def last(self, eq: Equation) -> Any:
        """The number the equation ends in (a note's numbers come after it, not counted)."""
        return self.numbers(eq)[ints(eq["text"])[-1]]

    def sum_of_products(self, eq: Equation, parts: list[str | int]) -> tuple[Any, float]:
        """Σ over the ' + ' terms of the product of each term's numbers, and Σ|term| (the
        scale of float rounding)."""
        nums = self.numbers(eq)
        total: Any = Fraction(0) if self.exact else 0.0
        scale = 0.0
        for term in split(parts, " + "):
            if not ints(term):  # '()': a neuron nothing reads sums no terms
                continue
            product: Any = Fraction(1) if self.exact else 1.0
            for k in ints(term):
                product *= nums[k]
            total += product
            scale += abs(float(product))
        return total, scale


# --- expected values ------------------------------------------------------------------------------


def element(value: Any, index: tuple[int, ...]) -> Any:
    for i in index:
        value = value[i]
    return value


def split_label(form: str, name: str) -> tuple[str, tuple[int, ...]]:
    """w1 → ('w1', ()); W1[1,2] → ('W1', (0, 1)); b1[2] → ('b1', (1,))."""
    if form == "named":
        return name, ()
    match = re.fullmatch(r"([Wb]\d+)\[(\d+)(?:,(\d+))?\]", name)
    assert match, name
    return match[1], tuple(int(g) - 1 for g in match.groups()[1:] if g is not None)


class Engine:
    """The values a derivation must end in, from the numpy engine (floats)."""

    def __init__(self, spec: nncalc.Spec, lr: float | None = None) -> None:
        self.result = nncalc.backprop(spec, lr)
        self.form = spec.form
        self.batched = spec.batched

    def pre(self, name: str, s: int) -> Any:
        return float(self.result.pre_activation(name)[s])

    def act(self, name: str, s: int) -> Any:
        return float(self.result.activation(name)[s])

    def delta(self, name: str, s: int) -> Any:
        return float(self.result.delta(name)[s])

    def output(self, name: str, s: int) -> Any:
        return float(self.result.outputs[name][s])

    def sample_loss(self, s: int) -> Any:
        return float(self.result.sample_losses[s])

    def loss(self) -> Any:
        return float(self.result.loss)

    def _param(self, params: dict[str, Any] | None, name: str) -> Any:
        assert params is not None
        block, index = split_label(self.form, name)
        return float(element(np.asarray(params[block]), index))

    def grad(self, name: str) -> Any:
        return self._param(self.result.gradients, name)

    def new(self, name: str) -> Any:
        return self._param(self.result.updated, name)

    def param(self, name: str) -> Any:
        return self._param(self.result.params, name)

    def lr(self) -> Any:
        return self.result.learning_rate


class ExactData(Engine):
    """The values, as fractions, from an --exact result's "exact" map."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.exact = {path: Fraction(v) for path, v in data["exact"].items()}
        self.form = data["form"]
        self.batched = data["batched"]

    def _at(self, path: str, s: int) -> Any:
        return self.exact[f"{path}[{s}]" if self.batched else path]

    def pre(self, name: str, s: int) -> Any:
        return self._at(f"neurons.{name}.pre_activation", s)

    def act(self, name: str, s: int) -> Any:
        return self._at(f"neurons.{name}.activation", s)

    def delta(self, name: str, s: int) -> Any:
        return self._at(f"neurons.{name}.delta", s)

    def output(self, name: str, s: int) -> Any:
        return self._at(f"outputs.{name}", s)

    def sample_loss(self, s: int) -> Any:
        return self.exact[f"sample_losses[{s}]"] if self.batched else self.exact["loss"]

    def loss(self) -> Any:
        return self.exact["loss"]

    def _path(self, key: str, name: str) -> Any:
        block, index = split_label(self.form, name)
        return self.exact[f"{key}.{block}" + "".join(f"[{i}]" for i in index)]

    def grad(self, name: str) -> Any:
        return self._path("gradients", name)

    def new(self, name: str) -> Any:
        return self._path("updated", name)

    def param(self, name: str) -> Any:
        return self._path("params", name)

    def lr(self) -> Any:
        return self.exact.get("learning_rate")


def slope_of(activation: str, alpha: Any, a: Any, z: Any) -> Any:
    """f'(a), worked out here from the README's table (exactly for fractions a and z)."""
    exact = isinstance(a, Fraction)
    one, zero = (Fraction(1), Fraction(0)) if exact else (1.0, 0.0)
    if activation == "identity":
        return one
    if activation == "relu":
        return one if a > 0 else zero
    if activation == "leaky_relu":
        slope = (Exact() if exact else Float()).num(0.01 if alpha is None else alpha)
        return one if a > 0 else slope
    if activation in ("sign", "step"):
        return zero
    if activation == "sigmoid":
        return z * (1 - z)
    if activation == "tanh":
        return 1 - z * z
    return FLOAT_SLOPES[activation](a, float(alpha or 0.0))


# --- checking a whole explanation -----------------------------------------------------------------


class Checker:
    """Checks every section of an explanation against `values` (engine floats or exact data),
    recomputing each listed derivation from its own numbers."""

    def __init__(self, spec: SpecData, data: dict[str, Any], values: Engine, exact: bool) -> None:
        self.spec, self.data, self.values = spec, data, values
        self.read = Reader(exact)
        self.exact = exact
        self.net = ref_net(spec)
        self.units = {u.name: u for u in self.net.units}
        self.samples = len(self.net.samples)
        self.dL_dyhat: dict[tuple[str, int], Any] = {}
        self.dL_dz: dict[tuple[str, int], Any] = {}  # a δ equation's Σ w·δ (+ ∂L/∂ŷ)

    def same(self, actual: Any, expected: Any, what: str, scale: float = 0.0) -> None:
        if self.exact:
            assert Fraction(actual) == Fraction(expected), (what, str(actual), str(expected))
        else:
            tol = 1e-12 * max(1.0, abs(float(expected)), scale)
            assert abs(float(actual) - float(expected)) <= tol, (what, actual, expected)

    def sections(self) -> list[Section]:
        sections = self.data["explanation"]["sections"]
        assert isinstance(sections, list)
        return sections

    def check(self, *, forward: bool = True) -> None:
        kinds = [s["kind"] for s in self.sections()]
        order = ["forward", "loss", "delta", "param"]
        assert kinds == sorted(kinds, key=order.index), "sections in the documented order"
        assert kinds.count("loss") == 1
        assert ("forward" in kinds) == forward
        for section in self.sections():
            assert section["title"]["text"] and section["title"]["latex"]
            sample = section["sample"] if section["sample"] is not None else 0
            if self.net.batched and section["kind"] in ("forward", "delta"):
                assert section["sample"] is not None
            else:
                assert section["sample"] is None
            for eq in section["equations"]:
                self.check_form(eq)
            getattr(self, f"check_{section['kind']}")(section, sample)
        for section in self.sections():  # softmax: Σ z_i·∂L/∂z_i over the layer, once all known
            if section["kind"] == "delta" and self.units[section["name"]].act == "softmax":
                self.check_softmax_dot(section, section["sample"] or 0)

    def check_form(self, eq: Equation) -> None:
        numbers = eq["numbers"]
        refs = ints(eq["text"])
        assert refs == ints(eq["latex"]), "text and LaTeX show the same numbers in order"
        assert all(0 <= k < len(numbers) for k in refs)
        assert all(isinstance(x, float) and math.isfinite(x) for x in numbers)
        # LaTeX: exactly one alignment '&' per equation (not a '\&' of a name), none in a note
        latex = "".join(p for p in eq["latex"] if isinstance(p, str))
        if not re.search(r"is frozen: it keeps|No learning rate given", shown(eq)):
            # (those two update lines: test_every_update_line_has_one_alignment_point)
            assert len(re.findall(r"(?<!\\)&", latex)) == 1, latex
        if eq["note"] is not None:
            note = "".join(p for p in eq["note"]["latex"] if isinstance(p, str))
            assert not re.findall(r"(?<!\\)&", note), note
            note_refs = ints(eq["note"]["text"])
            assert note_refs == ints(eq["note"]["latex"])
            assert all(len(refs) <= k < len(numbers) for k in note_refs), "a note's own numbers"
        if self.exact:
            assert len(eq["exact"]) == len(numbers)
            self.read.numbers(eq)  # each float is its fraction's
        else:
            assert "exact" not in eq

    # forward: a = Σ source·weight (+ bias) = (…)(…) + … = a;  z = f(a) = f(a) = z
    def check_forward(self, section: Section, s: int) -> None:
        name = section["name"]
        pre, post = section["equations"]
        a = self.values.pre(name, s)
        self.same(self.read.last(pre), a, f"a of {name}")
        parts = segments(pre["text"])
        if len(parts) == 4:
            total, scale = self.read.sum_of_products(pre, parts[2])
            self.same(total, a, f"a of {name} from its terms", scale)
            terms = split(parts[2], " + ")
            unit = self.units[name]
            if unit.bias is None and len(terms) == len(unit.edges) + 1:  # a bias of 0 invented:
                (k,) = ints(terms[-1])  # test_a_neuron_without_bias_gets_no_bias_term
                assert self.read.numbers(pre)[k] == 0
                terms = terms[:-1]
            assert len(terms) == len(unit.edges) + (unit.bias is not None)
        self.same(self.read.last(post), self.values.act(name, s), f"z of {name}")
        parts = segments(post["text"])
        if self.units[name].act == "softmax":
            assert len(parts) == 3
        else:
            assert len(parts) == 4
            (k,) = ints(parts[2])
            self.same(self.read.numbers(post)[k], a, f"the a inside f(a) of {name}")

    # loss: per-sample L (+ the batch's L), then ∂L/∂ŷ of each output of each sample
    def check_loss(self, section: Section, s: int) -> None:
        eqs = section["equations"]
        n = len(self.net.outputs)
        batched = self.net.batched
        expected = self.samples + (1 if batched else 0) + self.samples * n
        assert len(eqs) == expected
        for sample in range(self.samples):
            eq = eqs[sample]
            self.same(self.read.last(eq), self.values.sample_loss(sample), f"L of {sample}")
            self.check_loss_formula(eq, sample)
        if batched:
            self.same(self.read.last(eqs[self.samples]), self.values.loss(), "L")
        else:
            self.same(self.read.last(eqs[0]), self.values.loss(), "L")
        first = self.samples + (1 if batched else 0)
        ar = Exact() if self.exact else Float()
        for sample in range(self.samples):
            yhat = [self.values.output(o, sample) for o in self.net.outputs]
            targets = self.net.samples[sample][1]
            y = None if targets is None else [ar.num(targets[o]) for o in self.net.outputs]
            _, grads = ref_loss(self.net.loss, ar, yhat, y)
            if self.net.reduction == "mean" and self.samples > 1:
                grads = [g / self.samples for g in grads]
            for i, o in enumerate(self.net.outputs):
                eq = eqs[first + sample * n + i]
                assert shown(eq).startswith(f"∂L/∂ŷ_{o}")
                got = self.read.last(eq)
                self.same(got, grads[i], f"∂L/∂ŷ of {o}, sample {sample}")
                self.dL_dyhat[(o, sample)] = got
                self.check_loss_gradient_formula(eq, yhat[i], y[i] if y else None)

    def check_loss_formula(self, eq: Equation, sample: int) -> None:
        """½ (y − ŷ)² and its kin with numbers: [y1, ŷ1, y2, ŷ2, …, L]."""
        loss = self.net.loss
        if loss not in ("half_squared_error", "squared_error", "mse", "mae"):
            return
        nums = self.read.numbers(eq)
        refs = ints(eq["text"])
        n = len(self.net.outputs)
        assert len(refs) == 2 * n + 1
        pairs = [(nums[refs[2 * i]], nums[refs[2 * i + 1]]) for i in range(n)]
        for (y, yhat), o in zip(pairs, self.net.outputs, strict=True):
            self.same(yhat, self.values.output(o, sample), f"ŷ in L of {o}")
            targets = self.net.samples[sample][1]
            assert targets is not None
            self.same(y, (Exact() if self.exact else Float()).num(targets[o]), f"y of {o}")
        if loss == "mae":
            total = sum((abs(y - p) for y, p in pairs), start=0 * nums[0]) / n
        else:
            total = sum(((y - p) * (y - p) for y, p in pairs), start=0 * nums[0])
            total = {"half_squared_error": total / 2, "squared_error": total}.get(loss, total / n)
        self.same(total, self.read.last(eq), "L from its listed numbers")

    def check_loss_gradient_formula(self, eq: Equation, yhat: Any, y: Any) -> None:
        """−(y − ŷ) and its kin with numbers: [y, ŷ, ∂L/∂ŷ]."""
        loss = self.net.loss
        factor = {
            "half_squared_error": 1,
            "squared_error": 2,
            "mse": Fraction(2, len(self.net.outputs)),
        }
        if loss not in factor or y is None:
            return
        nums = self.read.numbers(eq)
        refs = ints(eq["text"])
        assert len(refs) == 3
        listed_y, listed_yhat, g = (nums[k] for k in refs)
        self.same(listed_y, y, "y")
        self.same(listed_yhat, yhat, "ŷ")
        scale = Fraction(1, self.samples) if self.net.reduction == "mean" else Fraction(1)
        if self.exact:
            expected = factor[loss] * scale * (listed_yhat - listed_y)
        else:
            expected = float(factor[loss] * scale) * (listed_yhat - listed_y)
        self.same(g, expected, "∂L/∂ŷ from its listed numbers")

    # δ_j = ∂L/∂a_j = f'(a_j) · Σ w·δ (+ ∂L/∂ŷ) = (f')·((w)(δ) + …) = δ;  softmax: z·(g − Σ z g)
    def check_delta(self, section: Section, s: int) -> None:
        name = section["name"]
        (eq,) = section["equations"]
        delta = self.values.delta(name, s)
        self.same(self.read.last(eq), delta, f"δ of {name}")
        parts = segments(eq["text"])
        unit = self.units[name]
        if len(parts) < 5:  # more terms than are listed one by one
            return
        numeric = parts[3]
        nums = self.read.numbers(eq)
        if unit.act == "softmax":
            head, rest = numeric[: numeric.index(" · (")], numeric[numeric.index(" · (") + 1 :]
            (kz,) = ints(head)
            terms, dot_part = split(rest, " − ")
            (kdot,) = ints(dot_part)
            g, scale = self.read.sum_of_products(eq, terms)
            self.same(nums[kz], self.values.act(name, s), f"z in δ of {name}")
            self.same(nums[kz] * (g - nums[kdot]), delta, f"δ of {name} recomputed", scale)
            self.dL_dz[(name, s)] = g
            return
        head, rest = numeric[: numeric.index(" · ")], numeric[numeric.index(" · ") + 1 :]
        (kslope,) = ints(head)
        slope = nums[kslope]
        expected_slope = slope_of(
            unit.act, unit.alpha, self.values.pre(name, s), self.values.act(name, s)
        )
        self.same(slope, expected_slope, f"f'(a) of {name}")
        g, scale = self.read.sum_of_products(eq, rest)
        self.same(slope * g, delta, f"δ of {name} recomputed", scale * max(1.0, abs(float(slope))))
        readers = sum(1 for u in self.net.units for src, _ in u.edges if src == name)
        listed = [t for t in split(rest, " + ") if ints(t)]
        if readers + (name in self.net.outputs) == 0:  # nothing reads it: ∂L/∂z written as 0
            assert len(listed) == 1
            assert nums[ints(listed[0])[0]] == 0
        else:
            assert len(listed) == readers + (name in self.net.outputs)
        if eq["note"] is not None or delta == 0:  # a zero δ says why
            assert delta == 0
            assert eq["note"] is not None, f"δ of {name} is 0 without a note"

    def used_twice_by_one_neuron(self, name: str) -> bool:
        for unit in self.net.units:
            weights = [w for _, w in unit.edges] + ([unit.bias] if unit.bias else [])
            if sum(1 for w in weights if w == ("param", (name, ()))) > 1:
                return True
        return False

    def check_softmax_dot(self, section: Section, s: int) -> None:
        """The Σ z_i·∂L/∂z_i a softmax δ lists is the layer's, from the other δ equations."""
        name = section["name"]
        if (name, s) not in self.dL_dz:
            return
        (eq,) = section["equations"]
        numeric = segments(eq["text"])[3]
        (kdot,) = ints(split(numeric[numeric.index(" · (") + 1 :], " − ")[1])
        layer = next(b for b in self.net.blocks if any(u.name == name for u in b))
        total = sum(self.values.act(u.name, s) * self.dL_dz[(u.name, s)] for u in layer)
        self.same(self.read.numbers(eq)[kdot], total, f"Σ z·∂L/∂z of {name}'s layer")

    # param: [∂L/∂w = paths], [∂L/∂w = δ form], [w ← w − η·∂L/∂w = θ − (η)(g) = new]
    def check_param(self, section: Section, s: int) -> None:
        name = section["name"]
        g = self.values.grad(name)
        ends_in_gradient = 0
        paths = 0
        for eq in section["equations"]:
            line = shown(eq)
            if line.startswith(f"∂L/∂{name} = "):
                ends_in_gradient += 1
                self.same(self.read.last(eq), g, f"∂L/∂{name}")
                parts = segments(eq["text"])
                if len(parts) == 4:
                    path_sum = "δ" not in symbols({"text": parts[1], "numbers": []})
                    paths += path_sum
                    if path_sum and self.used_twice_by_one_neuron(name):
                        continue  # test_a_weight_used_twice_by_one_neuron_has_both_paths
                    total, scale = self.read.sum_of_products(eq, parts[2])
                    self.same(total, g, f"∂L/∂{name} from its listed numbers", scale)
                continue
            assert eq is section["equations"][-1], "the update line comes last"
            if self.values.lr() is None:
                assert line.startswith("No learning rate given")
                assert ints(eq["text"]) == []
            elif line.startswith(f"{name} is frozen"):
                self.same(self.read.last(eq), self.values.param(name), f"frozen {name}")
                self.same(self.values.new(name), self.values.param(name), f"frozen {name}")
            else:
                assert line.startswith(f"{name} ← {name} − η · ∂L/∂{name} = "), line
                theta, eta, grad = (self.read.numbers(eq)[k] for k in ints(segments(eq["text"])[1]))
                self.same(theta, self.values.param(name), f"{name} before the step")
                self.same(eta, self.values.lr(), "η")
                self.same(grad, g, f"∂L/∂{name} in the update")
                new = self.read.last(eq)
                self.same(new, self.values.new(name), f"{name} after the step")
                self.same(theta - eta * grad, new, f"{name} after the step recomputed")
        assert ends_in_gradient >= 1
        if not self.net.batched and ends_in_gradient == 2:
            assert paths == 1  # a path-sum and the δ form
        self.param_paths_seen = getattr(self, "param_paths_seen", 0) + paths


def explained(spec: SpecData, *args: str, command: str = "explain") -> dict[str, Any]:
    extra = ("--explain",) if command == "backprop" else ()
    return run_json(command, "-", *extra, *args, stdin=text(spec))


def check_float(spec: SpecData, data: dict[str, Any], lr: float | None = None) -> Checker:
    checker = Checker(spec, data, Engine(nncalc.load_spec(text(spec)), lr), exact=False)
    checker.check()
    return checker


def expected_sections(spec: SpecData) -> tuple[set[str], list[str]]:
    """The neurons that get a δ (every one a param's use reaches) and the param labels."""
    net = ref_net(spec)
    uses = {
        u.name
        for u in net.units
        if any(w[0] == "param" for _, w in u.edges) or (u.bias is not None and u.bias[0] == "param")
    }
    reached = set(uses)
    changed = True
    while changed:
        changed = False
        for u in net.units:
            if u.name not in reached and any(src in reached for src, _ in u.edges):
                reached.add(u.name)
                changed = True
    keys = list(net.params)
    if "layers" in spec:  # W1, b1, W2, b2, …, each row by row
        keys.sort(key=lambda k: (int(k[0][1:]), k[0][0] == "b", k[1]))
    return reached, [label(k) for k in keys]


def check_structure(spec: SpecData, data: dict[str, Any]) -> None:
    """All params explained: a forward section per neuron and sample, one loss section, a δ per
    reached neuron and sample (outputs first), a section per param in spec order."""
    net = ref_net(spec)
    sections = data["explanation"]["sections"]
    samples = len(net.samples)
    forward = [(s["name"], s["sample"] or 0) for s in sections if s["kind"] == "forward"]
    assert sorted(forward) == sorted((u.name, i) for u in net.units for i in range(samples))
    reached, labels = expected_sections(spec)
    deltas = [(s["name"], s["sample"] or 0) for s in sections if s["kind"] == "delta"]
    assert sorted(deltas) == sorted((n, i) for n in reached for i in range(samples))
    first = {}
    for position, (name, _) in enumerate(deltas):
        first.setdefault(name, position)
    for unit in net.units:  # from the output back: a reader's δ before its sources'
        for source, _ in unit.edges:
            if unit.name in first and source in first:
                assert first[unit.name] < first[source], (unit.name, source)
    assert [s["name"] for s in sections if s["kind"] == "param"] == labels


# --- every example --------------------------------------------------------------------------------


def test_there_are_examples() -> None:
    assert {HOMEWORK, MAZUR, SKIP, SOFTMAX} <= set(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["explain", "backprop"])
def test_every_example_explained(example: Path, command: str) -> None:
    spec = yaml_data(example)
    data = explained(spec, command=command)
    assert data["command"] == command
    checker = check_float(spec, data)
    check_structure(spec, data)
    if not checker.net.batched and all(u.act != "softmax" for u in checker.net.units):
        assert checker.param_paths_seen == len(expected_sections(spec)[1])  # a path sum each


def test_backprop_explain_data_is_backprop_data_plus_the_explanation() -> None:
    plain = run_json("backprop", str(HOMEWORK))
    with_explanation = run_json("backprop", str(HOMEWORK), "--explain")
    explanation = with_explanation.pop("explanation")
    assert with_explanation == plain
    assert explanation == run_json("explain", str(HOMEWORK))["explanation"]


@pytest.mark.parametrize("lr", ["0", "0.25"])
def test_the_update_line_follows_the_learning_rate(lr: str) -> None:
    spec = yaml_data(MAZUR)
    check_float(spec, explained(spec, "--lr", lr), float(lr))


# --- random specs ---------------------------------------------------------------------------------


@st.composite
def explain_specs(draw: st.DrawFn) -> SpecData:
    loss = draw(st.sampled_from(LOSSES))
    activation = draw(st.sampled_from(ALL_ACTIVATIONS))
    if activation == "softmax" or draw(st.booleans()):
        which = activation if activation == "softmax" or draw(st.booleans()) else None
        spec = draw(layered_specs(which, loss))
    else:
        spec = draw(named_specs(activation, loss))
    return draw(with_step(spec))


@SETTINGS
@given(spec=explain_specs(), command=st.sampled_from(["explain", "backprop"]))
def test_random_specs_explained(spec: SpecData, command: str) -> None:
    assume(kink_distance(nncalc.forward(nncalc.load_spec(text(spec)))) > 1e-9)
    data = explained(spec, command=command)
    check_float(spec, data)
    check_structure(spec, data)


@SETTINGS
@given(spec=rational_specs())
def test_random_specs_explained_exactly(spec: SpecData) -> None:
    assume(off_the_kinks(spec, reference(spec, Exact())))
    data = explained(spec, "--exact")
    Checker(spec, data, ExactData(data), exact=True).check()
    check_structure(spec, data)
    # and the exact map is the reference's, so the derivations end in the right fractions
    mine = reference(spec, Exact()).values
    for path, value in mine.items():
        assert data["exact"][path] == str(value), path


# --- exact and exam arithmetic --------------------------------------------------------------------


@pytest.mark.parametrize("spec", [yaml_data(HOMEWORK), SMALL_EXACT_SPEC], ids=["homework", "small"])
def test_exact_derivations(spec: SpecData) -> None:
    data = explained(spec, "--exact")
    Checker(spec, data, ExactData(data), exact=True).check()
    check_structure(spec, data)


def test_exact_homework_derivation_numbers() -> None:
    # a_o = (4)(−1/2) + (0)(1) + (3)(6/5) = 8/5;  L = ½(6 − 8/5)² = 242/25
    # ∂L/∂w5 = δ_h3·x1 = (−132/25)(1) = −132/25;  w7 ← −1/2 − (1)(−88/5) = 171/10
    data = explained(yaml_data(HOMEWORK), "--exact")
    by_name = {(s["kind"], s["name"]): s for s in data["explanation"]["sections"]}
    a_o = by_name[("forward", "o")]["equations"][0]
    assert a_o["exact"] == ["4", "-1/2", "0", "1", "3", "6/5", "8/5"]
    assert by_name[("loss", None)]["equations"][0]["exact"][-1] == "242/25"
    assert by_name[("param", "w5")]["equations"][1]["exact"] == ["-132/25", "1", "-132/25"]
    assert by_name[("param", "w7")]["equations"][-1]["exact"] == ["-1/2", "1", "-88/5", "171/10"]


@pytest.mark.parametrize("example", [HOMEWORK, MAZUR, SKIP], ids=lambda p: p.stem)
@pytest.mark.parametrize("decimals", [2, 4])
def test_exam_derivations_show_the_exam_values(example: Path, decimals: int) -> None:
    """With --round N each equation ends in the exam value of the result's data, and the δ
    form, the forward sum and the update are each that value's rounding (within ½·10⁻ᴺ)."""
    data = run_json("explain", str(example), "--round", str(decimals))
    half = 0.5 * 10.0**-decimals * (1 + 1e-9)
    read = Reader(exact=False)
    batched = data["batched"]

    def at(value: Any, s: int) -> float:
        return float(value[s] if batched else value)

    for section in data["explanation"]["sections"]:
        s = section["sample"] or 0
        name = section["name"]
        eqs = section["equations"]
        if section["kind"] == "forward":
            neuron = data["neurons"][name]
            assert read.last(eqs[0]) == at(neuron["pre_activation"], s)
            assert read.last(eqs[1]) == at(neuron["activation"], s)
            parts = segments(eqs[0]["text"])
            total, _ = read.sum_of_products(eqs[0], parts[2])
            assert abs(total - read.last(eqs[0])) <= half + 1e-12
        elif section["kind"] == "delta":
            assert read.last(eqs[0]) == at(data["neurons"][name]["delta"], s)
        elif section["kind"] == "param":
            block, index = split_label(data["form"], name)
            g = float(element(data["gradients"][block], index))
            new = float(element(data["updated"][block], index))
            for eq in eqs[:-1]:
                assert read.last(eq) == g
            delta_form = next(eq for eq in eqs[:-1] if "δ" in symbols(eq))
            total, _ = read.sum_of_products(delta_form, segments(delta_form["text"])[2])
            assert abs(total - g) <= half + 1e-12
            update = eqs[-1]
            assert read.last(update) == new
            if "←" in shown(update):
                theta, eta, grad = (
                    read.numbers(update)[k] for k in ints(segments(update["text"])[1])
                )
                assert abs(theta - eta * grad - new) <= half + 1e-12


# --- zero factors say why -------------------------------------------------------------------------


def by_key(data: dict[str, Any]) -> dict[tuple[str, str | None], Section]:
    return {(s["kind"], s["name"]): s for s in data["explanation"]["sections"]}


def note_text(eq: Equation) -> str:
    assert eq["note"] is not None
    return shown({"text": eq["note"]["text"], "numbers": eq["numbers"]})


def test_dead_relu_notes_on_the_homework() -> None:
    data = run_json("explain", str(HOMEWORK))
    sections = by_key(data)
    (delta_h2,) = sections[("delta", "h2")]["equations"]
    # a_h2 = 1·1 + 2·(−1) = −1 < 0: relu'(a_h2) = 0
    assert note_text(delta_h2) == (
        "relu′(a_h2) = 0 because a_h2 = -1.0 < 0: the unit is dead and passes no gradient"
    )
    for param in ("w3", "w4"):  # ∂L/∂w = δ_h2 · x = 0
        notes = [eq for eq in sections[("param", param)]["equations"] if eq["note"]]
        assert len(notes) == 1
        assert note_text(notes[0]).startswith("δ_h2 = 0: relu′(a_h2) = 0 because a_h2 = -1.0 < 0")
        assert "dead" in note_text(notes[0])
        assert "\\text{" in "".join(p for p in notes[0]["note"]["latex"] if isinstance(p, str))
    # ∂L/∂w8 = δ_o · z_h2 = (−4.4)(0): the weight multiplies zero
    notes = [eq for eq in sections[("param", "w8")]["equations"] if eq["note"]]
    assert len(notes) == 1
    assert note_text(notes[0]) == "z_h2 = 0: the weight multiplies zero"
    # nothing else is zero, so nothing else has a note
    for key, section in sections.items():
        if key not in {("delta", "h2"), ("param", "w3"), ("param", "w4"), ("param", "w8")}:
            assert all(eq["note"] is None for eq in section["equations"]), key


def test_the_kink_and_flat_units_say_why() -> None:
    # h = relu(x·w) with x = 1, w = 0: a_h = 0, relu'(0) = 0 by convention (floats: no crash)
    spec: SpecData = {
        "inputs": {"x": 1.0},
        "params": {"w": 0.0, "v": 2.0},
        "neurons": {
            "h": {"from": {"x": "w"}, "activation": "relu"},
            "s": {"from": {"x": "v"}, "activation": "step"},
            "o": {"from": {"h": 1.0, "s": 1.0}, "activation": "identity"},
        },
        "outputs": ["o"],
        "target": {"o": 3.0},
    }
    data = run_json("explain", "-", stdin=text(spec))
    sections = by_key(data)
    (h,) = sections[("delta", "h")]["equations"]
    assert "kink" in note_text(h) and "relu′(0) = 0" in note_text(h)
    (s,) = sections[("delta", "s")]["equations"]
    assert "step is flat" in note_text(s)
    check_float(spec, data)


def test_a_neuron_without_bias_gets_no_bias_term() -> None:
    spec = yaml_data(HOMEWORK)
    spec["neurons"]["h1"]["bias"] = 0.5  # h2 (same level) still has none
    data = run_json("explain", "-", stdin=text(spec))
    pre, _ = by_key(data)[("forward", "h2")]["equations"]
    assert symbols(pre).startswith("a_h2 = x1·w3 + x2·w4 = (#)(#) + (#)(#) = #"), symbols(pre)


# o = x1·w + x2·w (one param on two edges into one neuron), identity; x1 = 1, x2 = 2, w = 1;
# y = 0, L = ½(y − ŷ)²:  ŷ = 1 + 2 = 3,  δ_o = 3,  ∂L/∂w = δ_o·x1 + δ_o·x2 = 3 + 6 = 9.
# The two paths are ∂L/∂a_o·∂a_o/∂w through x1, (3)(1), and through x2, (3)(2).
SHARED_TWICE: SpecData = {
    "inputs": {"x1": 1, "x2": 2},
    "params": {"w": 1},
    "neurons": {"o": {"from": {"x1": "w", "x2": "w"}, "activation": "identity"}},
    "target": {"o": 0},
}


def test_a_weight_used_twice_by_one_neuron_has_both_paths() -> None:
    data = run_json("explain", "-", stdin=text(SHARED_TWICE))
    path_sum = by_key(data)[("param", "w")]["equations"][0]
    assert "δ" not in symbols(path_sum)  # the path sum comes first
    total, _ = Reader(exact=False).sum_of_products(path_sum, segments(path_sum["text"])[2])
    assert total == 9.0


def test_a_weight_used_twice_by_one_neuron_in_the_delta_form() -> None:
    data = run_json("explain", "-", stdin=text(SHARED_TWICE))
    delta_form = by_key(data)[("param", "w")]["equations"][1]
    assert shown(delta_form) == "∂L/∂w = δ_o · x1 + δ_o · x2 = (3.0)(1.0) + (3.0)(2.0) = 9.0"


# --- naming params --------------------------------------------------------------------------------


def test_naming_params_gives_those_sections_and_the_deltas_they_need() -> None:
    data = run_json("explain", str(HOMEWORK), "w1", "w3")
    sections = data["explanation"]["sections"]
    assert [(s["kind"], s["name"]) for s in sections] == [
        ("loss", None),
        ("delta", "o"),
        ("delta", "h1"),  # w1 feeds h1, w3 feeds h2; both reach o
        ("delta", "h2"),
        ("param", "w1"),
        ("param", "w3"),
    ]
    checker = Checker(yaml_data(HOMEWORK), data, Engine(nncalc.load_spec(HOMEWORK)), exact=False)
    checker.check(forward=False)


@pytest.mark.parametrize(
    ("names", "params", "deltas"),
    [
        (["W1"], ["W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]"], ["o1", "o2", "h1", "h2"]),
        (["W1[1,2]"], ["W1[1,2]"], ["o1", "o2", "h1"]),
        (["b2[1]", "W2[2,1]"], ["b2[1]", "W2[2,1]"], ["o1", "o2"]),
        (["W2", "W2[1,1]"], ["W2[1,1]", "W2[1,2]", "W2[2,1]", "W2[2,2]"], ["o1", "o2"]),
    ],
)
def test_naming_layered_params(names: list[str], params: list[str], deltas: list[str]) -> None:
    data = run_json("explain", str(MAZUR), *names)
    sections = data["explanation"]["sections"]
    assert [s["name"] for s in sections if s["kind"] == "param"] == params
    assert [s["name"] for s in sections if s["kind"] == "delta"] == deltas
    assert not [s for s in sections if s["kind"] == "forward"]
    Checker(yaml_data(MAZUR), data, Engine(nncalc.load_spec(MAZUR)), exact=False).check(
        forward=False
    )


@pytest.mark.parametrize(
    ("example", "name", "suggestion"),
    [
        (HOMEWORK, "w10", "w1"),
        (HOMEWORK, "W1", "w1"),
        (MAZUR, "w2", "W2"),
        (MAZUR, "W1[1,3]", "W1[1,2]"),
    ],
)
def test_an_unknown_param_is_refused_with_a_suggestion(
    example: Path, name: str, suggestion: str
) -> None:
    result = invoke("explain", str(example), "w1" if example == HOMEWORK else "W1", name)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert f"'{name}' is not a param" in line
    assert f"did you mean '{suggestion}'" in line


# --- notation -------------------------------------------------------------------------------------


def swap(text: str, pre: str, act: str, latex: bool) -> str:
    """The seed letters a (pre-activation) and z (activation) replaced."""
    if latex:

        def letter(x: str) -> str:
            return x if len(x) == 1 else rf"\mathrm{{{x}}}"

        return re.sub(
            r"(?<![\\\w])([az])_\{", lambda m: letter(pre if m[1] == "a" else act) + "_{", text
        )
    return re.sub(r"(?<![\w])([az])_(?=\w)", lambda m: (pre if m[1] == "a" else act) + "_", text)


@pytest.mark.parametrize(
    ("notation", "pre", "act"), [("nielsen", "z", "a"), ("mazur", "net", "out")]
)
@pytest.mark.parametrize("example", [HOMEWORK, MAZUR], ids=lambda p: p.stem)
def test_notation_changes_only_the_letters(
    example: Path, notation: str, pre: str, act: str
) -> None:
    seed = run_json("explain", str(example))
    other = run_json("explain", str(example), "--notation", notation)
    assert other["notation"] == {"name": notation, "pre": pre, "act": act}
    seed_sections = seed["explanation"]["sections"]
    other_sections = other["explanation"]["sections"]
    assert len(seed_sections) == len(other_sections)
    for a, b in zip(seed_sections, other_sections, strict=True):
        assert (a["kind"], a["name"], a["sample"]) == (b["kind"], b["name"], b["sample"])
        assert b["title"]["text"] == swap(a["title"]["text"], pre, act, latex=False)
        assert b["title"]["latex"] == swap(a["title"]["latex"], pre, act, latex=True)
        for x, y in zip(a["equations"], b["equations"], strict=True):
            assert y["numbers"] == x["numbers"]
            assert symbols(y) == swap(symbols(x), pre, act, latex=False)
            assert symbols(y, "latex") == swap(symbols(x, "latex"), pre, act, latex=True)
            assert symbols(y) != symbols(x) or not re.search(r"(?<!\w)[az]_", symbols(x))


def test_notation_letters_on_the_homework() -> None:
    expected = {
        "seed": ("a_h1 = x1·w1 + x2·w2 = ", "z_h1 = relu(a_h1) = ", "a_{h_{1}} &= "),
        "nielsen": ("z_h1 = x1·w1 + x2·w2 = ", "a_h1 = relu(z_h1) = ", "z_{h_{1}} &= "),
        "mazur": (
            "net_h1 = x1·w1 + x2·w2 = ",
            "out_h1 = relu(net_h1) = ",
            r"\mathrm{net}_{h_{1}} &= ",
        ),
    }
    for notation, (pre_text, act_text, pre_latex) in expected.items():
        data = run_json("explain", str(HOMEWORK), "--notation", notation)
        pre, act = by_key(data)[("forward", "h1")]["equations"]
        assert symbols(pre).startswith(pre_text)
        assert symbols(act).startswith(act_text)
        assert symbols(pre, "latex").startswith(pre_latex)
        (delta,) = by_key(data)[("delta", "h2")]["equations"]
        letter = pre_text.split("_")[0]
        assert f"∂L/∂{letter}_h2" in symbols(delta)
        assert f"relu′({letter}_h2) = 0" in note_text(delta)


# --- LaTeX alignment ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["frozen", "no learning rate"])
def test_every_update_line_has_one_alignment_point(how: str) -> None:
    spec = yaml_data(SKIP)
    if how == "no learning rate":
        del spec["learning_rate"]
    data = run_json("explain", "-", "k", stdin=text(spec))
    update = by_key(data)[("param", "k")]["equations"][-1]
    latex = "".join(p for p in update["latex"] if isinstance(p, str))
    assert len(re.findall(r"(?<!\\)&", latex)) == 1, latex


def test_the_other_lines_align_once_even_with_an_ampersand_in_a_name() -> None:
    spec: SpecData = {
        "inputs": {"x&y": 1.0},
        "params": {"w&1": 0.5},
        "neurons": {"o&": {"from": {"x&y": "w&1"}, "activation": "identity"}},
        "target": {"o&": 2.0},
        "learning_rate": 0.1,
    }
    data = run_json("explain", "-", stdin=text(spec))
    for section in data["explanation"]["sections"]:
        for eq in section["equations"]:
            latex = "".join(p for p in eq["latex"] if isinstance(p, str))
            assert len(re.findall(r"(?<!\\)&", latex)) == 1, latex
            assert "\\&" in latex or section["kind"] == "loss"


# --- the derivation numbers are the engine's: a sanity check on the checker itself ----------------


def test_the_checker_catches_a_changed_number() -> None:
    spec = yaml_data(HOMEWORK)
    data = explained(spec)
    for kind, name, index in [("param", "w5", 1), ("delta", "h3", 0), ("forward", "o", 0)]:
        broken = json.loads(json.dumps(data))
        section = next(
            s for s in broken["explanation"]["sections"] if (s["kind"], s["name"]) == (kind, name)
        )
        eq = section["equations"][index]
        eq["numbers"][ints(eq["text"])[0]] += 0.5  # one listed factor, not the result
        with pytest.raises(AssertionError):
            check_float(spec, broken)
