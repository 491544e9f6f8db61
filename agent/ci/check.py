"""Audit each file in scope and compare it with its base revision, declaration by declaration.

A finding is new when the base revision of the same file (after a rename, the old path) has no
finding of the same kind for a declaration of the same name; lines never enter the comparison,
so an edit above an old `sorry` does not make it new."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from leanloop.audit import AuditReport, Finding, audit_document
from leanloop.ci.config import CiConfig
from leanloop.ci.model import CiFinding, DeclCheck, FailOn, FileResult, Ratchet, Rule
from leanloop.ci.scope import FileScope, Scope, read_base
from leanloop.errors import LeanNotFoundError
from leanloop.gate import Reason, is_native
from leanloop.lean.checker import Checker
from leanloop.lean.messages import STANDARD_AXIOMS, LeanMessage, Position, Severity, missing_module
from leanloop.lean.project import find_lake_root
from leanloop.policy import Policy
from leanloop.source import Declaration, LeanDocument, UnterminatedError

Say = Callable[[str], None]
MakeChecker = Callable[[Path], Checker]

_RULES = {
    Reason.SORRY: Rule.SORRY,
    Reason.AXIOMS: Rule.AXIOM,
    Reason.FORBIDDEN: Rule.FORBIDDEN,
    Reason.STRUCTURE: Rule.FORBIDDEN,
}


def decl_key(doc: LeanDocument, d: Declaration) -> str:
    """A declaration's identity across revisions: its full name; for an `example`, its
    statement (examples have no name, and their line moves with every edit above them)."""
    if d.full_name:
        return d.full_name
    header = doc.text[d.keyword + len(d.kind) : d.header_end or d.end]
    return f"{d.kind} " + " ".join(header.split())


def decl_label(doc: LeanDocument, d: Declaration) -> str:
    return d.full_name or f"example@{doc.position(d.keyword)[0]}"


def _from_message(message: str) -> list[str]:
    _, _, names = message.partition("depends on ")
    return [a.strip() for a in names.split(",") if a.strip()] or [message]


def _extra_axioms(axioms: list[str] | None) -> list[str]:
    return [a for a in axioms or [] if a not in STANDARD_AXIOMS and a != "sorryAx"]


@dataclass
class Audited:
    """One revision of one file, audited."""

    doc: LeanDocument | None
    report: AuditReport | None
    unreadable: str | None = None
    keyed: dict[tuple[Rule, str], Finding] = field(default_factory=dict)
    loose: Counter[tuple[Rule, str]] = field(default_factory=Counter)
    axioms: dict[str, list[str]] = field(default_factory=dict)
    sorries: dict[str, int] = field(default_factory=dict)
    not_built: str | None = None


async def _audit(text: str, rel: str, checker: Checker, policy: Policy) -> Audited:
    try:
        doc = LeanDocument(text)
    except UnterminatedError as e:
        return Audited(None, None, unreadable=f"Cannot read {rel}: it has an {e}.")
    report = await audit_document(doc, checker, policy, path=rel)
    if report.lean_status == "start_failed":
        detail = next(
            (f.message for f in report.findings if f.reason is Reason.LEAN_UNAVAILABLE), ""
        )
        raise LeanNotFoundError(f"Lean could not be started: {detail}")
    out = Audited(doc, report)
    for f in report.findings:
        if f.reason is Reason.LEAN_ERROR and f.decl is None:
            msg = LeanMessage(
                pos=Position(line=1, column=0), severity=Severity.ERROR, data=f.message
            )
            out.not_built = out.not_built or missing_module([msg])
    names = {t.name: t.axioms for t in report.theorems}
    for i, d in enumerate(doc.declarations):
        key = decl_key(doc, d)
        out.sorries[key] = out.sorries.get(key, 0) + len(d.sorries) + len(d.statement_sorries)
        ax = names.get(decl_label(doc, d))
        if d.kind == "axiom" and d.full_name:
            ax = [d.full_name]
        if ax is not None:
            out.axioms[key] = sorted(set(_extra_axioms(ax)))
        for f in report.findings:
            if f.decl == i:
                out.keyed.setdefault((_RULES.get(f.reason, Rule.ERROR), key), f)
    for f in report.findings:
        if f.decl is None:
            out.loose[(_RULES.get(f.reason, Rule.ERROR), f.message)] += 1
    return out


class Exceptions:
    """The allow-list, and which of its per-declaration entries matched something."""

    def __init__(self, config: CiConfig) -> None:
        self.config = config
        self.used: set[tuple[str, str]] = set()
        self.seen_decls: set[str] = set()

    def _covers(self, item: str, axiom: str) -> bool:
        return item == axiom or (item == "native_decide" and is_native(axiom))

    def remaining_axioms(self, decl: str | None, axioms: list[str]) -> list[str]:
        left = []
        for a in axioms:
            if any(self._covers(item, a) for item in self.config.allow_axioms):
                continue
            items = self.config.exceptions.get(decl or "", [])
            hit = next((item for item in items if self._covers(item, a)), None)
            if hit is not None and decl is not None:
                self.used.add((decl, hit))
                continue
            left.append(a)
        return left

    def allows_token(self, decl: str | None, message: str) -> bool:
        if any(f"`{item}`" in message for item in self.config.allow_axioms):
            return True
        for item in self.config.exceptions.get(decl or "", []):
            if f"`{item}`" in message and decl is not None:
                self.used.add((decl, item))
                return True
        return False

    def stale(self, whole_repo: bool) -> list[str]:
        out: list[str] = []
        for decl, items in self.config.exceptions.items():
            if not whole_repo and decl not in self.seen_decls:
                continue  # its file was not checked in this run
            out.extend(f"{decl}: {item}" for item in items if (decl, item) not in self.used)
        return out


def _location(doc: LeanDocument, d: Declaration | None, rule: Rule, line: int) -> tuple[int, ...]:
    """1-based (line, column, end line, end column) to show a finding at."""
    if d is None:
        return line, 1, line, 1
    if rule is Rule.SORRY and (d.sorries or d.statement_sorries):
        start = min((*d.sorries, *d.statement_sorries))
        ln, col = doc.position(start)
        return ln, col + 1, ln, col + 1 + len("sorry")
    ln, col = doc.position(d.keyword)
    if d.name_end is not None:
        end_ln, end_col = doc.position(d.name_end)
    else:
        end_ln, end_col = ln, col + len(d.kind)
    return ln, col + 1, end_ln, end_col + 1


def compare(
    fs: FileScope,
    head: Audited,
    base: Audited | None,
    exceptions: Exceptions,
    fail_on: list[FailOn],
) -> FileResult:
    assert head.doc is not None and head.report is not None
    doc = head.doc
    findings: list[CiFinding] = []
    base_ok = base is not None and base.report is not None and base.report.lean_status == "ok"
    loose_budget = Counter(base.loose) if base is not None else Counter()
    exceptions.seen_decls.update(x.full_name for x in doc.declarations if x.full_name)
    for f in head.report.findings:
        rule = _RULES.get(f.reason, Rule.ERROR)
        index = f.decl
        if index is None and f.line > 1 and rule is Rule.FORBIDDEN:
            index = doc.declaration_at_line(f.line)  # a token outside proofs, inside a `def`
        d = doc.declarations[index] if index is not None else None
        name = d.full_name if d is not None else None
        key = decl_key(doc, d) if d is not None else f"{fs.path}: {f.message}"
        axioms: list[str] = []
        message = f.message
        if rule is Rule.AXIOM:
            found = head.axioms.get(key) or _from_message(f.message)
            axioms = exceptions.remaining_axioms(name, found)
            if not axioms:
                continue
            if d is not None and d.kind == "axiom":
                message = f"declares the axiom {', '.join(axioms)}"
            else:
                message = f"depends on {', '.join(axioms)}"
        elif rule is Rule.FORBIDDEN and exceptions.allows_token(name, f.message):
            continue
        new: bool | None
        if base is None:
            new = None if fs.change == "unchanged" else True
        elif not base_ok:
            new = True  # the base could not be checked: nothing to call pre-existing
        elif rule is Rule.AXIOM:
            added = sorted(set(axioms) - set(base.axioms.get(key, [])))
            new = bool(added)
            if added and added != axioms:
                message += f" (new: {', '.join(added)})"
        elif f.decl is not None:
            new = (rule, key) not in base.keyed
        else:
            new = loose_budget[(rule, f.message)] <= 0
            loose_budget[(rule, f.message)] -= 1
        shown = d if f.decl is not None else None
        ln, col, end_ln, end_col = _location(doc, shown, rule, f.line)
        finding = CiFinding(
            rule=rule,
            reason=f.reason.value,
            file=fs.path,
            line=ln,
            column=col,
            end_line=end_ln,
            end_column=end_col,
            declaration=f.theorem or (decl_label(doc, d) if d is not None else None),
            key=key,
            message=message,
            new=new,
            axioms=axioms,
        )
        finding.fires = [
            r.label for r in fail_on if r.rule is rule and (not r.new_only or new is not False)
        ]
        findings.append(finding)
    findings.sort(key=lambda x: (x.line, x.column))
    bad = {x.key for x in findings}
    checked = [
        DeclCheck(
            name=decl_label(doc, d), line=doc.position(d.keyword)[0], ok=decl_key(doc, d) not in bad
        )
        for d in doc.declarations
        if d.is_proof or d.kind == "axiom" or decl_key(doc, d) in bad
    ]
    return FileResult(
        path=fs.path,
        base_path=fs.base_path if fs.change != "unchanged" else None,
        change=fs.change,
        status="checked",
        declarations=checked,
        findings=findings,
        ratchet=_ratchet(fs.path, head, base) if base is not None and base_ok else [],
    )


def _ratchet(path: str, head: Audited, base: Audited) -> list[Ratchet]:
    out = []
    for key in sorted(set(head.sorries) | set(base.sorries)):
        before, after = base.sorries.get(key, 0), head.sorries.get(key, 0)
        ax_before = set(base.axioms.get(key, []))
        ax_after = set(head.axioms.get(key, []))
        if before == after and ax_before == ax_after:
            continue
        out.append(
            Ratchet(
                file=path,
                declaration=key,
                sorries_before=before,
                sorries_after=after,
                axioms_added=sorted(ax_after - ax_before),
                axioms_removed=sorted(ax_before - ax_after),
            )
        )
    return out


def _problem_result(fs: FileScope, message: str, reason: str, fail_on: list[FailOn]) -> FileResult:
    finding = CiFinding(
        rule=Rule.ERROR,
        reason=reason,
        file=fs.path,
        line=1,
        column=1,
        end_line=1,
        end_column=1,
        declaration=None,
        key=f"{fs.path}: {reason}",
        message=message,
        new=None,
        fires=[r.label for r in fail_on if r.rule is Rule.ERROR],
    )
    status = "not_built" if reason == Reason.NOT_BUILT.value else "unreadable"
    return FileResult(
        path=fs.path,
        base_path=fs.base_path,
        change=fs.change,
        status=status,
        declarations=[],
        findings=[finding],
    )


async def check_scope(
    scope: Scope,
    make_checker: MakeChecker,
    policy: Policy,
    config: CiConfig,
    fail_on: list[FailOn],
    say: Say,
) -> tuple[list[FileResult], list[str], list[str]]:
    """Every file's result, the stale exceptions, and notes for the user."""
    from leanloop.files import SourceFile

    checkers: dict[Path, Checker] = {}

    def checker_for(rel: str) -> Checker:
        root = find_lake_root(scope.root / rel) or scope.root
        if root not in checkers:
            checkers[root] = make_checker(root / "_leanloop_ci_.lean")
        return checkers[root]

    texts = {fs.path: SourceFile.read(scope.root / fs.path).text for fs in scope.files}
    say(f"Checking {len(scope.files)} Lean file(s) in {scope.root}…")
    exceptions = Exceptions(config)

    async def one(fs: FileScope) -> tuple[Audited, Audited | None]:
        checker = checker_for(fs.path)
        head_task = _audit(texts[fs.path], fs.path, checker, policy)
        base_text = None
        if scope.base_sha is not None and fs.base_path is not None:
            base_text = read_base(scope.root, scope.base_sha, fs.base_path)
        if base_text is None:
            return await head_task, None
        head, base = await asyncio.gather(
            head_task, _audit(base_text, fs.base_path or fs.path, checker, policy)
        )
        return head, base

    try:
        audited = await asyncio.gather(*(one(fs) for fs in scope.files))
    finally:
        for c in checkers.values():
            await c.aclose()
    results: list[FileResult] = []
    not_built: list[str] = []
    for fs, (head, base) in zip(scope.files, audited, strict=True):
        if head.unreadable is not None:
            results.append(_problem_result(fs, head.unreadable, "unreadable", fail_on))
        elif head.not_built is not None:
            not_built.append(f"{fs.path} (module {head.not_built})")
            results.append(
                _problem_result(
                    fs,
                    f"not checked: the imported module {head.not_built} is not built",
                    Reason.NOT_BUILT.value,
                    fail_on,
                )
            )
        else:
            if base is not None and (base.not_built or base.unreadable):
                base = Audited(None, None)
            results.append(compare(fs, head, base, exceptions, fail_on))
    notes = []
    if not_built:
        notes.append(
            f"{len(not_built)} file(s) could not be checked because their imports are not "
            f"built: {', '.join(not_built[:3])}{' …' if len(not_built) > 3 else ''}; run "
            "`lake build` first, or pass --build."
        )
    return results, exceptions.stale(scope.whole_repo), notes
