"""Gate layers 3–5 against a real Lean (skipped unless `lake` is on PATH).

Core Lean only, run as `lean --json` in a directory with no lakefile. These also confirm what
the double can't: that the `type_of%` identity check and the reference copy elaborate in real
Lean, universe-polymorphic statements included."""

from __future__ import annotations

from pathlib import Path

import pytest

from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

pytestmark = pytest.mark.lean


async def _judge(
    tmp_path: Path,
    source: str,
    proof: str,
    policy: Policy | None = None,
    *,
    whole_body: bool = False,
) -> Verdict:
    path = tmp_path / "T.lean"
    path.write_text(source, encoding="utf-8")
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=300)
    doc = LeanDocument(source)
    [target] = find_targets(doc)
    return await judge(doc, target, proof, checker, policy or Policy.build(), whole_body=whole_body)


async def test_honest_proof_is_accepted(tmp_path: Path) -> None:
    verdict = await _judge(tmp_path, "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n", "simp")
    assert verdict.accepted, verdict.message
    assert verdict.axioms is not None and "sorryAx" not in verdict.axioms


async def test_universe_polymorphic_statement_passes_the_identity_check(tmp_path: Path) -> None:
    source = "namespace A\ntheorem t.{u} (α : Sort u) (a : α) : a = a := by\n  sorry\nend A\n"
    verdict = await _judge(tmp_path, source, "rfl")
    assert verdict.accepted, verdict.message


async def test_example_target_is_accepted(tmp_path: Path) -> None:
    verdict = await _judge(tmp_path, "example : 2 + 2 = 4 := sorry\n", "by decide")
    assert verdict.accepted, verdict.message


async def test_wrong_proof_is_a_lean_error_in_the_proof(tmp_path: Path) -> None:
    source = "theorem t (a b : Nat) : a + b = b + a := by\n  sorry\n"
    verdict = await _judge(tmp_path, source, "exact rfl")
    assert verdict.reason is Reason.LEAN_ERROR
    assert verdict.errors and verdict.errors[0].in_proof


async def test_proof_through_a_sorried_lemma_is_rejected_by_its_axioms(tmp_path: Path) -> None:
    source = "theorem helper : 1 = 2 := sorry\n\ntheorem t : 1 = 2 := by\n  sorry\n"
    verdict = await _judge(tmp_path, source, "exact helper")
    assert verdict.reason is Reason.SORRY
    assert verdict.axioms is not None and "sorryAx" in verdict.axioms


async def test_custom_axiom_is_rejected(tmp_path: Path) -> None:
    source = "axiom myAx : False\n\ntheorem t : 1 = 2 := by\n  sorry\n"
    verdict = await _judge(tmp_path, source, "exact myAx.elim")
    assert verdict.reason is Reason.AXIOMS
    assert verdict.axioms is not None and "myAx" in verdict.axioms


async def test_native_decide_only_when_allowed(tmp_path: Path) -> None:
    source = "theorem t : 10 * 10 = 100 := by\n  sorry\n"
    refused = await _judge(tmp_path, source, "native_decide")
    assert refused.reason is Reason.FORBIDDEN
    allowed = await _judge(
        tmp_path, source, "native_decide", Policy.build(allow_native_decide=True)
    )
    assert allowed.accepted and allowed.native, allowed.message


# What the double cannot confirm about the issue-7/12 gate (run these where Lean exists):


async def test_parenthesised_check_accepts_multiline_tactic_and_term_proofs(
    tmp_path: Path,
) -> None:
    tactic = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  sorry\n"
    verdict = await _judge(tmp_path, tactic, "constructor\n· exact hp\n· exact hq")
    assert verdict.accepted, verdict.message
    term = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := sorry\n"
    verdict = await _judge(tmp_path, term, "by\n  constructor\n  · exact hp\n  · exact hq")
    assert verdict.accepted, verdict.message
    verdict = await _judge(tmp_path, tactic, "exact ⟨hp, hq⟩ -- done")
    assert verdict.accepted, verdict.message


