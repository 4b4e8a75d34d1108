"""Property tests of the gradients: finite differences of the loss, and invariants between specs.

Every network here is written as plain data and handed to nncalc as YAML text (JSON is YAML's
flow style; `repr` of a float round-trips exactly). Finite differences perturb that text and
read only `nncalc.forward(...).loss`, never nncalc's gradients.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nncalc
from nncalc import BackpropResult, ForwardResult, activations, losses

SpecData = dict[str, Any]
KeyPath = tuple[str | int, ...]

ACTIVATIONS = sorted(activations.REGISTRY)
ELEMENTWISE = [name for name in ACTIVATIONS if activations.REGISTRY[name].elementwise]
LOSSES = sorted(losses.REGISTRY)
# Losses whose outputs must be probabilities: networks for them end in sigmoid or softmax.
PROBABILITY_LOSSES = frozenset(n for n, c in losses.REGISTRY.items() if c.expects_probabilities)
# Losses whose targets are weights of classes or probabilities: targets drawn from [0, 1].
UNIT_TARGET_LOSSES = PROBABILITY_LOSSES | {"softmax_cross_entropy"}

H = 1e-6  # finite-difference step
KINK_MARGIN = 1e-3  # skip examples with a pre-activation (or mae residual) this close to a kink
FD_REL, FD_ABS = 1e-5, 1e-6  # finite differences against the analytic gradient

# filter_too_much: a step unit's 0-or-1 output under mae often sits on the loss's kink (ŷ = y),
# which check_against_finite_differences skips; some seeds skip most of what they draw.
FD_SETTINGS = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- plain-data specs ---------------------------------------------------------------------------


def text(data: SpecData) -> str:
    """The spec as YAML text (JSON flow style)."""
    return json.dumps(data)


def load(data: SpecData) -> nncalc.Spec:
    return nncalc.load_spec(text(data))


def loss_of(data: SpecData) -> float:
    return nncalc.forward(load(data)).loss


def get(data: Any, path: KeyPath) -> Any:
    for key in path:
        data = data[key]
    return data


def replaced(data: SpecData, path: KeyPath, new: float) -> SpecData:
    """A deep copy of `data` with the number at `path` replaced."""
    out = copy.deepcopy(data)
    parent = get(out, path[:-1])
    parent[path[-1]] = new
    return out


def finite_difference(data: SpecData, path: KeyPath) -> float:
    """Central difference of the loss with respect to the number at `path`."""
    x = float(get(data, path))
    up = loss_of(replaced(data, path, x + H))
    down = loss_of(replaced(data, path, x - H))
    return (up - down) / (2 * H)


def param_paths(data: SpecData, result: BackpropResult) -> list[tuple[KeyPath, float]]:
    """(path of every trainable number in `data`, nncalc's gradient for it)."""
    out: list[tuple[KeyPath, float]] = []
    gradients = result.gradients
    if "layers" in data:
        for k, layer in enumerate(data["layers"], start=1):
            w = np.asarray(gradients[f"W{k}"])
            for i, row in enumerate(layer["weights"]):
                for j in range(len(row)):
                    out.append((("layers", k - 1, "weights", i, j), float(w[i, j])))
            if layer.get("bias") is not None:
                b = np.asarray(gradients[f"b{k}"])
                for i in range(len(layer["bias"])):
                    out.append((("layers", k - 1, "bias", i), float(b[i])))
    else:
        for name in data["params"]:
            g = gradients[name]
            assert isinstance(g, float)
            out.append((("params", name), g))
    return out


def input_paths(data: SpecData, result: BackpropResult) -> list[tuple[KeyPath, float]]:
    """(path of every input number in `data`, nncalc's ∂L/∂input for it)."""
    gradient = result.input_gradient
    assert gradient is not None
    samples = (
        [(("data", s, "inputs"), sample["inputs"]) for s, sample in enumerate(data["data"])]
        if "data" in data
        else [(("inputs",), data["inputs"])]
    )
    out: list[tuple[KeyPath, float]] = []
    names = result.spec.input_names
    for s, (prefix, inputs) in enumerate(samples):
        keys = list(inputs) if isinstance(inputs, dict) else list(range(len(inputs)))
        for key in keys:
            j = names.index(key) if isinstance(key, str) else key
            out.append(((*prefix, key), float(gradient[s, j])))
    return out


def kink_distance(result: ForwardResult) -> float:
    """How close any pre-activation is to a kink of its activation, or an mae output to y."""
    spec = result.spec
    if spec.form == "named":
        units = [(n.name, n.activation) for n in spec.neurons]
    else:
        units = [(name, layer.activation) for layer in spec.layers for name in layer.names]
    distance = math.inf
    for name, activation in units:
        for kink in activation.kinks:
            distance = min(distance, float(np.min(np.abs(result.pre_activation(name) - kink))))
    if spec.loss.kinks and spec.targets is not None:
        yhat = np.stack([result.outputs[o] for o in spec.outputs], axis=1)
        distance = min(distance, float(np.min(np.abs(yhat - spec.targets))))
    return distance


def check_against_finite_differences(data: SpecData) -> None:
    result = nncalc.backprop(load(data))
    assume(kink_distance(result) > KINK_MARGIN)
    if data["loss"] in PROBABILITY_LOSSES:
        # ln(1 − ŷ) of a ŷ within 1e-3 of 1 loses digits to cancellation, and a finite difference
        # divides that loss by 2h; keep the probabilities clear of 0 and 1.
        yhat = np.concatenate(list(result.outputs.values()))
        assume(bool(np.all((yhat > 1e-3) & (yhat < 1 - 1e-3))))
    assert math.isfinite(result.loss)
    # a loss's own rounding error grows with its size; the difference quotient divides it by 2h
    abs_tol = FD_ABS * max(1.0, abs(result.loss))
    wrong = []
    entries = param_paths(data, result) + input_paths(data, result)
    assert entries
    for path, analytic in entries:
        numeric = finite_difference(data, path)
        if not math.isclose(analytic, numeric, rel_tol=FD_REL, abs_tol=abs_tol):
            wrong.append(f"{path}: nncalc {analytic!r}, finite difference {numeric!r}")
    assert not wrong, "\n".join(wrong)


# --- strategies -------------------------------------------------------------------------------


def magnitudes(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


WEIGHTS = magnitudes(-1.5, 1.5)
INPUTS = magnitudes(-2.0, 2.0)


def targets_for(loss: str) -> st.SearchStrategy[float]:
    return magnitudes(0.0, 1.0) if loss in UNIT_TARGET_LOSSES else magnitudes(-2.0, 2.0)


@st.composite
def activation_specs(draw: st.DrawFn, name: str) -> str | dict[str, Any]:
    """An activation as written in a spec: its name, or {name, parameter: value, …}."""
    defaults = activations.REGISTRY[name].defaults
    if not defaults or draw(st.booleans()):
        return name
    return {"name": name, **{key: draw(magnitudes(0.05, 2.0)) for key in defaults}}


def output_activation(activation: str, loss: str) -> str:
    """The tested activation, unless the loss needs probabilities it cannot give."""
    if loss in PROBABILITY_LOSSES and activation != "softmax":
        return "sigmoid"
    return activation


@st.composite
def samples(
    draw: st.DrawFn,
    inputs: list[str] | int,
    outputs: list[str] | int,
    loss: str,
    min_batch: int = 1,
    max_batch: int = 3,
) -> SpecData:
    """The data part of a spec: `inputs` and `target`, or `data` with a `reduction`.

    Names give mappings (each sample may list them in its own order); counts give lists.
    """
    needs_target = losses.REGISTRY[loss].needs_target
    target_values = targets_for(loss)

    def one(values: st.SearchStrategy[float], keys: list[str] | int) -> Any:
        if isinstance(keys, int):
            return [draw(values) for _ in range(keys)]
        return {key: draw(values) for key in draw(st.permutations(keys))}

    batch = draw(st.integers(min_batch, max_batch))
    if batch == 1 and draw(st.booleans()):
        out: SpecData = {"inputs": one(INPUTS, inputs)}
        if needs_target:
            out["target"] = one(target_values, outputs)
        return out
    data = []
    for _ in range(batch):
        sample: SpecData = {"inputs": one(INPUTS, inputs)}
        if needs_target:
            sample["target"] = one(target_values, outputs)
        data.append(sample)
    return {"data": data, "reduction": draw(st.sampled_from(["mean", "sum"]))}


@st.composite
def named_specs(
    draw: st.DrawFn, activation: str, loss: str, min_batch: int = 1, max_batch: int = 3
) -> SpecData:
    """A random DAG in the named form.

    Hidden neurons read any earlier inputs or neurons; the first output reads the last hidden
    neuron and an input directly (a skip connection); later outputs may read earlier outputs.
    The param 't' is shared by two places (edge weights or biases). Neurons are written in a
    random order.
    """
    inputs = [f"x{i}" for i in range(1, draw(st.integers(1, 3)) + 1)]
    sources: dict[str, list[str]] = {}
    hidden: list[str] = []
    for k in range(1, draw(st.integers(2, 3)) + 1):
        available = inputs + hidden
        sources[f"h{k}"] = draw(
            st.lists(st.sampled_from(available), min_size=1, max_size=3, unique=True)
        )
        hidden.append(f"h{k}")
    outputs: list[str] = []
    for k in range(1, draw(st.integers(1, 3)) + 1):
        if k == 1:
            must = [hidden[-1], draw(st.sampled_from(inputs))]
        else:
            must = [draw(st.sampled_from(hidden + outputs))]
        extra = draw(st.lists(st.sampled_from(inputs + hidden + outputs), max_size=2, unique=True))
        sources[f"o{k}"] = must + [s for s in extra if s not in must]
        outputs.append(f"o{k}")

    # Slots: every edge weight and every bias; two of them share the param t.
    has_bias = {name: draw(st.booleans()) for name in sources}
    slots: list[tuple[str, str | None]] = [
        (name, source) for name, srcs in sources.items() for source in srcs
    ]
    slots += [(name, None) for name in sources if has_bias[name]]
    first = draw(st.integers(0, len(slots) - 1))
    second = draw(st.integers(0, len(slots) - 2))
    shared = {first, second + (second >= first)}

    params: dict[str, float] = {"t": draw(WEIGHTS)}
    value_of: dict[tuple[str, str | None], str | float] = {}
    for index, slot in enumerate(slots):
        if index in shared:
            value_of[slot] = "t"
        elif draw(st.integers(0, 3)) == 0:
            value_of[slot] = draw(WEIGHTS)  # a constant
        else:
            name = f"p{len(params)}"
            params[name] = draw(WEIGHTS)
            value_of[slot] = name

    out_activation = output_activation(activation, loss)
    neurons: dict[str, Any] = {}
    for name in draw(st.permutations(list(sources))):
        neuron: dict[str, Any] = {"from": {s: value_of[(name, s)] for s in sources[name]}}
        if has_bias[name]:
            neuron["bias"] = value_of[(name, None)]
        if name in outputs:
            neuron["activation"] = draw(activation_specs(out_activation))
        elif name == hidden[-1]:
            neuron["activation"] = draw(activation_specs(activation))
        else:
            other = draw(st.sampled_from([activation, activation, *ELEMENTWISE]))
            neuron["activation"] = draw(activation_specs(other))
        neurons[name] = neuron
    spec: SpecData = {"params": params, "neurons": neurons, "outputs": outputs, "loss": loss}
    spec.update(draw(samples(inputs, outputs, loss, min_batch, max_batch)))
    return spec


@st.composite
def layered_specs(
    draw: st.DrawFn,
    activation: str | None,
    loss: str,
    min_batch: int = 1,
    max_batch: int = 3,
    names: bool = False,
) -> SpecData:
    """A random layered net with at least one non-square weight matrix.

    `activation` None draws each layer's activation from the elementwise ones.
    `names` gives every layer explicit neuron names.
    """
    n_inputs = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(2, 3)))]
    if activation == "softmax" and loss in PROBABILITY_LOSSES:
        widths[-1] = max(widths[-1], 2)  # a one-unit softmax is the constant 1
    if all(w == n_inputs for w in widths):
        widths[0] = n_inputs % 3 + 1
    layers = []
    previous = n_inputs
    for k, width in enumerate(widths, start=1):
        last = k == len(widths)
        if activation is None:
            name = draw(st.sampled_from(ELEMENTWISE))
            if last and loss in PROBABILITY_LOSSES:
                name = "sigmoid"
        else:
            name = output_activation(activation, loss) if last else activation
        layer: dict[str, Any] = {
            "weights": [[draw(WEIGHTS) for _ in range(previous)] for _ in range(width)],
            "activation": draw(activation_specs(name)),
        }
        if draw(st.booleans()):
            layer["bias"] = [draw(WEIGHTS) for _ in range(width)]
        if names:
            layer["names"] = [f"n{k}_{i}" for i in range(1, width + 1)]
        layers.append(layer)
        previous = width
    spec: SpecData = {"layers": layers, "loss": loss}
    # inputs and targets as lists, or as mappings by name
    inputs: list[str] | int = n_inputs
    if draw(st.booleans()):
        inputs = [f"in{j}" for j in range(1, n_inputs + 1)]
    outputs: list[str] | int = widths[-1]
    if draw(st.booleans()):
        outputs = layers[-1].get("names") or [f"o{i}" for i in range(1, widths[-1] + 1)]
    spec.update(draw(samples(inputs, outputs, loss, min_batch, max_batch)))
    return spec


