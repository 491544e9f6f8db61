"""`leanloop audit`: the acceptance gate applied to a file as it stands.

It serves people and CI alike: every theorem is screened (layer 1), Lean checks the file with a
reference copy of each statement and an identity check beside it (layers 3 and 5), and each
theorem's axioms are printed (layer 4). Layer 2 compares a file before and after splicing, so it
has nothing to compare here."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from leanloop.errors import LeanloopError
from leanloop.files import SourceFile, parse
from leanloop.gate import (
    Reason,
    axiom_problem,
    gate_problem,
    read_sentinel,
    reference_text,
    sentinel_command,
)
from leanloop.lean.checker import Checker
from leanloop.lean.replay import Replayer, allow_unproved
from leanloop.loop import file_name
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import Declaration, LeanDocument, TokenKind
from leanloop.source.sorries import Use, sorry_uses
from leanloop.source.targets import check_name, local_check_name

# Outside proofs, only what can make a proof unsound is a finding: a library may define
# notation, macros and instances, but not smuggle in axioms or switch off the kernel.
FILE_LEVEL = {
    "axiom": "it adds an axiom",
    "#exit": "it stops Lean before the rest of the file is checked",
    "implemented_by": "it swaps in code the kernel never checks",
    "extern": "it swaps in code the kernel never checks",
    "csimp": "it swaps in code the kernel never checks",
    "native_decide": "it trusts compiled code instead of the kernel",
}


# Said of a declaration Lean says uses `sorry` although its text shows none.
ONLY_LEAN = " (only Lean sees it: its text has none, so a macro or a tactic expands to it)"
UNREAD = " (only Lean sees it: leanloop does not read this text as a declaration)"


class Finding(BaseModel):
    theorem: str | None
    line: int
    reason: Reason
    message: str
    decl: int | None = None  # index into the document's declarations; None for the whole file


class TheoremAudit(BaseModel):
    name: str
    line: int
    axioms: list[str] | None
    ok: bool


class AuditReport(BaseModel):
    file: str
    lean_status: str
    findings: list[Finding]
    theorems: list[TheoremAudit]
    replay: str | None = None  # the independent replay: passed | failed | error | None (not run)

    @property
    def ok(self) -> bool:
        return not self.findings

    def render(self) -> str:
        lines = [
            f"{self.file}:{f.line}: {f.reason.value}: "
            f"{f.theorem + ': ' if f.theorem else ''}{f.message}"
            for f in self.findings
        ]
        good = sum(t.ok for t in self.theorems)
        lines.append(
            f"{len(self.findings)} finding(s); {good}/{len(self.theorems)} theorem(s) "
            "pass the gate."
        )
        return "\n".join(lines)


def _name(d: Declaration, line: int) -> str:
    return d.full_name or f"example@{line}"


class _Layout(BaseModel):
    text: str
    ranges: dict[int, tuple[int, int]]  # declaration index -> its lines in ``text``
    identity: dict[int, int]  # line of the identity check -> declaration index
    sentinels: dict[int, int]  # line of `#print axioms` -> declaration index
    added: list[tuple[int, int]]  # line ranges leanloop added (reference copies, checks)
    line_map: list[tuple[int, int]]  # (first line in ``text``, line delta to the user's file)


def _assemble(doc: LeanDocument, proofs: list[tuple[int, Declaration]]) -> _Layout:
    """The file with, around each theorem, a reference copy of its statement before it and the
    identity check and axioms sentinel right after it. The sentinels stand next to their
    theorems, not at the end, so an `#exit` later in the file cannot swallow them."""
    parts: list[str] = []
    pos = 0
    ranges: dict[int, tuple[int, int]] = {}
    identity: dict[int, int] = {}
    sentinels: dict[int, int] = {}
    added: list[tuple[int, int]] = []
    line_map: list[tuple[int, int]] = [(1, 0)]
    lines = 1  # the line the next part starts on

    def put(text: str) -> None:
        nonlocal lines
        parts.append(text)
        lines += text.count("\n")

    for i, d in proofs:
        line = doc.position(d.keyword)[0]
        ref = f"leanloop_ref_{line}"
        put(doc.text[pos : d.start])
        first_added = lines
        put(reference_text(doc, d, ref))
        added.append((first_added, lines - 1))
        line_map.append((lines, doc.position(d.start)[0] - lines))
        first = lines
        decl = doc.text[d.start : d.end]
        if d.full_name is None:
            kw = d.keyword - d.start
            decl = decl[:kw] + f"theorem {local_check_name(d, line)}" + decl[kw + len("example") :]
        put(decl)
        ranges[i] = (first, lines)
        put("\n")
        first_added = lines
        identity[lines] = i
        put(f"example : type_of% @{ref} := @{local_check_name(d, line)}\n")
        sentinels[lines] = i
        put(sentinel_command(check_name(d, line)) + "\n")
        added.append((first_added, lines - 1))
        # The rest of the theorem's last line (usually empty) continues on this fresh line.
        line_map.append((lines, doc.position(d.end)[0] - lines))
        pos = d.end
    put(doc.text[pos:])
    return _Layout(
        text="".join(parts),
        ranges=ranges,
        identity=identity,
        sentinels=sentinels,
        added=added,
        line_map=line_map,
    )


def _user_line(layout: _Layout, line: int) -> int | None:
    """The user's line for a line of the assembled text; None inside what leanloop added."""
    if any(a <= line <= b for a, b in layout.added):
        return None
    delta = 0
    for first, d in layout.line_map:
        if first > line:
            break
        delta = d
    return line + delta


