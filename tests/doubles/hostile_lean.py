#!/usr/bin/env python3
"""A hostile `lean`: does what $HOSTILE_MODE says, then answers like Lean if it still can.

Used to show that the cage contains a Lean process that runs the model's code.

Two more modes come from the command line, so that they work whatever environment arrives:

* `--hostile=env` looks for secrets: every variable whose name contains KEY, TOKEN, SECRET,
  PASSWORD or CREDENTIAL. If it sees one, or misses one of the names in
  `--hostile-expect=A,B`, it crashes with exit code 3 and says which on stderr (a crash is a
  verdict every leanloop command reports); otherwise it answers as the fake Lean does.
  With `repl` as its last argument it then serves as the fake REPL.
* `--hostile=read` tries to read each path in $HOSTILE_READ (separated by `os.pathsep`), lists
  what it finds in the ones that are directories, reads every `/proc/*/environ` it can and its
  own capabilities, and prints all that as one Lean information message (`hostile-read {json}`),
  the way a proof's `#eval` would get it into Lean's output."""

from __future__ import annotations

import json
import os
import socket
import sys
import time


def answer(argv: list[str]) -> int:
    """Answer as the fake Lean does (its neighbour in this directory)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fake_lean

    return int(fake_lean.main("lean", argv))


SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")


def env_problem(expected: list[str]) -> str | None:
    secrets = sorted(n for n in os.environ if any(m in n.upper() for m in SECRET_MARKERS))
    missing = [n for n in expected if n not in os.environ]
    problems = []
    if secrets:
        problems.append("secrets visible: " + ", ".join(secrets))
    if missing:
        problems.append("expected variables missing: " + ", ".join(missing))
    return "; ".join(problems) or None


def _try_read(path: str) -> str:
    try:
        if os.path.isdir(path):
            return "listed: " + ",".join(sorted(os.listdir(path)))
        with open(path, "rb") as f:
            return "read: " + f.read(4000).decode("utf-8", "replace")
    except OSError as e:
        return f"blocked: {e.strerror}"


def read_report() -> dict[str, object]:
    paths = [p for p in os.environ.get("HOSTILE_READ", "").split(os.pathsep) if p]
    environs = {}
    for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
        environs[pid] = _try_read(f"/proc/{pid}/environ")
    caps = [
        line.split()[1]
        for line in _try_read("/proc/self/status").splitlines()
        if line.startswith("CapEff:")
    ]
    return {
        "reads": {p: _try_read(p) for p in paths},
        "environs": environs,
        "cap_eff": caps[0] if caps else None,
        "uid": os.getuid(),
    }


def hostile_modes(argv: list[str]) -> tuple[list[str], set[str], list[str]]:
    modes = {a.split("=", 1)[1] for a in argv if a.startswith("--hostile=")}
    expected = [
        name
        for a in argv
        if a.startswith("--hostile-expect=")
        for name in a.split("=", 1)[1].split(",")
        if name
    ]
    rest = [a for a in argv if not a.startswith(("--hostile=", "--hostile-expect="))]
    return rest, modes, expected


def main() -> int:
    argv, modes, expected = hostile_modes(sys.argv[1:])
    if "env" in modes:
        problem = env_problem(expected)
        if problem is not None:
            print(f"hostile double: {problem}", file=sys.stderr)
            return 3
        if argv[-1:] == ["repl"]:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import fake_repl

            return int(fake_repl.main())
        return answer(argv)
    if "read" in modes:
        data = "hostile-read " + json.dumps(read_report())
        message = {
            "fileName": argv[-1],
            "pos": {"line": 1, "column": 0},
            "endPos": None,
            "severity": "information",
            "caption": "",
            "data": data,
        }
        print(json.dumps(message))
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
    return answer(argv)


if __name__ == "__main__":
    sys.exit(main())
