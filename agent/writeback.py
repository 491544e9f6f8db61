"""Writing verified proofs back: one more whole-file check, then an atomic replace."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from agent.errors import UsageError
from agent.gate import SENTINEL, is_native
from agent.lean.checker import Checker, LeanResult
from agent.lean.messages import STANDARD_AXIOMS, Severity, parse_axioms
from agent.policy import Policy
from agent.source import LeanDocument
from agent.source.targets import Target, _edit, apply_proofs

BOM = "\ufeff"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    bom: bool

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        if not path.exists():
            raise UsageError(f"No such file: {path}.")
        if path.is_dir():
            raise UsageError(f"{path} is a directory, not a Lean file.")
        if path.suffix != ".lean":
            raise UsageError(f"{path} is not a Lean file (expected a .lean file).")
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise UsageError(f"Cannot read {path}: {e.strerror}.") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text, which Lean requires.") from None
        bom = text.startswith(BOM)
        return cls(path, raw, text[1:] if bom else text, bom)

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")


def atomic_write(path: Path, data: bytes, *, like: Path | None = None) -> None:
    """Write via a temporary file in the same directory and a rename: all or nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        src = like if like is not None and like.exists() else None
        if src is not None:
            os.chmod(tmp, src.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class FinalCheck:
    text: str
    kept: list[str]
    dropped: dict[str, str]  # target name -> why its proof was left out


def _final_text(doc: LeanDocument, chosen: list[tuple[Target, str, bool]]) -> tuple[str, list[int]]:
    edits = [_edit(doc, t, p, w) for t, p, w in chosen]
    for t, _, _ in chosen:
        if t.decl.full_name is None:
            kw = t.decl.keyword
            edits.append((kw, kw + len("example"), f"theorem {t.check_name}"))
    text = doc.text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:start] + new + text[end:]
    text = text.rstrip() + "\n\n"
    lines = []
    for t, _, _ in chosen:
        lines.append(text.count("\n") + 1)
        text += f"{SENTINEL} {t.check_name}\n"
    return text, lines


def _judge_whole(
    result: LeanResult,
    baseline: LeanResult,
    doc: LeanDocument,
    text: str,
    chosen: list[tuple[Target, str, bool]],
    lines: list[int],
    policy: Policy,
) -> dict[str, str]:
    """Per target, why the whole new file does not confirm it (empty when all is well)."""
    if result.status != "ok":
        return {t.name: result.describe() for t, _, _ in chosen}
    new_doc = LeanDocument(text)
    if len(new_doc.declarations) != len(doc.declarations):
        return {t.name: "the declarations of the file changed" for t, _, _ in chosen}
    new_errors = Counter(m.data for m in result.errors) - Counter(m.data for m in baseline.errors)
    failed: dict[str, str] = {}
    for (target, _, _), line in zip(chosen, lines, strict=True):
        i = doc.declarations.index(target.decl)
        d = new_doc.declarations[i]
        first, last = new_doc.position(d.start)[0], new_doc.position(d.end)[0]
        inside = [m for m in result.messages if first <= m.pos.line <= last]
        if any(m.is_error for m in inside):
            failed[target.name] = "Lean reported an error in it in the whole file"
        elif any(m.is_sorry_warning for m in inside):
            failed[target.name] = "it still uses `sorry` in the whole file"
        else:
            report = next(
                (
                    r
                    for m in result.messages
                    if m.severity is Severity.INFORMATION
                    and m.pos.line == line
                    and (r := parse_axioms(m.data)) is not None
                ),
                None,
            )
            if report is None:
                failed[target.name] = "Lean never answered `#print axioms` for it"
            elif any(
                a not in STANDARD_AXIOMS and not (policy.allow_native_decide and is_native(a))
                for a in report.axioms
            ):
                failed[target.name] = "it depends on nonstandard axioms in the whole file"
    if new_errors and not failed:
        # Errors outside the changed theorems that the original did not have.
        return {t.name: "the new file has errors the original did not have" for t, _, _ in chosen}
    return failed


async def final_check(
    doc: LeanDocument,
    chosen: list[tuple[Target, str, bool]],
    checker: Checker,
    baseline: LeanResult,
    policy: Policy,
    file_name: str,
) -> FinalCheck:
    """Check the whole new file; leave out proofs it does not confirm and check again."""
    dropped: dict[str, str] = {}
    while chosen:
        text, lines = _final_text(doc, chosen)
        result = await checker.check(text, file_name=file_name)
        failed = _judge_whole(result, baseline, doc, text, chosen, lines, policy)
        if not failed:
            return FinalCheck(apply_proofs(doc, chosen), [t.name for t, _, _ in chosen], dropped)
        dropped.update(failed)
        if len(failed) == len(chosen):
            break
        chosen = [c for c in chosen if c[0].name not in failed]
    return FinalCheck(doc.text, [], dropped)
