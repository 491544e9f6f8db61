"""`ci --build`: the repository's own `lake build`, run through the runner; its log is read by
`leanloop.lean.messages.parse_lake_log` into Lean messages, and the errors become findings."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from leanloop.ci.model import BuildSummary, CiFinding, FailOn, Rule
from leanloop.lean.messages import BuildLog, Severity, parse_lake_log
from leanloop.settings import Settings


class BuildResult(BaseModel):
    ok: bool
    exit_code: int | None
    log: BuildLog
    excerpt: str = ""


async def run_build(
    root: Path, settings: Settings, say: Callable[[str], None], timeout: float = 3 * 3600
) -> BuildResult:
    """Run `lake build` in ``root`` with the allow-listed environment. It runs the project's own
    lakefile and code only (never a model's), as a developer's build would, so it is not caged;
    it goes through the runner like every Lean process, so a timeout or Ctrl-C stops Lake and
    every Lean it started."""
    from leanloop.errors import LeanNotFoundError
    from leanloop.lean.runner import run_process
    from leanloop.session import child_environment

    say(f"Running `lake build` in {root}…")
    lake = shutil.which("lake") or "lake"
    proc = await run_process(
        [lake, "build"],
        cwd=root,
        timeout=timeout,
        env=child_environment(settings),
        merge_stderr=True,
    )
    if proc.start_error:
        raise LeanNotFoundError(f"`lake build` could not be started: {proc.start_error}.")
    if proc.timed_out:
        return BuildResult(
            ok=False,
            exit_code=None,
            log=parse_lake_log(""),
            excerpt=f"`lake build` did not finish within {timeout:.0f}s and was stopped.",
        )
    text = proc.stdout
    log = parse_lake_log(text)
    tail = "\n".join(text.strip().splitlines()[-5:])
    return BuildResult(ok=proc.exit_code == 0, exit_code=proc.exit_code, log=log, excerpt=tail)


def build_findings(
    result: BuildResult, root: Path, lake_root: Path, fail_on: list[FailOn]
) -> tuple[BuildSummary, list[CiFinding]]:
    """The build's errors as findings of their own (reason `build`), so a broken build is never
    mistaken for a proof that failed."""
    findings: list[CiFinding] = []
    fires = [r.label for r in fail_on if r.rule is Rule.ERROR]
    for m in result.log.messages:
        if not m.is_error:
            continue
        path = Path(m.file_name or "")
        full = path if path.is_absolute() else lake_root / path
        try:
            rel = full.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = m.file_name or ""
        first = m.data.splitlines()[0] if m.data else "error"
        findings.append(
            CiFinding(
                rule=Rule.ERROR,
                reason="build",
                file=rel,
                line=m.pos.line,
                column=m.pos.column + 1,
                end_line=m.pos.line,
                end_column=m.pos.column + 1,
                declaration=None,
                key=f"build: {rel}: {first}",
                message=f"lake build: {m.data}",
                new=None,
                fires=fires,
            )
        )
    detail = ""
    if not result.ok:
        mods = ", ".join(result.log.failed_modules[:5]) or "no module named"
        detail = f"`lake build` failed (exit code {result.exit_code}; modules: {mods})"
        if not findings:
            detail += f": {result.excerpt}" if result.excerpt else ""
            findings.append(
                CiFinding(
                    rule=Rule.ERROR,
                    reason="build",
                    file=_lakefile(lake_root, root),
                    line=1,
                    column=1,
                    end_line=1,
                    end_column=1,
                    declaration=None,
                    key="build: failed",
                    message=detail,
                    new=None,
                    fires=fires,
                )
            )
    summary = BuildSummary(
        ok=result.ok,
        exit_code=result.exit_code,
        failed_modules=result.log.failed_modules,
        errors=sum(m.is_error for m in result.log.messages),
        warnings=sum(m.severity is Severity.WARNING for m in result.log.messages),
        detail=detail,
    )
    return summary, findings


def _lakefile(lake_root: Path, root: Path) -> str:
    for name in ("lakefile.lean", "lakefile.toml"):
        if (lake_root / name).is_file():
            try:
                return (lake_root / name).resolve().relative_to(root).as_posix()
            except ValueError:
                break
    return "lakefile.lean"
