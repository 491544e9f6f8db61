"""The Lean-aware scanner: comments, strings and quoted names hide `sorry`; declarations get
their full names through namespaces; positions are Lean's (1-based lines, code-point columns)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leanloop.errors import UsageError
from leanloop.source import LeanDocument, TokenKind, UnterminatedError, tokenize
from leanloop.source.targets import find_targets

DATA = Path(__file__).parent / "data" / "lean-reference"

SOURCE = """\
/- outer /- nested sorry -/ still a comment: sorry -/
-- sorry in a line comment
namespace Foo

def msg : String := "sorry, not a proof"
def raw : String := r#"a "sorry" in a raw string"#
def c : Char := 's'

/-- A doc comment that says sorry. -/
theorem «sorry is just a name» : True := trivial

theorem bar (n : Nat) : n + 0 = n := by
  -- sorry here is a comment
  sorry

section Inner
theorem baz : 1 = 1 := sorry
end Inner

namespace Deep
lemma qux (α₁ : Nat) : α₁ = α₁ := by
  simp /- sorry -/
  sorry
end Deep
end Foo

theorem top : True := by sorry

example : True := by
  sorry
"""


def line_col(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and code-point column of the n-th occurrence of ``needle``."""
    idx = -1
    for _ in range(occurrence + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    return line, idx - (text.rfind("\n", 0, idx) + 1)


def test_sorry_in_comments_strings_and_names_is_not_a_token() -> None:
    sorries = [t for t in tokenize(SOURCE) if t.kind is TokenKind.IDENT and t.text == "sorry"]
    doc = LeanDocument(SOURCE)
    assert [doc.position(t.start) for t in sorries] == [
        (14, 2),
        (17, 23),
        (23, 2),
        (27, 25),
        (30, 2),
    ]
    kinds = {t.text: t.kind for t in tokenize(SOURCE)}
    assert kinds['"sorry, not a proof"'] is TokenKind.STRING
    assert kinds['r#"a "sorry" in a raw string"#'] is TokenKind.STRING
    assert kinds["«sorry is just a name»"] is TokenKind.IDENT
    assert kinds["/-- A doc comment that says sorry. -/"] is TokenKind.DOC_COMMENT


def test_nested_block_comment_is_one_token() -> None:
    [first, *_] = tokenize(SOURCE)
    assert first.kind is TokenKind.COMMENT
    assert first.text == "/- outer /- nested sorry -/ still a comment: sorry -/"


def test_declarations_have_full_names_through_namespaces_and_sections() -> None:
    doc = LeanDocument(SOURCE)
    names = [(d.kind, d.full_name) for d in doc.declarations]
    assert names == [
        ("def", "Foo.msg"),
        ("def", "Foo.raw"),
        ("def", "Foo.c"),
        ("theorem", "Foo.«sorry is just a name»"),
        ("theorem", "Foo.bar"),
        ("theorem", "Foo.baz"),
        ("lemma", "Foo.Deep.qux"),
        ("theorem", "top"),
        ("example", None),
    ]


def test_targets_are_the_real_sorries_only() -> None:
    doc = LeanDocument(SOURCE)
    targets = find_targets(doc)
    # `line` is the declaration keyword's line; `column` the hole's.
    assert [(t.name, t.line, t.column, t.mode) for t in targets] == [
        ("Foo.bar", 12, 2, "tactic"),
        ("Foo.baz", 17, 23, "term"),
        ("Foo.Deep.qux", 21, 2, "tactic"),
        ("top", 27, 25, "tactic"),
        ("example@29", 29, 2, "tactic"),
    ]
    for t in targets:
        assert SOURCE[t.hole_start : t.hole_end] == "sorry"


def test_a_file_whose_only_sorries_are_in_comments_and_strings_has_no_target() -> None:
    text = (
        '/-- proof: sorry -/\ntheorem t : True := trivial -- sorry\ndef s := "sorry"\n'
        "/- /- sorry -/ sorry -/\n"
    )
    assert find_targets(LeanDocument(text)) == []


def test_statement_and_proof_ranges() -> None:
    text = "theorem t (h : a = (b := c)) : a = a := by\n  sorry\n\ntheorem u : True := trivial\n"
    doc = LeanDocument(text)
    t, u = doc.declarations
    assert t.assign is not None and text[t.assign : t.assign + 2] == ":="
    # the `:=` inside parentheses is not the one that starts the body
    assert text[t.name_end : t.assign].strip() == "(h : a = (b := c)) : a = a"
    assert text[t.start : t.end] == "theorem t (h : a = (b := c)) : a = a := by\n  sorry"
    assert u.sorries == ()


def test_several_sorries_are_holes_of_their_own() -> None:
    text = "theorem t : True ∧ True := by\n  constructor\n  · sorry\n  · exact (sorry)\n"
    [target] = find_targets(LeanDocument(text))
    assert not target.whole_body and target.parts == 2
    assert [(text[h.start : h.end], h.mode) for h in target.holes] == [
        ("sorry", "tactic"),
        ("sorry", "term"),
    ]
    assert (target.line, target.column) == (1, 4)
    # The whole body only when asked for.
    [whole] = find_targets(LeanDocument(text), whole_body=True)
    assert whole.whole_body and whole.parts == 1
    assert text[whole.hole_start : whole.hole_end] == (
        "by\n  constructor\n  · sorry\n  · exact (sorry)"
    )


@pytest.mark.parametrize(
    "text",
    ["/- never closed", 'def s := "never closed', "theorem «never closed : True := trivial"],
)
def test_unterminated_comment_string_or_name_is_reported(text: str) -> None:
    with pytest.raises(UnterminatedError):
        LeanDocument(text)


def test_theorem_selection_by_full_and_short_name() -> None:
    text = (
        "namespace Foo\ntheorem bar : True := sorry\ntheorem baz : True := sorry\nend Foo\n"
        "namespace Other\ntheorem bar : True := sorry\nend Other\n"
    )
    doc = LeanDocument(text)
    assert [t.name for t in find_targets(doc, ["Foo.bar"])] == ["Foo.bar"]
    assert [t.name for t in find_targets(doc, ["baz"])] == ["Foo.baz"]
    assert [t.name for t in find_targets(doc, ["Other.bar", "Foo.baz"])] == [
        "Foo.baz",
        "Other.bar",
    ]
    with pytest.raises(UsageError, match=r"No theorem named `Nope\.bar`"):
        find_targets(doc, ["Nope.bar"])


def test_position_counts_code_points_like_lean() -> None:
    text = "theorem t (α₁ β : Nat) (h : α₁ = β) : β = α₁ := by\n  exact h.symm\n"
    doc = LeanDocument(text)
    # Python str offsets are code points; UTF-8 bytes or UTF-16 units would differ here.
    col = text.index("h.symm") - text.index("\n") - 1
    assert doc.position(text.index("h.symm")) == (2, col)
    line1_col = text.index("β = α₁")
    assert len(text[:line1_col].encode("utf-8")) != line1_col
    assert doc.position(line1_col) == (1, line1_col)
    for offset in range(len(text) + 1):
        assert doc.offset(*doc.position(offset)) == offset


_LOCATED = re.compile(r"^[^:\n]+\.lean:(\d+):(\d+)(?:-(\d+):(\d+))?: (error|warning)", re.M)


def test_positions_agree_with_recorded_lean_output() -> None:
    """byStrictIndent: line 13 contains `byNestedBad₁`; Lean's 13:54 must land on `by`."""
    text = (DATA / "byStrictIndent.lean").read_text(encoding="utf-8")
    out = (DATA / "byStrictIndent.expected.out").read_text(encoding="utf-8")
    doc = LeanDocument(text)
    at = {(int(m[1]), int(m[2])) for m in _LOCATED.finditer(out)}
    assert (13, 54) in at
    assert "byNestedBad₁" in text.splitlines()[12]
    offset = doc.offset(13, 54)
    assert text[offset : offset + 2] == "by"
    # Lean reports the stray `sorry`s at 16:3 and 22:6; the scanner finds tokens exactly there.
    sorry_positions = {
        doc.position(t.start) for t in tokenize(text) if t.is_code and t.text == "sorry"
    }
    assert {(16, 3), (22, 6)} <= sorry_positions
    for line, col in at:
        assert doc.position(doc.offset(line, col)) == (line, col)


def test_line_comment_scanner_sees_a_sorry_after_a_string_with_dashes() -> None:
    text = 'theorem t : "--" = "--" := by\n  sorry\n'
    [target] = find_targets(LeanDocument(text))
    assert text[target.hole_start : target.hole_end] == "sorry"
    assert line_col(text, "sorry") == (2, 2)
    assert LeanDocument(text).position(target.hole_start) == (2, 2)


def test_an_example_is_selected_by_its_report_label() -> None:
    from leanloop.errors import UsageError

    doc = LeanDocument("example : True := by\n  sorry\n\nexample : 1 = 1 := sorry\n")
    [target] = find_targets(doc, ["example@4"])
    assert target.name == "example@4"
    with pytest.raises(UsageError, match="example@9"):
        find_targets(doc, ["example@9"])


INDENTED = """\
namespace Foo
  theorem a : True := by
    sorry
  /-- b's doc -/
  @[simp] theorem b : True := trivial
  section Inner
    variable (n : Nat)
    open Nat
    lemma c : n + 0 = n := by sorry
  end Inner
  set_option maxHeartbeats 400 in
  theorem d : True := by
    open Classical in
    set_option maxRecDepth 100 in
    sorry
  #guard_msgs (drop info) in
    theorem e : True := by
      sorry
end Foo
"""


def test_indented_declarations_are_declarations_of_their_own() -> None:
    # Lean reads commands at any column; a file that indents what is under `namespace` or
    # `section` has every declaration seen, with its own sorries.
    doc = LeanDocument(INDENTED)
    assert [(d.kind, d.full_name) for d in doc.declarations] == [
        ("theorem", "Foo.a"),
        ("theorem", "Foo.b"),
        ("lemma", "Foo.c"),
        ("theorem", "Foo.d"),
        ("theorem", "Foo.e"),
    ]
    assert [t.name for t in find_targets(doc)] == ["Foo.a", "Foo.c", "Foo.d", "Foo.e"]


def test_what_a_declaration_may_hold_stays_in_it() -> None:
    # Field doc comments and modifiers, `where` helpers' attributes and the bodies of a
    # `mutual` block are part of the declaration they stand in, at any indentation.
    text = """\
structure S where
  /-- the x -/
  protected x : Nat
mutual
  def e : Nat → Bool
    | 0 => true
    | n + 1 => o n
  def o : Nat → Bool
    | 0 => false
    | n + 1 => e n
end
def f : Nat := g
where
  @[simp] g : Nat := 1
"""
    doc = LeanDocument(text)
    assert [(d.kind, d.full_name) for d in doc.declarations] == [
        ("structure", "S"),
        ("def", "e"),
        ("def", "o"),
        ("def", "f"),
    ]


def test_a_command_the_file_declares_starts_a_command_of_its_own() -> None:
    # `syntax "kw" … : command` (or `macro`/`elab`) makes `kw` a keyword from there on, as in
    # Lean's token table; what follows it is no longer read as part of the declaration above.
    text = """\
theorem before : True := by
  my_lemma
macro "my_lemma" n:ident ":=" t:term : command => `(theorem $n : True := $t)
syntax (name := other) "other_cmd" term : command
theorem a : True := by
  trivial
my_lemma foo := sorry
other_cmd sorry
theorem b : True := by
  sorry
"""
    doc = LeanDocument(text)
    assert [d.full_name for d in doc.declarations] == ["before", "a", "b"]
    # `before` uses the word before it is a keyword: its body holds it, as Lean reads it.
    assert "my_lemma" in text[doc.declarations[0].start : doc.declarations[0].end]
    # The `sorry`s of the file's own commands are no holes of `a`.
    assert [t.name for t in find_targets(doc)] == ["b"]


def test_a_term_or_tactic_syntax_is_no_command() -> None:
    text = """\
syntax "my_tac" : tactic
macro "my_term" : term => `(trivial)
def c : True :=
my_term
theorem b : True := sorry
"""
    doc = LeanDocument(text)
    assert [d.full_name for d in doc.declarations] == ["c", "b"]
    assert "my_term" in text[doc.declarations[0].start : doc.declarations[0].end]
