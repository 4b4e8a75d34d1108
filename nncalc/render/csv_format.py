"""CSV: one row per scalar value (kind, name, sample, value), or for `check` one row per answer,
or for `gradcheck` one row per checked value.

Numbers keep full precision (repr); a null or non-finite value is an empty cell. Samples are
1-based, names of matrix entries 1-based ("W1[1,2]"), as in the tables.
"""

from __future__ import annotations

import csv
import io
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


def render(data: dict[str, Any], options: Options) -> str:
    if data["command"] == "gradcheck":
        return _gradcheck(data)
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
