"""Derivations: every gradient written out with the chain rule, as a student writes it.

For each param: the sum over paths from the loss (while there are few), the delta form
∂L/∂w = δ_dest · z_source (always), and the update line. Each neuron's δ is derived once, from
the loss backwards (δ_j = f'(a_j) · Σ_k w_jk δ_k), and the param sections refer to it. A factor
that is zero says why (a dead ReLU, a step's flat derivative, a zero input).

Equations are data (see `Equation`): parallel Unicode and LaTeX parts with the numbers kept apart,
so every format prints the same derivation at its own precision, exactly or rounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .activations import Activation
from .errors import Problem, SpecError, choice_hint
from .hand import Hand, Num, Trace, correct_derivative
from .notation import Notation
from .render.tex import math_name

MAX_PATHS = 6  # a gradient's paths are listed one by one up to this many
MAX_PARAMS = 200  # explain at most this many scalars unless they are named
MAX_TERMS = 8  # a sum of more terms than this is written with Σ and its value only

# --- equations as data -----------------------------------------------------------------------


@dataclass
class Equation:
    """Unicode and LaTeX parts side by side; an int part k stands for numbers[k]."""

    text: list[str | int] = field(default_factory=list)
    latex: list[str | int] = field(default_factory=list)
    numbers: list[Num] = field(default_factory=list)
    note: Equation | None = None

    def add(self, text: str, latex: str | None = None) -> Equation:
        self.text.append(text)
        self.latex.append(text if latex is None else latex)
        return self

    def sym(self, symbol: Symbol) -> Equation:
        return self.add(symbol.text, symbol.latex)

    def num(self, value: Num, *, paren: bool | None = True) -> Equation:
        """A number; in parentheses, as students write factors: (−4.4)(1). With paren=None,
        in parentheses only when negative (a term of a sum: 6 − (−1.6))."""
        if paren is None:
            paren = value < 0
        if paren:
            self.add("(")
        self.text.append(len(self.numbers))
        self.latex.append(len(self.numbers))
        self.numbers.append(value)
        if paren:
            self.add(")")
        return self

    def eq(self) -> Equation:
        """' = ', the first one marking LaTeX's alignment point."""
        aligned = not any(isinstance(p, str) and "&=" in p for p in self.latex)
        return self.add(" = ", " &= " if aligned else " = ")

    def data(self, exact: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "latex": self.latex,
            "numbers": [_plain(v) for v in self.numbers],
        }
        if exact:
            out["exact"] = [str(Fraction(v)) for v in self.numbers]
        out["note"] = (
            None if self.note is None else {"text": self.note.text, "latex": self.note.latex}
        )
        if self.note is not None:  # a note's numbers continue the equation's
            offset = len(self.numbers)
            shift = _shift(offset)
            out["note"] = {"text": shift(self.note.text), "latex": shift(self.note.latex)}
            out["numbers"] += [_plain(v) for v in self.note.numbers]
            if exact:
                out["exact"] += [str(Fraction(v)) for v in self.note.numbers]
        return out


def _plain(value: Num) -> float | None:
    """A number for the data: a float (−0 as 0), or None when it is not finite."""
    try:
        number = float(value)
    except OverflowError:  # a fraction beyond float range
        return None
    return number + 0.0 if math.isfinite(number) else None


def _shift(offset: int) -> Any:
    def shift(parts: list[str | int]) -> list[str | int]:
        return [p + offset if isinstance(p, int) else p for p in parts]

    return shift


@dataclass(frozen=True)
class Symbol:
    text: str
    latex: str


