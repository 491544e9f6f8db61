-- A PutnamBench-style answer hole: the problem needs an answer before a proof.
abbrev answer_solution : Nat := sorry

theorem answer_spec : answer_solution = 4 := by
  sorry

namespace Sub

theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by
  sorry

end Sub
