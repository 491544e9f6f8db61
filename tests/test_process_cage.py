"""Issue 11 with the real bubblewrap cage: cancelled checks end, and nothing the cage forked
(its init in a session of its own, the command in a PID namespace) survives them. The slow
version is benchmarks/stress_cancel.py."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from test_process_cleanup import REAP_BOUND, _stray, _wait_for, run_dir, settle

from leanloop.lean.runner import Executor
from leanloop.lean.sandbox import Limits, make_executor, sandbox_status

__all__ = ["run_dir"]  # the fixture, shared with the uncaged tests

pytestmark = pytest.mark.cage


@pytest.fixture
def cage(run_dir: Path) -> Executor:
    if not sandbox_status("required").usable:
        pytest.skip("bubblewrap cannot start a sandbox here")
    executor, status = make_executor("required", 4, Limits(), run_dir, lambda _: None)
    assert status.active
    return executor


async def test_cancelled_samples_end_and_leave_nothing(cage: Executor, run_dir: Path) -> None:
    """As in `prove --samples 3`: the first check to finish wins and the others are cancelled,
    at any point from the cage's start-up to the read."""
    rng = random.Random(11)
    for _ in range(8):
        runs = [
            asyncio.create_task(cage.run(_stray(mode, run_dir), cwd=run_dir, timeout=60))
            for mode in ("sleep:0.05", "sleep:0.3", "sleep:30")
        ]
        await asyncio.sleep(rng.uniform(0, 0.05))
        for task in runs[1:]:
            task.cancel()
        done, _ = await asyncio.wait(runs, timeout=REAP_BOUND + 10)
        assert len(done) == len(runs), "a cancelled check hung"
    assert await settle(run_dir) == []


async def test_cancel_in_the_cage_start_up(cage: Executor, run_dir: Path) -> None:
    for steps in range(12):
        task = asyncio.create_task(cage.run(_stray("sleep:30", run_dir), cwd=run_dir, timeout=60))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=REAP_BOUND + 10)
        assert done
    assert await settle(run_dir) == []


async def test_a_grandchild_in_its_own_session_in_the_cage(cage: Executor, run_dir: Path) -> None:
    # It ends (the bound is only reached by a hang) well before its own timeout of an hour.
    result = await asyncio.wait_for(
        cage.run(_stray("escape", run_dir), cwd=run_dir, timeout=3600), 60
    )
    # The cage's PID namespace dies with the command, taking the grandchild with it; where it
    # would not, the run would be an infra result.
    assert result.exit_code in (0, None)
    assert await settle(run_dir) == []


async def test_cancel_during_the_read_in_the_cage(cage: Executor, run_dir: Path) -> None:
    task = asyncio.create_task(cage.run(_stray("escape-wait", run_dir), cwd=run_dir, timeout=60))
    await _wait_for(run_dir / "grandchild.pid")
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()  # and again, while the first cancel kills
    done, _ = await asyncio.wait({task}, timeout=REAP_BOUND + 5)
    assert done and task.cancelled()
    assert await settle(run_dir) == []
