"""`nncalc schema`: the JSON Schema editors use to check net.yaml as it is typed.

The witness is an independent validator (jsonschema), never nncalc's own reading of the schema.
What must hold:
- the schema is valid draft 2020-12, and strict, deterministic JSON;
- it never rejects a spec nncalc accepts (an editor must not show a false error): the examples,
  the starter, many random specs in both forms, every name of every closed list;
- it rejects the bad specs of test_errors.py that are wrong in shape, and for the names of
  closed lists (activations, their parameters, losses, reductions, optimizers, their
  hyper-parameters and buffers) it says exactly what nncalc says;
- it claims nothing about references and sizes, which only nncalc can check.

YAML becomes data through nncalc's own reader (YAML 1.2, as yaml-language-server reads it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_errors import (
    BOOLEANS,
    EMPTY_SPECS,
    LAYERED,
    NAMED,
    NAN_AND_INF,
    NOT_A_MAPPING,
    UNKNOWN_TAGS,
    YAML_1_1_BOOLEANS,
    YAML_1_1_NUMBER_FORMS,
    YAML_1_2_NUMBERS,
)
from test_gradients import any_specs
from typer.testing import CliRunner

from nncalc import activations, losses, optim, spec
from nncalc.cli import app
from nncalc.errors import SpecError
from nncalc.schema import schema_text, spec_schema
from nncalc.starter import STARTER
from nncalc.yamlio import parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.stem.endswith("answers"))
SCHEMA = spec_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
runner = CliRunner()


def data(text: str) -> Any:
    """The YAML text as plain data, read as nncalc reads a spec."""
    return parse(text, "net.yaml").data


def schema_accepts(text: str) -> bool:
    return VALIDATOR.is_valid(data(text))


def nncalc_accepts(text: str) -> bool:
    try:
        spec.validate(parse(text, "net.yaml"))
    except SpecError:
        return False
    return True


def assert_both_accept(text: str) -> None:
    assert nncalc_accepts(text), text
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(data(text))]
    assert not errors, "\n".join([text, *errors])


def assert_agree(text: str) -> None:
    """The schema and nncalc give the same verdict."""
    assert schema_accepts(text) == nncalc_accepts(text), text


# --- the schema itself ----------------------------------------------------------------------------


def test_the_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _reject_constant(name: str) -> None:
    raise AssertionError(f"not strict JSON: {name}")


def test_the_text_is_strict_deterministic_json_ending_in_a_newline() -> None:
    text = schema_text()
    assert text.endswith("}\n")
    assert json.loads(text, parse_constant=_reject_constant) == SCHEMA
    assert schema_text() == text


def test_lists_whose_order_means_nothing_are_sorted() -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("enum", "required"):
                    assert value == sorted(value), (key, value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(SCHEMA)


def test_every_property_has_a_description() -> None:
    """Editors show descriptions as hover help. Conditions (if/then/else) only narrow what a
    property allows, and `false` forbids a key: neither describes anything."""
    missing: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")
        elif isinstance(node, dict):
            for name, value in node.get("properties", {}).items():
                if isinstance(value, dict) and "description" not in value:
                    missing.append(f"{path}/properties/{name}")
            for key, value in node.items():
                if key not in ("if", "then", "else"):
                    walk(value, f"{path}/{key}")

    walk(SCHEMA, "")
    assert not missing, missing


def test_the_forms_have_exactly_the_validators_keys() -> None:
    named, layered = SCHEMA["oneOf"]
    assert list(named["properties"]) == list(spec.NAMED_KEYS)
    assert list(layered["properties"]) == list(spec.LAYERED_KEYS)
    neuron = named["properties"]["neurons"]["additionalProperties"]
    assert list(neuron["properties"]) == list(spec.NEURON_KEYS)
    layer = layered["properties"]["layers"]["items"]
    assert list(layer["properties"]) == list(spec.LAYER_KEYS)
    for form in (named, layered):
        sample = form["properties"]["data"]["items"]
        assert list(sample["properties"]) == list(spec.SAMPLE_KEYS)


def test_nncalc_schema_does_not_need_the_validator() -> None:
    """jsonschema is a test dependency only."""
    code = (
        "import sys; from nncalc.schema import schema_text; schema_text(); "
        "assert 'jsonschema' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the command ----------------------------------------------------------------------------------


def test_the_command_prints_the_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == schema_text()
    assert result.stderr == ""


def test_the_command_writes_a_file_and_never_replaces_one_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["schema", "-o", "nncalc.schema.json"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "wrote nncalc.schema.json" in result.stderr
    assert "# yaml-language-server: $schema=nncalc.schema.json" in result.stderr
    written = Path("nncalc.schema.json")
    assert written.read_text(encoding="utf-8") == schema_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nncalc.schema.json"]  # no temporary

    written.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["schema", "--output", "nncalc.schema.json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nncalc.schema.json: exists; give --force" in result.stderr
    assert written.read_text(encoding="utf-8") == "mine\n"

    result = runner.invoke(app, ["schema", "-o", "nncalc.schema.json", "--force"])
    assert result.exit_code == 0, result.stderr
    assert written.read_text(encoding="utf-8") == schema_text()


def test_force_without_output_is_a_usage_error() -> None:
    result = runner.invoke(app, ["schema", "--force"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--force" in result.stderr


# --- no false errors --------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_valid(path: Path) -> None:
    assert_both_accept(path.read_text(encoding="utf-8"))


def test_there_are_examples_in_both_forms() -> None:
    forms = {"layers" in data(p.read_text(encoding="utf-8")) for p in EXAMPLES}
    assert forms == {True, False}


def test_the_starter_is_valid() -> None:
    result = runner.invoke(app, ["init", "-"])
    assert result.exit_code == 0
    assert result.stdout == STARTER
    assert_both_accept(result.stdout)


# From test_errors.py: specs nncalc accepts.
VALID = {
    "named": NAMED,
    "layered": LAYERED,
    "yaml-1.2-numbers": YAML_1_2_NUMBERS,
    "no-target-for-output-loss": NAMED.replace("target: {o: 6}\n", "loss: output\n"),
    "reordered-sample-inputs": (  # test_samples_with_reordered_inputs_are_fine
        "params: {w1: 2, w2: 1}\n"
        "neurons:\n"
        "  o: {from: {x1: w1, x2: w2}, activation: identity}\n"
        "data:\n"
        "  - {inputs: {x1: 1, x2: 2}, target: {o: 1}}\n"
        "  - {inputs: {x2: 2, x1: 1}, target: {o: 1}}\n"
    ),
    # More that the shapes allow:
    "fractions-everywhere": NAMED.replace("x1: 1,", 'x1: "1/3",')
    .replace("w1: 2,", "w1: -2/7,")
    .replace("activation: relu", "bias: 1/2, activation: {name: leaky_relu, alpha: 1/10}")
    + 'learning_rate: "1/2"\n',
    "nulls-where-allowed": NAMED
    + "title: null\noutputs: null\nfrozen: null\nlearning_rate: null\noptimizer: null\n"
    + "state: null\n",
    "layered-nulls": LAYERED.replace("    names: [h1, h2]", "    names: null").replace(
        "    activation: identity", "    activation: identity\n    bias: null"
    ),
    "layered-mappings": LAYERED.replace("inputs: [1, 2]", "inputs: {a: 1, b: 2}").replace(
        "target: [1]", "target: {o1: 1}"
    ),
    "title-number": NAMED + "title: 3\n",
    "softmax-layer": LAYERED.replace("activation: identity", "activation: softmax"),
    "output-loss-with-null-target": NAMED.replace("target: {o: 6}", "target: null\nloss: output"),
    "state-without-optimizer": NAMED + "state: {step: 0, exp_avg: {w1: 0, w2: 0.5}}\n",
    "layered-state": LAYERED
    + "optimizer: {name: adam, beta1: 0.8}\n"
    + "state:\n  step: 2\n  exp_avg:\n    W1: [[1, 2], [3, 4]]\n    b1: [0, 0]\n"
    + "    W2: [[1, 1]]\n  exp_avg_sq: {W1: [[1, 2], [3, 4]], b1: [0, 0], W2: [[1, 1]]}\n",
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_valid_specs_are_valid(text: str) -> None:
    assert_both_accept(text)


def _fraction(value: float) -> str:
    near = Fraction(value).limit_denominator(1000)
    return f"{near.numerator}/{near.denominator}"


def _param_names(spec_data: dict[str, Any]) -> dict[str, Any]:
    """Param name → a buffer value of its shape (non-negative: squares are buffers too)."""
    if "params" in spec_data:
        return dict.fromkeys(spec_data["params"], 0.5)
    out: dict[str, Any] = {}
    for k, layer in enumerate(spec_data["layers"], start=1):
        out[f"W{k}"] = [[0.5 for _ in row] for row in layer["weights"]]
        if layer.get("bias") is not None:
            out[f"b{k}"] = [0.5 for _ in layer["bias"]]
    return out


@st.composite
def written_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid spec (test_gradients' strategy), written the many ways nncalc accepts:
    aliases, "p/q" numbers, a title, a learning rate, frozen params, an optimizer and its state.
    """
    out = draw(any_specs())

    def numbers(node: Any) -> Any:
        if isinstance(node, float) and draw(st.integers(0, 3)) == 0:
            return _fraction(node)
        if isinstance(node, list):
            return [numbers(item) for item in node]
        if isinstance(node, dict):
            return {key: numbers(value) for key, value in node.items()}
        return node

    def alias(name: str, aliases: dict[str, str]) -> str:
        return draw(st.sampled_from([name, *(a for a, n in aliases.items() if n == name)]))

    out = numbers(out)
    for unit in [*out.get("neurons", {}).values(), *out.get("layers", [])]:
        if isinstance(unit["activation"], str):
            unit["activation"] = alias(unit["activation"], activations.ALIASES)
        else:
            unit["activation"]["name"] = alias(unit["activation"]["name"], activations.ALIASES)
    out["loss"] = alias(out["loss"], losses.ALIASES)
    printable = st.characters(categories=["L", "N", "P", "S"]) | st.just(" ")
    out["title"] = draw(st.none() | st.text(printable, max_size=20) | st.integers(-5, 5))
    out["learning_rate"] = draw(
        st.none() | st.floats(0, 10) | st.integers(0, 3) | st.just("1/3") | st.just("+2/4")
    )
    params = _param_names(out)
    out["frozen"] = draw(st.lists(st.sampled_from(sorted(params)), max_size=2, unique=True))
    name = draw(st.none() | st.sampled_from(sorted(optim.OPTIMIZERS)))
    if name is not None:
        chosen = optim.OPTIMIZERS[name]
        given_hyper = draw(st.lists(st.sampled_from(sorted(chosen.defaults)), unique=True))
        out["optimizer"] = (
            {"name": name, **{h: chosen.defaults[h] for h in given_hyper}}
            if draw(st.booleans())
            else name
        )
    buffers = (
        optim.OPTIMIZERS[name].buffers
        if name is not None
        else sorted({b for o in optim.OPTIMIZERS.values() for b in o.buffers})
    )
    if draw(st.booleans()):
        kept = draw(st.lists(st.sampled_from(buffers), unique=True)) if buffers else []
        out["state"] = {"step": draw(st.integers(0, 5)), **dict.fromkeys(kept, params)}
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_specs())
def test_random_valid_specs_are_valid(spec_data: dict[str, Any]) -> None:
    assert_both_accept(json.dumps(spec_data, ensure_ascii=False))  # JSON: YAML's flow style