@st.composite
def any_specs(
    draw: st.DrawFn, loss: str | None = None, batch: tuple[int, int] = (1, 3)
) -> SpecData:
    """A named or layered spec with random activations and loss."""
    loss = loss or draw(st.sampled_from(LOSSES))
    if draw(st.booleans()):
        activation = draw(st.sampled_from(ELEMENTWISE))
        return draw(named_specs(activation, loss, *batch))
    return draw(layered_specs(None, loss, *batch))


# --- finite differences, for every activation and every loss -----------------------------------


def test_registries_cover_the_special_cases() -> None:
    assert {"binary_cross_entropy", "cross_entropy"} == PROBABILITY_LOSSES
    assert "softmax_cross_entropy" in losses.REGISTRY
    assert "softmax" in activations.REGISTRY
    assert "softmax" not in ELEMENTWISE
    assert len(ELEMENTWISE) == len(ACTIVATIONS) - 1


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ELEMENTWISE)
@FD_SETTINGS
@given(data=st.data())
def test_named_dag_gradients_match_finite_differences(
    activation: str, loss: str, data: st.DataObject
) -> None:
    spec = data.draw(named_specs(activation, loss))
    check_against_finite_differences(spec)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@FD_SETTINGS
@given(data=st.data())
def test_layered_gradients_match_finite_differences(
    activation: str, loss: str, data: st.DataObject
) -> None:
    spec = data.draw(layered_specs(activation, loss))
    check_against_finite_differences(spec)


