"""Regression tests: each case once crashed nncalc or produced a false or misplaced message."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_formats import compile_latex  # compiles with pdflatex, stops at the first error
from typer.testing import CliRunner

import nncalc
from nncalc.cli import app

runner = CliRunner()


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    spec = tmp_path / "net.yaml"
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(app, [args[0] if args else "backprop", str(spec), *args[1:]])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("warning:")]


def test_a_batch_of_one_sample_renders_as_a_table(tmp_path: Path) -> None:
    code, out, _ = _run(
        tmp_path,
        "params: {w: 0.5}\nneurons: {o: {from: {x1: w}, activation: identity}}\n"
        "data: [{inputs: {x1: 1}, target: {o: 2}}]\n",
    )
    assert code == 0
    assert "sample 1" in out
    assert "-1.5" in out  # δ = ŷ − y = 0.5 − 2


@pytest.mark.parametrize("digits", [400, 5000])
def test_integers_too_large_for_a_float_are_bad_input(tmp_path: Path, digits: int) -> None:
    code, out, err = _run(
        tmp_path,
        "inputs: {x1: " + "1" * digits + "}\nparams: {w: 1}\n"
        "neurons: {o: {from: {x1: w}, activation: identity}}\ntarget: {o: 1}\n",
    )
    assert code == 2 and out == ""
    assert _problems(err)[0].startswith(f"{tmp_path / 'net.yaml'}:1:14: inputs.x1: expected")


def test_a_large_integer_in_a_weight_row_is_bad_input(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: [1]\nlayers:\n  - {weights: [[" + "9" * 400 + "]], activation: relu}\n"
        "target: [1]\n",
    )
    assert code == 2
    assert "too large for a float" in err


def test_a_broken_layer_does_not_fake_a_column_mismatch(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: [1, 2]\nlayers:\n  - {weights: [[1, 2], [3, 4]], activation: relu}\n"
        "  - {weights: [[1, x], [1, 2], [1, 2]], activation: relu}\n"
        "  - {weights: [[1, 2, 3]], activation: relu}\ntarget: [1]\nfrozen: [W9]\n",
    )
    assert code == 2
    problems = _problems(err)
    assert len(problems) == 2, problems
    assert "got the text 'x'" in problems[0]
    assert "'W9' is not a param" in problems[1]  # still checked after a broken layer


@pytest.mark.parametrize(
    "text",
    [
        "inputs: {x1: 1}\nparams: {w: abc}\nneurons: {o: {from: {x1: w}, activation: relu}}\n"
        "target: {o: 1}\nfrozen: [w]\n",
        "inputs: [1]\nlayers:\n  - {weights: [[1]], bias: [x], activation: relu}\n"
        "target: [1]\nfrozen: [b1]\n",
    ],
    ids=["named", "layered"],
)
def test_freezing_a_param_with_a_bad_value_is_one_problem(tmp_path: Path, text: str) -> None:
    code, _, err = _run(tmp_path, text)
    assert code == 2
    assert len(_problems(err)) == 1, err


def test_a_cycle_is_reported_even_when_the_inputs_are_bad(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: {x: abc}\nneurons:\n  a: {from: {b: 1, x: 1}, activation: relu}\n"
        "  b: {from: {a: 1}, activation: relu}\ntarget: {a: 1}\n",
    )
    assert code == 2
    assert any("cycle: a → b → a" in p for p in _problems(err)), err
    assert not any("names no output" in p for p in _problems(err)), err


def test_bad_outputs_do_not_fake_target_problems(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: {x: 1}\nneurons: {o: {from: {x: 1}, activation: relu}}\noutputs: o\n"
        "target: {o: 1}\n",
    )
    assert code == 2
    assert len(_problems(err)) == 1, err
    assert "outputs: expected a list of neuron names" in err


def test_an_unknown_source_never_suggests_the_neuron_itself(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: {x1: 1}\nneurons: {o: {from: {q: 1}, activation: relu}}\ntarget: {o: 1}\n",
    )
    assert code == 2
    assert "(allowed sources: x1)" in err


def test_an_explicitly_tagged_bad_number_is_one_problem(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path,
        "inputs: {x1: 1}\nparams: {u: !!float abc}\n"
        "neurons: {o: {from: {x1: u}, activation: relu}}\ntarget: {o: 1}\n",
    )
    assert code == 2
    assert len(_problems(err)) == 1, err
    assert "'abc' is not a valid float" in err


def test_a_null_target_is_located_at_the_target(tmp_path: Path) -> None:
    code, _, err = _run(
        tmp_path, "inputs: {x1: 1}\nneurons: {o: {from: {x1: 1}, activation: relu}}\ntarget:\n"
    )
    assert code == 2
    assert f"{tmp_path / 'net.yaml'}:3:" in err and "'target' is empty" in err


def test_mean_batches_say_that_deltas_carry_one_over_n(tmp_path: Path) -> None:
    code, out, _ = _run(
        tmp_path,
        "params: {w: 0.5}\nneurons: {o: {from: {x1: w}, activation: identity}}\n"
        "data: [{inputs: {x1: 1}, target: {o: 2}}, {inputs: {x1: 2}, target: {o: 0}}]\n",
    )
    assert code == 0
    assert "factor 1/2" in out
    assert "-0.75" in out  # sample 1: (0.5 − 2) / 2


def test_the_learning_rate_is_shown_as_given_not_rounded(tmp_path: Path) -> None:
    code, out, _ = _run(
        tmp_path,
        "inputs: {x1: 1}\nparams: {w: 1}\nneurons: {o: {from: {x1: w}, activation: identity}}\n"
        "target: {o: 0}\n",
        "backprop",
        "--lr",
        "0.25",
        "-p",
        "1",
    )
    assert code == 0
    assert "learning rate 0.25" in out and "value − 0.25 ×" in out


@pytest.mark.parametrize("text", ["0x-1", "0o+7", "0x1_0"])
def test_malformed_hex_and_octal_are_text(tmp_path: Path, text: str) -> None:
    code, _, err = _run(
        tmp_path,
        f"inputs: {{x1: {text}}}\nneurons: {{o: {{from: {{x1: 1}}, activation: relu}}}}\n"
        "target: {o: 1}\n",
    )
    assert code == 2
    assert f"got the text '{text}'" in err


@pytest.mark.parametrize("lr", [math.nan, -1.0, math.inf])
def test_the_library_refuses_a_bad_learning_rate(lr: float) -> None:
    spec = nncalc.load_spec(Path(__file__).resolve().parent.parent / "examples" / "homework.yaml")
    with pytest.raises(ValueError, match="learning rate"):
        nncalc.backprop(spec, lr=lr)


def test_a_title_with_control_characters_is_refused(tmp_path: Path) -> None:
    code, out, err = _run(
        tmp_path,
        'title: "red \\e[31m text"\ninputs: {x1: 1}\n'
        "neurons: {o: {from: {x1: 1}, activation: relu}}\ntarget: {o: 1}\n",
    )
    assert code == 2 and out == ""
    assert ":1:8: title: the title must be printable text" in err


# --- homework mode ------------------------------------------------------------------------------

LEAKY_DEAD = (
    "inputs: {x: 1}\nparams: {w: -1, v: 1}\n"
    "neurons:\n  h: {from: {x: w}, activation: {name: leaky_relu, alpha: 0}}\n"
    "  o: {from: {h: v}, activation: identity}\ntarget: {o: 1}\n"
)


@pytest.mark.skipif(not __import__("shutil").which("pdflatex"), reason="needs pdflatex")
def test_a_flat_leaky_relu_note_compiles(tmp_path: Path) -> None:
    # alpha = 0 and a = −1 < 0: leaky_relu′(a) = 0, and the note names leaky_relu in \text{}
    code, out, _ = _run(tmp_path, LEAKY_DEAD, "explain", "-f", "latex", "--standalone")
    assert code == 0
    assert r"leaky\_relu is flat" in out
    compile_latex(out, tmp_path)


def test_a_slope_rounded_to_zero_says_so(tmp_path: Path) -> None:
    # leaky_relu′(−1) = 0.01 is 0.0 at 1 decimal: δ_h = 0 because of the rounding, not flatness
    spec = LEAKY_DEAD.replace("alpha: 0}", "alpha: 0.01}")
    code, out, _ = _run(tmp_path, spec, "explain", "--round", "1")
    assert code == 0
    assert "leaky_relu′(a_h) = 0.01, which rounds to 0 at 1 decimal" in out


NOT_FINITE = (
    "inputs: {x: 2}\nparams: {w: 1}\nneurons: {o: {from: {x: w}, activation: identity}}\n"
    "target: {o: 1}\nloss: bce\n"
)


def test_derivations_with_non_finite_numbers_are_strict_json(tmp_path: Path) -> None:
    import json

    code, out, _ = _run(tmp_path, NOT_FINITE, "explain", "-f", "json")
    assert code == 0
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
    numbers = [
        n for s in data["explanation"]["sections"] for e in s["equations"] for n in e["numbers"]
    ]
    assert None in numbers
    assert any("derivations" in w for w in data["warnings"])
    code, out, _ = _run(tmp_path, NOT_FINITE, "explain")
    assert "n/a" in out and "nan" not in out


@pytest.mark.parametrize("mode", [["--exact"], ["--round", "2"]])
def test_values_beyond_float_range_in_fractions_are_null(tmp_path: Path, mode: list[str]) -> None:
    import json

    spec = (
        "inputs: {x: 1e200}\nparams: {w: 1e200}\n"
        "neurons: {o: {from: {x: w}, activation: identity}}\ntarget: {o: 1}\nlearning_rate: 1\n"
    )
    for command in ("backprop", "explain"):
        code, out, _ = _run(tmp_path, spec, command, *mode, "-f", "json")
        assert code == 0
        data = json.loads(out)
        assert data["loss"] is None
        if mode == ["--exact"]:  # the exact value is still there
            assert data["exact"]["neurons.o.pre_activation"] == str(10**400)


def test_exam_arithmetic_shows_given_numbers_as_written(tmp_path: Path) -> None:
    spec = (
        "inputs: {x: 0.25}\nparams: {w: 0.15, b: 0.05}\n"
        "neurons: {o: {from: {x: w}, bias: b, activation: identity}}\n"
        "target: {o: 1}\nlearning_rate: 0.5\n"
    )
    code, out, _ = _run(tmp_path, spec, "backprop", "--round", "1", "--explain")
    assert code == 0
    # a = 0.25·0.15 + 0.05 = 0.0875 → 0.1; the given 0.25, 0.15, 0.05 and 0.5 as written
    assert "a_o = x·w + b = (0.25)(0.15) + 0.05 = 0.1" in out
    assert " 0.15 " in out and " 0.25" in out


def test_a_sample_of_a_one_sample_spec(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a.h1@2: 4\n", encoding="utf-8")
    spec = Path(__file__).resolve().parent.parent / "examples" / "homework.yaml"
    result = runner.invoke(app, ["check", str(spec), str(tmp_path / "a.yaml")])
    assert result.exit_code == 2
    assert "the spec has one sample: write a.h1 (or a.h1@1)" in result.stderr


def test_a_yaml_problem_in_an_answers_file_is_not_called_empty(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("<<: {a.h1: 4}\n", encoding="utf-8")
    spec = Path(__file__).resolve().parent.parent / "examples" / "homework.yaml"
    result = runner.invoke(app, ["check", str(spec), str(tmp_path / "a.yaml")])
    assert result.exit_code == 2
    assert "merge" in result.stderr
    assert "empty" not in result.stderr


@pytest.mark.parametrize(
    "options",
    [{"exact": True, "decimals": 2}, {"decimals": -1}, {"notation": "bogus"}],
)
def test_library_modes_are_checked(options: dict[str, object]) -> None:
    spec = nncalc.load_spec(Path(__file__).resolve().parent.parent / "examples" / "homework.yaml")
    with pytest.raises(ValueError):
        nncalc.explain(spec, **options)  # type: ignore[arg-type]


def test_the_entry_point_builds_only_the_command_it_runs() -> None:
    import subprocess
    import sys

    homework = str(Path(__file__).resolve().parent.parent / "examples" / "homework.yaml")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nncalc", *args], capture_output=True, text=True, timeout=60
        )

    direct = run("backprop", homework, "-f", "json")
    assert direct.returncode == 0
    assert direct.stdout == runner.invoke(app, ["backprop", homework, "-f", "json"]).stdout
    listing = run("--help").stdout
    for command in ("forward", "backprop", "train", "explain", "check", "gradcheck"):
        assert command in listing
    assert run("--version").stdout.startswith("nncalc ")
    assert run("nope").returncode == 2
    assert run("check", homework).returncode == 2  # the answers file is missing: usage, exit 2
