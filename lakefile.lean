import Lake
open Lake DSL

package leanloop where
  leanOptions := #[⟨`autoImplicit, false⟩]

@[default_target]
lean_lib LeanloopExamples where
  srcDir := "lean_workspace"
