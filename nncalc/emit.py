"""A spec written back as YAML, with new param values: the step a student takes next.

The spec is written in its own form (named or layered) with its names and order, every number in
its shortest form that reads back as the same float, so loading the written spec reproduces the
numbers exactly. Comments and YAML layout of the original are not kept.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import Activation
from .errors import Problem, SpecError
from .render.numbers import exact
from .spec import Spec

if TYPE_CHECKING:
    from numpy.typing import NDArray

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")  # a name YAML reads back as itself
_SPECIAL = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "inf", "nan"}


def name(text: str) -> str:
    """A name as a YAML key or value: plain when it reads back as the same text, else quoted."""
    if _PLAIN.match(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def number(value: float | Fraction) -> str:
    """Shortest text that reads back as the same float; a fraction with no finite decimal is
    written as the string "p/q", which a spec reads exactly."""
    if isinstance(value, Fraction):
        q = value.denominator
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if q != 1:
            return f'"{value}"'
        value = float(value) if abs(value.numerator) < 2**53 else value
        if isinstance(value, Fraction):  # an integer a float cannot hold: "p/1" reads exactly
            return f'"{value.numerator}/{value.denominator}"'
    return exact(float(value))


def _mapping(items: Iterable[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{name(k)}: {v}" for k, v in items) + "}"


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _vector(values: NDArray[Any] | list[float]) -> str:
    return _list(number(v) for v in np.ravel(values).tolist())


def _activation(act: Activation, given: Callable[[float], str]) -> str:
    changed = {k: v for k, v in act.params.items() if act.defaults.get(k) != v}
    if not changed:
        return act.name
    return _mapping([("name", act.name), *((k, given(v)) for k, v in changed.items())])


def emit(
    spec: Spec,
    params: Mapping[str, float | NDArray[np.float64]],
    optimizer: Mapping[str, Any] | None = None,
    learning_rate: float | None = None,
) -> str:
    """The YAML text of `spec` with `params` in place of its own param values; with the
    "optimizer" section of a step's data, its optimizer and the state after the step too, so
    the next step continues it. `learning_rate`, when given, is the rate the step used (a
    --lr over the spec's), so the next step uses it too.

    A param that is not finite (a step that overflowed) cannot be written: a spec holds finite
    numbers only. That is a SpecError at the param's place in the spec."""
    overflowed = [p for p in spec.params if not _finite(params[p])]
    if overflowed:
        raise SpecError(
            [
                spec.problem(
                    _place(spec, p),
                    f"the step takes {p} to a value that is not finite, which a spec cannot "
                    "hold; no spec is written (a smaller learning rate may help)",
                )
                for p in overflowed
            ]
        )

    def given(value: float) -> str:  # a number as the spec wrote it: a "p/q" stays one
        return number(spec.fractions.get(value, value))

    def weight(w: str | float) -> str:
        return name(w) if isinstance(w, str) else given(w)

    lines: list[str] = []
    if spec.title is not None:
        lines.append(f"title: {json.dumps(spec.title, ensure_ascii=False)}")
    lines += _data_lines(spec)
    if spec.form == "named":
        lines.append(
            "params: " + _mapping((n, number(params[n])) for n in spec.params)  # type: ignore[arg-type]
        )
        lines.append("neurons:")
        for neuron in spec.neurons:
            fields = [("from", _mapping((s, weight(w)) for s, w in neuron.terms))]
            if neuron.bias is not None:
                fields.append(("bias", weight(neuron.bias)))
            fields.append(("activation", _activation(neuron.activation, given)))
            lines.append(f"  {name(neuron.name)}: {_mapping(fields)}")
        lines.append("outputs: " + _list(name(o) for o in spec.outputs))
    else:
        lines.append("layers:")
        for layer in spec.layers:
            rows = np.asarray(params[layer.weight])
            lines.append("  - weights:")
            lines += [f"      - {_vector(row)}" for row in rows]
            if layer.bias is not None:
                lines.append(f"    bias: {_vector(np.asarray(params[layer.bias]))}")
            lines.append(f"    activation: {_activation(layer.activation, given)}")
            lines.append("    names: " + _list(name(n) for n in layer.names))
    lines.append(f"loss: {spec.loss.name}")
    if spec.reduction != "mean":
        lines.append(f"reduction: {spec.reduction}")
    rate = spec.learning_rate if learning_rate is None else learning_rate
    if rate is not None:
        lines.append(f"learning_rate: {given(rate)}")
    if spec.frozen:
        lines.append("frozen: " + _list(name(p) for p in spec.params if p in spec.frozen))
    if optimizer is not None:
        lines += _optimizer_lines(spec, optimizer)
    return "\n".join(lines) + "\n"


def _finite(value: Any) -> bool:
    if value is None:
        return False
    return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())


def _place(spec: Spec, param: str) -> tuple[str | int, ...]:
    """Where the spec gives `param`: under params (named form), or its layer's weights or bias."""
    for k, layer in enumerate(spec.layers):
        if param in (layer.weight, layer.bias):
            return ("layers", k, "weights" if param == layer.weight else "bias")
    return ("params", param)


