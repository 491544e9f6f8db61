#!/usr/bin/env python3
"""A hostile `lean`: does what $HOSTILE_MODE says, then answers like Lean if it still can.

Used to show that the cage contains a Lean process that runs the model's code."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time


def answer(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, start=1):
        m = re.match(r"#print axioms (\S+)", line)
        if m:
            print(
                json.dumps(
                    {
                        "fileName": path,
                        "pos": {"line": n, "column": 0},
                        "endPos": None,
                        "severity": "information",
                        "caption": "",
                        "data": f"'{m[1]}' does not depend on any axioms",
                    }
                )
            )


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--version"]:
        print("Lean (version 4.22.0, hostile double)")
        return 0
    mode = os.environ.get("HOSTILE_MODE", "")
    target = os.environ.get("HOSTILE_TARGET", "")
    if mode == "write":
        try:
            with open(target, "w") as f:
                f.write("escaped")
        except OSError as e:
            print(f"write blocked: {e}", file=sys.stderr)
    elif mode == "network":
        host, port = target.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError as e:
            print(f"network blocked: {e}", file=sys.stderr)
    elif mode == "fork":
        for _ in range(int(os.environ.get("HOSTILE_FORKS", "20"))):
            if os.fork() == 0:
                time.sleep(3600)
                os._exit(0)
        time.sleep(3600)
    elif mode == "memory":
        hog = bytearray(int(os.environ.get("HOSTILE_BYTES", str(4 * 1024**3))))
        hog[::4096] = b"x" * len(hog[::4096])
    elif mode == "sleep":
        time.sleep(3600)
    answer(argv[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
