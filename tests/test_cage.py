"""The cage: a Lean process that misbehaves is contained and becomes a verdict.

These run for real wherever bubblewrap works (CI installs it); elsewhere they are skipped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.errors import LeanloopError, SandboxError
from leanloop.gate import Reason, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.environment import lean_environment
from leanloop.lean.project import LeanCommand
from leanloop.lean.sandbox import Limits, make_executor, sandbox_status
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

HOSTILE = Path(__file__).parent / "doubles" / "hostile_lean.py"
SOURCE = "theorem t : 1 + 1 = 2 := by\n  sorry\n"

pytestmark = [
    pytest.mark.cage,
    pytest.mark.skipif(not sandbox_status("auto").usable, reason="bubblewrap is not usable here"),
]


def _checker(tmp_path: Path, *, timeout: float = 20, memory_mb: int = 2048) -> CliChecker:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # The double's instructions are not on the built-in allow-list; a user would add them so.
    env = lean_environment(["HOSTILE_*"])
    executor, status = make_executor(
        "required", 2, Limits(memory_mb=memory_mb, cpu_seconds=60), scratch, lambda m: None, env
    )
    assert status.active
    command = LeanCommand(
        argv=[sys.executable, str(HOSTILE), "--json"], cwd=tmp_path, project_root=None
    )
    return CliChecker(command, executor, timeout=timeout, scratch_root=scratch)


async def _judge(checker: CliChecker) -> tuple[bool, Reason | None, str]:
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    verdict = await judge(doc, target, "rfl", checker, Policy.build())
    return verdict.accepted, verdict.reason, verdict.message


async def test_writes_outside_scratch_do_not_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = Path.home() / f".leanloop-cage-{uuid.uuid4().hex}"
    monkeypatch.setenv("HOSTILE_MODE", "write")
    monkeypatch.setenv("HOSTILE_TARGET", str(outside))
    try:
        accepted, reason, _ = await _judge(_checker(tmp_path))
        assert not outside.exists()
        # The run goes on: the (honest) answer still comes through.
        assert accepted and reason is None
    finally:
        outside.unlink(missing_ok=True)


async def test_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    connected: list[bool] = []

    def accept() -> None:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            connected.append(True)
            conn.close()
            return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("HOSTILE_MODE", "network")
    monkeypatch.setenv("HOSTILE_TARGET", f"127.0.0.1:{server.getsockname()[1]}")
    try:
        accepted, _, _ = await _judge(_checker(tmp_path))
    finally:
        thread.join(10)
        server.close()
    assert connected == []
    assert accepted


async def test_fork_bomb_is_killed_with_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = uuid.uuid4().hex
    monkeypatch.setenv("HOSTILE_MODE", "fork")
    monkeypatch.setenv("HOSTILE_FORKS", "30")
    monkeypatch.setenv("HOSTILE_MARKER", marker)
    accepted, reason, message = await _judge(_checker(tmp_path, timeout=3))
    assert not accepted and reason is Reason.TIMEOUT
    assert "time limit" in message
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(HOSTILE)], capture_output=True, text=True)
    assert left.stdout.strip() == "", "forked children outlived the run"


async def test_memory_hog_becomes_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTILE_MODE", "memory")
    monkeypatch.setenv("HOSTILE_BYTES", str(3 * 1024**3))
    accepted, reason, message = await _judge(_checker(tmp_path, memory_mb=256))
    assert not accepted and reason is Reason.CRASH
    assert "MemoryError" in message


async def test_sleeping_forever_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTILE_MODE", "sleep")
    start = time.monotonic()
    accepted, reason, _ = await _judge(_checker(tmp_path, timeout=2))
    assert not accepted and reason is Reason.TIMEOUT
    assert time.monotonic() - start < 30


def test_required_sandbox_fails_clearly_without_bwrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this PATH
    with pytest.raises(SandboxError, match="required but unavailable"):
        make_executor("required", 1, Limits(), tmp_path, lambda m: None)
    warnings: list[str] = []
    make_executor("auto", 1, Limits(), tmp_path, warnings.append)
    assert len(warnings) == 1 and "bubblewrap" in warnings[0]


async def test_repl_pool_runs_inside_the_cage(tmp_path: Path) -> None:
    """The warm REPL backend starts its processes through the same cage."""
    from leanloop.lean.repl import ReplPool

    repl = Path(__file__).parent / "doubles" / "fake_repl.py"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    executor, status = make_executor("required", 1, Limits(memory_mb=2048), scratch, print)
    assert status.active
    command = LeanCommand(argv=[sys.executable, str(repl)], cwd=tmp_path, project_root=None)
    pool = ReplPool(command, executor, size=1, timeout=30)
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    try:
        verdict = await judge(doc, target, "rfl", pool, Policy.build())
    finally:
        await pool.aclose()
    assert verdict.accepted, verdict.message


def test_what_the_command_needs_from_tmp_is_bound_back(tmp_path: Path) -> None:
    """The fresh /tmp would hide a project, a venv or a script living under /tmp."""
    from leanloop.lean.sandbox import bwrap_args

    script_dir = tmp_path / "tools"
    script_dir.mkdir()
    (script_dir / "run.py").write_text("")
    args = bwrap_args(
        tmp_path / "proj", tmp_path / "scratch", [sys.executable, str(script_dir / "run.py")]
    )
    tmpfs = args.index("/tmp")
    # bwrap's --ro-bind takes SOURCE DEST; what counts is the destination, after the tmpfs.
    rebound = [args[i + 2] for i in range(tmpfs, len(args) - 2) if args[i] == "--ro-bind"]
    assert str(script_dir) in rebound  # the script's directory: it may import its neighbours
    assert str(tmp_path / "proj") in rebound
    if str(tmp_path) in sys.executable:
        assert str(Path(sys.executable).parent.parent) in rebound
    assert args[args.index("--bind") + 2] == str(tmp_path / "scratch")


async def test_lake_sets_up_the_project_outside_the_cage_first(
    fake_lean: FakeLean, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the cage the project is read-only, so Lake's own set-up (`lake env`, which may
    write `.lake/`) runs first, uncaged, before the first check: it runs only the user's
    lakefile. A set-up that fails fails the checks with Lake's own words."""
    from leanloop.session import make_checker
    from leanloop.settings import Settings

    (tmp_path / "lakefile.lean").write_text("import Lake\n")
    source = tmp_path / "T.lean"
    source.write_text(SOURCE)
    settings = Settings(sandbox="required", env_allow=["FAKE_LEAN_LOG"])
    checker = make_checker(settings, source, print)
    try:
        await checker.check(SOURCE)
        await checker.check(SOURCE)
    finally:
        await checker.aclose()
    setups = [i for i in fake_lean.invocations() if i["argv"] == ["lake", "env", "true"]]
    assert len(setups) == 1  # once per checker, not once per check

    failing = tmp_path / "bin"
    failing.mkdir()
    (failing / "lake").write_text("#!/bin/sh\necho 'error: bad lakefile' >&2\nexit 1\n")
    (failing / "lake").chmod(0o755)
    monkeypatch.setenv("PATH", f"{failing}:{os.environ['PATH']}")
    checker = make_checker(settings, source, print)
    try:
        for _ in range(2):
            with pytest.raises(LeanloopError, match="bad lakefile"):
                await checker.check(SOURCE)
    finally:
        await checker.aclose()


