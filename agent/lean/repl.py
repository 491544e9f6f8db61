"""A checker backed by warm Lean REPL processes (leanprover-community/repl), pooled by their
import header, in the manner of the Kimina Lean Server.

Loading `import Mathlib` takes seconds to minutes; a REPL that has loaded a header once
checks every later candidate with the same header from that environment. Protocol (see
``shared/lean-reference/repl/PROTOCOL.md``): one JSON request per line followed by a blank line;
each answer is pretty-printed JSON followed by a blank line. Message positions are relative to
the submitted command, so they are shifted back to the file's lines (`messages.repl_message`,
like every reading of Lean's output, is in `leanloop.lean.messages`).

Every process the pool starts is stopped as a whole (`runner.stop_process`: the cage's inner
processes too) when it is retired, on ``aclose``, and at interpreter exit for any left over."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from leanloop.errors import LeanloopError
from leanloop.lean.checker import LeanResult, Status
from leanloop.lean.messages import (
    LeanMessage,
    ReplSorry,
    ReplTactic,
    repl_answer,
    repl_message,
    repl_sorries,
    repl_tactic,
)
from leanloop.lean.project import LeanCommand
from leanloop.lean.runner import Executor, Tracked, kill_tree, stop_process, track
from leanloop.source import LeanDocument, UnterminatedError


class ReplFailure(Exception):
    """The REPL process died, answered garbage or refused the request."""


class HeaderErrors(Exception):
    """Lean reported errors in the imports (for example, a module that is not built)."""

    def __init__(self, messages: list[LeanMessage]) -> None:
        super().__init__(messages[0].data if messages else "error in the imports")
        self.messages = messages


class _NotSent(Exception):
    """The request could not be written: the process had gone before it was sent."""


class _Gone(ReplFailure):
    """The process ended without a word of answer: dead before or while it got the request."""


@dataclass
class _Repl:
    process: asyncio.subprocess.Process
    header: str
    tracked: Tracked
    env: int = 0
    uses: int = 0
    stderr: list[str] = field(default_factory=list)

    def alive(self) -> bool:
        """Whether the process can take a request: not exited, its output not at EOF (asyncio
        sees the EOF of an idle process as soon as it happens), and not a zombie."""
        out = self.process.stdout
        if self.process.returncode is not None or (out is not None and out.at_eof()):
            return False
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text("utf-8", "replace")
        except OSError:
            # Reaped already, unless there is no /proc here to tell.
            return not Path("/proc/self").is_dir()
        return stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])

    async def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write((json.dumps(payload, ensure_ascii=False) + "\n\n").encode("utf-8"))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as e:
            raise _NotSent(str(e)) from None

        async def read() -> dict[str, Any]:
            lines: list[str] = []
            while True:
                raw = await stdout.readline()
                if not raw:
                    raise (ReplFailure if lines else _Gone)("the REPL exited")
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if not line.strip():
                    if lines:
                        break
                    continue
                lines.append(line)
            try:
                return repl_answer("\n".join(lines))
            except ValueError as e:
                raise ReplFailure(str(e)) from None

        return await asyncio.wait_for(read(), timeout)


def split_header(text: str) -> tuple[str, str, int, int]:
    """(header, body, line offset, column offset of the body's first line).

    The whitespace between the imports and the first command is sent to neither: it means
    nothing to Lean, and the body then starts as the commands of the recorded REPL sessions do.
    Positions in the body's answers are relative to the body; line ``L`` of it is line
    ``L + offset`` of the text, and on its first line the column is shifted too."""
    try:
        end = LeanDocument(text).header_end
    except UnterminatedError:
        end = 0
    header, rest = text[:end], text[end:]
    body = rest.lstrip()
    start = end + len(rest) - len(body)  # where the body starts in the text
    before = text[:start]
    return header, body, before.count("\n"), start - (before.rfind("\n") + 1)


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
        # How long loading the imports may take (`repl_header_timeout`): `import Mathlib` is
        # slow, and a timeout here is not a check's timeout.
        self._header_timeout = header_timeout or max(timeout, 600.0)
        self._max_uses = max_uses
        self._size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Repl] = []
        self._live = 0  # processes started and not yet retired, busy or idle
        self._scratch_root = scratch_root
        # Every live process, so that none outlives the interpreter even without `aclose`.
        self._tracked: dict[int, Tracked] = {}
        self._finalizer = weakref.finalize(self, _kill_all, self._tracked)

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult:
        header, body, lines, first_col = split_header(text)
        async with self._slots:
            start = time.monotonic()
            answer: dict[str, Any] | None = None
            for attempt in range(2):
                try:
                    repl, fresh = await self._acquire(header, warm=attempt == 0)
                except HeaderErrors as e:
                    return LeanResult(status="ok", messages=e.messages, exit_code=1)
                except TimeoutError:
                    # Before OSError, which TimeoutError is: a slow `import Mathlib` does not
                    # mean that Lean is missing.
                    return self._failed(
                        "timeout",
                        f"the REPL did not load the imports within {self._header_timeout:g}s "
                        "(setting repl_header_timeout)",
                        start,
                    )
                except (ReplFailure, _NotSent) as e:
                    what = f"the REPL could not load the imports: {e}"
                    return self._failed("crashed", what, start)
                except OSError as e:
                    return self._failed(
                        "start_failed", f"{self.command.argv[0]}: {e.strerror or e}", start
                    )
                try:
                    answer = await repl.request({"cmd": body, "env": repl.env}, self._timeout)
                except (_NotSent, _Gone) as e:
                    # A warm process that died while idle, after the liveness check (or, with
                    # no way to tell them apart, one the command killed before it said
                    # anything): once more, on a fresh process.
                    if fresh:
                        return await self._crashed(repl, e, start)
                    await self._retire(repl)
                    continue
                except asyncio.CancelledError:
                    await self._retire(repl)  # mid-command: its state is unknown
                    raise
                except TimeoutError:
                    await self._retire(repl)
                    return self._failed("timeout", f"stopped after {self._timeout:.0f}s", start)
                except (ReplFailure, OSError) as e:
                    return await self._crashed(repl, e, start)
                break
            if answer is None:
                return self._failed("crashed", "the REPL exited before the command was sent", start)
            seconds = time.monotonic() - start
            if "env" not in answer:
                await self._retire(repl)
                return self._failed(
                    "crashed", f"the REPL refused the command: {answer.get('message')}", start
                )
            await self._release(repl)
            raw = answer.get("messages", [])
            messages = [
                m for m in (repl_message(x, lines, first_col) for x in raw) if m is not None
            ]
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

    async def _crashed(self, repl: _Repl, error: Exception, start: float) -> LeanResult:
        await self._retire(repl)
        stderr = await _drain(repl)
        result = self._failed("crashed", f"{error}. {stderr}".strip(), start)
        return result.model_copy(update={"exit_code": repl.process.returncode})

    @staticmethod
    def _failed(status: Status, excerpt: str, start: float) -> LeanResult:
        return LeanResult(
            status=status,
            messages=[],
            exit_code=None,
            excerpt=excerpt,
            seconds=time.monotonic() - start,
        )

    async def _acquire(self, header: str, *, warm: bool = True) -> tuple[_Repl, bool]:
        """A process loaded with ``header`` (an idle one if ``warm``), and whether it was started
        for this call."""
        for repl in [r for r in self._idle if not r.alive()]:
            self._idle.remove(repl)  # exited while idle: never handed out
            await self._retire(repl)
        for i, repl in enumerate(self._idle):
            if warm and repl.header == header:
                return self._idle.pop(i), False
        # We hold a slot, so fewer than ``size`` others are busy: if the pool is full, an idle
        # process (warm for another header) makes room.
        while self._live >= self._size and self._idle:
            await self._retire(self._idle.pop(0))
        process = await self._executor.start(self.command.argv, cwd=self.command.cwd)
        self._live += 1
        repl = _Repl(process=process, header=header, tracked=track(process))
        self._tracked[process.pid] = repl.tracked
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
        header_messages = [repl_message(m) for m in answer.get("messages", [])]
        errors = [m for m in header_messages if m is not None and m.is_error]
        if errors:
            await self._retire(repl)
            raise HeaderErrors(errors)
        repl.env = int(answer["env"])
        return repl, True

    async def _retire(self, repl: _Repl) -> None:
        if self._tracked.pop(repl.process.pid, None) is None:
            return  # retired already
        self._live -= 1
        await stop_process(repl.process, repl.tracked)

    async def _release(self, repl: _Repl) -> None:
        repl.uses += 1
        # Every command leaves an environment behind in the REPL; recycle to bound memory.
        if repl.uses >= self._max_uses or not repl.alive():
            await self._retire(repl)
        else:
            self._idle.append(repl)

    def interactive(self) -> InteractiveRepl:
        """REPL processes of their own for goals and tactics, started as this pool's are."""
        return InteractiveRepl(
            self.command,
            self._executor,
            timeout=self._timeout,
            header_timeout=self._header_timeout,
            max_uses=self._max_uses,
        )

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for repl in idle:
            await self._retire(repl)
        _kill_all(self._tracked)  # busy ones, should a check still be running
        if self._scratch_root is not None:
            shutil.rmtree(self._scratch_root, ignore_errors=True)


def _kill_all(tracked: dict[int, Tracked]) -> None:
    """At `aclose` for processes still busy, and at interpreter exit (the pool's finalizer)
    for any the event loop did not get to stop."""
    for t in list(tracked.values()):
        kill_tree(t)


async def _drain(repl: _Repl) -> str:
    err = repl.process.stderr
    if err is None:
        return ""
    with contextlib.suppress(TimeoutError):
        data = await asyncio.wait_for(err.read(4096), 2)
        return data.decode("utf-8", "replace").strip()
    return ""


# --- interactive use: goals at `sorry`s and tactics on proof states ---------------------------


class ReplCommand(BaseModel):
    messages: list[LeanMessage]
    sorries: list[ReplSorry]
    generation: int  # which process answered: proof states live only as long as it does


class StaleProofState(LeanloopError):
    """The REPL that held a proof state is gone."""


class InteractiveRepl:
    """Warm REPL processes kept for one caller's interactive work, one per import header.

    A proof state belongs to the process that reported it, so these processes are not shared
    with a pool, which hands processes out and recycles them. They start through the same
    executor (the same cage, limits and environment) as every other Lean run. A process that
    dies, or has served ``max_uses`` commands, is replaced; its proof states are then stale."""

    def __init__(
        self,
        command: LeanCommand,
        executor: Executor,
        *,
        timeout: float,
        header_timeout: float,
        max_uses: int = 64,
    ) -> None:
        self._lean = command
        self._executor = executor
        self._timeout = timeout
        self._header_timeout = header_timeout
        self._max_uses = max_uses
        self._repls: dict[str, tuple[_Repl, int]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._generation = 0
        self._tracked: dict[int, Tracked] = {}
        self._finalizer = weakref.finalize(self, _kill_all, self._tracked)

    async def command(self, text: str) -> ReplCommand:
        header, body, lines, first_col = split_header(text)
        async with self._locks.setdefault(header, asyncio.Lock()):
            repl, generation = await self._process(header)
            try:
                answer = await repl.request({"cmd": body, "env": repl.env}, self._timeout)
            except (ReplFailure, _NotSent, OSError, TimeoutError) as e:
                await self._drop(header)
                raise LeanloopError(
                    f"The Lean REPL failed on the command: {e or 'timeout'}."
                ) from None
            repl.uses += 1
            if "env" not in answer:
                await self._drop(header)
                raise LeanloopError(f"The Lean REPL refused the command: {answer.get('message')}.")
            raw = answer.get("messages", [])
            messages = [m for m in (repl_message(x, lines, first_col) for x in raw) if m]
            sorries = repl_sorries(answer, lines, first_col)
            return ReplCommand(messages=messages, sorries=sorries, generation=generation)

    async def tactic(
        self, header: str, generation: int, proof_state: int, tactic: str
    ) -> ReplTactic:
        async with self._locks.setdefault(header, asyncio.Lock()):
            held = self._repls.get(header)
            if held is None or held[1] != generation or not held[0].alive():
                raise StaleProofState(
                    "That proof state is gone (the Lean REPL that held it was restarted); call "
                    "`goals` again for fresh ones."
                )
            repl = held[0]
            try:
                answer = await repl.request(
                    {"tactic": tactic, "proofState": proof_state}, self._timeout
                )
            except (ReplFailure, _NotSent, OSError, TimeoutError) as e:
                await self._drop(header)
                raise LeanloopError(
                    f"The Lean REPL failed on the tactic: {e or 'timeout'}."
                ) from None
            return repl_tactic(answer)

    async def _process(self, header: str) -> tuple[_Repl, int]:
        held = self._repls.get(header)
        if held is not None and held[0].alive() and held[0].uses < self._max_uses:
            return held
        if held is not None:
            await self._drop(header)
        process = await self._executor.start(self._lean.argv, cwd=self._lean.cwd)
        repl = _Repl(process=process, header=header, tracked=track(process))
        self._tracked[process.pid] = repl.tracked
        try:
            answer = await repl.request({"cmd": header}, self._header_timeout)
        except BaseException:
            await self._stop(repl)
            raise
        if "env" not in answer:
            await self._stop(repl)
            raise LeanloopError(
                f"The Lean REPL could not load the imports: {answer.get('message')}."
            )
        errors = [
            m for m in (repl_message(x) for x in answer.get("messages", [])) if m and m.is_error
        ]
        if errors:
            await self._stop(repl)
            raise HeaderErrors(errors)
        repl.env = int(answer["env"])
        self._generation += 1
        self._repls[header] = (repl, self._generation)
        return repl, self._generation

    async def _drop(self, header: str) -> None:
        held = self._repls.pop(header, None)
        if held is not None:
            await self._stop(held[0])

    async def _stop(self, repl: _Repl) -> None:
        if self._tracked.pop(repl.process.pid, None) is not None:
            await stop_process(repl.process, repl.tracked)

    async def aclose(self) -> None:
        for header in list(self._repls):
            await self._drop(header)
        _kill_all(self._tracked)
