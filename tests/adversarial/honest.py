"""Honest proofs the gate must accept: zero false rejections.

Each :class:`Honest` is a small Lean file with one target holding `sorry` and a proof a careful
person (or model) would write. The default fake Lean accepts anything without `sorry` and answers
`#print axioms`, so any rejection here comes from the gate's own layers (screen, structure, the
checked copy), which is exactly what this corpus guards against.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Honest:
    id: str
    file: str
    proof: str | list[str]  # one proof per hole for a target with several
    theorem: str | None = "t"  # None: the file's only target (an `example`)
    whole_body: bool = False
    bug: str | None = None  # a known false rejection: the test is a strict xfail


def _tactic(statement: str) -> str:
    return f"theorem t {statement} := by\n  sorry\n"


def _term(statement: str) -> str:
    return f"theorem t {statement} := sorry\n"


PAIR = "(p q : Prop) (hp : p) (hq : q) : p ∧ q"

HONEST: list[Honest] = [
    # --- tactic and term mode ------------------------------------------------------------------
    Honest("tactic-simp", _tactic(": 1 + 1 = 2"), "simp"),
    Honest("tactic-decide", _tactic(": 2 + 2 = 4"), "decide"),
    Honest("term-rfl", _term(": 2 + 2 = 4"), "rfl"),
    Honest("term-by", _term(": 2 + 2 = 4"), "by decide"),
    Honest("term-lone-by", _term(": 2 + 2 = 4"), "by\n  simp\n  done"),
    Honest("term-show-from", _term(": 1 + 1 = 2"), "show 1 + 1 = 2 from rfl"),
    Honest("tactic-show-from", _tactic(": 1 + 1 = 2"), "exact show 1 + 1 = 2 from rfl"),
    Honest("omega", _tactic("(a b : Nat) (h : a < b) : a + 1 ≤ b"), "omega"),
    # --- calc, match, induction, cases ---------------------------------------------------------
    Honest(
        "calc-tactic",
        _tactic("(a b c : Nat) (h₁ : a = b) (h₂ : b = c) : a = c"),
        "calc a = b := h₁\n  _ = c := h₂",
    ),
    Honest(
        "calc-term",
        _term("(a b c : Nat) (h₁ : a ≤ b) (h₂ : b ≤ c) : a ≤ c"),
        "calc a ≤ b := h₁\n     _ ≤ c := h₂",
    ),
    Honest(
        "match-term",
        _term("(n : Nat) : n * 0 = 0"),
        "match n with\n| 0 => rfl\n| k + 1 => Nat.mul_zero (k + 1)",
    ),
    Honest(
        "match-tactic",
        _tactic("(n : Nat) : n * 0 = 0"),
        "match n with\n| 0 => rfl\n| _ + 1 => simp",
    ),
    Honest(
        "induction",
        _tactic("(n : Nat) : 0 + n = n"),
        "induction n with\n| zero => rfl\n| succ n ih => omega",
    ),
    Honest(
        "cases",
        _tactic("(p q : Prop) (h : p ∨ q) : q ∨ p"),
        "cases h with\n| inl hp => exact Or.inr hp\n| inr hq => exact Or.inl hq",
    ),
    Honest(
        "obtain",
        _tactic("(p q : Prop) (h : p ∧ q) : q ∧ p"),
        "obtain ⟨a, b⟩ := h\nexact ⟨b, a⟩",
    ),
    Honest(
        "nat-rec",
        _term("(n : Nat) : 0 + n = n"),
        "Nat.rec (motive := fun n => 0 + n = n) rfl\n  (fun n _ih => by simp) n",
    ),
    # --- Classical reasoning -------------------------------------------------------------------
    Honest("open-classical-in", _tactic("(p : Prop) : p ∨ ¬p"), "open Classical in\nexact em p"),
    Honest(
        "open-classical-in-term",
        _term("(p : Prop) : p ∨ ¬p"),
        "open Classical in em p",
    ),
    Honest(
        "by-contradiction",
        _term("(p : Prop) (h : ¬¬p) : p"),
        "Classical.byContradiction fun hn => h hn",
    ),
    Honest(
        "by-cases",
        _tactic("(p : Prop) : p ∨ ¬p"),
        "by_cases hp : p\n· exact Or.inl hp\n· exact Or.inr hp",
    ),
    Honest("classical-tactic", _tactic("(p : Prop) : p ∨ ¬p"), "classical\nexact Classical.em p"),
    # --- proof-local options and instances -----------------------------------------------------
    Honest(
        "set-option-in",
        _tactic(": 1 + 1 = 2"),
        "set_option maxHeartbeats 400000 in\nsimp",
    ),
    Honest(
        "set-option-in-term",
        _term(": 1 + 1 = 2"),
        "set_option maxRecDepth 2000 in rfl",
    ),
    Honest(
        "haveI-letI",
        _tactic(": (default : Nat) = 0"),
        "haveI : Inhabited Bool := ⟨true⟩\nletI : Inhabited Unit := ⟨()⟩\nrfl",
    ),
    # --- anonymous constructors, pattern lambdas, bullets, combinators -------------------------
    Honest("pattern-fun", _term("(p q : Prop) : p ∧ q → q ∧ p"), "fun ⟨a, b⟩ => ⟨b, a⟩"),
    Honest("anonymous-constructor", _term(": ∃ n : Nat, n + 1 = 3"), "⟨2, rfl⟩"),
    Honest("bullets", _tactic(PAIR), "constructor\n· exact hp\n· exact hq"),
    Honest("all-goals-combinator", _tactic(PAIR), "constructor <;> assumption"),
    Honest("first-alternatives", _tactic("(a : Nat) : a + 0 = a"), "first | simp | omega"),
    Honest(
        "nested-bullets",
        _tactic("(p q r : Prop) (hp : p) (hq : q) (hr : r) : p ∧ (q ∧ r)"),
        "refine ⟨hp, ?_⟩\n· constructor\n  · exact hq\n  · exact hr",
    ),
    Honest(
        "uneven-indentation",
        _tactic("(a b : Nat) (h : a = b) : b = a ∧ a = a"),
        "refine ⟨?_, ?_⟩\n· have h' : b = a :=\n      h.symm\n  exact h'\n· rfl",
    ),
    Honest(
        "indented-first-line",
        _tactic(PAIR),
        "  constructor\n  · exact hp\n  · exact hq\n",
    ),
    # --- forbidden words in comments and strings -----------------------------------------------
    Honest("line-comment", _tactic(": 1 + 1 = 2"), "-- no sorry here\nsimp"),
    Honest(
        "comment-between-tactics", _tactic(PAIR), "constructor\n-- sorry? no.\nall_goals assumption"
    ),
    Honest(
        "trailing-comment",
        _tactic(": 1 + 1 = 2"),
        "simp -- sorry, admit: just kidding",
    ),
    Honest(
        "trailing-block-comment",
        _term(": 1 + 1 = 2"),
        "rfl /- done -/",
    ),
    Honest(
        "block-comment",
        _tactic(": 1 + 1 = 2"),
        "/- axiom, #eval, macro_rules, theorem, set_option x 1, admit -/\nrfl",
    ),
    Honest(
        "nested-block-comment",
        _tactic(": 1 + 1 = 2"),
        "/- outer /- inner sorry -/ still a comment: #eval -/\nrfl",
    ),
    Honest(
        "string-literal",
        _tactic(': "sorry".length = 5'),
        'show "sorry".length = 5\nrfl',
    ),
    Honest(
        "string-with-escapes",
        _tactic(': "a\\"b".length = 3'),
        'show "a\\"b".length = 3 -- "#eval"\nrfl',
    ),
    Honest("char-literal", _tactic(": 'a'.toNat = 97"), "show 'a'.toNat = 97\nrfl"),
    # --- unicode names ---------------------------------------------------------------------------
    Honest(
        "unicode-hypotheses",
        _tactic("(α : Type) (a b : α) (h₁ : a = b) : b = a"),
        "exact h₁.symm",
    ),
    Honest(
        "guillemet-name",
        "theorem «my lemma» : 2 + 2 = 4 := by\n  sorry\n",
        "decide",
        theorem="«my lemma»",
    ),
    Honest(
        "greek-name",
        "theorem α_β_γ (ε : Nat) (hε : 0 < ε) : 0 < ε + 1 := by\n  sorry\n",
        "omega",
        theorem="α_β_γ",
    ),
    # --- literals that look like commands ------------------------------------------------------
    Honest("array-literal-statement", _tactic(": #[1, 2, 3].size = 3"), "rfl"),
    Honest(
        "array-literal-proof",
        _tactic(": #[1, 2, 3].size = 3"),
        "show #[1, 2, 3].size = 3\nrfl",
    ),
    # --- where the target sits -------------------------------------------------------------------
    Honest("example-target", "example : 1 + 1 = 2 := by\n  sorry\n", "rfl", theorem=None),
    Honest(
        "example-term",
        "example (p : Prop) (hp : p) : p ∧ p := sorry\n",
        "⟨hp, hp⟩",
        theorem=None,
    ),
    Honest(
        "namespace",
        "namespace A.B\n\ntheorem t : 1 + 1 = 2 := by\n  sorry\n\nend A.B\n",
        "rfl",
    ),
    Honest(
        "section-variable",
        "section\n\nvariable (n : Nat)\n\ntheorem t : n + 0 = n := by\n  sorry\n\nend\n",
        "simp",
    ),
    Honest(
        "after-other-declarations",
        "theorem helper : 2 = 2 := rfl\n\n"
        "/-- The target. -/\ntheorem t : 2 = 2 ∧ 1 = 1 := by\n  sorry\n\n"
        "theorem later : 3 = 3 := rfl\n",
        "exact ⟨helper, rfl⟩",
    ),
    Honest(
        "partial-proof",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · exact hp\n  · sorry\n",
        "exact hq",
    ),
    Honest(
        "partial-proof-multiline",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ (p ∧ q) := by\n"
        "  constructor\n  · exact hp\n  · sorry\n",
        "constructor\n· exact hp\n· exact hq",
    ),
    Honest(
        "several-sorries-whole-body-term",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · sorry\n  · sorry\n",
        "⟨hp, hq⟩",
        whole_body=True,
    ),
    Honest(
        "several-sorries-whole-body-tactic",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · sorry\n  · sorry\n",
        "by\n  constructor\n  · exact hp\n  · exact hq",
        whole_body=True,
    ),
    # Issue 19: each hole filled in place, the user's partial proof kept.
    Honest(
        "several-sorries-each-hole",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · -- the left part\n    sorry\n  · sorry\n",
        ["exact hp", "exact hq"],
    ),
    Honest(
        "several-sorries-term-and-tactic",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q ∧ p := ⟨sorry, by\n  constructor\n"
        "  · sorry\n  · exact hp⟩\n",
        ["hp", "exact hq"],
    ),
    Honest(
        "several-sorries-multiline-parts",
        "theorem t (p q : Prop) (hp : p) (hq : q) : (p ∧ q) ∧ (q ∧ p) := by\n"
        "  constructor\n  · sorry\n  · sorry\n",
        ["constructor\n· exact hp\n· exact hq", "exact ⟨hq,\n  hp⟩"],
    ),
    Honest("whole-body", _tactic(": 1 + 1 = 2"), "by\n  simp", whole_body=True),
    Honest(
        "attributes-on-target",
        "@[simp] theorem t : 1 + 1 = 2 := by\n  sorry\n",
        "rfl",
    ),
    # --- issue 7: false rejections -----------------------------------------------------------
    Honest("open-scoped-in", _tactic(": 1 + 1 = 2"), "open scoped Classical in\nsimp"),
    Honest("aesop-unsafe-phase", _tactic(PAIR), "aesop (add unsafe 50% apply And.intro)"),
    Honest(
        "aesop-unsafe-second-rule",
        _tactic(PAIR),
        "aesop (add safe apply And.intro, unsafe 10% apply Or.inl)",
    ),
    Honest("open-in-next-line", _tactic(": 1 + 1 = 2"), "open Nat\n  in simp"),
    Honest(
        "set-option-in-next-line", _tactic(": 1 + 1 = 2"), "set_option maxRecDepth 1000\n  in simp"
    ),
    Honest(
        "open-in-prefix-on-theorem",
        "open Nat in\ntheorem t (n : Nat) : succ n = n + 1 := by\n  sorry\n",
        "rfl",
    ),
    # --- issue 12: statements and holes as Lean parses them --------------------------------------
    Honest("abs-in-statement", _tactic("(x : Int) (h : |x - 1| < 2) : |x| < 3"), "omega"),
    Honest("abs-only-type", _term(": ∀ x : Int, |x| = |-x|"), "fun x => (abs_neg x).symm"),
    Honest("abs-times", _tactic("(a b : Int) : |a * b| = |a| * |b|"), "exact abs_mul a b"),
    Honest(
        "let-in-statement",
        _tactic(": let f := fun n : Nat => n + 1; ∀ n, f n > n"),
        "intro f n\nsimp [f]",
    ),
    Honest("have-in-statement", _tactic(": have k := 3; k = 3"), "rfl"),
    Honest("default-argument", _tactic("(x : Nat) (h : x = 1 := by rfl) : x = 1"), "exact h"),
    Honest("type-default-binder", _tactic("{α : Type := Nat} (a : α) : a = a"), "rfl"),
    Honest(
        "fun-term-hole",
        _term(": ∀ n : Nat, n = n").replace(":= sorry", ":= fun n => sorry"),
        "by rfl",
    ),
    Honest(
        "match-term-hole",
        "theorem t (n : Nat) : n = n := match n with\n  | 0 => rfl\n  | k + 1 => sorry\n",
        "by rfl",
    ),
    Honest(
        "anonymous-constructor-holes",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨sorry, hq⟩\n",
        "by exact hp",
    ),
    Honest(
        "exact-fun-in-by",
        "theorem t : ∀ n : Nat, n + 0 = n := by\n  exact fun n => sorry\n",
        "by simp",
    ),
    Honest(
        "have-multiline-by",
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  have h : q ∧ p := sorry\n  exact ⟨h.2, h.1⟩\n",
        "by\n  constructor\n  · exact hq\n  · exact hp",
    ),
    Honest(
        "include-in-prefix",
        "section\nvariable (h : 1 = 1)\ninclude h in\ntheorem t : 1 + 1 = 2 := by\n  sorry\nend\n",
        "rfl",
    ),
    Honest(
        "prefix-chain-doc-attr",
        "open Nat in\nset_option maxRecDepth 1000 in\n/-- doc -/\n"
        "@[simp] theorem t : 1 + 1 = 2 := by\n  sorry\n",
        "rfl",
    ),
    Honest(
        "omit-in-prefix",
        "section\nvariable [Inhabited Nat]\nomit [Inhabited Nat] in\n"
        "theorem t : 1 = 1 := by\n  sorry\nend\n",
        "rfl",
    ),
    Honest(
        "exit-later-in-file",
        "theorem t : 1 + 1 = 2 := by\n  sorry\n\n#exit\n\ntheorem later : True := trivial\n",
        "rfl",
    ),
    Honest(
        "open-classical-file", "open Classical\n" + _tactic("(p : Prop) : p ∨ ¬p"), "exact em p"
    ),
    # --- clauses after the body (issue 22): termination_by, decreasing_by, where, arms --------
    *[
        Honest(f"clauses-{name}", file, proof, whole_body=whole)
        for name, file, proof, whole in [
            (
                "termination-decreasing-at-decl-column",
                "def g : Nat → Nat := fun _ => 0\n\n"
                "theorem t (n : Nat) : g n = 0 := by\n  sorry\n  sorry\n",
                "by\n  cases n with\n  | zero => rfl\n  | succ k => exact t k\n"
                "termination_by n\ndecreasing_by\n  simp_wf\n  omega",
                True,
            ),
            (
                "termination-decreasing-indented",
                "def g : Nat → Nat := fun _ => 0\n\n"
                "theorem t (n : Nat) : g n = 0 := by\n  sorry\n  sorry\n",
                "by\n  cases n with\n  | zero => rfl\n  | succ k => exact t k\n"
                "  termination_by n\n  decreasing_by simp_wf; omega",
                True,
            ),
            (
                "termination-after-tactic-hole",
                "def g : Nat → Nat := fun _ => 0\n\n"
                "theorem t (n : Nat) : g n = 0 := by\n  cases n\n  sorry\n",
                "all_goals first | rfl | exact t _\ntermination_by n => n",
                False,
            ),
            (
                "termination-structural-binders",
                "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n",
                "| 0 => rfl\n| k + 1 => by simp\ntermination_by structural n => n",
                True,
            ),
            (
                "termination-by-question",
                "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n",
                "by simp\ntermination_by?",
                True,
            ),
            (
                "where-helper",
                "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n",
                "aux n\nwhere\n  aux (m : Nat) : m + 0 = m := by simp",
                True,
            ),
            (
                "where-two-helpers",
                "theorem t (n : Nat) : n + 0 = n ∧ 0 + n = n := by\n  sorry\n  sorry\n",
                "⟨aux n, aux' n⟩\nwhere\n  aux (m : Nat) : m + 0 = m := by simp\n"
                "  aux' (m : Nat) : 0 + m = m := by\n    simp",
                True,
            ),
            (
                "where-doc-commented-helper",
                "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n",
                "aux n\nwhere\n  /-- The lemma, for any `m`. -/\n"
                "  aux (m : Nat) : m + 0 = m := by simp",
                True,
            ),
            (
                "where-helper-on-the-where-line",
                "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n",
                "aux n\nwhere aux (m : Nat) : m + 0 = m := by simp",
                True,
            ),
            (
                "where-after-tactics-and-termination",
                "def g : Nat → Nat := fun _ => 0\n\n"
                "theorem t (n : Nat) : g n = 0 := by\n  sorry\n  sorry\n",
                "by\n  exact aux n\ntermination_by n\nwhere\n  aux (m : Nat) : g m = 0 := rfl",
                True,
            ),
            (
                "arms-with-where",
                "theorem t : ∀ n : Nat, n + 0 = n := by\n  sorry\n  sorry\n",
                "| 0 => rfl\n| k + 1 => aux (k + 1)\nwhere\n  aux (m : Nat) : m + 0 = m := by simp",
                True,
            ),
            (
                "arms-for-a-term-hole",
                "theorem t : ∀ n : Nat, n + 0 = n := sorry\n",
                "| 0 => rfl\n| k + 1 => by simp",
                False,
            ),
            (
                "helper-termination-at-decl-column",
                "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n  sorry\n",
                "go n\nwhere\n  go : Nat → n + 0 = n\n    | _ => by simp\ntermination_by x => x",
                True,
            ),
        ]
    ],
]
