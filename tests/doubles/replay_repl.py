#!/usr/bin/env python3
"""A REPL double that replays recorded sessions of the real REPL
(tests/data/lean-reference/repl, copied from shared/lean-reference/repl).

Usage: ``replay_repl.py TRANSCRIPT.in ...``. Each ``X.in`` is paired with ``X.expected.out``:
the n-th request of the one is answered, byte for byte, with the n-th answer of the other.
Requests are read as the real REPL reads them (lines up to a blank line, trailing whitespace
stripped, joined with no separator) and looked up by their JSON value. A request that no
recording holds gets no invented answer: the double says so on stderr and exits 3.

Every request received is appended to $REPLAY_LOG (one JSON value per line) when it is set."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def requests(text: str) -> list[str]:
    out, buffer = [], []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line:
            buffer.append(line)
        elif buffer:
            out.append("".join(buffer))
            buffer = []
    if buffer:
        out.append("".join(buffer))
    return out


def answers(text: str) -> list[str]:
    # A pretty-printed answer holds no blank line: strings escape their newlines.
    return [block for block in text.split("\n\n") if block.strip()]


def key(request: str) -> str:
    return json.dumps(json.loads(request), sort_keys=True, ensure_ascii=False)


def load(paths: list[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name in paths:
        given = Path(name)
        expected = given.with_name(given.name.removesuffix(".in") + ".expected.out")
        asked = requests(given.read_text("utf-8"))
        said = answers(expected.read_text("utf-8"))
        for request, answer in zip(asked, said, strict=False):
            table.setdefault(key(request), answer)
    return table


def main() -> int:
    table = load(sys.argv[1:])
    log = os.environ.get("REPLAY_LOG")
    buffer: list[str] = []
    for raw in sys.stdin:
        line = raw.rstrip()
        if line:
            buffer.append(line)
            continue
        request, buffer = "".join(buffer), []
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(request + "\n")
        try:
            answer = table.get(key(request))
        except json.JSONDecodeError:
            answer = None
        if answer is None:
            sys.stderr.write(f"replay: no recorded answer for {request}\n")
            return 3
        sys.stdout.write(answer + "\n\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
