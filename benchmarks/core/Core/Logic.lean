/-! Core-only logic: propositional reasoning and small puzzles. -/

theorem core_modus_ponens (p q : Prop) (hp : p) (hpq : p → q) : q := by
  sorry

theorem core_and_swap (p q : Prop) : p ∧ q ↔ q ∧ p := by
  sorry

theorem core_or_swap (p q : Prop) : p ∨ q → q ∨ p := by
  sorry

theorem core_not_not_intro (p : Prop) (hp : p) : ¬¬p := by
  sorry

theorem core_iff_refl_example (p : Prop) : p ↔ p := by
  sorry

theorem core_and_elim_right (p q r : Prop) (h : p ∧ q ∧ r) : r := by
  sorry

theorem core_and_or_distrib (p q r : Prop) : p ∧ (q ∨ r) → (p ∧ q) ∨ (p ∧ r) := by
  sorry

theorem core_exists_square : ∃ n : Nat, n * n = 49 := by
  sorry

theorem core_exists_preimage (f : Nat → Nat) (h : ∀ n, f n = n + 1) : ∃ m, f m = 5 := by
  sorry

/-- A knight always tells the truth and a knave always lies. A says "B is a knave"; B is a
knight. Then A is a knave. -/
theorem core_knights (a b : Bool) (h1 : a = !b) (h2 : b = true) : a = false := by
  sorry

/-- Exactly one of two switches is on, and the first is on: the second is off. -/
theorem core_switches (p q : Bool) (h : (p != q) = true) (hp : p = true) : q = false := by
  sorry

theorem core_bool_and_true (b : Bool) : (b && true) = b := by
  sorry

theorem core_contrapositive (p q : Prop) (h : p → q) (hq : ¬q) : ¬p := by
  sorry
