"""Writing back: the whole new file is checked once more, the replace is all-or-nothing, and the
user's file is never touched unless a verified proof is written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.errors import UsageError
from leanloop.writeback import SourceFile, atomic_write

KEY = {"MISTRAL_API_KEY": "test-key"}


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return [
        "--base-url",
        server.base_url,
        "--model",
        "labs-leanstral-2603",
        "--samples",
        "1",
        *extra,
    ]


def test_atomic_write_failure_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "T.lean"
    path.write_bytes(b"original\n")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(path, b"new\n", like=path)
    assert path.read_bytes() == b"original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["T.lean"]


def test_atomic_write_keeps_mode_of_the_original(tmp_path: Path) -> None:
    src = tmp_path / "T.lean"
    src.write_text("x")
    src.chmod(0o600)
    dest = tmp_path / "Out.lean"
    atomic_write(dest, b"y", like=src)
    assert (dest.read_bytes(), dest.stat().st_mode & 0o777) == (b"y", 0o600)


def test_source_file_round_trips_bom_and_crlf(tmp_path: Path) -> None:
    raw = "\ufefftheorem t : True := by\r\n  sorry\r\n".encode()
    path = tmp_path / "T.lean"
    path.write_bytes(raw)
    source = SourceFile.read(path)
    assert source.bom and not source.text.startswith("\ufeff")
    assert source.text == "theorem t : True := by\r\n  sorry\r\n"
    assert source.encode(source.text) == raw


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("Missing.lean", None, "No such file"),
        ("T.txt", b"x", "not a Lean file"),
        ("T.lean", b"\xff\xfe", "not UTF-8"),
    ],
)
def test_source_file_bad_input(
    tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=words):
        SourceFile.read(path)


def test_whole_file_check_leaves_out_a_proof_that_breaks_it(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Each proof passes on its own, but together Lean rejects `tac_b`: only `a` is written."""
    fake_lean.scenario(
        [{"when_regex": r"tac_a[\s\S]*tac_b", "error": "clash with a", "at": "tac_b"}]
    )
    text = "theorem a : True := by\n  sorry\n\ntheorem b : True := by\n  sorry\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")

    def answer(request: dict[str, Any]) -> str:
        first = request["messages"][1]["content"]
        return "```lean\ntac_b\n```" if "theorem b :" in first else "```lean\ntac_a\n```"

    openai_server.responder = answer
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 1
    a, b = json.loads(proc.stdout)["targets"]
    assert a["status"] == "proved"
    assert b["status"] == "failed"
    assert "whole-file check" in b["note"]
    assert path.read_text("utf-8") == text.replace("  sorry\n\ntheorem b", "  tac_a\n\ntheorem b")


def test_file_changed_while_proving_is_not_overwritten(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "T.lean"
    path.write_text("theorem t : True := by\n  sorry\n", encoding="utf-8")
    edited = "theorem t : True := by\n  sorry\n-- the user kept typing\n"

    def answer(request: dict[str, Any]) -> str:
        path.write_text(edited, encoding="utf-8")
        return "```lean\ntrivial\n```"

    openai_server.responder = answer
    proc = cli("prove", "T.lean", *endpoint(openai_server), env=KEY)
    assert proc.returncode == 2
    assert "changed on disk" in proc.stderr.strip().splitlines()[-1]
    assert path.read_text("utf-8") == edited


def test_error_earlier_in_the_file_blocks_the_target(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "broken_def", "error": "unknown identifier", "at": "broken_def"}])
    text = "def x : Nat := broken_def\n\ntheorem t : True := by\n  sorry\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 1
    [target] = json.loads(proc.stdout)["targets"]
    assert target["status"] == "blocked"
    assert "line 1" in target["note"]
    assert openai_server.chat_requests == []
    assert path.read_text("utf-8") == text


