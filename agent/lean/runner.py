"""Running processes with limits: the one place where Lean, Lake and SafeVerify are started.

Every such process (checks, the warm REPLs, the replay, `lake build` for `ci --build`, Lake's
set-up before a caged run, `--version` probes, the sandbox's own probe) starts here, through
`run_process`, `Executor.start` or, where the caller cannot await, `run_blocking`; each gets the
same bounded, tree-wide kill.

Every process leanloop starts is accounted for until it is gone. What can escape, and how it
is caught (issue 11, established with bubblewrap 0.8 as root):

* The cage (`bwrap --new-session --unshare-pid --die-with-parent`) forks twice: the outer
  `bwrap` (our child, in the group we create) clones the namespace's init, which calls
  `setsid()` and forks the command. If the outer `bwrap` is killed between that clone and the
  init's `prctl(PR_SET_PDEATHSIG)`, the init never learns its parent died: it is re-parented to
  pid 1, sits in its own session (so a group kill misses it) and keeps the stdout pipe open.
  Awaiting EOF on that pipe was the hang. Killing *only* the group, or killing the outer
  process first, can always lose that race.
* So a kill here freezes before it kills: every process of the check is found through /proc
  (descendants by parent pid, members of the group and session we created, and every process
  holding one of the check's pipes), sent SIGSTOP, and the search repeats until it finds nothing
  new and all are stopped. A stopped process cannot fork, and since nothing has died yet nothing
  has been re-parented out of reach. Then all get SIGKILL. Killing the namespace's init takes
  the whole PID namespace with it.
* Pipe holders are searched by the pipes' inode, so a process that double-forked away from the
  tree but still holds the output is found too; one that does not let go of the pipes after
  the process exited is killed and the run becomes an infra result (``exit_code=None``), never
  a hang. Every wait on a child is bounded, and the transport is closed rather than drained.
* If leanloop itself dies, its direct child gets SIGKILL (`PR_SET_PDEATHSIG`, set before
  exec), and bubblewrap's `--die-with-parent` carries that into the cage.

Not chosen: `PR_SET_CHILD_SUBREAPER` changes the whole host process (every orphan of every
library and of the test runner becomes leanloop's zombie to reap, which asyncio and
`subprocess` do not do for pids they did not start), and it cannot say which check an orphan
came from. A cgroup is not available to an ordinary user everywhere. Inside the cage the PID
namespace already bounds everything; uncaged (`--sandbox off`), a process that leaves the tree
*and* closes its pipes is the one thing not tracked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

_READ_LIMIT = 64 * 1024 * 1024  # Lean's JSON output for a big file can be large.
PIPE_GRACE = 2.0  # after the process exits, how long its output may stay open
REAP_BOUND = 5.0  # after a kill, how long to wait for the processes and pipes to go
_STOP_BOUND = 1.0  # how long freezing a process tree may take before everything found is killed
_SPAWN_BOUND = 10.0  # fork + exec + pipe set-up, when a cancel arrives in the middle of it
_PR_SET_PDEATHSIG = 1


class ProcessResult(BaseModel):
    argv: list[str]
    exit_code: int | None  # None when killed on timeout, or when its output was held open
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    start_error: str | None = None  # the executable could not be started

    @classmethod
    def not_started(cls, argv: Sequence[str], error: OSError) -> ProcessResult:
        return cls(
            argv=list(argv),
            exit_code=None,
            stdout="",
            stderr="",
            timed_out=False,
            seconds=0.0,
            start_error=f"{argv[0]}: {error.strerror}",
        )


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
    """Runs commands in their own process group and session, at most ``workers`` at a time.

    Each Lean process can take gigabytes, hence the bound; on timeout or cancel every process of
    the run is killed (see the module's docstring) so that `lake`'s child `lean`, or the cage's
    inner processes, do not outlive it."""

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
        """A process with stdin/stdout pipes in its own group; the caller bounds how many and
        ends it with `stop_process`."""
        return await _spawn(
            argv,
            cwd=cwd,
            env=env if env is not None else self._env,
            preexec=self._preexec,
            stdin=asyncio.subprocess.PIPE,
        )


# ---------------------------------------------------------------------------------------------
# Finding and killing every process of a run


@dataclass(frozen=True)
class Tracked:
    """What identifies the processes of one run: the direct child (its pid, and its start time
    so that a reused pid is not mistaken for it), which also names the group and session it
    leads, and the inodes of the pipes it was given."""

    pid: int
    start_time: int | None
    pipes: frozenset[int]


@dataclass(frozen=True)
class _Proc:
    ppid: int
    pgid: int
    sid: int
    state: str
    start_time: int


def _stat(pid: int) -> _Proc | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text("utf-8", "replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return _Proc(
            ppid=int(fields[1]),
            pgid=int(fields[2]),
            sid=int(fields[3]),
            state=fields[0],
            start_time=int(fields[19]),
        )
    except (IndexError, ValueError):
        return None


def _table() -> dict[int, _Proc]:
    out: dict[int, _Proc] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit() and (info := _stat(int(name))) is not None:
                out[int(name)] = info
    return out


def _holders(pipes: Collection[int], pids: Iterable[int]) -> set[int]:
    """The processes among ``pids`` with an open descriptor on one of ``pipes``."""
    if not pipes:
        return set()
    wanted = {f"pipe:[{inode}]" for inode in pipes}
    found: set[int] = set()
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or not ours to look at
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in wanted:
                    found.add(pid)
                    break
            except OSError:
                continue
    return found


def track(proc: asyncio.subprocess.Process) -> Tracked:
    """Note what identifies ``proc``'s processes; call it right after the start, while the
    pipes are open."""
    inodes: set[int] = set()
    transport = _transport(proc)
    if transport is not None:
        for fd in (0, 1, 2):
            pipe = transport.get_pipe_transport(fd)
            if pipe is None:
                continue
            file = pipe.get_extra_info("pipe")
            with contextlib.suppress(OSError, ValueError, AttributeError):
                inodes.add(os.fstat(file.fileno()).st_ino)
    info = _stat(proc.pid)
    return Tracked(proc.pid, info.start_time if info else None, frozenset(inodes))


def _reused(tracked: Tracked, table: dict[int, _Proc]) -> bool:
    """Whether the direct child's pid now names another process. The kernel does not hand out
    a pid still in use as a group or session id, so until then those ids are still ours."""
    now = table.get(tracked.pid)
    return now is not None and now.start_time != tracked.start_time


def _family(tracked: Tracked, table: dict[int, _Proc], holders: Iterable[int]) -> set[int]:
    """The run's processes: its group and session, the direct child, the pipes' ``holders``,
    and the descendants of all these."""
    me = os.getpid()
    roots = set(holders)
    if not _reused(tracked, table):
        roots |= {p for p, i in table.items() if tracked.pid in (i.pgid, i.sid)}
        if tracked.pid in table:
            roots.add(tracked.pid)
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.ppid, []).append(pid)
    family: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in family or pid == me:
            continue
        family.add(pid)
        stack.extend(children.get(pid, ()))
    return family


def kill_tree(tracked: Tracked) -> set[int]:
    """Freeze, then kill, every process of a run (see the module's docstring); returns the pids
    killed. Synchronous and bounded, so that a second cancel cannot interrupt it halfway."""
    found: set[int] = set()
    deadline = time.monotonic() + _STOP_BOUND
    table = _table()
    # Reading every process's descriptors is the slow part: once is enough, since whatever
    # left the tree did so before the kill began, and what it forks later is its descendant.
    holders = _holders(tracked.pipes, (p for p in table if p != os.getpid()))
    while True:
        new = _family(tracked, table, holders) - found
        for pid in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        found |= new
        settled = all(table[p].state in "TtZX" for p in found - new if p in table)
        if (not new and settled) or time.monotonic() > deadline:
            break
        time.sleep(0.002)
        table = _table()
    for pid in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    _kill_group_of(tracked)  # in case /proc could not be read
    return found


def _kill_group_of(tracked: Tracked) -> None:
    now = _stat(tracked.pid)
    if now is None or now.start_time == tracked.start_time:
        kill_group(tracked.pid)


def kill_group(pid: int) -> None:
    """Kill a process group started by an executor; quiet if it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _transport(proc: asyncio.subprocess.Process) -> asyncio.SubprocessTransport | None:
    # asyncio keeps the transport private; closing it is the only way to let go of pipes that
    # a stray process keeps open without waiting for their EOF.
    transport: Any = getattr(proc, "_transport", None)
    return transport if isinstance(transport, asyncio.SubprocessTransport) else None


def _close(proc: asyncio.subprocess.Process) -> None:
    transport = _transport(proc)
    if transport is not None:
        transport.close()


async def stop_process(
    proc: asyncio.subprocess.Process, tracked: Tracked | None = None, *, bound: float = REAP_BOUND
) -> None:
    """Kill ``proc`` and everything it started, wait at most ``bound`` seconds for it to be
    reaped, and let go of its pipes. For processes from `Executor.start`."""
    kill_tree(tracked or track(proc))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), bound)
    finally:
        _close(proc)


