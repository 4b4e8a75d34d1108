"""The command line: each command loads a spec, computes one result, renders it and writes it.

Exit codes: 0 success; 1 reserved for a failed check; 2 bad input or usage, reported as
FILE:LINE:COLUMN: message; 70 an internal error (a bug), one line unless --debug.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from . import __version__
from .errors import SpecError
from .render import Format, Options, renderer

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70

app = typer.Typer(
    name="nncalc",
    help="Gradient calculator for small feed-forward neural networks: every number of a "
    "backprop exercise, as tables or strict JSON.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecArg = Annotated[
    str,
    typer.Argument(help="The network spec (YAML); '-' reads standard input.", show_default=True),
]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
PrecisionOpt = Annotated[
    int,
    typer.Option(
        "--precision",
        "-p",
        min=1,
        max=17,
        help="Significant digits shown in tables (JSON keeps full precision).",
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")]


def _learning_rate(value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise typer.BadParameter(f"must be a finite number ≥ 0, got {value}")
    return value


LrOpt = Annotated[
    float | None,
    typer.Option(
        "--lr",
        callback=_learning_rate,
        help="Learning rate of the SGD step; overrides learning_rate in the spec.",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Gradient calculator for small feed-forward neural networks."""


@app.command()
def forward(
    spec: SpecArg = "net.yaml",
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    debug: DebugOpt = False,
) -> None:
    """Forward pass: every neuron's pre-activation and activation, the outputs and the loss."""

    def compute() -> dict[str, Any]:
        from . import engine, load_spec

        return engine.forward(load_spec(spec)).to_data()

    _run(compute, fmt, precision, debug)


@app.command()
def backprop(
    spec: SpecArg = "net.yaml",
    lr: LrOpt = None,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    debug: DebugOpt = False,
) -> None:
    """Forward and backward pass: deltas, every param's gradient and one SGD step."""

    def compute() -> dict[str, Any]:
        from . import engine, load_spec

        return engine.backprop(load_spec(spec), lr=lr).to_data()

    _run(compute, fmt, precision, debug)


def _run(compute: Callable[[], dict[str, Any]], fmt: Format, precision: int, debug: bool) -> None:
    """Compute, render, then write: nothing reaches stdout unless everything succeeded."""
    try:
        data = compute()
        terminal = sys.stdout.isatty()
        options = Options(
            precision=precision,
            color=terminal and "NO_COLOR" not in os.environ,
            width=shutil.get_terminal_size().columns if terminal else None,
        )
        text = renderer(fmt)(data, options)
    except SpecError as exc:
        for problem in exc.problems:
            _stderr(str(problem))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except Exception as exc:
        if debug:
            raise
        _stderr(
            f"nncalc: internal error: {type(exc).__name__}: {exc}. This is a bug in "
            "nncalc; please report it with the spec that caused it (--debug shows the "
            "traceback)."
        )
        raise typer.Exit(EXIT_INTERNAL) from None
    if fmt is not Format.json:
        for warning in data.get("warnings", []):
            _stderr(f"warning: {warning}")
    _write(text)


def _stderr(line: str) -> None:
    sys.stderr.write(line.replace("\n", " ") + "\n")


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`nncalc … | head -1`): end quietly. Point stdout at devnull so
        # the interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="nncalc")
