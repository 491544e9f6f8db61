"""Running Lean: the command for a file, process limits (timeout kills the whole group, bounded
concurrency) and the checker that turns a run into typed messages."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.errors import ConfigError, LeanNotFoundError
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import LeanCommand, find_lake_root, lean_command
from leanloop.lean.runner import LocalExecutor, run_process

# A process that starts a grandchild in its group, records the grandchild's pid, then hangs.
HANG_WITH_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie is dead, it only waits to be reaped


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "hang.py"
    script.write_text(HANG_WITH_CHILD)
    result = await run_process(
        [sys.executable, str(script), str(pid_file)], cwd=tmp_path, timeout=1.5
    )
    assert result.timed_out
    assert result.exit_code is None
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _gone(child), "the grandchild outlived the timeout"


async def test_missing_executable_is_a_result_not_an_exception(tmp_path: Path) -> None:
    result = await run_process(["/nonexistent/lean", "--json", "x.lean"], cwd=tmp_path, timeout=5)
    assert result.start_error is not None and "/nonexistent/lean" in result.start_error
    assert (result.exit_code, result.timed_out) == (None, False)


async def test_output_and_exit_code(tmp_path: Path) -> None:
    code = "import sys; print('α₁ out'); print('err', file=sys.stderr); sys.exit(3)"
    result = await run_process([sys.executable, "-c", code], cwd=tmp_path, timeout=30)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "α₁ out\n", "err\n")


async def test_concurrency_is_bounded(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code = (
        "import os, sys, time\n"
        "def note(w):\n"
        "    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
        "    os.write(fd, (w + '\\n').encode()); os.close(fd)\n"
        "note('start'); time.sleep(0.3); note('end')\n"
    )
    executor = LocalExecutor(2)
    await asyncio.gather(
        *(
            executor.run([sys.executable, "-c", code, str(log)], cwd=tmp_path, timeout=30)
            for _ in range(5)
        )
    )
    running = peak = 0
    for word in log.read_text().split():
        running += 1 if word == "start" else -1
        peak = max(peak, running)
    assert peak <= 2
    assert log.read_text().split().count("end") == 5


# ---------------------------------------------------------------------------------------------
# which command checks a file


def test_lake_project_uses_lake_env_lean(fake_lean: FakeLean, tmp_path: Path) -> None:
    (tmp_path / "lakefile.toml").write_text('name = "p"\n')
    sub = tmp_path / "Src" / "Deep"
    sub.mkdir(parents=True)
    file = sub / "T.lean"
    file.write_text("theorem t : True := trivial\n")
    assert find_lake_root(file) == tmp_path
    cmd = lean_command(file, None)
    assert (cmd.argv, cmd.cwd, cmd.project_root) == (
        ["lake", "env", "lean", "--json"],
        tmp_path,
        tmp_path,
    )
    assert cmd.for_file(file) == ["lake", "env", "lean", "--json", str(file)]


def test_plain_lean_without_a_project(fake_lean: FakeLean, tmp_path: Path) -> None:
    file = tmp_path / "T.lean"
    file.write_text("")
    cmd = lean_command(file, None)
    assert (cmd.argv, cmd.cwd, cmd.project_root) == (["lean", "--json"], tmp_path, None)


def test_lean_cmd_override(fake_lean: FakeLean, tmp_path: Path) -> None:
    file = tmp_path / "T.lean"
    cmd = lean_command(file, "lean -DmaxHeartbeats=100 --json '{file}' --stats")
    assert cmd.for_file(Path("/x/Y.lean")) == [
        "lean",
        "-DmaxHeartbeats=100",
        "--json",
        "/x/Y.lean",
        "--stats",
    ]
    with pytest.raises(ConfigError, match="--lean-cmd is empty"):
        lean_command(file, "   ")
    with pytest.raises(ConfigError, match="not a valid command line"):
        lean_command(file, "lean 'unclosed")


def test_missing_lean_names_elan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LeanNotFoundError) as info:
        lean_command(tmp_path / "T.lean", None)
    assert "elan" in str(info.value) and "`lean`" in str(info.value)
    with pytest.raises(LeanNotFoundError, match="`my-lean`"):
        lean_command(tmp_path / "T.lean", "my-lean --json")


# ---------------------------------------------------------------------------------------------
# the checker


async def test_checker_runs_lean_on_a_scratch_copy(fake_lean: FakeLean, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    command = LeanCommand(argv=["lean", "--json"], cwd=tmp_path, project_root=None)
    checker = CliChecker(
        command,
        LocalExecutor(1),
        timeout=60,
        extra_args=["-DmaxHeartbeats=1000"],
        scratch_root=scratch,
    )
    text = "theorem t (α₁ : Nat) : α₁ = α₁ := sorry\n#print axioms t\n"
    result = await checker.check(text, file_name="Mine.lean")
    assert result.status == "ok"
    assert [m.data for m in result.messages] == [
        "declaration uses `sorry`",
        "'t' depends on axioms: [sorryAx]",
    ]
    assert result.messages[0].pos.column == text.index("t (α₁")
    [inv] = fake_lean.invocations()
    assert inv["source"] == text
    assert inv["argv"][:3] == ["lean", "--json", "-DmaxHeartbeats=1000"]
    assert Path(inv["file"]).name == "Mine.lean"
    assert list(scratch.iterdir()) == []  # the copy is gone
    await checker.aclose()
    assert not scratch.exists()


async def test_checker_timeout_is_a_status(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario([{"when": "slow", "sleep": 30}])
    command = LeanCommand(argv=["lean", "--json"], cwd=tmp_path, project_root=None)
    result = await CliChecker(command, LocalExecutor(1), timeout=1).check("-- slow\n")
    assert result.status == "timeout"
    assert "time limit" in result.describe()


async def test_checker_without_lean_is_start_failed(tmp_path: Path) -> None:
    command = LeanCommand(argv=[str(tmp_path / "no-lean")], cwd=tmp_path, project_root=None)
    result = await CliChecker(command, LocalExecutor(1), timeout=5).check("")
    assert result.status == "start_failed"
    assert os.fspath(tmp_path / "no-lean") in result.excerpt


def test_options_go_before_the_file_even_with_a_placeholder() -> None:
    from leanloop.lean.project import LeanCommand

    plain = LeanCommand(argv=["lean", "--json"], cwd=Path("/"), project_root=None)
    assert plain.for_file(Path("/x/T.lean"), ["-DmaxHeartbeats=5"]) == [
        "lean", "--json", "-DmaxHeartbeats=5", "/x/T.lean"
    ]  # fmt: skip
    wrapped = LeanCommand(argv=["run-lean", "{file}", "--json"], cwd=Path("/"), project_root=None)
    assert wrapped.for_file(Path("/x/T.lean"), ["-Dx=1"]) == [
        "run-lean", "-Dx=1", "/x/T.lean", "--json"
    ]  # fmt: skip
