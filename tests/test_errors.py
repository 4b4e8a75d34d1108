"""Bad input: every kind of mistake in a spec (or on the command line) exits with 2, writes nothing
to standard output, and reports each problem as FILE:LINE:COLUMN: message — at the exact 1-based
place, saying what is wrong, what is allowed and the closest match — without a traceback.

Each spec below holds one mistake unless the test says otherwise, so it must give one problem:
a follow-on complaint about something that is not wrong would send the reader on a wild goose
chase.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from nncalc.cli import app

FILE = "net.yaml"
LOCATED = re.compile(r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)")

runner = CliRunner()


@dataclass(frozen=True)
class Reported:
    file: str
    line: int
    column: int
    message: str


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder, so messages name the file as 'net.yaml'."""
    monkeypatch.chdir(tmp_path)


def write(text: str | bytes, name: str = FILE) -> Path:
    path = Path(name)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def assert_rejected(result: Result) -> list[str]:
    """Exit 2, nothing on stdout, no traceback; the problem lines of stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines, "nothing on stderr"
    return lines


def problems(text: str | bytes, *, command: str = "backprop", name: str = FILE) -> list[Reported]:
    """Write `text`, run `command` on it and parse every reported problem."""
    write(text, name)
    lines = assert_rejected(run(command, name))
    out: list[Reported] = []
    for line in lines:
        match = LOCATED.fullmatch(line)
        assert match, f"not FILE:LINE:COLUMN: message: {line!r}"
        out.append(
            Reported(match["file"], int(match["line"]), int(match["column"]), match["message"])
        )
    return out


def position(text: str, line: int, token: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column), 1-based, of the `occurrence`-th `token` on `line` of `text`."""
    row = text.splitlines()[line - 1]
    start = -1
    for _ in range(occurrence):
        start = row.index(token, start + 1)
    return line, start + 1


def only(text: str | bytes, **kwargs: str) -> Reported:
    """The one problem of a spec holding one mistake."""
    found = problems(text, **kwargs)
    assert len(found) == 1, "expected one problem, got:\n" + "\n".join(map(str, found))
    return found[0]


def assert_at(problem: Reported, where: tuple[int, int], *words: str, file: str = FILE) -> None:
    assert problem.file == file
    assert (problem.line, problem.column) == where, problem
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"


def find(found: list[Reported], word: str) -> Reported:
    matches = [p for p in found if word in p.message]
    assert matches, f"no problem mentions {word!r}: {found}"
    return matches[0]


NAMED = """\
inputs: {x1: 1, x2: 2}
params: {w1: 2, w2: 1}
neurons:
  o: {from: {x1: w1, x2: w2}, activation: relu}
target: {o: 6}
"""

LAYERED = """\
inputs: [1, 2]
layers:
  - weights: [[1, 2], [3, 4]]
    bias: [0.5, -0.5]
    activation: relu
    names: [h1, h2]
  - weights: [[1, -1]]
    activation: identity
target: [1]
"""


def test_the_base_specs_are_valid() -> None:
    """The specs the tests below break are fine as written."""
    for text in (NAMED, LAYERED):
        write(text)
        result = run("backprop", FILE)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""


# --- the file as a whole ------------------------------------------------------------------------


def test_missing_file() -> None:
    result = run("backprop", "nope.yaml")
    assert assert_rejected(result) == ["nope.yaml: no such file"]


def test_a_directory() -> None:
    Path("specs").mkdir()
    (line,) = assert_rejected(run("forward", "specs"))
    assert line.startswith("specs: "), line
    assert "directory" in line
    assert not LOCATED.fullmatch(line)


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    """A 50 MB file (sparse: the size is checked before a byte is read) is refused at once,
    naming the limit and the variable that raises it; nothing is printed."""
    with open(FILE, "wb") as f:
        f.truncate(50 * 2**20)
    (line,) = assert_rejected(run("backprop", FILE))
    assert line.startswith(f"{FILE}: larger than 16 MB"), line
    assert "NNCALC_MAX_FILE_MB" in line


