"""CSV: one row per scalar value (kind, name, sample, value), or for `check` one row per answer,
or for `gradcheck` one row per checked value, or for `activations` one row per property, value
at a point and gradient factor.

Numbers keep full precision (repr); a null or non-finite value is an empty cell. Samples are
1-based, names of matrix entries 1-based ("W1[1,2]"), as in the tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from . import Options
from .view import Numbers, answer_path, entries, gradcheck_verdict, pick, values

VALUE_HEADER = ("kind", "name", "sample", "value")
CHECK_HEADER = (
    "quantity",
    "kind",
    "name",
    "sample",
    "answer",
    "correct",
    "verdict",
    "mistake",
    "follows_from",
    "explanation",
)
GRADCHECK_HEADER = (
    "kind",
    "name",
    "analytic",
    "numeric",
    "abs_error",
    "rel_error",
    "passed",
    "kink",
    "verdict",
)


def number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _sample(sample: int | None) -> str:
    return "" if sample is None else str(sample + 1)


def _gradcheck(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GRADCHECK_HEADER)
    for entry in data["entries"]:
        writer.writerow(
            [
                entry["kind"],
                entry["name"],
                *(number(entry[key]) for key in ("analytic", "numeric", "abs_error", "rel_error")),
                "true" if entry["passed"] else "false",
                "true" if entry["kink"] else "false",
                gradcheck_verdict(entry),
            ]
        )
    return out.getvalue()


TRAIN_HEADER = ("kind", "step", "name", "value")


def _train(data: dict[str, Any]) -> str:
    """One row per traced number: each step's learning rate and loss (and params with --trace
    params), then the final loss, params and gradients."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRAIN_HEADER)
    for entry in data["steps"]:
        step = entry["step"]
        writer.writerow(["learning_rate", step, "", number(entry["learning_rate"])])
        writer.writerow(["loss", step, "", number(entry["loss"])])
        for name, value in (entry.get("params") or {}).items():
            for label, index in entries(name, value):
                writer.writerow(["param", step, label, number(pick(value, index))])
    final = data["final"]
    writer.writerow(["final_loss", "", "", number(final["loss"])])
    for kind, key in (("final_param", "params"), ("final_gradient", "gradients")):
        for name, value in final[key].items():
            for label, index in entries(name, value):
                writer.writerow([kind, "", label, number(pick(value, index))])
    return out.getvalue()


ACTIVATIONS_HEADER = ("section", "activation", "index", "a", "property", "value")
# The entry keys of `nncalc activations` written as they are, each its own property, in order.
ACTIVATION_PROPERTIES = (
    "formula",
    "derivative_formula",
    "bounded",
    "monotonic",
    "continuous",
    "continuously_differentiable",
    "zero_centred",
    "value_at_zero",
    "convention",
    "vanishes",
    "dead_units",
    "cost",
)


def _cell(value: Any) -> str:
    """A property's value: true/false, full-precision numbers, text; null as an empty cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return number(value)
    return "" if value is None else str(value)


def _activations(data: dict[str, Any]) -> str:
    """One row per property (section properties), per value at a point (at; for softmax the
    component's 1-based index), per gradient factor (depth) and per bound (bound)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ACTIVATIONS_HEADER)
    for entry in data["activations"]:
        for prop, value, a in _properties(entry):
            writer.writerow(["properties", entry["label"], "", _cell(a), prop, _cell(value)])
    for entry in data.get("at") or []:
        for i, point in enumerate(entry["points"]):
            index = "" if entry["elementwise"] else str(i + 1)
            for key in ("value", "derivative"):
                cells = [entry["activation"], index, number(point["a"]), key]
                writer.writerow(["at", *cells, number(point[key])])
    depth = data.get("depth") or {"rows": [], "bounds": []}
    for item in depth["rows"]:
        for key in ("derivative", "factor", "product", "verdict"):
            cells = [item["activation"], "", number(item["a"]), key, _cell(item[key])]
            writer.writerow(["depth", *cells])
    for item in depth["bounds"]:
        for key in ("max_abs_derivative", "factor", "bound", "verdict"):
            writer.writerow(["bound", item["activation"], "", "", key, _cell(item[key])])
    return out.getvalue()


def _properties(entry: dict[str, Any]) -> Iterator[tuple[str, Any, float | None]]:
    """(property, value, the point a it is stated at, if any) of one activation."""
    for key, value in entry["params"].items():
        yield f"parameter.{key}", value, None
    for key in ("text", "low", "high", "low_closed", "high_closed"):
        yield f"range.{key}", entry["range"][key], None
    for key in ACTIVATION_PROPERTIES:
        yield key, entry[key], None
    steepest = entry["max_abs_derivative"]
    yield "max_abs_derivative", steepest["value"], steepest["at"]
    yield "max_abs_derivative.where", steepest["where"], None
    for kink in entry["derivative_at_kinks"]:
        yield "derivative_at_kink", kink["derivative"], kink["a"]
    for jump in entry["jumps"]:
        yield "jump", jump["size"], jump["a"]
    for jump in entry["derivative_jumps"]:
        yield "derivative_jump", jump["size"], jump["a"]
    for zero in entry["derivative_zeros"]:
        yield "derivative_zero", 0.0, zero


def render(data: dict[str, Any], options: Options) -> str:
    if data["command"] == "gradcheck":
        return _gradcheck(data)
    if data["command"] == "activations":
        return _activations(data)
    if data["command"] == "train":
        return _train(data)
    numbers = Numbers(data, options.precision)
    extra: list[str] = []
    if numbers.mode == "exact":
        extra.append("exact")
    elif numbers.mode == "round":
        extra.append("full_precision")

    def extras(where: str, fraction: str | None = None) -> list[str]:
        if numbers.mode == "exact":
            return [fraction or numbers.exact.get(where, "")]
        if numbers.mode == "round":
            return [number(numbers.differs[where]) if where in numbers.differs else ""]
        return []

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if data["command"] == "check":
        writer.writerow([*CHECK_HEADER, *extra])
        for answer in data["answers"]:
            diagnosis = answer.get("diagnosis") or {}
            writer.writerow(
                [
                    answer["quantity"],
                    answer["kind"],
                    answer.get("name") or "",
                    _sample(answer.get("sample")),
                    number(answer.get("answer")),
                    number(answer.get("correct")),
                    answer["verdict"],
                    diagnosis.get("mistake", ""),
                    ";".join(answer.get("follows_from") or []),
                    answer.get("explanation") or "",
                    *extras(answer_path(data, answer) or "", answer.get("correct_exact")),
                ]
            )
    else:
        writer.writerow([*VALUE_HEADER, *extra])
        for row in values(data):
            writer.writerow(
                [row.kind, row.name, _sample(row.sample), number(row.value), *extras(row.path)]
            )
    return out.getvalue()
