"""Scan a ~1 MB Lean file: tokens, commands, declarations and `sorry`s."""

from __future__ import annotations

import sys
import time
import tracemalloc

from _synth import synthetic_file

from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

TARGET_SECONDS = 2.0
TARGET_PEAK_MB = 200.0


def main() -> int:
    text = synthetic_file(5000)
    start = time.perf_counter()
    doc = LeanDocument(text)
    targets = find_targets(doc)
    seconds = time.perf_counter() - start
    # Memory in a second pass: tracing slows the code down several times.
    tracemalloc.start()
    find_targets(LeanDocument(text))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 1e6
    print(
        f"{len(text) / 1e6:.2f} MB, {len(doc.tokens)} tokens, {len(doc.declarations)} "
        f"declarations, {len(targets)} targets: {seconds:.2f} s, peak {peak_mb:.0f} MB"
    )
    ok = seconds < TARGET_SECONDS and peak_mb < TARGET_PEAK_MB
    print("target met" if ok else f"target missed ({TARGET_SECONDS} s, {TARGET_PEAK_MB} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
