"""The acceptance gate: the only way a proof becomes "proved".

One function, :func:`judge`, takes the original file, the target and a candidate proof and
returns one :class:`Verdict`. Layers run cheapest first; the first that objects decides."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from agent.lean.checker import Checker, LeanResult
from agent.lean.messages import LeanMessage, Severity, goals_of, parse_axioms
from agent.policy import Policy
from agent.screen import screen
from agent.source import LeanDocument
from agent.source.targets import Spliced, Target, splice


class Reason(StrEnum):
    EMPTY = "empty"
    FORBIDDEN = "forbidden"
    STRUCTURE = "structure"
    LEAN_ERROR = "lean_error"
    SORRY = "sorry"
    AXIOMS = "axioms"
    NO_SENTINEL = "no_sentinel"
    STATEMENT = "statement_changed"
    TIMEOUT = "timeout"
    CRASH = "crash"
    JUNK = "junk"
    LEAN_UNAVAILABLE = "lean_unavailable"
    NOT_BUILT = "not_built"


class ProofError(BaseModel):
    """A Lean error, placed relative to the candidate proof when it falls inside it."""

    in_proof: bool
    line: int  # 1-based; within the proof when ``in_proof``, else within the checked file
    column: int
    text: str
    goals: str | None = None


class Verdict(BaseModel):
    accepted: bool
    reason: Reason | None = None
    message: str
    errors: list[ProofError] = []
    axioms: list[str] | None = None
    native: bool = False  # accepted only because native_decide was allowed
    missing_module: str | None = None
    lean_seconds: float = 0.0

    @classmethod
    def reject(cls, reason: Reason, message: str, **kw: object) -> Verdict:
        return cls(accepted=False, reason=reason, message=message, **kw)


SENTINEL = "#print axioms"


class CheckedCopy(BaseModel):
    """The text Lean checks for one candidate: the file cut after the target, plus a sentinel."""

    text: str
    proof_start: int
    proof_end: int
    sentinel_line: int


def checked_copy(doc: LeanDocument, target: Target, spliced: Spliced) -> CheckedCopy:
    text = spliced.text[: spliced.decl_end]
    proof_start, proof_end = spliced.proof_start, spliced.proof_end
    if target.decl.full_name is None:
        # `#print axioms` needs a name: an `example` becomes a theorem in the checked copy only.
        kw = target.decl.keyword
        named = f"theorem {target.check_name}"
        text = text[:kw] + named + text[kw + len("example") :]
        shift = len(named) - len("example")
        proof_start, proof_end = proof_start + shift, proof_end + shift
    text = text.rstrip() + "\n\n"
    sentinel_line = text.count("\n") + 1
    text += f"{SENTINEL} {target.check_name}\n"
    return CheckedCopy(
        text=text, proof_start=proof_start, proof_end=proof_end, sentinel_line=sentinel_line
    )


def _place(copy: CheckedCopy, copy_doc: LeanDocument, msg: LeanMessage) -> ProofError:
    offset = copy_doc.offset(msg.pos.line, msg.pos.column)
    goals = goals_of(msg)
    if copy.proof_start <= offset <= copy.proof_end:
        proof = copy.text[copy.proof_start : copy.proof_end]
        before = proof[: offset - copy.proof_start]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1)
        return ProofError(in_proof=True, line=line, column=column, text=msg.data, goals=goals)
    return ProofError(
        in_proof=False, line=msg.pos.line, column=msg.pos.column, text=msg.data, goals=goals
    )


def _process_failure(result: LeanResult) -> Verdict | None:
    reasons = {
        "timeout": Reason.TIMEOUT,
        "crashed": Reason.CRASH,
        "junk": Reason.JUNK,
        "start_failed": Reason.LEAN_UNAVAILABLE,
    }
    if result.status == "ok":
        return None
    return Verdict.reject(reasons[result.status], result.describe(), lean_seconds=result.seconds)


def evaluate(result: LeanResult, copy: CheckedCopy, target: Target, policy: Policy) -> Verdict:
    """Layers 3 and 4: read Lean's answer for one checked copy."""
    if (failed := _process_failure(result)) is not None:
        return failed
    secs = result.seconds
    if (module := result.missing_module) is not None:
        return Verdict.reject(
            Reason.NOT_BUILT,
            f"The imported module {module} is not built; run `lake build` in the project first.",
            missing_module=module,
            lean_seconds=secs,
        )
    copy_doc = LeanDocument(copy.text)
    errors = result.errors
    if errors:
        placed = [_place(copy, copy_doc, m) for m in errors]
        first = placed[0]
        where = f"line {first.line} of the proof" if first.in_proof else f"line {first.line}"
        return Verdict.reject(
            Reason.LEAN_ERROR,
            f"Lean reported {len(errors)} error(s), the first at {where}: "
            f"{first.text.splitlines()[0] if first.text else ''}",
            errors=placed,
            lean_seconds=secs,
        )
    decl_start = copy_doc.position(target.decl.start)[0]
    for m in result.messages:
        if m.is_sorry_warning and m.pos.line >= decl_start:
            return Verdict.reject(Reason.SORRY, "The proof still uses `sorry`.", lean_seconds=secs)
    report = None
    for m in result.messages:
        if m.severity is Severity.INFORMATION and m.pos.line == copy.sentinel_line:
            report = parse_axioms(m.data)
            if report is not None:
                break
    if report is None:
        return Verdict.reject(
            Reason.NO_SENTINEL,
            "Lean never answered `#print axioms` for the theorem, so the check did not finish.",
            lean_seconds=secs,
        )
    bad = [a for a in report.nonstandard if not (policy.allow_native_decide and is_native(a))]
    if bad:
        return Verdict.reject(
            Reason.AXIOMS if "sorryAx" not in bad else Reason.SORRY,
            f"The proof depends on axioms beyond the standard three: {', '.join(bad)}.",
            axioms=report.axioms,
            lean_seconds=secs,
        )
    native = any(is_native(a) for a in report.nonstandard)
    return Verdict(
        accepted=True,
        message="Lean accepted the proof.",
        axioms=report.axioms,
        native=native,
        lean_seconds=secs,
    )


def is_native(axiom: str) -> bool:
    return axiom in ("Lean.ofReduceBool", "Lean.trustCompiler") or "._native." in axiom


async def judge(
    doc: LeanDocument,
    target: Target,
    proof: str,
    checker: Checker,
    policy: Policy,
    *,
    whole_body: bool = False,
    file_name: str = "Check.lean",
) -> Verdict:
    """Decide whether ``proof`` proves ``target``. The only path to an accepted verdict."""
    if not proof.strip():
        return Verdict.reject(Reason.EMPTY, "The answer contained no proof.")
    if (finding := screen(proof, policy)) is not None:
        return Verdict.reject(Reason.FORBIDDEN, finding)
    spliced = splice(doc, target, proof, whole_body=whole_body)
    copy = checked_copy(doc, target, spliced)
    result = await checker.check(copy.text, file_name=file_name)
    return evaluate(result, copy, target, policy)
