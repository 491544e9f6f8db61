"""Issue 11 for the warm REPL pool: its processes, and whatever they fork, end with the check
that retires them, with a cancelled check, and with the interpreter."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean
from test_process_cleanup import REAP_BOUND, _stray, run_dir, settle

from leanloop.lean.project import LeanCommand
from leanloop.lean.repl import ReplPool
from leanloop.lean.runner import LocalExecutor
from leanloop.lean.sandbox import sandbox_status

__all__ = ["run_dir"]

FAKE_REPL = Path(__file__).parent / "doubles" / "fake_repl.py"
SOURCE = "import Init\n\ntheorem t : 1 = 1 := by\n  rfl\n"


async def test_a_retired_repl_takes_its_strays_with_it(run_dir: Path) -> None:
    """A REPL that forked a grandchild into its own session, holding the pipes, and never
    answers the imports: the header timeout retires it, grandchild included."""
    command = LeanCommand(argv=_stray("escape-wait", run_dir), cwd=run_dir, project_root=None)
    pool = ReplPool(command, LocalExecutor(1), size=1, timeout=30, header_timeout=1)
    try:
        result = await asyncio.wait_for(pool.check(SOURCE), 1 + REAP_BOUND + 5)
        assert result.status == "timeout"
        assert await settle(run_dir) == []  # before `aclose`: the retirement did it
    finally:
        await pool.aclose()


async def test_a_cancelled_check_stops_its_repl(fake_lean: FakeLean, run_dir: Path) -> None:
    fake_lean.scenario([{"when": "slow_tac", "sleep": 60}])
    argv = [sys.executable, str(FAKE_REPL), str(run_dir)]  # the extra argument marks it
    pool = ReplPool(
        LeanCommand(argv=argv, cwd=run_dir, project_root=None), LocalExecutor(1), size=1, timeout=90
    )
    try:
        task = asyncio.create_task(pool.check(SOURCE.replace("rfl", "slow_tac")))
        for _ in range(200):
            if any(i["argv"] == ["repl"] for i in fake_lean.invocations()):
                break
            await asyncio.sleep(0.05)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=REAP_BOUND + 5)
        assert done and task.cancelled()
        assert await settle(run_dir) == []
    finally:
        await pool.aclose()


@pytest.mark.cage
def test_nothing_outlives_the_interpreter(run_dir: Path) -> None:
    """A program that checks with a caged pool and exits without closing it."""
    if not sandbox_status("required").usable:
        pytest.skip("bubblewrap cannot start a sandbox here")
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from leanloop.lean.project import LeanCommand
        from leanloop.lean.repl import ReplPool
        from leanloop.lean.sandbox import Limits, make_executor

        where = Path({str(run_dir)!r})
        argv = [sys.executable, {str(FAKE_REPL)!r}, str(where)]

        async def main():
            executor, _ = make_executor("required", 2, Limits(), where, print)
            pool = ReplPool(LeanCommand(argv=argv, cwd=where, project_root=None),
                            executor, size=2, timeout=30)
            results = await asyncio.gather(pool.check({SOURCE!r}), pool.check({SOURCE!r}))
            print([r.status for r in results])
            return pool  # kept alive past the loop, never closed

        pool = asyncio.run(main())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "['ok', 'ok']" in proc.stdout
    assert asyncio.run(settle(run_dir)) == []
