"""Renderers: each format is a module with `render(data, options) -> str`, a pure function of one
result's plain data (`ForwardResult.to_data()`). Modules load on demand, so the JSON path never
imports rich.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Any, NamedTuple, Protocol


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    csv = "csv"


class Options(NamedTuple):
    precision: int = 6  # significant digits shown in tables
    color: bool = False
    width: int | None = None  # None: no wrapping (output is not a terminal)
    standalone: bool = False  # LaTeX: a whole compilable document, not a fragment


class Renderer(Protocol):
    def __call__(self, data: dict[str, Any], options: Options) -> str: ...


def renderer(fmt: Format) -> Renderer:
    module = importlib.import_module(f"{__name__}.{fmt.value}_format")
    render: Renderer = module.render
    return render
