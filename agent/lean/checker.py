"""The checker backend: give it Lean source, get typed messages back."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from leanloop.lean.messages import (
    LeanMessage,
    NotBuilt,
    Position,
    Severity,
    max_errors_limit,
    max_errors_reached,
    missing_module,
    not_built,
    parse_json_lines,
)
from leanloop.lean.project import LeanCommand
from leanloop.lean.runner import Executor, ProcessResult

Status = Literal["ok", "timeout", "crashed", "junk", "start_failed"]
_EXCERPT_LINES = 12


class LeanResult(BaseModel):
    """What one Lean run said. ``status`` is about the process; the messages are Lean's verdict."""

    status: Status
    messages: list[LeanMessage]
    exit_code: int | None
    excerpt: str = ""  # the output that explains a bad status
    seconds: float = 0.0

    @property
    def errors(self) -> list[LeanMessage]:
        return [m for m in self.messages if m.is_error]

    @property
    def missing_module(self) -> str | None:
        return missing_module(self.messages)

    @property
    def not_built(self) -> NotBuilt | None:
        """An import Lean could not load (missing, or built by another toolchain)."""
        return not_built(self.messages)

    @property
    def max_errors(self) -> int | None:
        """Lean's `maxErrors` limit, when it stopped early because of it; the check failed."""
        return max_errors_reached(self.messages)

    def describe(self) -> str:
        if self.status == "ok":
            n = len(self.errors)
            if (limit := self.max_errors) is not None:
                return f"Lean stopped after {limit} errors (its `maxErrors` limit)."
            return "Lean reported no errors." if n == 0 else f"Lean reported {n} error(s)."
        what = {
            "timeout": "Lean did not finish within the time limit and was stopped",
            "crashed": f"Lean crashed (exit code {self.exit_code})",
            "junk": "Lean printed output that is not a Lean message",
            "start_failed": "Lean could not be started",
        }[self.status]
        return f"{what}: {self.excerpt}" if self.excerpt else f"{what}."


class Checker(Protocol):
    """A Lean backend. The CLI backend runs `lean --json`; a REPL pool could serve the same."""

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult: ...

    async def aclose(self) -> None: ...


def interpret(proc: ProcessResult) -> LeanResult:
    """Turn a finished process into a result; never raises on odd output."""
    if proc.start_error:
        return LeanResult(
            status="start_failed", messages=[], exit_code=None, excerpt=proc.start_error
        )
    parsed = parse_json_lines(proc.stdout)
    _adopt_max_errors_line(parsed.messages, parsed.junk)
    excerpt_src = "\n".join([*parsed.junk, proc.stderr.strip()]).strip()
    excerpt = "\n".join(excerpt_src.splitlines()[:_EXCERPT_LINES])
    if proc.timed_out:
        return LeanResult(
            status="timeout",
            messages=parsed.messages,
            exit_code=None,
            excerpt=f"stopped after {proc.seconds:.0f}s",
            seconds=proc.seconds,
        )
    has_error = any(m.is_error for m in parsed.messages)
    if proc.exit_code not in (0, 1) or (proc.exit_code == 1 and not has_error):
        return LeanResult(
            status="crashed",
            messages=parsed.messages,
            exit_code=proc.exit_code,
            excerpt=excerpt or "no output",
            seconds=proc.seconds,
        )
    if parsed.junk:
        # Conservative: output we cannot read could hide anything, so the run does not count.
        return LeanResult(
            status="junk",
            messages=parsed.messages,
            exit_code=proc.exit_code,
            excerpt=excerpt,
            seconds=proc.seconds,
        )
    return LeanResult(
        status="ok", messages=parsed.messages, exit_code=proc.exit_code, seconds=proc.seconds
    )


def _adopt_max_errors_line(messages: list[LeanMessage], junk: list[str]) -> None:
    """Lean's `maxErrors` notice is a JSON message under `--json`; should it come as a bare line
    (a wrapper printing it outside the JSON), it still means "errors, check failed", so it
    becomes an error rather than junk. It goes where the last message was, the nearest place
    Lean itself would put it (it replaces the next error)."""
    for line in list(junk):
        if max_errors_limit(line) is None:
            continue
        junk.remove(line)
        pos = messages[-1].pos if messages else Position(line=1, column=0)
        messages.append(LeanMessage(pos=pos, severity=Severity.ERROR, data=line.strip()))


class CliChecker:
    """Runs ``lean --json`` (usually through `lake env`) on a scratch copy of the text."""

    def __init__(
        self,
        command: LeanCommand,
        executor: Executor,
        *,
        timeout: float,
        extra_args: list[str] | None = None,
        scratch_root: Path | None = None,
    ) -> None:
        self.command = command
        self._executor = executor
        self._timeout = timeout
        self._extra = extra_args or []
        self._scratch_root = scratch_root

    async def aclose(self) -> None:
        """Remove the scratch root (it belongs to this checker)."""
        if self._scratch_root is not None:
            shutil.rmtree(self._scratch_root, ignore_errors=True)

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult:
        scratch = Path(tempfile.mkdtemp(prefix="check-", dir=self._scratch_root))
        try:
            path = scratch / uuid.uuid4().hex[:8] / file_name
            path.parent.mkdir()
            path.write_text(text, encoding="utf-8", newline="")
            argv = self.command.for_file(path, self._extra)
            proc = await self._executor.run(argv, cwd=self.command.cwd, timeout=self._timeout)
            return interpret(proc)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
