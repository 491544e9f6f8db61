"""Gate overhead per candidate without Lean: screen, splice, structure check, checked copy."""

from __future__ import annotations

import sys
import time

from _synth import synthetic_file

from leanloop.gate import checked_copy, structure_problem
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets, splice

TARGET_MS = 20.0


def main() -> int:
    doc = LeanDocument(synthetic_file(400))  # ~2,000 lines
    targets = find_targets(doc)
    policy = Policy.build()
    proof = "by\n  intro x\n  simp [Nat.add_comm] at *\n  omega"
    picks = targets[:: max(1, len(targets) // 20)]
    start = time.perf_counter()
    for t in picks:
        assert screen(proof, policy) is None
        spliced = splice(doc, t, proof)
        assert structure_problem(doc, t, spliced) is None
        checked_copy(doc, t, spliced, proof)
    ms = (time.perf_counter() - start) * 1000 / len(picks)
    print(f"{len(doc.text.splitlines())} lines, {len(picks)} candidates: {ms:.1f} ms each")
    ok = ms < TARGET_MS
    print("target met" if ok else f"target missed ({TARGET_MS} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
