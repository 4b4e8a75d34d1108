"""Loss curves and activation curves as image files, with matplotlib (the optional extra
`nncalc[plot]`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .emit import check_new, write_files
from .errors import Problem, SpecError

if TYPE_CHECKING:
    from .explore import Curve

SUFFIXES = (".png", ".svg", ".pdf")


def check_target(path: str, *, force: bool) -> None:
    """Refuse, before any work, a plot file that cannot or may not be written."""
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise SpecError(
            [Problem(path, 0, 0, f"--plot writes {', '.join(SUFFIXES)} files; name one of those")]
        )
    check_new(path, force=force)


def _pyplot(path: str) -> Any:
    """matplotlib's pyplot on the file-only backend, or a clear message when it is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpecError(
            [
                Problem(
                    path,
                    0,
                    0,
                    "--plot needs matplotlib, an optional extra: pip install 'nncalc[plot]'",
                )
            ]
        ) from None
    return plt


def _save(plt: Any, figure: Any, path: str) -> None:
    """Write the figure atomically (a temporary file, then a rename), then close it."""
    try:
        write_files([(path, figure.savefig)], force=True, suffix=True)  # checked before drawing
    finally:
        plt.close(figure)


def loss_curve(data: dict[str, Any], path: str, *, force: bool) -> None:
    """The trace's loss per step (log scale when it spans more than two decades) and learning
    rate, written atomically to `path` (.png, .svg or .pdf)."""
    check_target(path, force=force)
    plt = _pyplot(path)
    steps = [s["step"] for s in data["steps"]]
    losses = [s["loss"] if s["loss"] is not None else float("nan") for s in data["steps"]]
    rates = [s["learning_rate"] for s in data["steps"]]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    top.plot(steps, losses, marker="." if len(steps) <= 50 else None)
    finite = [v for v in losses if v == v and v > 0]
    if finite and max(finite) / min(finite) > 100:
        top.set_yscale("log")
    top.set_ylabel("loss (before the step)")
    top.set_title(str(data["title"] or data["source"]))
    bottom.plot(steps, rates, color="tab:orange")
    bottom.set_ylabel("learning rate")
    bottom.set_xlabel("step")
    figure.tight_layout()
    _save(plt, figure, path)


PANEL_COLUMNS = 3
LARGEST_DRAWN = 1e300  # matplotlib's axis arithmetic overflows near the largest float


def activation_curves(curves: Sequence[Curve], path: str, *, force: bool) -> None:
    """f (solid) and f′ (dashed) of each activation, one panel each, written atomically to
    `path` (.png, .svg or .pdf)."""
    check_target(path, force=force)
    for curve in curves:
        if not all(abs(y) <= LARGEST_DRAWN for y in (*curve.value, *curve.slope)):
            message = (
                f"{curve.label}: f or f′ exceeds {LARGEST_DRAWN:g} on [−4, 4], too large to draw"
            )
            raise SpecError([Problem(path, 0, 0, message)])
    plt = _pyplot(path)
    columns = min(PANEL_COLUMNS, len(curves))
    rows = -(-len(curves) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False, sharex=True
    )
    for panel, curve in zip(axes.flat, curves, strict=False):
        panel.plot(curve.a, curve.value, label=curve.value_name)
        panel.plot(curve.a, curve.slope, linestyle="--", label=curve.slope_name)
        panel.axhline(0.0, color="grey", linewidth=0.5)
        panel.axvline(0.0, color="grey", linewidth=0.5)
        panel.set_title(curve.label)
        panel.legend(fontsize="small")
    for panel in list(axes.flat)[len(curves) :]:
        panel.set_visible(False)
    for panel in axes[-1]:
        panel.set_xlabel("a")
    figure.tight_layout()
    _save(plt, figure, path)
