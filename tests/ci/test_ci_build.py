"""`ci --build`: every recorded `lake build` log parses, and a failing build is reported as one."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory

from leanloop.lean.messages import Severity, parse_lake_log


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


LOGS = Path(__file__).resolve().parent.parent / "data" / "ci"
ALL_LOGS = sorted(LOGS.glob("*.log"))


# The team's recordings sit beside the repository (`../shared`), where a checkout has them.
SHARED_LOGS = Path(__file__).resolve().parents[2].parent / "shared" / "lean-reference" / "lake"


def test_the_recorded_logs_are_kept_in_the_repository() -> None:
    assert len(ALL_LOGS) == 9


@pytest.mark.skipif(not SHARED_LOGS.is_dir(), reason=f"no recordings at {SHARED_LOGS}")
def test_every_shared_recording_is_in_the_repository() -> None:
    assert {p.name for p in SHARED_LOGS.glob("*.log")} == {p.name for p in ALL_LOGS}


@pytest.mark.parametrize("log", ALL_LOGS, ids=lambda p: p.name.split("__")[0])
def test_every_positioned_line_becomes_a_message(log: Path) -> None:
    text = log.read_text("utf-8")
    parsed = parse_lake_log(text)
    # Counted independently: lines that start with a severity and carry FILE:LINE:COL.
    starts = []
    for line in text.splitlines():
        sev, sep, rest = line.partition(": ")
        if sep and sev in ("error", "warning", "info") and ".lean:" in rest:
            file, _, pos = rest.partition(".lean:")
            ln, col, _msg = pos.split(":", 2)
            if ln.isdigit() and col.isdigit():
                starts.append((sev, file.lstrip("./") + ".lean", int(ln), int(col)))
    got = [
        ({"information": "info"}.get(m.severity.value, m.severity.value), m.file_name, m.pos.line,
         m.pos.column)
        for m in parsed.messages
    ]  # fmt: skip
    assert len(got) == len(starts)
    for (sev, file, ln, col), (gsev, gfile, gln, gcol) in zip(starts, got, strict=True):
        assert (gsev, gln, gcol) == (sev, ln, col)
        assert gfile is not None and gfile.endswith(file.split("/./")[-1].lstrip("/"))
        assert not gfile.startswith("./")
    assert parsed.succeeded == log.name.startswith("success")
    assert bool(parsed.failed_modules) == log.name.startswith("failure")


def test_known_messages() -> None:
    small = parse_lake_log(next(LOGS.glob("failure_small_unsolved_goals*")).read_text("utf-8"))
    first, second = small.messages
    assert (first.file_name, first.pos.line, first.pos.column) == (
        "LeanRV64DLEAN/RiscvSysRegs.lean", 916, 32,
    )  # fmt: skip
    assert first.data == "unknown identifier 'sys_enable_zvkb'"
    assert second.data == "unsolved goals\n⊢ False"  # the goal line continues the message
    assert small.failed_modules == ["LeanRV64DLEAN.RiscvSysRegs"]
    assert small.exit_codes == [1]
    crash = parse_lake_log(next(LOGS.glob("failure_crash*")).read_text("utf-8"))
    assert crash.exit_codes == [134]
    # The raw `info: stdout:` dump (a truncated JSON line) is not glued to the last message.
    assert all("{" not in m.data for m in crash.messages)
    sorry = parse_lake_log(next(LOGS.glob("failure_sorry_warnings*")).read_text("utf-8"))
    warnings = [m for m in sorry.messages if m.severity is Severity.WARNING]
    assert [m.data for m in warnings] == ["declaration uses 'sorry'"] * 2
    assert warnings[0].pos.line == 79075 and warnings[0].pos.column == 4


def _lake_wrapper(tmp_path: Path, fake_bin: Path, log: Path, code: int) -> Path:
    """A `lake` that prints a recorded build log for `lake build` and hands everything else to
    the Lean double's `lake`."""
    bin_dir = tmp_path / "lakebin"
    bin_dir.mkdir()
    script = bin_dir / "lake"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "if sys.argv[1:2] == ['build']:\n"
        f"    sys.stdout.write(open({str(log)!r}, encoding='utf-8').read())\n"
        f"    sys.exit({code})\n"
        f"os.execv({str(fake_bin / 'lake')!r}, [{str(fake_bin / 'lake')!r}, *sys.argv[1:]])\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir


