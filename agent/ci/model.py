"""What `leanloop ci` found, as pydantic models (written as JSON, rendered in every format)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Rule(StrEnum):
    """One per kind of finding; SARIF rules and annotation titles use these."""

    ERROR = "error"
    SORRY = "sorry"
    AXIOM = "axiom"
    FORBIDDEN = "forbidden"


RULE_TEXT = {
    Rule.ERROR: "Lean reports an error (or could not check the declaration)",
    Rule.SORRY: "A declaration uses `sorry`",
    Rule.AXIOM: "A declaration depends on an axiom beyond propext, Classical.choice, Quot.sound",
    Rule.FORBIDDEN: "A construct that can make a proof unsound (native_decide, #exit, …)",
}

FAIL_ON_DEFAULT = "error,new-sorry,new-axiom,forbidden"


class FailOn(BaseModel):
    """A `--fail-on` item: a rule, for every finding or only for new ones."""

    rule: Rule
    new_only: bool

    @property
    def label(self) -> str:
        return ("new-" if self.new_only else "") + self.rule.value


class CiFinding(BaseModel):
    rule: Rule
    reason: str  # the gate's reason (lean_error, statement_changed, timeout, …)
    file: str  # relative to the repository root, with `/`
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int
    declaration: str | None
    key: str  # identity for comparison with the base and for fingerprints (never a line)
    message: str
    new: bool | None  # None when there is no base to compare with
    axioms: list[str] = []  # for axiom findings: the axioms beyond the allowed ones
    fires: list[str] = []  # the --fail-on items this finding triggers

    @property
    def status(self) -> str:
        return {None: "found", True: "new", False: "pre-existing"}[self.new]


class Ratchet(BaseModel):
    """How one declaration moved between the merge base and HEAD."""

    file: str
    declaration: str
    sorries_before: int
    sorries_after: int
    axioms_added: list[str]
    axioms_removed: list[str]


class DeclCheck(BaseModel):
    name: str
    line: int
    ok: bool


class FileResult(BaseModel):
    path: str
    base_path: str | None
    change: str
    status: str  # "checked", "not_built" (imports missing), "unreadable"
    declarations: list[DeclCheck]
    findings: list[CiFinding]
    ratchet: list[Ratchet] = []


class FillResult(BaseModel):
    file: str
    declaration: str
    line: int
    status: str  # proved / failed / blocked / skipped
    note: str | None = None
    cost_usd: float | None = None
    proof: str | None = None  # kept even when left out, so a rejected proof can be studied


class FillReport(BaseModel):
    model: str
    targets: list[FillResult]
    spent_usd: float | None
    budget_usd: float | None
    stopped: str | None = None  # why the filling stopped early
    # The prover could not be used (unreachable or refusing endpoint, Lean gone): exit 2.
    error: str | None = None
    branch: str | None = None  # the branch committed to, with --commit-branch
    commit: str | None = None
    suggestions: int = 0


class BuildSummary(BaseModel):
    ok: bool
    exit_code: int | None
    failed_modules: list[str]
    errors: int
    warnings: int
    detail: str = ""


class CiReport(BaseModel):
    repo: str
    base_ref: str | None
    base_sha: str | None
    head_sha: str
    whole_repo: bool
    fail_on: list[str]
    files: list[FileResult]
    stale_exceptions: list[str] = []
    notes: list[str] = []
    fill: FillReport | None = None
    build: BuildSummary | None = None
    build_findings: list[CiFinding] = []  # errors from `lake build` (with --build)

    @property
    def findings(self) -> list[CiFinding]:
        return [*self.build_findings, *(f for fr in self.files for f in fr.findings)]

    @property
    def fired(self) -> list[str]:
        seen: list[str] = []
        for f in self.findings:
            for label in f.fires:
                if label not in seen:
                    seen.append(label)
        return seen

    @property
    def exit_code(self) -> int:
        return 1 if self.fired else 0
