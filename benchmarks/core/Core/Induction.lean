/-! Core-only induction on naturals and lists, over definitions of our own. -/

def double : Nat → Nat
  | 0 => 0
  | n + 1 => double n + 2

theorem core_double_eq (n : Nat) : double n = 2 * n := by
  sorry

def myLength : List Nat → Nat
  | [] => 0
  | _ :: t => myLength t + 1

theorem core_my_length_eq (l : List Nat) : myLength l = l.length := by
  sorry

def myAppend : List Nat → List Nat → List Nat
  | [], l => l
  | h :: t, l => h :: myAppend t l

theorem core_my_append_length (a b : List Nat) :
    (myAppend a b).length = a.length + b.length := by
  sorry

theorem core_my_append_nil (a : List Nat) : myAppend a [] = a := by
  sorry

theorem core_pow_two_pos (n : Nat) : 0 < 2 ^ n := by
  sorry

def countdown : Nat → List Nat
  | 0 => []
  | n + 1 => n :: countdown n

theorem core_countdown_length (n : Nat) : (countdown n).length = n := by
  sorry
