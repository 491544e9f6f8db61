"""The shape of a proof (issue 22): its body, then `termination_by`, `decreasing_by` and `where`
helpers as Lean's grammar reads them; how they are laid out in the user's file; and where Lean's
positions in the checked text lead back to."""

from __future__ import annotations

from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.gate import judge, prepare
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.clauses import ShapeError, shape
from leanloop.source.targets import find_targets, splice

REC = "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n"


def test_body_and_clauses_are_found_in_order() -> None:
    text = "by\n  simp [f]\ntermination_by x y => x + y\ndecreasing_by\n  omega\nwhere\n  g := 1"
    s = shape(text)
    assert text[s.main[0] : s.main[1]] == "by\n  simp [f]"
    assert s.termination is not None and s.termination.content is not None
    assert text[slice(*s.termination.content)] == "x + y"  # the binders stay outside
    assert s.decreasing is not None and s.decreasing.content is not None
    assert text[slice(*s.decreasing.content)] == "omega"
    assert s.where is not None and [text[h.start : h.end] for h in s.helpers] == ["g := 1"]
    assert s.helper_column == 2


def test_keywords_in_brackets_and_after_where_belong_to_others() -> None:
    # In brackets a word is no clause; after `where`, `termination_by` is the helper's own.
    text = "foo (termination_by)\nwhere\n  go : Nat → Nat\n    | n => n\n  termination_by n => n"
    s = shape(text)
    assert s.termination is None and len(s.helpers) == 1
    assert text[s.helpers[0].start : s.helpers[0].end].endswith("termination_by n => n")


def test_fun_is_a_term_not_binders() -> None:
    text = "rfl\ntermination_by fun x => x"
    s = shape(text)
    assert s.termination is not None and s.termination.content is not None
    assert text[slice(*s.termination.content)] == "fun x => x"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("termination_by n", "no body"),
        ("rfl\ndecreasing_by simp\ntermination_by n", "at most one"),
        ("rfl\ntermination_by n\ntermination_by m", "at most one"),
        ("rfl\ndecreasing_by", "nothing after"),
        ("rfl\ntermination_by? n", "nothing after"),
        ("rfl\nwhere", "no helper"),
        ("rfl\nwhere\n  a := 1\n b := 2", "left of its first helper"),
        ("rfl\nwhere\n  a := 1\n  open Foo in", "not with a helper's name"),
        ("rfl\nwhere\n  a := 1\n  (b) := 2", "not with a helper's name"),
        ("rfl\nwhere\n  a := 1\n  /-- doc -/", "documents no helper"),
        ("rfl\nwhere\n  a := 1\n  where b := 2", "not with a helper's name"),
    ],
)
def test_clauses_lean_reads_otherwise_are_refused(text: str, words: str) -> None:
    with pytest.raises(ShapeError, match=words):
        shape(text)


def test_clauses_are_laid_out_at_the_declarations_column() -> None:
    doc = LeanDocument(REC)
    [target] = find_targets(doc)
    # The model indented everything by two more; the clauses keep their place relative to the
    # body, the least indented keyword at the declaration's column.
    proof = "by\n    simp\n    omega\n  termination_by n\n  where\n    aux : True := trivial"
    text = splice(doc, target, proof, whole_body=True).text
    assert text == (
        "theorem t (n : Nat) : n + 0 = n := by\n  simp\n  omega\n"
        "termination_by n\nwhere\n  aux : True := trivial\n"
    )


def test_a_clause_in_the_middle_of_a_line_starts_its_own() -> None:
    doc = LeanDocument(REC)
    [target] = find_targets(doc)
    text = splice(doc, target, "by simp termination_by n decreasing_by omega", whole_body=True).text
    assert (
        text
        == "theorem t (n : Nat) : n + 0 = n := by simp\ntermination_by n\ndecreasing_by omega\n"
    )


def test_helpers_become_let_rec_inside_the_bodys_parentheses() -> None:
    doc = LeanDocument(REC)
    [target] = find_targets(doc)
    proof = "aux n\nwhere\n  aux (m : Nat) : m + 0 = m := by simp"
    copy = prepare(doc, target, proof, Policy.build(), whole_body=True)
    assert not hasattr(copy, "reason"), copy
    region = copy.probe.text  # type: ignore[union-attr]
    assert region.startswith("theorem t (n : Nat) : n + 0 = n :=\n (let rec\n")
    assert "  aux (m : Nat) : m + 0 = m := by simp,\n" in region
    assert region.rstrip().endswith("aux n))")
    assert "where" not in region


async def test_an_error_in_a_helper_is_placed_in_the_proof(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "bad_lemma", "at": "bad_lemma", "error": "unknown identifier"}])
    path = tmp_path / "T.lean"
    path.write_text(REC, encoding="utf-8")
    doc = LeanDocument(REC)
    [target] = find_targets(doc)
    checker = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    proof = "aux n\ntermination_by n\nwhere\n  aux (m : Nat) : m + 0 = m := bad_lemma m"
    verdict = await judge(doc, target, proof, checker, Policy.build(), whole_body=True)
    [err] = verdict.errors
    assert (err.in_proof, err.line, err.column) == (True, 4, proof.splitlines()[3].index("bad"))
