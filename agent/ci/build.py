"""`ci --build`: the repository's own `lake build`, its plain-text log read into Lean messages.

The log format follows the recordings in ``shared/lean-reference/lake`` (see its README):

    ✔ [i/N] Built Module            built, no messages
    ⚠ [i/N] Built Module            built, messages follow
    ✖ [i/N] Building Module         failed, messages follow
    trace: .> LEAN_PATH=… lean … --json
    error: FILE:LINE:COL: text      also `warning:` and `info:`; text goes on in unprefixed lines
    error: Lean exited with code 1  (134 for a crash)
    info: stdout: / info: stderr:   raw output Lake could not read, up to the next prefixed line
    Some required builds logged failures:
    - Module
    Build completed successfully.

No end positions appear in those Lake versions; columns are 0-based code points as everywhere
in Lean."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from leanloop.ci.model import BuildSummary, CiFinding, FailOn, Rule
from leanloop.lean.messages import LeanMessage, Position, Severity
from leanloop.settings import Settings

_MESSAGE = re.compile(
    r"^(?P<sev>error|warning|info): (?P<file>.+?\.lean):(?P<line>\d+):(?P<col>\d+): (?P<text>.*)$"
)
_STEP = re.compile(
    r"^(?P<mark>[✔⚠✖]) \[(?P<i>\d+)/(?P<n>\d+)\] (?P<what>Built|Building) (?P<mod>.+)$"
)
_EXITED = re.compile(r"^error: Lean exited with code (?P<code>\d+)\s*$")
_RAW = re.compile(r"^info: (?P<stream>stdout|stderr):\s*$")
_OTHER_PREFIX = re.compile(r"^(?:error|warning|info|trace):")
_FAILURES_HEADER = "Some required builds logged failures:"
_SUCCESS = "Build completed successfully."
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFORMATION}


class BuildLog(BaseModel):
    messages: list[LeanMessage]
    failed_modules: list[str]  # from "Some required builds logged failures:" and ✖ lines
    exit_codes: list[int]  # from "error: Lean exited with code N"
    other_errors: list[str]  # `error:` lines that are not about a position (e.g. Lake's own)
    succeeded: bool  # "Build completed successfully." was printed


def clean_path(name: str) -> str:
    """Lake passes `././././Demo/Alg.lean`; the file is `Demo/Alg.lean`."""
    while name.startswith("./"):
        name = name[2:]
    return name


def parse_lake_log(text: str) -> BuildLog:
    """Read a `lake build` log; unknown lines are skipped, never raised on."""
    messages: list[LeanMessage] = []
    failed: list[str] = []
    codes: list[int] = []
    other: list[str] = []
    succeeded = False
    current: dict[str, object] | None = None
    body: list[str] = []
    in_failures = False
    in_raw = False

    def flush() -> None:
        nonlocal current, body
        if current is not None:
            # A message's text ends with a newline in Lean's plain output; continuation lines
            # are part of the text, trailing blank lines are not.
            while body and not body[-1].strip():
                body.pop()
            data = "\n".join([str(current["first"]), *body])
            messages.append(
                LeanMessage(
                    fileName=str(current["file"]),
                    pos=Position(line=int(str(current["line"])), column=int(str(current["col"]))),
                    severity=_SEVERITY[str(current["sev"])],
                    data=data,
                )
            )
        current = None
        body = []

    for raw_line in text.splitlines():
        line = raw_line.rstrip("\r")
        if m := _MESSAGE.match(line):
            flush()
            in_failures = in_raw = False
            current = {
                "sev": m["sev"],
                "file": clean_path(m["file"]),
                "line": m["line"],
                "col": m["col"],
                "first": m["text"],
            }
            continue
        if m := _STEP.match(line):
            flush()
            in_failures = in_raw = False
            if m["mark"] == "✖" and m["mod"] not in failed:
                failed.append(m["mod"].strip())
            continue
        if m := _EXITED.match(line):
            flush()
            in_raw = False
            codes.append(int(m["code"]))
            continue
        if _RAW.match(line):
            flush()
            in_raw = True
            continue
        if line == _FAILURES_HEADER:
            flush()
            in_failures, in_raw = True, False
            continue
        if line.strip() == _SUCCESS:
            flush()
            succeeded = True
            continue
        if in_failures and line.startswith("- "):
            mod = line[2:].strip()
            if mod not in failed:
                failed.append(mod)
            continue
        if _OTHER_PREFIX.match(line):
            flush()
            in_failures = in_raw = False
            if line.startswith("error:"):
                other.append(line[len("error:") :].strip())
            continue
        if in_raw or in_failures:
            continue
        if current is not None:
            body.append(line)
    flush()
    return BuildLog(
        messages=messages,
        failed_modules=failed,
        exit_codes=codes,
        other_errors=other,
        succeeded=succeeded,
    )


class BuildResult(BaseModel):
    ok: bool
    exit_code: int | None
    log: BuildLog
    excerpt: str = ""


async def run_build(
    root: Path, settings: Settings, say: Callable[[str], None], timeout: float = 3 * 3600
) -> BuildResult:
    """Run `lake build` in ``root`` with the allow-listed environment. It runs the project's own
    lakefile and code only (never a model's), as a developer's build would, so it is not caged."""
    from leanloop.errors import LeanNotFoundError
    from leanloop.session import child_environment

    say(f"Running `lake build` in {root}…")
    try:
        proc = await asyncio.create_subprocess_exec(
            "lake",
            "build",
            cwd=root,
            env=child_environment(settings),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as e:
        raise LeanNotFoundError(f"`lake build` could not be started: {e.strerror}.") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # lake and every Lean it started
        await proc.wait()
        return BuildResult(
            ok=False,
            exit_code=None,
            log=parse_lake_log(""),
            excerpt=f"`lake build` did not finish within {timeout:.0f}s and was stopped.",
        )
    text = out.decode("utf-8", "replace")
    log = parse_lake_log(text)
    tail = "\n".join(text.strip().splitlines()[-5:])
    return BuildResult(ok=proc.returncode == 0, exit_code=proc.returncode, log=log, excerpt=tail)


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
