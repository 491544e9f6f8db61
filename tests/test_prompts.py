"""What the model is sent: context within budget, errors within budget, user templates."""

from __future__ import annotations

from pathlib import Path

from leanloop.gate import ProofError, Reason, Verdict
from leanloop.prompts import Prompts, render_errors
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

SOURCE = (
    "import Mathlib\n\nopen Nat\n\nnamespace N\n\n"
    + "".join(f"theorem filler_{i} : {i} = {i} := rfl\n\n" for i in range(200))
    + "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n\nend N\n"
)


def test_first_request_keeps_imports_and_opens_and_fits_the_budget() -> None:
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    text = Prompts().first_request(doc, target, "T.lean", budget=600)
    assert "import Mathlib" in text and "open Nat" in text and "namespace N" in text
    assert "theorem filler_199" in text  # the nearest context survives
    assert "theorem filler_0 " not in text  # the far context is trimmed
    assert "theorem t (n : Nat) : n + 0 = n := by\n  sorry" in text


def test_feedback_keeps_goals_and_a_long_first_error() -> None:
    goals = "unsolved goals\nn : Nat\n⊢ n + 0 = n"
    errors = [ProofError(in_proof=True, line=2, column=4, text=goals)]
    assert "⊢ n + 0 = n" in render_errors(errors, 4000)
    long = [ProofError(in_proof=True, line=1, column=0, text="x" * 5000)] * 3
    out = render_errors(long, 300)
    assert out.startswith("Line 1, column 0 of your proof:\nxxx")
    assert len(out) < 400 and "(2 more error(s) not shown)" in out


def test_user_templates_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "feedback.txt").write_text("FIX IT: $summary\n$errors", encoding="utf-8")
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    verdict = Verdict.reject(Reason.LEAN_ERROR, "Lean said no.")
    text = Prompts(tmp_path).feedback_request(verdict, target, 1000)
    assert text.startswith("FIX IT: Lean said no.")
    # The other templates keep their defaults.
    assert "Prove this theorem" in Prompts(tmp_path).first_request(doc, target, "T.lean", 6000)