class Symbols:
    """The letters of one notation: a_h1, z_h1, δ_h1, ∂L/∂w1 … in Unicode and LaTeX."""

    def __init__(self, notation: Notation) -> None:
        self.notation = notation

    @staticmethod
    def _letter(letter: str) -> str:
        return letter if len(letter) == 1 else rf"\mathrm{{{letter}}}"

    def _sub(self, letter: str, latex_letter: str, name: str) -> Symbol:
        return Symbol(f"{letter}_{name}", f"{latex_letter}_{{{math_name(name)}}}")

    def pre(self, neuron: str) -> Symbol:
        p = self.notation.pre
        return self._sub(p, self._letter(p), neuron)

    def act(self, neuron: str) -> Symbol:
        z = self.notation.act
        return self._sub(z, self._letter(z), neuron)

    def delta(self, neuron: str) -> Symbol:
        return self._sub("δ", r"\delta", neuron)

    def output(self, name: str) -> Symbol:
        return self._sub("ŷ", r"\hat{y}", name)

    def target(self, name: str) -> Symbol:
        return self._sub("y", "y", name)

    @staticmethod
    def name(name: str) -> Symbol:
        return Symbol(name, math_name(name))

    @staticmethod
    def d(top: Symbol, bottom: Symbol) -> Symbol:
        return Symbol(
            f"∂{top.text}/∂{bottom.text}",
            rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}",
        )

    def slope(self, act: Activation, neuron: str) -> Symbol:
        a = self.pre(neuron)
        name = act.name.replace("_", r"\_")
        return Symbol(f"{act.name}′({a.text})", rf"\operatorname{{{name}}}'({a.latex})")


LOSS = Symbol("L", "L")
Path = tuple[tuple[int, int] | None, list[tuple[int, int]]]  # (source of the use, units)
ETA = Symbol("η", r"\eta")

# --- building ---------------------------------------------------------------------------------


