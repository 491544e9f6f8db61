"""Issue 19: every `sorry` in code is found, in every declaration kind, and each one that is not a
target has its reason."""

from __future__ import annotations

import pytest

from leanloop.source import LeanDocument
from leanloop.source.sorries import Use, sorry_uses
from leanloop.source.targets import find_targets

# Each form: (Lean text, the declaration it belongs to, its use). One `sorry` (or `admit`) each.
FORMS: list[tuple[str, str, Use]] = [
    ("theorem ok1 (n : Nat) : n + 0 = n := by\n  sorry\n", "ok1", Use.TARGET),
    ("theorem st (x : Nat) : x = (sorry : Nat) := by\n  rfl\n", "st", Use.STATEMENT),
    ("theorem iff_s (p : Prop) : p ↔ sorry := by\n  rfl\n", "iff_s", Use.STATEMENT),
    (
        "theorem erdos : answer(sorry) ↔ ∀ n : Nat, n = n := by\n  rfl\n",
        "erdos",
        Use.ANSWER,
    ),
    ("lemma wh : True ∧ True where\n  left := trivial\n  right := by sorry\n", "wh", Use.TARGET),
    ("theorem sq : True ∧ True := { left := trivial, right := sorry }\n", "sq", Use.TARGET),
    ("theorem an : True ∧ True := ⟨trivial, sorry⟩\n", "an", Use.TARGET),
    (
        "theorem wn (n : Nat) : n = n := aux\nwhere\n  aux : n = n := by\n    sorry\n",
        "wn",
        Use.TARGET,
    ),
    (
        "def f : Nat → Nat\n  | 0 => 0\n  | n + 1 => f n\ndecreasing_by sorry\n",
        "f",
        Use.DEFINITION,
    ),
    (
        "theorem g (n : Nat) : n = n := by\n  exact g n\ntermination_by n\ndecreasing_by sorry\n",
        "g",
        Use.TARGET,
    ),
    ("instance : Inhabited Nat where\n  default := sorry\n", "instance@1", Use.INSTANCE),
    ("instance iq : Inhabited Nat := ⟨sorry⟩\n", "iq", Use.INSTANCE),
    ("def d : Nat := sorry\n", "d", Use.DEFINITION),
    ("abbrev e : Nat := sorry\n", "e", Use.DEFINITION),
    ("structure S where\n  x : Nat := sorry\n", "S", Use.STRUCTURE),
    ('macro "cheat" : tactic => `(tactic| sorry)\n', "macro@1", Use.MACRO),
    ('notation "oops" => (sorry : Nat)\n', "notation@1", Use.MACRO),
    ('syntax "s" : term\nmacro_rules | `(s) => `(sorry)\n', "macro_rules@2", Use.MACRO),
    ("theorem ad : 1 = 1 := by\n  admit\n", "ad", Use.TARGET),
    ("#guard (sorry : Bool)\n", "#guard@1", Use.COMMAND),
    ("#eval (sorry : Nat)\n", "#eval@1", Use.COMMAND),
    ("example : True := sorry\n", "example@1", Use.TARGET),
]


@pytest.mark.parametrize(("text", "decl", "use"), FORMS, ids=[f[1] for f in FORMS])
def test_every_sorry_is_found_with_its_use(text: str, decl: str, use: Use) -> None:
    doc = LeanDocument(text)
    [found] = sorry_uses(doc)
    assert (found.declaration, found.use) == (decl, use)
    assert found.reason and found.reason[0].islower()  # a sentence part, shown after the name
    targets = find_targets(doc)
    if use is Use.TARGET:
        assert [t.name for t in targets] == [decl]
    else:
        assert targets == [], "a non-target must not be offered to the model"


def test_the_issues_file() -> None:
    text = (
        "theorem st (x : Nat) : x = (sorry : Nat) := by\n  sorry\n"
        "lemma wh : True ∧ True where\n  left := trivial\n  right := by sorry\n"
        "instance : Inhabited Nat where\n  default := sorry\n"
        "def d : Nat := sorry\n"
        "theorem ok1 (n : Nat) : n + 0 = n := by\n  sorry\n"
    )
    doc = LeanDocument(text)
    uses = sorry_uses(doc)
    assert [(u.declaration, u.use, u.line) for u in uses] == [
        ("st", Use.STATEMENT, 1),
        ("st", Use.STATEMENT, 2),
        ("wh", Use.TARGET, 5),
        ("instance@6", Use.INSTANCE, 7),
        ("d", Use.DEFINITION, 8),
        ("ok1", Use.TARGET, 10),
    ]
    assert [t.name for t in find_targets(doc)] == ["wh", "ok1"]
    assert (
        "answer is not filled in"
        in sorry_uses(LeanDocument("theorem c : answer(sorry) = 1 := rfl\n"))[0].reason
    )


def test_comments_strings_and_names_are_not_sorries() -> None:
    text = (
        '/-- sorry -/\ntheorem t : True := by\n  -- sorry\n  have s : String := "sorry"\n'
        "  exact sorry_free.trivial\n"
    )
    assert sorry_uses(LeanDocument(text)) == []
