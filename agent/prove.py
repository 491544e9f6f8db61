"""`leanloop prove`: the whole job for one file, from reading it to writing verified proofs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from leanloop.errors import LeanloopError, LeanNotBuiltError, LeanNotFoundError
from leanloop.files import SourceFile, atomic_write
from leanloop.lean.checker import Checker, LeanResult
from leanloop.loop import Event, Prover, file_name
from leanloop.model import Model
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.report import RunReport, Status
from leanloop.settings import Settings
from leanloop.source import LeanDocument
from leanloop.source.targets import Target
from leanloop.writeback import final_check

Say = Callable[[str], None]


def baseline_problem(result: LeanResult) -> LeanloopError | None:
    """Reasons to stop before any model call, from Lean's run on the untouched file."""
    if result.status == "start_failed":
        return LeanNotFoundError(f"Lean could not be started: {result.excerpt}.")
    if (module := result.missing_module) is not None:
        return LeanNotBuiltError(
            f"The imported module {module} is not built; run `lake build` in the project first."
        )
    if result.status == "crashed":
        if "read-only file system" in result.excerpt.lower():
            # The cage keeps the project read-only. `prepare_lake` lets Lake set up first, so
            # this is only a fallback for a Lake that writes even when set up.
            return LeanloopError(
                "Lake tried to write to the project inside the read-only sandbox; run "
                "`lake build` once in the project first (or pass --sandbox off). "
                f"Output: {result.excerpt}"
            )
        return LeanloopError(f"Lean crashed on the original file: {result.excerpt}")
    if result.status == "junk":
        return LeanloopError(
            f"The Lean command printed output that is not Lean's JSON; check --lean-cmd "
            f"(it must accept --json). Output: {result.excerpt}"
        )
    return None


def blocked_targets(doc: LeanDocument, targets: list[Target], result: LeanResult) -> dict[str, str]:
    """Targets that cannot be proved because Lean already fails earlier in the file."""
    out: dict[str, str] = {}
    for t in targets:
        decl_line = doc.position(t.decl.start)[0]
        before = [m for m in result.errors if m.pos.line < decl_line]
        if before:
            out[t.name] = (
                f"Lean reports an error at line {before[0].pos.line}, before this "
                "theorem; fix it first."
            )
    return out


async def prove_file(
    source: SourceFile,
    doc: LeanDocument,
    targets: list[Target],
    *,
    settings: Settings,
    model: Model,
    checker: Checker,
    policy: Policy,
    dry_run: bool,
    output: Path | None,
    say: Say,
    progress: Callable[[Event], None],
) -> RunReport:
    """Prove ``targets`` of the already-read ``source`` (parsed as ``doc``)."""
    path = source.path
    report = RunReport(file=str(path), model=model.name, dry_run=dry_run, targets=[])
    if not targets:
        say(f"No `sorry` to prove in {path}.")
        return report
    say(f"Checking {path} with Lean before proving ({len(targets)} target(s))…")
    name = file_name(str(path))
    baseline = await checker.check(doc.text, file_name=name)
    if (problem := baseline_problem(baseline)) is not None:
        raise problem
    blocked = {} if baseline.status != "ok" else blocked_targets(doc, targets, baseline)
    prover = Prover(
        model=model,
        checker=checker,
        settings=settings,
        policy=policy,
        prompts=Prompts(settings.prompts_dir),
        progress=progress,
    )
    report.targets = await prover.prove_all(doc, targets, str(path), blocked)
    chosen = [
        (t, prover.accepted[t.name].extracted.proof, prover.accepted[t.name].extracted.whole_body)
        for t in targets
        if t.name in prover.accepted
    ]
    if not chosen or dry_run:
        return report
    say(f"Checking the whole file with {len(chosen)} new proof(s)…")
    final = await final_check(doc, chosen, checker, baseline, policy, name)
    for t in report.targets:
        if t.name in final.dropped:
            t.status = Status.FAILED
            t.note = f"Left out: the whole-file check failed ({final.dropped[t.name]})."
    if not final.kept:
        return report
    dest = output or path
    if output is None and path.read_bytes() != source.raw:
        raise LeanloopError(f"{path} changed on disk while proving; nothing was written.")
    try:
        atomic_write(dest, source.encode(final.text), like=path)
    except OSError as e:
        raise LeanloopError(f"Cannot write {dest}: {e.strerror}; nothing was written.") from None
    report.written = str(dest)
    return report


def stderr_say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
