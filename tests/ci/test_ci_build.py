"""`ci --build`: every recorded `lake build` log parses, and a failing build is reported as one."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory

from leanloop.ci.build import parse_lake_log
from leanloop.lean.messages import Severity


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


LOGS = Path(__file__).resolve().parent.parent / "data" / "ci"
ALL_LOGS = sorted(LOGS.glob("*.log"))


def test_all_recorded_logs_are_here() -> None:
    shared = Path("/work/shared/lean-reference/lake")
    if shared.is_dir():
        assert {p.name for p in shared.glob("*.log")} == {p.name for p in ALL_LOGS}
    assert len(ALL_LOGS) == 9


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
