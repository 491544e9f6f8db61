"""Never lose verified work: a fatal endpoint error, an unwritable report or Ctrl-C mid-run.

A fatal error stops new work, then the proofs already accepted go through the whole-file check
and are written; the report and the summary say what was kept and why the run stopped (exit 2).
Ctrl-C writes nothing (exit 130) and says which verified proofs were not written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

TWO = (
    "theorem a (n : Nat) : n + 0 = n := by\n  sorry\n\n"
    "theorem b (n : Nat) : 0 + n = n := by\n  sorry\n"
)
A_PROVED = TWO.replace("n + 0 = n := by\n  sorry", "n + 0 = n := by\n  rfl")
RIGHT = "```lean\nrfl\n```"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    # One attempt at a time, so that `a` (first in the file) is asked first.
    return [
        "--base-url", server.base_url, "--model", "labs-leanstral-2603",
        "--concurrency", "1", "--samples", "1", *extra,
    ]  # fmt: skip


def asks_for(request: dict[str, Any], name: str) -> bool:
    users = [m["content"] for m in request["messages"] if m["role"] == "user"]
    return f"theorem {name} " in users[0].split("Prove this", 1)[-1]


@pytest.mark.parametrize(
    ("fatal", "env", "words"),
    [
        ({"status": 401}, {}, ["refused the API key (401)", "MISTRAL_API_KEY"]),
        (
            {"status": 503, "content": "upstream model crashed", "headers": {"Retry-After": "0"}},
            {"LEANLOOP_MAX_RETRIES": "1"},
            ["kept failing (503)", "upstream model crashed"],
        ),
        (
            {"status": 429, "headers": {"Retry-After": "0"}},
            {"LEANLOOP_MAX_RETRIES": "0"},
            ["kept failing (429)"],
        ),
    ],
    ids=["401", "503-after-retries", "429"],
)
def test_fatal_endpoint_error_keeps_the_proofs_already_verified(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    run_cli: RunCli,
    tmp_path: Path,
    fatal: dict[str, Any],
    env: dict[str, str],
    words: list[str],
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(TWO, encoding="utf-8")
    openai_server.responder = lambda request: RIGHT if asks_for(request, "a") else fatal
    proc = run_cli(
        "prove", "T.lean", *endpoint(openai_server), "--report", "r.json", env={**KEY_ENV, **env}
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    # the verified proof of `a` went through the whole-file check and was written
    assert path.read_text("utf-8") == A_PROVED
    sources = fake_lean.checked_sources()
    assert any("n + 0 = n := by\n  rfl" in s and "0 + n = n := by\n  sorry" in s for s in sources)
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["written"] == "T.lean"
    for word in words:
        assert word in report["stopped"]
    a, b = report["targets"]
    assert (a["name"], a["status"], a["proof"]) == ("a", "proved", "rfl")
    assert (b["name"], b["status"]) == ("b", "stopped")
    # the summary names what was kept and why the run stopped; the reason is the last line
    assert "1/2 proved" in proc.stdout
    assert "Wrote the verified proofs to T.lean: a." in proc.stdout
    assert "The run stopped early (1 target(s) not finished)" in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    for word in words:
        assert word in last


def test_fatal_error_before_anything_was_proved_writes_nothing(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(TWO, encoding="utf-8")
    openai_server.responder = lambda request: {"status": 401}
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--json", env=KEY_ENV)
    assert proc.returncode == 2
    assert path.read_text("utf-8") == TWO
    report = json.loads(proc.stdout)
    assert report["written"] is None
    assert [t["status"] for t in report["targets"]] == ["stopped", "stopped"]
    assert len(openai_server.chat_requests) == 1  # the stop is immediate: `b` is never asked


@pytest.fixture
def immutable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory that becomes immutable on demand (``chattr +i`` stops root too)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    d = tmp_path / "reports"
    d.mkdir()
    probe = subprocess.run(["chattr", "+i", str(d)], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {probe.stderr.decode().strip()}")
    subprocess.run(["chattr", "-i", str(d)], check=True)
    try:
        yield d
    finally:
        subprocess.run(["chattr", "-i", str(d)], capture_output=True, check=False)


def test_report_that_cannot_be_written_at_the_end_keeps_the_proofs(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    immutable_dir: Path,
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(TWO, encoding="utf-8")

    def answer(request: dict[str, Any]) -> str:
        # The report's directory was fine at the start; it becomes unwritable mid-run.
        subprocess.run(["chattr", "+i", str(immutable_dir)], check=True)
        return RIGHT

    openai_server.responder = answer
    proc = cli("prove", "T.lean", *endpoint(openai_server), "--report", immutable_dir / "r.json")
    assert proc.returncode == 2
    assert path.read_text("utf-8") == A_PROVED.replace(
        "0 + n = n := by\n  sorry", "0 + n = n := by\n  rfl"
    )
    assert "2/2 proved" in proc.stdout  # the summary is still printed
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: Cannot write the report to")
    assert "Traceback" not in proc.stderr


def _interrupt_while_b_is_asked(
    openai_server: ScriptedOpenAIServer, tmp_path: Path, *extra: str
) -> tuple[int, str, str]:
    """Run prove on TWO, press Ctrl-C once `a` is proved and `b` is being asked."""
    path = tmp_path / "T.lean"
    path.write_text(TWO, encoding="utf-8")
    openai_server.responder = lambda request: (
        RIGHT if asks_for(request, "a") else {"content": RIGHT, "delay": 20}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "leanloop", "prove", "T.lean", *endpoint(openai_server), *extra],
        cwd=tmp_path,
        env={**os.environ, **KEY_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(openai_server.chat_requests) < 2:  # `a` is proved; `b` is being asked
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the second request never came"
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err
    assert path.read_text("utf-8") == TWO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T.lean"]
    return proc.returncode, out, err


def test_ctrl_c_writes_nothing_and_names_the_verified_proofs(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    code, out, err = _interrupt_while_b_is_asked(openai_server, tmp_path, "--json")
    assert code == 130, err
    last = err.strip().splitlines()[-1]
    assert "interrupted; nothing was written" in last
    assert "Verified but not written: a." in last
    report = json.loads(out)
    assert report["interrupted"] is True and report["written"] is None
    assert report["unwritten"] == ["a"]
    a, b = report["targets"]
    assert (a["status"], a["proof"]) == ("proved", "rfl")
    assert b["status"] == "stopped"


def test_ctrl_c_prints_the_unwritten_proofs_as_text_too(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    code, out, err = _interrupt_while_b_is_asked(openai_server, tmp_path)
    assert code == 130, err
    assert "Verified but not written: a." in err.strip().splitlines()[-1]
    # The proof itself, where it goes, ready to paste in.
    assert out.splitlines() == [
        "Verified but not written; paste them in, or run again:",
        "T.lean:1: a",
        "    rfl",
    ]
