"""Command-line options shared by the commands, grouped in the same help panels everywhere.

Every command shows its options in the panels ``Model``, ``Budget``, ``Lean`` and ``Output``
(plus typer's own ``Options`` for what fits none), each option with a metavar saying what to
type and its default. Defaults come from :class:`Settings` (a flag left out falls back to the
environment and the settings files), so they are written into the help text rather than into
the signature."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from leanloop.settings import Settings

MODEL = "Model"
BUDGET = "Budget"
LEAN = "Lean"
OUTPUT = "Output"
PANELS = (MODEL, BUDGET, LEAN, OUTPUT)


def default_of(name: str) -> str:
    """A setting's default as the user would type it."""
    value = Settings.model_fields[name].default
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plain_help(params: list[Any]) -> None:
    """Show an argument by its metavar and a flag by its name only: typer's help would add a
    type column (`<path>`, `<list[path]>`, `<bool>`) that says nothing the name does not."""
    for param in params:
        if isinstance(param, TyperArgument) and param.metavar:
            # An instance attribute shadows the method, for this help only.
            param.display_type_rich = _no_type  # type: ignore[method-assign]
        elif isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""


def _no_type(ctx: Any = None) -> str:
    return ""


class Command(TyperCommand):
    """A leanloop command: its help lists each option with what to type, never a bare type."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


class Group(TyperGroup):
    """The `leanloop` group, whose own help is written the same way."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        metavar="",
        help="Print the result as JSON on stdout (default: text).",
        rich_help_panel=OUTPUT,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help=f"Seconds per Lean run (default: {default_of('timeout')}).",
        rich_help_panel=LEAN,
    ),
]
NativeOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-native-decide",
        metavar="",
        help="Accept proofs that trust compiled code (native_decide) (default: off).",
        rich_help_panel=LEAN,
    ),
]
SandboxOpt = Annotated[
    str | None,
    typer.Option(
        metavar="required|auto|off",
        help=f"Run Lean in a sandbox (default: {default_of('sandbox')}).",
        rich_help_panel=LEAN,
    ),
]
ReplayOpt = Annotated[
    str | None,
    typer.Option(
        metavar="auto|required|off",
        help="The independent replay (SafeVerify) before writing: used when built, demanded, "
        f"or not run (default: {default_of('replay')}).",
        rich_help_panel=LEAN,
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        metavar="cli|repl",
        help="cli: one `lean --json` run per check; repl: a pool of warm Lean REPLs "
        f"(default: {default_of('backend')}).",
        rich_help_panel=LEAN,
    ),
]
LeanCmdOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COMMAND",
        help="Command that checks a file, given its path (default: lake env lean --json).",
        rich_help_panel=LEAN,
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Model name, or builtin:automation for the built-in prover "
        f"(default: {default_of('model')}).",
        rich_help_panel=MODEL,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help=f"OpenAI-compatible base URL (default: {default_of('base_url')}).",
        rich_help_panel=MODEL,
    ),
]
ApiKeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        metavar="VARIABLE",
        help=f"Environment variable holding the API key (default: {default_of('api_key_env')}).",
        rich_help_panel=MODEL,
    ),
]
EffortOpt = Annotated[
    str | None,
    typer.Option(
        metavar="none|high",
        help="Reasoning effort sent to the model (default: not sent).",
        rich_help_panel=MODEL,
    ),
]
RequestTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help="Give up on a model request that delivers nothing for this long (a stall); it is "
        f"retried once (default: {default_of('request_timeout')}).",
        rich_help_panel=MODEL,
    ),
]
SamplesOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Independent attempts per target; by default a further one starts only after "
        f"a round failed (default: {default_of('samples')}).",
        rich_help_panel=BUDGET,
    ),
]
RoundsOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help=f"Rounds of feedback per attempt (default: {default_of('rounds')}).",
        rich_help_panel=BUDGET,
    ),
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help=f"Attempts running at once (default: {default_of('concurrency')}).",
        rich_help_panel=BUDGET,
    ),
]
PremisesOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Add the top N declarations of the local premise index (the project and its "
        f"packages) for each target to its first prompt (default: {default_of('premises')}).",
        rich_help_panel=MODEL,
    ),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        metavar="default|agent",
        help="agent: the model calls check, goals, try_tactic, search and submit_proof itself, "
        "within the tool-call and token budgets (needs an endpoint with function calling) "
        f"(default: {default_of('mode')}).",
        rich_help_panel=MODEL,
    ),
]
MaxToolCallsOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help=f"Agent mode: tool calls per attempt (default: {default_of('max_tool_calls')}).",
        rich_help_panel=BUDGET,
    ),
]
ToolTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help=f"Agent mode: seconds per tool call (default: {default_of('tool_timeout')}).",
        rich_help_panel=BUDGET,
    ),
]
TokenBudgetOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Agent mode: prompt and completion tokens per attempt (default: no limit).",
        rich_help_panel=BUDGET,
    ),
]