# --- the same network in both forms ------------------------------------------------------------


def as_named(layered: SpecData) -> SpecData:
    """The layered spec (with explicit names) written in the named form, param by param."""
    layers = layered["layers"]
    n_inputs = len(layers[0]["weights"][0])
    first = layered["data"][0] if "data" in layered else layered
    if isinstance(first["inputs"], dict):  # the first sample's order is the column order
        inputs = list(first["inputs"])
    else:
        inputs = [f"x{j}" for j in range(1, n_inputs + 1)]
    params: dict[str, float] = {}
    neurons: dict[str, Any] = {}
    previous = inputs
    for k, layer in enumerate(layers, start=1):
        for i, row in enumerate(layer["weights"], start=1):
            terms = {}
            for j, w in enumerate(row, start=1):
                params[f"W{k}_{i}_{j}"] = w
                terms[previous[j - 1]] = f"W{k}_{i}_{j}"
            neuron: dict[str, Any] = {"from": terms, "activation": layer["activation"]}
            if layer.get("bias") is not None:
                params[f"b{k}_{i}"] = layer["bias"][i - 1]
                neuron["bias"] = f"b{k}_{i}"
            neurons[layer["names"][i - 1]] = neuron
        previous = layer["names"]
    outputs = previous
    named: SpecData = {"params": params, "neurons": neurons, "outputs": outputs}
    for key in ("loss", "reduction", "learning_rate"):
        if key in layered:
            named[key] = layered[key]
    if "frozen" in layered:
        named["frozen"] = [n for n in params if n.split("_")[0] in layered["frozen"]]

    def mapping(values: list[float] | dict[str, float], names: list[str]) -> dict[str, float]:
        return values if isinstance(values, dict) else dict(zip(names, values, strict=True))

    def sample(raw: SpecData) -> SpecData:
        out: SpecData = {"inputs": mapping(raw["inputs"], inputs)}
        if "target" in raw:
            out["target"] = mapping(raw["target"], outputs)
        return out

    if "data" in layered:
        named["data"] = [sample(s) for s in layered["data"]]
    else:
        named.update(sample(layered))
    return named


