"""`leanloop check` (Lean's messages, `sorry` count, axioms) and `leanloop doctor`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

SOURCE = (
    "theorem t (α₁ : Nat) : α₁ = α₁ := sorry\n\n"
    "theorem u : True := trivial\n\n"
    "namespace N\ntheorem v (p : Prop) : p ∨ ¬p := Classical.em p\nend N\n\n"
    "example : True := sorry\n"
)


def write(tmp_path: Path, text: str = SOURCE) -> Path:
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_prints_messages_sorries_and_axioms(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario(
        [{"when": "Classical.em", "axioms": ["propext", "Classical.choice", "Quot.sound"]}]
    )
    write(tmp_path)
    proc = cli("check", "T.lean")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert "T.lean:1:8: warning: declaration uses `sorry`" in out
    assert "T.lean:9:0: warning: declaration uses `sorry`" in out
    assert (
        "0 error(s), 2 warning(s), 2 `sorry` in the code, 2 declaration(s) Lean says use `sorry`."
        in out
    )
    assert "  t (line 1): sorryAx  <- nonstandard" in out
    assert "  u (line 3): no axioms" in out
    assert "  N.v (line 6): propext, Classical.choice, Quot.sound" in out


def test_check_exits_1_on_an_error(fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path) -> None:
    fake_lean.scenario([{"when": "trivial", "error": "type mismatch", "at": "trivial"}])
    write(tmp_path)
    proc = run_cli("check", "T.lean")
    assert proc.returncode == 1
    assert f"T.lean:3:{SOURCE.splitlines()[2].index('trivial')}: error: type mismatch" in (
        proc.stdout
    )
    assert "1 error(s)" in proc.stdout


def test_check_json(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    write(tmp_path)
    proc = cli("check", "T.lean", "--json")
    assert proc.returncode == 0
    data: dict[str, Any] = json.loads(proc.stdout)
    assert (data["status"], data["errors"], data["sorries"], data["sorry_warnings"]) == (
        "ok",
        0,
        2,
        2,
    )
    assert [(t["name"], t["axioms"]) for t in data["theorems"]] == [
        ("t", ["sorryAx"]),
        ("u", []),
        ("N.v", ["propext", "Classical.choice", "Quot.sound"]),  # as real Lean reports
    ]
    # positions and file names are about the user's file, not Lean's scratch copy
    assert {m["file_name"] for m in data["messages"]} == {"T.lean"}
    assert data["messages"][0]["pos"] == {"line": 1, "column": 8}


def test_check_lean_crash_is_exit_1_with_the_reason(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"crash": True}])
    write(tmp_path)
    proc = cli("check", "T.lean")
    assert proc.returncode == 1
    assert "Lean crashed (exit code 134): Stack overflow detected. Aborting." in proc.stdout


def test_check_bad_input(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    proc = cli("check", "Missing.lean")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: No such file or directory: Missing.lean."


# ---------------------------------------------------------------------------------------------
# doctor


def findings(stdout: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in json.loads(stdout)["findings"]}


def test_doctor_finds_the_fake_toolchain(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "lakefile.lean").write_text("import Lake\n")
    proc = cli("doctor", "--json")
    found = findings(proc.stdout)
    assert found["lean"]["ok"] and "Lean (version 4.22.0" in found["lean"]["detail"]
    assert str(fake_lean.bin_dir / "lean") in found["lean"]["detail"]
    assert found["lake"]["ok"] and "Lake version 5.0.0-fake" in found["lake"]["detail"]
    assert found["project"]["ok"] and str(tmp_path) in found["project"]["detail"]
    assert found["sandbox"]["ok"]  # LEANLOOP_SANDBOX=off: a choice, not a problem
    # No key: `prove` uses the built-in prover, so that is a note, not a failure; the fix says
    # what to set for the model endpoint.
    endpoint = found["endpoint"]
    assert (endpoint["ok"], endpoint["optional"]) == (False, True)
    assert "built-in prover" in endpoint["detail"] and "MISTRAL_API_KEY" in endpoint["fix"]
    assert proc.returncode == 0, proc.stdout
    text = cli("doctor").stdout
    assert "note endpoint: MISTRAL_API_KEY is not set, so `prove` uses the built-in prover" in text
    assert "MISSING endpoint" not in text


def test_doctor_without_lean(cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = cli("doctor", "--json", env={"PATH": str(empty)})
    found = findings(proc.stdout)
    assert not found["lean"]["ok"] and not found["lake"]["ok"]
    assert "elan" in found["lean"]["fix"]
    assert not found["project"]["ok"]
    assert proc.returncode == 1


def test_doctor_checks_the_endpoint_with_the_key(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "lakefile.lean").write_text("import Lake\n")
    env = {"MISTRAL_API_KEY": "test-key", "LEANLOOP_BASE_URL": openai_server.base_url}
    proc = cli("doctor", "--json", env=env)
    assert findings(proc.stdout)["endpoint"]["ok"]
    assert proc.returncode == 0
    assert openai_server.requests[-1]["headers"]["authorization"] == "Bearer test-key"

    openai_server.models_status = 401
    proc = cli("doctor", "--json", env=env)
    endpoint = findings(proc.stdout)["endpoint"]
    assert not endpoint["ok"] and "401" in endpoint["detail"]
    assert "MISTRAL_API_KEY" in endpoint["fix"]
    assert proc.returncode == 1
