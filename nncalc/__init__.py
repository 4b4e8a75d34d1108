"""nncalc: every number of a backprop exercise for small feed-forward networks.

>>> import nncalc
>>> spec = nncalc.load_spec("examples/homework.yaml")
>>> result = nncalc.backprop(spec, lr=1)
>>> result.loss, result.gradients["w1"]
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import backprop, forward
    from .errors import Problem, SpecError
    from .results import BackpropResult, ForwardResult
    from .spec import Spec, load_spec

# Loaded on first use, so a command that needs no engine (init, schema) does not start one.
_LAZY = {
    "backprop": "engine",
    "forward": "engine",
    "Problem": "errors",
    "SpecError": "errors",
    "BackpropResult": "results",
    "ForwardResult": "results",
    "Spec": "spec",
    "load_spec": "spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nncalc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def explain(
    spec: Spec,
    params: tuple[str, ...] | list[str] = (),
    *,
    lr: float | None = None,
    exact: bool = False,
    decimals: int | None = None,
    notation: str = "seed",
) -> dict[str, Any]:
    """The backprop data with its derivations under "explanation" (`nncalc explain`).

    `exact` works in fractions, `decimals` in exam arithmetic rounded to that many places;
    `notation` is seed, nielsen or mazur; `params` names the params to explain (all if empty).
    """
    from .compute import Mode, result_data

    return result_data(spec, "explain", Mode(_notation(notation), exact, decimals), lr, params)


def check(
    spec: Spec,
    answers: str,
    *,
    lr: float | None = None,
    exact: bool = False,
    decimals: int | None = None,
    notation: str = "seed",
) -> dict[str, Any]:
    """Judge the answers file `answers` (a path) against `spec` (`nncalc check`): the backprop
    data with "answers" (each with its verdict, correct value and diagnosis) and "summary"."""
    from .compute import Mode, check_data

    return check_data(spec, answers, Mode(_notation(notation), exact, decimals), lr)


def _notation(name: str) -> Any:
    from .notation import NOTATIONS

    if name not in NOTATIONS:
        raise ValueError(f"notation must be one of {', '.join(NOTATIONS)}, got {name!r}")
    return NOTATIONS[name]


__all__ = [
    "BackpropResult",
    "ForwardResult",
    "Problem",
    "Spec",
    "SpecError",
    "__version__",
    "backprop",
    "check",
    "explain",
    "forward",
    "load_spec",
]
