#!/usr/bin/env python3
"""A Lean REPL double (leanprover-community/repl protocol) built on the fake Lean's semantics,
behaving as shared/lean-reference/repl/PROTOCOL.md says the real one does.

* Requests: lines up to a blank line; each line's trailing whitespace is stripped and the lines
  are joined with no separator. A blank line with nothing before it is handed to the JSON
  parser like any other request, and fails.
* A command without ``env`` starts a fresh environment from its text (the imports); with
  ``env: n`` it is elaborated on top of environment n, as a command of its own: its message
  positions are relative to the command's text, line 1 column 0 being its first character.
  The double elaborates ``<environment text>\\n<command>`` with the fake Lean and moves the
  positions back by the lines in front; this is the double's own bookkeeping, not the pool's.
* Answers: pretty-printed JSON, a blank line; severity ``info`` for information; ``data``
  trimmed of leading and trailing whitespace; a ``sorries`` entry for every `sorry` in the
  command (its ``goal`` text is a placeholder: the double does not know goals); ``messages``
  and ``sorries`` left out when empty.
* ``{"message": "Unknown environment."}`` for an unknown env and ``Unknown proof state.`` for
  an unknown proof state. Tactic mode (``{"tactic": …, "proofState": n}``) answers in the
  recorded shapes (``proofStatus``, ``proofState``, ``goals``): a closing tactic (``rfl``,
  ``simp``, …) completes the goal, a scripted ``goals`` rule sets the goals, another known
  tactic leaves them, an unknown one is ``Lean error: … unknown tactic``.
* JSON that does not parse, or is no request at all: the real REPL throws an uncaught IO error
  and, PROTOCOL.md reads from the code, most likely ends; no transcript records it. The double
  prints the error on stderr and exits 1 (a guess).

Every command is logged to $FAKE_LEAN_LOG like a fake `lean` run, with the environment's text in
front, so tests can read what was checked; process starts are logged with argv ["repl-start"].
A rule ``{"when": TEXT, "exit_idle": SECONDS}`` makes the process answer, then exit that many
seconds later while idle (as an out-of-memory kill would)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_lean


def _answer(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def _die(text: str) -> None:
    sys.stderr.write(f"uncaught exception: {text}\n")
    sys.stderr.flush()
    os._exit(1)


def _message(msg: fake_lean.Message, lines: int) -> dict[str, Any]:
    def move(p: dict[str, int] | None) -> dict[str, int] | None:
        return None if p is None else {"line": p["line"] - lines, "column": p["column"]}

    severity = "info" if msg.severity == "information" else msg.severity
    return {
        "severity": severity,
        "pos": move(msg.pos),
        "endPos": move(msg.end_pos),
        "data": msg.data.strip(),
    }


def _sorries(cmd: str, first_state: int) -> list[dict[str, Any]]:
    """A `sorries` entry per `sorry`, its goal read off the statement (the double knows no
    tactics: see `fake_lean.statement_goal`)."""
    masked = fake_lean.mask_comments_and_strings(cmd)
    decls = fake_lean.analyse(cmd).decls
    out = []
    for i, m in enumerate(fake_lean._SORRY_RE.finditer(masked)):
        goal = "⊢ ?"
        for d in decls:
            assign = masked.find(":=", d.token_end, d.end)
            if d.start <= m.start() < d.end and assign >= 0:
                goal = fake_lean.statement_goal(masked[d.token_end : assign])
        out.append(
            {
                "proofState": first_state + i,
                "pos": fake_lean.offset_to_pos(cmd, m.start()),
                "goal": goal,
                "endPos": fake_lean.offset_to_pos(cmd, m.end()),
            }
        )
    return out


# Tactics the double knows; any other first word is `unknown tactic`, as the real REPL answers
# (`unknown_tactic`: `{"message": "Lean error:\n<input>:1:1: unknown tactic"}`).
KNOWN_TACTICS = fake_lean.CLOSERS | frozenset(
    "intro intros apply refine constructor cases induction rw simp_only have show skip "
    "unfold specialize obtain rcases use exists left right by_cases".split()
)


def _tactic(request: dict[str, Any], states: dict[int, list[str]]) -> dict[str, Any]:
    """Tactic mode, in the shapes of `proof_step`, `invalid_tactic` and `unknown_tactic`."""
    tactic = str(request["tactic"])
    goals = states.get(request["proofState"]) if isinstance(request["proofState"], int) else None
    if goals is None:
        return {"message": "Unknown proof state."}
    fake_lean._log(["repl-tactic"], None, tactic)
    words = re.split(r"[\s;]+", tactic.strip())
    if not words or words[0] not in KNOWN_TACTICS:
        return {"message": "Lean error:\n<input>:1:1: unknown tactic"}
    new_id = max(states) + 1
    if fake_lean._SORRY_RE.search(tactic):
        states[new_id] = []
        return {"proofStatus": "Incomplete: contains sorry", "proofState": new_id, "goals": []}
    rules = fake_lean._load_rules()
    matched = [(r, span) for r in rules if (span := fake_lean._rule_match(r, tactic)) is not None]
    scripted = fake_lean.scripted_goals(matched)
    if scripted is not None:
        after = scripted
    elif words[0] in fake_lean.CLOSERS:
        after = []
    else:
        after = goals
    states[new_id] = after
    status = "Completed" if not after else "Incomplete: open goals remain"
    return {"proofStatus": status, "proofState": new_id, "goals": after}


def _command(env_text: str, cmd: str, proof_states: int) -> dict[str, Any]:
    full = env_text + "\n" + cmd
    fake_lean._log(["repl"], None, full)
    rules = fake_lean._load_rules()
    matched = [(r, span) for r in rules if (span := fake_lean._rule_match(r, full)) is not None]
    out: dict[str, Any] = {}
    if (hit := fake_lean._first(matched, "sleep")) is not None:
        time.sleep(float(hit[0]["sleep"]))
    if (hit := fake_lean._first(matched, "crash")) is not None and hit[0]["crash"]:
        sys.stderr.write(str(hit[0].get("stderr", "Stack overflow detected. Aborting.")))
        sys.exit(int(hit[0].get("exit_code", 134)))
    if (hit := fake_lean._first(matched, "exit_idle")) is not None:
        out["exit_idle"] = float(hit[0]["exit_idle"])
    messages = fake_lean._elaborate(full, matched)
    messages.sort(key=lambda m: m.order)
    lines = env_text.count("\n") + 1
    if sorries := _sorries(cmd, proof_states):
        out["sorries"] = sorries
    if messages:
        out["messages"] = [_message(m, lines) for m in messages]
    return out


def _header(cmd: str) -> dict[str, Any]:
    rules = fake_lean._load_rules()
    hit = next((r for r in rules if "missing_olean" in r), None)
    if hit is None:
        return {}
    module = str(hit["missing_olean"])
    return {
        "messages": [
            {
                "severity": "error",
                "pos": {"line": 1, "column": 0},
                "endPos": None,
                # The fake Lean's text (quoted path, as `findOLeanParts` prints it).
                "data": f"object file '/proj/.lake/build/lib/lean/"
                f"{module.replace('.', '/')}.olean' of module {module} does not exist",
            }
        ]
    }


def main() -> int:
    fake_lean._log(["repl-start"], None, None)
    envs: list[str] = []
    proof_states = 0
    states: dict[int, list[str]] = {}  # proof state -> its goals
    buffer: list[str] = []
    for raw in sys.stdin:
        line = raw.rstrip()
        if line:
            buffer.append(line)
            continue
        text, buffer = "".join(buffer), []
        try:
            request = json.loads(text)
        except json.JSONDecodeError as e:
            _die(json.dumps({"message": f"Could not parse JSON:\n{e}"}))
        if isinstance(request, dict) and "tactic" in request and "proofState" in request:
            _answer(_tactic(request, states))
            continue
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            _die(json.dumps({"message": f"Could not parse as a valid JSON command:\n{text}"}))
        cmd = request["cmd"]
        if "env" not in request:
            envs.append(cmd)
            _answer({**_header(cmd), "env": len(envs) - 1})
            continue
        env = request["env"]
        if not isinstance(env, int) or not 0 <= env < len(envs):
            _answer({"message": "Unknown environment."})
            continue
        proof_states = max(states, default=-1) + 1
        result = _command(envs[env], cmd, proof_states)
        exit_idle = result.pop("exit_idle", None)
        for entry in result.get("sorries", []):
            states[entry["proofState"]] = [entry["goal"]]
        envs.append(envs[env] + "\n" + cmd)
        _answer({**result, "env": len(envs) - 1})
        if exit_idle is not None:
            time.sleep(exit_idle)
            os._exit(0)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