def close(actual: Any, expected: Any, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=what)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_named_and_layered_forms_agree(data: st.DataObject) -> None:
    loss = data.draw(st.sampled_from(LOSSES))
    layered = data.draw(layered_specs(None, loss, names=True))
    layered["learning_rate"] = data.draw(magnitudes(0.0, 1.0))
    if data.draw(st.booleans()):
        blocks = list(load(layered).params)
        layered["frozen"] = data.draw(st.lists(st.sampled_from(blocks), min_size=1, unique=True))
    named = as_named(layered)
    a = nncalc.backprop(load(layered))
    b = nncalc.backprop(load(named))
    assert a.spec.form == "layered" and b.spec.form == "named"
    # rounding differs between the forms: keep clear of jumps and kinks
    assume(kink_distance(a) > 1e-9)

    close(b.loss, a.loss, "loss")
    close(b.loss_after, a.loss_after, "loss_after")
    for layer in layered["layers"]:
        for name in layer["names"]:
            close(b.pre_activation(name), a.pre_activation(name), f"a of {name}")
            close(b.activation(name), a.activation(name), f"z of {name}")
            close(b.delta(name), a.delta(name), f"δ of {name}")
    for name in a.spec.outputs:
        close(b.outputs[name], a.outputs[name], f"output {name}")
    close(b.input_gradient, a.input_gradient, "input gradients")
    assert a.updated is not None and b.updated is not None
    for k, layer in enumerate(layered["layers"], start=1):
        for kind, shape in (("W", 2), ("b", 1)):
            if kind == "b" and layer.get("bias") is None:
                continue
            for per_param, per_name in ((a.gradients, b.gradients), (a.updated, b.updated)):
                block = np.asarray(per_param[f"{kind}{k}"])
                assert block.ndim == shape
                for index in np.ndindex(block.shape):
                    name = f"{kind}{k}_" + "_".join(str(i + 1) for i in index)
                    close(per_name[name], block[index], name)


