"""Splicing a proof into its hole (indentation, line endings, several at once) and placing Lean's
errors relative to the proof, counting columns in code points."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import Target, apply_proofs, find_targets, splice

CRLF_SOURCE = (
    "namespace N\r\n\r\ntheorem a (n : Nat) : n + 0 = n := by\r\n  sorry\r\n\r\n"
    "theorem b : 2 + 2 = 4 := sorry\r\nend N\r\n\r\nexample : True := by\r\n    sorry\r\n"
)


def targets(text: str) -> tuple[LeanDocument, list[Target]]:
    doc = LeanDocument(text)
    return doc, find_targets(doc)


def test_multi_line_tactics_go_to_the_hole_column() -> None:
    text = "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n"
    doc, [t] = targets(text)
    spliced = splice(doc, t, "induction n with\n| zero => rfl\n| succ k ih => simp")
    assert spliced.text == (
        "theorem t (n : Nat) : n + 0 = n := by\n"
        "  induction n with\n  | zero => rfl\n  | succ k ih => simp\n"
    )
    assert spliced.text[spliced.proof_start : spliced.proof_end].startswith("induction n with")


def test_term_hole_with_a_by_block_is_indented_under_the_declaration() -> None:
    text = "theorem t : 2 + 2 = 4 := sorry\n\ntheorem u : True := trivial\n"
    doc, [t] = targets(text)
    assert splice(doc, t, "by\n  decide").text == (
        "theorem t : 2 + 2 = 4 := by\n  decide\n\ntheorem u : True := trivial\n"
    )


def test_crlf_is_kept_when_splicing() -> None:
    doc, [a, b, ex] = targets(CRLF_SOURCE)
    assert [t.mode for t in (a, b, ex)] == ["tactic", "term", "tactic"]
    text = splice(doc, a, "induction n\nrfl\nsimp").text
    assert "\r\n  induction n\r\n  rfl\r\n  simp\r\n" in text
    assert "\n" not in text.replace("\r\n", "")


def test_apply_several_proofs_at_once() -> None:
    doc, [a, b, ex] = targets(CRLF_SOURCE)
    text = apply_proofs(
        doc, [(ex, "trivial", False), (a, "simp", False), (b, "by decide", False)]
    ).text
    assert text == CRLF_SOURCE.replace(
        "  sorry\r\n\r\ntheorem b", "  simp\r\n\r\ntheorem b"
    ).replace(":= sorry", ":= by decide").replace("    sorry", "    trivial")


def test_whole_body_replaces_everything_after_assign() -> None:
    text = "theorem t : True ∧ True := by\n  constructor\n  · sorry\n  · sorry\n\n#check 1\n"
    doc, [t] = targets(text)
    assert not t.whole_body
    spliced = splice(doc, t, "⟨trivial, trivial⟩", whole_body=True)
    assert spliced.text == "theorem t : True ∧ True := ⟨trivial, trivial⟩\n\n#check 1\n"
    # Each hole in place, the rest of the user's proof kept.
    assert splice(doc, t, ["trivial", "exact trivial"]).text == (
        "theorem t : True ∧ True := by\n  constructor\n  · trivial\n  · exact trivial\n\n#check 1\n"
    )
    single = "theorem u : True := by\n  skip\n  sorry\n"
    doc, [u] = targets(single)
    assert splice(doc, u, "by trivial", whole_body=True).text == "theorem u : True := by trivial\n"


# ---------------------------------------------------------------------------------------------
# the gate places Lean's errors relative to the proof (through the fake toolchain)

PLACE_SOURCE = "theorem t (α₁ β₂ : Nat) (h : α₁ = β₂) : β₂ = α₁ := by\n  sorry\n"
GOAL = "α₁ β₂ : Nat\nh : α₁ = β₂\n⊢ β₂ = α₁"


def gate(tmp_path: Path, text: str, proof: str) -> Verdict:
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    doc, [t] = targets(text)
    checker = CliChecker(lean_command(path, None), LocalExecutor(2), timeout=60)
    return asyncio.run(judge(doc, t, proof, checker, Policy.build()))


@pytest.fixture
def bad_spot(fake_lean: FakeLean) -> FakeLean:
    fake_lean.scenario([{"when": "bad_spot", "error": f"unsolved goals\n{GOAL}", "at": "bad_spot"}])
    return fake_lean


def test_error_on_the_first_proof_line_after_non_ascii(bad_spot: FakeLean, tmp_path: Path) -> None:
    proof = "simp [hα₁, h] at bad_spot"
    verdict = gate(tmp_path, PLACE_SOURCE, proof)
    assert (verdict.accepted, verdict.reason) == (False, Reason.LEAN_ERROR)
    [err] = verdict.errors
    assert (err.in_proof, err.line, err.column) == (True, 1, proof.index("bad_spot"))
    assert err.goals == GOAL
    assert "line 1 of the proof" in verdict.message


def test_error_on_a_later_proof_line_gets_the_proof_line(
    bad_spot: FakeLean, tmp_path: Path
) -> None:
    verdict = gate(tmp_path, PLACE_SOURCE, "have hα₁ : α₁ = β₂ := h\nsimp [hα₁] at bad_spot")
    [err] = verdict.errors
    assert (err.in_proof, err.line) == (True, 2)
    assert err.text == f"unsolved goals\n{GOAL}"


def test_column_on_a_later_proof_line_is_relative_to_the_models_text(
    bad_spot: FakeLean, tmp_path: Path
) -> None:
    second = "simp [hα₁] at bad_spot"
    verdict = gate(tmp_path, PLACE_SOURCE, "have hα₁ : α₁ = β₂ := h\n" + second)
    [err] = verdict.errors
    assert err.column == second.index("bad_spot")


def test_error_outside_the_proof_keeps_its_file_position(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "oops_α", "error": "unknown identifier 'oops_α'", "at": "oops_α"}])
    text = "def f (β₁ : Nat) : Nat := oops_α\n\ntheorem t : True := by\n  sorry\n"
    verdict = gate(tmp_path, text, "trivial")
    assert verdict.reason is Reason.LEAN_ERROR
    [err] = verdict.errors
    assert (err.in_proof, err.line, err.column) == (False, 1, text.index("oops_α"))


ARMS = "theorem z : ∀ n : Nat, n + 0 = n\n  | 0 => sorry\n  | k + 1 => rfl\n"


def test_pattern_matching_theorem_is_a_target() -> None:
    doc = LeanDocument(ARMS)
    [target] = find_targets(doc)
    assert target.decl.arms is not None and target.decl.assign is None
    # The target's line is its keyword's, as `check` and reports give it.
    assert (target.mode, target.whole_body, target.line) == ("term", False, 1)
    assert splice(doc, target, "rfl").text == ARMS.replace("=> sorry", "=> rfl")


def test_pattern_matching_whole_body_takes_arms_or_a_proof() -> None:
    text = ARMS.replace("=> rfl", "=> sorry")
    doc = LeanDocument(text)
    [target] = find_targets(doc)
    assert target.parts == 2
    arms = splice(doc, target, "| 0 => rfl\n| k + 1 => by simp", whole_body=True).text
    assert arms == "theorem z : ∀ n : Nat, n + 0 = n\n  | 0 => rfl\n  | k + 1 => by simp\n"
    assert splice(doc, target, ["rfl", "by simp"]).text == (
        "theorem z : ∀ n : Nat, n + 0 = n\n  | 0 => rfl\n  | k + 1 => by simp\n"
    )
    assert splice(doc, target, "by simp", whole_body=True).text.startswith(
        "theorem z : ∀ n : Nat, n + 0 = n\n  := by simp"
    )
    # And the other way round: arms for a declaration written with `:=`.
    doc2 = LeanDocument("theorem y : ∀ n : Nat, n + 0 = n := by\n  sorry\n")
    [t2] = find_targets(doc2)
    # The arms replace `:= …`, each on a line of its own two columns in from the declaration.
    assert splice(doc2, t2, "| 0 => rfl\n| k + 1 => rfl", whole_body=True).text == (
        "theorem y : ∀ n : Nat, n + 0 = n\n  | 0 => rfl\n  | k + 1 => rfl\n"
    )


async def test_gate_checks_a_pattern_matching_target(fake_lean: FakeLean, tmp_path: Path) -> None:
    from leanloop.gate import judge
    from leanloop.lean.checker import CliChecker
    from leanloop.lean.project import lean_command
    from leanloop.lean.runner import LocalExecutor
    from leanloop.policy import Policy

    path = tmp_path / "T.lean"
    path.write_text(ARMS, encoding="utf-8")
    doc = LeanDocument(ARMS)
    [target] = find_targets(doc)
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    verdict = await judge(doc, target, "rfl", checker, Policy.build())
    assert verdict.accepted, verdict.message
    sent = fake_lean.checked_sources()[-1]
    assert "theorem leanloop_ref_1 : ∀ n : Nat, n + 0 = n := sorry" in sent
    assert "example : type_of% @leanloop_ref_1 := @z" in sent
