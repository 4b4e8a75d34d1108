"""`nncalc init`: a commented starter spec, never written over an existing file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nncalc
from nncalc.cli import app

runner = CliRunner()


def test_the_starter_is_the_seed_exercise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "wrote net.yaml; next: nncalc backprop net.yaml" in result.stderr
    spec = nncalc.load_spec("net.yaml")
    step = nncalc.backprop(spec)
    # the seed's numbers (README): L = ½(6 − 1.6)² = 9.68, ∂L/∂w3 = 0 (h2 is dead)
    assert step.loss == pytest.approx(9.68)
    assert step.gradients["w3"] == 0
    assert step.gradients["w1"] == pytest.approx(2.2)
    text = Path("net.yaml").read_text(encoding="utf-8")
    assert text.startswith("# A network spec for nncalc")
    assert oct(os.stat("net.yaml").st_mode & 0o777) != oct(0o600)  # not a private temporary


def test_init_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("my own work\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2
    assert f"{target}: exists; init never replaces a file; name another" in result.stderr
    assert target.read_text(encoding="utf-8") == "my own work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def test_init_to_standard_output() -> None:
    result = runner.invoke(app, ["init", "-"])
    assert result.exit_code == 0
    assert nncalc.load_spec(result.stdout, source="starter").neuron_names == ("h1", "h2", "h3", "o")


@pytest.mark.parametrize(
    "args",
    [
        ["init", "{target}"],
        ["schema", "-o", "{target}"],
        ["backprop", "{spec}", "--emit-spec", "-o", "{target}"],
        ["graph", "{spec}", "--render", "{target}.svg"],
    ],
    ids=["init", "schema", "emit-spec", "graph-render"],
)
def test_a_missing_folder_is_named_and_nothing_is_written(tmp_path: Path, args: list[str]) -> None:
    spec = Path(__file__).resolve().parent.parent / "examples" / "homework.yaml"
    target = tmp_path / "no-such-folder" / "out"
    filled = [a.format(target=target, spec=spec) for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"the folder {target.parent} does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []
