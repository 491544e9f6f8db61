"""`--mode agent` (issue 21): the model calls leanloop's tools over OpenAI function calling, in
Mistral's and vLLM's wire formats, and every submission goes through the gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

FAKE_REPL = Path(__file__).resolve().parents[1] / "doubles" / "fake_repl.py"
SWAP = "theorem swap (a b : Nat) : a + b = b + a := by\n  sorry\n"
ENV = {"LEANLOOP_ENV_ALLOW": "FAKE_LEAN_*", "LEANLOOP_REPLAY": "off"}


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`search` builds its index in the cache directory: the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    (root / "T.lean").write_text(SWAP, "utf-8")
    return root


def calls(*pairs: tuple[str, Any], flavour: str = "mistral") -> dict[str, Any]:
    return {
        "tool_calls": [{"name": n, "arguments": a} for n, a in pairs],
        "flavour": flavour,
        "usage": {"prompt_tokens": 100, "completion_tokens": 20},
    }


def _tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def _prove(run_cli: RunCli, root: Path, server: ScriptedOpenAIServer, *extra: str) -> Any:
    return run_cli(
        "prove", root / "T.lean", "--mode", "agent", "--base-url", server.base_url,
        "--report", root / "run.json", *extra, cwd=root, env=ENV,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flavour", "backend"), [("mistral", "cli"), ("vllm", "cli"), ("mistral", "repl")]
)
def test_goals_then_try_tactic_then_submit_proves_the_theorem(
    fake_lean: FakeLean,
    run_cli: RunCli,
    tmp_path: Path,
    openai_server: ScriptedOpenAIServer,
    flavour: str,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _project(tmp_path)
    monkeypatch.setenv("LEANLOOP_BACKEND", backend)
    monkeypatch.setenv("LEANLOOP_REPL_CMD", f"{sys.executable} {FAKE_REPL}")

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        results = _tool_results(request)
        if not results:
            return calls(("goals", {}), flavour=flavour)
        last = json.loads(results[-1]["content"])
        if "sorries" in last:
            state = last["sorries"][0]["proof_state"]
            return calls(("try_tactic", {"proof_state": state, "tactic": "omega"}), flavour=flavour)
        assert last["status"] == "complete"
        return calls(("submit_proof", {"proof": "omega"}), flavour=flavour)

    openai_server.responder = respond
    result = _prove(run_cli, root, openai_server)
    assert result.returncode == 0, result.stderr
    assert (root / "T.lean").read_text("utf-8") == SWAP.replace("sorry", "omega")
    first, second, third = openai_server.chat_requests
    tools = [t["function"]["name"] for t in first["json"]["tools"]]
    assert tools == ["check", "goals", "try_tactic", "search", "submit_proof"]
    goals_call = second["json"]["messages"][-2]["tool_calls"][0]
    [goals_result] = _tool_results(second["json"])
    assert goals_result["tool_call_id"] == goals_call["id"]
    assert json.loads(goals_result["content"])["sorries"][0]["goal"] == "a b : Nat\n⊢ a + b = b + a"
    tried = json.loads(_tool_results(third["json"])[-1]["content"])
    assert tried["status"] == "complete" and "nothing is proved" in tried["note"]
    report = json.loads((root / "run.json").read_text("utf-8"))["targets"][0]
    assert (report["status"], report["mode"], report["tool_calls"]) == ("proved", "agent", 3)
    assert report["model_calls"] == 3 and report["budget_hits"] == []
    tactics = [i["source"] for i in fake_lean.invocations() if i["argv"] == ["repl-tactic"]]
    assert tactics == (["omega"] if backend == "repl" else [])


def test_a_cheating_submission_gets_the_gates_reason(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.push(
        calls(("submit_proof", {"proof": "exact (sorryAx _ false)"})),
        calls(("submit_proof", {"proof": "omega"})),
    )
    result = _prove(run_cli, root, openai_server)
    assert result.returncode == 0, result.stderr
    [rejected] = _tool_results(openai_server.chat_requests[1]["json"])
    assert rejected["content"].startswith("Rejected (forbidden): Lean rejected that proof.")
    assert "sorryAx" in rejected["content"]
    assert "omega" in (root / "T.lean").read_text("utf-8")


def test_the_tool_call_budget_ends_the_attempt(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.responder = lambda request: calls(("goals", {}), ("search", {"query": "x"}))
    result = _prove(run_cli, root, openai_server, "--max-tool-calls", "3", "--samples", "1")
    assert result.returncode == 1
    assert (root / "T.lean").read_text("utf-8") == SWAP
    assert len(openai_server.chat_requests) == 2  # 2 + 1 calls run, the 4th refused
    report = json.loads((root / "run.json").read_text("utf-8"))["targets"][0]
    assert (report["tool_calls"], report["budget_hits"]) == (3, ["max_tool_calls"])
    assert report["note"] == "The tool-call budget (3) is used up."


def test_the_token_budget_ends_the_attempt(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.responder = lambda request: calls(("goals", {}))
    result = _prove(run_cli, root, openai_server, "--token-budget", "250", "--samples", "1")
    assert result.returncode == 1
    assert len(openai_server.chat_requests) == 3  # 120 tokens a call: stop once 250 are spent
    report = json.loads((root / "run.json").read_text("utf-8"))["targets"][0]
    assert report["budget_hits"] == ["token_budget"]


def test_malformed_arguments_are_an_error_result_not_a_crash(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.push(
        calls(("try_tactic", "{not json"), ("goals", {"line": "two"}), flavour="vllm"),
        calls(("submit_proof", {"proof": "omega"}), flavour="vllm"),
    )
    result = _prove(run_cli, root, openai_server)
    assert result.returncode == 0, result.stderr
    bad_json, bad_type = _tool_results(openai_server.chat_requests[1]["json"])
    assert bad_json["content"].startswith("Error: the arguments of `try_tactic` are not valid JSON")
    assert bad_type["content"].startswith("Error: Bad arguments for `goals`: line:")


def test_an_answer_without_tool_calls_is_read_as_in_the_default_mode(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.push("```lean\nexact (sorry)\n```", "```lean\nomega\n```")
    result = _prove(run_cli, root, openai_server)
    assert result.returncode == 0, result.stderr
    feedback = openai_server.chat_requests[1]["json"]["messages"][-1]
    assert feedback["role"] == "user" and feedback["content"].startswith(
        "Lean rejected that proof."
    )
    assert "omega" in (root / "T.lean").read_text("utf-8")


def test_bench_attempts_record_the_tool_calls_and_budgets(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    data = tmp_path / "ds"
    data.mkdir()
    (data / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    (data / "P.lean").write_text(SWAP, "utf-8")
    openai_server.responder = lambda request: calls(("goals", {}))
    proc = cli(
        "bench", "run", data, "--base-url", openai_server.base_url, "--samples", "1",
        "--mode", "agent", "--max-tool-calls", "2", "--out", tmp_path / "run",
        env={**ENV, "MISTRAL_API_KEY": "k"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "run" / "attempts.jsonl").read_text("utf-8").splitlines()
    [record] = [json.loads(x) for x in lines if '"attempt"' in x]
    assert (record["tool_calls"], record["budget_hits"]) == (2, ["max_tool_calls"])
    assert record["outcome"] == "no_proof"


def test_the_new_settings_leave_older_bench_runs_resumable() -> None:
    from leanloop.bench.runner import settings_fingerprint
    from leanloop.prompts import Prompts
    from leanloop.settings import Settings

    fp, relevant = settings_fingerprint(Settings(), Prompts())
    added = {"mode", "max_tool_calls", "tool_timeout", "token_budget", "premises"}
    assert not added & set(relevant)
    agent_fp, agent_relevant = settings_fingerprint(Settings(mode="agent"), Prompts())
    assert agent_relevant["mode"] == "agent" and agent_fp != fp


PARTIAL = (
    "theorem closure (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
    "  constructor\n"
    "  · sorry\n"
    "  · sorry\n"
)


def test_several_holes_take_one_proof_each(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    (root / "T.lean").write_text(PARTIAL, "utf-8")
    openai_server.push(
        calls(("submit_proof", {"proof": "exact hp"})),
        calls(("submit_proof", {"proof": ["exact hp", "exact hq"]})),
    )
    result = _prove(run_cli, root, openai_server)
    assert result.returncode == 0, result.stderr
    assert (root / "T.lean").read_text("utf-8") == PARTIAL.replace(
        "  · sorry\n  · sorry", "  · exact hp\n  · exact hq"
    )
    first = openai_server.chat_requests[0]["json"]["messages"][1]["content"]
    assert '{"proof": [<2 proofs, one for each `sorry` in order' in first
    [refused] = _tool_results(openai_server.chat_requests[1]["json"])
    assert refused["content"] == (
        "Error: this theorem has 2 `sorry`s: give `proof` as a list of 2 proofs, one for each "
        "`sorry` in order (or the whole proof with whole_body)."
    )


def test_bench_proves_through_the_gate_and_the_whole_file_check(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    data = tmp_path / "ds"
    data.mkdir()
    (data / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    (data / "P.lean").write_text(SWAP, "utf-8")
    openai_server.push(calls(("goals", {})), calls(("submit_proof", {"proof": "omega"})))
    proc = cli(
        "bench", "run", data, "--base-url", openai_server.base_url, "--samples", "1",
        "--mode", "agent", "--out", tmp_path / "run", env={**ENV, "MISTRAL_API_KEY": "k"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "run" / "attempts.jsonl").read_text("utf-8").splitlines()
    [record] = [json.loads(x) for x in lines if '"attempt"' in x]
    assert (record["outcome"], record["proof"], record["tool_calls"]) == ("proved", "omega", 2)
    # The submission's check (the proof in parentheses) and the whole-file check `prove` runs
    # before writing (the file as it would be written).
    assert record["lean_checks"] == 2
    sources = [i.get("source") or "" for i in fake_lean.invocations()]
    assert any("by\n  (omega)\n" in s for s in sources)
    assert any("by\n  omega\n" in s for s in sources)


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--model", "builtin:automation"], {}, "the built-in prover has none"),
        ([], {"MISTRAL_API_KEY": ""}, "MISTRAL_API_KEY is not set"),
    ],
    ids=["builtin", "no key"],
)
def test_agent_mode_without_function_calling_is_one_sentence(
    fake_lean: FakeLean,
    run_cli: RunCli,
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    said: str,
) -> None:
    root = _project(tmp_path)
    result = run_cli(
        "prove", root / "T.lean", "--mode", "agent", *args, cwd=root, env={**ENV, **env}
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: --mode agent needs") and said in line
    assert (root / "T.lean").read_text("utf-8") == SWAP
    assert not fake_lean.invocations()  # refused before Lean ran