# --- closed lists: the schema says what nncalc says -------------------------------------------


def _activation_names() -> list[str]:
    return sorted({*activations.REGISTRY, *activations.ALIASES})


@pytest.mark.parametrize("name", [*_activation_names(), "rleu", "Relu"])
def test_activation_names(name: str) -> None:
    assert_agree(NAMED.replace("activation: relu", f"activation: {name}"))
    assert_agree(LAYERED.replace("activation: relu", f"activation: {name}"))
    assert_agree(NAMED.replace("activation: relu", f"activation: {{name: {name}}}"))
    assert_agree(LAYERED.replace("activation: relu", f"activation: {{name: {name}}}"))


def test_softmax_is_rejected_by_both_in_the_named_form_only() -> None:
    named = NAMED.replace("activation: relu", "activation: softmax")
    layered = LAYERED.replace("activation: relu", "activation: softmax")
    assert (schema_accepts(named), nncalc_accepts(named)) == (False, False)
    assert (schema_accepts(layered), nncalc_accepts(layered)) == (True, True)


@pytest.mark.parametrize("name", _activation_names())
@pytest.mark.parametrize(
    "parameter",
    [*sorted({p for c in activations.REGISTRY.values() for p in c.defaults}), "alpah", "beta"],
)
def test_activation_parameters(name: str, parameter: str) -> None:
    written = f"activation: {{name: {name}, {parameter}: 0.5}}"
    assert_agree(NAMED.replace("activation: relu", written))
    assert_agree(LAYERED.replace("activation: relu", written))


