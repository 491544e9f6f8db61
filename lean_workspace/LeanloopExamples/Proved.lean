/-!
# Finished proofs

`leanloop audit` should find nothing here: no `sorry`, only the standard axioms.
-/

namespace LeanloopExamples.Proved

theorem add_comm' (a b : Nat) : a + b = b + a := Nat.add_comm a b

theorem and_comm' (p q : Prop) : p ∧ q → q ∧ p := by
  intro ⟨hp, hq⟩
  exact ⟨hq, hp⟩

theorem em' (p : Prop) : p ∨ ¬p := Classical.em p

end LeanloopExamples.Proved