def test_the_size_limit_is_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    text = NAMED + "# " + "x" * 3000 + "\n"
    write(text)
    monkeypatch.setenv("NNCALC_MAX_FILE_MB", "0.002")  # 2 097 bytes
    (line,) = assert_rejected(run("backprop", FILE))
    assert line.startswith(f"{FILE}: larger than 0.002 MB"), line
    (line,) = assert_rejected(run("backprop", "-", stdin=text))  # a stream is counted as read
    assert line.startswith("<stdin>: larger than 0.002 MB"), line
    monkeypatch.setenv("NNCALC_MAX_FILE_MB", "0.003")  # 3 145 bytes: enough
    assert run("backprop", FILE).exit_code == 0


@pytest.mark.parametrize("value", ["lots", "0", "-1", "nan", "inf"])
def test_a_bad_size_limit_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write(NAMED)
    monkeypatch.setenv("NNCALC_MAX_FILE_MB", value)
    assert assert_rejected(run("forward", FILE)) == [
        f"<environment>: NNCALC_MAX_FILE_MB={value}: expected a positive number of megabytes"
    ]


def test_non_utf8_bytes_at_the_bad_byte() -> None:
    raw = b"inputs: {x1: 1}\ntitle: caf\xe9 net\n"
    problem = only(raw)
    assert_at(problem, (2, 11), "UTF-8")


def test_non_utf8_column_counts_characters() -> None:
    """Columns count characters everywhere else (YAML positions), so here too: 'ŷ' is one."""
    raw = "inputs: {x1: 1}\ntitle: ŷ ".encode() + b"\xff\n"
    assert_at(only(raw), (2, 10), "UTF-8")


def test_non_utf8_after_a_byte_order_mark() -> None:
    """The BOM is not part of the text: it shifts neither the line nor the column."""
    raw = b"\xef\xbb\xbfinputs: {x1: 1}\ntitle: caf\xe9\n"
    assert_at(only(raw), (2, 11), "UTF-8")
    raw = b"\xef\xbb\xbfab\n\xff\n"
    assert_at(only(raw), (2, 1), "UTF-8")


def test_malformed_yaml() -> None:
    text = "inputs: {x1: 1}}\nneurons: {}\n"
    assert_at(only(text), (1, 16), "invalid YAML")  # the second '}'


def test_malformed_yaml_bad_indentation() -> None:
    text = "inputs: {x1: 1}\nparams:\n  w1: 2\n w2: 3\n"
    assert_at(only(text), position(text, 4, "w2"), "invalid YAML")


# The lists of bad specs below are imported by test_schema.py too, which sorts them into what
# the editor schema rejects and what only nncalc can see.
EMPTY_SPECS = [
    pytest.param("", id="empty"),
    pytest.param("\n\n", id="blank"),
    pytest.param("# only a comment\n", id="comment"),
]


@pytest.mark.parametrize("text", EMPTY_SPECS)
def test_empty_file(text: str) -> None:
    assert_at(only(text), (1, 1), "empty", "inputs", "neurons", "layers")


NOT_A_MAPPING = [
    ("- 1\n- 2\n", "a list"),
    ("just text\n", "the text 'just text'"),
    ("3\n", "the number 3"),
]


@pytest.mark.parametrize(("text", "kind"), NOT_A_MAPPING)
def test_top_level_not_a_mapping(text: str, kind: str) -> None:
    assert_at(only(text), (1, 1), "expected a mapping", "neurons", "layers", f"got {kind}")


def test_both_neurons_and_layers() -> None:
    text = NAMED + "layers:\n  - weights: [[1]]\n    activation: relu\n"
    assert_at(only(text), position(text, 6, "layers"), "'neurons'", "'layers'", "not both")


def test_neither_neurons_nor_layers() -> None:
    text = "inputs: {x1: 1}\ntarget: {o: 1}\n"
    assert_at(only(text), (1, 1), "missing", "'neurons'", "'layers'")


def test_unknown_top_level_key_with_did_you_mean() -> None:
    text = NAMED + "learning_rat: 0.1\n"
    assert_at(
        only(text),
        position(text, 6, "learning_rat"),
        "unknown key 'learning_rat'",
        "did you mean 'learning_rate'?",
        "allowed keys:",
        "frozen",
    )


