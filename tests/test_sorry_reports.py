"""Issue 19 as users see it: `prove` and `check` list every `sorry` that is not a target, with
its reason; `prove` exits 0 only when every `sorry` in scope was proved; `check` shows every
error it counts, naming those in lines leanloop added."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

KEY = {"MISTRAL_API_KEY": "test-key"}
ISSUE_FILE = (
    "theorem st (x : Nat) : x = (sorry : Nat) := by\n  sorry\n"
    "lemma wh : True ∧ True where\n  left := trivial\n  right := by sorry\n"
    "instance : Inhabited Nat where\n  default := sorry\n"
    "def d : Nat := sorry\n"
    "theorem ok1 (n : Nat) : n + 0 = n := by\n  sorry\n"
)


def _endpoint(server: ScriptedOpenAIServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "m", "--samples", "1", "--rounds", "1"]


def test_prove_lists_what_it_does_not_prove_and_exits_1(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ISSUE_FILE, encoding="utf-8")
    openai_server.responder = lambda _: "```lean\nrfl\n```"
    proc = cli("prove", "T.lean", *_endpoint(openai_server), env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "2/2 proved" in out
    assert "4 `sorry` leanloop does not prove:" in out
    assert "T.lean:1:29: st: the statement contains `sorry`" in out
    assert "T.lean:7:14: instance@6: a field of an instance" in out
    assert "T.lean:8:16: d: a `def` body" in out
    # Only the two targets were offered to the model.
    assert len(openai_server.chat_requests) == 2
    proc = cli("prove", "T.lean", *_endpoint(openai_server), "--dry-run", "--json", env=KEY)
    data = json.loads(proc.stdout)
    assert [(n["declaration"], n["use"]) for n in data["not_targets"]] == [
        ("st", "statement"),
        ("st", "statement"),
        ("instance@6", "instance"),
        ("d", "definition"),
    ]


def test_a_file_with_only_non_targets_is_not_a_success(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = "theorem c : answer(sorry) = 1 := by\n  rfl\n\ndef d : Nat := sorry\n"
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")
    proc = cli("prove", "T.lean", *_endpoint(openai_server), env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "No `sorry` to prove" not in proc.stdout + proc.stderr
    assert "the answer is not filled in" in proc.stdout
    assert openai_server.chat_requests == []


def test_a_named_statement_sorry_is_one_sentence(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ISSUE_FILE, encoding="utf-8")
    proc = cli("prove", "T.lean", "--theorem", "st", *_endpoint(openai_server), env=KEY)
    assert proc.returncode == 2
    assert "statement contains `sorry`" in proc.stdout + proc.stderr
    assert openai_server.chat_requests == []


def test_check_lists_every_sorry_and_shows_every_error_it_counts(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    # `#print axioms wh` fails in the line leanloop appended: counted, and shown as leanloop's.
    fake_lean.scenario(
        [{"when": "#print axioms _root_.wh", "at": "#print axioms _root_.wh", "error": "boom"}]
    )
    (tmp_path / "T.lean").write_text(ISSUE_FILE, encoding="utf-8")
    proc = cli("check", "T.lean", "--json")
    data = json.loads(proc.stdout)
    assert data["sorries"] == 6
    assert [(s["declaration"], s["target"]) for s in data["sorry_list"]] == [
        ("st", False),
        ("st", False),
        ("wh", True),
        ("instance@6", False),
        ("d", False),
        ("ok1", True),
    ]
    shown = data["messages"]
    assert data["errors"] == sum(m["severity"] == "error" for m in shown) + len(
        data["added_errors"]
    )
    [added] = data["added_errors"]
    assert "`#print axioms wh`" in added and "boom" in added
    proc = cli("check", "T.lean")
    assert proc.returncode == 1
    assert "leanloop's check: `#print axioms wh`" in proc.stdout
    assert "4 `sorry` not to prove:" in proc.stdout


def test_the_shown_statement_leaves_comments_out(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    text = (
        "theorem t (n : Nat) -- the bound\n    (h : n > 0) : -- shown?\n    n ≥ 1 := by\n  sorry\n"
    )
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")
    data = json.loads(cli("check", "T.lean", "--json").stdout)
    [target] = data["targets"]
    assert target["statement"] == "(n : Nat) (h : n > 0) : n ≥ 1"


def test_whole_body_only_when_asked_and_then_reported(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n"
    text += "  · sorry\n  · sorry\n"
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")
    openai_server.responder = lambda _: "```lean\n⟨hp, hq⟩\n```"
    proc = cli("prove", "T.lean", *_endpoint(openai_server), "--whole-body", "--json", env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [target] = json.loads(proc.stdout)["targets"]
    assert target["whole_body"] is True
    assert (
        (tmp_path / "T.lean")
        .read_text("utf-8")
        .startswith("theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨hp, hq⟩")
    )


def test_check_names_a_sorry_lean_sees_where_no_declaration_is_read(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    # A command of the file's own makes a declaration with `sorry` (scripted: the double does
    # not expand macros); leanloop reads no declaration at that line, and says so by line.
    text = (
        'macro "my_lemma" n:ident : command => `(theorem $n : True := sorry)\n'
        "my_lemma one\n"
        "theorem fine : True := trivial\n"
    )
    fake_lean.scenario(
        [{"when": "my_lemma one", "at": "my_lemma one", "severity": "warning",
          "error": "declaration uses `sorry`"}]
    )  # fmt: skip
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")
    data = json.loads(cli("check", "T.lean", "--json").stdout)
    assert data["lean_only_sorries"] == ["line 2"]
    proc = cli("check", "T.lean")
    assert "line 2: Lean says it uses `sorry`" in proc.stdout, proc.stdout


def test_prove_fills_declarations_indented_under_a_namespace(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    text = (
        "namespace N\n"
        "  theorem a (n : Nat) : n + 0 = n := by\n"
        "    sorry\n"
        "  theorem b : 2 = 2 := sorry\n"
        "end N\n"
    )
    (tmp_path / "T.lean").write_text(text, encoding="utf-8")
    openai_server.responder = lambda _: "```lean\nrfl\n```"
    proc = cli("prove", "T.lean", *_endpoint(openai_server), env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2/2 proved" in proc.stdout
    assert (tmp_path / "T.lean").read_text(encoding="utf-8") == (
        "namespace N\n"
        "  theorem a (n : Nat) : n + 0 = n := by\n"
        "    rfl\n"
        "  theorem b : 2 = 2 := rfl\n"
        "end N\n"
    )