def test_failed_build_is_reported_as_build_failure(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
    g = git_repo()
    g.commit(
        {
            "lakefile.lean": "import Lake\n",
            "LeanRV64DLEAN/RiscvSysRegs.lean": "theorem t : True := trivial\n",
        }
    )
    log = next(LOGS.glob("failure_small_unsolved_goals*"))
    wrapper = _lake_wrapper(tmp_path, fake_lean.bin_dir, log, 1)
    env = {"PATH": f"{wrapper}{os.pathsep}{os.environ['PATH']}"}
    out = tmp_path / "out"
    out.mkdir()
    proc = cli("ci", g.root, "--build", "--format", "text,json", "--report-dir", out, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((out / "leanloop-ci.json").read_text("utf-8"))
    assert data["build"]["ok"] is False
    assert data["build"]["failed_modules"] == ["LeanRV64DLEAN.RiscvSysRegs"]
    build = data["build_findings"]
    assert [(f["file"], f["line"], f["column"], f["reason"]) for f in build] == [
        ("LeanRV64DLEAN/RiscvSysRegs.lean", 916, 33, "build"),
        ("LeanRV64DLEAN/RiscvSysRegs.lean", 916, 57, "build"),
    ]
    # The file's own check found nothing: the failure is the build's, not a proof's.
    assert [f for fr in data["files"] for f in fr["findings"]] == []
    assert "lake build FAILED" in proc.stdout


def test_successful_build(fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path) -> None:
    g = git_repo()
    g.commit({"lakefile.lean": "import Lake\n", "A.lean": "theorem t : True := trivial\n"})
    proc = cli("ci", g.root, "--build", "--format", "text,json", "--report-dir", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert data["build"]["ok"] is True and data["build_findings"] == []
    assert any(inv["argv"][:2] == ["lake", "build"] for inv in fake_lean.invocations())


def _lake(tmp_path: Path, body: str) -> Path:
    bin_dir = tmp_path / "lakebin"
    bin_dir.mkdir()
    (bin_dir / "lake").write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    (bin_dir / "lake").chmod(0o755)
    return bin_dir


async def test_lakes_two_streams_are_read_as_one_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lake writes progress and messages to stdout and stderr; a message's text and the lines
    around it are read in the order Lake wrote them."""
    from leanloop.ci.build import run_build
    from leanloop.settings import Settings

    body = (
        "import sys\n"
        "def out(s, f): f.write(s + '\\n'); f.flush()\n"
        "out('\u2716 [1/2] Building A', sys.stdout)\n"
        "out('error: A.lean:3:4: unsolved goals', sys.stderr)\n"
        "out('\u22a2 False', sys.stdout)\n"
        "out('error: Lean exited with code 1', sys.stderr)\n"
        "out('Some required builds logged failures:', sys.stdout)\n"
        "out('- A', sys.stdout)\n"
        "sys.exit(1)\n"
    )
    monkeypatch.setenv("PATH", f"{_lake(tmp_path, body)}{os.pathsep}{os.environ['PATH']}")
    result = await run_build(tmp_path, Settings(), lambda _: None)
    assert (result.ok, result.exit_code) == (False, 1)
    [message] = result.log.messages
    assert (message.pos.line, message.pos.column) == (3, 4)
    assert message.data == "unsolved goals\n\u22a2 False"
    assert result.log.failed_modules == ["A"] and result.log.exit_codes == [1]


async def test_a_build_that_hangs_is_stopped_with_everything_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lake build` past its time is stopped with every Lean it started, also one that left
    Lake's process group (the race a group kill alone loses)."""
    import asyncio

    from leanloop.ci.build import run_build
    from leanloop.settings import Settings

    marker = tmp_path / "pids"
    body = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],\n"
        "                         start_new_session=True)\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "print('\u2714 [1/9] Built A', flush=True)\n"
        "time.sleep(600)\n"
    )
    monkeypatch.setenv("PATH", f"{_lake(tmp_path, body)}{os.pathsep}{os.environ['PATH']}")
    result = await asyncio.wait_for(run_build(tmp_path, Settings(), lambda _: None, timeout=2), 60)
    assert not result.ok and result.exit_code is None
    assert "did not finish within 2s" in result.excerpt
    pid = int(marker.read_text())
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state in ("Z", "X"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"Lean {pid}, started by the build, outlived it")