# ---------------------------------------------------------------------------------------------
# Starting


@functools.cache
def _prctl() -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return fn


def _child_setup(preexec: Callable[[], None] | None) -> Callable[[], None]:
    """Runs in the child before exec: die with leanloop, then the caller's hook (limits)."""
    parent = os.getpid()
    prctl = _prctl()

    def setup() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # leanloop died before the line above took effect
                os.kill(os.getpid(), signal.SIGKILL)
        if preexec is not None:
            preexec()

    return setup


async def _spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None,
    preexec: Callable[[], None] | None,
    stdin: int,
    stderr: int = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    """Start ``argv`` in a new session. A cancel during the start-up does not leave it behind:
    asyncio's own clean-up would kill only the direct child, which is the very race that lets
    the cage's init escape, so the start is shielded and the result killed as a whole."""
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_child_setup(preexec),
            limit=_READ_LIMIT,
        )
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        done, _ = await asyncio.wait({starting}, timeout=_SPAWN_BOUND)
        if done and not starting.cancelled() and starting.exception() is None:
            proc = starting.result()
            kill_tree(track(proc))
            # Closing before the exit is seen would reap the child behind asyncio's back.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(_exit(proc), REAP_BOUND)
            _close(proc)
        raise


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
    pipe_grace: float = PIPE_GRACE,
    merge_stderr: bool = False,
) -> ProcessResult:
    """Run to completion within ``timeout`` seconds. Ends within ``timeout + pipe_grace + 1 +
    REAP_BOUND`` seconds whatever the process does; when cancelled, it kills everything the
    run started before the cancel goes on. With ``merge_stderr``, both streams go to
    ``stdout`` in the order they were written (a log read as one text, like `lake build`'s)."""
    start = time.monotonic()
    try:
        proc = await _spawn(
            argv,
            cwd=cwd,
            env=env,
            preexec=preexec,
            stdin=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
        )
    except OSError as e:
        return ProcessResult.not_started(argv, e)
    tracked = track(proc)
    assert proc.stdout is not None
    out = asyncio.ensure_future(proc.stdout.read())
    err = asyncio.ensure_future(proc.stderr.read() if proc.stderr is not None else _nothing())
    # `wait()` returns only once the pipes are closed too, so the exit itself is polled.
    finished = asyncio.ensure_future(proc.wait())
    exited = asyncio.ensure_future(_exit(proc))
    tasks = (out, err, finished, exited)
    timed_out = held = False
    try:
        await asyncio.wait({finished, exited}, timeout=timeout, return_when="FIRST_COMPLETED")
        timed_out = proc.returncode is None
        if not timed_out and not finished.done():
            # The output ends when the last holder of the pipes lets go, not at the exit.
            done, _ = await asyncio.wait({finished}, timeout=pipe_grace)
            held = not done
        if timed_out or held:
            await _kill_and_reap(tracked, tasks)
        else:
            _kill_group_of(tracked)  # a finished `lake` may leave children in the group
    except BaseException:  # cancelled (a lost race, Ctrl-C): nothing may outlive the run
        try:
            await _kill_and_reap(tracked, tasks)
        except BaseException:
            kill_tree(tracked)  # a second cancel cut the above short: once more, synchronously
        raise
    finally:
        for task in tasks:
            task.cancel()
        _close(proc)
    stderr = _text(err)
    if held:
        stderr += (
            f"\nleanloop: a process of the check kept its output open {pipe_grace:g}s after "
            "it exited; it was killed and the output is not trusted"
        )
    return ProcessResult(
        argv=list(argv),
        exit_code=None if timed_out or held else proc.returncode,
        stdout=_text(out),
        stderr=stderr.strip("\n") if held else stderr,
        timed_out=timed_out,
        seconds=time.monotonic() - start,
    )


