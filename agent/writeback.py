"""Writing verified proofs back: the whole new file goes through the gate once more, then an
atomic replace (see :mod:`leanloop.files`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from leanloop.audit import audit_document
from leanloop.files import SourceFile, atomic_write
from leanloop.gate import Reason, signature
from leanloop.lean.checker import Checker, LeanResult
from leanloop.policy import Policy
from leanloop.source import LeanDocument, UnterminatedError
from leanloop.source.targets import Proof, Target, apply_proofs

__all__ = ["FinalCheck", "SourceFile", "atomic_write", "final_check"]


@dataclass
class FinalCheck:
    text: str
    kept: list[str]
    dropped: dict[str, str]  # target name -> why its proof was left out


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "error"


async def _judge_whole(
    doc: LeanDocument,
    chosen: list[tuple[Target, Proof, bool]],
    checker: Checker,
    baseline: LeanResult,
    policy: Policy,
    file_name: str,
) -> dict[str, str]:
    """Per target, why the whole new file does not confirm its proof (empty when all is well)."""
    names = [t.name for t, _, _ in chosen]
    applied = apply_proofs(doc, chosen)
    try:
        new_doc = LeanDocument(applied.text)
    except UnterminatedError as e:
        return dict.fromkeys(names, f"the new file has an {e}")
    if [signature(new_doc, d) for d in new_doc.declarations] != [
        signature(doc, d) for d in doc.declarations
    ]:
        return dict.fromkeys(names, "the declarations of the file changed")
    if _commands_outside(doc, applied.replaced) != _commands_outside(new_doc, applied.spans):
        return dict.fromkeys(names, "the commands of the file outside the proofs changed")
    index = {doc.declarations.index(t.decl): t.name for t, _, _ in chosen}
    report = await audit_document(new_doc, checker, policy, path=file_name, only=set(index))
    failed: dict[str, str] = {}
    for f in report.findings:
        if f.decl in index:
            failed.setdefault(index[f.decl], f.message)
        elif f.decl is None and f.reason is not Reason.LEAN_ERROR:
            return dict.fromkeys(names, f.message)  # Lean did not run to the end
    file_errors = Counter(
        f.message for f in report.findings if f.decl is None and f.reason is Reason.LEAN_ERROR
    )
    new_errors = file_errors - Counter(_first_line(m.data) for m in baseline.errors)
    if new_errors and not failed:
        # Errors outside the changed theorems that the original did not have.
        return dict.fromkeys(names, "the new file has errors the original did not have")
    return failed


def _commands_outside(doc: LeanDocument, spans: list[tuple[int, int]]) -> list[list[str]]:
    """Every command's code tokens, those inside the proof spans left out: the whole file
    outside the proofs must be the original, command by command."""
    out: list[list[str]] = []
    for cmd in doc.commands:
        out.append(
            [
                t.text
                for t in cmd.tokens
                if t.is_code and not any(a <= t.start < b for a, b in spans)
            ]
        )
    return out


async def final_check(
    doc: LeanDocument,
    chosen: list[tuple[Target, Proof, bool]],
    checker: Checker,
    baseline: LeanResult,
    policy: Policy,
    file_name: str,
) -> FinalCheck:
    """Check the whole new file; leave out proofs it does not confirm and check again."""
    dropped: dict[str, str] = {}
    while chosen:
        failed = await _judge_whole(doc, chosen, checker, baseline, policy, file_name)
        if not failed:
            text = apply_proofs(doc, chosen).text
            return FinalCheck(text, [t.name for t, _, _ in chosen], dropped)
        dropped.update(failed)
        if len(failed) == len(chosen):
            break
        chosen = [c for c in chosen if c[0].name not in failed]
    return FinalCheck(doc.text, [], dropped)
