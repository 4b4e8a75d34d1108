"""What the benchmarks print about the machine they ran on, and how they pin its BLAS."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pin_blas_threads(threads: int | None, script: str, argv: Sequence[str] | None) -> None:
    """Run `script` again with BLAS held to `threads` threads, unless it already is (or no
    count is asked for): BLAS reads its thread count when numpy loads it, so start again."""
    if threads is None:
        return
    wanted = str(threads)
    if all(os.environ.get(k) == wanted for k in _BLAS_VARIABLES):
        return
    os.environ.update(dict.fromkeys(_BLAS_VARIABLES, wanted))
    rest = sys.argv[1:] if argv is None else list(argv)
    os.execv(sys.executable, [sys.executable, script, *rest])
