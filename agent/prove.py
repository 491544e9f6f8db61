"""`leanloop prove`: the whole job for one file, from reading it to writing verified proofs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from leanloop.errors import LeanloopError, LeanNotBuiltError, LeanNotFoundError
from leanloop.files import SourceFile, atomic_write
from leanloop.lean.checker import Checker, LeanResult
from leanloop.lean.replay import Replayer, allow_unproved
from leanloop.loop import Event, Prover, file_name
from leanloop.model import Model
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.report import RunReport, SorryEntry, Status
from leanloop.settings import Settings
from leanloop.source import LeanDocument
from leanloop.source.sorries import sorry_uses
from leanloop.source.targets import Target, find_targets

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


def not_targets(doc: LeanDocument, file: str) -> list[SorryEntry]:
    """Every `sorry` of the file that is not a target, with its reason."""
    return [SorryEntry.of(u, file) for u in sorry_uses(doc) if not u.target]


class Interrupted(LeanloopError):
    """Ctrl-C: nothing was written; ``report`` says which verified proofs were not."""

    exit_code = 130

    def __init__(self, report: RunReport) -> None:
        super().__init__("interrupted; nothing was written.")
        self.report = report


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
    replayer: Replayer | None = None,
    whole_file: bool = True,
) -> RunReport:
    """Prove ``targets`` of the already-read ``source`` (parsed as ``doc``).

    A fatal error mid-run (the endpoint refuses or is gone) stops new work; the proofs accepted
    until then still go through the whole-file check and are written, and ``stopped`` says why
    the run ended early. Ctrl-C writes nothing and raises :class:`Interrupted`.

    With ``whole_file`` (no theorem was named) every `sorry` of the file is in scope: those that
    are not targets are listed in the report, with their reasons."""
    path = source.path
    report = RunReport(file=str(path), model=model.name, dry_run=dry_run, targets=[])
    if whole_file:
        report.not_targets = not_targets(doc, str(path))
    if not targets:
        if report.not_targets:
            say(
                f"Nothing leanloop can prove in {path}: {len(report.not_targets)} `sorry` "
                "that are not proof obligations it fills (listed below)."
            )
        else:
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
    try:
        report.targets = await prover.prove_all(doc, targets, str(path), blocked)
        for t, r in zip(targets, report.targets, strict=True):
            r.whole_body = t.whole_body
        if prover.stopped is not None:
            report.stopped = str(prover.stopped)
            kept = len(prover.accepted)
            say(
                f"Stopping: {prover.stopped} Finishing the {kept} proof(s) already verified."
                if kept
                else f"Stopping: {prover.stopped}"
            )
        await _finish(
            report,
            prover,
            source,
            doc,
            targets,
            baseline,
            output,
            say,
            Replay(replayer, settings.replay == "required"),
        )
    except asyncio.CancelledError:
        report.targets = prover.snapshot(targets, str(path), blocked)
        report.interrupted = True
        report.stopped = "interrupted (Ctrl-C)"
        if report.written is None:
            report.unwritten = [t.name for t in targets if t.name in prover.accepted]
        raise Interrupted(report) from None
    return report


async def _finish(
    report: RunReport,
    prover: Prover,
    source: SourceFile,
    doc: LeanDocument,
    targets: list[Target],
    baseline: LeanResult,
    output: Path | None,
    say: Say,
    replay: Replay,
) -> None:
    """The whole-file check and the independent replay (also for a dry run), then the write."""
    path = source.path
    chosen = [prover.accepted[t.name] for t in targets if t.name in prover.accepted]
    if not chosen:
        return
    say(f"Checking the whole file with {len(chosen)} new proof(s)…")
    # The acceptance path bench shares (see Agent.confirm).
    final = await prover.agent.confirm(doc, chosen, baseline, file_name(str(path)))
    for t in report.targets:
        if t.name in final.dropped:
            t.status = Status.FAILED
            t.note = f"Left out: the whole-file check failed ({final.dropped[t.name]})."
    if not final.kept:
        return
    if not await _replayed(report, replay, doc, final.text, final.kept, path, say):
        report.unwritten = final.kept
        return
    if report.dry_run:
        return
    dest = output or path
    if output is None and _read(path) != source.raw:
        report.error = f"{path} changed on disk while proving; nothing was written."
        report.unwritten = final.kept
        return
    try:
        atomic_write(dest, source.encode(final.text), like=path)
    except OSError as e:
        report.error = f"Cannot write {dest}: {e.strerror}; nothing was written."
        report.unwritten = final.kept
        return
    report.written = str(dest)


@dataclass(frozen=True)
class Replay:
    replayer: Replayer | None
    required: bool


async def _replayed(
    report: RunReport,
    replay: Replay,
    doc: LeanDocument,
    text: str,
    kept: list[str],
    path: Path,
    say: Say,
) -> bool:
    """Whether the final text may be written, after the independent replay (SafeVerify)."""
    if replay.replayer is None:
        return True
    say("Replaying the proved file with the independent checker…")
    verdict = await replay.replayer.replay(doc.text, text, file_name=file_name(str(path)))
    # Declarations the run did not prove keep their `sorry`; SafeVerify flags each of them.
    unproved = {t.check_name for t in find_targets(doc) if t.name not in kept}
    verdict = allow_unproved(verdict, unproved)
    report.replay = verdict.status if verdict.status != "unavailable" else "error"
    report.replay_note = None if verdict.passed else verdict.reason
    if verdict.passed:
        return True
    if verdict.status == "failed":
        # Every text-level layer accepted these proofs: that is a hole in them. The proofs stay
        # in the report so it can be studied.
        report.replay_rejected_gate = True
        say(
            "warning: the independent replay rejected proofs the gate accepted, so leanloop's "
            f"text-level checks have a hole; nothing was written. {verdict.reason}"
        )
        for t in report.targets:
            if t.name in kept:
                t.status = Status.FAILED
                t.note = f"Left out: the replay layer rejected the file ({verdict.reason})"
        return False
    if replay.required:
        report.error = f"The replay layer could not run, and it is required: {verdict.reason}"
        return False
    say(f"warning: the replay layer could not run ({verdict.reason}); writing without it.")
    return True


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def stderr_say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
