"""The JSON Schema of a network spec, so that an editor checks and completes net.yaml as typed.

Every key, name and default comes from the validator's own constants and from the registries of
activations, losses and optimizers, so the schema cannot fall behind what nncalc accepts. It
checks shape only (keys, types, names from a closed list, signs): whether a name refers to
something and whether sizes agree is for nncalc to tell. It never rejects a spec nncalc accepts.

Only keywords that draft-07 validators also know are used (no `$ref`, `$defs` or
`dependentSchemas`), so an older editor still checks what it understands.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import activations, losses, optim, spec

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A number written as a fraction, "1/3": what spec.is_fraction reads, less a zero denominator
# (which nncalc refuses), anchored as JSON Schema's (ECMA-262) patterns are. The learning rate's
# is ≥ 0 ("-0/2" is 0).
FRACTION = r"^[-+]?[0-9]+/[0-9]*[1-9][0-9]*$"
NONNEGATIVE_FRACTION = r"^(\+?[0-9]+|-0+)/[0-9]*[1-9][0-9]*$"
NAME = r"^[^\s\u0000-\u001f\u007f-\u009f]+$"  # an input, neuron or param name: no spaces
ONE_LINE = r"^[^\u0000-\u001f\u007f-\u009f]*$"  # no control characters (a title)
DEFAULT_LOSS = "half_squared_error"
DEFAULT_REDUCTION = "mean"


def schema_text() -> str:
    """The schema as strict JSON, keys sorted, ending in a newline: the same text on every run."""
    text = json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def spec_schema() -> Schema:
    """The schema of a spec: the named or the layered form, and the rules both share."""
    return {
        "$schema": DIALECT,
        "title": "nncalc network spec",
        "description": "A feed-forward network with its data, for nncalc (forward, backprop, "
        "explain, check, train, gradcheck). Named form: inputs, params, neurons; layered "
        "form: inputs and layers. Names that must refer to something, and sizes that must "
        "agree, are checked by nncalc itself.",
        "type": "object",
        "oneOf": [
            _form("named form: neurons named one by one", spec.NAMED_KEYS, "neurons", False),
            _form(
                "layered form: weight matrices layer by layer", spec.LAYERED_KEYS, "layers", True
            ),
        ],
        "allOf": [
            {"anyOf": [{"required": ["inputs"]}, {"required": ["data"]}]},
            {
                "if": {"required": ["data"]},
                "then": {"properties": {"inputs": False, "target": False}},
            },
            _targets_needed(),
            *_state_buffers(),
        ],
    }


def _form(title: str, keys: Iterable[str], body: str, layered: bool) -> Schema:
    properties = _properties(layered)
    return {
        "title": title,
        "type": "object",
        "required": [body],
        "properties": {key: properties[key] for key in keys},
        "additionalProperties": False,
    }


def _properties(layered: bool) -> dict[str, Schema]:
    """Every top-level key of either form; `layered` picks the form's own inputs and targets."""
    inputs, target = (_layered_inputs, _layered_target) if layered else (_inputs, _target)
    return {
        "title": {
            "description": "Shown above the tables and in JSON: printable text on one line.",
            "type": ["string", "number", "null"],
            "pattern": ONE_LINE,
        },
        "inputs": inputs("The inputs of a single sample (or give data: a batch)."),
        "target": target(
            "The target of a single sample, one number per output; not needed by the loss "
            + _listing(_no_target_losses())
            + "."
        ),
        "data": {
            "description": "A batch instead of inputs and target: a list of samples, each "
            "{inputs, target}; reduction says how their losses combine.",
            "type": "array",
            "minItems": 1,
            "items": _sample(inputs, target),
        },
        "loss": {
            "description": f"The loss (default {DEFAULT_LOSS}); L for one sample: "
            + "; ".join(
                f"{_with_aliases(name, losses.ALIASES)}: {cls.formula}"
                for name, cls in sorted(losses.REGISTRY.items())
            ),
            "enum": _names(losses.REGISTRY, losses.ALIASES),
            "default": DEFAULT_LOSS,
        },
        "reduction": {
            "description": f"How a batch's per-sample losses and gradients combine "
            f"(default {DEFAULT_REDUCTION}): the mean over samples or their sum.",
            "enum": sorted(spec.REDUCTIONS),
            "default": DEFAULT_REDUCTION,
        },
        "learning_rate": {
            "description": "The learning rate of the step, a number ≥ 0; --lr overrides it.",
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": NONNEGATIVE_FRACTION},
                {"type": "null"},
            ],
        },
        "frozen": {
            "description": "Params whose gradient is shown but which are not updated"
            + (" (whole matrices: W1, b2)." if layered else "."),
            "type": ["array", "null"],
            "items": _name("a param name"),
        },
        "optimizer": _optimizer(),
        "state": _state(layered),
        "params": {
            "description": "The trainable parameters: param name → value. A weight or bias "
            "naming a param is trainable; a plain number is a constant.",
            "type": ["object", "null"],
            "propertyNames": {"pattern": NAME},
            "additionalProperties": _number("the param's value"),
        },
        "neurons": {
            "description": "Neuron name → {from, bias, activation}: a = Σ source·weight "
            "(+ bias), z = activation(a). Any acyclic graph: skip connections are fine.",
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": NAME},
            "additionalProperties": _neuron(),
        },
        "outputs": {
            "description": "The output neurons, in order; default: the neurons that feed no "
            "other neuron, in spec order.",
            "type": ["array", "null"],
            "minItems": 1,
            "uniqueItems": True,
            "items": _name("a neuron name"),
        },
        "layers": {
            "description": "The layers, input side first: a = W·z_prev (+ b), z = activation(a). "
            "Their params are named W1, b1, W2, b2, …",
            "type": "array",
            "minItems": 1,
            "items": _layer(),
        },
    }