def test_an_activation_mapping_needs_its_name() -> None:
    text = NAMED.replace("activation: relu", "activation: {alpha: 0.1}")
    assert (schema_accepts(text), nncalc_accepts(text)) == (False, False)


@pytest.mark.parametrize(
    "name", [*sorted({*losses.REGISTRY, *losses.ALIASES}), "bec", "MSE", "null", "1"]
)
def test_loss_names(name: str) -> None:
    assert_agree(NAMED + f"loss: {name}\n")
    assert_agree(NAMED.replace("target: {o: 6}\n", f"loss: {name}\n"))  # needs a target?
    assert_agree(LAYERED.replace("target: [1]\n", f"loss: {name}\n"))


@pytest.mark.parametrize("name", [*spec.REDUCTIONS, "avg", "Mean", "null"])
def test_reductions(name: str) -> None:
    assert_agree(NAMED + f"reduction: {name}\n")


def _hyper_parameters() -> list[str]:
    return sorted({h for o in optim.OPTIMIZERS.values() for h in o.defaults})


@pytest.mark.parametrize("name", [*sorted(optim.OPTIMIZERS), "Adam", "adagrad", "1"])
def test_optimizer_names(name: str) -> None:
    assert_agree(NAMED + f"optimizer: {name}\n")
    assert_agree(NAMED + f"optimizer: {{name: {name}}}\n")


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
@pytest.mark.parametrize("hyper", [*_hyper_parameters(), "lr", "beta"])
def test_optimizer_hyper_parameters(name: str, hyper: str) -> None:
    value = optim.OPTIMIZERS[name].defaults.get(hyper, 0.5)  # in range where it is allowed
    assert_agree(NAMED + f"optimizer: {{name: {name}, {hyper}: {value}}}\n")


