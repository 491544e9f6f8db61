-- Two problems in one file: each is checked with the file up to it as its header.
theorem add_zero_right (n : Nat) : n + 0 = n := by
  sorry

theorem two_eq : 1 + 1 = 2 := sorry

/-- Already proved: not a problem. -/
theorem done_already : True := trivial