async def _kill_and_reap(tracked: Tracked, tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Kill the run and wait, bounded, for the exit and the pipes' EOF. A holder of the pipes
    that slipped out of the tree while the first kill ran is looked for once more."""
    kill_tree(tracked)
    _, pending = await asyncio.wait(tasks, timeout=1.0)
    if pending:
        kill_tree(tracked)
        await asyncio.wait(pending, timeout=REAP_BOUND)


async def _nothing() -> bytes:
    return b""


async def _exit(proc: asyncio.subprocess.Process) -> None:
    while proc.returncode is None:
        await asyncio.sleep(0.05)


def _text(task: asyncio.Future[bytes]) -> str:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return ""
    return task.result().decode("utf-8", "replace")


def run_blocking(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> ProcessResult:
    """`run_process` for a caller that cannot await (the sandbox's probe, which decides how
    every later process starts). The same guarantees: its own session, death with leanloop,
    every process of the run frozen and killed on timeout or interrupt, and bounded waits."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_child_setup(preexec),
        )
    except OSError as e:
        return ProcessResult.not_started(argv, e)
    pipes: set[int] = set()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                pipes.add(os.fstat(stream.fileno()).st_ino)
    info = _stat(proc.pid)
    tracked = Tracked(proc.pid, info.start_time if info else None, frozenset(pipes))
    out = err = b""
    timed_out = held = False
    try:
        out, err = proc.communicate(timeout=timeout)
        _kill_group_of(tracked)  # a finished command may leave children in the group
    except subprocess.TimeoutExpired:
        # The output ends when the last holder of the pipes lets go, not at the exit.
        held = proc.poll() is not None
        timed_out = not held
        out, err = _reap_blocking(proc, tracked)
    except BaseException:  # Ctrl-C: nothing may outlive the run
        _reap_blocking(proc, tracked)
        raise
    stderr = err.decode("utf-8", "replace")
    if held:
        stderr += "\nleanloop: a process kept the output open after it exited; it was killed"
    return ProcessResult(
        argv=list(argv),
        exit_code=None if timed_out or held else proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=stderr,
        timed_out=timed_out,
        seconds=time.monotonic() - start,
    )


def _reap_blocking(proc: subprocess.Popen[bytes], tracked: Tracked) -> tuple[bytes, bytes]:
    """Kill the run, then wait (bounded) for the exit and the output; a holder of the pipes
    that slipped out of the tree during the first kill is looked for once more."""
    kill_tree(tracked)
    try:
        return proc.communicate(timeout=REAP_BOUND)
    except subprocess.TimeoutExpired:
        kill_tree(tracked)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=REAP_BOUND)
        return b"", b""
