"""The letters a course uses for a unit's pre-activation and activation."""

from __future__ import annotations

from typing import NamedTuple


class Notation(NamedTuple):
    name: str
    pre: str  # the weighted sum plus bias
    act: str  # the activation function's value
    source: str  # whose notation it is, for the documentation and --help


NOTATIONS = {
    n.name: n
    for n in (
        Notation("seed", "a", "z", "the seed exercise: a = Σ w·x + b, z = f(a)"),
        Notation("nielsen", "z", "a", "Nielsen, Ng: z = Σ w·x + b, a = f(z)"),
        Notation("mazur", "net", "out", "Mazur's worked example: net = Σ w·x + b, out = f(net)"),
    )
}
SEED = NOTATIONS["seed"]
