"""The command line: each command loads a spec, computes one result, renders it and writes it.

Exit codes: 0 success; 1 reserved for a failed check; 2 bad input or usage, reported as
FILE:LINE:COLUMN: message; 70 an internal error (a bug), one line unless --debug.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from . import __version__
from .errors import Problem, SpecError
from .render import Format, Options, renderer

if TYPE_CHECKING:  # the commands import what they use only when they run
    from .activations import Activation
    from .spec import Spec

EXIT_WRONG = 1  # check: some answer is wrong; gradcheck: some gradient fails
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


def _completer(names: Callable[[], Iterable[str]]) -> Callable[[str], list[str]]:
    """Shell completion of an option's value from a list computed only when completing."""

    def complete(incomplete: str) -> list[str]:
        return [name for name in names() if name.startswith(incomplete)]

    return complete


def _activation_names() -> list[str]:
    from .activations import ALIASES, REGISTRY

    return [*REGISTRY, *ALIASES]


def _loss_names() -> list[str]:
    from .losses import ALIASES, REGISTRY

    return [*REGISTRY, *ALIASES]


def _optimizer_names() -> list[str]:
    from .optim import OPTIMIZERS

    return list(OPTIMIZERS)


def _complete_activation_list(incomplete: str) -> list[str]:
    """--activations relu,sig → relu,sigmoid: the last name of a comma-separated list."""
    done, _, last = incomplete.rpartition(",")
    head = done + "," if done else ""
    return [head + name for name in _activation_names() if name.startswith(last)]


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


class Dtype(StrEnum):  # engine.DTYPES, named here so the command line need not load numpy
    float64 = "float64"
    float32 = "float32"


class NotationName(StrEnum):
    seed = "seed"
    nielsen = "nielsen"
    mazur = "mazur"


