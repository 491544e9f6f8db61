"""The CI check for Lean repositories (`leanloop ci`)."""
