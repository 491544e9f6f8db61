"""Shared pytest fixtures: the ``fake_lean`` toolchain double and a scripted OpenAI server."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer


@pytest.fixture
def fake_lean(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> FakeLean:
    """Put fake ``lean``/``lake`` executables first on PATH and log every invocation.

    Returns a :class:`FakeLean` with ``.bin_dir``, ``.log_path``, ``.scenario(rules)``,
    ``.invocations()`` and ``.checked_sources()``.
    """
    root: Path = tmp_path_factory.mktemp("fake_lean")
    monkeypatch.delenv("FAKE_LEAN_SCENARIO", raising=False)
    # Lean runs with an allow-listed environment (issue 14); the double's own controls must be
    # let through by name, as a user would add a variable their build needs.
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", "FAKE_LEAN_LOG FAKE_LEAN_SCENARIO")
    return FakeLean(root / "bin", root, monkeypatch.setenv)


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A scripted OpenAI-wire server on 127.0.0.1 (``.base_url`` ends in ``/v1``)."""
    server = ScriptedOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# Markers, a clean environment for every test, and a helper that runs the real CLI.

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lean: needs a real Lean toolchain (lake on PATH)")
    config.addinivalue_line(
        "markers", "cage: tests the sandbox itself (LEANLOOP_SANDBOX is left as the test sets it)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("lake") is not None:
        return
    skip = pytest.mark.skip(reason="needs a real Lean toolchain: `lake` is not on PATH")
    for item in items:
        if item.get_closest_marker("lean") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _leanloop_env(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No ambient key or LEANLOOP_* setting leaks in; Lean runs uncaged unless testing the cage;
    caches (the premise index's, matplotlib's) are the test session's, never the user's (a
    real-Lean test keeps the user's cache directory, where Lake and Mathlib keep theirs)."""
    for name in list(os.environ):
        if name.startswith("LEANLOOP_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    if request.node.get_closest_marker("cage") is None:
        monkeypatch.setenv("LEANLOOP_SANDBOX", "off")
    if request.node.get_closest_marker("lean") is None:
        cache = tmp_path_factory.getbasetemp() / "xdg-cache"
        cache.mkdir(exist_ok=True)
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))


RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """Run ``python -m leanloop ARGS`` as a user would: a real process, in ``tmp_path``.

    ``env`` adds (or, with a ``None`` value, removes) variables on top of the test's
    environment, which already has the fake toolchain on PATH when ``fake_lean`` is used.
    """

    def run(
        *args: str | os.PathLike[str],
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run(
            [sys.executable, "-m", "leanloop", *map(str, args)],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """Like ``run_cli`` but in this process (``typer.testing.CliRunner``): same arguments, same
    result shape, about a second faster per call. Use ``run_cli`` where the real process matters
    (exit codes, tracebacks)."""
    from typer.testing import CliRunner

    from leanloop.cli import app

    def run(
        *args: str | os.PathLike[str],
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as m:
            m.chdir(cwd or tmp_path)
            for key, value in (env or {}).items():
                if value is None:
                    m.delenv(key, raising=False)
                else:
                    m.setenv(key, value)
            result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
        return subprocess.CompletedProcess(
            list(args), result.exit_code, result.stdout, result.stderr
        )

    return run


# ---------------------------------------------------------------------------------------------
# Issue 11: the suite leaves no process behind. The test process becomes a child subreaper, so
# that whatever the suite starts and orphans is re-parented to it rather than to pid 1 (and so
# is told apart from other users' processes); at the end, any such process still alive fails
# the run, and is killed. Only the suite is a subreaper: leanloop itself is not (see
# agent/lean/runner.py).

_STRAY_NAMES = ("bwrap", "lean", "lake", "repl")


def _children_of_the_suite() -> list[tuple[int, str, str]]:
    me = str(os.getpid())
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text("utf-8", "replace")
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[1] == me:
            found.append((int(name), fields[0], f"{comm}: {cmdline.decode('utf-8', 'replace')}"))
    return found


@pytest.fixture(scope="session", autouse=True)
def _no_stray_processes() -> Iterator[None]:
    import ctypes
    import signal
    import time

    try:
        subreaper = ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # SET_SUBREAPER
    except (OSError, AttributeError):
        subreaper = False
    yield
    if not subreaper:
        return
    deadline = time.monotonic() + 5  # let SIGKILLs sent by the last test land
    while True:
        strays = []
        for pid, state, what in _children_of_the_suite():
            if state in ("Z", "X"):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # adopted orphans are ours to reap
            elif any(n in what.split(":")[0] for n in _STRAY_NAMES) or "tests/doubles/" in what:
                strays.append((pid, what))
        if not strays or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid, _ in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if strays:
        listing = "\n".join(f"  {pid} {what[:200]}" for pid, what in strays)
        pytest.fail(f"the test suite left {len(strays)} process(es) behind:\n{listing}")
