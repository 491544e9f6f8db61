"""`ci --fill` with the replay layer (SafeVerify double): a proof is written only after it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory
from doubles.fake_safe_verify import LAKEFILE, MANIFEST, install_lean, install_safe_verify


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


BASE = "theorem keep : True := trivial\n"
PR = BASE + "\ntheorem fresh (n : Nat) : n + 0 = n := by\n  sorry\n"


@pytest.fixture
def project(fake_lean: Any, git_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    bin_dir = tmp_path / "svbin"
    install_lean(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", "FAKE_LEAN_SCENARIO,FAKE_LEAN_LOG,FAKE_SAFE_VERIFY_*")
    g = git_repo()
    (g.root / ".gitignore").write_text(".lake/\n", encoding="utf-8")
    g.commit(
        {
            "lakefile.lean": LAKEFILE,
            "lean-toolchain": "leanprover/lean4:v4.22.0\n",
            "lake-manifest.json": json.dumps(MANIFEST),
            "Demo/A.lean": BASE,
        }
    )
    exe = g.root / ".lake" / "packages" / "SafeVerify" / ".lake" / "build" / "bin" / "safe_verify"
    install_safe_verify(exe.with_name("safe_verify_real"))
    # Crashes on a real replay when FAKE_SAFE_VERIFY_CRASH_ON_REPLAY is set; the availability
    # probe (two paths that do not exist) is answered by the double as usual.
    exe.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "if os.environ.get('FAKE_SAFE_VERIFY_CRASH_ON_REPLAY') and all(\n"
        "    os.path.exists(a) for a in sys.argv[1:3]):\n"
        "    sys.stderr.write('Stack overflow detected. Aborting.\\n')\n"
        "    sys.exit(134)\n"
        f"os.execv({str(exe.with_name('safe_verify_real'))!r}, "
        f"[{str(exe.with_name('safe_verify_real'))!r}, *sys.argv[1:]])\n",
        encoding="utf-8",
    )
    exe.chmod(0o755)
    g.branch("pr")
    g.commit({"Demo/A.lean": PR})
    return g


def _args(server: Any, out: Path) -> list[str]:
    return [
        "--base", "main", "--fill", "--report-dir", str(out), "--format", "text,json",
        "--base-url", server.base_url, "--model", "labs-leanstral-2603",
        "--samples", "1", "--rounds", "1",
    ]  # fmt: skip


def test_replayed_proof_is_written(
    project: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    openai_server.responder = lambda request: "```lean\nrfl\n```"
    log = tmp_path / "sv.jsonl"
    env = {"MISTRAL_API_KEY": "k", "FAKE_SAFE_VERIFY_LOG": str(log)}
    proc = cli("ci", project.root, *_args(openai_server, tmp_path), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "n + 0 = n := by\n  rfl\n" in (project.root / "Demo/A.lean").read_text("utf-8")
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert [t["status"] for t in report["fill"]["targets"]] == ["proved"]
    runs = [json.loads(x) for x in log.read_text("utf-8").splitlines()]
    assert len(runs) >= 2  # the availability probe, then the replay of the proved file


def test_replay_failure_keeps_the_proof_out(
    project: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    openai_server.responder = lambda request: "```lean\nrfl\n```"
    env = {"MISTRAL_API_KEY": "k", "FAKE_SAFE_VERIFY_CRASH_ON_REPLAY": "1"}
    proc = cli("ci", project.root, *_args(openai_server, tmp_path), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (project.root / "Demo/A.lean").read_text("utf-8") == PR
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    (target,) = report["fill"]["targets"]
    assert target["status"] == "failed"
    assert "replay layer" in target["note"]
    assert target["proof"] == "rfl"