def _text_sorries(doc: LeanDocument, only: set[int] | None) -> list[Finding]:
    """The text's view: every `sorry` in code the screen of proof bodies does not report
    (statements, `def` bodies, instance fields, macros, commands), one finding per declaration,
    or per command outside declarations."""
    index = {id(d): i for i, d in enumerate(doc.declarations)}
    out: list[Finding] = []
    seen: set[object] = set()
    for u in sorry_uses(doc):
        d = u.decl
        if d is not None:
            i = index[id(d)]
            if (only is not None and i not in only) or i in seen:
                continue
            if d.is_proof and u.use is Use.TARGET:
                continue  # the body's screen reports it
            seen.add(i)
            line = doc.position(d.keyword)[0]
            out.append(
                Finding(
                    theorem=_name(d, line),
                    line=line,
                    reason=Reason.SORRY,
                    message=f"uses `sorry`: {u.reason}",
                    decl=i,
                )
            )
        elif only is None:
            cmd = next(c for c in doc.commands if c.start <= u.offset < c.end)
            words = " ".join(doc.text[cmd.start : cmd.end].split())
            shown = words if len(words) <= 40 else words[:39] + "…"
            out.append(
                Finding(
                    theorem=None,
                    line=u.line,
                    reason=Reason.SORRY,
                    message=f"`sorry` in `{shown}`: {u.reason}",
                )
            )
    return out


