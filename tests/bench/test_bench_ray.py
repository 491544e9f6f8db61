"""`--executor ray` on a local Ray gives the same summary as the local executor.

Slower than the other bench tests (starting a local Ray takes 5 to 10 seconds), so there is
only this one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_helpers import PRICED, endpoint, lean, scripted, write_problems
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

pytest.importorskip("ray")

RIGHT = lean("rfl")
WRONG = lean("simp_wrong")
PROBLEMS = {
    "alpha": "theorem alpha (n : Nat) : n + 0 = n := by sorry",
    "beta": "theorem beta : 2 + 2 = 4 := by sorry",
    "gamma": "theorem gamma : True := by sorry",
    "delta": "theorem delta : Nat.bogus = 1 := by sorry",
}
# Measured, not scored: they differ between any two runs.
TIMING = {"wall_seconds", "model_seconds", "lean_seconds", "dropped_lines"}


def test_ray_gives_the_same_summary_as_local(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario(
        [
            {"when": "simp_wrong", "error": "unsolved goals", "at": "simp_wrong"},
            {"when": "Nat.bogus", "error": "unknown constant 'Nat.bogus'"},
        ]
    )
    data = write_problems(tmp_path / "ds", PROBLEMS)
    script = {
        "alpha": [RIGHT, WRONG, WRONG],
        "beta": [WRONG, RIGHT, RIGHT],
        "gamma": ["Here is my answer, but I could not find a proof.", WRONG, WRONG],
    }
    summaries = []
    for executor in ("local", "ray"):
        openai_server.responder = scripted(script)
        proc = run_cli(
            "bench", "run", data, *endpoint(openai_server), "--samples", "3", "--rounds", "1",
            "--k", "1,2", "--executor", executor, "--out", executor,
            "--json", env=PRICED, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        summaries.append({k: v for k, v in json.loads(proc.stdout).items() if k not in TIMING})
    local, ray = summaries
    # What Lean (the double) said when a sample ended as infra: the cause, should one appear.
    infra = {
        executor: [
            (r["problem"], r["sample"], r["note"])
            for r in map(
                json.loads, (tmp_path / executor / "attempts.jsonl").read_text().splitlines()
            )
            if r.get("outcome") == "infra"
        ]
        for executor in ("local", "ray")
    }
    assert local["outcomes"] == {"proved": 3, "wrong": 5, "no_proof": 1, "infra": 0}, infra
    assert list(local["dataset_errors"]) == ["delta"]
    assert ray == local, infra
