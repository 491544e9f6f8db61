"""Results, as pydantic models so they can be written as JSON for machines."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from leanloop.settings import Price
from leanloop.source.sorries import SorryUse


class Status(StrEnum):
    PROVED = "proved"
    FAILED = "failed"
    BLOCKED = "blocked"  # could not be attempted (errors earlier in the file)
    STOPPED = "stopped"  # not finished: the run stopped first (see RunReport.stopped)


class TargetReport(BaseModel):
    name: str
    file: str
    line: int
    status: Status
    proof: str | None = None
    attempts: int = 0
    rounds: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    seconds: float = 0.0
    axioms: list[str] | None = None
    native_decide: bool = False
    last_errors: list[str] = []
    note: str | None = None
    # The whole body was rewritten (`--whole-body`), not each `sorry` filled in place.
    whole_body: bool = False
    # `--mode agent`: tool calls made, and the budget that ended an attempt, if one did
    # (`max_tool_calls`, `token_budget`; a call cut off by `tool_timeout` is counted here too).
    mode: str = "default"
    tool_calls: int = 0
    budget_hits: list[str] = []


class SorryEntry(BaseModel):
    """A `sorry` (or `admit`) in a file's code: where, in which declaration, whether leanloop
    proves it, and why (not)."""

    file: str
    line: int
    column: int  # 1-based, as editors show it
    declaration: str
    use: str  # target | statement | answer | definition | instance | structure | macro | …
    reason: str
    target: bool = False

    @classmethod
    def of(cls, u: SorryUse, file: str) -> SorryEntry:
        return cls(
            file=file,
            line=u.line,
            column=u.column + 1,
            declaration=u.declaration,
            use=u.use.value,
            reason=u.reason,
            target=u.target,
        )

    def render(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.declaration}: {self.reason}"


class RunReport(BaseModel):
    file: str
    model: str
    written: str | None = None  # where the proved file was written, if anywhere
    dry_run: bool = False
    # Why the run stopped before every target was finished (a fatal endpoint error, Ctrl-C);
    # proofs verified until then are still checked, written and reported.
    stopped: str | None = None
    interrupted: bool = False  # Ctrl-C: nothing was written, ``unwritten`` lists what was lost
    unwritten: list[str] = []  # verified proofs that were not written to the file
    error: str | None = None  # why verified proofs could not be written (exit 2)
    # The independent replay of the final file (SafeVerify): passed | failed | error, or None
    # when it did not run; ``replay_note`` says why it rejected or could not run.
    replay: str | None = None
    replay_note: str | None = None
    # The replay rejected what every text-level layer accepted: a hole in those layers.
    replay_rejected_gate: bool = False
    targets: list[TargetReport]
    # The `sorry`s in scope that are not targets: a run with any of them does not exit 0.
    not_targets: list[SorryEntry] = []

    @property
    def proved(self) -> int:
        return sum(t.status is Status.PROVED for t in self.targets)

    @property
    def complete(self) -> bool:
        """Every `sorry` in scope was proved."""
        return self.proved == len(self.targets) and not self.not_targets


def cost(prices: dict[str, Price], model: str, prompt: int, completion: int) -> float | None:
    if model.startswith("builtin:"):
        return 0.0
    price = prices.get(model)
    if price is None:
        return None
    return round((prompt * price.prompt + completion * price.completion) / 1_000_000, 6)