# --- shared params --------------------------------------------------------------------------


def untied(data: SpecData, param: str) -> tuple[SpecData, list[str]]:
    """Every use of `param` given its own param with the same value."""
    out = copy.deepcopy(data)
    value = out["params"].pop(param)
    copies: list[str] = []
    for neuron in out["neurons"].values():
        for source, weight in neuron["from"].items():
            if weight == param:
                copies.append(f"{param}_{len(copies) + 1}")
                neuron["from"][source] = copies[-1]
        if neuron.get("bias") == param:
            copies.append(f"{param}_{len(copies) + 1}")
            neuron["bias"] = copies[-1]
    for name in copies:
        out["params"][name] = value
    return out, copies


@PROPERTY_SETTINGS
@given(data=st.data())
def test_shared_param_gradient_is_the_sum_over_its_uses(data: st.DataObject) -> None:
    loss = data.draw(st.sampled_from(LOSSES))
    spec = data.draw(named_specs(data.draw(st.sampled_from(ELEMENTWISE)), loss))
    spec["learning_rate"] = 0.5
    separate, copies = untied(spec, "t")
    assert len(copies) == 2
    tied = nncalc.backprop(load(spec))
    apart = nncalc.backprop(load(separate))
    assume(kink_distance(tied) > 1e-9)

    close(tied.loss, apart.loss, "loss")
    g_tied = tied.gradients["t"]
    g_apart = [apart.gradients[c] for c in copies]
    assert isinstance(g_tied, float)
    assert all(isinstance(g, float) for g in g_apart)
    assert g_tied == pytest.approx(sum(g_apart), rel=1e-12, abs=1e-15)
    for name in spec["params"]:
        if name != "t":
            close(tied.gradients[name], apart.gradients[name], name)
    close(tied.input_gradient, apart.input_gradient, "input gradients")
    assert tied.updated is not None
    assert tied.updated["t"] == pytest.approx(spec["params"]["t"] - 0.5 * sum(g_apart), abs=1e-14)