async def test_full_names_under_open_classical(tmp_path: Path) -> None:
    source = "open Classical\n\ntheorem t (p : Prop) : p ∨ ¬p := by\n  sorry\n"
    verdict = await _judge(tmp_path, source, "exact em p")
    assert verdict.accepted, verdict.message
    assert verdict.axioms is not None and "Classical.choice" in verdict.axioms


async def test_open_in_prefix_applies_to_the_target_and_its_reference(tmp_path: Path) -> None:
    source = "open Nat in\ntheorem t (n : Nat) : succ n = n + 1 := by\n  sorry\n"
    verdict = await _judge(tmp_path, source, "rfl")
    assert verdict.accepted, verdict.message


async def test_term_hole_inside_fun_keeps_its_by(tmp_path: Path) -> None:
    source = "theorem t : ∀ n : Nat, n + 0 = n := fun n => sorry\n"
    verdict = await _judge(tmp_path, source, "by simp")
    assert verdict.accepted, verdict.message


async def test_dedented_line_ends_the_block_and_is_refused(tmp_path: Path) -> None:
    # The structure check refuses it before Lean; were it to slip through, the parentheses
    # make Lean's parser fail instead of starting a new command.
    verdict = await _judge(tmp_path, "theorem t : True := by\n  sorry\n", "  trivial\ntrivial")
    assert not verdict.accepted


# Issue 22: the clauses that belong after a body, and arms, as the gate checks them. What the
# double cannot confirm: that `(@fun | … )`, `termination_by (…)`, `decreasing_by (…)` and helpers
# as `let rec` (with leanloop's own last helper) elaborate as the user's text does, and that Lean
# cannot close the parentheses around an escape.

REC = "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n"


@pytest.mark.parametrize(
    "proof",
    [
        "by\n  cases n with\n  | zero => rfl\n  | succ k => have := t k; omega\n"
        "termination_by n\ndecreasing_by all_goals decreasing_tactic",
        "aux n\nwhere\n  /-- the lemma -/\n  aux (m : Nat) : m + 0 = m := by simp",
        "aux n\nwhere\n  aux (m : Nat) : m + 0 = m := by simp\n  aux' (m : Nat) : m = m := rfl",
    ],
    ids=["termination-decreasing", "doc-commented-helper", "two-helpers"],
)
async def test_clauses_after_the_body_are_accepted(tmp_path: Path, proof: str) -> None:
    verdict = await _judge(tmp_path, REC, proof, whole_body=True)
    assert verdict.accepted, verdict.message


async def test_arms_proof_and_arms_with_where_are_accepted(tmp_path: Path) -> None:
    source = "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n"
    verdict = await _judge(tmp_path, source, "| 0 => rfl\n| k + 1 => by simp", whole_body=True)
    assert verdict.accepted, verdict.message
    proof = "| 0 => rfl\n| k + 1 => aux (k + 1)\nwhere\n  aux (m : Nat) : m + 0 = m := by simp"
    verdict = await _judge(tmp_path, source, proof, whole_body=True)
    assert verdict.accepted, verdict.message


async def test_recursive_arms_with_termination_by(tmp_path: Path) -> None:
    source = "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n"
    proof = "| 0 => rfl\n| k + 1 => by have := t k; omega\ntermination_by n => n"
    verdict = await _judge(tmp_path, source, proof, whole_body=True)
    assert verdict.accepted, verdict.message


@pytest.mark.parametrize(
    "proof",
    [
        "| 0 => rfl\n| k + 1 => rfl open Nat in",
        "| 0 => rfl\n| k + 1 => rfl\n  open Nat in",
        "by simp\ntermination_by n open Nat in",
        "aux n\nwhere\n  aux (m : Nat) : m + 0 = m := by simp\n    open Nat in",
    ],
)
async def test_escapes_after_arms_and_clauses_are_refused(tmp_path: Path, proof: str) -> None:
    source = "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n" if "|" in proof else REC
    verdict = await _judge(
        tmp_path, source + "\ntheorem later : 1 = 1 := rfl\n", proof, whole_body=True
    )
    assert not verdict.accepted
    assert verdict.reason in (Reason.LEAN_ERROR, Reason.STRUCTURE), verdict.message
