"""The built-in prover (`builtin:automation`): the default when no key is set, running the bundled
example through the same loop and gate as a real model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import REPO_ROOT, RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.model.base import ProofRequest
from leanloop.model.builtin import CORE_TACTICS, MATHLIB_TACTICS, BuiltinAutomation, portfolio
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets


def copy_workspace(tmp_path: Path) -> Path:
    """The repo's Lake project layout: lakefile at the root, sources under lean_workspace/."""
    project = tmp_path / "project"
    shutil.copytree(
        REPO_ROOT / "lean_workspace",
        project / "lean_workspace",
        ignore=shutil.ignore_patterns(".lake"),  # a built lean_workspace/replay holds Mathlib
    )
    shutil.copy(REPO_ROOT / "lakefile.lean", project / "lakefile.lean")
    return project / "lean_workspace" / "LeanloopExamples" / "Basic.lean"


def test_portfolio() -> None:
    assert portfolio([]) == list(CORE_TACTICS)
    assert portfolio(["Init"])[:2] == ["rfl", "decide"]
    with_mathlib = portfolio(["Mathlib.Tactic"])
    assert set(MATHLIB_TACTICS) <= set(with_mathlib)
    assert set(CORE_TACTICS) <= set(with_mathlib)
    assert with_mathlib.index("norm_num") < with_mathlib.index("simp_all")


async def test_builtin_answers_in_the_holes_mode() -> None:
    model = BuiltinAutomation()
    tactic = ProofRequest(target="t", mode="tactic", imports=[], round=2, attempt=0)
    term = ProofRequest(target="t", mode="term", imports=[], round=1, attempt=0)
    assert (await model.complete([], tactic)).text == "```lean\ndecide\n```"
    assert (await model.complete([], term)).text == "```lean\nby rfl\n```"


def test_no_key_proves_the_bundled_example_with_the_portfolio(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path
) -> None:
    """The main job: `leanloop prove` on the example with no key. `rfl` is made to fail for
    one theorem, so the loop must go on to the next tactic of the portfolio."""
    path = copy_workspace(tmp_path)
    original = path.read_text("utf-8")
    fake_lean.scenario(
        [
            {
                # The gate checks a proof in parentheses, `(rfl)`; the written file has it bare.
                "when_regex": r"le_succ_self \(n : Nat\) : n ≤ n \+ 1 := by\n\s*\(?rfl\b",
                "error": "The rfl tactic failed.\nn : Nat\n⊢ n ≤ n + 1",
            }
        ]
    )
    proc = run_cli("prove", path, "--report", tmp_path / "report.json")
    assert proc.returncode == 0, proc.stderr
    notice = [ln for ln in proc.stderr.splitlines() if "MISTRAL_API_KEY" in ln]
    assert len(notice) == 1
    assert "builtin:automation" in notice[0] and "not set" in notice[0]

    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["model"] == "builtin:automation"
    expected = [t.name for t in find_targets(LeanDocument(original))]
    assert [t["name"] for t in report["targets"]] == expected
    assert all(t["status"] == "proved" for t in report["targets"])
    by_name = {t["name"]: t for t in report["targets"]}
    le = by_name["LeanloopExamples.le_succ_self"]
    # `rfl` fails (scripted) and `decide` fails on a free variable, as in real Lean.
    assert le["proof"] not in ("rfl", "decide")
    assert le["rounds"] == le["model_calls"] >= 3
    assert le["cost_usd"] == 0.0
    assert by_name["LeanloopExamples.add_zero'"]["proof"] == "rfl"

    text = path.read_text("utf-8")
    assert find_targets(LeanDocument(text)) == []
    assert f"theorem le_succ_self (n : Nat) : n ≤ n + 1 := by\n  {le['proof']}\n" in text
    assert "theorem two_plus_two : 2 + 2 = 4 := by rfl\n" in text
    # the example stays an example (it is only named for `#print axioms` in Lean's copy)
    assert "example : (10 : Nat) - 3 = 7 := by\n  rfl\n" in text
    assert "_leanloop" not in text
    # everything else in the file is as it was
    assert text.splitlines()[:8] == original.splitlines()[:8]
    # Lean ran through `lake env lean` in the project root
    assert all(i["argv"][:3] == ["lake", "env", "lean"] for i in fake_lean.invocations())


def test_builtin_model_flag_uses_no_endpoint(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text("theorem t : 1 + 1 = 2 := by\n  sorry\n", encoding="utf-8")
    proc = cli(
        "prove", "T.lean", "--model", "builtin:automation", "--base-url", openai_server.base_url,
        env={"MISTRAL_API_KEY": "k"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert openai_server.requests == []
    assert "MISTRAL_API_KEY" not in proc.stderr  # no notice: the user asked for it
    assert (tmp_path / "T.lean").read_text("utf-8") == "theorem t : 1 + 1 = 2 := by\n  rfl\n"


def test_builtin_gives_up_after_the_portfolio(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when_regex": r":= by\n  \S", "error": "nope"}])
    path = tmp_path / "T.lean"
    path.write_text("theorem t : 1 = 2 := by\n  sorry\n", encoding="utf-8")
    proc = cli("prove", "T.lean", "--json")
    assert proc.returncode == 1
    [target] = json.loads(proc.stdout)["targets"]
    assert target["rounds"] == len(CORE_TACTICS)
    assert target["attempts"] == 1  # deterministic: one attempt however many samples
    assert path.read_text("utf-8") == "theorem t : 1 = 2 := by\n  sorry\n"


def test_exact_search_is_replaced_by_the_proof_lean_found(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    """Only `exact?` gets through; Lean says `Try this: … exact Nat.le_succ n` (the v4.33 form
    from the recorded REPL transcripts), and that proof, checked again, is what is written."""
    fake_lean.scenario(
        [
            {
                "when_regex": r":= by\n  \(?exact\?",
                "error": "Try this:\n  [apply] exact Nat.le_succ n",
                "severity": "information",
                "at": "exact?",
            },
            {"when_regex": r":= by\n  (?!\(?exact)\S", "error": "nope"},
        ]
    )
    path = tmp_path / "T.lean"
    path.write_text("theorem t (n : Nat) : n ≤ n + 1 := by\n  sorry\n", encoding="utf-8")
    proc = cli("prove", "T.lean", "--json")
    assert proc.returncode == 0, proc.stderr
    [target] = json.loads(proc.stdout)["targets"]
    assert target["proof"] == "exact Nat.le_succ n"
    assert (
        path.read_text("utf-8") == "theorem t (n : Nat) : n ≤ n + 1 := by\n  exact Nat.le_succ n\n"
    )
