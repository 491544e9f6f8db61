"""`bench run`, `bench report` and `bench compare` help (issue 20): options in the panels every
command uses (Model, Budget, Lean, Output), each with what to type and its default."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from leanloop.bench.command import register
from leanloop.cli import app

PANELS = {
    "run": {
        "Model": {"--model", "--base-url", "--api-key-env", "--premises", "--mode"},
        "Budget": {
            "--samples",
            "--rounds",
            "--k",
            "--limit",
            "--concurrency",
            "--shard",
            "--max-tool-calls",
            "--tool-timeout",
            "--token-budget",
        },
        "Lean": {"--project", "--lean-cmd", "--timeout", "--sandbox", "--backend"},
        "Output": {"--out", "--json", "--infra-as-failure"},
    },
    "report": {"Output": {"--json", "--infra-as-failure", "--no-plots"}},
    "compare": {"Output": {"--json", "--infra-as-failure"}},
}
BARE = re.compile(r"<(int|str|float|list\[str\]|path)>")


def _command(name: str) -> Any:
    # typer builds click groups (of the click it ships with): read them as such.
    group: Any = typer.main.get_command(app)
    return group.commands["bench"].commands[name]


@pytest.mark.parametrize("name", sorted(PANELS))
def test_options_sit_in_the_shared_panels(name: str) -> None:
    panels: dict[str, set[str]] = {}
    for param in _command(name).params:
        panel = getattr(param, "rich_help_panel", None)
        if panel is not None and param.param_type_name == "option":
            panels.setdefault(panel, set()).update(param.opts)
    assert panels == PANELS[name]


@pytest.mark.parametrize("name", sorted(PANELS))
def test_help_says_what_to_type_and_the_defaults(name: str) -> None:
    result = CliRunner().invoke(app, ["bench", name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    options = [ln for ln in result.output.splitlines() if ln.lstrip("│ ").startswith("--")]
    assert len(options) > 2
    for line in options:
        if "--help" not in line:
            assert not BARE.search(line) and "<bool>" not in line, line
    if name == "run":
        text = " ".join(result.output.split())
        for default in (
            "(default: 4)",  # --samples and --concurrency, from the settings
            "(default: 3)",  # --rounds
            "(default: 300)",  # --timeout
            "(default: labs-leanstral-2603)",
            "(default: bench-run)",
            "(default: 1)",  # --k
        ):
            assert default in text, default


def test_rich_help_shows_the_panels() -> None:
    rich_app = typer.Typer(rich_markup_mode="rich", add_completion=False)

    @rich_app.callback()
    def root() -> None: ...

    register(rich_app)
    result = CliRunner().invoke(rich_app, ["bench", "run", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    titles = re.findall(r"╭─ (\w+) ─", result.output)
    assert titles == ["Arguments", "Options", "Model", "Budget", "Lean", "Output"]
