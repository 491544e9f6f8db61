"""The core problem set: every problem has a solution, and the gate accepts each solution.

With a real toolchain the gate runs in full; without one, only the checks that need no Lean."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from leanloop.bench.problems import Problem, load
from leanloop.gate import judge, structure_problem
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import LeanDocument
from leanloop.source.targets import Target, find_targets, splice

CORE = Path(__file__).resolve().parents[2] / "benchmarks" / "core"


def _problems() -> list[Problem]:
    return load(CORE / "Core", warn=lambda m: None).problems


def _solutions() -> dict[str, str]:
    data: dict[str, str] = json.loads((CORE / "solutions.json").read_text("utf-8"))
    return data


def _target(p: Problem) -> tuple[LeanDocument, Target]:
    doc = LeanDocument(p.text)
    [target] = [t for t in find_targets(doc) if t.name == p.name]
    return doc, target


def test_every_problem_has_a_solution_that_fits_its_hole() -> None:
    problems = _problems()
    solutions = _solutions()
    assert len(problems) >= 40
    assert sorted(p.name for p in problems) == sorted(solutions)
    policy = Policy.build()
    for p in problems:
        assert "import" not in p.header, p.name  # core Lean only
        doc, target = _target(p)
        proof = solutions[p.name]
        assert screen(proof, policy) is None, p.name
        assert structure_problem(doc, target, splice(doc, target, proof)) is None, p.name


def test_solutions_are_never_in_the_problems() -> None:
    for file in (CORE / "Core").glob("*.lean"):
        assert "solution" not in file.read_text("utf-8").lower()


@pytest.mark.lean
def test_the_gate_accepts_every_solution_with_real_lean(tmp_path: Path) -> None:
    from leanloop.session import make_checker
    from leanloop.settings import Settings

    settings = Settings(sandbox="off", timeout=120)
    checker = make_checker(settings, tmp_path / "Check.lean")
    solutions = _solutions()
    policy = Policy.build()

    async def check_all() -> dict[str, str]:
        rejected = {}
        try:
            for p in _problems():
                doc, target = _target(p)
                verdict = await judge(doc, target, solutions[p.name], checker, policy)
                if not verdict.accepted:
                    rejected[p.name] = verdict.message
        finally:
            await checker.aclose()
        return rejected

    assert asyncio.run(check_all()) == {}
