"""Cost: a further sample starts only after a round failed (``--eager`` starts all at once);
and a dry run runs the same whole-file check as writing does."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
RIGHT = "```lean\nrfl\n```"
WRONG = "```lean\nsimp_wrong\n```"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}
GOAL = "n : Nat\n⊢ n + 0 = n"


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--model", "labs-leanstral-2603", *extra]


def test_target_proved_on_the_first_try_costs_one_call(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    # Slow answers: were the other samples started at once, they would be asked meanwhile.
    openai_server.responder = lambda request: {"content": RIGHT, "delay": 0.5}
    proc = cli(
        "prove", "T.lean", *endpoint(openai_server, "--samples", "4", "--concurrency", "4"),
        "--json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 1
    [target] = json.loads(proc.stdout)["targets"]
    assert (target["attempts"], target["model_calls"]) == (1, 1)


def test_eager_starts_every_sample_at_once(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: {"content": RIGHT, "delay": 0.5}
    proc = cli(
        "prove", "T.lean", *endpoint(openai_server, "--samples", "4", "--concurrency", "4"),
        "--eager", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 4


def test_eager_from_the_environment(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: {"content": RIGHT, "delay": 0.5}
    proc = cli(
        "prove", "T.lean", *endpoint(openai_server, "--samples", "3"),
        env={**KEY_ENV, "LEANLOOP_EAGER": "true"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 3


def test_a_further_sample_starts_only_after_a_failed_round(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario(
        [{"when": "simp_wrong", "error": f"unsolved goals\n{GOAL}", "at": "simp_wrong"}]
    )
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    lock = threading.Lock()
    in_flight: list[int] = []
    busy = [0]

    def answer(request: dict[str, Any]) -> str:
        with lock:
            busy[0] += 1
            in_flight.append(busy[0])
        time.sleep(0.3)
        with lock:
            busy[0] -= 1
        return WRONG

    openai_server.responder = answer
    proc = cli(
        "prove", "T.lean",
        *endpoint(openai_server, "--samples", "3", "--rounds", "2", "--concurrency", "4"),
        "--json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    # every sample ran in the end, but the first was alone until its first round failed
    assert len(openai_server.chat_requests) == 6
    assert in_flight[0] == 1 and in_flight[1] == 1
    [target] = json.loads(proc.stdout)["targets"]
    assert (target["attempts"], target["model_calls"]) == (3, 6)


def test_dry_run_runs_the_whole_file_check(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Each proof is fine alone; together they clash, which only the whole-file check sees."""
    text = (
        "theorem a (n : Nat) : n + 0 = n := by\n  sorry\n\n"
        "theorem b (n : Nat) : 0 + n = n := by\n  sorry\n"
    )
    fake_lean.scenario(
        [{"when_regex": r"tac_a[\s\S]*tac_b", "error": "clash between a and b", "at": "tac_a"}]
    )
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")

    def answer(request: dict[str, Any]) -> str:
        first = next(m["content"] for m in request["messages"] if m["role"] == "user")
        first = first.split("Prove this", 1)[-1]  # the context holds the earlier theorems
        return "```lean\ntac_a\n```" if "theorem a " in first else "```lean\ntac_b\n```"

    openai_server.responder = answer
    results = {}
    for mode in ("--dry-run", "--output"):
        extra = ["--output", "Out.lean"] if mode == "--output" else ["--dry-run"]
        proc = cli(
            "prove", "T.lean", *endpoint(openai_server, "--samples", "1", "--concurrency", "1"),
            *extra, "--json", env=KEY_ENV,
        )  # fmt: skip
        report = json.loads(proc.stdout)
        results[mode] = (proc.returncode, [(t["name"], t["status"]) for t in report["targets"]])
        a = report["targets"][0]
        assert "whole-file check" in (a["note"] or "")
    # a dry run says what writing would have kept
    assert results["--dry-run"] == results["--output"] == (1, [("a", "failed"), ("b", "proved")])
    assert path.read_text("utf-8") == text
    assert "tac_b" in (tmp_path / "Out.lean").read_text("utf-8")
    assert "tac_a" not in (tmp_path / "Out.lean").read_text("utf-8")


def test_time_per_target_excludes_time_queued(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = (
        "theorem a (n : Nat) : n + 0 = n := by\n  sorry\n\n"
        "theorem b (n : Nat) : n + 0 = n := by\n  sorry\n"
    )
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        first = next(m["content"] for m in request["messages"] if m["role"] == "user")
        first = first.split("Prove this", 1)[-1]  # the context holds the earlier theorems
        return {"content": RIGHT, "delay": 1.5 if "theorem a " in first else 0}

    openai_server.responder = answer
    proc = cli(
        "prove", "T.lean", *endpoint(openai_server, "--samples", "1", "--concurrency", "1"),
        "--json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a, b = json.loads(proc.stdout)["targets"]
    # `b` waited for `a`'s only slot the whole of `a`'s time. Counted, that wait alone would
    # make `b`'s time at least `a`'s; left out, `b`'s own (instant) answer is all there is. No
    # margin to guess: the two cases are on either side of `a`'s time.
    assert b["seconds"] < a["seconds"]