async def test_lakes_set_up_does_not_stop_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lake's set-up can take a while (it may clone and configure); other work goes on while it
    runs. The `lake` double waits until the test, running on the same event loop, lets it go:
    if the set-up blocked the loop, the test could never do so."""
    import asyncio

    from leanloop.session import make_checker
    from leanloop.settings import Settings

    started, release, outcome = (tmp_path / n for n in ("started", "release", "outcome"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lake").write_text(
        "#!/bin/sh\n"
        '[ "$1 $2" = "env true" ] || exit 0\n'
        f"touch '{started}'\n"
        "i=0\n"
        f"while [ ! -e '{release}' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n"
        f"if [ -e '{release}' ]; then echo released > '{outcome}'; "
        f"else echo 'gave up' > '{outcome}'; fi\n"
    )
    (bin_dir / "lake").chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    (project / "lakefile.lean").write_text("import Lake\n")
    (project / "T.lean").write_text(SOURCE)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    checker = make_checker(Settings(sandbox="required"), project / "T.lean", print)

    async def let_lake_go() -> None:
        while not started.exists():
            await asyncio.sleep(0.01)
        release.touch()

    helper = asyncio.ensure_future(let_lake_go())
    try:
        await checker.check(SOURCE)  # the caged "lean" is the double too: its verdict is moot
    finally:
        helper.cancel()
        await checker.aclose()
    assert outcome.read_text().strip() == "released"


def test_a_scripts_interpreter_under_tmp_is_bound_back(tmp_path: Path) -> None:
    from leanloop.lean.sandbox import bwrap_args

    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    tool = tmp_path / "tools" / "bin" / "lake"
    tool.parent.mkdir(parents=True)
    tool.write_text(f"#!{venv / 'python'}\n")
    tool.chmod(0o755)
    args = bwrap_args(tmp_path / "proj", tmp_path / "scratch", [str(tool)])
    rebound = [args[i + 2] for i, a in enumerate(args[:-2]) if a == "--ro-bind"]
    assert str(tmp_path / "venv") in rebound and str(tmp_path / "tools") in rebound
