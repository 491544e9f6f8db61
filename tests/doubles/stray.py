#!/usr/bin/env python3
"""A process that misbehaves the way a check's processes can: it is slow, or it leaves a
grandchild behind in a session of its own that keeps the output pipes open.

Usage: ``stray.py MODE DIR``. DIR is unique to the test: it is on every process's command line
(forks keep it), so a test finds survivors by looking for it in /proc, and files go there when
it is writable (in the cage it is the scratch directory).

* ``sleep:SECONDS``: print a line, sleep, print another, exit 0.
* ``escape``: fork a grandchild that calls ``setsid()`` and sleeps holding stdout and stderr;
  exit 0 as soon as it has started.
* ``escape-wait``: the same, but the parent sleeps too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path


def _note(where: Path, name: str, text: str) -> None:
    with contextlib.suppress(OSError):  # read-only (a cage whose scratch is elsewhere)
        (where / name).write_text(text)


def main() -> int:
    mode, where = sys.argv[1], Path(sys.argv[2])
    print("started", flush=True)
    _note(where, "started", str(os.getpid()))
    if mode.startswith("sleep:"):
        time.sleep(float(mode.split(":", 1)[1]))
        print("done", flush=True)
        return 0
    read, write = os.pipe()
    if os.fork() == 0:
        os.setsid()
        os.close(read)
        _note(where, "grandchild.pid", str(os.getpid()))
        os.write(write, b"x")
        os.close(write)
        time.sleep(60)
        os._exit(0)
    os.close(write)
    os.read(read, 1)  # the grandchild is in its own session and holds the pipes
    if mode == "escape-wait":
        time.sleep(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
