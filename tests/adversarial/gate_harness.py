"""Runs the acceptance gate on one case, the way the proving loop does, against the fake Lean.

Imported by the tests in this folder (pytest puts the folder on ``sys.path``; ``tests/`` has no
``__init__.py``). Deliberately not a ``conftest.py``: other tests import ``conftest`` by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doubles.fake_lean import FakeLean

from leanloop.gate import Verdict, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import lean_command
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import Target, find_targets


@dataclass
class Judged:
    verdict: Verdict
    doc: LeanDocument
    target: Target


def pick_target(doc: LeanDocument, theorem: str | None) -> Target:
    targets = find_targets(doc, [theorem] if theorem else None)
    assert len(targets) == 1, f"the case file must have exactly one target, got {targets}"
    return targets[0]


async def judge_case(
    fake_lean: FakeLean,
    tmp_path: Path,
    file: str,
    theorem: str | None,
    proof: str | list[str],
    *,
    policy: Policy | None = None,
    lean_rules: list[dict[str, Any]] | None = None,
    whole_body: bool = False,
    timeout: float = 30.0,
) -> Judged:
    """Write ``file`` into ``tmp_path`` (no lakefile there, so Lean runs as `lean --json`),
    script the fake Lean with ``lean_rules`` and run the gate on ``proof``."""
    if lean_rules:
        fake_lean.scenario(list(lean_rules))
    path = tmp_path / "Case.lean"
    path.write_text(file, encoding="utf-8")
    doc = LeanDocument(file)
    target = pick_target(doc, theorem)
    command = lean_command(path, None)
    assert command.argv == ["lean", "--json"]
    checker = CliChecker(command, LocalExecutor(2), timeout=timeout)
    verdict = await judge(
        doc, target, proof, checker, policy or Policy.build(), whole_body=whole_body
    )
    return Judged(verdict, doc, target)
