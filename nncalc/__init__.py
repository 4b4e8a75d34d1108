"""nncalc: every number of a backprop exercise for small feed-forward networks.

>>> import nncalc
>>> spec = nncalc.load_spec("examples/homework.yaml")
>>> result = nncalc.backprop(spec, lr=1)
>>> result.loss, result.gradients["w1"]
"""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import backprop, forward
from .errors import Problem, SpecError
from .results import BackpropResult, ForwardResult
from .spec import Spec, load_spec

__all__ = [
    "BackpropResult",
    "ForwardResult",
    "Problem",
    "Spec",
    "SpecError",
    "__version__",
    "backprop",
    "forward",
    "load_spec",
]
