"""The tools as data: name, description, input and output models. The MCP server publishes
them; the agent mode hands them to the model as function-calling tools."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from leanloop.errors import LeanloopError
from leanloop.tools.models import (
    AuditInput,
    AuditOutput,
    CheckInput,
    CheckOutput,
    GoalsInput,
    GoalsOutput,
    ProveInput,
    ProveOutput,
    SearchInput,
    SearchOutput,
    TryTacticInput,
    TryTacticOutput,
)
from leanloop.tools.toolset import ToolError, Toolset

Run = Callable[[Toolset, Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    run: Run
    read_only: bool = True

    def schema(self) -> dict[str, Any]:
        return self.input.model_json_schema()


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "check",
        "Check Lean source, or a .lean file of the project, with Lean: its messages, each "
        "`sorry` with its goal, and the axioms each theorem depends on.",
        CheckInput,
        CheckOutput,
        lambda t, i: t.check(i),
    ),
    ToolSpec(
        "goals",
        "The goal at each `sorry` of Lean source or of a file, with a proof state id for "
        "`try_tactic`.",
        GoalsInput,
        GoalsOutput,
        lambda t, i: t.goals(i),
    ),
    ToolSpec(
        "try_tactic",
        "Run a tactic on a proof state (from `goals`): the goals that remain, `complete`, or "
        "Lean's error. Writes nothing.",
        TryTacticInput,
        TryTacticOutput,
        lambda t, i: t.try_tactic(i),
    ),
    ToolSpec(
        "search",
        "Search the declarations of the project and its Lake packages (Mathlib included) by "
        "name words or by statement; offline.",
        SearchInput,
        SearchOutput,
        lambda t, i: t.search(i),
    ),
    ToolSpec(
        "prove",
        "Prove the `sorry`s of a file with leanloop's model loop; only proofs that pass the "
        "acceptance gate and the whole-file check count. Writes the file only with "
        "`write: true`.",
        ProveInput,
        ProveOutput,
        lambda t, i: t.prove(i),
        read_only=False,
    ),
    ToolSpec(
        "audit",
        "The acceptance gate's audit of a file as it stands: errors, `sorry`s, axioms and "
        "forbidden constructs per theorem.",
        AuditInput,
        AuditOutput,
        lambda t, i: t.audit(i),
    ),
)
BY_NAME = {t.name: t for t in TOOLS}


def parse_input(spec: ToolSpec, arguments: object) -> BaseModel:
    """The validated input, or a ToolError naming what is wrong in one sentence."""
    if not isinstance(arguments, dict):
        raise ToolError(f"The arguments of `{spec.name}` must be a JSON object.")
    try:
        return spec.input.model_validate(arguments)
    except ValidationError as e:
        raise ToolError(f"Bad arguments for `{spec.name}`: {describe(e)}.") from None


def describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        where = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


async def call(toolset: Toolset, name: str, arguments: object) -> BaseModel:
    """Run one tool. Every failure is a ToolError with one sentence."""
    spec = BY_NAME.get(name)
    if spec is None:
        raise ToolError(f"There is no tool `{name}`; the tools are {', '.join(BY_NAME)}.")
    inp = parse_input(spec, arguments)
    try:
        return await spec.run(toolset, inp)
    except ToolError:
        raise
    except LeanloopError as e:
        raise ToolError(str(e)) from None
