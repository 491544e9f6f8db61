import Lake
open Lake DSL

-- leanloop's replay layer (SafeVerify) against real Lean and a real SafeVerify: the
-- `safeverify` job of .github/workflows/lean.yml builds this project and points the replay
-- tests (tests/test_real_replay.py) and `leanloop prove --replay required` at it.
package leanloopReplay where
  leanOptions := #[⟨`autoImplicit, false⟩]

-- A fixed SafeVerify commit. Its lakefile requires Mathlib and Cli at v4.27.0, so this
-- project's lean-toolchain is v4.27.0: SafeVerify reads only .olean files of the toolchain
-- it was built with. The workflow checks that SafeVerify's own lean-toolchain says the same.
require SafeVerify from git
  "https://github.com/GasStationManager/SafeVerify" @ "5855286fbb761a3999f414ca38a424245f5532ee"

lean_lib ReplayExamples
