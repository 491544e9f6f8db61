"""The warm REPL backend, against a REPL double that speaks the recorded protocol."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, RunCli
from doubles.fake_lean import FakeLean

from leanloop.gate import Reason, judge
from leanloop.lean.checker import CliChecker
from leanloop.lean.messages import LeanMessage
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
    assert header == "import Init" and body.startswith("open Nat\n")
    assert (lines, col) == (2, 0)
    assert split_header("import A\n  -- c\ntheorem x")[1:] == ("-- c\ntheorem x", 1, 2)
    assert split_header("theorem t : True := trivial\n") == (
        "", "theorem t : True := trivial\n", 0, 0
    )  # fmt: skip


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
    shutil.copytree(
        REPO_ROOT / "lean_workspace",
        project / "lean_workspace",
        ignore=shutil.ignore_patterns(".lake"),  # a built lean_workspace/replay holds Mathlib
    )
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


# ---------------------------------------------------------------------------------------------
# The pool against recorded sessions of the real REPL (v4.33.0-rc2 with Mathlib): the requests it
# sends must be the recorded ones, and the recorded positions must land on the right text.

REPLAY = Path(__file__).parent / "doubles" / "replay_repl.py"
RECORDED = Path(__file__).parent / "data" / "lean-reference" / "repl"


def _replay_pool(tmp_path: Path, log: Path, *, size: int = 1) -> ReplPool:
    transcripts = sorted(str(p) for p in (RECORDED / "Mathlib").glob("*.in"))
    command = LeanCommand(
        argv=[sys.executable, str(REPLAY), *transcripts], cwd=tmp_path, project_root=None
    )
    env = {**os.environ, "REPLAY_LOG": str(log)}
    return ReplPool(command, LocalExecutor(size, env=env), size=size, timeout=30)


def _at(text: str, line: int, column: int) -> int:
    """The offset of a Lean position (1-based line, code-point column) in ``text``."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column


def _span(text: str, msg: LeanMessage) -> str:
    assert msg.end_pos is not None
    return text[
        _at(text, msg.pos.line, msg.pos.column) : _at(text, msg.end_pos.line, msg.end_pos.column)
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("import Mathlib\ntheorem test : 0 < 1 := by sorry", (2, 8)),
        ("import Mathlib \t\n\n\ntheorem test : 3 = 7 := by sorry", (4, 8)),
    ],
)
async def test_recorded_positions_land_on_the_file(
    tmp_path: Path, text: str, where: tuple[int, int]
) -> None:
    log = tmp_path / "requests.log"
    pool = _replay_pool(tmp_path, log)
    try:
        result = await pool.check(text)
    finally:
        await pool.aclose()
    assert result.status == "ok", result.describe()
    [warning] = result.messages
    assert warning.is_sorry_warning
    assert (warning.pos.line, warning.pos.column) == where
    assert _span(text, warning) == "test"  # the theorem's name, as Lean reports it
    sent = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert sent[0] == {"cmd": "import Mathlib"}
    assert sent[1]["cmd"].startswith("theorem test") and sent[1]["env"] == 0


async def test_a_recorded_error_over_two_lines(tmp_path: Path) -> None:
    header = "import Mathlib.Tactic.Cases\n\n"
    text = header + "example {x : Nat} : x + 1 > x := by\n  induction' x with x hx"
    pool = _replay_pool(tmp_path, tmp_path / "requests.log")
    try:
        result = await pool.check(text)
    finally:
        await pool.aclose()
    [error] = result.errors
    assert error.data.startswith("unsolved goals\ncase zero")
    assert (error.pos.line, error.pos.column) == (3, 33)
    assert error.end_pos is not None
    assert (error.end_pos.line, error.end_pos.column) == (4, 24)
    assert _span(text, error) == "by\n  induction' x with x hx"
    assert result.exit_code == 1


async def test_a_recorded_error_after_the_first_line(tmp_path: Path) -> None:
    text = (
        "import Mathlib\nexample : 1 = 0 := by\n  cases' exists_ne 2 with n h\n  simpa [] using h _"
    )
    pool = _replay_pool(tmp_path, tmp_path / "requests.log")
    try:
        result = await pool.check(text)
    finally:
        await pool.aclose()
    [error] = result.errors
    assert error.data.startswith("don't know how to synthesize placeholder")
    assert (error.pos.line, error.pos.column) == (4, 19)
    assert _span(text, error) == "_"


async def test_one_recorded_header_serves_several_checks(tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    pool = _replay_pool(tmp_path, log)
    try:
        first = await pool.check("import Mathlib\ntheorem test : 0 < 1 := by sorry")
        second = await pool.check("import Mathlib\ntheorem foo (x : Nat) : x = x := by sorry")
    finally:
        await pool.aclose()
    assert [m.pos.column for m in first.messages + second.messages] == [8, 8]
    sent = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert [r.get("env") for r in sent] == [None, 0, 0]  # the header was loaded once


# ---------------------------------------------------------------------------------------------
# Failures of the process: named for what they are


async def test_a_slow_header_is_a_timeout_not_a_missing_lean(tmp_path: Path) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(60)"]
    command = LeanCommand(argv=silent, cwd=tmp_path, project_root=None)
    pool = ReplPool(command, LocalExecutor(1), size=1, timeout=30, header_timeout=0.5)
    try:
        result = await pool.check(SOURCE)
    finally:
        await pool.aclose()
    assert result.status == "timeout"
    assert "could not be started" not in result.describe()
    assert "repl_header_timeout" in result.describe()


async def test_a_missing_repl_is_start_failed(tmp_path: Path) -> None:
    command = LeanCommand(argv=[str(tmp_path / "no-repl")], cwd=tmp_path, project_root=None)
    pool = ReplPool(command, LocalExecutor(1), size=1, timeout=30)
    result = await pool.check(SOURCE)
    await pool.aclose()
    assert result.status == "start_failed"
    assert "no-repl" in result.excerpt


async def test_a_repl_that_exited_while_idle_is_not_handed_out(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "exit_after", "exit_idle": 0}])
    doc = LeanDocument(SOURCE)
    [target] = find_targets(doc)
    pool = _pool(tmp_path)
    try:
        for _ in range(3):
            # `exit_after` is a comment to Lean: the proof is `simp`, and the REPL exits after
            # answering, before the next check arrives.
            first = await judge(doc, target, "simp -- exit_after", pool, Policy.build())
            second = await judge(doc, target, "simp", pool, Policy.build())
            assert first.accepted and second.accepted, second.message
    finally:
        await pool.aclose()
    assert _starts(fake_lean) == 4  # a fresh process after each exit, and only then


async def test_a_message_on_the_first_line_of_the_body(fake_lean: FakeLean, tmp_path: Path) -> None:
    """The body's first line is the imports' last line when a comment follows them: columns
    there are counted from the start of the body. (Where the double puts the message is a
    position-mapping device, not a claim about what Lean reports in a comment.)"""
    fake_lean.scenario([{"when": "mark_here", "error": "boom"}])
    text = "import Init /- mark_here -/\ntheorem t : 1 = 1 := rfl\n"
    pool = _pool(tmp_path)
    try:
        result = await pool.check(text)
    finally:
        await pool.aclose()
    [error] = result.errors
    assert (error.pos.line, error.pos.column) == (1, text.index("mark_here"))
    assert _span(text, error) == "mark_here"
