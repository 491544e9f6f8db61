"""Start-up speed: `openai` (over half a second to import) is imported when a model is first
asked, not by `leanloop --help` or a command's start; and `--help` reads as a user reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunCli


def imported(*args: str, cwd: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, proc.stderr
    return modules


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "import leanloop.cli"],
        ["-m", "leanloop", "--help"],
        ["-m", "leanloop", "prove", "--help"],
        # a command that gets as far as reading its input
        ["-m", "leanloop", "prove", "Missing.lean"],
        ["-m", "leanloop", "check", "Missing.lean"],
    ],
)
def test_openai_is_not_imported_at_start(args: list[str], tmp_path: Path) -> None:
    modules = imported(*args, cwd=tmp_path)
    assert "leanloop.cli" in modules or "leanloop" in modules
    assert not any(m == "openai" or m.startswith("openai.") for m in modules)


def test_building_the_model_does_not_import_openai(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from leanloop.session import choose_model\n"
        "from leanloop.settings import Settings\n"
        "choice = choose_model(Settings(), env={'MISTRAL_API_KEY': 'k'})\n"
        "assert choice.model.name == 'labs-leanstral-2603'\n"
        "print('openai' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


@pytest.mark.parametrize("command", ["prove", "check", "audit", "doctor"])
def test_help_shows_what_to_type_and_the_defaults(cli: RunCli, command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0
    text = proc.stdout
    assert "<bool>" not in text and "list[str]" not in text and "<str>" not in text
    assert "--json" in text


def test_prove_help_names_defaults(run_cli: RunCli) -> None:
    proc = run_cli("prove", "--help", env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
    rows = {
        line.split()[1]: " ".join(line.split())
        for line in proc.stdout.splitlines()
        if line.startswith("│ --")
    }
    assert "--samples N " in rows["--samples"] and "(default: 4)" in rows["--samples"]
    assert "--theorem -t NAME" in rows["--theorem"]
    assert "--eager" in rows and "--dry-run" in rows
    assert "(default: MISTRAL_API_KEY)" in rows["--api-key-env"]
    assert "--sandbox required|auto|off" in rows["--sandbox"]
