"""The cage around every Lean process: bubblewrap namespaces plus resource limits.

Lean runs code while it elaborates (`#eval`, tactics, macros), and the proof comes from a model,
so the process gets no network, a read-only view of the machine except its scratch directory,
a fresh `/tmp`, its own PID namespace, and rlimits on memory, CPU, file size and processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from leanloop.errors import SandboxError
from leanloop.lean.runner import Executor, LocalExecutor, ProcessResult


class Limits(BaseModel):
    memory_mb: int = 8192
    cpu_seconds: int = 600
    file_size_mb: int = 512
    # RLIMIT_NPROC counts every thread of the user, so it must sit well above a desktop's load.
    processes: int = 8192


def rlimit_setter(limits: Limits) -> Callable[[], None]:
    """A pre-exec hook for the child. RLIMIT_DATA rather than RLIMIT_AS: Lean maps `.olean`
    files (gigabytes with Mathlib) and those read-only file mappings must not count."""

    def apply() -> None:
        mb = 1024 * 1024
        for res, value in (
            (resource.RLIMIT_DATA, limits.memory_mb * mb),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
            # Not enforced for root; the PID namespace and the group kill bound it there.
            (resource.RLIMIT_NPROC, limits.processes),
        ):
            hard = value + 5 if res == resource.RLIMIT_CPU else value
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(res, (value, hard))

    return apply


@dataclass(frozen=True)
class SandboxStatus:
    mode: str  # required | auto | off
    usable: bool
    active: bool
    detail: str
    fix: str | None = None


def _probe(bwrap: str) -> str | None:
    """None when bubblewrap can start a caged `true`, else why not."""
    try:
        proc = subprocess.run(
            [bwrap, *bwrap_args(Path("/"), Path("/tmp")), "true"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if proc.returncode != 0:
        return proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
    return None


def sandbox_status(mode: str) -> SandboxStatus:
    if mode == "off":
        return SandboxStatus(mode, False, False, "off (--sandbox off): Lean runs uncaged")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(
            mode,
            False,
            False,
            "bubblewrap (bwrap) is not installed; Lean runs uncaged",
            fix="install bubblewrap (e.g. `apt-get install bubblewrap`)",
        )
    problem = _probe(bwrap)
    if problem is not None:
        return SandboxStatus(
            mode,
            False,
            False,
            f"bwrap cannot start a sandbox: {problem}",
            fix="allow unprivileged user namespaces, or run with --sandbox off",
        )
    return SandboxStatus(mode, True, True, f"on ({mode}): Lean runs under {bwrap}")


def _hidden_by_tmp(argv: Sequence[str], cwd: Path) -> list[Path]:
    """Paths the command needs that live under /tmp, which the cage replaces with a fresh one:
    the project, and the tool's installation (``…/bin/tool`` -> ``…``)."""
    wanted = [cwd]
    if argv:
        exe = shutil.which(argv[0])
        if exe is not None:
            wanted.append(Path(os.path.abspath(exe)).parent.parent)
            if (interpreter := _shebang(exe)) is not None:
                wanted.append(Path(interpreter).parent.parent)
        # A script is bound with its directory: it may import its neighbours.
        wanted.extend(
            Path(a) if os.path.isdir(a) else Path(a).parent
            for a in argv[1:]
            if os.path.isabs(a) and os.path.exists(a)
        )
    tmp = Path("/tmp")
    return sorted({p for p in wanted if p != tmp and tmp in p.parents}, key=lambda p: len(p.parts))


def _shebang(exe: str) -> str | None:
    """The interpreter of a `#!` script, which has to be visible in the cage too."""
    try:
        with open(exe, "rb") as f:
            first = f.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    return parts[0] if parts and os.path.isabs(parts[0]) else None


def bwrap_args(cwd: Path, scratch: Path, argv: Sequence[str] = ()) -> list[str]:
    keep: list[str] = []
    for p in _hidden_by_tmp(argv, cwd):
        keep += ["--ro-bind", str(p), str(p)]
    return [
        "--die-with-parent",
        "--new-session",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        # After the fresh /tmp, so what the command needs from /tmp is visible again,
        # read-only, and the scratch directory writable.
        *keep,
        "--bind",
        str(scratch),
        str(scratch),
        "--chdir",
        str(cwd),
        "--",
    ]


class SandboxExecutor:
    """Runs each command inside bubblewrap, writable only in ``scratch``."""

    def __init__(self, inner: Executor, bwrap: str, scratch: Path) -> None:
        self._inner = inner
        self._bwrap = bwrap
        self._scratch = scratch

    async def run(
        self, argv: Sequence[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> ProcessResult:
        result = await self._inner.run(self._cage(argv, cwd), cwd=cwd, timeout=timeout, env=env)
        return result.model_copy(update={"argv": list(argv)})

    async def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> asyncio.subprocess.Process:
        return await self._inner.start(self._cage(argv, cwd), cwd=cwd, env=env)

    def _cage(self, argv: Sequence[str], cwd: Path) -> list[str]:
        return [self._bwrap, *bwrap_args(cwd, self._scratch, argv), *argv]


def make_executor(
    mode: str, workers: int, limits: Limits, scratch: Path, warn: Callable[[str], None]
) -> tuple[Executor, SandboxStatus]:
    """The executor for Lean processes under the chosen sandbox mode."""
    status = sandbox_status(mode)
    local = LocalExecutor(workers, preexec=rlimit_setter(limits))
    if status.usable:
        bwrap = shutil.which("bwrap")
        assert bwrap is not None
        return SandboxExecutor(local, bwrap, scratch), status
    if mode == "required":
        raise SandboxError(f"The sandbox is required but unavailable: {status.detail}.")
    if mode == "auto":
        warn(
            f"warning: {status.detail}; install bubblewrap to cage Lean, or pass "
            "--sandbox off to silence this."
        )
    return local, status