class Explainer:
    """Derivations for one traced backprop step."""

    def __init__(self, hand: Hand, trace: Trace, notation: Notation) -> None:
        self.hand, self.trace = hand, trace
        self.spec, self.net = hand.spec, hand.net
        self.s = Symbols(notation)
        self.units = hand.units
        self.name_of = {
            (k + 1, j): n for k, lv in enumerate(self.net.levels) for j, n in enumerate(lv.names)
        }
        self.outputs = {unit: i for i, unit in enumerate(self.net.outputs)}
        # Who reads each unit: (level, unit) → [(dest, weight)]
        self.readers: dict[tuple[int, int], list[tuple[tuple[int, int], int | float]]] = {}
        # Where each θ entry is used: θ index → [(dest, source or None for a bias)]
        self.uses: dict[int, list[tuple[tuple[int, int], tuple[int, int] | None]]] = {}
        for k, units in enumerate(self.units, start=1):
            for j, unit in enumerate(units):
                for e in unit.edges:
                    self.readers.setdefault(e.source, []).append(((k, j), e.weight))
                    if isinstance(e.weight, int):
                        self.uses.setdefault(e.weight, []).append(((k, j), e.source))
                if isinstance(unit.bias, int):
                    self.uses.setdefault(unit.bias, []).append(((k, j), None))
        self.labels = self.net.labels

    # --- symbols of units -------------------------------------------------------------------

    def source_symbol(self, unit: tuple[int, int]) -> Symbol:
        level, j = unit
        if level == 0:
            return self.s.name(self.spec.input_names[j])
        return self.s.act(self.name_of[unit])

    def weight_symbol(self, weight: int | float) -> tuple[Symbol | None, Num]:
        """A weight's symbol (None for a constant) and value."""
        if isinstance(weight, int):
            return self.s.name(self.labels[weight]), self.trace.theta[weight]
        return None, self.hand.arith.number(weight)

    def activation(self, unit: tuple[int, int]) -> Activation:
        return self.hand.activation_of[unit[0] - 1][unit[1]]

    # --- sections ---------------------------------------------------------------------------

    def sections(self, params: Sequence[int], *, forward: bool = True) -> list[dict[str, Any]]:
        exact = self.hand.arith.mode == "exact"
        needed = self._downstream({dest for i in params for dest, _ in self.uses.get(i, [])})
        out: list[dict[str, Any]] = []
        s = self.s
        for k, units in enumerate(self.units, start=1):
            for j in range(len(units) if forward else 0):
                name = self.name_of[(k, j)]
                out += self._unit_sections(
                    "forward",
                    (k, j),
                    f"{s.pre(name).text} and {s.act(name).text}",
                    f"{s.pre(name).latex},\\ {s.act(name).latex}",
                    self.forward_equations,
                )
        out.append(self._section("loss", None, None, "Loss", "L", self.loss_equations()))
        for k in range(len(self.units), 0, -1):
            for j in range(len(self.units[k - 1])):
                if (k, j) in needed:
                    name = self.name_of[(k, j)]
                    out += self._unit_sections(
                        "delta",
                        (k, j),
                        f"δ of {name}",
                        rf"\delta_{{{math_name(name)}}}",
                        lambda unit, sample: [self.delta_equation(unit, sample)],
                    )
        for i in params:
            label = self.labels[i]
            d = self.s.d(LOSS, self.s.name(label))
            out.append(self._section("param", label, None, d.text, d.latex, self._param(i)))
        for section in out:
            section["equations"] = [eq.data(exact) for eq in section["equations"]]
        return out

    def _unit_sections(
        self,
        kind: str,
        unit: tuple[int, int],
        title: str,
        latex: str,
        equations: Callable[[tuple[int, int], int], list[Equation]],
    ) -> Iterator[dict[str, Any]]:
        """One section of a unit per sample, titled with the sample in a batch."""
        batched = self.spec.batched
        for sample in range(self.spec.batch_size):
            suffix = f", sample {sample + 1}" if batched else ""
            yield self._section(
                kind,
                self.name_of[unit],
                sample if batched else None,
                title + suffix,
                latex + (rf"\text{{{suffix}}}" if batched else ""),
                equations(unit, sample),
            )

    @staticmethod
    def _section(
        kind: str, name: str | None, sample: int | None, text: str, latex: str, eqs: list[Equation]
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "name": name,
            "sample": sample,
            "title": {"text": text, "latex": latex},
            "equations": eqs,
        }

    def _downstream(self, start: set[tuple[int, int]]) -> set[tuple[int, int]]:
        seen: set[tuple[int, int]] = set()
        stack = list(start)
        while stack:
            unit = stack.pop()
            if unit in seen:
                continue
            seen.add(unit)
            stack.extend(dest for dest, _ in self.readers.get(unit, []))
        return seen

    # --- the loss ---------------------------------------------------------------------------

    def forward_equations(self, unit: tuple[int, int], sample: int) -> list[Equation]:
        """a_j = Σ source·weight + b = (…)(…) + … = value, then z_j = f(a_j) = f(value) = …"""
        s, t = self.s, self.trace
        k, j = unit
        name = self.name_of[unit]
        spec_unit = self.units[k - 1][j]
        pre = Equation().sym(self._sampled(s.pre(name), sample)).eq()
        edges = spec_unit.edges
        bias = spec_unit.bias
        if len(edges) > MAX_TERMS:
            pre.add("Σ source·weight", r"\sum \text{source} \cdot \text{weight}")
            if bias is not None:
                pre.add(" + ", " + ")
                self._weight(pre, bias)
        else:
            for n, e in enumerate(edges):
                if n:
                    pre.add(" + ")
                pre.sym(self._sampled(self.source_symbol(e.source), sample)).add("·", r" \cdot ")
                self._weight(pre, e.weight)
            if bias is not None:
                pre.add(" + ")
                self._weight(pre, bias)
            pre.eq()
            for n, e in enumerate(edges):
                if n:
                    pre.add(" + ")
                pre.num(t.post[sample][e.source[0]][e.source[1]]).num(
                    self.weight_symbol(e.weight)[1]
                )
            if bias is not None:
                pre.add(" + ").num(self.weight_symbol(bias)[1], paren=None)
        pre.eq().num(t.pre[sample][k - 1][j], paren=False)
        act = self.activation(unit)
        z = Equation().sym(self._sampled(s.act(name), sample)).eq()
        label = act.name.replace("_", r"\_")
        z.add(f"{act.name}(", rf"\operatorname{{{label}}}(")
        z.sym(self._sampled(s.pre(name), sample)).add(")")
        if act.elementwise:
            z.eq().add(f"{act.name}(", rf"\operatorname{{{label}}}(")
            z.num(t.pre[sample][k - 1][j], paren=False).add(")")
        z.eq().num(t.post[sample][k][j], paren=False)
        return [pre, z]

    def _weight(self, eq: Equation, weight: int | float) -> None:
        symbol, value = self.weight_symbol(weight)
        if symbol is None:
            eq.num(value)
        else:
            eq.sym(symbol)

    def loss_equations(self) -> list[Equation]:
        t, spec = self.trace, self.spec
        eqs: list[Equation] = []
        names = self.net.output_names
        for sample in range(spec.batch_size):
            yhat = t.yhat[sample]
            y = None if spec.targets is None else spec.targets[sample].tolist()
            y = None if y is None else [self.hand.arith.number(v) for v in y]
            eq = Equation().sym(LOSS)
            if spec.batched:
                eq.add(_sup(sample + 1), rf"^{{({sample + 1})}}")
            eq.eq()
            self._loss_formula(eq, names, yhat, y)
            eqs.append(eq.eq().num(t.sample_losses[sample], paren=False))
        if spec.batched:
            eq = Equation().sym(LOSS).eq()
            n = spec.batch_size
            terms = " + ".join(f"L{_sup(s + 1)}" for s in range(n)) if n <= MAX_TERMS else "Σ L⁽ˢ⁾"
            latex = (
                " + ".join(f"L^{{({s + 1})}}" for s in range(n))
                if n <= MAX_TERMS
                else r"\sum_s L^{(s)}"
            )
            if spec.reduction == "mean":
                eq.add(f"({terms}) / {n}", rf"\frac{{{latex}}}{{{n}}}")
            else:
                eq.add(terms, latex)
            eqs.append(eq.eq().num(t.loss, paren=False))
        for sample in range(spec.batch_size):
            for i, name in enumerate(names):
                eqs.append(self._loss_gradient(sample, i, name))
        return eqs

    def _loss_formula(
        self, eq: Equation, names: Sequence[str], yhat: Sequence[Num], y: Sequence[Num] | None
    ) -> None:
        loss = self.spec.loss.name
        s = self.s
        squares = loss in ("half_squared_error", "squared_error", "mse")
        if (squares or loss == "mae") and y is not None and len(names) <= MAX_TERMS:
            n = len(names)
            front = {"half_squared_error": ("½ ", r"\tfrac{1}{2}"), "squared_error": ("", "")}
            head_t, head_l = front.get(loss, (f"(1/{n}) ", rf"\tfrac{{1}}{{{n}}}"))
            if n == 1 and loss in ("mse", "mae"):
                head_t, head_l = "", ""
            many = n > 1 and (head_t != "")

            def body(values: bool) -> None:
                eq.add(head_t, head_l)
                if many:
                    eq.add("[", r"\left[")
                for i, name in enumerate(names):
                    if i:
                        eq.add(" + ")
                    eq.add("|" if loss == "mae" else "(", r"\left|" if loss == "mae" else "(")
                    if values:
                        eq.num(y[i], paren=None).add(" − ", " - ").num(yhat[i], paren=None)
                    else:
                        eq.sym(s.target(name)).add(" − ", " - ").sym(s.output(name))
                    eq.add("|" if loss == "mae" else ")²", r"\right|" if loss == "mae" else ")^{2}")
                if many:
                    eq.add("]", r"\right]")

            body(False)
            eq.eq()
            body(True)
            return
        eq.add(self.spec.loss.formula.split("   ")[0], _tex_formula(self.spec.loss.formula))

    def _loss_gradient(self, sample: int, i: int, name: str) -> Equation:
        spec, s, t = self.spec, self.s, self.trace
        loss = spec.loss.name
        eq = Equation().sym(s.d(LOSS, s.output(name)))
        if spec.batched:
            eq.add(_sup(sample + 1), rf"^{{({sample + 1})}}")
        eq.eq()
        mean = spec.reduction == "mean" and spec.batch_size > 1
        if mean:
            eq.add(f"(1/{spec.batch_size})·", rf"\tfrac{{1}}{{{spec.batch_size}}}\cdot ")
        n = len(self.net.output_names)
        factor = {
            "half_squared_error": ("−", "-"),
            "squared_error": ("−2", "-2"),
            "mse": (f"−(2/{n})", rf"-\tfrac{{2}}{{{n}}}"),
        }
        if loss in factor and spec.targets is not None:
            y = self.hand.arith.number(spec.targets[sample][i])
            ft, fl = factor[loss]
            eq.add(f"{ft}(", f"{fl}(").sym(s.target(name)).add(" − ", " - ").sym(s.output(name))
            eq.add(")").eq()
            if mean:
                eq.add(f"(1/{spec.batch_size})·", rf"\tfrac{{1}}{{{spec.batch_size}}}\cdot ")
            eq.add(f"{ft}(", f"{fl}(").num(y, paren=False).add(" − ", " - ")
            eq.num(t.yhat[sample][i], paren=None).add(")")
        else:
            formula = spec.loss.gradient_formula
            if mean:
                eq.add(f"({formula})", rf"\left({_tex_formula(formula)}\right)")
            else:
                eq.add(formula, _tex_formula(formula))
        return eq.eq().num(t.dL_dyhat[sample][i], paren=False)

    # --- deltas -----------------------------------------------------------------------------

    def _dL_dz_terms(self, unit: tuple[int, int], sample: int) -> Iterator[tuple[str, Any]]:
        """∂L/∂z of a unit as the sum of its parts: ("loss", output index) and ("edge", …)."""
        if unit in self.outputs:
            yield "loss", self.outputs[unit]
        for dest, weight in self.readers.get(unit, []):
            yield "edge", (dest, weight)

    def delta_equation(self, unit: tuple[int, int], sample: int) -> Equation:
        """δ_j = f'(a_j) · ∂L/∂z_j, with ∂L/∂z_j = Σ_k w_jk δ_k (+ ∂L/∂ŷ_j for an output);
        for a softmax unit δ_j = z_j · (∂L/∂z_j − Σ_i z_i ∂L/∂z_i)."""
        s, t = self.s, self.trace
        k, j = unit
        name = self.name_of[unit]
        act = self.activation(unit)
        mark = self._sampled
        eq = Equation().sym(mark(s.delta(name), sample)).eq()
        eq.sym(s.d(LOSS, mark(s.pre(name), sample))).eq()
        terms = list(self._dL_dz_terms(unit, sample))
        if act.elementwise:
            eq.sym(s.slope(act, name)).add(" · ", r" \cdot ")
            self._dL_dz_symbols(eq, terms, sample)
            if len(terms) <= MAX_TERMS:
                eq.eq().num(t.slope[sample][k - 1][j]).add(" · ", r" \cdot ")
                self._dL_dz_numbers(eq, terms, sample)
        else:
            z = mark(s.act(name), sample)
            letter = s.notation.act
            tex = Symbols._letter(letter)
            eq.sym(z).add(" · (", r" \cdot \left(")
            self._dL_dz_symbols(eq, terms, sample)
            eq.add(
                f" − Σᵢ {letter}ᵢ·∂L/∂{letter}ᵢ)",
                rf" - \sum_i {tex}_i \frac{{\partial L}}{{\partial {tex}_i}}\right)",
            )
            if len(terms) <= MAX_TERMS:
                group = next(u for a, u in self.net.levels[k - 1].groups if u.start <= j < u.stop)
                dot = sum(
                    (
                        t.post[sample][k][i] * t.dL_dz[sample][k][i]
                        for i in range(group.start, group.stop)
                    ),
                    self.hand.arith.zero,
                )
                eq.eq().num(t.post[sample][k][j]).add(" · (", r" \cdot \left(")
                self._dL_dz_numbers(eq, terms, sample)
                eq.add(" − ", " - ").num(dot).add(")", r"\right)")
        eq.eq().num(t.delta[sample][k - 1][j], paren=False)
        eq.note = self._zero_note(unit, sample)
        return eq

    def _dL_dz_symbols(self, eq: Equation, terms: list[tuple[str, Any]], sample: int) -> None:
        s = self.s
        if not terms:  # nothing reads this unit, and it is not an output
            eq.add("0")
            return
        if len(terms) > MAX_TERMS:
            eq.add("Σₖ wₖ δₖ", r"\sum_k w_k \delta_k")
            return
        if len(terms) != 1:
            eq.add("(")
        for i, (kind, what) in enumerate(terms):
            if i:
                eq.add(" + ")
            if kind == "loss":
                eq.sym(self._sampled(s.d(LOSS, s.output(self.net.output_names[what])), sample))
                continue
            dest, weight = what
            symbol, _ = self.weight_symbol(weight)
            if symbol is None:
                eq.num(self.hand.arith.number(weight), paren=None)
            else:
                eq.sym(symbol)
            eq.add("·", " ").sym(self._sampled(s.delta(self.name_of[dest]), sample))
        if len(terms) != 1:
            eq.add(")")

    def _dL_dz_numbers(self, eq: Equation, terms: list[tuple[str, Any]], sample: int) -> None:
        t = self.trace
        if not terms:
            eq.num(self.hand.arith.zero)
            return
        if len(terms) != 1:
            eq.add("(")
        for i, (kind, what) in enumerate(terms):
            if i:
                eq.add(" + ")
            if kind == "loss":
                eq.num(t.dL_dyhat[sample][what])
                continue
            dest, weight = what
            _, value = self.weight_symbol(weight)
            eq.num(value).num(t.delta[sample][dest[0] - 1][dest[1]])
        if len(terms) != 1:
            eq.add(")")

    def _zero_note(self, unit: tuple[int, int], sample: int) -> Equation | None:
        """Why δ of a unit is zero, when it is."""
        t, s = self.trace, self.s
        k, j = unit
        if t.delta[sample][k - 1][j] != 0:
            return None
        name = self.name_of[unit]
        act = self.activation(unit)
        slope = t.slope[sample][k - 1][j]
        a = t.pre[sample][k - 1][j]
        pre = self._sampled(s.pre(name), sample)
        label = _tex_text(act.name)
        note = Equation()
        arith = self.hand.arith
        if act.elementwise and slope == 0:
            exact_slope = correct_derivative(act, a, t.post[sample][k][j], arith)
            note.sym(s.slope(act, name))
            if exact_slope != 0:  # exam arithmetic rounded a small slope to 0
                return (
                    note.add(" = ")
                    .num(exact_slope, paren=False)
                    .add(
                        f", which rounds to 0 at {_places(arith.decimals)}",
                        rf"\text{{, which rounds to 0 at {_places(arith.decimals)}}}",
                    )
                )
            note.add(" = 0 because ", r" = 0 \text{ because } ")
            if act.name == "relu" and a < 0:
                note.sym(pre).add(" = ").num(a, paren=False).add(
                    " < 0: the unit is dead and passes no gradient",
                    r" < 0\text{: the unit is dead and passes no gradient}",
                )
            elif act.name == "relu":
                note.sym(pre).add(
                    " = 0 is the kink, where relu′(0) = 0 by convention",
                    r" = 0\text{ is the kink, where }\operatorname{relu}'(0) = 0"
                    r"\text{ by convention}",
                )
            elif act.name in ("sign", "step"):
                note.add(
                    f"{act.name} is flat wherever it has a derivative",
                    rf"\text{{{label} is flat wherever it has a derivative}}",
                )
            else:
                note.sym(pre).add(" = ").num(a, paren=False).add(
                    f" is where {act.name} is flat", rf"\text{{ is where {label} is flat}}"
                )
            return note
        if t.dL_dz[sample][k][j] == 0:
            d = s.d(LOSS, self._sampled(s.act(name), sample))
            return note.sym(d).add(
                " = 0: no gradient reaches this unit from above",
                r" = 0\text{: no gradient reaches this unit from above}",
            )
        if arith.mode == "round":  # f′(a)·∂L/∂z is not 0, but rounds to 0
            product = slope * t.dL_dz[sample][k][j] if act.elementwise else None
            if product is not None:
                note.sym(s.slope(act, name)).add(" · ", r" \cdot ")
                note.sym(s.d(LOSS, self._sampled(s.act(name), sample))).add(" = ")
                note.num(product, paren=False)
            else:
                note.sym(self._sampled(s.delta(name), sample))
            return note.add(
                f" rounds to 0 at {_places(arith.decimals)}",
                rf"\text{{ rounds to 0 at {_places(arith.decimals)}}}",
            )
        return None

    # --- params -----------------------------------------------------------------------------

    def _param(self, i: int) -> list[Equation]:
        s, t = self.s, self.trace
        label = self.labels[i]
        w = s.name(label)
        d = s.d(LOSS, w)
        uses = self.uses.get(i, [])
        eqs: list[Equation] = []
        if not uses:
            eqs.append(
                Equation()
                .sym(d)
                .eq()
                .num(t.gradient[i], paren=False)
                .add(
                    f"  ({label} is not used by any neuron)",
                    r"\quad\text{(not used by any neuron)}",
                )
            )
        paths = self._paths(i) if not self.spec.batched else None
        if paths is not None and 0 < len(paths) <= MAX_PATHS:
            eqs.append(self._paths_equation(i, paths))
        if uses:
            eqs.append(self.gradient_equation(i, uses))
        eqs.append(self.update_equation(i))
        return eqs

    def gradient_equation(
        self, i: int, uses: list[tuple[tuple[int, int], tuple[int, int] | None]]
    ) -> Equation:
        s, t = self.s, self.trace
        label = self.labels[i]
        eq = Equation().sym(s.d(LOSS, s.name(label))).eq()
        samples = range(self.spec.batch_size)
        terms = [(dest, source, sample) for sample in samples for dest, source in uses]
        if len(terms) > MAX_TERMS:
            eq.add("Σ δ·source", r"\sum \delta \cdot \text{source}")
        else:
            for n, (dest, source, sample) in enumerate(terms):
                if n:
                    eq.add(" + ")
                eq.sym(self._sampled(s.delta(self.name_of[dest]), sample))
                if source is not None:
                    eq.add(" · ", r" \cdot ").sym(self._sampled(self.source_symbol(source), sample))
            eq.eq()
            for n, (dest, source, sample) in enumerate(terms):
                if n:
                    eq.add(" + ")
                eq.num(t.delta[sample][dest[0] - 1][dest[1]])
                if source is not None:
                    eq.num(t.post[sample][source[0]][source[1]])
        eq.eq().num(t.gradient[i], paren=False)
        eq.note = self._param_zero_note(i, terms)
        return eq

    def _sampled(self, symbol: Symbol, sample: int) -> Symbol:
        if not self.spec.batched:
            return symbol
        return Symbol(f"{symbol.text}{_sup(sample + 1)}", f"{symbol.latex}^{{({sample + 1})}}")

    def _param_zero_note(
        self, i: int, terms: list[tuple[tuple[int, int], tuple[int, int] | None, int]]
    ) -> Equation | None:
        if self.trace.gradient[i] != 0 or len(terms) != 1:
            return None
        dest, source, sample = terms[0]
        t, s = self.trace, self.s
        if t.delta[sample][dest[0] - 1][dest[1]] == 0:
            why = self._zero_note(dest, sample)
            lead = Equation().sym(self._sampled(s.delta(self.name_of[dest]), sample))
            if why is None:
                return lead.add(" = 0", " = 0")
            return _join(lead.add(" = 0: ", r" = 0\text{: }"), why)
        if source is not None and t.post[sample][source[0]][source[1]] == 0:
            return (
                Equation()
                .sym(self.source_symbol(source))
                .add(" = 0: the weight multiplies zero", r" = 0\text{: the weight multiplies zero}")
            )
        return None

    def _paths(self, i: int) -> list[Path] | None:
        """Every path from a use of θ[i] to an output, with the use's source (None for a bias):
        the path lists units, destination first. None when a path meets a non-elementwise unit
        or an output that also feeds others (its δ then is more than one chain)."""
        found: list[Path] = []

        def walk(source: tuple[int, int] | None, path: list[tuple[int, int]]) -> bool:
            unit = path[-1]
            if not self.activation(unit).elementwise:
                return False
            readers = self.readers.get(unit, [])
            if unit in self.outputs:
                if readers:
                    return False
                found.append((source, list(path)))
                return len(found) <= MAX_PATHS
            for dest, _ in readers:
                path.append(dest)
                ok = walk(source, path)
                path.pop()
                if not ok:
                    return False
            return True

        for dest, source in self.uses.get(i, []):
            if not walk(source, [dest]):
                return None
        return found

    def _paths_equation(self, i: int, paths: list[Path]) -> Equation:
        s, t = self.s, self.trace
        w = s.name(self.labels[i])
        eq = Equation().sym(s.d(LOSS, w)).eq()
        chains: list[list[tuple[Symbol, Num]]] = []
        for source, path in paths:
            top = path[-1]
            chain: list[tuple[Symbol, Num]] = [
                (s.d(LOSS, s.pre(self.name_of[top])), t.delta[0][top[0] - 1][top[1]])
            ]
            for upper, lower in zip(path[::-1], path[-2::-1], strict=False):
                lower_name = self.name_of[lower]
                weight = next(wt for dest, wt in self.readers[lower] if dest == upper)
                _, value = self.weight_symbol(weight)
                chain.append((s.d(s.pre(self.name_of[upper]), s.act(lower_name)), value))
                slope = t.slope[0][lower[0] - 1][lower[1]]
                chain.append((s.d(s.act(lower_name), s.pre(lower_name)), slope))
            value = self.hand.arith.one if source is None else t.post[0][source[0]][source[1]]
            chain.append((s.d(s.pre(self.name_of[path[0]]), w), value))
            chains.append(chain)
        for n, chain in enumerate(chains):
            if n:
                eq.add(" + ")
            for m, (symbol, _) in enumerate(chain):
                if m:
                    eq.add(" · ", r" \cdot ")
                eq.sym(symbol)
        eq.eq()
        for n, chain in enumerate(chains):
            if n:
                eq.add(" + ")
            for _, value in chain:
                eq.num(value)
        return eq.eq().num(t.gradient[i], paren=False)

    def update_equation(self, i: int) -> Equation:
        s, t = self.s, self.trace
        label = self.labels[i]
        w = s.name(label)
        eq = Equation()
        if t.updated is None:
            return eq.add(
                f"No learning rate given: {label} is not updated",
                rf"&\text{{No learning rate given: }}{w.latex}\text{{ is not updated}}",
            )
        if self.hand.frozen[i]:
            return (
                eq.sym(w)
                .add(" is frozen: it keeps ", r" &\text{ is frozen: it keeps }")
                .num(t.theta[i], paren=False)
            )
        eq.sym(w).add(" ← ", r" &\leftarrow ").sym(w).add(" − ", " - ").sym(ETA).add(
            " · ", r" \cdot "
        ).sym(s.d(LOSS, w))
        eq.add(" = ").num(t.theta[i], paren=False).add(" − ", " - ").num(t.learning_rate).add(
            " × ", r" \times "
        ).num(t.gradient[i])
        return eq.add(" = ").num(t.updated[i], paren=False)


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(sample: int) -> str:
    """The sample marker of a batched quantity: ⁽²⁾."""
    return f"⁽{str(sample).translate(_SUPERSCRIPTS)}⁾"