# --- shared pieces -------------------------------------------------------------------------------


def _number(description: str) -> Schema:
    """A number, or a fraction of integers written "p/q" (exactly p/q with --exact)."""
    return {
        "description": description,
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": FRACTION}],
    }


def _numbers(description: str) -> Schema:
    return {
        "description": description,
        "type": "array",
        "minItems": 1,
        "items": _number("a number"),
    }


def _matrix(description: str) -> Schema:
    return {
        "description": description,
        "type": "array",
        "minItems": 1,
        "items": _numbers("a row: one number per column"),
    }


def _name(description: str) -> Schema:
    return {"description": description, "type": "string", "pattern": NAME}


def _by_name(description: str, value: Schema, minimum: int = 0) -> Schema:
    """A mapping name → value."""
    out: Schema = {
        "description": description,
        "type": "object",
        "propertyNames": {"pattern": NAME},
        "additionalProperties": value,
    }
    if minimum:
        out["minProperties"] = minimum
    return out


def _names(registry: Iterable[str], aliases: Mapping[str, str]) -> list[str]:
    return sorted({*registry, *aliases})


def _aliases_of(name: str, aliases: Mapping[str, str]) -> list[str]:
    return sorted(alias for alias, target in aliases.items() if target == name)


def _with_aliases(name: str, aliases: Mapping[str, str]) -> str:
    others = _aliases_of(name, aliases)
    return f"{name} ({', '.join(others)})" if others else name


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names)


def _no_target_losses() -> list[str]:
    return [name for name, cls in sorted(losses.REGISTRY.items()) if not cls.needs_target]


