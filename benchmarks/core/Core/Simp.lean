/-! Core-only `simp` lemmas about naturals and lists. -/

theorem core_add_zero_simp (n : Nat) : n + 0 = n := by
  sorry

theorem core_zero_add_simp (n : Nat) : 0 + n = n := by
  sorry

theorem core_list_length_literal : [1, 2, 3].length = 3 := by
  sorry

theorem core_list_append_literal : [1, 2] ++ [3] = [1, 2, 3] := by
  sorry

theorem core_list_reverse_literal : [1, 2, 3].reverse = [3, 2, 1] := by
  sorry

theorem core_list_mem_literal : 3 ∈ [1, 2, 3] := by
  sorry

theorem core_list_length_append (l1 l2 : List Nat) :
    (l1 ++ l2).length = l1.length + l2.length := by
  sorry

theorem core_list_reverse_reverse (l : List Nat) : l.reverse.reverse = l := by
  sorry

theorem core_list_map_id (l : List Nat) : l.map (fun x => x) = l := by
  sorry

theorem core_list_nil_append (l : List Nat) : [] ++ l = l := by
  sorry

theorem core_list_append_nil (l : List Nat) : l ++ [] = l := by
  sorry

theorem core_list_length_map (l : List Nat) (f : Nat → Nat) : (l.map f).length = l.length := by
  sorry

theorem core_list_length_reverse (l : List Nat) : l.reverse.length = l.length := by
  sorry
