"""`leanloop check`: Lean's messages for a file, its `sorry`s and each theorem's axioms."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from leanloop.files import SourceFile, parse
from leanloop.gate import sentinel_command
from leanloop.lean.checker import Checker
from leanloop.lean.messages import LeanMessage, Severity, parse_axioms
from leanloop.loop import file_name
from leanloop.source import LeanDocument
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
    errors: int
    warnings: int
    sorries: int  # `sorry` tokens in the source
    sorry_warnings: int  # declarations Lean says use `sorry`
    theorems: list[TheoremAxioms]
    targets: list[TargetInfo] = []

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.errors == 0

    def render(self) -> str:
        lines = [m.render(self.file) for m in self.messages]
        if self.status != "ok":
            lines.append(self.detail)
        lines.append("")
        lines.append(
            f"{self.errors} error(s), {self.warnings} warning(s), {self.sorries} "
            f"`sorry` in the source, {self.sorry_warnings} declaration(s) using `sorry`."
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
    sentinel_errors = [m for m in result.messages if m.pos.line >= first_sentinel and m.is_error]
    return FileCheck(
        file=path,
        status=result.status,
        detail=result.describe(),
        messages=own,
        errors=sum(m.is_error for m in own) + len(sentinel_errors),
        warnings=sum(m.severity is Severity.WARNING for m in own),
        sorries=sum(len(d.sorries) for d in doc.declarations),
        sorry_warnings=sum(m.is_sorry_warning for m in own),
        theorems=theorems,
        targets=target_infos(doc),
    )


def target_infos(doc: LeanDocument) -> list[TargetInfo]:
    out = []
    for t in find_targets(doc):
        d = t.decl
        end = d.header_end if d.header_end is not None else d.end
        after = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
        statement = " ".join(doc.text[after:end].split())
        hole = "whole body" if t.whole_body else f"{t.mode} hole"
        out.append(
            TargetInfo(
                name=t.name, line=t.line, hole=hole, statement=statement, unsure=list(d.unsure)
            )
        )
    return out
