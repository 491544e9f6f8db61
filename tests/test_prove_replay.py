"""The replay layer in `prove` and `audit` (issue 13): it runs on the final file before writing,
a rejection after the text layers accepted is loud and keeps the proof, and `--replay required`
without the tool is a setup error before any model call."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.fake_safe_verify import install_lean, install_safe_verify
from doubles.openai_server import ScriptedOpenAIServer
from test_replay import _project

KEY = {"MISTRAL_API_KEY": "test-key"}
SOURCE = "theorem two : 1 + 1 = 2 := by\n  sorry\n"


@pytest.fixture
def project(fake_lean: FakeLean, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Lake project with SafeVerify built; the fake toolchain handles `lean -o`."""
    bin_dir = tmp_path / "bin"
    install_lean(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "proj"
    _project(root)
    install_safe_verify(
        root / ".lake" / "packages" / "SafeVerify" / ".lake" / "build" / "bin" / "safe_verify"
    )
    (root / "Demo.lean").write_text(SOURCE, encoding="utf-8")
    return root


def _prove(cli: RunCli, server: ScriptedOpenAIServer, root: Path, *extra: str):  # type: ignore[no-untyped-def]
    return cli(
        "prove", "Demo.lean", "--base-url", server.base_url, "--model", "m", "--samples", "1",
        "--rounds", "1", "--json", *extra, cwd=root, env=KEY,
    )  # fmt: skip


def test_a_proof_the_replay_passes_is_written(
    project: Path, openai_server: ScriptedOpenAIServer, cli: RunCli
) -> None:
    openai_server.push("```lean\ndecide\n```")
    proc = _prove(cli, openai_server, project)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["replay"] == "passed"
    assert (project / "Demo.lean").read_text("utf-8") == SOURCE.replace("sorry", "decide")


def test_a_replay_rejection_after_the_gate_accepted_is_loud_and_writes_nothing(
    project: Path, openai_server: ScriptedOpenAIServer, cli: RunCli, fake_lean: FakeLean
) -> None:
    # Lean accepts `sneaky` wherever leanloop's own checks are in the file, and fails it when
    # the file is compiled alone as a module: the text layers were fooled, the replay is not.
    fake_lean.scenario(
        [
            {
                "when_regex": r"\A(?![\s\S]*leanloop_ref)[\s\S]*sneaky",
                "at": "sneaky",
                "error": "unknown tactic",
            }
        ]
    )
    openai_server.push("```lean\nsneaky\n```")
    proc = _prove(cli, openai_server, project)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["replay"] == "failed"
    assert report["replay_rejected_gate"] is True
    [target] = report["targets"]
    assert target["status"] == "failed" and "replay" in target["note"]
    assert target["proof"] == "sneaky"  # kept so the hole can be studied
    assert "hole" in proc.stderr
    assert (project / "Demo.lean").read_text("utf-8") == SOURCE


def test_replay_required_without_the_tool_stops_before_any_model_call(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    _project(root)  # SafeVerify required in the lakefile, but never built
    (root / "Demo.lean").write_text(SOURCE, encoding="utf-8")
    proc = _prove(cli, openai_server, root, "--replay", "required")
    assert proc.returncode == 2
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert "lake build safe_verify" in line
    assert openai_server.chat_requests == []
    assert (root / "Demo.lean").read_text("utf-8") == SOURCE


def test_audit_reports_the_replay(project: Path, cli: RunCli) -> None:
    (project / "Demo.lean").write_text(SOURCE.replace("sorry", "decide"), encoding="utf-8")
    proc = cli("audit", "Demo.lean", "--json", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["replay"] == "passed"
    # An unsafe helper is caught by the replay even where the file-level screen has no rule.
    (project / "Demo.lean").write_text(
        "unsafe def helper : Nat := 0\n\n" + SOURCE.replace("sorry", "decide"), encoding="utf-8"
    )
    proc = cli("audit", "Demo.lean", "--json", cwd=project)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["replay"] in ("failed", "error")
    [finding] = [f for f in data["findings"] if f["reason"] == "replay"]
    assert "helper" in finding["message"]