def _static(doc: LeanDocument, policy: Policy, only: set[int] | None) -> list[Finding]:
    findings: list[Finding] = []
    bodies: list[tuple[int, int]] = []
    for i, d in enumerate(doc.declarations):
        if only is not None and i not in only:
            continue
        line = doc.position(d.keyword)[0]
        if d.kind == "axiom":
            findings.append(
                Finding(
                    theorem=d.full_name,
                    line=line,
                    reason=Reason.AXIOMS,
                    message="this declaration is an axiom",
                    decl=i,
                )
            )
        if d.is_proof and d.body_start is not None:
            bodies.append((d.body_start, d.end))
            problem = screen(doc.text[d.body_start : d.end], policy)
            if problem is not None:
                reason = (
                    Reason.SORRY
                    if "`sorry`" in problem or "`admit`" in problem
                    else (Reason.FORBIDDEN)
                )
                findings.append(
                    Finding(
                        theorem=_name(d, line), line=line, reason=reason, message=problem, decl=i
                    )
                )
    findings += _text_sorries(doc, only)
    if only is not None:
        return findings
    for tok in doc.tokens:
        if tok.kind not in (TokenKind.IDENT, TokenKind.SYMBOL):
            continue
        if any(a <= tok.start < b for a, b in bodies):
            continue
        why = FILE_LEVEL.get(tok.text)
        if why is None and tok.text.startswith("debug."):
            why = "it is an option that can switch off checking"
        if why is not None and tok.text != "axiom":
            findings.append(
                Finding(
                    theorem=None,
                    line=doc.position(tok.start)[0],
                    reason=Reason.FORBIDDEN,
                    message=f"the file uses `{tok.text}`: {why}",
                )
            )
    return findings


async def audit_file(
    path: Path,
    checker: Checker,
    policy: Policy,
    *,
    replayer: Replayer | None = None,
    replay_required: bool = False,
) -> AuditReport:
    source = SourceFile.read(path)
    doc = parse(source)
    if (problem := gate_problem(doc, path)) is not None:
        raise LeanloopError(problem)
    report = await audit_document(doc, checker, policy, path=str(path))
    if replayer is not None:
        await _replay(report, replayer, doc, path, replay_required)
    return report


async def _replay(
    report: AuditReport, replayer: Replayer, doc: LeanDocument, path: Path, required: bool
) -> None:
    """The file replayed against itself: the kernel replays its declarations and SafeVerify
    checks their axioms and `unsafe`; a `sorry` is already a finding of its own."""
    verdict = await replayer.replay(doc.text, doc.text, file_name=file_name(str(path)))
    verdict = allow_unproved(
        verdict, {check_name(d, doc.position(d.keyword)[0]) for d in doc.declarations if d.sorries}
    )
    report.replay = verdict.status if verdict.status != "unavailable" else "error"
    if verdict.passed:
        return
    # The file is both SafeVerify's target and its submission, so a problem in it can surface
    # while the "target" is replayed, which the replay layer calls an error: for an audit,
    # anything but a pass is a finding. Only a tool that is not there stays quiet under `auto`.
    if verdict.status != "unavailable" or required:
        report.findings.append(
            Finding(theorem=None, line=0, reason=Reason.REPLAY, message=verdict.reason)
        )


