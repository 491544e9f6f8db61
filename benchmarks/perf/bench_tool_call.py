"""The agent mode's own cost per tool call (issue 21): target under 5 ms.

Each call goes the whole way leanloop goes for a model's tool call: the arguments are parsed and
validated, the tool runs (the `goals` probe is built and Lean's answer read; `try_tactic`
splices the tactics; `submit_proof` runs the gate's screens, splice, structure check, checked
copy and verdict), and the result is serialised for the tool message. Lean itself is an
in-process double that answers at once, in Lean's formats, so only leanloop's time is measured.
The file is a 600-line Lean file with 60 theorems; the target is in its middle.

    .venv/bin/python benchmarks/perf/bench_tool_call.py
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from leanloop.agentic import ToolChat
from leanloop.gate import SENTINEL_COLUMN
from leanloop.lean.checker import LeanResult
from leanloop.lean.messages import LeanMessage, Position, Severity
from leanloop.loop import Agent, AttemptLog
from leanloop.model import ToolCall
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.settings import Settings
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets
from leanloop.tools import Toolset

TARGET_MS = 5.0
_PRINT = re.compile(r"^set_option pp\.fullNames true in #print axioms _root_\.(\S+)$", re.M)


class InstantLean:
    """Answers at once: `unsolved goals` at a `done` probe, the axioms sentinel, nothing else."""

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult:
        messages = []
        at = text.find("done")
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            col = at - (text.rfind("\n", 0, at) + 1)
            messages.append(
                LeanMessage(
                    pos=Position(line=line, column=col),
                    end_pos=Position(line=line, column=col + 4),
                    severity=Severity.ERROR,
                    data="unsolved goals\nn : Nat\n⊢ n + 0 = n",
                )
            )
        for m in _PRINT.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            messages.append(
                LeanMessage(
                    pos=Position(line=line, column=SENTINEL_COLUMN),
                    severity=Severity.INFORMATION,
                    data=f"'{m.group(1)}' does not depend on any axioms",
                )
            )
        return LeanResult(status="ok", messages=messages, exit_code=0)

    async def aclose(self) -> None:
        return None


def _file(theorems: int = 60) -> str:
    parts = ["import Init\n\nnamespace Bench\n\n"]
    for i in range(theorems):
        body = "sorry" if i == theorems // 2 else "simp"
        parts.append(
            f"/-- Lemma {i}. -/\ntheorem t{i} (n : Nat) (h : n > {i}) : n + 0 = n := by\n"
            f"  have : n = n := rfl\n  -- step {i}\n  {body}\n\n"
        )
    parts.append("end Bench\n")
    return "".join(parts)


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text = _file()
        (root / "T.lean").write_text(text, "utf-8")
        doc = LeanDocument(text)
        [target] = find_targets(doc)
        settings = Settings(sandbox="off", mode="agent")
        lean = InstantLean()
        toolset = Toolset(root, settings, checker=lean)
        # The one loop's own handling of a tool call (`Agent.tool_call`); no model is asked.
        agent = Agent(
            model=None,  # type: ignore[arg-type]
            checker=lean,
            settings=settings,
            policy=Policy.build(),
            prompts=Prompts(),
            project=root,
        )
        chat = ToolChat(None, toolset, settings, "", "")  # type: ignore[arg-type]
        log = AttemptLog(0)

        async def run(tc: ToolCall) -> str:
            await agent.tool_call(chat, tc, doc, target, turn=1, log=log, check_file="T.lean")
            return str(chat.messages[-1]["content"])

        calls = {
            "goals": ToolCall(id="a", name="goals", arguments="{}"),
            "submit_proof": ToolCall(id="c", name="submit_proof", arguments='{"proof": "simp"}'),
        }
        first = await run(calls["goals"])
        proof_state = json.loads(first)["sorries"][0]["proof_state"]
        calls["try_tactic"] = ToolCall(
            id="b",
            name="try_tactic",
            arguments=json.dumps({"proof_state": proof_state, "tactic": "intro x"}),
        )
        ok = True
        for name, tc in calls.items():
            times = []
            for _ in range(200):
                t = time.perf_counter()
                await run(tc)
                times.append((time.perf_counter() - t) * 1000)
            med, p95 = statistics.median(times), sorted(times)[int(len(times) * 0.95)]
            print(f"{name}: median {med:.2f} ms, p95 {p95:.2f} ms per call")
            ok = ok and med < TARGET_MS
        print(f"{len(text.splitlines())}-line file, {len(doc.declarations)} declarations")
        print("target met" if ok else f"target missed ({TARGET_MS} ms)")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