def test_unknown_key_in_a_layer() -> None:
    text = LAYERED.replace("    names: [h1, h2]", "    nmaes: [h1, h2]")
    assert_at(
        only(text),
        position(text, 6, "nmaes"),
        "unknown key 'nmaes'",
        "did you mean 'names'?",
        "weights",
    )


# --- YAML rules -----------------------------------------------------------------------------------


def test_duplicate_key_top_level() -> None:
    text = NAMED + "params: {w1: 3, w2: 4}\n"
    assert_at(only(text), position(text, 6, "params"), "duplicate key 'params'")


def test_duplicate_key_nested() -> None:
    text = NAMED.replace("{x1: w1, x2: w2}", "{x1: w1, x1: w2}")
    assert_at(only(text), position(text, 4, "x1", occurrence=2), "duplicate key 'x1'")


YAML_1_1_BOOLEANS = ["yes", "no", "on", "off", "Yes", "y"]


@pytest.mark.parametrize("word", YAML_1_1_BOOLEANS)
def test_yaml_1_1_booleans_are_text_where_a_number_belongs(word: str) -> None:
    text = NAMED.replace("{x1: 1, x2: 2}", f"{{x1: {word}, x2: 2}}")
    assert_at(
        only(text),
        position(text, 1, word),
        "inputs.x1",
        "expected a number",
        f"the text '{word}'",
    )


NAN_AND_INF = [
    pytest.param("x1: 1,", "x1: .nan,", 1, ".nan", "nan", id="input-nan"),
    pytest.param("x1: 1,", "x1: -.inf,", 1, "-.inf", "-inf", id="input-minus-inf"),
    pytest.param("{o: 6}", "{o: .inf}", 5, ".inf", "inf", id="target-inf"),
    pytest.param("{o: 6}", "{o: .NaN}", 5, ".NaN", "nan", id="target-NaN"),
    pytest.param("w1: 2,", "w1: .nan,", 2, ".nan", "nan", id="param-nan"),
    pytest.param("w2: 1}", "w2: .inf}", 2, ".inf", "inf", id="param-inf"),
]


@pytest.mark.parametrize(("old", "new", "line", "token", "shown"), NAN_AND_INF)
def test_nan_and_inf_are_not_numbers_here(
    old: str, new: str, line: int, token: str, shown: str
) -> None:
    text = NAMED.replace(old, new)
    assert new in text
    assert_at(only(text), position(text, line, token), "expected a number", shown, "finite")


BOOLEANS = [
    pytest.param("x1: 1,", "x1: true,", 1, "inputs.x1", id="input"),
    pytest.param("{o: 6}", "{o: false}", 5, "target.o", id="target"),
    pytest.param("{x1: w1,", "{x1: true,", 4, "neurons.o.from.x1", id="constant-weight"),
    pytest.param("w1: 2,", "w1: true,", 2, "params.w1", id="param"),
]


@pytest.mark.parametrize(("old", "new", "line", "what"), BOOLEANS)
def test_boolean_where_a_number_belongs(old: str, new: str, line: int, what: str) -> None:
    text = NAMED.replace(old, new)
    value = new.split(": ")[1].strip(",}")
    assert_at(only(text), position(text, line, value), what, f"the boolean {value}")


def test_boolean_learning_rate() -> None:
    text = NAMED + "learning_rate: true\n"
    assert_at(only(text), position(text, 6, "true"), "learning rate", "the boolean true")


def test_merge_keys_are_rejected() -> None:
    text = (
        "inputs: {x1: 1}\n"
        "neurons:\n"
        "  h: &base {from: {x1: 1}, activation: relu}\n"
        "  o:\n"
        "    <<: *base\n"
        "    activation: identity\n"
        "target: {o: 1}\n"
    )
    assert_at(find(problems(text), "merge"), position(text, 5, "<<"), "'<<'", "not supported")


UNKNOWN_TAGS = ["!!python/object:os.system", "!custom", "!!binary"]


@pytest.mark.parametrize("tag", UNKNOWN_TAGS)
def test_unknown_tags_are_rejected(tag: str) -> None:
    text = NAMED.replace("x1: 1,", f"x1: {tag} 1,")
    assert_at(only(text), position(text, 1, tag), "tag", "not supported")


