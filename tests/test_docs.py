"""The README stays true: every command, key, activation, loss and JSON key is documented, and
the sample output is what the program prints today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import nncalc
from nncalc import activations, losses, spec
from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _documented(name: str) -> bool:
    return f"`{name}`" in README or f"`{name} " in README


def test_every_command_is_documented() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert commands, "the app has no commands"
    for name in commands:
        assert f"`nncalc {name}" in README, f"command {name} is not in the README"


@pytest.mark.parametrize(
    "name",
    sorted({*activations.REGISTRY, *activations.ALIASES, *losses.REGISTRY, *losses.ALIASES}),
)
def test_every_activation_and_loss_is_documented(name: str) -> None:
    assert _documented(name), f"{name} is not in the README"


@pytest.mark.parametrize(
    "key",
    sorted({*spec.NAMED_KEYS, *spec.LAYERED_KEYS, *spec.NEURON_KEYS, *spec.SAMPLE_KEYS}),
)
def test_every_spec_key_is_documented(key: str) -> None:
    assert _documented(key), f"spec key {key} is not in the README"


@pytest.mark.parametrize("key", spec.LAYER_KEYS)
def test_every_layer_key_is_documented(key: str) -> None:
    assert f"`layers[].{key}`" in README


def test_every_json_key_is_documented() -> None:
    homework = nncalc.backprop(nncalc.load_spec(ROOT / "examples" / "homework.yaml"))
    batch = nncalc.backprop(nncalc.load_spec(ROOT / "examples" / "softmax-classifier.yaml"))
    keys = {*homework.to_data(), *batch.to_data()}
    keys |= {k for entry in homework.to_data()["neurons"].values() for k in entry}
    spec = nncalc.load_spec(ROOT / "examples" / "homework.yaml")
    explained = nncalc.explain(spec, exact=True)
    checked = nncalc.check(spec, str(ROOT / "examples" / "homework-answers.yaml"), exact=True)
    keys |= {*explained, *checked, *nncalc.explain(spec, decimals=2)}
    keys |= {k for answer in checked["answers"] for k in answer}
    keys |= {k for section in explained["explanation"]["sections"] for k in section}
    keys |= {k for s in explained["explanation"]["sections"] for e in s["equations"] for k in e}
    for key in keys:
        assert f"`{key}`" in README, f"JSON key {key} is not in the README's JSON reference"


def test_readme_sample_output_is_current() -> None:
    block = re.search(
        r"```text\n(2-3-1 ReLU network \(homework\) — backprop\n.*?)```", README, re.S
    )
    assert block, "the README's sample table is missing"
    result = CliRunner().invoke(app, ["backprop", str(ROOT / "examples" / "homework.yaml")])
    assert result.exit_code == 0
    assert result.stdout == block.group(1)


def test_readme_setup_runs_the_main_job_and_the_tests() -> None:
    setup = README.split("## Set-up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line for line in setup.strip().splitlines() if line.strip()]
    assert len(lines) == 2
    assert "nncalc backprop examples/homework.yaml" in lines[0]
    assert "pytest" in lines[1]


@pytest.mark.parametrize(
    ("command", "heading"),
    [
        (["explain", "examples/homework.yaml", "w3"], "$ nncalc explain examples/homework.yaml w3"),
        (
            ["check", "examples/homework.yaml", "examples/homework-answers.yaml"],
            "$ nncalc check examples/homework.yaml examples/homework-answers.yaml",
        ),
    ],
)
def test_readme_homework_outputs_are_current(
    command: list[str], heading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = re.search(rf"```text\n{re.escape(heading)}\n(.*?)```", README, re.S)
    assert block, f"the README does not show `{heading[2:]}`"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 1)
    assert result.stdout == block.group(1)


def test_every_mistake_is_documented() -> None:
    from nncalc.marking import MISTAKES

    for mistake in MISTAKES:
        assert f"| `{mistake.name}` | {mistake.description} |" in README, mistake.name


@pytest.mark.parametrize("name", ["seed", "nielsen", "mazur"])
def test_every_notation_is_documented(name: str) -> None:
    assert f"`{name}`" in README


def test_every_optimizer_is_documented() -> None:
    from nncalc import optim

    for name, optimizer in optim.OPTIMIZERS.items():
        assert f"| `{name}` | {optimizer.torch_equivalent} |" in README, name
