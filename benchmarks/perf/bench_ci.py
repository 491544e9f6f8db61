"""Time `leanloop ci --base main` on a synthetic repository of N Lean files with 3 changed on
a branch, with a Lean double that answers at once.

    python benchmarks/perf/bench_ci.py [--files 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEAN_DOUBLE = """#!/bin/sh
# Answers at once: no messages except one `#print axioms` answer per sentinel line.
exec {python} -c 'import sys,re,json
src=open(sys.argv[-1],encoding="utf-8").read()
for i,l in enumerate(src.splitlines(),1):
    m=re.search(r"#print axioms (?:_root_\\.)?(\\S+)",l)
    if m: print(json.dumps({{"severity":"information","pos":{{"line":i,"column":l.index("#print")}},"endPos":None,"fileName":"f","data":"\\x27%s\\x27 does not depend on any axioms"%m[1],"caption":"","kind":"[anonymous]","isSilent":False}}))
' "$@"
"""  # noqa: E501


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    args = ap.parse_args()
    from git import Actor, Repo

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        lean = bin_dir / "lean"
        lean.write_text(LEAN_DOUBLE.format(python=sys.executable), encoding="utf-8")
        lean.chmod(0o755)
        repo = Repo.init(root, initial_branch="main")
        actor = Actor("bench", "bench@example.com")
        for i in range(args.files):
            p = root / f"Lib/M{i // 100}/F{i}.lean"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"theorem t{i} : True := trivial\n", encoding="utf-8")
        repo.git.add(A=True)
        repo.index.commit("base", author=actor, committer=actor)
        repo.git.checkout("-b", "pr")
        for i in (1, args.files // 2, args.files - 1):
            p = root / f"Lib/M{i // 100}/F{i}.lean"
            p.write_text(p.read_text() + f"\ntheorem new{i} : 1 = 1 := rfl\n", encoding="utf-8")
        repo.git.add(A=True)
        repo.index.commit("pr", author=actor, committer=actor)
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LEANLOOP_SANDBOX": "off"}
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "leanloop", "ci", str(root), "--base", "main"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.perf_counter() - start
        print(proc.stdout.strip() or proc.stderr)
        print(f"{args.files} files, 3 changed: {took:.2f}s (exit {proc.returncode})")


if __name__ == "__main__":
    main()