YAML_1_2_NUMBERS = (
    "title: 2024-01-01\n"
    "inputs: {x1: 1e-3, on: 010, off: 0o10, n: 0x1A, y: +.5}\n"
    "params: {no: 1E3}\n"
    "neurons:\n"
    "  yes: {from: {x1: no, on: 1, off: 1, n: 1, y: 1}, activation: identity}\n"
    "target: {yes: 1e+1}\n"
    "learning_rate: 1e-3\n"
)


def test_numbers_follow_yaml_1_2() -> None:
    """PyYAML's YAML 1.1 pitfalls do not apply: `1e-3` is a number, `010` is ten, `0o10` is
    eight, `0x1A` is 26; `on`, `no`, `yes`, `off` are names; a date is text."""
    text = YAML_1_2_NUMBERS
    write(text)
    result = run("backprop", FILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "2024-01-01"
    assert data["inputs"] == {"x1": 0.001, "on": 10.0, "off": 8.0, "n": 26.0, "y": 0.5}
    assert data["params"] == {"no": 1000.0}
    assert list(data["neurons"]) == ["yes"]
    assert data["targets"] == {"yes": 10.0}
    assert data["learning_rate"] == 0.001


YAML_1_1_NUMBER_FORMS = ["1_000", "1:30", "0b101", "0x", "1e"]


@pytest.mark.parametrize("word", YAML_1_1_NUMBER_FORMS)
def test_yaml_1_1_number_forms_are_text(word: str) -> None:
    text = NAMED.replace("x1: 1,", f"x1: {word},")
    assert_at(only(text), position(text, 1, word), "expected a number", f"the text '{word}'")


# --- activations and losses -----------------------------------------------------------------------


def test_unknown_activation_did_you_mean() -> None:
    text = NAMED.replace("activation: relu", "activation: rleu")
    assert_at(
        only(text),
        position(text, 4, "rleu"),
        "neurons.o.activation",
        "unknown activation 'rleu'",
        "did you mean 'relu'?",
        "allowed activations:",
        "leaky_relu",
        "sigmoid",
    )


def test_unknown_activation_in_a_layer() -> None:
    text = LAYERED.replace("activation: identity", "activation: sigmod")
    assert_at(
        only(text),
        position(text, 8, "sigmod"),
        "layers[1].activation",
        "did you mean 'sigmoid'?",
    )


def test_unknown_activation_parameter() -> None:
    text = NAMED.replace("activation: relu", "activation: {name: leaky_relu, alpah: 0.1}")
    assert_at(
        only(text),
        position(text, 4, "alpah"),
        "unknown parameter 'alpah'",
        "leaky_relu",
        "alpha",
        "did you mean 'alpha'?",
    )


def test_parameter_of_an_activation_without_parameters() -> None:
    text = NAMED.replace("activation: relu", "activation: {name: relu, alpha: 0.1}")
    assert_at(only(text), position(text, 4, "alpha"), "unknown parameter 'alpha'", "relu")


def test_softmax_in_the_named_form() -> None:
    text = NAMED.replace("activation: relu", "activation: softmax")
    assert_at(only(text), position(text, 4, "softmax"), "softmax", "whole layer", "layered form")


def test_unknown_loss_with_a_close_match() -> None:
    text = NAMED + "loss: half_squared_eror\n"
    assert_at(
        only(text),
        position(text, 6, "half_squared_eror"),
        "unknown loss 'half_squared_eror'",
        "did you mean 'half_squared_error'?",
        "allowed losses:",
        "cross_entropy",
    )


def test_unknown_loss_matched_through_an_alias() -> None:
    text = NAMED + "loss: bec\n"
    assert_at(only(text), position(text, 6, "bec"), "unknown loss 'bec'", "did you mean")


# --- structure ------------------------------------------------------------------------------------


def test_unknown_source() -> None:
    text = NAMED.replace("x2: w2}", "x3: w2}")
    assert_at(
        only(text),
        position(text, 4, "x3"),
        "unknown source 'x3'",
        "neuron 'o'",
        "input or a neuron",
        "allowed sources:",
    )


def test_unknown_source_did_you_mean() -> None:
    text = NAMED.replace("x2: w2}", "xx2: w2}")
    assert_at(only(text), position(text, 4, "xx2"), "unknown source 'xx2'", "did you mean 'x2'?")


def test_unknown_param_in_a_weight() -> None:
    text = NAMED.replace("x2: w2}", "x2: w22}")
    assert_at(
        only(text),
        position(text, 4, "w22"),
        "'w22'",
        "not a declared param",
        "did you mean 'w2'?",
        "allowed params: w1, w2",
    )


def test_unknown_param_in_a_bias() -> None:
    text = NAMED.replace("activation: relu", "bias: b, activation: relu")
    assert_at(only(text), position(text, 4, "b,"), "'b'", "not a declared param", "params")


def test_cycle_names_the_neurons_on_it() -> None:
    text = (
        "inputs: {x1: 1}\n"
        "params: {w1: 2}\n"
        "neurons:\n"
        "  a: {from: {x1: w1, c: 1}, activation: relu}\n"
        "  b: {from: {a: 1}, activation: relu}\n"
        "  c: {from: {b: 1}, activation: relu}\n"
        "  o: {from: {c: 1}, activation: relu}\n"
        "target: {o: 6}\n"
    )
    problem = only(text)
    assert_at(problem, position(text, 4, "a"), "cycle")
    cycle = problem.message.split("cycle")[1]
    for name in ("a", "b", "c"):
        assert re.search(rf"\b{name}\b", cycle), problem.message
    assert not re.search(r"\bo\b", cycle), "o is not on the cycle"


def test_a_neuron_feeding_itself() -> None:
    text = (
        "inputs: {x1: 1}\n"
        "neurons:\n"
        "  h: {from: {x1: 1}, activation: relu}\n"
        "  o: {from: {h: 1, o: 0.5}, activation: relu}\n"
        "target: {o: 6}\n"
    )
    assert_at(only(text), position(text, 4, "o"), "cycle", "o → o")


def test_target_naming_no_output() -> None:
    text = NAMED.replace("target: {o: 6}", "target: {o: 6, p: 1}")
    assert_at(
        only(text), position(text, 5, "p"), "target 'p' names no output", "allowed outputs: o"
    )


def test_target_with_a_typo_suggests_the_output() -> None:
    text = NAMED.replace("  o: {", "  out: {").replace("{o: 6}", "{ot: 6}")
    problem = find(problems(text), "'ot'")
    assert_at(problem, position(text, 5, "ot"), "names no output", "did you mean 'out'?")


def test_missing_target_for_a_loss_that_needs_one() -> None:
    text = NAMED.replace("target: {o: 6}\n", "")
    assert_at(only(text), (1, 1), "missing 'target'", "'o'")


def test_missing_target_in_one_sample() -> None:
    text = (
        "neurons:\n"
        "  o: {from: {x1: 1}, activation: relu}\n"
        "data:\n"
        "  - {inputs: {x1: 1}, target: {o: 1}}\n"
        "  - {inputs: {x1: 2}}\n"
    )
    assert_at(only(text), position(text, 5, "{"), "data[1]", "missing 'target'", "'o'")


def test_no_target_needed_for_the_output_loss() -> None:
    text = NAMED.replace("target: {o: 6}\n", "loss: output\n")
    write(text)
    result = run("backprop", FILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["targets"] is None


# --- layered shapes -------------------------------------------------------------------------------


def test_ragged_weight_rows() -> None:
    text = LAYERED.replace("[[1, 2], [3, 4]]", "[[1, 2], [3]]")
    assert_at(
        only(text),
        position(text, 3, "[3]"),
        "layers[0].weights[1]",
        "row 2",
        "has 1 number but row 1 has 2",
    )


def test_weight_columns_differ_from_the_previous_layer() -> None:
    text = LAYERED.replace("[[1, -1]]", "[[1, -1, 2]]")
    assert_at(
        only(text),
        position(text, 7, "[[1, -1, 2]]"),
        "layers[1].weights",
        "3 columns",
        "layer 1 has 2 neurons",
    )


def test_bias_length() -> None:
    text = LAYERED.replace("bias: [0.5, -0.5]", "bias: [0.5, -0.5, 1]")
    assert_at(only(text), position(text, 4, "[0.5"), "layers[0].bias", "2 neurons", "3 biases")


def test_names_length() -> None:
    text = LAYERED.replace("names: [h1, h2]", "names: [h1]")
    assert_at(only(text), position(text, 6, "[h1]"), "layers[0].names", "2 neurons", "1 name")


def test_inputs_length() -> None:
    text = LAYERED.replace("inputs: [1, 2]", "inputs: [1, 2, 3]")
    assert_at(only(text), position(text, 1, "[1, 2, 3]"), "3 inputs", "2 columns")


def test_layered_target_length() -> None:
    text = LAYERED.replace("target: [1]", "target: [1, 0]")
    assert_at(only(text), position(text, 9, "[1, 0]"), "2 targets", "1 neuron")


# --- training settings ----------------------------------------------------------------------------


def test_frozen_names_an_unknown_param() -> None:
    text = NAMED + "frozen: [w1, w3]\n"
    assert_at(
        only(text),
        position(text, 6, "w3"),
        "frozen[1]",
        "'w3' is not a param",
        "allowed params: w1, w2",
    )


def test_negative_learning_rate_in_the_spec() -> None:
    text = NAMED + "learning_rate: -0.5\n"
    assert_at(only(text), position(text, 6, "-0.5"), "learning_rate", "≥ 0", "-0.5")


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "-inf", "abc", ""])
def test_invalid_lr_option_is_a_usage_error(value: str) -> None:
    write(NAMED)
    lines = assert_rejected(run("backprop", FILE, f"--lr={value}"))
    text = "\n".join(lines)
    assert "--lr" in text
    assert "Usage:" in text