# --- frozen params, the learning rate and loss_after ---------------------------------------------


def with_params(data: SpecData, params: dict[str, Any]) -> SpecData:
    """The spec with every param replaced by the value in `params` (named or layered)."""
    out = copy.deepcopy(data)
    out.pop("frozen", None)
    if "layers" in out:
        for k, layer in enumerate(out["layers"], start=1):
            layer["weights"] = np.asarray(params[f"W{k}"]).tolist()
            if layer.get("bias") is not None:
                layer["bias"] = np.asarray(params[f"b{k}"]).tolist()
    else:
        out["params"] = {name: float(params[name]) for name in out["params"]}
    return out


@st.composite
def frozen_specs(draw: st.DrawFn) -> SpecData:
    spec = draw(any_specs())
    names = list(load(spec).params)
    spec["frozen"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    return spec


@PROPERTY_SETTINGS
@given(spec=frozen_specs(), lr=magnitudes(0.01, 2.0))
def test_frozen_params_keep_their_value(spec: SpecData, lr: float) -> None:
    spec["learning_rate"] = lr
    result = nncalc.backprop(load(spec))  # the spec's own learning rate
    unfrozen = copy.deepcopy(spec)
    del unfrozen["frozen"]
    free = nncalc.backprop(load(unfrozen))
    assert result.learning_rate == lr
    assert result.updated is not None
    for name, before in result.params.items():
        gradient = np.asarray(result.gradients[name])
        after = np.asarray(result.updated[name])
        # freezing changes no gradient (it is still reported) …
        np.testing.assert_array_equal(gradient, np.asarray(free.gradients[name]), err_msg=name)
        if name in spec["frozen"]:
            np.testing.assert_array_equal(after, np.asarray(before), err_msg=name)  # … nor θ
        else:
            expected = np.asarray(before) - lr * gradient
            np.testing.assert_allclose(after, expected, rtol=1e-15, atol=1e-15, err_msg=name)
    assert result.loss_after is not None
    assert result.loss_after == pytest.approx(loss_of(with_params(spec, result.updated)), rel=1e-12)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_learning_rate_zero_changes_nothing(data: st.DataObject) -> None:
    spec = data.draw(any_specs())
    original = load(spec).params
    result = nncalc.backprop(load(spec), lr=0)
    assert result.learning_rate == 0
    assert result.updated is not None
    for name, before in original.items():
        np.testing.assert_array_equal(np.asarray(result.updated[name]), np.asarray(before))
    assert result.loss_after == result.loss


@PROPERTY_SETTINGS
@given(data=st.data())
def test_loss_after_is_the_loss_of_the_updated_params(data: st.DataObject) -> None:
    spec = data.draw(any_specs())
    lr = data.draw(magnitudes(0.01, 2.0))
    result = nncalc.backprop(load(spec), lr=lr)
    assert result.updated is not None and result.loss_after is not None
    rebuilt = with_params(spec, result.updated)
    assert result.loss_after == pytest.approx(loss_of(rebuilt), rel=1e-12, abs=1e-300)
    # and the step was θ − lr·∂L/∂θ for every param
    for name, before in result.params.items():
        np.testing.assert_allclose(
            np.asarray(result.updated[name]),
            np.asarray(before) - lr * np.asarray(result.gradients[name]),
            rtol=1e-15,
            atol=1e-15,
        )


def test_no_learning_rate_means_no_update() -> None:
    spec = nncalc.load_spec(
        text(
            {
                "inputs": {"x": 1.0},
                "params": {"w": 0.5},
                "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
                "target": {"o": 2.0},
            }
        )
    )
    result = nncalc.backprop(spec)
    assert result.learning_rate is None
    assert result.updated is None and result.loss_after is None
    assert result.gradients["w"] == pytest.approx(0.5 - 2.0)  # (ŷ − y)·x
    assert nncalc.backprop(spec, loss_after=False, lr=1).loss_after is None
    assert nncalc.backprop(spec, input_gradients=False).input_gradient is None


# --- batches --------------------------------------------------------------------------------


def single(data: SpecData, s: int) -> SpecData:
    """Sample `s` of a batched spec as a one-sample spec (inputs and target at the top)."""
    out = copy.deepcopy(data)
    samples = out.pop("data")
    out.pop("reduction", None)
    out.update(samples[s])
    if isinstance(out["inputs"], dict):  # the first sample's order is the column order
        out["inputs"] = {name: out["inputs"][name] for name in samples[0]["inputs"]}
    return out


@st.composite
def batched_specs(draw: st.DrawFn) -> SpecData:
    spec = draw(any_specs(batch=(2, 4)))
    assert len(spec["data"]) >= 2
    return spec


@PROPERTY_SETTINGS
@given(spec=batched_specs())
def test_mean_reduction_is_sum_over_batch_size(spec: SpecData) -> None:
    batch = len(spec["data"])
    mean = nncalc.backprop(load(spec | {"reduction": "mean"}), lr=1)
    total = nncalc.backprop(load(spec | {"reduction": "sum"}), lr=1)
    assume(kink_distance(mean) > 1e-9)
    assert mean.spec.batch_size == batch
    assert mean.loss == pytest.approx(total.loss / batch, rel=1e-12, abs=1e-15)
    for name, g in total.gradients.items():
        close(mean.gradients[name], np.asarray(g) / batch, name)
    assert mean.input_gradient is not None and total.input_gradient is not None
    close(mean.input_gradient, total.input_gradient / batch, "input gradients")
    for name in mean.spec.neuron_names:
        close(mean.delta(name), total.delta(name) / batch, f"δ of {name}")


@PROPERTY_SETTINGS
@given(spec=batched_specs())
def test_batch_gradient_is_the_mean_of_sample_gradients(spec: SpecData) -> None:
    spec = spec | {"reduction": "mean"}
    batch = len(spec["data"])
    whole = nncalc.backprop(load(spec))
    assume(kink_distance(whole) > 1e-9)
    parts = [nncalc.backprop(load(single(spec, s))) for s in range(batch)]
    assert whole.loss == pytest.approx(sum(p.loss for p in parts) / batch, rel=1e-12, abs=1e-15)
    for name, g in whole.gradients.items():
        close(g, sum(np.asarray(p.gradients[name]) for p in parts) / batch, name)
    assert whole.input_gradient is not None
    for s, part in enumerate(parts):
        assert part.input_gradient is not None
        close(whole.input_gradient[s], part.input_gradient[0] / batch, f"inputs of sample {s}")
        for name in whole.spec.neuron_names:
            close(whole.pre_activation(name)[s], part.pre_activation(name)[0], f"a of {name}")
            close(whole.activation(name)[s], part.activation(name)[0], f"z of {name}")
            close(whole.delta(name)[s], part.delta(name)[0] / batch, f"δ of {name}")


# --- kinks ------------------------------------------------------------------------------------

# h reads x1 = 1 and x2 = 1 with weights 1 and −1: a_h = 1 − 1 = 0 exactly, on the kink.
# o = 2·z_h + 0.5 (identity), y = 1, L = ½(y − ŷ)²;  ŷ = 2·f(0) + 0.5.
# δ_o = ŷ − 1;  δ_h = δ_o·2·f'(0);  ∂L/∂w1 = δ_h·x1,  ∂L/∂w2 = δ_h·x2,  ∂L/∂x1 = δ_h·w1.
KINKS = [
    # activation as written, f(0), f'(0) by the torch convention
    ("relu", 0.0, 0.0),
    ("leaky_relu", 0.0, 0.01),
    ({"name": "leaky_relu", "alpha": 0.1}, 0.0, 0.1),
    ("elu", 0.0, 1.0),
    ({"name": "elu", "alpha": 0.5}, 0.0, 0.5),
    ("sign", 0.0, 0.0),
    ("step", 1.0, 0.0),
]


def kink_spec(activation: str | dict[str, Any], form: str) -> SpecData:
    if form == "named":
        return {
            "inputs": {"x1": 1.0, "x2": 1.0},
            "params": {"w1": 1.0, "w2": -1.0, "w3": 2.0, "c": 0.5},
            "neurons": {
                "hinge": {"from": {"x1": "w1", "x2": "w2"}, "activation": activation},
                "out": {"from": {"hinge": "w3"}, "bias": "c", "activation": "identity"},
            },
            "target": {"out": 1.0},
        }
    return {
        "inputs": [1.0, 1.0],
        "layers": [
            {"weights": [[1.0, -1.0]], "activation": activation, "names": ["hinge"]},
            {"weights": [[2.0]], "bias": [0.5], "activation": "identity", "names": ["out"]},
        ],
        "target": [1.0],
    }


@pytest.mark.parametrize("form", ["named", "layered"])
@pytest.mark.parametrize(("activation", "f0", "slope"), KINKS)
def test_kink_convention(
    activation: str | dict[str, Any], f0: float, slope: float, form: str
) -> None:
    result = nncalc.backprop(load(kink_spec(activation, form)))
    assert result.pre_activation("hinge")[0] == 0.0
    assert result.activation("hinge")[0] == f0
    yhat = 2.0 * f0 + 0.5
    d_out = yhat - 1.0
    d_hinge = d_out * 2.0 * slope
    assert result.delta("hinge")[0] == pytest.approx(d_hinge, abs=1e-15)
    assert result.input_gradient is not None
    np.testing.assert_allclose(result.input_gradient, [[d_hinge * 1.0, d_hinge * -1.0]], atol=1e-15)
    if form == "named":
        assert result.gradients["w1"] == pytest.approx(d_hinge, abs=1e-15)
        assert result.gradients["w2"] == pytest.approx(d_hinge, abs=1e-15)
        assert result.gradients["w3"] == pytest.approx(d_out * f0, abs=1e-15)
    else:
        np.testing.assert_allclose(result.gradients["W1"], [[d_hinge, d_hinge]], atol=1e-15)
        np.testing.assert_allclose(result.gradients["W2"], [[d_out * f0]], atol=1e-15)
    name = activation if isinstance(activation, str) else activation["name"]
    on_kink = [w for w in result.warnings if "hinge" in w]
    assert len(on_kink) == 1, result.warnings
    assert name in on_kink[0] and "kink" in on_kink[0]
    assert not [w for w in result.warnings if "out" in w.split(":")[0]]


def test_relu_off_the_kink_gives_no_warning() -> None:
    spec = kink_spec("relu", "named")
    spec["params"]["w2"] = -0.999
    result = nncalc.backprop(load(spec))
    assert result.warnings == ()
    assert result.delta("hinge")[0] != 0.0


def test_mae_kink_convention() -> None:
    # ŷ = 0.5·2 = 1 = y exactly: |y − ŷ| has its kink there; torch takes sign(0) = 0.
    spec: SpecData = {
        "inputs": {"x": 2.0},
        "params": {"w": 0.5},
        "neurons": {"out": {"from": {"x": "w"}, "activation": "identity"}},
        "target": {"out": 1.0},
        "loss": "mae",
    }
    result = nncalc.backprop(load(spec))
    assert result.loss == 0.0
    assert result.gradients["w"] == 0.0
    assert result.delta("out")[0] == 0.0
    on_kink = [w for w in result.warnings if w.startswith("out")]
    assert len(on_kink) == 1 and "mae" in on_kink[0], result.warnings
    spec["params"]["w"] = 0.75  # ŷ = 1.5 > y: ∂L/∂w = sign(ŷ − y)·x = 2
    result = nncalc.backprop(load(spec))
    assert result.gradients["w"] == 2.0
    assert result.warnings == ()