def _optimizer_lines(spec: Spec, section: Mapping[str, Any]) -> list[str]:
    from . import optim

    defaults = optim.get(section["name"]).defaults
    changed = [(k, number(v)) for k, v in section["hyperparameters"].items() if defaults[k] != v]
    head = _mapping([("name", section["name"]), *changed]) if changed else section["name"]
    lines = [f"optimizer: {head}"]
    state = section["state_after"]
    if state is None:  # no step was taken: the state is still the one before it
        state, steps = section["state_before"], section["step"] - 1
    else:
        steps = section["step"]
    lines += ["state:", f"  step: {steps}"]
    for buffer, values in state.items():
        if spec.form == "named":
            lines.append(f"  {buffer}: " + _mapping((p, number(values[p])) for p in spec.params))
            continue
        lines.append(f"  {buffer}:")
        for p in spec.params:
            value = np.asarray(values[p], dtype=np.float64)
            if value.ndim == 1:
                lines.append(f"    {name(p)}: {_vector(value)}")
            else:
                lines.append(f"    {name(p)}:")
                lines += [f"      - {_vector(row)}" for row in value]
    return lines


def _data_lines(spec: Spec) -> list[str]:
    def given(value: float) -> str:  # as the spec wrote it: a "p/q" stays one
        return number(spec.fractions.get(value, value))

    def inputs(s: int) -> str:
        return _mapping(zip(spec.input_names, map(given, spec.inputs[s].tolist()), strict=True))

    def target(s: int) -> str | None:
        if spec.targets is None:
            return None
        values = map(given, spec.targets[s].tolist())
        return _mapping(zip(spec.outputs, values, strict=True))

    if not spec.batched:
        out = [f"inputs: {inputs(0)}"]
        if (t := target(0)) is not None:
            out.append(f"target: {t}")
        return out
    out = ["data:"]
    for s in range(spec.batch_size):
        t = target(s)
        out.append(f"  - {{inputs: {inputs(s)}" + (f", target: {t}}}" if t else "}"))
    return out


def write_new(
    path: str,
    content: str | bytes,
    *,
    force: bool,
    if_exists: str = "give --force to replace it, or another --output",
) -> None:
    """Write `content` (text as UTF-8, or bytes) to `path` atomically; an existing file is
    replaced only with `force`. Bad paths and failed writes are SpecErrors, located at 0."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    write_files(
        [(path, lambda temporary: Path(temporary).write_bytes(data))],
        force=force,
        if_exists=if_exists,
    )


def write_files(
    files: Sequence[tuple[str, Callable[[str], object]]],
    *,
    force: bool,
    if_exists: str = "give --force to replace it, or another --output",
    suffix: bool = False,
) -> None:
    """Write several files so that a failure leaves every one as it was: each target is checked,
    then each `write(temporary)` fills a temporary file beside its target, and only when all are
    written are they renamed over their targets. `suffix` keeps the target's extension on the
    temporary (a plotting library picks the format from it)."""
    for path, _ in files:
        check_new(path, force=force, if_exists=if_exists)
    temporaries: list[str] = []
    current = files[0][0]
    try:
        for current, write in files:
            target = Path(current)
            handle, temporary = tempfile.mkstemp(
                prefix=f".{target.name}.",
                suffix=target.suffix if suffix else "",
                dir=target.parent if str(target.parent) else ".",
            )
            os.close(handle)
            temporaries.append(temporary)
            write(temporary)
            os.chmod(temporary, new_file_mode())  # a temporary file is private; the result is not
        for (current, _), temporary in zip(files, temporaries, strict=True):
            os.replace(temporary, current)
        temporaries.clear()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise SpecError([Problem(current, 0, 0, f"cannot write: {why}")]) from None
    finally:
        for temporary in temporaries:
            Path(temporary).unlink(missing_ok=True)


def check_new(path: str, *, force: bool, if_exists: str = "give --force to replace it") -> None:
    """Refuse a folder, or without `force` a file that exists; `if_exists` says what to do."""
    target = Path(path)
    if target.is_dir():
        raise SpecError([Problem(path, 0, 0, "is a directory; give a file name to write")])
    if target.exists() and not force:
        raise SpecError([Problem(path, 0, 0, f"exists; {if_exists}")])
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SpecError([Problem(path, 0, 0, f"the folder {folder} does not exist")])


def new_file_mode() -> int:
    """The permissions a newly created file gets here (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def updated_params(data: Mapping[str, Any]) -> dict[str, Any]:
    """The "updated" params of a result's data, as the spec writer takes them: in exact
    arithmetic each value as its fraction ("1/3" when it has no short decimal), else floats."""
    exact_forms = data.get("exact") or {}

    def value(path: str, x: float) -> Any:
        written = exact_forms.get(path)
        return x if written is None else Fraction(written)

    out: dict[str, Any] = {}
    for key, v in data["updated"].items():
        if isinstance(v, list):
            array = np.asarray(v, dtype=np.float64)
            cells = np.empty(array.shape, dtype=object)
            for index in np.ndindex(array.shape):
                where = f"updated.{key}" + "".join(f"[{i}]" for i in index)
                cells[index] = value(where, float(array[index]))
            out[key] = cells
        else:
            out[key] = value(f"updated.{key}", v)
    return out