def test_usage_errors() -> None:
    write(NAMED)
    for args in (
        ["backprop", FILE, "-f", "xml"],
        ["backprop", FILE, "-p", "0"],
        ["backprop", FILE, "--precision", "18"],
        ["forward", FILE, "--lr", "1"],
        ["transpose", FILE],
        ["backprop", FILE, "other.yaml"],
    ):
        assert_rejected(run(*args))


def test_inconsistent_sample_inputs_named() -> None:
    text = (
        "params: {w1: 2, w2: 1}\n"
        "neurons:\n"
        "  o: {from: {x1: w1, x2: w2}, activation: relu}\n"
        "data:\n"
        "  - {inputs: {x1: 1, x2: 2}, target: {o: 1}}\n"
        "  - {inputs: {x1: 1, x3: 2}, target: {o: 1}}\n"
    )
    assert_at(
        only(text),
        position(text, 6, "{x1"),
        "data[1].inputs",
        "sample 2",
        "x3",
        "sample 1",
        "x2",
    )


def test_inconsistent_sample_inputs_layered() -> None:
    text = (
        "layers:\n"
        "  - weights: [[1, 2]]\n"
        "    activation: relu\n"
        "data:\n"
        "  - {inputs: [1, 2], target: [1]}\n"
        "  - {inputs: [1, 2, 3], target: [1]}\n"
    )
    assert_at(only(text), position(text, 6, "[1, 2, 3]"), "data[1].inputs", "3 inputs")


