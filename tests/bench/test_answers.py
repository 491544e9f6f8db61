"""`--with-answers`: a PutnamBench-style problem whose answer (`abbrev …_solution := sorry`) the
model fills together with the proof."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench_helpers import DATA, KEY_ENV, attempts, endpoint, lean, scripted, summary
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

VALUE = lean("abbrev answer_solution : Nat := 4")


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "ds"
    shutil.copytree(DATA / "lean_dir" / "Sub", path)
    return path


def test_the_model_fills_the_answer_and_the_proof(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = _dataset(tmp_path)
    openai_server.responder = scripted(
        {
            "answer_spec": [
                VALUE + "\n" + lean("rfl"),
                lean("rfl"),  # no value: nothing to check
                lean("abbrev answer_solution : Int := 4") + lean("rfl"),  # another type
                lean("abbrev answer_solution : Nat := sorry") + lean("rfl"),
            ],
            "and_swap": [lean("exact ⟨h.2, h.1⟩")],
        }
    )
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "4", "--rounds", "1",
        "--with-answers", "--out", "run", "--concurrency", "1", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = next(
        r
        for r in openai_server.chat_requests
        if "answer_spec" in r["json"]["messages"][1]["content"]
    )
    asked = first["json"]["messages"][1]["content"]
    assert "The statement uses `answer_solution`" in asked
    assert "abbrev answer_solution : Nat := sorry" in asked

    runs = {r["sample"]: r for r in attempts(tmp_path / "run") if r["problem"] == "answer_spec"}
    assert runs[0]["outcome"] == "proved"
    assert runs[0]["answer"] == "abbrev answer_solution := 4"
    assert runs[1]["outcome"] == "no_proof" and "did not give the value" in runs[1]["note"]
    assert runs[2]["outcome"] == "no_proof" and "different type" in runs[2]["note"]
    assert runs[3]["outcome"] == "wrong" and runs[3]["reasons"] == ["forbidden"]
    # Lean checked the theorem with the value in place of the hole.
    checked = [s for s in fake_lean.checked_sources() if "theorem answer_spec" in s]
    assert any("abbrev answer_solution : Nat := 4" in s for s in checked)
    s = summary(tmp_path / "run")
    assert s["needs_answer"] == []
    assert s["problems_scored"] == 2


def test_without_the_flag_answer_problems_are_skipped_and_named(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = _dataset(tmp_path)
    openai_server.responder = scripted({"and_swap": [lean("exact ⟨h.2, h.1⟩")]})
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "1", "--rounds", "1",
        "--out", "run", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "[answer_spec] needs an answer" in proc.stderr
    assert len(openai_server.chat_requests) == 1
    assert "Needs an answer, skipped: answer_spec" in (tmp_path / "run" / "summary.md").read_text(
        "utf-8"
    )


def test_in_the_agent_mode_submit_proof_gives_the_answer(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = _dataset(tmp_path)

    def respond(request: dict[str, object]) -> dict[str, object]:
        messages = request["messages"]
        assert isinstance(messages, list)
        asked = str(messages[1]["content"])
        if "answer_spec" not in asked:
            args: dict[str, object] = {"proof": "exact ⟨h.2, h.1⟩"}
        elif not any(m["role"] == "tool" for m in messages):
            args = {"proof": "rfl"}  # no value given: refused, with the reason
        else:
            args = {"proof": "rfl", "answer": "abbrev answer_solution : Nat := 4"}
        return {"tool_calls": [{"name": "submit_proof", "arguments": args}], "flavour": "vllm"}

    openai_server.responder = respond
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "1", "--mode", "agent",
        "--with-answers", "--out", "run", "--concurrency", "1", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = {r["problem"]: r for r in attempts(tmp_path / "run")}
    assert runs["answer_spec"]["outcome"] == "proved"
    assert runs["answer_spec"]["answer"] == "abbrev answer_solution := 4"
    assert runs["answer_spec"]["reasons"] == ["no_proof"] and runs["answer_spec"]["tool_calls"] == 2
    asked = next(
        r["json"]["messages"]
        for r in openai_server.chat_requests
        if "answer_spec" in r["json"]["messages"][1]["content"]
    )
    assert '"answer": <that declaration with its value>' in asked[1]["content"]
    refused = [m for r in openai_server.chat_requests for m in r["json"]["messages"]]
    assert any(
        m["role"] == "tool" and m["content"].startswith("Rejected: Your answer did not give")
        for m in refused
    )
    checked = [s for s in fake_lean.checked_sources() if "theorem answer_spec" in s]
    assert any("abbrev answer_solution : Nat := 4" in s for s in checked)
