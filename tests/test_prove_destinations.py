"""Every destination is checked before Lean runs or the model is asked, and the user's file is
respected: written through a symlink, its mode and owner kept, never replaced when unwritable.

Tests run as root here, where permission bits do not stop writes; ``chattr +i`` (immutable)
stops root too, and ``os.access`` reports it, so those tests use it. The permission-bit tests
run only for an ordinary user."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
PROVED = "theorem foo (n : Nat) : n + 0 = n := by\n  rfl\n"
RIGHT = "```lean\nrfl\n```"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def endpoint(server: ScriptedOpenAIServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "labs-leanstral-2603", "--samples", "1"]


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def lean_file(where: Path, text: str = ADD_ZERO) -> Path:
    path = where / "T.lean"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """``immutable(path)`` makes a file or directory unchangeable, even for root."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    marked: list[Path] = []

    def mark(path: Path) -> None:
        proc = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if proc.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {proc.stderr.decode().strip()}")
        marked.append(path)

    try:
        yield mark
    finally:
        for path in marked:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def assert_nothing_happened(
    fake_lean: FakeLean, server: ScriptedOpenAIServer, path: Path, before: bytes
) -> None:
    assert server.chat_requests == []
    assert fake_lean.invocations() == []
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# destinations


@pytest.mark.parametrize("flag", ["--output", "--report"])
def test_destination_that_is_a_directory_is_refused_first(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path, flag: str
) -> None:
    path = lean_file(tmp_path)
    (tmp_path / "out").mkdir()
    proc = cli("prove", "T.lean", flag, "out", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert flag in line and "is a directory" in line
    # With --report naming a directory the .lean file was once changed and then exit 2.
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


def test_report_in_a_system_directory_like_tmp(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    proc = cli("prove", "T.lean", "--report", "/tmp", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "--report /tmp is a directory" in one_line(proc.stderr)
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


@pytest.mark.parametrize("flag", ["--output", "--report"])
def test_destination_in_an_unwritable_directory_is_refused_first(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    immutable: Callable[[Path], None],
    flag: str,
) -> None:
    path = lean_file(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    immutable(locked)
    proc = cli("prove", "T.lean", flag, locked / "x", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert flag in line and "not writable" in line
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


def test_unwritable_file_is_refused_before_any_model_call(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    immutable: Callable[[Path], None],
) -> None:
    path = lean_file(tmp_path)
    immutable(path)
    openai_server.responder = lambda request: RIGHT
    proc = cli("prove", "T.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "T.lean is not writable" in line and "--output" in line
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())
    # it can still be proved into another file, or without writing
    out = cli("prove", "T.lean", "--output", "P.lean", *endpoint(openai_server), env=KEY_ENV)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "P.lean").read_text("utf-8") == PROVED
    dry = cli("prove", "T.lean", "--dry-run", *endpoint(openai_server), env=KEY_ENV)
    assert dry.returncode == 0, dry.stderr
    assert path.read_text("utf-8") == ADD_ZERO


def test_file_in_an_unwritable_directory_is_refused_first(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    immutable: Callable[[Path], None],
) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    path = lean_file(proj)
    immutable(proj)  # the file is writable, but the atomic replace needs the directory
    proc = cli("prove", path, *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "not writable" in one_line(proc.stderr)
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes regardless of permission bits")
def test_read_only_file_is_refused_for_an_ordinary_user(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    path.chmod(0o444)
    proc = cli("prove", "T.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "not writable" in one_line(proc.stderr)
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


def test_report_and_output_may_not_be_the_input(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    proc = cli("prove", "T.lean", "--report", "T.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "--report" in one_line(proc.stderr)
    link = tmp_path / "Link.lean"
    link.symlink_to(path)
    proc = cli("prove", "T.lean", "--output", "Link.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 2
    assert "--output must differ" in one_line(proc.stderr)
    assert_nothing_happened(fake_lean, openai_server, path, ADD_ZERO.encode())


# ---------------------------------------------------------------------------------------------
# the file itself


def test_symlinked_file_is_written_through_the_link(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    real_dir = tmp_path / "src"
    real_dir.mkdir()
    target = lean_file(real_dir)
    target.chmod(0o640)
    link = tmp_path / "Link.lean"
    link.symlink_to(target)
    openai_server.push(RIGHT)
    proc = cli("prove", "Link.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text("utf-8") == PROVED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in real_dir.iterdir()) == ["T.lean"]  # no temp file left


def test_symlinked_output_is_written_through_the_link(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    lean_file(tmp_path)
    real = tmp_path / "Real.lean"
    real.write_text("-- old\n", encoding="utf-8")
    (tmp_path / "Out.lean").symlink_to(real)
    openai_server.push(RIGHT)
    proc = cli("prove", "T.lean", "--output", "Out.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Out.lean").is_symlink()
    assert real.read_text("utf-8") == PROVED


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_owner_and_mode_are_kept(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = lean_file(tmp_path)
    os.chown(path, 4321, 4322)
    path.chmod(0o604)
    openai_server.push(RIGHT)
    proc = cli("prove", "T.lean", *endpoint(openai_server), env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4322, 0o604)
    assert path.read_text("utf-8") == PROVED


def test_new_report_gets_the_usual_mode(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    lean_file(tmp_path)
    openai_server.push(RIGHT)
    old = os.umask(0o022)
    try:
        proc = cli("prove", "T.lean", *endpoint(openai_server), "--report", "r.json")
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    # not the 0600 of a temporary file: others may read a report as they read the file
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644


def test_report_to_a_device_is_written_not_replaced(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    lean_file(tmp_path)
    openai_server.push(RIGHT)
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--report", "/dev/null")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device, not a file
    assert (tmp_path / "T.lean").read_text("utf-8") == PROVED


@pytest.fixture
def as_nobody(
    tmp_path: Path,
) -> Iterator[tuple[Path, Callable[..., subprocess.CompletedProcess[str]]]]:
    """A directory the user `nobody` can read, and a runner of `leanloop` as that user: the
    permission bits that do not stop root do stop an ordinary user."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run as another user")
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="leanloop-nobody-", dir="/tmp"))
    where.chmod(0o755)
    as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(
        [*as_user, sys.executable, "-B", "-c", "import leanloop"],
        cwd=where, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        shutil.rmtree(where, ignore_errors=True)
        why = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        pytest.skip(
            "the user nobody cannot import leanloop from this checkout or its venv (not "
            f"world-readable, e.g. a clone under a 0700 directory): {why}"
        )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*as_user, sys.executable, "-B", "-m", "leanloop", *args],
            cwd=where,
            env={**os.environ, "HOME": str(where), "MISTRAL_API_KEY": "k"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip

    try:
        yield where, run
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_permission_bits_stop_an_ordinary_user_before_anything(
    as_nobody: tuple[Path, Callable[..., subprocess.CompletedProcess[str]]],
    openai_server: ScriptedOpenAIServer,
) -> None:
    where, run = as_nobody
    path = lean_file(where)
    path.chmod(0o444)  # readable, not writable
    proc = run("prove", "T.lean", *endpoint(openai_server))
    assert proc.returncode == 2, proc.stderr
    assert "T.lean is not writable" in one_line(proc.stderr)
    # writable file, but the directory (root's, 0755) is not: the atomic replace would fail
    path.chmod(0o666)
    proc = run("prove", "T.lean", *endpoint(openai_server))
    assert proc.returncode == 2, proc.stderr
    assert "the directory" in one_line(proc.stderr) and "not writable" in proc.stderr
    # a report in a directory nobody may write
    proc = run("prove", "T.lean", "--dry-run", "--report", "r.json", *endpoint(openai_server))
    assert proc.returncode == 2
    assert "--report r.json cannot be written" in one_line(proc.stderr)
    assert openai_server.chat_requests == []
    assert path.read_text("utf-8") == ADD_ZERO
