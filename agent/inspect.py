"""`leanloop check`: Lean's messages for a file, its `sorry`s and each theorem's axioms."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from leanloop.files import SourceFile, parse
from leanloop.gate import sentinel_command
from leanloop.lean.checker import Checker
from leanloop.lean.messages import LeanMessage, Severity, parse_axioms
from leanloop.loop import file_name
from leanloop.report import SorryEntry
from leanloop.source import Declaration, LeanDocument, TokenKind, UnterminatedError, tokenize
from leanloop.source.sorries import SorryUse, label, sorry_uses
from leanloop.source.targets import find_targets


class TheoremAxioms(BaseModel):
    name: str
    line: int
    axioms: list[str] | None  # None when Lean gave no answer (e.g. the theorem failed)
    nonstandard: list[str] = []


class TargetInfo(BaseModel):
    """How leanloop reads a target, so a mis-parse is visible before any model call."""

    name: str
    line: int
    hole: str  # tactic hole | term hole | whole body
    statement: str
    unsure: list[str] = []  # constructs leanloop could not place with certainty


class FileCheck(BaseModel):
    file: str
    status: str
    detail: str
    messages: list[LeanMessage]
    errors: int  # every error counted here is in ``messages`` or ``added_errors``
    warnings: int
    sorries: int  # `sorry`/`admit` tokens in the code
    sorry_warnings: int  # declarations Lean says use `sorry`
    theorems: list[TheoremAxioms]
    targets: list[TargetInfo] = []
    sorry_list: list[SorryEntry] = []
    # Errors in the `#print axioms` lines leanloop appended, with what each means for the user.
    added_errors: list[str] = []
    # Declarations Lean says use `sorry` though their text has none (a macro, a tactic).
    lean_only_sorries: list[str] = []

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.errors == 0

    def render(self) -> str:
        lines = [m.render(self.file) for m in self.messages]
        lines.extend(f"{self.file}: leanloop's check: {e}" for e in self.added_errors)
        if self.status != "ok":
            lines.append(self.detail)
        lines.append("")
        lines.append(
            f"{self.errors} error(s), {self.warnings} warning(s), {self.sorries} "
            f"`sorry` in the code, {self.sorry_warnings} declaration(s) Lean says use `sorry`."
        )
        for t in self.theorems:
            if t.axioms is None:
                ax = "no answer from Lean"
            elif not t.axioms:
                ax = "no axioms"
            else:
                ax = ", ".join(t.axioms)
            flag = "  <- nonstandard" if t.nonstandard else ""
            lines.append(f"  {t.name} (line {t.line}): {ax}{flag}")
        if self.targets:
            lines.append("")
            lines.append(f"{len(self.targets)} target(s) to prove:")
        for g in self.targets:
            lines.append(f"  {g.name} (line {g.line}), {g.hole}: {g.statement}")
            lines.extend(f"    could not place {u} for sure" for u in g.unsure)
        others = [x for x in self.sorry_list if not x.target]
        if others or self.lean_only_sorries:
            lines.append("")
            lines.append(f"{len(others) + len(self.lean_only_sorries)} `sorry` not to prove:")
        lines.extend(f"  {x.render()}" for x in others)
        lines.extend(
            f"  {name}: Lean says it uses `sorry`, where leanloop's reading of the text shows "
            "none (a macro, a tactic or a command that expands to it)"
            for name in self.lean_only_sorries
        )
        return "\n".join(lines)


async def inspect_file(path: Path, checker: Checker) -> FileCheck:
    source = SourceFile.read(path)
    return await inspect_document(parse(source), checker, str(path))


async def inspect_document(doc: LeanDocument, checker: Checker, path: str) -> FileCheck:
    """Lean's messages for ``doc`` (labelled ``path``), its `sorry`s and its theorems' axioms."""
    named = [d for d in doc.declarations if d.kind in ("theorem", "lemma") and d.full_name]
    text = doc.text.rstrip() + "\n\n"
    first_sentinel = text.count("\n") + 1
    for d in named:
        text += sentinel_command(d.full_name or "") + "\n"
    result = await checker.check(text, file_name=file_name(path))
    # Lean saw a scratch copy; the messages are about the user's file.
    own = [
        m.model_copy(update={"file_name": path})
        for m in result.messages
        if m.pos.line < first_sentinel
    ]
    answers = {
        m.pos.line: parse_axioms(m.data)
        for m in result.messages
        if m.pos.line >= first_sentinel and m.severity is Severity.INFORMATION
    }
    theorems = []
    for i, d in enumerate(named):
        rep = answers.get(first_sentinel + i)
        theorems.append(
            TheoremAxioms(
                name=d.full_name or "",
                line=doc.position(d.keyword)[0],
                axioms=rep.axioms if rep else None,
                nonstandard=rep.nonstandard if rep else [],
            )
        )
    added = [m for m in result.messages if m.pos.line >= first_sentinel and m.is_error]
    uses = sorry_uses(doc)
    return FileCheck(
        file=path,
        status=result.status,
        detail=result.describe(),
        messages=own,
        errors=sum(m.is_error for m in own) + len(added),
        warnings=sum(m.severity is Severity.WARNING for m in own),
        sorries=len(uses),
        sorry_warnings=sum(m.is_sorry_warning for m in own),
        theorems=theorems,
        targets=target_infos(doc),
        sorry_list=[SorryEntry.of(u, path) for u in uses],
        added_errors=[_added_error(m, named, first_sentinel, doc) for m in added],
        lean_only_sorries=lean_only_sorries(doc, own, uses),
    )


def _added_error(m: LeanMessage, named: list[Declaration], first: int, doc: LeanDocument) -> str:
    """An error in a `#print axioms` line leanloop appended, said as what it means."""
    k = m.pos.line - first
    text = m.data.splitlines()[0] if m.data else "error"
    if 0 <= k < len(named):
        d = named[k]
        return (
            f"`#print axioms {d.full_name}` (added after line {doc.position(d.end)[0]}) failed: "
            f"{text}. Lean did not accept `{d.full_name}` under that name, so its axioms are "
            "unknown; see its own errors above."
        )
    return f"a line leanloop added failed: {text}"


def lean_only_sorries(
    doc: LeanDocument, messages: list[LeanMessage], uses: list[SorryUse]
) -> list[str]:
    """Declarations Lean says use `sorry` whose text shows none, by label (or by line where
    leanloop reads no declaration)."""
    seen = {u.declaration for u in uses}
    out: list[str] = []
    for m in messages:
        if not m.is_sorry_warning:
            continue
        i = doc.declaration_at_line(m.pos.line)
        # Where leanloop reads no declaration (a command of the file's own), Lean's word
        # still counts: the line names it.
        name = f"line {m.pos.line}" if i is None else label(doc, doc.declarations[i])
        if name not in seen and name not in out:
            out.append(name)
    return out


def target_infos(doc: LeanDocument) -> list[TargetInfo]:
    out = []
    for t in find_targets(doc):
        d = t.decl
        end = d.header_end if d.header_end is not None else d.end
        after = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
        if t.whole_body:
            hole = "whole body"
        elif t.parts > 1:
            hole = f"{t.parts} holes ({', '.join(h.mode for h in t.holes)})"
        else:
            hole = f"{t.mode} hole"
        out.append(
            TargetInfo(
                name=t.name,
                line=t.line,
                hole=hole,
                statement=shown_statement(doc.text[after:end]),
                unsure=list(d.unsure),
            )
        )
    return out


def shown_statement(text: str) -> str:
    """A statement as shown to people: comments left out, whitespace collapsed (never what is
    checked)."""
    try:
        tokens = tokenize(text)
    except UnterminatedError:
        return " ".join(text.split())
    kept, at = [], 0
    for t in tokens:
        if t.kind is TokenKind.COMMENT:
            kept.append(text[at : t.start])
            at = t.end
    kept.append(text[at:])
    return " ".join("".join(kept).split())
