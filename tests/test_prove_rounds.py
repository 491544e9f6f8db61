"""The rounds `prove` reports for a target are the rounds its proof took (issue 20): with lazy
samples, a second sample starts while the first is still in its conversation, and their rounds
added up would say "rounds 3" for a proof found in round 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

WRONG = "```lean\nsimp_wrong\n```"
RIGHT = "```lean\nrfl\n```"


def test_a_proof_found_in_round_two_shows_as_round_two(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "simp_wrong", "error": "unsolved goals", "at": "simp_wrong"}])

    def answer(request: dict[str, Any]) -> str:
        # Every conversation: wrong first, right after the feedback.
        assistant = sum(1 for m in request["messages"] if m["role"] == "assistant")
        return WRONG if assistant == 0 else RIGHT

    openai_server.responder = answer
    path = tmp_path / "T.lean"
    path.write_text("theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n", encoding="utf-8")
    proc = cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--model",
        "labs-leanstral-2603", "--samples", "2", "--rounds", "3", "--report", "r.json",
        env={"MISTRAL_API_KEY": "test-key"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    # The first sample's round 1 failed, so a second one started: at least three calls.
    assert target["attempts"] == 2 and target["model_calls"] >= 3
    assert (target["status"], target["rounds"]) == ("proved", 2)
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("foo "))
    assert row.split()[3] == "2"  # the summary's `rounds` column
