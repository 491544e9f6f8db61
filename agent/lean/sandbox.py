"""The cage around every Lean process: bubblewrap namespaces plus resource limits.

Lean runs code while it elaborates (`#eval`, tactics, macros), and the proof comes from a model,
so the process gets no network, no capabilities, its own PID namespace, a fresh `/tmp`, rlimits
on memory, CPU, file size and processes, and a view of the file system that holds only what
Lean needs (see `cage_exposure`): reading is enough to leak, because Lean's messages go to the
model provider, reports and CI logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from leanloop.errors import SandboxError
from leanloop.lean.environment import lean_environment
from leanloop.lean.runner import Executor, LocalExecutor, ProcessResult, run_blocking


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
    """What `--sandbox MODE` gives on this machine. ``active`` is whether Lean will run caged;
    a caller that must never run uncaged (`ci --fill`) refuses when it is False and the mode
    is not an explicit ``off``."""

    mode: str  # required | auto | off
    usable: bool
    active: bool
    detail: str
    fix: str | None = None


def _probe(bwrap: str) -> str | None:
    """None when bubblewrap can start a caged `true` with the real cage's arguments, else why
    not."""
    env = {"PATH": os.environ.get("PATH", os.defpath)}
    with tempfile.TemporaryDirectory(prefix="leanloop-probe-") as tmp:
        where = Path(tmp)
        proc = run_blocking(
            [bwrap, *bwrap_args(where, where, ["true"], env), "true"],
            cwd=where,
            timeout=20,
            env=env,
        )
    if proc.start_error:
        return proc.start_error
    if proc.timed_out:
        return "it did not start within 20 s"
    if proc.exit_code != 0:
        return proc.stderr.strip() or f"exit {proc.exit_code}"
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


# ---------------------------------------------------------------------------------------------
# What the cage shows


class Exposure(BaseModel):
    """One path visible inside the cage."""

    path: Path
    access: Literal["read-only", "writable"]
    why: str


@dataclass(frozen=True)
class _Mount:
    kind: Literal["ro-bind", "bind", "symlink", "dir", "tmpfs", "dev", "proc"]
    dest: str
    src: str = ""
    why: str = ""


# Directories of a dynamically linked program: binaries, the loader and shared libraries.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The only /etc files: what the dynamic loader reads to find shared libraries (ld.so(8)). No
# passwd, hosts, ssl or shadow: Lean and Lake run offline and look no user up.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d")
# Shared places that hold other people's or other projects' files: never bound whole, even when
# a tool's prefix or the working directory is one of them.
_SHARED_DIRS = frozenset(
    {"/", "/tmp", "/var", "/var/tmp", "/etc", "/home", "/root", "/run", "/mnt", "/media"}
    | {"/opt", "/srv", "/proc", "/sys", "/dev", "/boot", "/usr", "/usr/local"}
)


def _home(env: Mapping[str, str]) -> str:
    return os.path.abspath(env.get("HOME") or str(Path.home()))


# Under the home directory: `~/.local` is the prefix of `~/.local/bin` (pipx and pip --user
# install there) but also holds `~/.local/share` (keyrings, other tools' data).
_SHARED_IN_HOME = (".local", ".config", ".cache")


def _too_wide(path: str, env: Mapping[str, str]) -> bool:
    """Binding ``path`` would show far more than one tool or project: `/`, a shared directory,
    the home directory or one of its ancestors, or a shared directory in the home."""
    real = os.path.realpath(path)
    home = os.path.realpath(_home(env))
    for p in {os.path.abspath(path), real}:
        if p in _SHARED_DIRS or p == tempfile.gettempdir():
            return True
        if p == home or home.startswith(p.rstrip("/") + "/"):
            return True
        if any(p == os.path.join(home, d) for d in _SHARED_IN_HOME):
            return True
    return False


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _install_prefix(exe: str, env: Mapping[str, str]) -> str | None:
    """``…/bin/tool`` -> ``…``; another place -> the tool's directory; narrower when that
    would be too wide (a tool straight in `$HOME/bin` gets `$HOME/bin`, not `$HOME`)."""
    here = Path(exe)
    candidates = [here.parent.parent] if here.parent.name == "bin" else []
    candidates += [here.parent, here]
    for c in candidates:
        if not _too_wide(str(c), env):
            return str(c)
    return None


def _which(name: str, env: Mapping[str, str]) -> str | None:
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    return os.path.abspath(found) if found else None


def _shebang(exe: str) -> list[str]:
    """The interpreter line of a `#!` script (``["/usr/bin/env", "python3"]``), else []."""
    try:
        with open(exe, "rb") as f:
            first = f.readline(512)
    except OSError:
        return []
    if not first.startswith(b"#!"):
        return []
    parts = first[2:].decode("utf-8", "replace").split()
    return parts if parts and os.path.isabs(parts[0]) else []


def _program_paths(exe: str, env: Mapping[str, str], why: str) -> list[tuple[str, str]]:
    """A program's install prefix, where it is and where its symlinks lead, and the same for a
    script's interpreter (`#!/usr/bin/env python3` names `python3` on PATH)."""
    out: list[tuple[str, str]] = []
    programs = [exe]
    line = _shebang(exe)
    if line:
        programs.append(line[0])
        if Path(line[0]).name == "env" and len(line) > 1:
            named = _which(line[1], env)
            if named is not None:
                programs.append(named)
    for i, prog in enumerate(programs):
        what = why if i == 0 else f"interpreter of {why}"
        for p in dict.fromkeys([prog, os.path.realpath(prog)]):
            prefix = _install_prefix(p, env)
            if prefix is not None:
                out.append((prefix, what))
    return out