def _grouped(by_name: Mapping[str, tuple[str, ...]]) -> list[tuple[list[str], tuple[str, ...]]]:
    """Names that allow the same keys, together: [(names, keys)], in a fixed order."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for name, keys in by_name.items():
        groups[tuple(sorted(keys))].append(name)
    return sorted((sorted(names), keys) for keys, names in groups.items())


def _named_mapping(
    description: str,
    names: list[str],
    fields: dict[str, Schema],
    allowed: Mapping[str, tuple[str, ...]],
) -> Schema:
    """{name: …, field: value, …}, where each name allows only its own fields."""
    return {
        "description": description,
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"description": "the name", "enum": names}, **fields},
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"required": ["name"], "properties": {"name": {"enum": group}}},
                "then": {"propertyNames": {"enum": sorted(["name", *keys])}},
            }
            for group, keys in _grouped(allowed)
        ],
    }


# --- data ----------------------------------------------------------------------------------------


def _inputs(description: str) -> Schema:
    return _by_name(description + " Input name → number.", _number("the input's value"), 1)


def _layered_inputs(description: str) -> Schema:
    return {
        "description": description + " A list of numbers (named x1 … xn), or input name → "
        "number; one per column of the first layer's weights.",
        "anyOf": [_numbers("the inputs, x1 … xn"), _inputs("The inputs by name.")],
    }


def _target(description: str) -> Schema:
    return {
        "description": description + " Output name → number.",
        "anyOf": [
            _by_name("output name → target", _number("the output's target"), 1),
            {"type": "null"},
        ],
    }


def _layered_target(description: str) -> Schema:
    return {
        "description": description + " A list with one number per output neuron, or output "
        "name → number.",
        "anyOf": [
            _numbers("one target per output neuron, in order"),
            _by_name("output name → target", _number("the output's target"), 1),
            {"type": "null"},
        ],
    }


def _sample(inputs: Callable[[str], Schema], target: Callable[[str], Schema]) -> Schema:
    fields = {
        "inputs": inputs("The sample's inputs."),
        "target": target("The sample's target."),
    }
    return {
        "description": "One sample: its inputs and target.",
        "type": "object",
        "required": ["inputs"],
        "properties": {key: fields[key] for key in spec.SAMPLE_KEYS},
        "additionalProperties": False,
    }


def _targets_needed() -> Schema:
    """A target for every sample, unless the loss needs none."""
    needs_none = sorted(
        name
        for name in _names(losses.REGISTRY, losses.ALIASES)
        if not losses.REGISTRY[losses.ALIASES.get(name, name)].needs_target
    )
    present: Schema = {"not": {"type": "null"}}
    return {
        "if": {"required": ["loss"], "properties": {"loss": {"enum": needs_none}}},
        "else": {
            "anyOf": [{"required": ["target"]}, {"required": ["data"]}],
            "properties": {
                "target": present,
                "data": {"items": {"required": ["target"], "properties": {"target": present}}},
            },
        },
    }


# --- the network ---------------------------------------------------------------------------------


def _activation(description: str, *, whole_layer: bool) -> Schema:
    """An activation by name, or {name: …, parameter: value} for a parameterised one."""
    classes = {
        name: cls
        for name, cls in sorted(activations.REGISTRY.items())
        if whole_layer or cls.elementwise
    }
    aliases = {a: n for a, n in activations.ALIASES.items() if n in classes}
    names = _names(classes, aliases)
    parameters = sorted({p for cls in classes.values() for p in cls.defaults})
    fields = {
        p: _number(
            f"{p}: "
            + "; ".join(
                f"of {name}, default {cls.defaults[p]:g}"
                for name, cls in classes.items()
                if p in cls.defaults
            )
        )
        for p in parameters
    }
    allowed = {
        alias: tuple(classes[name].defaults)
        for name in classes
        for alias in (name, *_aliases_of(name, aliases))
    }
    listing = "; ".join(
        f"{_with_aliases(name, aliases)}: {cls.formula}" for name, cls in classes.items()
    )
    return {
        "description": f"{description} A name, or {{name: …, parameter: value}}: {listing}.",
        "anyOf": [
            {"description": "an activation", "enum": names},
            _named_mapping("an activation with its parameters", names, fields, allowed),
        ],
    }


def _weight(description: str) -> Schema:
    return {
        "description": description + ": a param name (trainable) or a number (a constant).",
        "anyOf": [{"type": "number"}, _name("a param name, or a fraction p/q")],
    }


def _neuron() -> Schema:
    fields = {
        "from": _by_name(
            "Source → weight: a source is an input or another neuron.",
            _weight("the weight of this source"),
            1,
        ),
        "bias": _weight("The bias"),
        "activation": _activation("z = f(a); softmax needs the layered form.", whole_layer=False),
    }
    return {
        "description": "A neuron: from, bias (optional), activation.",
        "type": "object",
        "required": ["activation", "from"],
        "properties": {key: fields[key] for key in spec.NEURON_KEYS},
        "additionalProperties": False,
    }


def _layer() -> Schema:
    fields = {
        "weights": _matrix(
            "One row per neuron, one column per neuron of the layer before (or input)."
        ),
        "bias": {
            "description": "Optional: one number per neuron.",
            "anyOf": [_numbers("one bias per neuron"), {"type": "null"}],
        },
        "activation": _activation("z = f(a); softmax acts on the whole layer.", whole_layer=True),
        "names": {
            "description": "Optional neuron names; default h{l}_{i} for hidden layer l and "
            "o{i} for the output layer (1-based).",
            "anyOf": [
                {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": _name("a neuron name"),
                },
                {"type": "null"},
            ],
        },
    }
    return {
        "description": "A layer: weights, bias (optional), activation, names (optional).",
        "type": "object",
        "required": ["activation", "weights"],
        "properties": {key: fields[key] for key in spec.LAYER_KEYS},
        "additionalProperties": False,
    }


# --- the optimizer -------------------------------------------------------------------------------


def _optimizer() -> Schema:
    chosen = optim.OPTIMIZERS
    names = sorted(chosen)
    hyper = sorted({h for o in chosen.values() for h in o.defaults})
    fields = {
        h: _number(
            f"{h}, {optim.RANGES[h][1]}: "
            + "; ".join(
                f"of {name}, default {o.defaults[h]:g}"
                for name, o in sorted(chosen.items())
                if h in o.defaults
            )
        )
        for h in hyper
    }
    allowed = {name: tuple(o.defaults) for name, o in chosen.items()}
    listing = "; ".join(f"{name}: {chosen[name].torch_equivalent}" for name in names)
    return {
        "description": "The optimizer of backprop's step (plain SGD without it): a name, or "
        f"{{name: …, hyper-parameter: value}}; --optimizer overrides it. {listing}.",
        "anyOf": [
            {"description": "an optimizer", "enum": names},
            _named_mapping("an optimizer with its hyper-parameters", names, fields, allowed),
            {"type": "null"},
        ],
    }


def _keepers() -> dict[str, list[str]]:
    """Buffer → the optimizers that keep it."""
    out: dict[str, list[str]] = defaultdict(list)
    for name, o in sorted(optim.OPTIMIZERS.items()):
        for buffer in o.buffers:
            out[buffer].append(name)
    return dict(out)


def _state(layered: bool) -> Schema:
    """The state; a buffer holds a number per named param, a vector or matrix per layered one."""
    value = (
        {
            "description": "the param's buffer: a bias vector's or a weight matrix's values",
            "anyOf": [_numbers("a bias vector's values"), _matrix("a weight matrix's values")],
        }
        if layered
        else _number("the param's buffer value")
    )
    fields = {
        buffer: _by_name(
            f"{buffer} ({optim.SYMBOLS.get(buffer, buffer)}) of {_listing(owners)}: param "
            "name → value, every param given.",
            value,
        )
        for buffer, owners in sorted(_keepers().items())
    }
    return {
        "description": "The optimizer's state before the step: step and its buffers by param "
        "name. A buffer not given starts as torch starts it.",
        "anyOf": [
            {
                "type": "object",
                "required": ["step"],
                "properties": {
                    "step": {
                        "description": "How many steps were already taken (adam's bias "
                        "correction uses t = step + 1).",
                        "type": "integer",
                        "minimum": 0,
                    },
                    **fields,
                },
                "additionalProperties": False,
            },
            {"type": "null"},
        ],
    }


def _state_buffers() -> list[Schema]:
    """With an optimizer named, the state holds only that optimizer's buffers."""
    allowed = {name: o.buffers for name, o in optim.OPTIMIZERS.items()}
    return [
        {
            "if": {
                "required": ["optimizer"],
                "properties": {
                    "optimizer": {
                        "anyOf": [
                            {"enum": group},
                            {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"enum": group}},
                            },
                        ]
                    }
                },
            },
            "then": {
                "properties": {"state": {"propertyNames": {"enum": sorted(["step", *buffers])}}}
            },
        }
        for group, buffers in _grouped(allowed)
    ]