def test_missing_sentinel_answer_means_not_checked(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Lean exits 0 and prints nothing (not even the `#print axioms` answer): not accepted."""
    fake_lean.scenario([{"when": "quiet_tac", "raw_stdout": ""}])
    path = tmp_path / "T.lean"
    path.write_text("theorem t : True := by\n  sorry\n", encoding="utf-8")
    openai_server.push("```lean\nquiet_tac\n```")
    proc = cli("prove", "T.lean", *endpoint(openai_server, "--rounds", "1"), "--json", env=KEY)
    assert proc.returncode == 1
    [target] = json.loads(proc.stdout)["targets"]
    assert "#print axioms" in target["note"]
    assert path.read_text("utf-8") == "theorem t : True := by\n  sorry\n"


def test_whole_file_check_runs_the_gate_for_each_changed_theorem(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """The last Lean run (the whole new file) carries each changed theorem's reference statement,
    its identity check and its axioms sentinel, and leaves untouched theorems alone."""
    text = (
        "namespace N\n\ntheorem done : True := trivial\n\n"
        "theorem a : True := by\n  sorry\n\nend N\n\nexample : 1 = 1 := by\n  sorry\n"
    )
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    openai_server.responder = lambda request: "```lean\nrfl\n```"
    proc = cli("prove", "T.lean", *endpoint(openai_server), env=KEY)
    assert proc.returncode == 0, proc.stderr
    final = fake_lean.checked_sources()[-1]
    assert "example : type_of% @leanloop_ref_5 := @N.a" in final
    assert "#print axioms _root_.N.a" in final
    assert "#print axioms _root_.leanloop_example_10" in final
    assert "N.done" not in final.split("theorem done")[1]
    assert path.read_text("utf-8").count("sorry") == 0


def test_whole_file_check_rejects_what_the_gate_rejects(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """A proof that passes on its own but whose theorem fails the identity check in the whole
    file (here: the double reports an error there only when both proofs are present) is left
    out."""
    fake_lean.scenario(
        [
            {
                "when_regex": r"type_of% @leanloop_ref_1 [\s\S]*good_b",
                "error": "type mismatch",
                "at": "type_of% @leanloop_ref_1 ",
            }
        ]
    )
    text = "theorem a : True := by\n  sorry\n\ntheorem b : True := by\n  sorry\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")

    def answer(request: dict[str, Any]) -> str:
        first = request["messages"][1]["content"]
        return "```lean\ngood_b\n```" if "theorem b :" in first else "```lean\ngood_a\n```"

    openai_server.responder = answer
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 1
    a, b = json.loads(proc.stdout)["targets"]
    assert (a["status"], b["status"]) == ("failed", "proved")
    assert "statement" in a["note"]
    assert "good_b" in path.read_text("utf-8") and "good_a" not in path.read_text("utf-8")


async def test_whole_file_check_answers_before_a_later_exit(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    """Lean stops at `#exit`; the whole-file check must still get each changed theorem's
    axioms answer, so its sentinel stands right after the theorem, not at the end."""
    from leanloop.lean.checker import CliChecker
    from leanloop.lean.project import lean_command
    from leanloop.lean.runner import LocalExecutor
    from leanloop.policy import Policy
    from leanloop.source import LeanDocument
    from leanloop.source.targets import find_targets
    from leanloop.writeback import final_check

    text = "theorem t : 1 + 1 = 2 := by\n  sorry\n\n#exit\n\ntheorem later : True := trivial\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    doc = LeanDocument(text)
    [target] = find_targets(doc)
    baseline = await checker.check(text)
    final = await final_check(doc, [(target, "rfl", False)], checker, baseline, Policy(), "T.lean")
    assert final.kept == ["t"], final.dropped
    assert final.text == text.replace("  sorry", "  rfl")


async def test_whole_file_check_keeps_an_arms_proof_of_a_colon_eq_theorem(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    """Pattern-matching arms replace the theorem's `:= …` itself; the command-by-command
    comparison must leave out exactly what was replaced, or the honest proof is dropped."""
    from leanloop.lean.checker import CliChecker
    from leanloop.lean.project import lean_command
    from leanloop.lean.runner import LocalExecutor
    from leanloop.policy import Policy
    from leanloop.source import LeanDocument
    from leanloop.source.targets import find_targets
    from leanloop.writeback import final_check

    text = "theorem y : ∀ n : Nat, n + 0 = n := by\n  sorry\n\ntheorem z : True := trivial\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    doc = LeanDocument(text)
    [target] = find_targets(doc)
    baseline = await checker.check(text)
    arms = "| 0 => rfl\n| k + 1 => rfl"
    final = await final_check(doc, [(target, arms, True)], checker, baseline, Policy(), "T.lean")
    assert final.kept == ["y"], final.dropped
    assert "| k + 1 => rfl" in final.text and "theorem z : True := trivial" in final.text


def test_a_proof_with_clauses_is_written_as_checked(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Issue 22: a restated theorem whose proof has `termination_by` and a `where` helper goes
    into the file whole, the clauses at the declaration's column; the next theorem is intact."""
    text = "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n\ntheorem later : 1 + 1 = 2 := rfl\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    openai_server.responder = lambda _: (
        "```lean\ntheorem t (n : Nat) : n + 0 = n := by\n  exact aux n\ntermination_by n\n"
        "where\n  /-- helper -/\n  aux (m : Nat) : m + 0 = m := by simp\n```"
    )
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text("utf-8") == (
        "theorem t (n : Nat) : n + 0 = n := by\n  exact aux n\ntermination_by n\nwhere\n"
        "  /-- helper -/\n  aux (m : Nat) : m + 0 = m := by simp\n\n"
        "theorem later : 1 + 1 = 2 := rfl\n"
    )


def test_a_proof_escaping_after_its_last_arm_is_never_written(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Issue 22: `open Foo in` after the last arm would reach the next theorem in real Lean."""
    text = (
        "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n\n"
        "theorem later : 1 + 1 = 2 := rfl\n"
    )
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    openai_server.responder = lambda _: "```lean\n| 0 => rfl\n| k + 1 => rfl open Foo in\n```"
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--rounds", "1", "--json", env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [target] = json.loads(proc.stdout)["targets"]
    assert target["status"] == "failed"
    assert path.read_text("utf-8") == text