NotationOpt = Annotated[
    NotationName,
    typer.Option(
        "--notation",
        case_sensitive=False,
        help="Letters for pre-activation and activation: seed a/z, nielsen z/a, mazur net/out.",
    ),
]
ExactOpt = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Exact fractions (piecewise-linear activations, polynomial losses): 0.1 is 1/10.",
    ),
]
RoundOpt = Annotated[
    int | None,
    typer.Option(
        "--round",
        min=0,
        max=15,
        metavar="N",
        help="Exam arithmetic: round every written-down step to N decimals and carry it on.",
    ),
]
StandaloneOpt = Annotated[
    bool,
    typer.Option("--standalone", help="With --format latex: a whole compilable document."),
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


class _Output(NamedTuple):
    fmt: Format
    precision: int
    standalone: bool
    debug: bool


class _Mode(NamedTuple):
    """The arithmetic and notation asked for, checked before anything is loaded."""

    notation: NotationName
    exact: bool
    decimals: int | None

    def build(self) -> Any:
        from .compute import Mode
        from .notation import NOTATIONS

        return Mode(NOTATIONS[self.notation.value], self.exact, self.decimals)


def _mode(notation: NotationName, exact: bool, decimals: int | None) -> _Mode:
    if exact and decimals is not None:
        raise typer.BadParameter("use --exact or --round N, not both", param_hint="--round")
    return _Mode(notation, exact, decimals)


@app.command()
def forward(
    spec: SpecArg = "net.yaml",
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    notation: NotationOpt = NotationName.seed,
    exact: ExactOpt = False,
    decimals: RoundOpt = None,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Forward pass: every neuron's pre-activation and activation, the outputs and the loss."""
    mode = _mode(notation, exact, decimals)

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .compute import result_data

        return result_data(load_spec(spec, exact=exact), "forward", mode.build())

    _run(compute, _Output(fmt, precision, standalone, debug))


def _choice(spec: Any, name: str | None, hyper: dict[str, float]) -> Any:
    """The optimizer of a run: --optimizer (or the spec's) with the options' hyper-parameters
    over the spec's; hyper-parameters that optimizer does not have are bad usage."""
    base = spec.optimizer
    if name is None and base is None and not hyper:
        return None
    from . import optim
    from .spec import OptimizerChoice

    chosen = name or (base.name if base is not None else "sgd")
    merged = dict(base.hyper) if base is not None and base.name == chosen else {}
    merged.update(hyper)
    try:
        optim.hyperparameters(optim.get(chosen), merged)
    except ValueError as exc:
        raise SpecError([Problem("<command line>", 0, 0, str(exc))]) from None
    return OptimizerChoice(chosen, merged)


def _optimizer_name(value: str | None) -> str | None:
    if value is not None:
        from . import optim

        try:
            optim.get(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


OptimizerOpt = Annotated[
    str | None,
    typer.Option(
        "--optimizer",
        autocompletion=_completer(_optimizer_names),
        callback=_optimizer_name,
        help="sgd (default), momentum, nesterov, momentum_classic, rmsprop, adam, adamw "
        "(torch.optim's definitions); overrides the spec's optimizer.",
        show_default=False,
    ),
]
MomentumOpt = Annotated[
    float | None, typer.Option("--momentum", help="μ of momentum and nesterov.")
]
MomentumFormOpt = Annotated[
    str | None,
    typer.Option(
        "--momentum-form",
        autocompletion=_completer(lambda: ("torch", "classic")),
        metavar="torch|classic",
        help="classic: the textbook v ← μv − ηg, w ← w + v (momentum_classic).",
    ),
]
AlphaOpt = Annotated[float | None, typer.Option("--alpha", help="rmsprop's α.")]
Beta1Opt = Annotated[float | None, typer.Option("--beta1", help="adam's β1.")]
Beta2Opt = Annotated[float | None, typer.Option("--beta2", help="adam's β2.")]
EpsOpt = Annotated[float | None, typer.Option("--eps", help="ε of rmsprop and adam.")]
WeightDecayOpt = Annotated[
    float | None, typer.Option("--weight-decay", help="λ (adamw: decoupled).")
]
EmitSpecOpt = Annotated[
    bool,
    typer.Option(
        "--emit-spec", help="Write the spec with the updated params (to stdout, or to --output)."
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="With --emit-spec: the file to write ('-': standard output).",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace an existing file (the one this command writes).")
]


def _hyper(**given: float | None) -> dict[str, float]:
    """The optimizer options given on the command line."""
    return {k: v for k, v in given.items() if v is not None}


def _with_form(optimizer: str | None, momentum_form: str | None) -> str | None:
    if momentum_form not in (None, "torch", "classic"):
        raise typer.BadParameter("must be torch or classic", param_hint="--momentum-form")
    if momentum_form == "classic" and optimizer in (None, "momentum"):
        return "momentum_classic"
    return optimizer


def _emit_usage(emit_spec: bool, output: str | None, force: bool) -> str | None:
    """The file --emit-spec writes: None for standard output (no --output, or '-')."""
    if (output is not None or force) and not emit_spec:
        raise typer.BadParameter("applies with --emit-spec only", param_hint="--output/--force")
    return None if output == "-" else output


@app.command()
def backprop(
    spec: SpecArg = "net.yaml",
    lr: LrOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add every gradient's chain-rule derivation.")
    ] = False,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    notation: NotationOpt = NotationName.seed,
    exact: ExactOpt = False,
    decimals: RoundOpt = None,
    standalone: StandaloneOpt = False,
    optimizer: OptimizerOpt = None,
    momentum: MomentumOpt = None,
    momentum_form: MomentumFormOpt = None,
    alpha: AlphaOpt = None,
    beta1: Beta1Opt = None,
    beta2: Beta2Opt = None,
    eps: EpsOpt = None,
    weight_decay: WeightDecayOpt = None,
    emit_spec: EmitSpecOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Forward and backward pass: deltas, every param's gradient and one SGD step."""
    mode = _mode(notation, exact, decimals)
    output = _emit_usage(emit_spec, output, force)
    optimizer = _with_form(optimizer, momentum_form)
    hyper = _hyper(
        momentum=momentum, alpha=alpha, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay
    )
    loaded: list[Any] = []

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .compute import Command, result_data

        command: Command = "explain" if explain else "backprop"
        loaded.append(load_spec(spec, exact=exact))
        choice = _choice(loaded[0], optimizer, hyper)
        data = result_data(loaded[0], command, mode.build(), lr, optimizer=choice)
        data["command"] = "backprop"
        return data

    def updated_spec(data: dict[str, Any]) -> str:
        from .emit import emit, updated_params

        if data["updated"] is None:
            raise SpecError(
                [
                    Problem(
                        data["source"],
                        0,
                        0,
                        "--emit-spec writes the updated params, but there is no update without "
                        "a learning rate; give --lr or learning_rate in the spec",
                    )
                ]
            )
        return emit(loaded[0], updated_params(data), data.get("optimizer"), data["learning_rate"])

    if not emit_spec:
        _run(compute, _Output(fmt, precision, standalone, debug))
    elif output is None:
        _run(
            compute, _Output(fmt, precision, standalone, debug), render=lambda d, _: updated_spec(d)
        )
    else:
        from .emit import write_new

        _run(
            compute,
            _Output(fmt, precision, standalone, debug),
            after=lambda d: write_new(output, updated_spec(d), force=force),
        )


@app.command()
def train(
    spec: SpecArg = "net.yaml",
    steps: Annotated[int, typer.Option("--steps", "-n", min=1, help="Steps to take.")] = 10,
    lr: LrOpt = None,
    optimizer: OptimizerOpt = None,
    momentum: MomentumOpt = None,
    momentum_form: MomentumFormOpt = None,
    alpha: AlphaOpt = None,
    beta1: Beta1Opt = None,
    beta2: Beta2Opt = None,
    eps: EpsOpt = None,
    weight_decay: WeightDecayOpt = None,
    schedule: Annotated[
        str,
        typer.Option(
            "--schedule",
            autocompletion=_completer(lambda: ("constant", "step", "exponential", "cosine")),
            metavar="constant|step|exponential|cosine",
            help="How the learning rate changes from step to step.",
        ),
    ] = "constant",
    gamma: Annotated[
        float, typer.Option("--gamma", help="step and exponential decay: the factor.")
    ] = 0.5,
    every: Annotated[
        int, typer.Option("--every", min=1, help="step decay: every this many steps.")
    ] = 10,
    min_lr: Annotated[float, typer.Option("--min-lr", help="cosine: the final rate.")] = 0.0,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", "-b", min=1, help="Samples per step (default: all of them)."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the mini-batch shuffling.")
    ] = 0,
    until_loss: Annotated[
        float | None, typer.Option("--until-loss", help="Stop once the loss is at most this.")
    ] = None,
    trace: Annotated[
        str | None,
        typer.Option(
            "--trace",
            metavar="params",
            autocompletion=_completer(lambda: ("params",)),
            help="params: every param at every step.",
        ),
    ] = None,
    noise: Annotated[
        bool,
        typer.Option(
            "--noise", help="Per-sample gradient spread at the end (the gradient's noise)."
        ),
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Write the loss curve to FILE (.png, .svg, .pdf; needs nncalc[plot]).",
        ),
    ] = None,
    dtype: Annotated[
        Dtype,
        typer.Option(
            "--dtype",
            case_sensitive=False,
            help="The float type computed in: float32 halves the memory of a large net.",
        ),
    ] = Dtype.float64,
    emit_spec: EmitSpecOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Many steps: a per-step trace of the loss and learning rate, then the final params."""
    if output is not None and not emit_spec:  # --force also applies to --plot
        _emit_usage(emit_spec, output, force)
    output = None if output == "-" else output
    optimizer = _with_form(optimizer, momentum_form)
    hyper = _hyper(
        momentum=momentum, alpha=alpha, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay
    )
    if schedule not in ("constant", "step", "exponential", "cosine"):
        raise typer.BadParameter(
            "must be constant, step, exponential or cosine", param_hint="--schedule"
        )
    if trace not in (None, "params"):
        raise typer.BadParameter("the only trace is 'params'", param_hint="--trace")
    if not (math.isfinite(gamma) and gamma > 0) or not (math.isfinite(min_lr) and min_lr >= 0):
        raise typer.BadParameter("--gamma must be > 0 and --min-lr ≥ 0")
    if until_loss is not None and not math.isfinite(until_loss):
        raise typer.BadParameter("must be a finite number", param_hint="--until-loss")
    loaded: list[Any] = []
    finished: list[Any] = []
    used_rate: list[float] = []

    def compute() -> dict[str, Any]:
        from . import load_spec
        from . import train as training

        loaded.append(load_spec(spec))
        rate = lr if lr is not None else loaded[0].learning_rate
        if rate is None:
            raise SpecError(
                [
                    Problem(
                        loaded[0].source,
                        0,
                        0,
                        "training needs a learning rate: give --lr or learning_rate in the spec",
                    )
                ]
            )
        if schedule == "cosine" and min_lr > rate:
            raise SpecError(
                [
                    Problem(
                        "<command line>",
                        0,
                        0,
                        f"--min-lr {min_lr:g} exceeds the learning rate {rate:g}: cosine "
                        "decays from the rate down to --min-lr",
                    )
                ]
            )
        used_rate.append(rate)
        progress = _progress(steps)
        try:
            data, theta, state = training.run(
                loaded[0],
                steps,
                rate,
                optimizer=_choice(loaded[0], optimizer, hyper),
                schedule=training.Schedule(schedule, gamma, every, min_lr),
                batch_size=batch_size,
                seed=seed,
                until_loss=until_loss,
                trace_params=trace == "params",
                noise=noise,
                on_step=progress.advance if progress else None,
                dtype=dtype.value,
            )
        finally:
            if progress:
                progress.close()
        finished.append((theta, state))
        return data

    def trained_spec(data: dict[str, Any]) -> str:
        from .emit import emit

        theta, state = finished[0]
        net_params = _net_params(loaded[0], theta)
        section = {
            "name": data["optimizer"]["name"],
            "hyperparameters": data["optimizer"]["hyperparameters"],
            "step": state.step,
            "state_after": {b: _net_params(loaded[0], v) for b, v in state.buffers.items()},
        }
        plain = section["name"] == "sgd" and not section["hyperparameters"].get("weight_decay")
        return emit(loaded[0], net_params, None if plain else section, used_rate[0])

    def write_files(data: dict[str, Any]) -> None:
        if plot is not None:
            from .plot import loss_curve

            loss_curve(data, plot, force=force)
        if emit_spec and output is not None:
            from .emit import write_new

            write_new(output, trained_spec(data), force=force)

    if plot is not None:
        from .plot import check_target

        with _bad_input():
            check_target(plot, force=force)
    out = _Output(fmt, precision, standalone, debug)
    if emit_spec and output is None:
        data = _run(compute, out, render=lambda d, _: trained_spec(d), after=write_files)
    else:
        data = _run(compute, out, after=write_files)
    if data["stopped"]["reason"] == "diverged":
        raise typer.Exit(EXIT_WRONG)


def _net_params(spec: Any, flat: Any) -> dict[str, Any]:
    from .engine import network_of

    return dict(network_of(spec).params(flat))


class _Progress:
    """A progress bar on standard error for a long run on a terminal."""

    def __init__(self, steps: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(transient=True, console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("training", total=steps)

    def advance(self, step: int) -> None:
        self.bar.update(self.task, completed=step)

    def close(self) -> None:
        self.bar.stop()


def _progress(steps: int) -> _Progress | None:
    if steps < 50 or not sys.stderr.isatty():
        return None
    return _Progress(steps)


@app.command()
def explain(
    spec: SpecArg = "net.yaml",
    params: Annotated[
        list[str] | None,
        typer.Argument(
            help="Params to explain (w1; W1 for all of W1; W1[1,2]); all when none are named.",
            show_default=False,
        ),
    ] = None,
    lr: LrOpt = None,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    notation: NotationOpt = NotationName.seed,
    exact: ExactOpt = False,
    decimals: RoundOpt = None,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Chain-rule derivations: the loss, each neuron's δ, each param's gradient and update."""
    mode = _mode(notation, exact, decimals)

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .compute import result_data

        return result_data(load_spec(spec, exact=exact), "explain", mode.build(), lr, params or ())

    _run(compute, _Output(fmt, precision, standalone, debug))


@app.command()
def check(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="[SPEC] ANSWERS",
            help="The spec (default net.yaml) and the answers file (YAML: 'a.h1: 4', "
            "'grad.w3: 0', 'loss: 9.68', …).",
            show_default=False,
        ),
    ],
    lr: LrOpt = None,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    notation: NotationOpt = NotationName.seed,
    exact: ExactOpt = False,
    decimals: RoundOpt = None,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check hand-computed answers: each right or wrong, and why (exit 1 if any is wrong)."""
    if len(files) > 2:
        raise typer.BadParameter(
            f"expected [SPEC] ANSWERS, got {len(files)} files", param_hint="[SPEC] ANSWERS"
        )
    spec, answers = ("net.yaml", files[0]) if len(files) == 1 else files
    if spec == answers == "-":
        with _bad_input():
            message = "standard input can be read only once; give the spec or the answers as a file"
            raise SpecError([Problem("<command line>", 0, 0, message)])
    mode = _mode(notation, exact, decimals)

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .compute import check_data

        return check_data(load_spec(spec, exact=exact), answers, mode.build(), lr)

    data = _run(compute, _Output(fmt, precision, standalone, debug))
    if data["summary"]["right"] != data["summary"]["total"]:
        raise typer.Exit(EXIT_WRONG)


def _tolerance(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"must be a finite number > 0, got {value}")
    return value


@app.command()
def gradcheck(
    spec: SpecArg = "net.yaml",
    tol: Annotated[
        float,
        typer.Option(
            "--tol",
            callback=_tolerance,
            help="Largest relative error |analytic − numeric| / max(|analytic|, |numeric|) "
            "that passes.",
        ),
    ] = 1e-6,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check every analytic gradient against a central finite difference (exit 1 if any fails)."""

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .gradcheck import gradcheck

        return gradcheck(load_spec(spec), tol)

    data = _run(compute, _Output(fmt, precision, standalone, debug))
    if data["summary"]["failed"]:
        raise typer.Exit(EXIT_WRONG)


@app.command()
def schema(
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the schema to FILE (atomically) instead of standard output ('-').",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """JSON Schema of a spec, for editors that check and complete net.yaml as it is typed."""
    if force and output is None:
        raise typer.BadParameter("applies with --output only", param_hint="--force")
    from .schema import schema_text

    text = schema_text()
    if output in (None, "-"):
        _write(text)
        return
    from .emit import write_new

    with _bad_input():
        write_new(output, text, force=force)
    _stderr(
        f"wrote {output}; a spec in the current folder uses it with the first line "
        f"'# yaml-language-server: $schema={output}' (the path is relative to the spec)"
    )


class DiagramFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graph(
    spec: SpecArg = "net.yaml",
    fmt: Annotated[
        DiagramFormat | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="mermaid (default: a flowchart, drawn by GitHub in a mermaid code block) or "
            "dot (Graphviz).",
            show_default=False,
        ),
    ] = None,
    grad: Annotated[
        bool, typer.Option("--grad", help="Add each gradient ∂L/∂w and each neuron's δ.")
    ] = False,
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            metavar="X",
            callback=_learning_rate,
            help="Also show each param after one step with this learning rate.",
        ),
    ] = None,
    sample: Annotated[
        int,
        typer.Option(
            "--sample", metavar="K", min=1, help="The sample of a batch to show (1-based)."
        ),
    ] = 1,
    render_to: Annotated[
        str | None,
        typer.Option(
            "--render",
            metavar="FILE",
            help="Draw the DOT with Graphviz into FILE (.svg, .png or .pdf) instead of printing.",
        ),
    ] = None,
    force: ForceOpt = False,
    precision: Annotated[
        int,
        typer.Option("--precision", "-p", min=1, max=17, help="Significant digits in labels."),
    ] = 4,
    debug: DebugOpt = False,
) -> None:
    """Draw the network: inputs, neurons and weighted edges with their numbers (Mermaid, DOT)."""
    form = (fmt or DiagramFormat.mermaid).value
    if render_to is not None and fmt is DiagramFormat.mermaid:
        raise typer.BadParameter("--render draws the DOT text; leave out --format mermaid")
    if force and render_to is None:
        raise typer.BadParameter("applies with --render only", param_hint="--force")
    loaded: list[Spec] = []

    def compute() -> dict[str, Any]:
        from . import load_spec
        from .graph import graph_data

        loaded.append(load_spec(spec))
        return graph_data(loaded[0], grad=grad, lr=lr, sample=sample)

    def text(data: dict[str, Any], kind: str) -> str:
        from .graph import draw

        updates = lr is not None
        return draw(
            loaded[0], data, kind, grad=grad, updates=updates, sample=sample, precision=precision
        )

    out = _Output(Format.table, precision, False, debug)
    if render_to is None:
        _run(compute, out, render=lambda d, _: text(d, form))
        return
    from .graph import check_target, render_file

    with _bad_input():
        check_target(render_to, force=force)
    path = render_to
    _run(
        compute,
        out,
        render=lambda d, _: "",
        after=lambda d: render_file(text(d, "dot"), path, force=force),
    )
    _stderr(f"wrote {path}")


@app.command()
def exercise(
    seed: Annotated[
        int,
        typer.Option(
            "--seed", metavar="S", min=0, help="Which exercise: the same seed gives the same one."
        ),
    ],
    shape: Annotated[
        str,
        typer.Option(
            "--shape",
            metavar="SHAPE",
            help="Units per layer, inputs first: 2-3-1, 3-4-4-2 (at most 6 layers of neurons, "
            "8 units each, 200 weights and biases).",
        ),
    ] = "2-3-1",
    activation_names: Annotated[
        str,
        typer.Option(
            "--activations",
            autocompletion=_complete_activation_list,
            metavar="NAME[,NAME…]",
            help="The activation of each layer, hidden layers then the output, comma-separated; "
            "one name for all.",
        ),
    ] = "relu",
    loss: Annotated[
        str,
        typer.Option(
            "--loss",
            metavar="NAME",
            autocompletion=_completer(_loss_names),
            help="The loss, named as in a spec.",
        ),
    ] = "half_squared_error",
    lr: Annotated[
        float, typer.Option("--lr", metavar="X", help="Learning rate of the SGD step.")
    ] = 0.1,
    bias: Annotated[
        bool, typer.Option("--bias", help="Give every neuron a bias param (b1, b2, …).")
    ] = False,
    dead: Annotated[
        int,
        typer.Option(
            "--dead", metavar="N", min=0, help="Exactly N dead hidden ReLU units (a < 0)."
        ),
    ] = 0,
    saturated: Annotated[
        int,
        typer.Option(
            "--saturated",
            metavar="N",
            min=0,
            help="Exactly N sigmoid or tanh units with |a| ≥ 4 (saturated).",
        ),
    ] = 0,
    key_format: Annotated[
        str,
        typer.Option(
            "--key-format",
            autocompletion=_completer(lambda: ("markdown", "latex")),
            metavar="markdown|latex",
            help="The answer key as Markdown (STEM-key.md) or a LaTeX document (STEM-key.tex).",
        ),
    ] = "markdown",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="STEM",
            show_default="exercise-SEED",
            help="Write STEM.yaml and its key, STEM-key.md or .tex; '-' prints the spec alone.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
    debug: DebugOpt = False,
) -> None:
    """A random backprop exercise with friendly numbers, and its worked answer key."""
    from . import exercise as drill

    if key_format not in ("markdown", "latex"):
        raise typer.BadParameter(
            f"must be markdown or latex, got {key_format!r}", param_hint="--key-format"
        )
    if output == "-" and force:
        raise typer.BadParameter("-o - writes no file to replace", param_hint="--force")
    try:
        request = drill.request(
            shape, seed, activation_names, loss, lr, bias=bias, dead=dead, saturated=saturated
        )
    except drill.RequestError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.option) from None
    form: drill.KeyFormat = "latex" if key_format == "latex" else "markdown"
    spec_path, key_path = drill.paths(output or f"exercise-{seed}", form)
    made: list[drill.Exercise] = []

    def compute() -> dict[str, Any]:
        made.append(drill.make(request, source="<stdout>" if output == "-" else spec_path))
        return {"command": "exercise", "warnings": []}

    out = _Output(Format.markdown, 6, False, debug)
    if output == "-":
        _run(compute, out, render=lambda d, _: made[0].text)
        return
    _run(
        compute,
        out,
        render=lambda d, _: "",
        after=lambda d: drill.write(made[0], spec_path, key_path, form, force=force),
    )
    _stderr(f"wrote {spec_path} and {key_path}")


@app.command()
def activations(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NAME]...",
            autocompletion=_completer(_activation_names),
            help="Activations to show: names, aliases, or with parameters as "
            "'leaky_relu(alpha=0.2)' or '{name: elu, alpha: 2}'; all when none is named.",
            show_default=False,
        ),
    ] = None,
    at: Annotated[
        list[float] | None,
        typer.Option(
            "--at",
            metavar="X",
            help="A pre-activation a at which to show f(a) and f′(a); repeatable "
            "(softmax takes the points as one vector).",
            show_default=False,
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            min=1,
            metavar="N",
            help="The gradient factor (W·f′(a))^N through N stacked units, at --at "
            "(default −2, 0, 2), and its bound (|W|·max |f′|)^N.",
        ),
    ] = None,
    weight: Annotated[
        float | None,
        typer.Option("--weight", metavar="W", help="With --depth: each unit's weight (default 1)."),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Write f and f′ of each activation to FILE (.png, .svg, .pdf; needs "
            "nncalc[plot]).",
        ),
    ] = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    precision: PrecisionOpt = 6,
    standalone: StandaloneOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Activation functions compared: properties, values and slopes, vanishing gradients."""
    points = at or []
    if not all(math.isfinite(x) for x in points):
        raise typer.BadParameter("every point must be a finite number", param_hint="--at")
    if weight is not None and depth is None:
        raise typer.BadParameter("applies with --depth only", param_hint="--weight")
    if weight is not None and not math.isfinite(weight):
        raise typer.BadParameter(f"must be a finite number, got {weight}", param_hint="--weight")
    if force and plot is None:
        raise typer.BadParameter("applies with --plot only", param_hint="--force")
    chosen: list[Activation] = []

    def compute() -> dict[str, Any]:
        from .explore import chosen as choose
        from .explore import explore

        chosen.extend(choose(names or ()))
        w = 1.0 if weight is None else weight
        return explore(chosen, points, depth, w, sketch=fmt is Format.table)

    after = None
    if plot is not None:
        from .plot import check_target

        with _bad_input():
            check_target(plot, force=force)
        path = plot

        def after(data: dict[str, Any]) -> None:
            from .explore import PLOT_POINTS, curves
            from .plot import activation_curves

            activation_curves(curves(chosen, PLOT_POINTS), path, force=force)

    _run(compute, _Output(fmt, precision, standalone, debug), after=after)


def _run(
    compute: Callable[[], dict[str, Any]],
    out: _Output,
    *,
    render: Callable[[dict[str, Any], Options], str] | None = None,
    after: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Compute, render, then write: nothing reaches stdout unless everything succeeded.

    `render` replaces the format's renderer; `after` runs once the text is ready (it writes a
    file, say) and may still fail with a SpecError before anything is printed."""
    fmt, debug = out.fmt, out.debug
    if out.standalone and fmt is not Format.latex:
        raise typer.BadParameter("applies to --format latex only", param_hint="--standalone")
    try:
        data = compute()
        terminal = sys.stdout.isatty()
        options = Options(
            precision=out.precision,
            color=terminal and "NO_COLOR" not in os.environ and fmt is Format.table,
            width=shutil.get_terminal_size().columns if terminal else None,
            standalone=out.standalone,
        )
        text = (render or renderer(fmt))(data, options)
        if after is not None:
            after(data)
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
    return data


@app.command()
def init(
    file: Annotated[
        str, typer.Argument(help="The spec to write; '-' writes to standard output.")
    ] = "net.yaml",
) -> None:
    """Write a commented starter spec (the seed exercise); an existing file is never replaced."""
    from .starter import STARTER

    if file == "-":
        _write(STARTER)
        return
    from .emit import write_new

    with _bad_input():
        write_new(file, STARTER, force=False, if_exists="init never replaces a file; name another")
    _stderr(f"wrote {file}; next: nncalc backprop {file}")


@contextmanager
def _bad_input() -> Iterator[None]:
    """Bad input found outside `_run` (a file that may not be written, say): each problem on
    standard error, exit 2."""
    try:
        yield
    except SpecError as exc:
        for problem in exc.problems:
            _stderr(str(problem))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _stderr(line: str) -> None:
    sys.stderr.write(line.replace("\n", " ") + "\n")


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`nncalc … | head -1`): go on quietly, so the exit code is still
        # the verdict's (check: 1 when an answer is wrong). Point stdout at devnull so the
        # interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    """Console-script entry point.

    typer builds every command's options on each start; a run names one command, so only that
    one is built (the whole app still answers --help, completion and anything unknown)."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    chosen = [c for c in app.registered_commands if (c.name or c.callback.__name__) == name]  # type: ignore[union-attr]
    if not chosen or os.environ.get("_NNCALC_COMPLETE"):
        app(prog_name="nncalc")
        return
    single = typer.Typer(
        name="nncalc",
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    single.registered_callback = app.registered_callback
    single.registered_commands = chosen
    single(prog_name="nncalc")
