"""`--plot FILE`: images drawn with matplotlib (the `plot` extra): `nncalc train`'s loss curve and
`nncalc activations`' curves of f and f′. CI runs this file once the extra is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nncalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = str(ROOT / "examples" / "homework.yaml")
runner = CliRunner()


def _train(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["train", HOMEWORK, "-n", "5", "--lr", "0.01", *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_a_missing_matplotlib_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    target = tmp_path / "curve.png"
    code, out, err = _train("--plot", str(target))
    assert code == 2
    assert out == ""
    assert "--plot needs matplotlib, an optional extra: pip install 'nncalc[plot]'" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["curve.txt", "curve"])
def test_only_image_files_are_written(tmp_path: Path, name: str) -> None:
    code, out, err = _train("--plot", str(tmp_path / name))
    assert code == 2 and out == ""
    assert "--plot writes .png, .svg, .pdf files" in err


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_the_curve_is_written_atomically(tmp_path: Path, suffix: str, magic: bytes) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / f"curve{suffix}"
    code, out, _ = _train("--plot", str(target))
    assert code == 0
    assert "Trace" in out
    assert target.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary left
    written = target.read_bytes()
    code, out, err = _train("--plot", str(target))
    assert code == 2 and out == "" and "exists; give --force" in err
    assert target.read_bytes() == written
    code, _, _ = _train("--plot", str(target), "--force", "--schedule", "cosine")
    assert code == 0


def _activations(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["activations", *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_activation_curves_are_written_atomically(
    tmp_path: Path, suffix: str, magic: bytes
) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / f"curves{suffix}"
    code, out, _ = _activations("relu", "softmax", "gelu", "elu(alpha=2)", "--plot", str(target))
    assert code == 0 and "relu" in out
    assert target.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary left
    written = target.read_bytes()
    code, out, err = _activations("relu", "--plot", str(target))
    assert code == 2 and out == "" and "exists; give --force" in err
    assert target.read_bytes() == written
    code, _, _ = _activations("--plot", str(target), "--force")
    assert code == 0