def _buffers() -> list[str]:
    return sorted({b for o in optim.OPTIMIZERS.values() for b in o.buffers})


@pytest.mark.parametrize("name", [None, *sorted(optim.OPTIMIZERS)])
@pytest.mark.parametrize("buffer", [*_buffers(), "momentum_buffer"])
def test_state_buffers(name: str | None, buffer: str) -> None:
    state = f"state: {{step: 1, {buffer}: {{w1: 0.25, w2: 1}}}}\n"
    chosen = "" if name is None else f"optimizer: {name}\n"
    assert_agree(NAMED + chosen + state)
    if name is not None:
        assert_agree(NAMED + f"optimizer: {{name: {name}}}\n" + state)


# --- shape errors: the schema rejects them ------------------------------------------------------


def _replaced(old: str, new: str) -> str:
    text = NAMED.replace(old, new)
    assert text != NAMED, old
    return text


SHAPE_ERRORS = [
    *(pytest.param(p.values[0], id=f"empty-{p.id}") for p in EMPTY_SPECS),
    *(pytest.param(text, id=f"top-level-{kind}") for text, kind in NOT_A_MAPPING),
    pytest.param(
        NAMED + "layers:\n  - weights: [[1]]\n    activation: relu\n", id="neurons-and-layers"
    ),
    pytest.param("inputs: {x1: 1}\ntarget: {o: 1}\n", id="neither-neurons-nor-layers"),
    pytest.param(NAMED + "learning_rat: 0.1\n", id="unknown-top-level-key"),
    pytest.param(NAMED + "title: true\n", id="title-boolean"),
    pytest.param(
        LAYERED.replace("    names: [h1, h2]", "    nmaes: [h1, h2]"), id="unknown-layer-key"
    ),
    *(
        pytest.param(_replaced("{x1: 1, x2: 2}", f"{{x1: {word}, x2: 2}}"), id=f"text-{word}")
        for word in YAML_1_1_BOOLEANS
    ),
    *(pytest.param(_replaced(*p.values[:2]), id=f"boolean-{p.id}") for p in BOOLEANS),
    pytest.param(NAMED + "learning_rate: true\n", id="boolean-learning-rate"),
    *(
        pytest.param(_replaced("x1: 1,", f"x1: {word},"), id=f"text-{word}")
        for word in YAML_1_1_NUMBER_FORMS
    ),
    pytest.param(_replaced("activation: relu", "activation: rleu"), id="unknown-activation"),
    pytest.param(
        LAYERED.replace("activation: identity", "activation: sigmod"),
        id="unknown-layer-activation",
    ),
    pytest.param(
        _replaced("activation: relu", "activation: {name: leaky_relu, alpah: 0.1}"),
        id="unknown-activation-parameter",
    ),
    pytest.param(
        _replaced("activation: relu", "activation: {name: relu, alpha: 0.1}"),
        id="parameter-of-relu",
    ),
    pytest.param(_replaced("activation: relu", "activation: softmax"), id="softmax-named"),
    pytest.param(NAMED + "loss: half_squared_eror\n", id="unknown-loss"),
    pytest.param(NAMED + "loss: bec\n", id="unknown-loss-near-an-alias"),
    pytest.param(_replaced("target: {o: 6}\n", ""), id="missing-target"),
    pytest.param(
        "neurons:\n"
        "  o: {from: {x1: 1}, activation: relu}\n"
        "data:\n"
        "  - {inputs: {x1: 1}, target: {o: 1}}\n"
        "  - {inputs: {x1: 2}}\n",
        id="missing-target-in-a-sample",
    ),
    pytest.param(NAMED + "learning_rate: -0.5\n", id="negative-learning-rate"),
    pytest.param(
        "inputs: {x1: 1}\n"
        "params: {w1: 2}\n"
        "neurons:\n"
        "  o: {from: {x1: w1}, activation: rleu}\n"
        "target: {o: 6}\n"
        "loss: squared_eror\n"
        "learning_rate: -1\n"
        "frozen: [w]\n",
        id="several-at-once",
    ),
    pytest.param(
        "inputs: {" + ", ".join(f"x{i}: yes" for i in range(1, 61)) + "}\n"
        "neurons:\n"
        "  o: {from: {" + ", ".join(f"x{i}: 1" for i in range(1, 61)) + "}, activation: relu}\n"
        "target: {o: 1}\n",
        id="many-at-once",
    ),
    # Beyond test_errors.py: more of what a shape can say.
    pytest.param(_replaced("target: {o: 6}", "target: null"), id="null-target"),
    pytest.param(
        NAMED + "data: [{inputs: {x1: 1, x2: 2}, target: {o: 1}}]\n", id="data-and-inputs"
    ),
    pytest.param(_replaced("inputs: {x1: 1, x2: 2}\n", ""), id="missing-inputs"),
    pytest.param(_replaced("{from: {x1: w1, x2: w2}, ", "{"), id="missing-from"),
    pytest.param(_replaced(", activation: relu", ""), id="missing-activation"),
    pytest.param(_replaced("{x1: w1, x2: w2}", "{}"), id="no-sources"),
    pytest.param(_replaced("activation: relu", "activation: relu, bais: 1"), id="neuron-key"),
    pytest.param(_replaced("activation: relu", "bias: null, activation: relu"), id="null-bias"),
    pytest.param(_replaced("x1: w1", 'x1: "w 1"'), id="weight-with-a-space"),
    pytest.param(_replaced("x1: 1,", 'x1: "0.5",'), id="quoted-decimal"),
    pytest.param(NAMED + "outputs: []\n", id="no-outputs"),
    pytest.param(NAMED + "outputs: [o, o]\n", id="output-twice"),
    pytest.param(NAMED + "outputs: o\n", id="outputs-not-a-list"),
    pytest.param(NAMED + "frozen: [1]\n", id="frozen-number"),
    pytest.param(NAMED + 'title: "a\\tb"\n', id="title-control-character"),
    pytest.param(NAMED + "title: [a]\n", id="title-list"),
    pytest.param(NAMED + "optimizer: {name: adam, momentum: 0.9}\n", id="hyper-of-another"),
    pytest.param(NAMED + "optimizer: {beta1: 0.9}\n", id="optimizer-without-name"),
    pytest.param(NAMED + "state: {velocity: {w1: 0, w2: 0}}\n", id="state-without-step"),
    pytest.param(NAMED + "state: {step: -1}\n", id="negative-step"),
    pytest.param(
        NAMED + "optimizer: sgd\nstate: {step: 1, velocity: {w1: 0, w2: 0}}\n",
        id="buffer-sgd-does-not-keep",
    ),
    pytest.param(LAYERED.replace("[[1, -1]]", "[]"), id="no-rows"),
    pytest.param(LAYERED.replace("[[1, -1]]", "[[]]"), id="empty-row"),
    pytest.param(LAYERED.replace("[[1, -1]]", "[1, -1]"), id="weights-a-vector"),
    pytest.param(LAYERED.replace("names: [h1, h2]", "names: [h1, h1]"), id="name-twice"),
    pytest.param("inputs: [1]\nlayers: []\ntarget: [1]\n", id="no-layers"),
    pytest.param("layers:\n  - weights: [[1]]\n    activation: relu\ndata: []\n", id="no-samples"),
    pytest.param(
        LAYERED.replace("inputs: [1, 2]\n", "").replace("target: [1]\n", "")
        + "data: [{inputs: [1, 2], target: [1], weight: 2}]\n",
        id="sample-key",
    ),
    pytest.param(_replaced("w1: 2,", '"w\\a1": 2,'), id="control-character-in-a-name"),
    pytest.param(_replaced("x1: 1,", 'x1: "1/0",'), id="zero-denominator"),
    pytest.param(_replaced("w1: 2,", "w1: -3/00,"), id="zero-denominator-plain"),
    pytest.param(NAMED + 'learning_rate: "-1/2"\n', id="negative-fraction-learning-rate"),
    pytest.param(NAMED + "state: {step: 1, velocity: {w1: [0], w2: 0}}\n", id="named-buffer-list"),
    pytest.param(
        LAYERED + "state: {step: 1, velocity: {W1: 0, b1: [0, 0], W2: [[0, 0]]}}\n",
        id="layered-buffer-number",
    ),
]


