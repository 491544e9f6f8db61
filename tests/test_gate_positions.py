"""Positions in Lean's answer are the user's: lines in the user's file, columns in the proof, and
text leanloop added for the check is named as such, never given a line the user doesn't have."""

from __future__ import annotations

from pathlib import Path

from doubles.fake_lean import FakeLean

from leanloop.gate import judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

# Ten lines; the target's `by` is on line 9.
FILE = (
    "-- one\n-- two\n-- three\n-- four\n-- five\n-- six\n\n"
    "theorem t (n : Nat) : n + 0 = n :=\n  by\n  sorry\n"
)


async def _judge(tmp_path: Path, file: str, proof: str, rules: list[dict[str, object]],
                 fake_lean: FakeLean):  # fmt: skip
    fake_lean.scenario(rules)
    path = tmp_path / "T.lean"
    path.write_text(file, encoding="utf-8")
    doc = LeanDocument(file)
    [target] = find_targets(doc)
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    return await judge(doc, target, proof, checker, Policy.build())


async def test_error_outside_the_proof_has_the_users_line(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    # Lean reports `unsolved goals` at the `by` (line 9 of the user's file), which in the
    # checked copy sits below the reference statement leanloop inserted.
    rules = [{"when": "simp_arith", "at": "by\n", "error": "unsolved goals\nn : Nat\n⊢ n = n"}]
    verdict = await _judge(tmp_path, FILE, "simp_arith", rules, fake_lean)
    assert not verdict.accepted
    [err] = verdict.errors
    assert (err.in_proof, err.added, err.line, err.column) == (False, False, 9, 2)
    assert "line 9 of the file" in verdict.message


async def test_error_inside_the_proof_is_in_the_proofs_own_coordinates(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    rules = [{"when": "bad_lemma", "at": "bad_lemma", "error": "unknown identifier"}]
    verdict = await _judge(tmp_path, FILE, "intro\nexact bad_lemma", rules, fake_lean)
    [err] = verdict.errors
    assert (err.in_proof, err.line, err.column) == (True, 2, len("exact "))
    assert "line 2 of the proof" in verdict.message


async def test_error_in_text_leanloop_added_is_named_not_numbered(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    rules = [{"when": "leanloop_ref_8", "at": "leanloop_ref_8", "error": "universe issue"}]
    verdict = await _judge(tmp_path, FILE, "simp", rules, fake_lean)
    [err] = verdict.errors
    assert err.added and not err.in_proof
    assert "lines leanloop added" in verdict.message
    assert "line 1" not in verdict.message


async def test_error_after_the_proof_maps_past_the_hole(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    file = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨sorry,\n  hq_typo⟩\n"
    rules = [{"when": "hq_typo", "at": "hq_typo", "error": "unknown identifier 'hq_typo'"}]
    verdict = await _judge(tmp_path, file, "hp", rules, fake_lean)
    [err] = verdict.errors
    assert (err.in_proof, err.added, err.line, err.column) == (False, False, 2, 2)


async def test_error_after_a_multiline_proof_maps_past_the_hole(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    file = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨sorry, hq_typo⟩\n"
    rules = [{"when": "hq_typo", "at": "hq_typo", "error": "unknown identifier 'hq_typo'"}]
    verdict = await _judge(tmp_path, file, "by\n  exact hp", rules, fake_lean)
    [err] = verdict.errors
    assert (err.in_proof, err.added, err.line) == (False, False, 1)
    assert err.column == file.index("hq_typo")


async def test_audit_reports_errors_at_the_users_lines(fake_lean: FakeLean, tmp_path: Path) -> None:
    from leanloop.audit import audit_file

    fake_lean.scenario([{"when": "bad_name", "error": "unknown identifier", "at": "bad_name"}])
    path = tmp_path / "E.lean"
    path.write_text(
        "def x : Nat := 1\n\ntheorem t : True := by\n  trivial\n\ndef y : Nat := bad_name\n",
        encoding="utf-8",
    )
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    report = await audit_file(path, checker, Policy.build())
    [finding] = report.findings
    assert (finding.line, finding.message) == (6, "unknown identifier")


async def test_columns_are_code_points_as_lean_counts_them(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    # Lean's columns count code points (shared/lean-reference README, byStrictIndent); a proof
    # line with subscripts and Greek letters before the error must map to the right column.
    file = "theorem t (α₁ β₂ : Nat) (h : α₁ = β₂) : β₂ = α₁ := by\n  sorry\n"
    rules = [{"when": "bad_lemma", "at": "bad_lemma", "error": "unknown identifier"}]
    proof = "exact (β₂_α₁_from_h h).trans bad_lemma"
    verdict = await _judge(tmp_path, file, proof, rules, fake_lean)
    [err] = verdict.errors
    assert err.in_proof
    assert err.column == proof.index("bad_lemma")
    assert proof[err.column :].startswith("bad_lemma")
