"""`doctor` agrees with `prove`: same endpoint options, the endpoint `prove` would use, a
missing path reported as such, and room for sections other parts of leanloop add."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.doctor import Diagnosis, Finding, Section, diagnose
from leanloop.settings import Settings


def findings(stdout: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in json.loads(stdout)["findings"]}


def project(tmp_path: Path) -> None:
    (tmp_path / "lakefile.lean").write_text("import Lake\n")


def test_base_url_from_the_environment_is_checked_without_a_mistral_key(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    project(tmp_path)
    proc = cli("doctor", "--json", env={"LEANLOOP_BASE_URL": openai_server.base_url})
    endpoint = findings(proc.stdout)["endpoint"]
    assert endpoint["ok"], endpoint
    assert "MISTRAL_API_KEY is not set" not in endpoint["detail"]
    assert openai_server.base_url in endpoint["detail"]
    assert "labs-leanstral-2603" in endpoint["detail"]
    assert proc.returncode == 0
    # `prove` sends the same placeholder key to a self-hosted server
    assert openai_server.requests[-1]["headers"]["authorization"] == "Bearer none"


def test_doctor_takes_the_endpoint_options_of_prove(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    project(tmp_path)
    proc = cli(
        "doctor", "--json", "--base-url", openai_server.base_url, "--model", "kimina-prover",
        "--api-key-env", "MY_KEY", env={"MY_KEY": "secret"},
    )  # fmt: skip
    endpoint = findings(proc.stdout)["endpoint"]
    assert not endpoint["ok"]
    assert "does not list the model `kimina-prover`" in endpoint["detail"]
    assert "labs-leanstral-2603" in endpoint["detail"]  # what it does list
    assert "--model" in endpoint["fix"]
    assert openai_server.requests[-1]["headers"]["authorization"] == "Bearer secret"
    assert proc.returncode == 1


def test_unreachable_endpoint(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    project(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = cli("doctor", "--json", "--base-url", f"http://127.0.0.1:{port}/v1")
    endpoint = findings(proc.stdout)["endpoint"]
    assert not endpoint["ok"] and "cannot connect" in endpoint["detail"]
    assert proc.returncode == 1


def test_builtin_model_needs_no_endpoint(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    project(tmp_path)
    proc = cli("doctor", "--json", "--model", "builtin:automation")
    assert findings(proc.stdout)["endpoint"]["ok"]


def test_missing_path_is_reported_as_such(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    proc = cli("doctor", "--json", "Nope.lean", "--model", "builtin:automation")
    found = findings(proc.stdout)
    assert not found["path"]["ok"] and "Nope.lean does not exist" in found["path"]["detail"]
    # Lean itself is fine: it is not blamed for a missing path
    assert found["lean"]["ok"] and found["lake"]["ok"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr


def test_plain_output_of_a_missing_path(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    proc = cli("doctor", "missing-dir")
    assert "MISSING path: missing-dir does not exist" in proc.stdout
    assert "ok  lean:" in proc.stdout


async def test_extra_sections_are_rendered_and_count(tmp_path: Path) -> None:
    async def replay(settings: Settings, where: Path) -> Section:
        return Section(
            title="replay",
            findings=[Finding(name="safe_verify", ok=False, detail="not built", fix="lake build")],
            lines=["the final file is replayed when safe_verify is found"],
        )

    result = await diagnose(
        Settings(model="builtin:automation", sandbox="off"), tmp_path, extra=[replay]
    )
    assert not result.ok
    text = result.render()
    assert "\nreplay:\nMISSING safe_verify: not built\n        -> lake build\n" in text
    assert text.endswith("    the final file is replayed when safe_verify is found")
    again = Diagnosis.model_validate_json(result.model_dump_json())
    assert again.sections[0].title == "replay"


def test_lean_cmd_is_checked(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    project(tmp_path)
    proc = cli("doctor", "--json", "--model", "builtin:automation", "--lean-cmd", "nolean --json")
    found = findings(proc.stdout)
    assert not found["lean-cmd"]["ok"] and "nolean not found" in found["lean-cmd"]["detail"]
    proc = cli("doctor", "--json", "--model", "builtin:automation", "--lean-cmd", "lean --json")
    assert findings(proc.stdout)["lean-cmd"]["ok"]


# ---------------------------------------------------------------------------------------------
# issue 20: what doctor says plainly, what it flags, and what --probe asks


def test_safe_verify_missing_is_said_plainly_and_is_not_a_failure(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    project(tmp_path)
    proc = cli("doctor", "--model", "builtin:automation")
    assert proc.returncode == 0, proc.stdout
    assert "ok  replay" not in proc.stdout and "ok replay" not in proc.stdout
    [line] = [ln for ln in proc.stdout.splitlines() if " replay:" in ln]
    assert line.startswith("note replay: not set up: SafeVerify is not among the dependencies")
    assert "without SafeVerify's independent replay" in line
    # The install steps live here, not at the start of every prove or audit run.
    assert "require SafeVerify" in proc.stdout and "lake build safe_verify" in proc.stdout
    required = cli("doctor", "--model", "builtin:automation", "--replay", "required")
    assert required.returncode == 1
    assert "MISSING replay: not set up" in required.stdout


@pytest.mark.parametrize(
    ("toolchain", "ok"),
    [("leanprover/lean4:v4.22.0", True), ("leanprover/lean4:v4.19.0", False)],
)
def test_a_lean_toolchain_other_than_the_lean_on_path_is_flagged(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path, toolchain: str, ok: bool
) -> None:
    project(tmp_path)
    (tmp_path / "lean-toolchain").write_text(toolchain + "\n")
    proc = cli("doctor", "--json", "--model", "builtin:automation")
    found = findings(proc.stdout)["toolchain"]  # the double is Lean 4.22.0
    assert found["ok"] is ok
    if not ok:
        assert "asks for leanprover/lean4:v4.19.0" in found["detail"]
        assert "the Lean on PATH is 4.22.0" in found["detail"] and "elan" in found["fix"]
    assert proc.returncode == (0 if ok else 1)


def test_no_toolchain_file_no_toolchain_finding(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    project(tmp_path)
    proc = cli("doctor", "--json", "--model", "builtin:automation")
    assert "toolchain" not in findings(proc.stdout)


def test_probe_sends_one_tiny_chat_request(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    project(tmp_path)
    env = {"MISTRAL_API_KEY": "k", "LEANLOOP_BASE_URL": openai_server.base_url}
    plain = cli("doctor", "--json", env=env)
    assert findings(plain.stdout)["endpoint"]["ok"]
    assert "--probe" in findings(plain.stdout)["endpoint"]["detail"]
    assert openai_server.chat_requests == []  # nothing sent, nothing paid without --probe

    openai_server.push("OK")
    proc = cli("doctor", "--json", "--probe", env=env)
    endpoint = findings(proc.stdout)["endpoint"]
    assert endpoint["ok"] and "answered a chat request" in endpoint["detail"]
    [request] = openai_server.chat_requests
    assert request["json"]["max_tokens"] == 1 and request["json"]["model"] == "labs-leanstral-2603"


def test_probe_finds_a_key_refused_for_chat(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """The key lists models, and is refused for chat (as Mistral does for Labs models until
    they are enabled): without --probe that showed as ok."""
    project(tmp_path)
    openai_server.push({"status": 403, "content": "Labs models are not enabled"})
    env = {"MISTRAL_API_KEY": "k", "LEANLOOP_BASE_URL": openai_server.base_url}
    proc = cli("doctor", "--json", "--probe", env=env)
    endpoint = findings(proc.stdout)["endpoint"]
    assert not endpoint["ok"]
    assert "chat request failed" in endpoint["detail"] and "403" in endpoint["detail"]
    assert proc.returncode == 1
