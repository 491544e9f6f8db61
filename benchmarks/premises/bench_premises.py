"""Premise search over a synthetic tree the size of Mathlib (issue 21).

Targets: a first index under 90 s on one core (CPU time of one process, so that other load on
the machine does not count), a reload (an unchanged tree: open the index and bring it up to
date) under 1 s, a query under 50 ms (CPU time; wall time is printed beside it). The tree is
generated here (about 6,000 files, 100 MB; `--files`/`--mb` make it smaller), in a temporary
directory unless `--tree DIR` keeps it. Prints the figures, and exits non-zero when a target
is missed.

    .venv/bin/python benchmarks/premises/bench_premises.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from synth_tree import generate

from leanloop.premises import open_index

FIRST_INDEX_S = 90.0
RELOAD_S = 1.0
QUERY_MS = 50.0
QUERIES = (
    "add comm nat",
    "a + b = b + a",
    "Nat.add_comm",
    "succ le of lt",
    "x * y ≤ x * z",
    "continuous comp",
    "Finset sum card",
    "injective of surjective",
    "a ∣ b → a ∣ b * c",
    "map comp",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=6000)
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--tree", type=Path, help="keep the generated tree here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="leanloop-premises-") as tmp:
        root = args.tree or Path(tmp) / "tree"
        cache = Path(tmp) / "cache"
        if not (root / "lake-manifest.json").is_file():
            t = time.perf_counter()
            size = generate(root, files=args.files, target_bytes=int(args.mb * 1e6))
            print(
                f"generated {args.files} files, {size / 1e6:.1f} MB "
                f"in {time.perf_counter() - t:.1f} s"
            )

        index = open_index(root, cache)
        t, cpu = time.perf_counter(), time.process_time()
        stats = index.update(workers=1)
        first = time.perf_counter() - t
        first_cpu = time.process_time() - cpu
        index.close()
        print(
            f"first index (1 worker): {first:.1f} s wall, {first_cpu:.1f} s CPU; "
            f"{stats.files} files, {stats.declarations} declarations"
        )

        t = time.perf_counter()
        index = open_index(root, cache)
        again = index.update()
        reload = time.perf_counter() - t
        print(f"reload (unchanged tree): {reload * 1000:.0f} ms, {again.read} files read")

        times, cpus = [], []
        for q in QUERIES:
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                index.search(q, 10)
                times.append((time.perf_counter() - t) * 1000)
                cpus.append((time.process_time() - c) * 1000)
        worst = max(cpus)
        print(
            f"query: median {statistics.median(times):.1f} ms wall / "
            f"{statistics.median(cpus):.1f} ms CPU, worst {max(times):.1f} ms wall / "
            f"{worst:.1f} ms CPU"
        )
        by_name = [h.premise.name for h in index.search("add comm nat", 10)]
        by_shape = [h.premise.name for h in index.search("a + b = b + a", 10)]
        index.close()
        found = "Nat.add_comm" in by_name[:1] and "Nat.add_comm" in by_shape
        print(
            f"'add comm nat' -> {by_name[:3]}; 'a + b = b + a' top 10 has Nat.add_comm: "
            f"{'Nat.add_comm' in by_shape}"
        )
    ok = first_cpu < FIRST_INDEX_S and reload < RELOAD_S and worst < QUERY_MS and found
    print("targets met" if ok else "target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
