"""A synthetic Lean file of a given size, with namespaces, comments, strings and `sorry`s."""

from __future__ import annotations


def synthetic_file(declarations: int, sorry_every: int = 3) -> str:
    parts = ["import Mathlib\n\nopen Nat\n\nnamespace Bench\n"]
    for i in range(declarations):
        parts.append(
            f"/-- Lemma {i}: a docstring that mentions sorry. -/\n"
            f"theorem lemma_{i} (n : Nat) (h₁ : n > {i}) : n + {i} ≥ {i} := by\n"
            f"  -- a comment with sorry in it\n"
            f'  have s : String := "sorry {i}"\n'
            f"  {'sorry' if i % sorry_every == 0 else 'omega'}\n\n"
        )
    parts.append("end Bench\n")
    return "".join(parts)
