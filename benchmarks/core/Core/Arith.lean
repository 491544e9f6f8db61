/-! Core-only arithmetic: one-liners for `rfl`, `decide` and `omega`. -/

theorem core_two_add_two : 2 + 2 = 4 := by
  sorry

theorem core_mul_small : 7 * 6 = 42 := by
  sorry

theorem core_pow_ten : 2 ^ 10 = 1024 := by
  sorry

theorem core_mod_example : 17 % 5 = 2 := by
  sorry

theorem core_div_example : 17 / 5 = 3 := by
  sorry

theorem core_max_example : max 3 7 = 7 := by
  sorry

theorem core_succ_ne_zero (n : Nat) : n + 1 ≠ 0 := by
  sorry

theorem core_add_comm_example (a b : Nat) : a + b = b + a := by
  sorry

theorem core_lt_weaken (a : Nat) (h : a < 3) : a < 5 := by
  sorry

theorem core_le_antisymm_example (a b : Nat) (h1 : a ≤ b) (h2 : b ≤ a) : a = b := by
  sorry

theorem core_sub_add_cancel_example (a b : Nat) (h : b ≤ a) : a - b + b = a := by
  sorry

theorem core_even_or_odd (n : Nat) : n % 2 = 0 ∨ n % 2 = 1 := by
  sorry

theorem core_min_le_left_example (a b : Nat) : min a b ≤ a := by
  sorry

theorem core_linear_system (x y : Nat) (h1 : x + y = 10) (h2 : x = y + 4) : x = 7 := by
  sorry