def test_samples_with_reordered_inputs_are_fine() -> None:
    text = (
        "params: {w1: 2, w2: 1}\n"
        "neurons:\n"
        "  o: {from: {x1: w1, x2: w2}, activation: identity}\n"
        "data:\n"
        "  - {inputs: {x1: 1, x2: 2}, target: {o: 1}}\n"
        "  - {inputs: {x2: 2, x1: 1}, target: {o: 1}}\n"
    )
    write(text)
    result = run("forward", FILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"o": [4.0, 4.0]}


# --- all at once ----------------------------------------------------------------------------------


def test_several_errors_are_reported_at_once_in_order() -> None:
    text = (
        "inputs: {x1: 1}\n"
        "params: {w1: 2}\n"
        "neurons:\n"
        "  o: {from: {x1: w1}, activation: rleu}\n"
        "target: {o: 6}\n"
        "loss: squared_eror\n"
        "learning_rate: -1\n"
        "frozen: [w]\n"
    )
    found = problems(text)
    assert len(found) == 4, found
    assert_at(found[0], position(text, 4, "rleu"), "did you mean 'relu'?")
    assert_at(found[1], position(text, 6, "squared_eror"), "did you mean 'squared_error'?")
    assert_at(found[2], position(text, 7, "-1"), "≥ 0")
    assert_at(found[3], position(text, 8, "w]"), "'w' is not a param", "did you mean 'w1'?")