@pytest.mark.parametrize("text", SHAPE_ERRORS)
def test_shape_errors_are_rejected_by_both(text: str) -> None:
    assert not nncalc_accepts(text)
    assert not schema_accepts(text), text


FRACTION_LIKE = [
    *("1/3", "-2/7", "+2/4", "0/5", "-0/5", "1/00010", "007/1", "1/0", "-1/000", "1/-3", "+-1/2"),
    *("1//2", "1/2/3", "1.5/2", "/2", "1/", "1/2e3", "x1/2", " 1/2", "1/2 ", "1 /2"),
]


@pytest.mark.parametrize("text", FRACTION_LIKE)
def test_fractions_are_what_nncalc_reads(text: str) -> None:
    """Wherever a number or a learning rate belongs, a string is valid for the schema exactly
    when nncalc reads it as a fraction: a zero denominator, or a negative rate, is refused."""
    assert_agree(_replaced("x1: 1,", f'x1: "{text}",'))
    assert_agree(_replaced("w1: 2,", f'w1: "{text}",'))
    assert_agree(NAMED + f'learning_rate: "{text}"\n')


def test_a_buffer_has_the_shape_of_its_form() -> None:
    """A named param's buffer value is a number; a layered param's, a vector or matrix."""
    assert_both_accept(NAMED + "state: {step: 1, velocity: {w1: 0, w2: 0.5}}\n")
    assert_both_accept(
        LAYERED + "state: {step: 1, velocity: {W1: [[0, 0], [0, 0]], b1: [0, 0], W2: [[0, 0]]}}\n"
    )


