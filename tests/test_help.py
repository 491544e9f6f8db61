"""The help reads the same in every command (issue 20): options grouped in the panels Model,
Budget, Lean and Output, each with what to type and its default, never a bare type such as
`<int>`; and `--version`."""

from __future__ import annotations

import importlib.metadata
import re

import pytest
from conftest import RunCli

PANELS = {
    "prove": {"Model", "Budget", "Lean", "Output"},
    "check": {"Lean", "Output"},
    "audit": {"Lean", "Output"},
    "doctor": {"Model", "Lean", "Output"},
    "ci": {"Model", "Budget", "Lean", "Output"},
    "mcp": {"Model", "Lean", "Output"},
}
WIDE = {"COLUMNS": "220", "TERMINAL_WIDTH": "220"}


def panels(text: str) -> dict[str, list[str]]:
    """Each panel's options, one string per option with its wrapped lines joined."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if m := re.match(r"^╭─ (.+?) ─", line):
            current = out.setdefault(m[1], [])
        elif line.startswith("╰"):
            current = None
        elif current is not None and line.startswith("│"):
            body = line.strip("│ ").rstrip()
            if re.match(r"^│\s{1,4}(?:\*\s+)?-", line) or not current:
                current.append(body)
            else:
                current[-1] += " " + body.strip()
    return out


@pytest.mark.parametrize("command", sorted(PANELS))
def test_every_option_is_in_a_named_panel_with_its_default(run_cli: RunCli, command: str) -> None:
    proc = run_cli(command, "--help", env=WIDE)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert not re.search(r"<[a-z][a-z_\[\]|, ]*>", text), "a bare type in the help"
    found = panels(text)
    assert PANELS[command] <= set(found), set(found)
    assert set(found) <= PANELS[command] | {"Options", "Arguments"}
    for panel, rows in found.items():
        if panel == "Arguments":
            continue
        for row in rows:
            if row.startswith("--help"):
                continue
            assert "(default" in row, f"{command} {panel}: no default in {row!r}"


def test_the_shared_options_sit_in_the_same_panel_everywhere(run_cli: RunCli) -> None:
    where: dict[str, set[str]] = {}
    for command in PANELS:
        for panel, rows in panels(run_cli(command, "--help", env=WIDE).stdout).items():
            for row in rows:
                where.setdefault(row.split()[0], set()).add(panel)
    shared = ("--model", "--base-url", "--timeout", "--sandbox", "--json", "--samples")
    agent = ("--mode", "--premises", "--max-tool-calls", "--tool-timeout", "--token-budget")
    for option in (*shared, *agent):
        assert len(where[option]) == 1, (option, where[option])


def test_version(run_cli: RunCli) -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"leanloop {importlib.metadata.version('leanloop')}"
