"""The replay layer (issue 13): SafeVerify on the original and the proved file, through the
executor, with the verdicts its source describes (see tests/doubles/fake_safe_verify.py)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean
from doubles.fake_safe_verify import LAKEFILE, MANIFEST, install_lean, install_safe_verify

from leanloop.errors import ConfigError
from leanloop.lean.project import LeanCommand
from leanloop.lean.replay import (
    ReplayStatus,
    ReplayVerdict,
    SafeVerifyReplayer,
    allow_unproved,
    make_replayer,
    read_verdict,
    replay_status,
    replayer_for,
    toolchain_matches,
)
from leanloop.lean.runner import LocalExecutor, ProcessResult
from leanloop.settings import Settings

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


class RecordingExecutor:
    """A LocalExecutor that remembers every command it was given."""

    def __init__(self) -> None:
        self.inner = LocalExecutor(2)
        self.runs: list[list[str]] = []

    async def run(
        self, argv: Sequence[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> ProcessResult:
        self.runs.append(list(argv))
        return await self.inner.run(argv, cwd=cwd, timeout=timeout, env=env)

    async def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> asyncio.subprocess.Process:
        self.runs.append(list(argv))
        return await self.inner.start(argv, cwd=cwd, env=env)


class World:
    def __init__(self, root: Path, fake: FakeLean, log: Path) -> None:
        self.root = root
        self.fake = fake
        self.log = log
        self.executor = RecordingExecutor()
        self.command = LeanCommand(
            argv=["lake", "env", "lean", "--json"], cwd=root, project_root=root
        )
        self.scratch = root.parent / "scratch"
        self.warnings: list[str] = []

    @property
    def exe(self) -> Path:
        return (
            self.root
            / ".lake"
            / "packages"
            / "SafeVerify"
            / ".lake"
            / "build"
            / "bin"
            / ("safe_verify")
        )

    def settings(self, **kw: object) -> Settings:
        kw.setdefault("timeout", 60.0)
        return Settings.model_validate(kw)

    async def status(self, **kw: object) -> ReplayStatus:
        return await replay_status(self.settings(**kw), self.command, self.executor)

    async def verdict(self, original: str, proved: str, **kw: object) -> ReplayVerdict:
        settings = self.settings(**kw)
        status = await replay_status(settings, self.command, self.executor)
        replayer = make_replayer(
            settings, self.command, self.executor, status, self.scratch, self.warnings.append
        )
        assert replayer is not None, status.detail
        return await replayer.replay(original, proved, file_name="Demo.lean")

    def safe_verify_runs(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(x) for x in self.log.read_text().splitlines()]


def _project(root: Path, *, manifest: bool = True, toolchain: str = "v4.22.0") -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "lakefile.lean").write_text(LAKEFILE)
    (root / "lean-toolchain").write_text(f"leanprover/lean4:{toolchain}\n")
    if manifest:
        (root / "lake-manifest.json").write_text(json.dumps(MANIFEST))


@pytest.fixture
def world(fake_lean: FakeLean, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """A Lake project with SafeVerify built, the fake toolchain handling `lean -o`."""
    bin_dir = tmp_path / "bin"
    install_lean(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "safe_verify.jsonl"
    monkeypatch.setenv("FAKE_SAFE_VERIFY_LOG", str(log))
    root = tmp_path / "proj"
    _project(root)
    w = World(root, fake_lean, log)
    install_safe_verify(w.exe)
    return w


# ---------------------------------------------------------------------------------------------
# Verdicts


async def test_a_real_proof_passes(world: World) -> None:
    verdict = await world.verdict(ORIGINAL, PROVED)
    assert verdict.status == "passed", verdict
    assert "replay layer" in verdict.reason
    assert verdict.seconds > 0
    runs = world.safe_verify_runs()
    # The probe (two paths that do not exist) and the replay of the two compiled files.
    assert len(runs) == 2
    target, submission = runs[1]["argv"]  # type: ignore[misc]
    assert str(target).endswith(".olean") and str(submission).endswith(".olean")
    assert target != submission


async def test_a_missing_declaration_fails_and_is_named(world: World) -> None:
    proved = PROVED.replace("theorem two :", "theorem two' :")
    verdict = await world.verdict(ORIGINAL, proved)
    assert verdict.status == "failed"
    assert verdict.declarations == ["two"]
    assert "missing" in verdict.reason and "replay layer" in verdict.reason
    assert "declaration not found in submission" in verdict.detail


async def test_a_changed_statement_fails(world: World) -> None:
    proved = PROVED.replace("n + 0 = n", "0 + n = n")
    verdict = await world.verdict(ORIGINAL, proved)
    assert verdict.status == "failed"
    assert verdict.declarations == ["add_zero'"]
    assert "statement differs" in verdict.reason


async def test_a_disallowed_axiom_fails(world: World) -> None:
    proved = "axiom cheat : False\n\n" + PROVED.replace("  decide", "  exact (cheat).elim")
    verdict = await world.verdict(ORIGINAL, proved)
    assert verdict.status == "failed"
    assert "two" in verdict.declarations
    assert "axiom" in verdict.reason


async def test_a_leftover_sorry_fails_as_an_axiom(world: World) -> None:
    verdict = await world.verdict(ORIGINAL, PROVED.replace("  decide", "  sorry"))
    assert verdict.status == "failed"
    assert verdict.declarations == ["two"]


async def test_an_unsafe_declaration_fails(world: World) -> None:
    proved = "unsafe def helper : Nat := 0\n\n" + PROVED
    verdict = await world.verdict(ORIGINAL, proved)
    assert verdict.status == "failed"
    assert verdict.declarations == ["helper"]
    assert "unsafe" in verdict.reason


async def test_partial_is_refused_when_the_command_asks_for_it(world: World) -> None:
    proved = "partial def spin (n : Nat) : Nat := spin n\n\n" + PROVED
    strict = await world.verdict(
        ORIGINAL, proved, replay_cmd="lake exe safe_verify --disallow-partial"
    )
    assert strict.status == "failed"
    assert strict.declarations == ["spin"]
    assert "partial" in strict.reason
    # SafeVerify accepts `partial` without the flag: `Environment.replay` skips such constants.
    assert (await world.verdict(ORIGINAL, proved)).status == "passed"


async def test_a_kernel_replay_failure_fails(world: World) -> None:
    proved = PROVED.replace("theorem two", "set_option debug.skipKernelTC true in\ntheorem two")
    verdict = await world.verdict(ORIGINAL, proved)
    assert verdict.status == "failed"
    assert verdict.declarations == ["two"]
    assert "kernel" in verdict.reason
    assert "(kernel) declaration type mismatch" in verdict.detail


async def test_a_definition_body_is_kept_unless_it_was_sorry(world: World) -> None:
    original = "def k : Nat := 3\n\ndef g : Nat := sorry\n\ntheorem k_pos : 0 < k := by\n  sorry\n"
    honest = "def k : Nat := 3\n\ndef g : Nat := 7\n\ntheorem k_pos : 0 < k := by\n  decide\n"
    assert (await world.verdict(original, honest)).status == "passed"
    moved = honest.replace("def k : Nat := 3", "def k : Nat := 4")
    verdict = await world.verdict(original, moved)
    assert verdict.status == "failed"
    assert verdict.declarations == ["k"]
    assert "definition differs" in verdict.reason


async def test_a_proof_that_does_not_compile_as_a_module_fails(world: World) -> None:
    world.fake.scenario([{"when": "bogus_tactic", "error": "unknown tactic"}])
    verdict = await world.verdict(ORIGINAL, PROVED.replace("decide", "bogus_tactic"))
    assert verdict.status == "failed"
    assert "does not compile" in verdict.reason and "unknown tactic" in verdict.reason
    # SafeVerify itself never ran on it: only the probe did.
    assert len(world.safe_verify_runs()) == 1


async def test_an_original_that_does_not_compile_is_an_error(world: World) -> None:
    world.fake.scenario([{"when": "broken_original", "error": "unknown identifier"}])
    verdict = await world.verdict(ORIGINAL + "\n#check broken_original\n", PROVED)
    assert verdict.status == "error"
    assert "original file" in verdict.reason


async def test_a_timeout_is_an_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = world.settings()
    status = await replay_status(settings, world.command, world.executor)
    assert status.available
    monkeypatch.setenv("FAKE_SAFE_VERIFY_SLEEP", "60")
    replayer = SafeVerifyReplayer(
        world.command,
        world.executor,
        replay_argv=status.command,
        timeout=5,
        scratch_root=world.scratch,
    )
    verdict = await replayer.replay(ORIGINAL, PROVED, file_name="Demo.lean")
    assert verdict.status == "error"
    assert "did not finish within 5s" in verdict.reason
    assert verdict.seconds < 30


async def test_a_crash_is_an_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = world.settings()
    status = await replay_status(settings, world.command, world.executor)
    monkeypatch.setenv("FAKE_SAFE_VERIFY_CRASH", "1")
    replayer = make_replayer(
        settings, world.command, world.executor, status, world.scratch, world.warnings.append
    )
    assert replayer is not None
    verdict = await replayer.replay(ORIGINAL, PROVED, file_name="Demo.lean")
    assert verdict.status == "error"
    assert "crashed (exit code 134)" in verdict.reason


async def test_a_version_that_exits_0_on_failure_still_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SAFE_VERIFY_VARIANT", "exit0")
    verdict = await world.verdict(ORIGINAL, PROVED.replace("n + 0 = n", "0 + n = n"))
    assert verdict.status == "failed"
    assert verdict.declarations == ["add_zero'"]
    assert (await world.verdict(ORIGINAL, PROVED)).status == "passed"


async def test_the_2024_version_is_read_too(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SAFE_VERIFY_VARIANT", "2024")
    bad = await world.verdict(ORIGINAL, PROVED.replace("n + 0 = n", "0 + n = n"))
    assert bad.status == "failed"
    assert bad.declarations == ["add_zero'"]
    missing = await world.verdict(ORIGINAL, PROVED.replace("theorem two :", "theorem two' :"))
    assert missing.status == "failed" and missing.declarations == ["two"]
    assert (await world.verdict(ORIGINAL, PROVED)).status == "passed"


async def test_a_file_proved_in_part_passes_only_for_the_sorry_it_keeps(world: World) -> None:
    # `two` keeps its sorry on purpose (ci proves one target at a time).
    partly = PROVED.replace("  decide", "  sorry")
    verdict = await world.verdict(ORIGINAL, partly)
    assert verdict.status == "failed"
    assert allow_unproved(verdict, {"two"}).status == "passed"
    assert allow_unproved(verdict, {"add_zero'"}).status == "failed"
    # A proof that leans on the unproved theorem carries its sorry too: not excused.
    leaning = partly + "\ntheorem three : 1 + 1 = 2 := two\n"
    original = ORIGINAL + "\ntheorem three : 1 + 1 = 2 := by\n  sorry\n"
    assert allow_unproved(await world.verdict(original, leaning), {"two"}).status == "failed"
    # A real problem next to the kept sorry is not excused either.
    changed = partly.replace("n + 0 = n", "0 + n = n")
    assert allow_unproved(await world.verdict(ORIGINAL, changed), {"two"}).status == "failed"


async def test_the_2024_version_does_not_list_axioms_so_nothing_is_excused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SAFE_VERIFY_VARIANT", "2024")
    verdict = await world.verdict(ORIGINAL, PROVED.replace("  decide", "  sorry"))
    assert verdict.status == "failed"
    assert allow_unproved(verdict, {"two"}).status == "failed"


async def test_scratch_files_are_removed(world: World) -> None:
    await world.verdict(ORIGINAL, PROVED)
    assert list(world.scratch.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Every process goes through the executor


async def test_every_process_goes_through_the_executor(world: World) -> None:
    await world.verdict(ORIGINAL, PROVED)
    runs = world.executor.runs
    # probe, two compiles, one SafeVerify run: nothing else was started.
    assert len(runs) == 4
    compiles = [r for r in runs if "-o" in r]
    assert len(compiles) == 2
    for argv in compiles:
        assert argv[:4] == ["lake", "env", "lean", "--json"]
        assert argv[argv.index("-o") + 1].endswith(".olean")
    logged = [inv["argv"] for inv in world.fake.invocations()]
    # Every fake `lean`/`lake` process and every SafeVerify process was one of those runs.
    assert sorted(map(tuple, logged)) == sorted(tuple(r) for r in runs)
    sv_runs = [r for r in runs if str(world.exe) in r]
    assert [r[r.index(str(world.exe)) + 1 :] for r in sv_runs] == [
        run["argv"] for run in world.safe_verify_runs()
    ]


async def test_the_tool_runs_in_the_projects_environment(world: World) -> None:
    await world.verdict(ORIGINAL, PROVED)
    sv = world.executor.runs[-1]
    # Under `lake env`, so that SafeVerify finds the imports' .olean files (its `main` calls
    # `initSearchPath`, which reads LEAN_PATH), and never `lake exe`, which would build.
    assert sv[:3] == ["lake", "env", str(world.exe)]
    assert "exe" not in sv


# ---------------------------------------------------------------------------------------------
# replay_status


async def test_status_reports_version_and_toolchain(world: World) -> None:
    status = await world.status()
    assert status.available
    assert status.lean_version == "4.22.0"
    assert status.toolchain_match is True
    assert status.version is not None and status.version.startswith("0123456789ab")
    assert status.command == ["lake", "env", str(world.exe)]
    assert "leanprover/lean4:v4.22.0" in status.summary()


async def test_status_refuses_a_tool_built_with_another_lean(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SAFE_VERIFY_LEAN", "4.21.0")
    status = await world.status()
    assert not status.available
    assert status.toolchain_match is False
    assert status.fix is not None and "lake build safe_verify" in status.fix


async def test_olean_files_from_another_lean_are_an_error_not_a_verdict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = await world.status()
    monkeypatch.setenv("FAKE_SAFE_VERIFY_LEAN", "4.21.0")  # rebuilt behind the probe's back
    replayer = SafeVerifyReplayer(
        world.command,
        world.executor,
        replay_argv=status.command,
        timeout=60,
        scratch_root=world.scratch,
    )
    verdict = await replayer.replay(ORIGINAL, PROVED, file_name="Demo.lean")
    assert verdict.status == "error"
    assert "incompatible header" in verdict.reason


async def test_status_when_required_but_not_built(world: World) -> None:
    world.exe.unlink()
    status = await world.status()
    assert not status.available
    assert status.fix is not None and "lake build safe_verify" in status.fix
    assert world.executor.runs == []  # nothing was started, nothing built


async def test_status_when_not_in_the_project(fake_lean: FakeLean, tmp_path: Path) -> None:
    root = tmp_path / "plain"
    _project(root, manifest=False)
    command = LeanCommand(argv=["lake", "env", "lean", "--json"], cwd=root, project_root=root)
    executor = RecordingExecutor()
    status = await replay_status(Settings(), command, executor)
    assert not status.available
    assert status.fix is not None and "require SafeVerify" in status.fix
    assert executor.runs == []


async def test_status_with_a_program_on_path(world: World, tmp_path: Path) -> None:
    exe = tmp_path / "elsewhere" / "safe_verify"
    install_safe_verify(exe)
    status = await world.status(replay_cmd=str(exe))
    assert status.available
    assert status.command == ["lake", "env", str(exe)]
    missing = await world.status(replay_cmd=str(tmp_path / "nope" / "safe_verify"))
    assert not missing.available


async def test_status_outside_a_lake_project(fake_lean: FakeLean, tmp_path: Path) -> None:
    exe = tmp_path / "tool" / "bin" / "safe_verify"
    install_safe_verify(exe)
    command = LeanCommand(argv=["lean", "--json"], cwd=tmp_path, project_root=None)
    executor = RecordingExecutor()
    lake_exe = await replay_status(Settings(), command, executor)
    assert not lake_exe.available and "Lake project" in lake_exe.detail
    direct = await replay_status(Settings(replay_cmd=str(exe)), command, executor)
    assert direct.available
    assert direct.command == [str(exe)]  # no project: nothing to take imports from
    assert direct.toolchain_match is None  # no lean-toolchain to compare with


async def test_a_bad_replay_cmd_is_reported_not_raised(world: World) -> None:
    status = await world.status(replay_cmd="lake exe 'unclosed")
    assert not status.available and "not a valid command line" in status.detail


def test_toolchain_matching() -> None:
    assert toolchain_matches("leanprover/lean4:v4.22.0", "4.22.0") is True
    assert toolchain_matches("leanprover/lean4:v4.22.0-rc3", "4.22.0-rc3") is True
    assert toolchain_matches("leanprover/lean4:v4.22.0", "4.22.0-rc3") is False
    assert toolchain_matches("leanprover/lean4:nightly-2025-08-01", "4.23.0-nightly-2025-08-01")
    assert toolchain_matches("leanprover/lean4:v4.22.0", "4.22.0, commit abc") is None


# ---------------------------------------------------------------------------------------------
# make_replayer in each mode


def _status(available: bool) -> ReplayStatus:
    return ReplayStatus(
        available=available,
        command=["lake", "env", "/x/safe_verify"] if available else [],
        version=None,
        toolchain_match=None,
        detail="SafeVerify is not among the dependencies of the project at /p"
        if not available
        else "ok",
        fix=None if available else "add `require SafeVerify …` and run `lake build safe_verify`",
        missing=not available,
    )


def _cmd(tmp_path: Path) -> LeanCommand:
    return LeanCommand(argv=["lake", "env", "lean", "--json"], cwd=tmp_path, project_root=tmp_path)


def test_off_returns_none_and_says_nothing(tmp_path: Path) -> None:
    warned: list[str] = []
    for available in (True, False):
        got = make_replayer(
            Settings(replay="off"),
            _cmd(tmp_path),
            LocalExecutor(1),
            _status(available),
            tmp_path,
            warned.append,
        )
        assert got is None
    assert warned == []


def test_auto_without_the_tool_warns_once(tmp_path: Path) -> None:
    warned: list[str] = []
    got = make_replayer(
        Settings(replay="auto"),
        _cmd(tmp_path),
        LocalExecutor(1),
        _status(False),
        tmp_path,
        warned.append,
    )
    assert got is None
    assert len(warned) == 1
    (text,) = warned
    # One short line that points at doctor; the install steps are doctor's to give.
    assert "\n" not in text and text.endswith(".") and text.count(". ") == 0
    assert "SafeVerify is not set up here" in text and "leanloop doctor" in text
    assert "require SafeVerify" not in text and len(text) < 130


def test_auto_with_the_tool_replays(tmp_path: Path) -> None:
    warned: list[str] = []
    got = make_replayer(
        Settings(replay="auto"),
        _cmd(tmp_path),
        LocalExecutor(1),
        _status(True),
        tmp_path,
        warned.append,
    )
    assert isinstance(got, SafeVerifyReplayer)
    assert warned == []


def test_required_without_the_tool_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_replayer(
            Settings(replay="required"),
            _cmd(tmp_path),
            LocalExecutor(1),
            _status(False),
            tmp_path,
            lambda _: None,
        )
    assert info.value.exit_code == 2
    message = str(info.value)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0
    assert "lake build safe_verify" in message


async def test_replayer_for_off_starts_nothing(tmp_path: Path) -> None:
    executor = RecordingExecutor()
    got = await replayer_for(
        Settings(replay="off"), _cmd(tmp_path), executor, tmp_path, lambda _: None
    )
    assert got is None and executor.runs == []


async def test_replayer_for_required_without_the_tool_raises(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    root = tmp_path / "plain"
    _project(root, manifest=False)
    command = LeanCommand(argv=["lake", "env", "lean", "--json"], cwd=root, project_root=root)
    with pytest.raises(ConfigError, match="require SafeVerify"):
        await replayer_for(
            Settings(replay="required"), command, RecordingExecutor(), tmp_path, lambda _: None
        )


# ---------------------------------------------------------------------------------------------
# Reading output that the doubles do not produce


def _proc(stdout: str = "", stderr: str = "", code: int | None = 1) -> ProcessResult:
    return ProcessResult(
        argv=["safe_verify"],
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        timed_out=False,
        seconds=0.1,
    )


def test_lean4checker_kernel_text_is_a_failure() -> None:
    # The exception text lean4checker's CI expects for a kernel rejection (its tests/ script),
    # which SafeVerify's `Environment.replay` raises the same way.
    stderr = (
        "Replaying t.olean\nFinished setting up the environment.\n"
        "Finished replay. Found 1 declarations.\nReplaying s.olean\n"
        "Finished setting up the environment.\n"
        "uncaught exception: (kernel) declaration type mismatch, 'false' has type\n"
        "  Prop\nbut it is expected to have type\n  False\n"
    )
    verdict = read_verdict(
        _proc(stderr=stderr), target=Path("t.olean"), submission=Path("s.olean"), timeout=9
    )
    assert verdict.status == "failed"
    assert verdict.declarations == ["false"]
    assert "but it is expected to have type" in verdict.detail


def test_an_exception_while_replaying_the_original_is_an_error() -> None:
    stderr = "Replaying t.olean\nuncaught exception: unsafe constant helper detected\n"
    verdict = read_verdict(
        _proc(stderr=stderr), target=Path("t.olean"), submission=Path("s.olean"), timeout=9
    )
    assert verdict.status == "error"
    assert "original file" in verdict.reason


def test_no_verdict_is_not_a_pass() -> None:
    verdict = read_verdict(
        _proc(stdout="hello\n", code=0), target=Path("t"), submission=Path("s"), timeout=9
    )
    assert verdict.status == "error"


def test_detail_is_bounded() -> None:
    stderr = (
        "".join(
            f"Found a problem in s.olean with declaration d{i}: theorem type mismatch\n"
            for i in range(500)
        )
        + "uncaught exception: SafeVerify check failed.\n"
    )
    verdict = read_verdict(_proc(stderr=stderr), target=Path("t"), submission=Path("s"), timeout=9)
    assert verdict.status == "failed"
    assert len(verdict.detail) <= 2000
    assert len(verdict.declarations) == 500
    assert verdict.reason.count("d") < 100  # the reason names a few, not all


# ---------------------------------------------------------------------------------------------
# In the cage: the project is read-only there, so the .olean files must land in the scratch


@pytest.mark.cage
async def test_replay_in_the_cage(world: World, tmp_path: Path) -> None:
    from leanloop.lean.environment import lean_environment
    from leanloop.lean.sandbox import Limits, make_executor, sandbox_status

    if not sandbox_status("auto").usable:
        pytest.skip("bubblewrap is not usable here")
    scratch = tmp_path / "cage-scratch"
    scratch.mkdir()
    # The doubles' logs are outside the scratch, so read-only in the cage: they stay out.
    env = lean_environment()
    executor, status = make_executor(
        "required", 2, Limits(memory_mb=2048, cpu_seconds=60), scratch, lambda _: None, env
    )
    assert status.active
    settings = world.settings(replay="required")
    replayer = await replayer_for(settings, world.command, executor, scratch / "replay", print)
    assert replayer is not None
    assert (await replayer.replay(ORIGINAL, PROVED, file_name="Demo.lean")).status == "passed"
    bad = await replayer.replay(ORIGINAL, PROVED.replace("n + 0 = n", "0 + n = n"), file_name="D")
    assert bad.status == "failed" and bad.declarations == ["add_zero'"]
    assert not list(world.root.rglob("*.olean"))  # nothing was written into the project
