"""A checker backed by warm Lean REPL processes (leanprover-community/repl), pooled by their
import header, in the manner of the Kimina Lean Server.

Loading `import Mathlib` takes seconds to minutes; a REPL that has loaded a header once
checks every later candidate with the same header from that environment. Protocol (see
``shared/lean-reference/repl/PROTOCOL.md``): one JSON request per line followed by a blank line;
each answer is pretty-printed JSON followed by a blank line. Message positions are relative to
the submitted command, so they are shifted back to the file's lines here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leanloop.lean.checker import LeanResult
from leanloop.lean.messages import LeanMessage, Position
from leanloop.lean.project import LeanCommand
from leanloop.lean.runner import Executor, kill_group
from leanloop.source import LeanDocument, UnterminatedError


class ReplFailure(Exception):
    """The REPL process died, answered garbage or refused the request."""


class HeaderErrors(Exception):
    """Lean reported errors in the imports (for example, a module that is not built)."""

    def __init__(self, messages: list[LeanMessage]) -> None:
        super().__init__(messages[0].data if messages else "error in the imports")
        self.messages = messages


@dataclass
class _Repl:
    process: asyncio.subprocess.Process
    header: str
    env: int = 0
    uses: int = 0
    stderr: list[str] = field(default_factory=list)

    async def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write((json.dumps(payload, ensure_ascii=False) + "\n\n").encode("utf-8"))
        await stdin.drain()

        async def read() -> dict[str, Any]:
            lines: list[str] = []
            while True:
                raw = await stdout.readline()
                if not raw:
                    raise ReplFailure("the REPL exited")
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if not line.strip():
                    if lines:
                        break
                    continue
                lines.append(line)
            try:
                answer = json.loads("\n".join(lines))
            except json.JSONDecodeError:
                raise ReplFailure("the REPL answered with something that is not JSON") from None
            if not isinstance(answer, dict):
                raise ReplFailure("the REPL answered with something that is not a JSON object")
            return answer

        return await asyncio.wait_for(read(), timeout)

    def kill(self) -> None:
        kill_group(self.process.pid)


def split_header(text: str) -> tuple[str, str, int, int]:
    """(header, body, line offset, column offset of the body's first line)."""
    try:
        end = LeanDocument(text).header_end
    except UnterminatedError:
        end = 0
    header, body = text[:end], text[end:]
    return header, body, header.count("\n"), end - (header.rfind("\n") + 1)


def _shift(message: dict[str, Any], lines: int, first_col: int) -> LeanMessage | None:
    try:
        msg = LeanMessage.model_validate(message)
    except ValidationError:
        return None

    def move(p: Position | None) -> Position | None:
        if p is None:
            return None
        col = p.column + first_col if p.line == 1 else p.column
        return Position(line=p.line + lines, column=col)

    return msg.model_copy(update={"pos": move(msg.pos), "end_pos": move(msg.end_pos)})


class ReplPool:
    """Up to ``size`` REPL processes, each kept warm for one import header."""

    def __init__(
        self,
        command: LeanCommand,
        executor: Executor,
        *,
        size: int,
        timeout: float,
        max_uses: int = 64,
        header_timeout: float | None = None,
        scratch_root: Path | None = None,
    ) -> None:
        self.command = command
        self._executor = executor
        self._timeout = timeout
        self._header_timeout = header_timeout or max(timeout, 600.0)
        self._max_uses = max_uses
        self._size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Repl] = []
        self._live = 0  # processes started and not yet retired, busy or idle
        self._scratch_root = scratch_root

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult:
        header, body, lines, first_col = split_header(text)
        async with self._slots:
            start = time.monotonic()
            try:
                repl = await self._acquire(header)
            except HeaderErrors as e:
                return LeanResult(status="ok", messages=e.messages, exit_code=1)
            except (ReplFailure, TimeoutError, OSError) as e:
                return LeanResult(
                    status="start_failed" if isinstance(e, OSError) else "crashed",
                    messages=[],
                    exit_code=None,
                    excerpt=f"the REPL could not load the imports: {e}",
                )
            try:
                answer = await repl.request({"cmd": body, "env": repl.env}, self._timeout)
            except asyncio.CancelledError:
                await self._retire(repl)  # mid-command: its state is unknown
                raise
            except TimeoutError:
                await self._retire(repl)
                return LeanResult(
                    status="timeout",
                    messages=[],
                    exit_code=None,
                    excerpt=f"stopped after {self._timeout:.0f}s",
                    seconds=time.monotonic() - start,
                )
            except (ReplFailure, OSError) as e:
                await self._retire(repl)
                stderr = await _drain(repl)
                return LeanResult(
                    status="crashed",
                    messages=[],
                    exit_code=repl.process.returncode,
                    excerpt=f"{e}. {stderr}".strip(),
                    seconds=time.monotonic() - start,
                )
            seconds = time.monotonic() - start
            if "env" not in answer:
                await self._retire(repl)
                return LeanResult(
                    status="crashed",
                    messages=[],
                    exit_code=None,
                    excerpt=f"the REPL refused the command: {answer.get('message')}",
                    seconds=seconds,
                )
            await self._release(repl)
            raw = answer.get("messages", [])
            messages = [m for m in (_shift(x, lines, first_col) for x in raw) if m is not None]
            if len(messages) != len(raw):
                return LeanResult(
                    status="junk",
                    messages=messages,
                    exit_code=0,
                    excerpt="the REPL sent a message that is not a Lean message",
                    seconds=seconds,
                )
            exit_code = 1 if any(m.is_error for m in messages) else 0
            return LeanResult(status="ok", messages=messages, exit_code=exit_code, seconds=seconds)

    async def _acquire(self, header: str) -> _Repl:
        for i, repl in enumerate(self._idle):
            if repl.header == header and repl.process.returncode is None:
                return self._idle.pop(i)
        # We hold a slot, so fewer than ``size`` others are busy: if the pool is full, an idle
        # process (warm for another header) makes room.
        while self._live >= self._size and self._idle:
            await self._retire(self._idle.pop(0))
        process = await self._executor.start(self.command.argv, cwd=self.command.cwd)
        self._live += 1
        repl = _Repl(process=process, header=header)
        try:
            answer = await repl.request({"cmd": header}, self._header_timeout)
        except ReplFailure as e:
            await self._retire(repl)
            raise ReplFailure(f"{e}. {await _drain(repl)}".strip()) from None
        except BaseException:
            await self._retire(repl)
            raise
        if "env" not in answer:
            await self._retire(repl)
            raise ReplFailure(str(answer.get("message", answer)))
        header_messages = [_shift(m, 0, 0) for m in answer.get("messages", [])]
        errors = [m for m in header_messages if m is not None and m.is_error]
        if errors:
            await self._retire(repl)
            raise HeaderErrors(errors)
        repl.env = int(answer["env"])
        return repl

    async def _retire(self, repl: _Repl) -> None:
        repl.kill()
        self._live -= 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(repl.process.wait(), 5)

    async def _release(self, repl: _Repl) -> None:
        repl.uses += 1
        # Every command leaves an environment behind in the REPL; recycle to bound memory.
        if repl.uses >= self._max_uses or repl.process.returncode is not None:
            await self._retire(repl)
        else:
            self._idle.append(repl)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for repl in idle:
            await self._retire(repl)
        if self._scratch_root is not None:
            shutil.rmtree(self._scratch_root, ignore_errors=True)


async def _drain(repl: _Repl) -> str:
    err = repl.process.stderr
    if err is None:
        return ""
    with contextlib.suppress(TimeoutError):
        data = await asyncio.wait_for(err.read(4096), 2)
        return data.decode("utf-8", "replace").strip()
    return ""