def _manifest_paths(project: Path) -> list[str]:
    """Directories `lake-manifest.json` points Lake at outside the usual `.lake/packages`: a
    `packagesDir` and the `dir` of each `path` dependency (`require foo from "../foo"`), both
    relative to the project (Lake's `Lake/Load/Manifest.lean`)."""
    try:
        data = json.loads((project / "lake-manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    dirs = [data.get("packagesDir")]
    packages = data.get("packages")
    if isinstance(packages, list):
        dirs += [p.get("dir") for p in packages if isinstance(p, dict) and p.get("type") == "path"]
    return [os.path.normpath(project / d) for d in dirs if isinstance(d, str) and d]


def _wanted(cwd: Path, argv: Sequence[str], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Read-only paths, before pruning: the toolchain, the command, the user's Lean paths, the
    project's dependencies."""
    wanted: list[tuple[str, str]] = []
    for d in _manifest_paths(cwd):
        if os.path.isdir(d) and not _too_wide(d, env):
            wanted.append((d, "a dependency of the project (lake-manifest.json)"))
    elan_home = env.get("ELAN_HOME") or os.path.join(_home(env), ".elan")
    if os.path.isdir(elan_home) and not _too_wide(elan_home, env):
        wanted.append((elan_home, "elan home: the toolchains `lean` and `lake` run from"))
    for var in ("LEAN_SYSROOT", "LAKE_HOME"):
        value = env.get(var)
        if value and os.path.isdir(value) and not _too_wide(value, env):
            wanted.append((value, f"${var}: where Lake looks for the toolchain"))
    for var in ("LEAN_PATH", "LEAN_SRC_PATH"):
        for entry in env.get(var, "").split(os.pathsep):
            usable = entry and os.path.isabs(entry) and os.path.isdir(entry)
            if usable and not _too_wide(entry, env):
                wanted.append((entry, f"on ${var}: Lean's module search path"))
    for tool in ("lean", "lake"):
        exe = _which(tool, env)
        if exe is not None:
            wanted += _program_paths(exe, env, f"the toolchain (`{tool}` on PATH)")
    if argv:
        exe = argv[0] if os.path.isabs(argv[0]) else _which(argv[0], env)
        if exe is not None and os.path.exists(exe):
            wanted += _program_paths(exe, env, f"the command (`{Path(argv[0]).name}`)")
        # A script is bound with its directory: it may import its neighbours.
        for a in argv[1:]:
            if os.path.isabs(a) and os.path.exists(a):
                d = a if os.path.isdir(a) else os.path.dirname(a)
                if not _too_wide(d, env):
                    wanted.append((d, "named on the command line"))
    return wanted


def _plan(
    cwd: Path, scratch: Path | None, argv: Sequence[str], env: Mapping[str, str]
) -> list[_Mount]:
    mounts: list[_Mount] = []
    covered: list[str] = []  # real paths already visible read-only
    system_why = "system programs and the shared libraries a dynamically linked Lean loads"
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            link = f"a symlink as on the host; {system_why}"
            mounts.append(_Mount("symlink", d, os.readlink(d), link))
        elif os.path.isdir(d):
            mounts.append(_Mount("ro-bind", d, d, system_why))
            covered.append(os.path.realpath(d))
    for f in _ETC_FILES:
        if os.path.exists(f):
            mounts.append(_Mount("ro-bind", f, f, "read by the dynamic loader to find libraries"))
    mounts += [
        _Mount("dev", "/dev", why="a minimal /dev: null, zero, full, random, urandom, tty"),
        _Mount("proc", "/proc", why="a fresh procfs: only the cage's own processes"),
        _Mount("tmpfs", "/tmp", why="a fresh, empty /tmp"),
    ]
    scratch_real = os.path.realpath(scratch) if scratch is not None else None
    project = str(cwd)
    project_real = os.path.realpath(project)
    if project == "/":
        pass  # --chdir / works in any cage
    elif _too_wide(project, env):
        mounts.append(
            _Mount(
                "dir",
                project,
                why="working directory, left empty: binding it "
                "would show the home or a shared directory",
            )
        )
    else:
        mounts.append(
            _Mount(
                "ro-bind",
                project,
                project_real,
                "the project, with its .lake packages and build outputs",
            )
        )
        covered.append(project_real)
    for path, why in _wanted(cwd, argv, env):
        absolute, real = os.path.abspath(path), os.path.realpath(path)
        if any(_within(real, c) for c in covered):
            continue
        if scratch_real is not None and _within(real, scratch_real):
            continue
        for dest in dict.fromkeys([absolute, real]):
            mounts.append(_Mount("ro-bind", dest, real, why))
        covered.append(real)
    if scratch is not None:
        mounts.append(
            _Mount(
                "bind",
                str(scratch),
                scratch_real or str(scratch),
                "scratch directory: the only writable place",
            )
        )
    # Parents before children: a later mount on a parent would hide an earlier child.
    order = {id(m): i for i, m in enumerate(mounts)}
    return sorted(mounts, key=lambda m: (len(Path(m.dest).parts), order[id(m)]))


def cage_exposure(
    cwd: Path,
    scratch: Path | None = None,
    argv: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> list[Exposure]:
    """Everything the cage shows a command ``argv`` run in ``cwd`` (the project) with scratch
    directory ``scratch``, as (path, read-only | writable, why); ``env`` is the child's
    environment (default: the allow-listed one), which locates the toolchain. Nothing else on
    the machine is visible inside."""
    env = lean_environment() if env is None else env
    out: list[Exposure] = []
    for m in _plan(cwd, scratch, argv, env):
        access: Literal["read-only", "writable"] = (
            "writable" if m.kind in ("bind", "tmpfs", "dev") else "read-only"
        )
        out.append(Exposure(path=Path(m.dest), access=access, why=m.why))
    return out


def bwrap_args(
    cwd: Path,
    scratch: Path,
    argv: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """bubblewrap's arguments (up to `--`) for running ``argv`` in ``cwd``."""
    env = lean_environment() if env is None else env
    args = [
        "--die-with-parent",
        "--new-session",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        # Run as root, the cage would keep every capability: mknod and mount could then reach
        # the host's disk behind the file-system view.
        "--cap-drop",
        "ALL",
    ]
    for m in _plan(cwd, scratch, argv, env):
        if m.kind in ("ro-bind", "bind"):
            args += [f"--{m.kind}", m.src, m.dest]
        elif m.kind == "symlink":
            args += ["--symlink", m.src, m.dest]
        elif m.kind in ("dir", "tmpfs", "dev", "proc"):
            args += [f"--{m.kind}", m.dest]
    if "TMPDIR" in env:
        # The host's TMPDIR does not exist in the cage; its /tmp is private and writable.
        args += ["--setenv", "TMPDIR", "/tmp"]
    return [*args, "--chdir", str(cwd), "--"]


class SandboxExecutor:
    """Runs each command inside bubblewrap, writable only in ``scratch``. ``env`` is the
    children's environment unless a call passes its own."""

    def __init__(
        self, inner: Executor, bwrap: str, scratch: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self._inner = inner
        self._bwrap = bwrap
        self._scratch = scratch
        self._env = dict(lean_environment() if env is None else env)

    async def run(
        self, argv: Sequence[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> ProcessResult:
        env = env if env is not None else self._env
        result = await self._inner.run(
            self._cage(argv, cwd, env), cwd=cwd, timeout=timeout, env=env
        )
        return result.model_copy(update={"argv": list(argv)})

    async def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> asyncio.subprocess.Process:
        env = env if env is not None else self._env
        return await self._inner.start(self._cage(argv, cwd, env), cwd=cwd, env=env)

    def _cage(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> list[str]:
        return [self._bwrap, *bwrap_args(cwd, self._scratch, argv, env), *argv]


def make_executor(
    mode: str,
    workers: int,
    limits: Limits,
    scratch: Path,
    warn: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> tuple[Executor, SandboxStatus]:
    """The executor for Lean processes under the chosen sandbox mode. Every child gets ``env``
    (default: leanloop's environment through the built-in allow-list), caged or not."""
    child_env = dict(lean_environment() if env is None else env)
    status = sandbox_status(mode)
    local = LocalExecutor(workers, preexec=rlimit_setter(limits), env=child_env)
    if status.usable:
        bwrap = shutil.which("bwrap")
        assert bwrap is not None
        return SandboxExecutor(local, bwrap, scratch, child_env), status
    if mode == "required":
        raise SandboxError(f"The sandbox is required but unavailable: {status.detail}.")
    if mode == "auto":
        warn(
            f"warning: {status.detail}; install bubblewrap to cage Lean, or pass "
            "--sandbox off to silence this."
        )
    return local, status
