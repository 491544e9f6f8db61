"""`leanloop prove` end to end: the real CLI, the scripted endpoint and the fake Lean toolchain.

What a user checks: the exit code, one clear line on stderr when something is wrong, and that
their file holds a proof only when Lean accepted it (and is byte-for-byte untouched otherwise)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.gate import judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

GOAL = "n : Nat\n⊢ n + 0 = n"
ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
WRONG = "```lean\nsimp_wrong\n```"
RIGHT = "```lean\nrfl\n```"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--model", "labs-leanstral-2603", *extra]


def wrong_is_unsolved(fake_lean: FakeLean, *more: dict[str, Any]) -> None:
    fake_lean.scenario(
        [
            {"when": "simp_wrong", "error": f"unsolved goals\n{GOAL}", "at": "simp_wrong"},
            *more,
        ]
    )


def lean_file(tmp_path: Path, text: str = ADD_ZERO, name: str = "T.lean") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def user_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["json"]["messages"] if m["role"] == "user"]


# ---------------------------------------------------------------------------------------------
# the loop


def test_proof_accepted_in_round_two_after_feedback(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    path = lean_file(tmp_path)
    openai_server.push(WRONG, RIGHT)
    proc = run_cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1", "--rounds", "3"),
        "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert path.read_text("utf-8") == "theorem foo (n : Nat) : n + 0 = n := by\n  rfl\n"

    first, second = openai_server.chat_requests
    assert "theorem foo (n : Nat) : n + 0 = n := by\n  sorry" in user_messages(first)[-1]
    conversation = second["json"]["messages"]
    assert conversation[: len(first["json"]["messages"])] == first["json"]["messages"]
    assert conversation[-2] == {"role": "assistant", "content": WRONG}
    feedback = conversation[-1]["content"]
    assert "unsolved goals" in feedback
    assert GOAL in feedback
    assert "Line 1, column 0 of your proof" in feedback

    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    assert (target["status"], target["rounds"], target["model_calls"]) == ("proved", 2, 2)
    assert "1/1 proved" in proc.stdout


def test_wrong_proofs_are_never_written(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    path = lean_file(tmp_path)
    before = path.read_bytes()
    openai_server.responder = lambda request: WRONG
    proc = run_cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "2", "--rounds", "2"),
        "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before
    assert len(openai_server.chat_requests) == 4
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    assert target["status"] == "failed"
    # two attempts of two rounds each: `rounds` is what one attempt took, not their sum
    assert (target["attempts"], target["rounds"], target["model_calls"]) == (2, 2, 4)
    assert target["proof"] is None
    assert target["last_errors"] == [f"unsolved goals\n{GOAL}"]
    assert "0/1 proved" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.lean", "r.json"]


@pytest.mark.parametrize(
    ("answer", "rules", "why"),
    [
        ("```lean\nsorry\n```", [], "sorry"),
        ("```lean\nexact sorryAx _ false\n```", [], "sorryAx"),
        # only Lean's `#print axioms` gives this one away
        (
            "```lean\nsneaky_tactic\n```",
            [{"when": "sneaky_tactic", "axioms": ["sorryAx"]}],
            "sorryAx",
        ),
    ],
)
def test_sorry_and_sorry_axiom_proofs_are_rejected(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    answer: str,
    rules: list[dict[str, Any]],
    why: str,
) -> None:
    fake_lean.scenario(rules)
    path = lean_file(tmp_path)
    openai_server.push(answer)
    proc = cli(
        "prove", "T.lean", *endpoint(openai_server, "--samples", "1", "--rounds", "1"),
        "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    assert path.read_text("utf-8") == ADD_ZERO
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    assert target["status"] == "failed"
    assert why in target["note"]


def test_sorry_axiom_rule_is_what_rejects_it(fake_lean: FakeLean, tmp_path: Path) -> None:
    """Control for the case above: the same answer without the axiom rule is accepted."""
    fake_lean.scenario([])
    path = lean_file(tmp_path)
    doc = LeanDocument(ADD_ZERO)
    [t] = find_targets(doc)
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=60)
    verdict = asyncio.run(judge(doc, t, "sneaky_tactic", checker, Policy.build()))
    assert verdict.accepted, verdict.message


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"when": "slow_tactic", "sleep": 30}, ["time limit"]),
        ({"when": "slow_tactic", "crash": True}, ["crashed", "Stack overflow detected"]),
        (
            {"when": "slow_tactic", "raw_stdout": "PANIC at Lean.Elab oops\n"},
            ["not a Lean message"],
        ),
    ],
    ids=["timeout", "crash", "junk"],
)
def test_lean_timeout_crash_and_junk_are_clear_verdicts(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    run_cli: RunCli,
    tmp_path: Path,
    rule: dict[str, Any],
    words: list[str],
) -> None:
    fake_lean.scenario([rule])
    path = lean_file(tmp_path)
    before = path.read_bytes()
    openai_server.push("```lean\nslow_tactic\n```")
    proc = run_cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1", "--rounds", "1"),
        "--timeout", "2", "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert path.read_bytes() == before
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    for word in words:
        assert word in target["note"]
        assert word in proc.stderr


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"crash": True}, ["Lean crashed on the original file", "Stack overflow"]),
        ({"raw_stdout": "this is not JSON\n"}, ["not Lean's JSON", "--lean-cmd"]),
        ({"missing_olean": "Mathlib.Tactic"}, ["Mathlib.Tactic", "lake build"]),
    ],
    ids=["crash", "junk", "not-built"],
)
def test_lean_failing_on_the_original_file_stops_before_any_model_call(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    rule: dict[str, Any],
    words: list[str],
) -> None:
    fake_lean.scenario([rule])
    path = lean_file(tmp_path)
    proc = cli("prove", path.name, *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in line
    assert openai_server.chat_requests == []
    assert path.read_text("utf-8") == ADD_ZERO


# ---------------------------------------------------------------------------------------------
# the endpoint, as seen from the CLI


def test_429_is_retried(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.push({"status": 429, "headers": {"Retry-After": "0"}, "content": "slow down"})
    openai_server.push(RIGHT)
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1", "--rounds", "1"),
        env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 2
    assert openai_server.chat_requests[0]["json"] == openai_server.chat_requests[1]["json"]
    assert "  rfl\n" in path.read_text("utf-8")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_one_line_and_exit_2(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    run_cli: RunCli,
    tmp_path: Path,
    status: int,
) -> None:
    path = lean_file(tmp_path)
    openai_server.responder = lambda request: {"status": status}
    proc = run_cli("prove", path.name, *endpoint(openai_server, "--samples", "1"), env=KEY_ENV)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    # progress lines come first; the problem is one line, the last, and the only `error:`
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [proc.stderr.strip().splitlines()[-1]]
    assert "MISTRAL_API_KEY" in errors[0]
    assert f"({status})" in errors[0]
    assert len(openai_server.chat_requests) == 1  # not retried
    assert path.read_text("utf-8") == ADD_ZERO


def test_refused_key_names_the_configured_variable(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.responder = lambda request: {"status": 401}
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--api-key-env", "MY_PROVER_KEY"),
        env={"MY_PROVER_KEY": "k"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "MY_PROVER_KEY" in proc.stderr.strip().splitlines()[-1]
    assert openai_server.chat_requests[0]["headers"]["authorization"] == "Bearer k"


def test_endpoint_down_is_exit_2(fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = lean_file(tmp_path)
    proc = run_cli(
        "prove", path.name, "--base-url", f"http://127.0.0.1:{port}/v1",
        env={**KEY_ENV, "LEANLOOP_MAX_RETRIES": "0"},
    )  # fmt: skip
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert "Cannot reach the endpoint" in last
    assert f"127.0.0.1:{port}" in last
    assert "Traceback" not in proc.stderr
    assert path.read_text("utf-8") == ADD_ZERO


def test_endpoint_garbage_is_exit_2(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.push({"body": {"unexpected": "shape"}})
    proc = cli("prove", path.name, *endpoint(openai_server, "--samples", "1"), env=KEY_ENV)
    assert proc.returncode == 2
    assert "without a completion" in proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr
    assert path.read_text("utf-8") == ADD_ZERO


def test_prose_answer_fails_the_target_and_leaves_the_file(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.responder = lambda request: (
        "I am sorry, but this theorem needs more context than I have been given."
    )
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1", "--rounds", "2"),
        "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    assert path.read_text("utf-8") == ADD_ZERO
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    assert "prose" in target["note"]
    # the complaint went back to the model in the second round
    assert "prose" in user_messages(openai_server.chat_requests[1])[-1]


@pytest.mark.parametrize("effort", [None, "high", "none"])
def test_reasoning_effort_is_sent_only_when_set(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    effort: str | None,
) -> None:
    lean_file(tmp_path)
    openai_server.push(RIGHT)
    extra = [] if effort is None else ["--reasoning-effort", effort]
    proc = cli("prove", "T.lean", *endpoint(openai_server, "--samples", "1", *extra), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    [request] = openai_server.chat_requests
    if effort is None:
        assert "reasoning_effort" not in request["json"]
    else:
        assert request["json"]["reasoning_effort"] == effort
    assert request["json"]["model"] == "labs-leanstral-2603"


# ---------------------------------------------------------------------------------------------
# writing back


def test_write_is_atomic_and_keeps_mode(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    work = tmp_path / "proj"
    work.mkdir()
    path = lean_file(work)
    path.chmod(0o640)
    inode = path.stat().st_ino
    openai_server.push(RIGHT)
    proc = run_cli(
        "prove", path, *endpoint(openai_server, "--samples", "1"), "--report", tmp_path / "r.json",
        env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert path.read_text("utf-8") == "theorem foo (n : Nat) : n + 0 = n := by\n  rfl\n"
    assert [p.name for p in work.iterdir()] == ["T.lean"]  # no temp file left behind
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced by a rename, not rewritten in place


def test_crlf_and_bom_are_preserved(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = (
        "-- α₁ header\r\nnamespace N\r\ntheorem foo (n : Nat) : n + 0 = n := by\r\n"
        "  sorry\r\nend N\r\n"
    )
    path = tmp_path / "T.lean"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    openai_server.push("```lean\ninduction n\nrfl\nsimp\n```")
    proc = cli("prove", path.name, *endpoint(openai_server, "--samples", "1"), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    expected = text.replace("  sorry\r\n", "  induction n\r\n  rfl\r\n  simp\r\n")
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected.encode("utf-8")
    # Lean is given the text without the BOM, and with the file's own line endings
    checked = fake_lean.checked_sources()
    assert checked and all("\ufeff" not in src for src in checked)
    assert "\r\n  sorry\r\n" in checked[0]


def test_dry_run_writes_nothing(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.push(RIGHT)
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1"), "--dry-run",
        "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert path.read_text("utf-8") == ADD_ZERO
    assert "Dry run: nothing was written." in proc.stdout
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["dry_run"] is True and report["written"] is None
    assert report["targets"][0]["proof"] == "rfl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.lean", "r.json"]


def test_output_leaves_the_input_untouched(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    openai_server.push(RIGHT)
    out = tmp_path / "Proved.lean"
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1"), "--output", out.name,
        env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert path.read_text("utf-8") == ADD_ZERO
    assert out.read_text("utf-8") == "theorem foo (n : Nat) : n + 0 = n := by\n  rfl\n"
    same = cli("prove", path.name, "--output", path.name, *endpoint(openai_server), env=KEY_ENV)
    assert same.returncode == 2
    assert "--output must differ" in one_line(same.stderr)


@pytest.mark.parametrize("flag", ["--output", "--report"])
def test_destination_in_a_missing_directory_is_caught_before_any_work(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path, flag: str
) -> None:
    path = lean_file(tmp_path)
    proc = cli("prove", path.name, flag, "no/such/dir/x", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "does not exist" in one_line(proc.stderr)
    assert openai_server.chat_requests == []
    assert fake_lean.invocations() == []
    assert path.read_text("utf-8") == ADD_ZERO


def test_restated_theorem_replaces_the_whole_body(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = "namespace Foo\ntheorem foo (n : Nat) : n + 0 = n := by\n  sorry\nend Foo\n"
    path = lean_file(tmp_path, text)
    openai_server.push(
        "```lean\ntheorem foo (n : Nat) : n + 1 = n := by simp\n```",  # statement changed
        "Sure!\n```lean\ntheorem Foo.foo (n : Nat) :\n    n + 0 = n := by\n  induction n\n"
        "  · rfl\n  · simp\n```",
    )
    proc = cli("prove", path.name, *endpoint(openai_server, "--samples", "1"), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert path.read_text("utf-8") == (
        "namespace Foo\ntheorem foo (n : Nat) : n + 0 = n := by\n  induction n\n  · rfl\n"
        "  · simp\nend Foo\n"
    )
    second = openai_server.chat_requests[1]
    assert "statement in your answer differs" in user_messages(second)[-1]


def test_report_fields_and_cost(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    text = (
        "namespace Foo\n\ntheorem good (n : Nat) : n + 0 = n := by\n  sorry\n\n"
        "theorem bad : 1 = 2 := by\n  sorry\n\nend Foo\n"
    )
    path = lean_file(tmp_path, text)

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        first = user_messages({"json": request})[0]
        content = WRONG if "theorem bad" in first else RIGHT
        return {"content": content, "usage": {"prompt_tokens": 1000, "completion_tokens": 200}}

    openai_server.responder = answer
    prices = json.dumps({"labs-leanstral-2603": {"prompt": 1.0, "completion": 3.0}})
    proc = cli(
        "prove", path.name, *endpoint(openai_server, "--samples", "1", "--rounds", "2"),
        "--report", "report.json", env={**KEY_ENV, "LEANLOOP_PRICES": prices},
    )  # fmt: skip
    assert proc.returncode == 1
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["model"] == "labs-leanstral-2603"
    assert report["written"] == path.name
    good, bad = report["targets"]
    keys = {
        "name", "file", "line", "status", "proof", "attempts", "rounds", "model_calls",
        "prompt_tokens", "completion_tokens", "cost_usd", "seconds", "last_errors",
    }  # fmt: skip
    assert keys <= good.keys()
    assert (good["name"], good["file"], good["line"], good["status"]) == (
        "Foo.good",
        path.name,
        3,  # the declaration's line, as `check` gives it (issue 8)
        "proved",
    )
    assert (good["proof"], good["attempts"], good["rounds"], good["model_calls"]) == (
        "rfl",
        1,
        1,
        1,
    )
    assert (good["prompt_tokens"], good["completion_tokens"]) == (1000, 200)
    assert good["cost_usd"] == pytest.approx((1000 * 1.0 + 200 * 3.0) / 1e6)
    assert good["last_errors"] == []
    assert good["seconds"] >= 0
    assert (bad["name"], bad["line"], bad["status"], bad["proof"]) == ("Foo.bad", 6, "failed", None)
    assert (bad["rounds"], bad["model_calls"]) == (2, 2)
    assert (bad["prompt_tokens"], bad["completion_tokens"]) == (2000, 400)
    assert bad["cost_usd"] == pytest.approx((2000 * 1.0 + 400 * 3.0) / 1e6)
    assert bad["last_errors"] == [f"unsolved goals\n{GOAL}"]
    # only the proved theorem was written
    assert path.read_text("utf-8") == text.replace(
        "n + 0 = n := by\n  sorry", "n + 0 = n := by\n  rfl"
    )
    assert "$0.0016" in proc.stdout and "$0.0032" in proc.stdout


def test_unpriced_model_has_unknown_cost(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
) -> None:
    lean_file(tmp_path)
    openai_server.push(RIGHT)
    proc = cli("prove", "T.lean", *endpoint(openai_server, "--samples", "1"), "--json", env=KEY_ENV)
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    assert report["targets"][0]["cost_usd"] is None


# ---------------------------------------------------------------------------------------------
# targets


NAMESPACED = (
    "namespace Foo\ntheorem bar : 1 + 1 = 2 := by\n  sorry\ntheorem baz : 2 + 2 = 4 := by\n"
    "  sorry\nend Foo\n\nnamespace Other\ntheorem bar : 3 = 3 := by\n  sorry\nend Other\n"
)


@pytest.mark.parametrize(
    ("selector", "proved"),
    [("Foo.bar", ["Foo.bar"]), ("baz", ["Foo.baz"]), ("Other.bar", ["Other.bar"])],
)
def test_theorem_selection(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    selector: str,
    proved: list[str],
) -> None:
    path = lean_file(tmp_path, NAMESPACED)
    openai_server.responder = lambda request: RIGHT
    proc = cli(
        "prove", "T.lean", "--theorem", selector, *endpoint(openai_server, "--samples", "1"),
        "--json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [t["name"] for t in report["targets"]] == proved
    assert len(openai_server.chat_requests) == 1
    assert path.read_text("utf-8").count("sorry") == 2


def test_unknown_theorem_is_exit_2(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    lean_file(tmp_path, NAMESPACED)
    proc = cli("prove", "T.lean", "--theorem", "Foo.nope")
    assert proc.returncode == 2
    assert "Foo.nope" in one_line(proc.stderr)


def test_sorry_only_in_comments_and_strings_means_nothing_to_do(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = (
        '/- sorry /- nested sorry -/ -/\ndef s : String := "sorry"\n'
        "/-- sorry in a doc comment -/\ntheorem t : True := trivial -- sorry\n"
    )
    path = lean_file(tmp_path, text)
    proc = cli("prove", path.name, *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 0
    assert "No `sorry` to prove" in proc.stderr
    assert openai_server.chat_requests == []
    assert path.read_text("utf-8") == text


# ---------------------------------------------------------------------------------------------
# bad input: one line on stderr, exit 2, never a traceback


def test_missing_file(fake_lean: FakeLean, run_cli: RunCli) -> None:
    proc = run_cli("prove", "Nope.lean")
    assert proc.returncode == 2
    assert "Nope.lean" in one_line(proc.stderr)


def test_directory(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "Dir.lean").mkdir()
    proc = cli("prove", "Dir.lean")
    assert proc.returncode == 2
    assert "directory" in one_line(proc.stderr)


def test_not_a_lean_file(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("theorem t : True := sorry\n")
    proc = cli("prove", "notes.txt")
    assert proc.returncode == 2
    assert ".lean" in one_line(proc.stderr)


def test_not_utf8(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "T.lean").write_bytes(b"theorem t : True := sorry -- caf\xe9\n")
    proc = cli("prove", "T.lean")
    assert proc.returncode == 2
    assert "UTF-8" in one_line(proc.stderr)


def test_unreadable_file(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = lean_file(tmp_path)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self.name == "T.lean":
                raise PermissionError(13, "Permission denied")
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    proc = cli("prove", "T.lean")
    assert proc.returncode == 2
    assert one_line(proc.stderr) == "error: Cannot read T.lean: Permission denied."


def test_unterminated_comment_is_exit_2(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    lean_file(tmp_path, "/- never closed\ntheorem t : True := sorry\n")
    proc = cli("prove", "T.lean")
    assert proc.returncode == 2
    assert "unterminated comment" in one_line(proc.stderr)


def test_lean_missing_names_elan(run_cli: RunCli, tmp_path: Path) -> None:
    lean_file(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = run_cli("prove", "T.lean", env={"PATH": str(empty)})
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "elan" in line and "lean" in line


def test_bad_flag_value_is_exit_2(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    lean_file(tmp_path)
    proc = cli("prove", "T.lean", "--rounds", "0")
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "rounds" in line and "--rounds" in line
