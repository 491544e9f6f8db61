/-!
# Examples for the replay layer

`leanloop prove ReplayExamples.lean --model builtin:automation --replay required` proves these
with the built-in prover and writes the file only after SafeVerify replayed it. Core Lean only.
-/

namespace ReplayExamples

theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry

theorem two_plus_two : 2 + 2 = 4 := sorry

theorem and_swap (p q : Prop) (hp : p) (hq : q) : q ∧ p := by
  sorry

end ReplayExamples
