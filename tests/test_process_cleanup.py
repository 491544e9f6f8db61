"""Issue 11: a check never hangs and leaves no process behind, whether it ends normally, on
timeout, or cancelled during the start-up, the read or the kill; uncaged here, caged in
test_process_cage.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leanloop.lean.checker import interpret
from leanloop.lean.runner import (
    REAP_BOUND,
    LocalExecutor,
    run_blocking,
    run_process,
    stop_process,
    track,
)

STRAY = Path(__file__).parent / "doubles" / "stray.py"


def survivors(marker: Path) -> list[int]:
    """Live processes with ``marker`` on their command line (a zombie is dead already)."""
    needle = str(marker).encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in cmdline and state not in ("Z", "X"):
            found.append(int(name))
    return found


async def settle(marker: Path, bound: float = 5.0) -> list[int]:
    """Survivors once SIGKILL has had time to land."""
    deadline = time.monotonic() + bound
    while (left := survivors(marker)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return left


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory unique to the test, on the command line of every process it starts; what
    survives the test is killed so that a failure leaves nothing behind either."""
    where = tmp_path / "run"
    where.mkdir()
    yield where
    for pid in survivors(where):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _stray(mode: str, where: Path) -> list[str]:
    return [sys.executable, str(STRAY), mode, str(where)]


async def _wait_for(path: Path, bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        await asyncio.sleep(0.01)


# A bound that only a hang could reach: the runs below end in about a second; what they must
# show is that they end at all, and leave nothing behind, not how fast (that is for benchmarks).
HANG = 60.0


async def test_a_grandchild_holding_the_output_is_killed_and_the_run_is_infra(
    run_dir: Path,
) -> None:
    result = await asyncio.wait_for(
        run_process(_stray("escape", run_dir), cwd=run_dir, timeout=3600, pipe_grace=0.5), HANG
    )
    assert (result.exit_code, result.timed_out) == (None, False)
    assert "kept its output open" in result.stderr
    assert interpret(result).status == "crashed"  # an infra verdict, not Lean's word
    assert int((run_dir / "grandchild.pid").read_text()) > 0
    assert await settle(run_dir) == []


async def test_timeout_kills_a_grandchild_in_its_own_session(run_dir: Path) -> None:
    result = await asyncio.wait_for(
        run_process(_stray("escape-wait", run_dir), cwd=run_dir, timeout=1), HANG
    )
    assert result.timed_out and result.exit_code is None
    assert result.stdout == "started\n"  # what was said before the kill is kept
    assert await settle(run_dir) == []


async def test_a_clean_run_is_not_slowed_by_the_grace(run_dir: Path) -> None:
    # A run whose output closes at its exit does not wait for the grace: with an hour of it,
    # only that wait could reach the bound.
    result = await asyncio.wait_for(
        run_process(_stray("sleep:0", run_dir), cwd=run_dir, timeout=30, pipe_grace=3600), HANG
    )
    assert (result.exit_code, result.stdout) == (0, "started\ndone\n")


@pytest.mark.parametrize("steps", range(6))
async def test_cancel_during_start_up(run_dir: Path, steps: int) -> None:
    task = asyncio.create_task(run_process(_stray("sleep:30", run_dir), cwd=run_dir, timeout=60))
    for _ in range(steps):  # the fork happens in the first step, the pipes in later ones
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=REAP_BOUND + 5)
    assert done and task.cancelled()
    assert await settle(run_dir) == []


async def test_cancel_during_the_read_kills_what_left_the_group(run_dir: Path) -> None:
    task = asyncio.create_task(run_process(_stray("escape-wait", run_dir), cwd=run_dir, timeout=60))
    await _wait_for(run_dir / "grandchild.pid")
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=HANG)
    assert done and task.cancelled(), "the cancelled check hung"
    assert await settle(run_dir) == []


async def test_cancel_during_the_kill(run_dir: Path) -> None:
    task = asyncio.create_task(run_process(_stray("escape-wait", run_dir), cwd=run_dir, timeout=60))
    await _wait_for(run_dir / "grandchild.pid")
    task.cancel()
    for _ in range(3):
        await asyncio.sleep(0)  # the first cancel is being handled: the kill, then its wait
        task.cancel()
    done, _ = await asyncio.wait({task}, timeout=REAP_BOUND + 5)
    assert done and task.cancelled()
    assert await settle(run_dir) == []


async def test_a_timeout_in_the_executor_frees_its_slot(run_dir: Path) -> None:
    executor = LocalExecutor(1)
    first = await executor.run(_stray("escape-wait", run_dir), cwd=run_dir, timeout=0.5)
    second = await asyncio.wait_for(
        executor.run(_stray("sleep:0", run_dir), cwd=run_dir, timeout=30), REAP_BOUND + 5
    )
    assert first.timed_out and second.exit_code == 0
    assert await settle(run_dir) == []


async def test_stop_process_ends_a_started_process_and_its_strays(run_dir: Path) -> None:
    proc = await LocalExecutor(1).start(_stray("escape-wait", run_dir), cwd=run_dir)
    tracked = track(proc)
    await _wait_for(run_dir / "grandchild.pid")
    await asyncio.wait_for(stop_process(proc, tracked), HANG)
    assert proc.returncode is not None
    assert await settle(run_dir) == []


# `run_blocking`: the same guarantees for a caller that cannot await (the sandbox's probe).


def test_blocking_run_output_and_exit_code(run_dir: Path) -> None:
    code = "import sys; print('α₁ out'); print('err', file=sys.stderr); sys.exit(3)"
    result = run_blocking([sys.executable, "-c", code], cwd=run_dir, timeout=30)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "α₁ out\n", "err\n")
    assert not result.timed_out and result.start_error is None


def test_blocking_run_of_a_missing_program_is_a_result(run_dir: Path) -> None:
    result = run_blocking(["/nonexistent/bwrap", "true"], cwd=run_dir, timeout=5)
    assert result.start_error is not None and "/nonexistent/bwrap" in result.start_error


async def test_blocking_run_timeout_kills_a_grandchild_in_its_own_session(run_dir: Path) -> None:
    result = run_blocking(_stray("escape-wait", run_dir), cwd=run_dir, timeout=1)
    assert result.timed_out and result.exit_code is None
    assert result.stdout == "started\n"
    assert int((run_dir / "grandchild.pid").read_text()) > 0
    assert await settle(run_dir) == []


async def test_blocking_run_kills_a_grandchild_that_holds_the_output(run_dir: Path) -> None:
    result = run_blocking(_stray("escape", run_dir), cwd=run_dir, timeout=2)
    assert (result.exit_code, result.timed_out) == (None, False)
    assert "kept the output open" in result.stderr
    assert await settle(run_dir) == []


async def test_merged_output_keeps_the_order_it_was_written_in(run_dir: Path) -> None:
    code = (
        "import sys\n"
        "for i in range(50):\n"
        "    (sys.stdout if i % 2 else sys.stderr).write(f'{i}\\n')\n"
        "    (sys.stdout if i % 2 else sys.stderr).flush()\n"
    )
    result = await run_process(
        [sys.executable, "-c", code], cwd=run_dir, timeout=30, merge_stderr=True
    )
    assert result.stdout.split() == [str(i) for i in range(50)]
    assert result.stderr == ""