# --- what only nncalc can see: the schema does not claim it --------------------------------------

NOT_CLAIMED = [
    # YAML-level problems the reader reports; the data itself has a valid shape.
    pytest.param(NAMED + "params: {w1: 3, w2: 4}\n", id="duplicate-key"),
    pytest.param(_replaced("{x1: w1, x2: w2}", "{x1: w1, x1: w2}"), id="duplicate-nested-key"),
    *(pytest.param(_replaced("x1: 1,", f"x1: {tag} 1,"), id=f"tag-{tag}") for tag in UNKNOWN_TAGS),
    # .nan and .inf are YAML floats: JSON has no such numbers, so no schema can tell them apart.
    *(pytest.param(_replaced(*p.values[:2]), id=f"not-finite-{p.id}") for p in NAN_AND_INF),
    # References: a name must name something declared elsewhere in the spec.
    pytest.param(_replaced("x2: w2}", "x3: w2}"), id="unknown-source"),
    pytest.param(_replaced("x2: w2}", "xx2: w2}"), id="unknown-source-typo"),
    pytest.param(_replaced("x2: w2}", "x2: w22}"), id="unknown-param-in-a-weight"),
    pytest.param(_replaced("activation: relu", "bias: b, activation: relu"), id="unknown-bias"),
    pytest.param(
        "inputs: {x1: 1}\n"
        "params: {w1: 2}\n"
        "neurons:\n"
        "  a: {from: {x1: w1, c: 1}, activation: relu}\n"
        "  b: {from: {a: 1}, activation: relu}\n"
        "  c: {from: {b: 1}, activation: relu}\n"
        "  o: {from: {c: 1}, activation: relu}\n"
        "target: {o: 6}\n",
        id="cycle",
    ),
    pytest.param(
        "inputs: {x1: 1}\n"
        "neurons:\n"
        "  h: {from: {x1: 1}, activation: relu}\n"
        "  o: {from: {h: 1, o: 0.5}, activation: relu}\n"
        "target: {o: 6}\n",
        id="self-loop",
    ),
    pytest.param(_replaced("target: {o: 6}", "target: {o: 6, p: 1}"), id="target-names-no-output"),
    pytest.param(NAMED + "frozen: [w1, w3]\n", id="frozen-unknown-param"),
    pytest.param(NAMED + "outputs: [h]\n", id="output-names-no-neuron"),
    pytest.param(
        "params: {w1: 2, w2: 1}\n"
        "neurons:\n"
        "  o: {from: {x1: w1, x2: w2}, activation: relu}\n"
        "data:\n"
        "  - {inputs: {x1: 1, x2: 2}, target: {o: 1}}\n"
        "  - {inputs: {x1: 1, x3: 2}, target: {o: 1}}\n",
        id="sample-inputs-differ",
    ),
    # Sizes: rows, columns, biases, names, inputs and targets must agree.
    pytest.param(LAYERED.replace("[[1, 2], [3, 4]]", "[[1, 2], [3]]"), id="ragged-rows"),
    pytest.param(LAYERED.replace("[[1, -1]]", "[[1, -1, 2]]"), id="columns-vs-layer-before"),
    pytest.param(LAYERED.replace("bias: [0.5, -0.5]", "bias: [0.5, -0.5, 1]"), id="bias-size"),
    pytest.param(LAYERED.replace("names: [h1, h2]", "names: [h1]"), id="names-size"),
    pytest.param(LAYERED.replace("inputs: [1, 2]", "inputs: [1, 2, 3]"), id="inputs-size"),
    pytest.param(LAYERED.replace("target: [1]", "target: [1, 0]"), id="target-size"),
    pytest.param(
        "layers:\n"
        "  - weights: [[1, 2]]\n"
        "    activation: relu\n"
        "data:\n"
        "  - {inputs: [1, 2], target: [1]}\n"
        "  - {inputs: [1, 2, 3], target: [1]}\n",
        id="sample-sizes-differ",
    ),
    pytest.param(NAMED + "state: {step: 1, velocity: {w1: 0}}\n", id="buffer-misses-a-param"),
    # Ranges that depend on the optimizer or on a buffer's meaning.
    pytest.param(NAMED + "optimizer: {name: adam, beta1: 1.5}\n", id="hyper-out-of-range"),
    pytest.param(NAMED + "optimizer: {name: momentum}\nstate: {step: 1.0}\n", id="step-1.0"),
]


@pytest.mark.parametrize("text", NOT_CLAIMED)
def test_what_only_nncalc_can_see_is_not_claimed(text: str) -> None:
    assert not nncalc_accepts(text)
    assert schema_accepts(text), text