async def audit_document(
    doc: LeanDocument,
    checker: Checker,
    policy: Policy,
    *,
    path: str,
    only: set[int] | None = None,
) -> AuditReport:
    """The gate over a whole document, for the declarations in ``only`` (default: every proof).

    Errors outside those declarations become findings with ``decl=None``."""
    findings = _static(doc, policy, only)
    proofs = [
        (i, d)
        for i, d in enumerate(doc.declarations)
        if d.is_proof and d.header_end is not None and (only is None or i in only)
    ]
    layout = _assemble(doc, proofs)
    result = await checker.check(layout.text, file_name=file_name(path))
    theorems: list[TheoremAudit] = []
    if result.status != "ok":
        reason = {"timeout": Reason.TIMEOUT, "crashed": Reason.CRASH, "junk": Reason.JUNK}.get(
            result.status, Reason.LEAN_UNAVAILABLE
        )
        findings.append(Finding(theorem=None, line=1, reason=reason, message=result.describe()))
        return AuditReport(
            file=path, lean_status=result.status, findings=findings, theorems=theorems
        )
    by_line = {ln: i for i, (a, b) in layout.ranges.items() for ln in range(a, b + 1)}
    bad: dict[int, Finding] = {}
    for m in result.messages:
        i = by_line.get(m.pos.line)
        if m.is_error and m.pos.line in layout.identity:
            j = layout.identity[m.pos.line]
            d = doc.declarations[j]
            ln = doc.position(d.keyword)[0]
            bad.setdefault(
                j,
                Finding(
                    theorem=_name(d, ln),
                    line=ln,
                    reason=Reason.STATEMENT,
                    message="Lean found the proof's type differs from the statement",
                    decl=j,
                ),
            )
        elif m.is_sorry_warning and i is None:
            # Lean's view: a declaration of any kind that uses `sorry`, by its position.
            user_line = _user_line(layout, m.pos.line)
            k = None if user_line is None else doc.declaration_at_line(user_line)
            if k is None and only is None and user_line is not None:
                # Fail closed: Lean's word stands even where the text shows no declaration
                # (a command leanloop cannot read as one). The message names no line, so ci
                # matches it to the base by count.
                findings.append(
                    Finding(
                        theorem=None,
                        line=user_line,
                        reason=Reason.SORRY,
                        message="Lean: declaration uses `sorry`" + UNREAD,
                    )
                )
            elif k is not None and (only is None or k in only):
                d = doc.declarations[k]
                ln = doc.position(d.keyword)[0]
                bare = not d.sorries and not d.statement_sorries
                bad.setdefault(
                    k,
                    Finding(
                        theorem=_name(d, ln),
                        line=ln,
                        reason=Reason.SORRY,
                        message="Lean: declaration uses `sorry`" + (ONLY_LEAN if bare else ""),
                        decl=k,
                    ),
                )
        elif m.is_error and i is None and m.pos.line not in layout.sentinels:
            user_line = _user_line(layout, m.pos.line)
            first = m.data.splitlines()[0] if m.data else "error"
            if user_line is None:
                first += " (in a check leanloop added)"
            findings.append(
                Finding(
                    theorem=None,
                    line=user_line if user_line is not None else 0,
                    reason=Reason.LEAN_ERROR,
                    message=first,
                )
            )
        elif i is not None and (m.is_error or m.is_sorry_warning):
            d = doc.declarations[i]
            ln = doc.position(d.keyword)[0]
            reason = Reason.LEAN_ERROR if m.is_error else Reason.SORRY
            text = m.data.splitlines()[0] if m.data else ""
            if m.is_sorry_warning and not d.sorries and not d.statement_sorries:
                text += ONLY_LEAN
            bad.setdefault(
                i,
                Finding(
                    theorem=_name(d, ln), line=ln, reason=reason, message=f"Lean: {text}", decl=i
                ),
            )
    for line, i in layout.sentinels.items():
        d = doc.declarations[i]
        ln = doc.position(d.keyword)[0]
        decl_first, _ = layout.ranges[i]
        rep = read_sentinel(result.messages, line, check_name(d, ln), range(decl_first, line + 1))
        axioms = rep.axioms if not isinstance(rep, str) else None
        if isinstance(rep, str) and i not in bad:
            bad[i] = Finding(
                theorem=_name(d, ln),
                line=ln,
                reason=Reason.NO_SENTINEL,
                message=rep,
                decl=i,
            )
        elif not isinstance(rep, str) and i not in bad:
            extra = axiom_problem(rep.axioms, policy)
            if extra:
                reason = Reason.SORRY if "sorryAx" in extra else Reason.AXIOMS
                bad[i] = Finding(
                    theorem=_name(d, ln),
                    line=ln,
                    reason=reason,
                    message=f"depends on {', '.join(extra)}",
                    decl=i,
                )
        static_bad = any(f.decl == i for f in findings)
        theorems.append(
            TheoremAudit(
                name=_name(d, ln), line=ln, axioms=axioms, ok=i not in bad and not static_bad
            )
        )
    for f in bad.values():
        if not any(g.decl == f.decl and g.reason == f.reason for g in findings):
            findings.append(f)
    findings.sort(key=lambda f: f.line)
    return AuditReport(file=path, lean_status=result.status, findings=findings, theorems=theorems)
