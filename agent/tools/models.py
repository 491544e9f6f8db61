"""The tools' inputs and outputs. Their JSON schemas are what MCP clients and tool-calling models
see, so every field says what it means."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leanloop.audit import AuditReport
from leanloop.inspect import TheoremAxioms
from leanloop.premises import IndexStats, Premise
from leanloop.report import RunReport

_FILE = "A .lean file of the project, relative to the project root."
_CODE = "Lean source to check instead of a file (it may start with `import` lines)."


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceInput(_Input):
    file: str | None = Field(default=None, description=_FILE)
    code: str | None = Field(default=None, description=_CODE)

    @model_validator(mode="after")
    def _one_source(self) -> SourceInput:
        if (self.file is None) == (self.code is None):
            raise ValueError("give exactly one of `file` and `code`")
        return self


class CheckInput(SourceInput):
    goals: bool = Field(
        default=True, description="Also report the goal at each `sorry` (more Lean runs)."
    )


class GoalsInput(SourceInput):
    line: int | None = Field(
        default=None, ge=1, description="Only the `sorry`s on this line (1-based)."
    )


class TryTacticInput(_Input):
    proof_state: int = Field(
        description="A proof state id from `goals` or from an earlier `try_tactic`."
    )
    tactic: str = Field(min_length=1, description="The tactic (or tactics) to run there.")


class SearchInput(_Input):
    query: str = Field(
        min_length=1,
        description="Words of a declaration's name (`add comm nat`) or a statement "
        "(`a + b = b + a`), or both.",
    )
    limit: int = Field(default=10, ge=1, le=100, description="How many hits to return.")


class ProveInput(_Input):
    file: str = Field(description=_FILE)
    theorem: list[str] | None = Field(
        default=None, description="Only these declarations (full or short names)."
    )
    write: bool = Field(
        default=False,
        description="Write the verified proofs into the file. Without it nothing is written.",
    )
    samples: int | None = Field(default=None, ge=1, le=64, description="Attempts per target.")
    rounds: int | None = Field(default=None, ge=1, le=20, description="Rounds per attempt.")


class AuditInput(_Input):
    file: str = Field(description=_FILE)


# --- outputs -------------------------------------------------------------------------------


class Message(BaseModel):
    severity: Literal["information", "warning", "error"]
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    text: str


class SorryGoal(BaseModel):
    """The goal at one `sorry`."""

    line: int
    column: int
    declaration: str | None = None
    goal: str | None = None  # the goal the `sorry` closes; None when Lean gave none
    goals: list[str] = []  # every goal open there (the CLI probe sees them all)
    proof_state: int | None = None  # for `try_tactic`
    error: str | None = None  # why there is no goal


class CheckOutput(BaseModel):
    ok: bool
    status: str
    messages: list[Message]
    errors: int
    warnings: int
    sorries: list[SorryGoal]
    axioms: list[TheoremAxioms]


class GoalsOutput(BaseModel):
    backend: Literal["repl", "cli"]
    how: str  # where the goals came from
    sorries: list[SorryGoal]


class TryTacticOutput(BaseModel):
    status: Literal["goals", "complete", "error"]
    goals: list[str] = []
    proof_state: int | None = None  # the state after the tactic, for the next call
    error: str | None = None
    messages: list[Message] = []
    note: str = (
        "`complete` means Lean closed this goal; nothing is proved until a whole proof "
        "passes the gate."
    )


class SearchOutput(BaseModel):
    hits: list[Premise]
    scores: list[float]
    index: IndexStats | None = None  # set when this call built or refreshed the index


class ProveOutput(BaseModel):
    report: RunReport
    written: str | None  # where verified proofs were written; None unless `write` was set
    notes: list[str]


class AuditOutput(BaseModel):
    report: AuditReport
    ok: bool
