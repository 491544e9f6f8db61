"""Stress the kill path of issue 11 with the real bubblewrap cage: hundreds of rounds in which
several caged checks race, the first to finish wins and the others are cancelled, at random
points from the cage's start-up to the read (the shape of `prove --samples N`).

Every round must end within its bound and, at the end, no process started for the run may be
alive. Exits non-zero otherwise, or 2 when bubblewrap cannot start a sandbox here. The short
version is in the suite (tests/test_process_cage.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from leanloop.lean.runner import REAP_BOUND, Executor
from leanloop.lean.sandbox import Limits, make_executor, sandbox_status

# Sleeps briefly, or not; a fork that holds stdout open in its own session, or not.
_DOUBLE = """
import os, sys, time
mode = sys.argv[1]
print("started", flush=True)
if mode == "escape" and os.fork() == 0:
    os.setsid()
    time.sleep(60)
    os._exit(0)
time.sleep(float(sys.argv[2]))
print("done", flush=True)
"""


def survivors(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(name))
    return found


async def one_round(executor: Executor, where: Path, script: Path, rng: random.Random) -> bool:
    samples = rng.randint(2, 4)
    runs = [
        asyncio.create_task(
            executor.run(
                [sys.executable, str(script), rng.choice(["sleep", "escape"]), str(delay)],
                cwd=where,
                timeout=60,
            )
        )
        for delay in [0.02] + [rng.uniform(0.05, 2.0) for _ in range(samples - 1)]
    ]
    await asyncio.sleep(rng.uniform(0, 0.08))
    for task in runs[1:]:
        task.cancel()
    done, _ = await asyncio.wait(runs, timeout=REAP_BOUND + 15)
    return len(done) == len(runs)


async def main(rounds: int, seed: int) -> int:
    if not sandbox_status("required").usable:
        print("bubblewrap cannot start a sandbox here", file=sys.stderr)
        return 2
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="leanloop-stress-") as tmp:
        where = Path(tmp)
        script = where / "double.py"
        script.write_text(_DOUBLE)
        executor, _ = make_executor("required", 8, Limits(), where, lambda _: None)
        hung = 0
        start = time.monotonic()
        for i in range(rounds):
            if not await one_round(executor, where, script, rng):
                hung += 1
            if (i + 1) % 50 == 0:
                print(f"{i + 1}/{rounds} rounds, {hung} hung, {time.monotonic() - start:.0f}s")
        deadline = time.monotonic() + 10
        while (left := survivors(tmp)) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    print(f"{rounds} rounds in {time.monotonic() - start:.0f}s: {hung} hung, {len(left)} survived")
    return 0 if hung == 0 and not left else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rounds, args.seed)))
