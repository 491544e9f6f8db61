"""The acceptance gate: the only way a proof becomes "proved".

One function, :func:`judge`, takes the original file, the target and a candidate proof and
returns one :class:`Verdict`. Layers run cheapest first; the first that objects decides."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from leanloop.lean.checker import Checker, LeanResult
from leanloop.lean.messages import LeanMessage, Severity, goals_of, parse_axioms, try_this
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import Declaration, LeanDocument, UnterminatedError, code_tokens
from leanloop.source.targets import Spliced, Target, proof_lines, splice


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
    # `Try this:` suggestions Lean printed inside the proof (from `exact?` and friends).
    suggestions: list[str] = []

    @classmethod
    def reject(cls, reason: Reason, message: str, **kw: object) -> Verdict:
        return cls(accepted=False, reason=reason, message=message, **kw)


SENTINEL = "#print axioms"


class CheckedCopy(BaseModel):
    """The text Lean checks for one candidate: the file cut after the target, a reference copy
    of the untouched statement before it, an identity check and the axioms sentinel after it."""

    text: str
    proof_start: int
    proof_end: int
    proof_lines: list[str]  # the proof as the model wrote it, for mapping columns back
    decl_lines: tuple[int, int]  # first and last line of the target in ``text``
    identity_line: int
    sentinel_line: int


def _header(doc: LeanDocument, target: Target) -> str:
    """The statement as written: binders and type, between the name and `:=`."""
    d = target.decl
    assert d.header_end is not None
    after = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
    return doc.text[after : d.header_end].strip()


def checked_copy(doc: LeanDocument, target: Target, spliced: Spliced, proof: str) -> CheckedCopy:
    d = target.decl
    ref = f"leanloop_ref_{target.line}"
    # The reference is elaborated where the target is, so it sees the same context.
    # Not yet seen against real Lean (tests/test_real_gate.py checks it where Lean exists):
    # that `type_of%` elaborates here, universe-polymorphic statements included; that a
    # namespace left open at the end of the cut copy is accepted; that `#print axioms Ns.x`
    # resolves a `private` theorem.
    ref_text = f"theorem {ref} {_header(doc, target)} := sorry\n\n"
    body = spliced.text[d.start : spliced.decl_end]
    proof_start = spliced.proof_start - d.start
    proof_end = spliced.proof_end - d.start
    if d.full_name is None:
        # `#print axioms` needs a name: an `example` becomes a theorem in the checked copy only.
        kw = d.keyword - d.start
        named = f"theorem {target.check_name}"
        body = body[:kw] + named + body[kw + len("example") :]
        shift = len(named) - len("example")
        proof_start, proof_end = proof_start + shift, proof_end + shift
    prefix = spliced.text[: d.start] + ref_text
    text = prefix + body
    first_line = prefix.count("\n") + 1
    last_line = text.count("\n") + 1
    text = text.rstrip() + "\n\n"
    identity_line = text.count("\n") + 1
    text += f"example : type_of% @{ref} := @{target.check_name}\n"
    sentinel_line = identity_line + 1
    text += f"{SENTINEL} {target.check_name}\n"
    return CheckedCopy(
        text=text,
        proof_start=len(prefix) + proof_start,
        proof_end=len(prefix) + proof_end,
        proof_lines=proof_lines(proof),
        decl_lines=(first_line, last_line),
        identity_line=identity_line,
        sentinel_line=sentinel_line,
    )


def signature(doc: LeanDocument, decl: Declaration) -> tuple[str, str | None, list[str]]:
    """A declaration's kind, full name and header tokens (everything before its body)."""
    end = decl.header_end if decl.header_end is not None else decl.end
    return decl.kind, decl.full_name, [t.text for t in code_tokens(doc.text[decl.start : end])]


def structure_problem(doc: LeanDocument, target: Target, spliced: Spliced) -> str | None:
    """Layer 2: the spliced declaration must still be one declaration with the same statement.

    Text before the target is untouched and Lean checks nothing after it, so the target's own
    region is all that can change."""
    d = target.decl
    try:
        region = LeanDocument(spliced.text[d.start : spliced.decl_end])
    except UnterminatedError as e:
        return f"After splicing, the theorem has an {e}."
    if len(region.commands) != 1 or len(region.declarations) != 1:
        return (
            f"After splicing, the theorem's text holds {len(region.declarations)} declarations "
            f"in {len(region.commands)} commands: the proof must stay inside its declaration."
        )
    [new] = region.declarations
    if signature(region, new)[::2] != signature(doc, d)[::2] or new.name != d.name:
        return "After splicing, the theorem's statement changed."
    return None


def _place(copy: CheckedCopy, copy_doc: LeanDocument, msg: LeanMessage) -> ProofError:
    offset = copy_doc.offset(msg.pos.line, msg.pos.column)
    goals = goals_of(msg)
    if copy.proof_start <= offset <= copy.proof_end:
        proof = copy.text[copy.proof_start : copy.proof_end]
        before = proof[: offset - copy.proof_start]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1)
        # Undo the indentation the splice added, so the column is in the model's own text.
        placed = proof.replace("\r\n", "\n").split("\n")[line - 1]
        if line <= len(copy.proof_lines):
            mine = copy.proof_lines[line - 1]
            added = (len(placed) - len(placed.lstrip())) - (len(mine) - len(mine.lstrip()))
            column = max(column - added, 0)
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
    if any(m.pos.line == copy.identity_line for m in errors):
        return Verdict.reject(
            Reason.STATEMENT,
            "Lean found that the proved statement is not the original statement.",
            errors=[_place(copy, copy_doc, m) for m in errors],
            lean_seconds=secs,
        )
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
    first_line, last_line = copy.decl_lines
    for m in result.messages:
        if m.is_sorry_warning and first_line <= m.pos.line <= last_line:
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
    suggestions = [
        text
        for m in result.messages
        if m.severity is Severity.INFORMATION
        and (text := try_this(m.data)) is not None
        and _place(copy, copy_doc, m).in_proof
    ]
    return Verdict(
        accepted=True,
        message="Lean accepted the proof.",
        axioms=report.axioms,
        native=native,
        lean_seconds=secs,
        suggestions=suggestions,
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
    if (problem := structure_problem(doc, target, spliced)) is not None:
        return Verdict.reject(Reason.STRUCTURE, problem)
    copy = checked_copy(doc, target, spliced, proof)
    result = await checker.check(copy.text, file_name=file_name)
    return evaluate(result, copy, target, policy)
