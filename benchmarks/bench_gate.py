"""leanloop's own CPU per candidate, excluding Lean: screen, splice, structure check, checked copy,
and reading Lean's answer (issue 8's target: under 50 ms on a 9,000-line file with 60 targets,
and flat in the number of targets)."""

from __future__ import annotations

import sys
import time

from _synth import synthetic_file

from leanloop.gate import SENTINEL_COLUMN, CheckedCopy, evaluate, prepare
from leanloop.lean.checker import LeanResult
from leanloop.lean.messages import LeanMessage
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import Target, find_targets

TARGET_MS = 50.0
PROOF = "intro x\nsimp [Nat.add_comm] at *\nomega"


def _answer(copy: CheckedCopy, target: Target) -> LeanResult:
    """What Lean says for an accepted proof: only the sentinel's answer."""
    msg = LeanMessage.model_validate(
        {
            "pos": {"line": copy.sentinel_line, "column": SENTINEL_COLUMN},
            "severity": "information",
            "data": f"'{target.check_name}' depends on axioms: [propext]",
        }
    )
    return LeanResult(status="ok", messages=[msg], exit_code=0)


def per_candidate_ms(declarations: int, sorry_every: int) -> tuple[int, int, float]:
    doc = LeanDocument(synthetic_file(declarations, sorry_every))
    targets = find_targets(doc)
    policy = Policy.build()
    start = time.process_time()
    for t in targets:
        copy = prepare(doc, t, PROOF, policy)
        assert isinstance(copy, CheckedCopy), copy
        verdict = evaluate(_answer(copy, t), copy, t, policy, doc)
        assert verdict.accepted, verdict.message
    ms = (time.process_time() - start) * 1000 / len(targets)
    return len(doc.text.splitlines()), len(targets), ms


def main() -> int:
    lines, n, ms = per_candidate_ms(1800, 30)  # ~9,000 lines, 60 targets
    print(f"{lines} lines, {n} targets: {ms:.1f} ms of CPU per candidate")
    _, n3, ms3 = per_candidate_ms(1800, 10)  # the same file with 3x the targets
    print(f"{lines} lines, {n3} targets: {ms3:.1f} ms of CPU per candidate")
    flat = ms3 < ms * 1.5 + 1
    ok = ms < TARGET_MS and flat
    print("target met" if ok else f"target missed ({TARGET_MS} ms, flat in targets)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
