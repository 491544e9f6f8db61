/-!
# Examples for leanloop

Each `sorry` below is a target for `leanloop prove`. They need only Lean's core library, so the
built-in prover (`--model builtin:automation`) can close them without a model endpoint.
-/

namespace LeanloopExamples

theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry

theorem two_plus_two : 2 + 2 = 4 := sorry

theorem le_succ_self (n : Nat) : n ≤ n + 1 := by
  sorry

/-- `sorry` in this comment is not a target. -/
theorem and_swap (p q : Prop) (hp : p) (hq : q) : q ∧ p := by
  sorry

end LeanloopExamples

example : (10 : Nat) - 3 = 7 := by
  sorry
