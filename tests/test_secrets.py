"""Issue 14: Lean, Lake and the REPL never see the user's secrets, caged or not.

A Lean double (`hostile_lean.py --hostile=env`) crashes, naming them, when it sees any variable
whose name contains KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL, or when an allow-listed variable
it expects did not arrive; a crash is a verdict every command reports, so each command must
simply succeed."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

import pytest
from conftest import RunCli
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.lean.environment import child_environment, lean_environment, looks_secret
from leanloop.lean.sandbox import sandbox_status

HOSTILE = Path(__file__).parent / "doubles" / "hostile_lean.py"
PROVED = "theorem t : 1 + 1 = 2 := by\n  rfl\n"
HOLE = "theorem t : 1 + 1 = 2 := by\n  sorry\n"

# What a user's shell (and CI) holds: none of it may reach Lean.
SECRETS = {
    "GITHUB_TOKEN": "ghp_canary",
    "AWS_SECRET_ACCESS_KEY": "aws-canary",
    "MISTRAL_API_KEY": "mistral-canary",
    "DATABASE_PASSWORD": "db-canary",
    "GOOGLE_APPLICATION_CREDENTIALS": "/creds.json",
    # Matched by the built-in `LEAN_*` / `LAKE_*` patterns, but secret-looking.
    "LEAN_SERVER_TOKEN": "lean-canary",
    "LAKE_CACHE_KEY": "lake-canary",
    # The endpoint key of this run (`--api-key-env`), allow-listed by name below on purpose.
    "LAKE_ENDPOINT_KEY": "endpoint-canary",
}
EXPECTED = ["PATH", "HOME", "LANG", "LC_ALL", "ELAN_HOME", "LEAN_PATH", "LAKE_NO_CACHE"]


def test_the_allow_list() -> None:
    source = {
        "PATH": "/bin",
        "HOME": "/h",
        "USER": "u",
        "LANG": "C.UTF-8",
        "LC_CTYPE": "C",
        "TMPDIR": "/t",
        "ELAN_HOME": "/e",
        "ELAN_TOOLCHAIN": "stable",
        "LEAN_PATH": "/l",
        "LAKE_NO_CACHE": "1",
        "LD_LIBRARY_PATH": "/lib/x",
        "HTTPS_PROXY": "http://proxy:3128",
        "SSH_AUTH_SOCK": "/run/agent",
        "EDITOR": "vim",
        **SECRETS,
    }
    env = child_environment(source)
    assert set(env) == {
        "PATH", "HOME", "USER", "LANG", "LC_CTYPE", "TMPDIR", "ELAN_HOME", "ELAN_TOOLCHAIN",
        "LEAN_PATH", "LAKE_NO_CACHE", "LD_LIBRARY_PATH",
    }  # fmt: skip
    assert env["PATH"] == "/bin" and env["LEAN_PATH"] == "/l"
    # The user adds names (exact or patterns); a pattern still never lets a secret through.
    more = child_environment(source, extra=["HTTPS_PROXY", "SSH_*", "LAKE_CACHE_KEY"])
    assert more["HTTPS_PROXY"] == "http://proxy:3128"
    assert "SSH_AUTH_SOCK" in more
    assert more["LAKE_CACHE_KEY"] == "lake-canary"  # named exactly: the user's decision
    assert "LEAN_SERVER_TOKEN" not in more
    # The endpoint key passes under no circumstances.
    for extra in (["LAKE_ENDPOINT_KEY"], ["LAKE_*"], ["*"]):
        env = lean_environment(extra, "LAKE_ENDPOINT_KEY", source)
        assert "LAKE_ENDPOINT_KEY" not in env
    assert lean_environment(["*"], "MISTRAL_API_KEY", source).get("GITHUB_TOKEN") is None


def test_secret_looking_names() -> None:
    assert all(looks_secret(n) for n in SECRETS)
    assert not any(looks_secret(n) for n in EXPECTED)


CAGED = pytest.param(
    "required",
    marks=[
        pytest.mark.cage,
        pytest.mark.skipif(
            not sandbox_status("auto").usable, reason="bubblewrap is not usable here"
        ),
    ],
)


def _env(tmp_path: Path, sandbox: str, **more: str) -> dict[str, str | None]:
    elan = tmp_path / "elan"
    elan.mkdir(exist_ok=True)
    lib = tmp_path / "leanlib"
    lib.mkdir(exist_ok=True)
    return {
        **SECRETS,
        "ELAN_HOME": str(elan),
        "LEAN_PATH": str(lib),
        "LAKE_NO_CACHE": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LEANLOOP_SANDBOX": sandbox,
        # Allow-listing the endpoint key by name must not let it through either.
        "LEANLOOP_API_KEY_ENV": "LAKE_ENDPOINT_KEY",
        "LEANLOOP_ENV_ALLOW": "LAKE_ENDPOINT_KEY",
        **more,
    }


def _double(*extra: str) -> str:
    expect = "--hostile-expect=" + ",".join(EXPECTED)
    return shlex.join([sys.executable, str(HOSTILE), "--hostile=env", expect, *extra])


@pytest.mark.parametrize("sandbox", ["off", CAGED])
def test_check_and_audit_show_lean_no_secret(cli: RunCli, tmp_path: Path, sandbox: str) -> None:
    (tmp_path / "T.lean").write_text(PROVED)
    env = _env(tmp_path, sandbox, LEANLOOP_LEAN_CMD=_double("--json"))
    for command in ("check", "audit"):
        proc = cli(command, "T.lean", env=env)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        assert "hostile double" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("sandbox", ["off", CAGED])
def test_the_double_does_crash_on_a_secret(cli: RunCli, tmp_path: Path, sandbox: str) -> None:
    """The control: a secret the user allow-lists by name does arrive, and the double says so."""
    (tmp_path / "T.lean").write_text(PROVED)
    env = _env(tmp_path, sandbox, LEANLOOP_LEAN_CMD=_double("--json"))
    env["LEANLOOP_ENV_ALLOW"] = "GITHUB_TOKEN"
    proc = cli("check", "T.lean", env=env)
    assert proc.returncode != 0
    assert "secrets visible: GITHUB_TOKEN" in proc.stdout + proc.stderr


@pytest.mark.parametrize("sandbox", ["off", CAGED])
@pytest.mark.parametrize("backend", ["cli", "repl"])
def test_prove_shows_lean_no_secret_but_the_endpoint_gets_its_key(
    cli: RunCli,
    openai_server: ScriptedOpenAIServer,
    tmp_path: Path,
    sandbox: str,
    backend: str,
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(HOLE)
    openai_server.responder = lambda request: "```lean\nrfl\n```"
    env = _env(
        tmp_path,
        sandbox,
        LEANLOOP_LEAN_CMD=_double("--json"),
        LEANLOOP_REPL_CMD=_double("repl"),
        LEANLOOP_LEAN_WORKERS="1",
    )
    proc = cli(
        "prove", "T.lean", "--backend", backend, "--base-url", openai_server.base_url,
        "--model", "labs-leanstral-2603", "--samples", "1", "--rounds", "1", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert path.read_text() == PROVED
    # leanloop itself read the key and used it.
    assert openai_server.chat_requests[0]["headers"]["authorization"] == "Bearer endpoint-canary"
    if backend == "repl":
        proc = cli("audit", "T.lean", "--backend", "repl", env=env)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)


@pytest.mark.cage
@pytest.mark.skipif(not sandbox_status("auto").usable, reason="bubblewrap is not usable here")
def test_lakes_uncaged_set_up_gets_the_allow_listed_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before a caged run, `lake env true` sets the project up outside the cage; it gets the
    same environment as every caged process."""
    from leanloop.session import make_checker
    from leanloop.settings import Settings

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "lake-saw.txt"
    (bin_dir / "lake").write_text(f"#!/bin/sh\nenv > '{seen}'\n")
    (bin_dir / "lake").chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    (project / "lakefile.lean").write_text("import Lake\n")
    (project / "T.lean").write_text(PROVED)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LEAN_PATH", "/nowhere")
    settings = Settings(sandbox="required", api_key_env="LAKE_ENDPOINT_KEY")
    checker = make_checker(settings, project / "T.lean", print)

    async def check_once() -> None:
        try:
            await checker.check(PROVED)
        finally:
            await checker.aclose()

    asyncio.run(check_once())
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines() if "=" in line}
    assert "PATH" in names and "LEAN_PATH" in names
    assert not names & set(SECRETS), names & set(SECRETS)
