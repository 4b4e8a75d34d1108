"""Shell completion through the installed `nncalc` console script.

A shell's completion function runs `nncalc` with no arguments and the words typed so far in the
environment (`_NNCALC_COMPLETE=complete_bash`, `COMP_WORDS`, `COMP_CWORD` for bash: see
typer/_completion_classes.py and typer/_completion_shared.py, typer's copy of click's shell
completion). cli.main() builds only the command a run names; these tests check that completion
still sees the whole app through it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from nncalc.cli import app
from nncalc.render import Format

SCRIPT = Path(sys.executable).parent / "nncalc"
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the nncalc script is not installed")


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("_NNCALC", "_TYPER", "COMP_"))
    }
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bash_complete(line: str) -> list[str]:
    """What bash offers for the last word of `line` (a trailing space: a new, empty word)."""
    words = line.split(" ")
    result = run(
        [],
        _NNCALC_COMPLETE="complete_bash",
        COMP_WORDS=line,
        COMP_CWORD=str(len(words) - 1),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_command_names_complete() -> None:
    assert bash_complete("nncalc ba") == ["backprop"]
    assert bash_complete("nncalc sch") == ["schema"]
    assert bash_complete("nncalc gradc") == ["gradcheck"]
    assert sorted(bash_complete("nncalc ")) == COMMANDS


def test_options_complete() -> None:
    offered = bash_complete("nncalc backprop --fo")
    assert "--format" in offered
    assert all(option.startswith("--fo") for option in offered), offered
    assert bash_complete("nncalc train --batch") == ["--batch-size"]
    assert bash_complete("nncalc schema --ou") == ["--output"]


def test_option_values_complete() -> None:
    assert bash_complete("nncalc backprop --format ") == [f.value for f in Format]
    assert bash_complete("nncalc forward -f j") == ["json"]
    assert bash_complete("nncalc explain --notation ") == ["seed", "nielsen", "mazur"]
    assert bash_complete("nncalc graph --format ") == ["mermaid", "dot"]
    assert bash_complete("nncalc graph -f d") == ["dot"]


@pytest.mark.parametrize(
    ("shell", "env", "expected"),
    [
        ("zsh", {"_TYPER_COMPLETE_ARGS": "nncalc ba"}, '"backprop":'),
        (
            "fish",
            {"_TYPER_COMPLETE_ARGS": "nncalc ba", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
            "backprop\t",
        ),
        (
            "powershell",
            {"_TYPER_COMPLETE_ARGS": "nncalc ba", "_TYPER_COMPLETE_WORD_TO_COMPLETE": "ba"},
            "backprop:::",
        ),
    ],
)
def test_other_shells_complete_too(shell: str, env: dict[str, str], expected: str) -> None:
    result = run([], _NNCALC_COMPLETE=f"complete_{shell}", **env)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "forward" not in result.stdout


@pytest.mark.parametrize(
    ("shell", "line"),
    [
        ("bash", "complete -o default -F _nncalc_completion nncalc"),
        ("zsh", "compdef _nncalc_completion nncalc"),
        ("fish", "complete --command nncalc"),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName nncalc"),
    ],
)
def test_each_shell_has_a_script(shell: str, line: str) -> None:
    result = run([], _NNCALC_COMPLETE=f"source_{shell}")
    assert result.returncode == 0, result.stderr
    assert line in result.stdout
    assert "_NNCALC_COMPLETE" in result.stdout
    assert f"complete_{shell}" in result.stdout


BASH = shutil.which("bash")


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_show_completion_prints_a_bash_script_that_completes() -> None:
    """From bash, `nncalc --show-completion bash` prints the script; sourced, it completes."""
    assert BASH is not None
    path = f"{SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # `; true` keeps bash as nncalc's parent, the shell typer detects.
    shown = subprocess.run(
        [BASH, "--norc", "-c", "nncalc --show-completion bash; true"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "complete -o default -F _nncalc_completion nncalc" in shown.stdout
    assert "_NNCALC_COMPLETE=complete_bash" in shown.stdout
    session = (
        'eval "$(nncalc --show-completion bash)"\n'
        "COMP_WORDS=(nncalc backprop --format j); COMP_CWORD=3\n"
        "_nncalc_completion nncalc\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    completed = subprocess.run(
        [BASH, "--norc", "-c", session],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout == "json\n", completed.stderr


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_install_completion_writes_the_documented_files_and_completes(tmp_path: Path) -> None:
    """As the README says: the script in ~/.bash_completions/nncalc.sh, sourced from ~/.bashrc;
    a new shell that reads ~/.bashrc then completes (HOME is a temporary folder)."""
    assert BASH is not None
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{SCRIPT.parent}{os.pathsep}"}
    env["PATH"] += os.environ.get("PATH", "")
    subprocess.run(
        [BASH, "--norc", "-c", "nncalc --install-completion; true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    script = tmp_path / ".bash_completions" / "nncalc.sh"
    assert "_NNCALC_COMPLETE=complete_bash" in script.read_text(encoding="utf-8")
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text(encoding="utf-8")
    session = (
        "source ~/.bashrc\n"
        "COMP_WORDS=(nncalc graph --format d); COMP_CWORD=3\n"
        "_nncalc_completion nncalc\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    completed = subprocess.run(
        [BASH, "--norc", "-c", session],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout == "dot\n", completed.stderr


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("nncalc backprop --optimizer ada", ["adam", "adamw"]),
        ("nncalc train --optimizer nes", ["nesterov"]),
        ("nncalc train --schedule co", ["constant", "cosine"]),
        ("nncalc train --momentum-form c", ["classic"]),
        ("nncalc train --trace p", ["params"]),
        ("nncalc activations leaky", ["leaky_relu"]),
        ("nncalc activations relu sg", ["sgn"]),
        ("nncalc exercise --activations relu,sigm", ["relu,sigmoid"]),
        ("nncalc exercise --loss half", ["half_squared_error"]),
        ("nncalc exercise --key-format ", ["markdown", "latex"]),
    ],
)
def test_names_complete_from_nncalcs_own_lists(line: str, offered: list[str]) -> None:
    assert bash_complete(line) == offered
