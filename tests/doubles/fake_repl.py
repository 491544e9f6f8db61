#!/usr/bin/env python3
"""A Lean REPL double (leanprover-community/repl protocol) built on the fake Lean's semantics.

Requests: JSON spread over lines up to a blank line (the real REPL strips each line's trailing
whitespace and joins them with no separator). Answers: pretty-printed JSON, then a blank line,
with positions relative to the submitted command and severity `info` for information, as in the
recorded transcripts (shared/lean-reference/repl). Every command is logged to $FAKE_LEAN_LOG
like a fake `lean` run, with the environment's header prepended, so tests can read what was
checked; process starts are logged with argv ["repl-start"]."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_lean


def _answer(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def _message(msg: fake_lean.Message, lines: int, first_col: int) -> dict[str, Any]:
    def move(p: dict[str, int] | None) -> dict[str, int] | None:
        if p is None:
            return None
        line = p["line"] - lines
        col = p["column"] - first_col if line == 1 else p["column"]
        return {"line": line, "column": col}

    severity = "info" if msg.severity == "information" else msg.severity
    return {
        "severity": severity,
        "pos": move(msg.pos),
        "endPos": move(msg.end_pos),
        "data": msg.data,
    }


def _command(header: str, body: str) -> dict[str, Any] | None:
    full = header + body
    fake_lean._log(["repl"], None, full)
    rules = fake_lean._load_rules()
    matched = [(r, span) for r in rules if (span := fake_lean._rule_match(r, full)) is not None]
    if (hit := fake_lean._first(matched, "sleep")) is not None:
        time.sleep(float(hit[0]["sleep"]))
    if (hit := fake_lean._first(matched, "crash")) is not None and hit[0]["crash"]:
        sys.stderr.write(str(hit[0].get("stderr", "Stack overflow detected. Aborting.")))
        sys.exit(int(hit[0].get("exit_code", 134)))
    messages = fake_lean._elaborate(full, matched)
    messages.sort(key=lambda m: m.order)
    lines = header.count("\n")
    first_col = len(header) - (header.rfind("\n") + 1)
    return {"messages": [_message(m, lines, first_col) for m in messages]}


def main() -> int:
    fake_lean._log(["repl-start"], None, None)
    envs: list[str] = []
    buffer: list[str] = []
    for raw in sys.stdin:
        line = raw.rstrip()
        if line:
            buffer.append(line)
            continue
        if not buffer:
            continue
        request = json.loads("".join(buffer))
        buffer = []
        cmd = request.get("cmd")
        if not isinstance(cmd, str):
            _answer({"message": "Could not parse as a valid JSON command"})
            continue
        if "env" not in request:
            rules = fake_lean._load_rules()
            hit = next((r for r in rules if "missing_olean" in r), None)
            envs.append(cmd)
            answer: dict[str, Any] = {"env": len(envs) - 1}
            if hit is not None:
                module = str(hit["missing_olean"])
                answer["messages"] = [{
                    "severity": "error", "pos": {"line": 1, "column": 0}, "endPos": None,
                    "data": f"object file /proj/.lake/build/lib/lean/"
                            f"{module.replace('.', '/')}.olean of module {module} does not exist",
                }]  # fmt: skip
            _answer(answer)
            continue
        env = request["env"]
        if not isinstance(env, int) or not 0 <= env < len(envs):
            _answer({"message": "Unknown environment."})
            continue
        result = _command(envs[env], cmd)
        envs.append(envs[env] + cmd)
        assert result is not None
        _answer(
            {
                "env": len(envs) - 1,
                **({"messages": result["messages"]} if result["messages"] else {}),
            }
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
