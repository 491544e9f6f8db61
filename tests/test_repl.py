"""The warm REPL backend, against a REPL double that speaks the recorded protocol."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, RunCli
from doubles.fake_lean import FakeLean

from leanloop.gate import Reason, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.project import LeanCommand, lean_command
from leanloop.lean.repl import ReplPool, split_header
from leanloop.lean.runner import LocalExecutor
from leanloop.policy import Policy
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

FAKE_REPL = Path(__file__).parent / "doubles" / "fake_repl.py"
SOURCE = "import Init\n\nopen Nat\n\ntheorem t (α₁ : Nat) : α₁ + 0 = α₁ := by\n  sorry\n"


def _pool(tmp_path: Path, *, size: int = 1, timeout: float = 30, max_uses: int = 64) -> ReplPool:
    command = LeanCommand(argv=[sys.executable, str(FAKE_REPL)], cwd=tmp_path, project_root=None)
    return ReplPool(command, LocalExecutor(size), size=size, timeout=timeout, max_uses=max_uses)


def _starts(fake_lean: FakeLean) -> int:
    return sum(inv["argv"] == ["repl-start"] for inv in fake_lean.invocations())


def test_split_header_keeps_positions() -> None:
    header, body, lines, col = split_header(SOURCE)
    assert header == "import Init" and body.startswith("\n\nopen Nat")
    assert (lines, col) == (0, len("import Init"))
    assert split_header("theorem t : True := trivial\n")[0] == ""


async def test_one_warm_process_serves_every_check_with_the_same_imports(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    pool = _pool(tmp_path)
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    try:
        for proof in ("simp", "omega", "rfl"):
            verdict = await judge(doc, target, proof, pool, Policy.build())
            assert verdict.accepted, verdict.message
    finally:
        await pool.aclose()
    assert _starts(fake_lean) == 1
    assert len(fake_lean.checked_sources()) == 3  # three commands, on one loaded header


async def test_positions_match_the_cli_backend(fake_lean: FakeLean, tmp_path: Path) -> None:
    """An error inside the proof, after a non-ASCII name, lands on the same proof line and
    column whichever backend checked it."""
    fake_lean.scenario([{"when": "bad_tac", "error": "unsolved goals\n⊢ False", "at": "bad_tac"}])
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    proof = "intro\n  exact α₁ |>.bad_tac"
    path = tmp_path / "T.lean"
    path.write_text(SOURCE, encoding="utf-8")
    cli = CliChecker(lean_command(path, None), LocalExecutor(1), timeout=30)
    pool = _pool(tmp_path)
    try:
        by_cli = await judge(doc, target, proof, cli, Policy.build())
        by_repl = await judge(doc, target, proof, pool, Policy.build())
    finally:
        await pool.aclose()
    assert by_cli.reason is by_repl.reason is Reason.LEAN_ERROR
    assert by_cli.errors == by_repl.errors
    [err] = by_repl.errors
    assert (err.in_proof, err.line, err.column) == (True, 2, len("  exact α₁ |>."))


async def test_timeout_kills_the_repl_and_the_pool_recovers(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "slow_tac", "sleep": 60}])
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    pool = _pool(tmp_path, timeout=2)
    try:
        slow = await judge(doc, target, "slow_tac", pool, Policy.build())
        fine = await judge(doc, target, "simp", pool, Policy.build())
    finally:
        await pool.aclose()
    assert slow.reason is Reason.TIMEOUT
    assert fine.accepted
    assert _starts(fake_lean) == 2


async def test_crash_is_a_verdict_and_the_pool_recovers(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "boom_tac", "crash": True}])
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    pool = _pool(tmp_path)
    try:
        crashed = await judge(doc, target, "boom_tac", pool, Policy.build())
        fine = await judge(doc, target, "simp", pool, Policy.build())
    finally:
        await pool.aclose()
    assert crashed.reason is Reason.CRASH
    assert "Stack overflow" in crashed.message
    assert fine.accepted


async def test_processes_are_recycled_after_max_uses(fake_lean: FakeLean, tmp_path: Path) -> None:
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    pool = _pool(tmp_path, max_uses=2)
    try:
        for _ in range(3):
            assert (await judge(doc, target, "simp", pool, Policy.build())).accepted
    finally:
        await pool.aclose()
    assert _starts(fake_lean) == 2


@pytest.fixture
def example(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "lean_workspace", project / "lean_workspace")
    shutil.copy(REPO_ROOT / "lakefile.lean", project / "lakefile.lean")
    return project / "lean_workspace" / "LeanloopExamples" / "Basic.lean"


def test_prove_with_the_repl_backend(fake_lean: FakeLean, cli: RunCli, example: Path) -> None:
    env = {
        "LEANLOOP_REPL_CMD": f"{sys.executable} {FAKE_REPL}",
        "LEANLOOP_LEAN_WORKERS": "1",
    }
    proc = cli("prove", example, "--backend", "repl", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    targets = json.loads(proc.stdout)["targets"]
    assert [t["status"] for t in targets] == ["proved"] * 5
    assert _starts(fake_lean) == 1  # the baseline, every candidate and the final check
    assert "sorry" not in example.read_text("utf-8").split("-/", 1)[1].replace("`sorry`", "")


def test_unbuilt_import_stops_the_run_with_the_repl_backend(
    fake_lean: FakeLean, cli: RunCli, example: Path
) -> None:
    fake_lean.scenario([{"missing_olean": "LeanloopExamples.Basic"}])
    env = {"LEANLOOP_REPL_CMD": f"{sys.executable} {FAKE_REPL}"}
    before = example.read_bytes()
    proc = cli("prove", example, "--backend", "repl", env=env)
    assert proc.returncode == 2
    assert "lake build" in proc.stderr.strip().splitlines()[-1]
    assert example.read_bytes() == before


def test_doctor_reports_the_repl_backend(fake_lean: FakeLean, cli: RunCli) -> None:
    proc = cli(
        "doctor", "--json",
        env={"LEANLOOP_BACKEND": "repl", "LEANLOOP_REPL_CMD": "no-such-repl-binary"},
    )  # fmt: skip
    findings = {f["name"]: f for f in json.loads(proc.stdout)["findings"]}
    assert findings["backend"]["ok"] is False
    assert "no-such-repl-binary" in findings["backend"]["detail"]
    assert proc.returncode == 1