def test_many_errors_are_capped_with_a_count() -> None:
    names = [f"x{i}" for i in range(1, 61)]
    text = (
        "inputs: {" + ", ".join(f"{n}: yes" for n in names) + "}\n"
        "neurons:\n"
        "  o: {from: {" + ", ".join(f"{n}: 1" for n in names) + "}, activation: relu}\n"
        "target: {o: 1}\n"
    )
    found = problems(text)
    assert len(found) == 50
    assert all(p.line == 1 for p in found)
    assert "and 11 more" in found[-1].message
    assert [p.column for p in found[:3]] == [
        position(text, 1, "yes", occurrence=k)[1] for k in (1, 2, 3)
    ]


def test_errors_in_json_mode_go_to_stderr_too() -> None:
    text = NAMED.replace("activation: relu", "activation: rleu")
    write(text)
    for command in ("forward", "backprop"):
        (line,) = assert_rejected(run(command, FILE, "--format", "json"))
        assert line.startswith(f"{FILE}:4:")


def test_errors_from_stdin_are_located() -> None:
    text = NAMED.replace("activation: relu", "activation: rleu")
    (line,) = assert_rejected(run("backprop", "-", stdin=text))
    where = position(text, 4, "rleu")
    assert line.startswith(f"<stdin>:{where[0]}:{where[1]}: "), line
    assert "did you mean 'relu'?" in line


# --- encodings that work --------------------------------------------------------------------------


def test_bom_and_crlf_work() -> None:
    plain = NAMED + "learning_rate: 0.5\n"
    write(plain, "plain.yaml")
    expected = run("backprop", "plain.yaml", "-f", "json")
    assert expected.exit_code == 0, expected.stderr
    write(b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode())
    result = run("backprop", FILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    got, want = json.loads(result.stdout), json.loads(expected.stdout)
    assert got["source"] == FILE
    del got["source"], want["source"]
    assert got == want


def test_positions_in_a_bom_crlf_file() -> None:
    text = NAMED.replace("activation: relu", "activation: rleu")
    write(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    (line,) = assert_rejected(run("backprop", FILE))
    where = position(text, 4, "rleu")
    assert line.startswith(f"{FILE}:{where[0]}:{where[1]}: "), line


def test_non_ascii_names_work_and_positions_count_characters() -> None:
    text = 'title: "réseau ŷ"\n' + NAMED.replace("activation: relu", "activation: rleu")
    text = text.replace("x1", "ξ1")
    (line,) = assert_rejected(run("backprop", str(write(text))))
    where = position(text, 5, "rleu")
    assert line.startswith(f"{FILE}:{where[0]}:{where[1]}: "), line
    write(text.replace("rleu", "relu"))
    result = run("forward", FILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert list(json.loads(result.stdout)["inputs"]) == ["ξ1", "x2"]


def test_a_boolean_title_is_refused_with_a_hint_to_quote_it() -> None:
    # YAML 1.2 reads `true` as a boolean; a title that is the word "true" must be quoted.
    text = NAMED + "title: true\n"
    assert_at(
        only(text), (text.count("\n"), 8), "title: expected text, got the boolean true; quote it"
    )


def test_a_long_list_of_missing_names_is_counted_not_listed() -> None:
    """Fifteen outputs without a target: ten are named, the other five counted."""
    outputs = [f"o{i}" for i in range(1, 16)]
    neurons = "".join(f"  {o}: {{from: {{x1: 1}}, activation: identity}}\n" for o in outputs)
    text = f"inputs: {{x1: 1}}\nneurons:\n{neurons}target: {{}}\n"
    problem = only(text)
    named = ", ".join(f"'{o}'" for o in outputs[:10])
    assert (
        problem.message == f"target: no target for outputs {named} and 5 more; give one per output"
    )
