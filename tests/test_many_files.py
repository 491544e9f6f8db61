"""`prove`, `check` and `audit` on several files and directories, as `lake build` users expect
(issue 20): bad paths in one sentence before any work, exit codes for the whole run, JSON for
all, and the replay notice said once, at the end, short."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
ZERO_ADD = "theorem bar (n : Nat) : 0 + n = n := by\n  sorry\n"
RIGHT = "```lean\nrfl\n```"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--model", "labs-leanstral-2603", "--samples", "1",
            *extra]  # fmt: skip


def tree(root: Path) -> None:
    """A project: two files at the top, one in a subdirectory, and build output to skip."""
    (root / "lakefile.lean").write_text("import Lake\n")
    (root / "A.lean").write_text(ADD_ZERO, encoding="utf-8")
    (root / "Sub").mkdir()
    (root / "Sub" / "B.lean").write_text(ZERO_ADD, encoding="utf-8")
    (root / ".lake" / "packages" / "dep").mkdir(parents=True)
    (root / ".lake" / "packages" / "dep" / "Dep.lean").write_text(ADD_ZERO, encoding="utf-8")


def test_prove_a_directory_proves_its_files_and_skips_build_output(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    openai_server.responder = lambda request: RIGHT
    proc = cli("prove", ".", *endpoint(openai_server), "--json", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    batch = json.loads(proc.stdout)
    assert [Path(r["file"]).as_posix() for r in batch["files"]] == ["A.lean", "Sub/B.lean"]
    assert all(r["written"] for r in batch["files"])
    assert (batch["errors"], batch["not_started"]) == ([], [])
    assert "rfl" in (tmp_path / "A.lean").read_text("utf-8")
    assert "rfl" in (tmp_path / "Sub" / "B.lean").read_text("utf-8")
    assert (tmp_path / ".lake/packages/dep/Dep.lean").read_text("utf-8") == ADD_ZERO
    assert len(openai_server.chat_requests) == 2


def test_prove_several_files_text_and_exit_1_when_one_is_not_proved(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake_lean.scenario([{"when": "simp_wrong", "error": "unsolved goals", "at": "simp_wrong"}])
    openai_server.responder = lambda request: (
        "```lean\nsimp_wrong\n```" if "0 + n" in request["messages"][-1]["content"] else RIGHT
    )
    proc = cli(
        "prove", "A.lean", "Sub/B.lean", *endpoint(openai_server, "--rounds", "1"), env=KEY_ENV
    )
    assert proc.returncode == 1, proc.stderr
    assert "A.lean:\n" in proc.stdout and "Sub/B.lean:\n" in proc.stdout
    assert "1/2 proved in 2 file(s)." in proc.stdout
    assert "rfl" in (tmp_path / "A.lean").read_text("utf-8")
    assert (tmp_path / "Sub" / "B.lean").read_text("utf-8") == ZERO_ADD


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["A.lean", "Nope.lean"], "No such file or directory: Nope.lean."),
        (["A.lean", "lakefile.lean", "notes.txt"], "notes.txt is not a Lean file"),
        (["A.lean", "empty"], "The directory empty holds no .lean files"),
        (["A.lean", "Sub/B.lean", "--output", "out.lean"], "--output takes one Lean file"),
    ],
)
def test_one_bad_path_is_one_sentence_before_any_work(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    run_cli: RunCli,
    tmp_path: Path,
    args: list[str],
    needle: str,
) -> None:
    tree(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    for command in ("prove", "check", "audit"):
        extra = endpoint(openai_server) if command == "prove" else []
        if command != "prove" and "--output" in args:
            continue
        proc = run_cli(command, *args, *extra, env=KEY_ENV)
        assert proc.returncode == 2, (command, proc.stderr)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert lines == [f"error: {lines[0].removeprefix('error: ')}"] and needle in lines[0]
        assert "Traceback" not in proc.stderr
    assert fake_lean.invocations() == [] and openai_server.chat_requests == []
    assert (tmp_path / "A.lean").read_text("utf-8") == ADD_ZERO


def test_a_file_that_cannot_be_proved_is_its_own_error(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """One file's imports are not built: that file is an error (exit 2), the others are
    proved and written."""
    tree(tmp_path)
    (tmp_path / "C.lean").write_text("import Broken\n\n" + ADD_ZERO, encoding="utf-8")
    fake_lean.scenario([{"when": "import Broken", "missing_olean": "Broken"}])
    openai_server.responder = lambda request: RIGHT
    proc = cli("prove", "C.lean", "A.lean", *endpoint(openai_server), "--json", env=KEY_ENV)
    assert proc.returncode == 2, proc.stderr
    batch = json.loads(proc.stdout)
    [error] = batch["errors"]
    assert error["file"] == "C.lean" and "Broken is not built" in error["error"]
    assert [r["file"] for r in batch["files"]] == ["A.lean"]
    assert "rfl" in (tmp_path / "A.lean").read_text("utf-8")
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: C.lean: ") and "lake build" in last


def test_a_fatal_endpoint_error_stops_before_the_next_file(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    openai_server.responder = lambda request: {"status": 401}
    proc = cli("prove", "A.lean", "Sub/B.lean", *endpoint(openai_server), "--json", env=KEY_ENV)
    assert proc.returncode == 2
    batch = json.loads(proc.stdout)
    assert batch["not_started"] == ["Sub/B.lean"]
    assert "refused the API key" in batch["files"][0]["stopped"]
    assert len(openai_server.chat_requests) == 1


def test_theorem_names_across_files(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    openai_server.responder = lambda request: RIGHT
    proc = cli("prove", ".", "-t", "bar", *endpoint(openai_server), "--json", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "A.lean").read_text("utf-8") == ADD_ZERO
    assert "rfl" in (tmp_path / "Sub" / "B.lean").read_text("utf-8")
    proc = cli("prove", ".", "-t", "nowhere", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: No theorem named `nowhere` in these files."


def test_check_several_files(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    tree(tmp_path)
    (tmp_path / "Good.lean").write_text("theorem g : True := trivial\n", encoding="utf-8")
    fake_lean.scenario([{"when": "0 + n", "error": "type mismatch", "at": "0 + n"}])
    proc = cli("check", "Good.lean", "Sub", "--json")
    assert proc.returncode == 1, proc.stderr
    batch = json.loads(proc.stdout)
    assert [Path(r["file"]).name for r in batch["files"]] == ["Good.lean", "B.lean"]
    assert [r["errors"] for r in batch["files"]] == [0, 1]
    proc = cli("check", "Good.lean", ".")  # text: each file under its name
    assert proc.returncode == 1
    assert "Good.lean:\n" in proc.stdout and "Sub/B.lean:\n" in proc.stdout
    assert cli("check", "Good.lean", "--json").returncode == 0
    assert "files" not in json.loads(cli("check", "Good.lean", "--json").stdout)  # one file


def test_audit_several_files_and_a_file_that_cannot_be_checked(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "lakefile.lean").write_text("import Lake\n")
    (tmp_path / "Good.lean").write_text("theorem g : True := trivial\n", encoding="utf-8")
    (tmp_path / "Sorry.lean").write_text(ADD_ZERO, encoding="utf-8")
    proc = cli("audit", "Good.lean", "Sorry.lean", "--json")
    assert proc.returncode == 1, proc.stderr
    batch = json.loads(proc.stdout)
    assert [len(r["findings"]) > 0 for r in batch["files"]] == [False, True]
    assert cli("audit", "Good.lean").returncode == 0
    # A file the gate cannot judge at all: `#print axioms` is an error in a module file on
    # these toolchains. That file is an error of its own (exit 2); the others are audited.
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.22.0\n")
    (tmp_path / "Mod.lean").write_text("module\n\ntheorem t : True := trivial\n")
    proc = cli("audit", ".", "--json")
    assert proc.returncode == 2, proc.stderr
    batch = json.loads(proc.stdout)
    assert [Path(e["file"]).name for e in batch["errors"]] == ["Mod.lean"]
    assert sorted(Path(r["file"]).name for r in batch["files"]) == ["Good.lean", "Sorry.lean"]
    assert proc.stderr.strip().splitlines()[-1].startswith("error: Mod.lean: ")


# ---------------------------------------------------------------------------------------------
# The replay notice: once, short, at the end, pointing at doctor


def test_prove_without_safe_verify_says_so_once_at_the_end(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    openai_server.responder = lambda request: RIGHT
    proc = cli("prove", "A.lean", "Sub/B.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    about = [ln for ln in lines if "SafeVerify" in ln]
    assert about == [lines[-1]]  # one line, the last, not the first
    assert "leanloop doctor" in about[0] and "require SafeVerify" not in proc.stderr


def test_audit_without_safe_verify_says_so_once_at_the_end(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "lakefile.lean").write_text("import Lake\n")
    (tmp_path / "Good.lean").write_text("theorem g : True := trivial\n", encoding="utf-8")
    proc = cli("audit", "Good.lean")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [ln for ln in lines if "SafeVerify" in ln] == [lines[-1]]
    assert any(ln.startswith("Running Lean on") for ln in lines[:-1])
    assert cli("audit", "Good.lean", "--replay", "off").stderr.count("SafeVerify") == 0


def test_a_problem_every_file_would_meet_is_one_sentence(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    tree(tmp_path)
    for command in ("prove", "check", "audit"):
        extra = endpoint(openai_server) if command == "prove" else []
        proc = run_cli(
            command, "A.lean", "Sub/B.lean", "--lean-cmd", "no-such-lean --json", "--json",
            *extra, env=KEY_ENV,
        )  # fmt: skip
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith("error: Lean was not found: `no-such-lean` is not on PATH")
    assert openai_server.chat_requests == []


def test_a_crash_on_every_file_stops_after_the_first(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """Lean starts, then cannot run (its executable fails to start the check): the same for
    every file, so the run stops and names the files not reached."""
    tree(tmp_path)
    broken = tmp_path / "broken-lean"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    proc = cli(
        "prove", "A.lean", "Sub/B.lean", "--lean-cmd", f"{broken} --json", "--json",
        *endpoint(openai_server), env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    batch = json.loads(proc.stdout)
    [error] = batch["errors"]
    assert error["file"] == "A.lean" and "could not be started" in error["error"]
    assert batch["not_started"] == ["Sub/B.lean"]
    assert openai_server.chat_requests == []
