"""The replay layer against the real SafeVerify (issue 13). Needs `lake` and a Lake project in
which SafeVerify is built: point ``SAFE_VERIFY_PROJECT`` at it (``require SafeVerify from git
"https://github.com/GasStationManager/SafeVerify"`` in its lakefile, then ``lake build
safe_verify``). Skipped otherwise, and wherever `lake` is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leanloop.lean.project import lean_command
from leanloop.lean.replay import ReplayVerdict, make_replayer, replay_status
from leanloop.lean.runner import LocalExecutor
from leanloop.settings import Settings

pytestmark = pytest.mark.lean

ORIGINAL = """theorem add_zero' (n : Nat) : n + 0 = n := by
  sorry

theorem two : 1 + 1 = 2 := by
  sorry
"""
PROVED = """theorem add_zero' (n : Nat) : n + 0 = n := by
  simp

theorem two : 1 + 1 = 2 := by
  decide
"""


@pytest.fixture
def project() -> Path:
    where = os.environ.get("SAFE_VERIFY_PROJECT")
    if not where:
        pytest.skip("set SAFE_VERIFY_PROJECT to a Lake project where SafeVerify is built")
    return Path(where)


async def _verdict(project: Path, tmp_path: Path, original: str, proved: str) -> ReplayVerdict:
    settings = Settings(replay="required", timeout=600)
    command = lean_command(project / "Replay.lean", None)
    executor = LocalExecutor(2)
    status = await replay_status(settings, command, executor)
    replayer = make_replayer(settings, command, executor, status, tmp_path, print)
    assert replayer is not None
    return await replayer.replay(original, proved, file_name="Replay.lean")


async def test_status_of_the_real_tool(project: Path) -> None:
    command = lean_command(project / "Replay.lean", None)
    status = await replay_status(Settings(), command, LocalExecutor(1))
    assert status.available, status.detail
    # Only the Cli versions (2025 on) print the Lean they run on.
    if status.lean_version is not None:
        assert status.toolchain_match is True


async def test_a_real_proof_passes(project: Path, tmp_path: Path) -> None:
    verdict = await _verdict(project, tmp_path, ORIGINAL, PROVED)
    assert verdict.status == "passed", (verdict.reason, verdict.detail)


async def test_a_changed_statement_fails(project: Path, tmp_path: Path) -> None:
    verdict = await _verdict(project, tmp_path, ORIGINAL, PROVED.replace("n + 0 = n", "n = n"))
    assert verdict.status == "failed", (verdict.reason, verdict.detail)
    assert "add_zero'" in verdict.declarations


async def test_a_missing_declaration_fails(project: Path, tmp_path: Path) -> None:
    verdict = await _verdict(project, tmp_path, ORIGINAL, PROVED.replace("two :", "two' :"))
    assert verdict.status == "failed", (verdict.reason, verdict.detail)
    assert "two" in verdict.declarations


async def test_an_axiom_fails(project: Path, tmp_path: Path) -> None:
    proved = "axiom cheat : False\n\n" + PROVED.replace("  decide", "  exact cheat.elim")
    verdict = await _verdict(project, tmp_path, ORIGINAL, proved)
    assert verdict.status == "failed", (verdict.reason, verdict.detail)
    assert "two" in verdict.declarations


async def test_a_leftover_sorry_fails(project: Path, tmp_path: Path) -> None:
    verdict = await _verdict(project, tmp_path, ORIGINAL, PROVED.replace("  decide", "  sorry"))
    assert verdict.status == "failed", (verdict.reason, verdict.detail)


async def test_an_unsafe_declaration_fails(project: Path, tmp_path: Path) -> None:
    proved = "unsafe def helper : Nat := 0\n\n" + PROVED
    verdict = await _verdict(project, tmp_path, ORIGINAL, proved)
    assert verdict.status == "failed", (verdict.reason, verdict.detail)
    assert "helper" in verdict.declarations