def _places(decimals: int | None) -> str:
    return "1 decimal" if decimals == 1 else f"{decimals} decimals"


def _tex_text(text: str) -> str:
    """User or registry text inside LaTeX's \\text{…}."""
    from .render.tex import escape

    return escape(text)


def _join(first: Equation, second: Equation) -> Equation:
    offset = len(first.numbers)
    shift = _shift(offset)
    return Equation(
        text=first.text + shift(second.text),
        latex=first.latex + shift(second.latex),
        numbers=first.numbers + second.numbers,
    )


def _tex_formula(formula: str) -> str:
    """A registry formula (Unicode) as LaTeX, for losses written symbolically."""
    from .render.tex import MATH_SYMBOLS

    out = formula.split("   ")[0]
    for char, tex in MATH_SYMBOLS.items():
        out = out.replace(char, f"{tex} " if tex.startswith("\\") else tex)
    return out.replace("ŷ", r"\hat{y}").replace("ln", r"\ln ")


# --- params by label --------------------------------------------------------------------------


def select(net: Any, names: Iterable[str], source: str) -> list[int]:
    """θ indices of the params named (w1, W1 for all of W1, or W1[1,2]); all when none named."""
    labels = net.labels
    names = list(names)
    if not names:
        if len(labels) > MAX_PARAMS:
            raise SpecError(
                [
                    Problem(
                        source,
                        0,
                        0,
                        f"the network has {len(labels)} param values; explain at most "
                        f"{MAX_PARAMS} at once, naming them: explain SPEC W1[1,2] b1 …",
                    )
                ]
            )
        return list(range(len(labels)))
    index = {label: i for i, label in enumerate(labels)}
    slots = {slot.name: slot for slot in net.slots}
    out: list[int] = []
    problems: list[Problem] = []
    for name in names:
        if name in index:
            out.append(index[name])
        elif name in slots:
            slot = slots[name]
            out.extend(range(slot.offset, slot.offset + slot.size))
        else:
            problems.append(
                Problem(
                    "<command line>",
                    0,
                    0,
                    f"'{name}' is not a param of {source}"
                    + choice_hint(name, list(dict.fromkeys([*slots, *labels[:50]])), noun="params"),
                )
            )
    if problems:
        raise SpecError(problems)
    return list(dict.fromkeys(out))


def explanation(
    hand: Hand, trace: Trace, notation: Notation, params: Sequence[int], *, forward: bool = True
) -> dict[str, Any]:
    """The "explanation" data of a result: sections of equations, the forward pass first (when
    `forward`), then the loss, the deltas from the output back, and the params."""
    return {"sections": Explainer(hand, trace, notation).sections(params, forward=forward)}
