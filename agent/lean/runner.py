"""Running processes with limits: the one place where Lean is started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

_READ_LIMIT = 64 * 1024 * 1024  # Lean's JSON output for a big file can be large.


class ProcessResult(BaseModel):
    argv: list[str]
    exit_code: int | None  # None when killed on timeout
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    start_error: str | None = None  # the executable could not be started


class Executor(Protocol):
    """Starts Lean processes: to completion (``run``) or long-lived with pipes (``start``, for a
    REPL). The sandbox is an executor too, wrapping another."""

    async def run(
        self, argv: Sequence[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> ProcessResult: ...

    async def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> asyncio.subprocess.Process: ...


class LocalExecutor:
    """Runs commands in their own process group, at most ``workers`` at a time.

    Each Lean process can take gigabytes, hence the bound; on timeout the whole group is killed so
    that `lake`'s child `lean` does not outlive it."""

    def __init__(
        self,
        workers: int,
        preexec: Callable[[], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``env`` is the environment every child gets unless a call passes its own (None:
        leanloop's own)."""
        self._slots = asyncio.Semaphore(workers)
        self._preexec = preexec
        self._env = env

    async def run(
        self, argv: Sequence[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> ProcessResult:
        async with self._slots:
            return await run_process(
                argv,
                cwd=cwd,
                timeout=timeout,
                env=env if env is not None else self._env,
                preexec=self._preexec,
            )

    async def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> asyncio.subprocess.Process:
        """A process with stdin/stdout pipes in its own group; the caller bounds how many."""
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env if env is not None else self._env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=self._preexec,
            limit=_READ_LIMIT,
        )


def kill_group(pid: int) -> None:
    """Kill a process group started by an executor; quiet if it is gone."""
    _kill_group(pid)


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> ProcessResult:
    start = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec,
            limit=_READ_LIMIT,
        )
    except OSError as e:
        return ProcessResult(
            argv=list(argv),
            exit_code=None,
            stdout="",
            stderr="",
            timed_out=False,
            seconds=0.0,
            start_error=f"{argv[0]}: {e.strerror}",
        )
    timed_out = False
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        timed_out = True
        _kill_group(proc.pid)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 5)
        except TimeoutError:
            # A grandchild that left the group may still hold the pipes open.
            out, err = b"", b""
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        with contextlib.suppress(Exception):
            await proc.communicate()
        raise
    else:
        # A finished `lake` may leave children in the group; they must not linger.
        _kill_group(proc.pid)
    return ProcessResult(
        argv=list(argv),
        exit_code=None if timed_out else proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        timed_out=timed_out,
        seconds=time.monotonic() - start,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
