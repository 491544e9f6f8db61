"""Getting a proof out of a model's answer: the last ```lean block, no reasoning sections, and a
restated theorem only when its statement is unchanged."""

from __future__ import annotations

import pytest

from leanloop.model.extract import ExtractionError, extract
from leanloop.source import LeanDocument
from leanloop.source.targets import Target, find_targets

SOURCE = "namespace Foo\n\ntheorem bar (n : Nat) : n + 0 = n := by\n  sorry\n\nend Foo\n"


@pytest.fixture
def doc() -> LeanDocument:
    return LeanDocument(SOURCE)


@pytest.fixture
def target(doc: LeanDocument) -> Target:
    [t] = find_targets(doc)
    return t


def test_last_lean_block_wins(doc: LeanDocument, target: Target) -> None:
    answer = (
        "First idea:\n```lean\nsimp\n```\nBetter:\n```lean\nomega\n```\n"
        "And in Python for fun:\n```python\nprint('x')\n```\n"
    )
    got = extract(answer, doc, target)
    assert (got.proof, got.whole_body) == ("omega", False)


def test_lean4_tag_and_untagged_block(doc: LeanDocument, target: Target) -> None:
    assert extract("```lean4\nrfl\n```", doc, target).proof == "rfl"
    assert extract("Here:\n```\nsimp\n```", doc, target).proof == "simp"


def test_raw_text_without_fences(doc: LeanDocument, target: Target) -> None:
    assert extract("  induction n <;> simp\n", doc, target).proof == "induction n <;> simp"
    # The hole is a tactic, so the `by` goes too.
    assert extract(":= by simp", doc, target).proof == "simp"


def test_think_sections_are_dropped(doc: LeanDocument, target: Target) -> None:
    answer = "<think>Maybe\n```lean\nsorry\n```\nno, that is cheating.</think>\n```lean\nsimp\n```"
    assert extract(answer, doc, target).proof == "simp"
    # an unclosed reasoning section swallows the rest: no code was given
    with pytest.raises(ExtractionError, match="no Lean code"):
        extract("<think>still thinking ```lean\nrfl\n```", doc, target)


def test_restated_theorem_with_same_statement_replaces_whole_body(
    doc: LeanDocument, target: Target
) -> None:
    answer = (
        "```lean\ntheorem bar (n : Nat) :\n    n + 0   = n := by\n  induction n\n  · rfl\n"
        "  · simp\n```"
    )
    got = extract(answer, doc, target)
    assert got.whole_body
    assert got.proof == "by\n  induction n\n  · rfl\n  · simp"


def test_restated_with_full_name_is_accepted(doc: LeanDocument, target: Target) -> None:
    got = extract("```lean\ntheorem Foo.bar (n : Nat) : n + 0 = n := by simp\n```", doc, target)
    assert (got.proof, got.whole_body) == ("by simp", True)


def test_restated_with_different_statement_is_rejected(doc: LeanDocument, target: Target) -> None:
    with pytest.raises(ExtractionError, match="statement in your answer differs"):
        extract("```lean\ntheorem bar (n : Nat) : n + 1 = n + 1 := rfl\n```", doc, target)
    with pytest.raises(ExtractionError, match="different theorem"):
        extract("```lean\ntheorem other (n : Nat) : n + 0 = n := by simp\n```", doc, target)


@pytest.mark.parametrize(
    "answer",
    [
        "I am sorry, but I cannot prove this theorem without more context.",
        "The statement follows from the definition of addition on naturals.",
    ],
)
def test_prose_is_not_a_proof(doc: LeanDocument, target: Target, answer: str) -> None:
    with pytest.raises(ExtractionError, match="prose"):
        extract(answer, doc, target)


@pytest.mark.parametrize("answer", ["", "   \n", "```lean\n```", "<think>hmm</think>"])
def test_empty_answers(doc: LeanDocument, target: Target, answer: str) -> None:
    with pytest.raises(ExtractionError):
        extract(answer, doc, target)


def test_unterminated_code_is_reported_not_raised(doc: LeanDocument, target: Target) -> None:
    with pytest.raises(ExtractionError, match="unterminated"):
        extract("```lean\nsimp /- oops\n```", doc, target)


def test_by_is_dropped_where_the_hole_is_a_tactic() -> None:
    from leanloop.model.extract import extract
    from leanloop.source import LeanDocument
    from leanloop.source.targets import find_targets

    doc = LeanDocument(
        "theorem t (p : Prop) (hp : p) : p ∧ p := by\n  constructor\n  · sorry\n  · exact hp\n"
    )
    [target] = find_targets(doc)
    assert target.mode == "tactic"
    assert extract("```lean\nby\n  exact hp\n```", doc, target).proof == "  exact hp"
    assert extract("```lean\nby exact hp\n```", doc, target).proof == "exact hp"
    # `byContra`-like names are not the keyword.
    assert extract("```lean\nby_contra h\n```", doc, target).proof == "by_contra h"
