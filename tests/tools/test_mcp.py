"""`leanloop mcp` (issue 21), driven by the MCP SDK's own client over stdio against the server as a
subprocess, with the Lean double and the scripted model endpoint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

mcp = pytest.importorskip("mcp")
from mcp.client.client import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

T_LEAN = "theorem add_zero' (x : Nat) : x + 0 = x := by\n  sorry\n"
NAT = (
    "namespace Nat\n/-- Addition is commutative. -/\n"
    "protected theorem add_comm : ∀ (n m : Nat), n + m = m + n := by omega\n"
    "protected theorem add_left_comm (n m k : Nat) : n + (m + k) = m + (n + k) := by omega\n"
    "end Nat\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".lake/packages/mathlib/Mathlib").mkdir(parents=True)
    (root / ".lake/packages/mathlib/Mathlib/Nat.lean").write_text(NAT, "utf-8")
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    (root / "T.lean").write_text(T_LEAN, "utf-8")
    (tmp_path / "Secret.lean").write_text(T_LEAN, "utf-8")
    return root


def _env(tmp_path: Path, server: ScriptedOpenAIServer | None) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["LEANLOOP_REPLAY"] = "off"
    if server is not None:
        env["LEANLOOP_BASE_URL"] = server.base_url
    return env


def _client(root: Path, tmp_path: Path, server: ScriptedOpenAIServer | None = None) -> Client:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "leanloop", "mcp", str(root)],
        env=_env(tmp_path, server),
        cwd=str(root),
    )
    return Client(params, read_timeout_seconds=60)


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_lists_the_tools_with_the_models_schemas(
    fake_lean: FakeLean, root: Path, tmp_path: Path
) -> None:
    async with _client(root, tmp_path) as client:
        listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == {"check", "goals", "try_tactic", "search", "prove", "audit"}
    check = tools["check"].input_schema
    assert set(check["properties"]) == {"file", "code", "goals"}
    assert "relative to the project root" in check["properties"]["file"]["description"]
    assert tools["try_tactic"].input_schema["required"] == ["proof_state", "tactic"]
    assert tools["prove"].input_schema["properties"]["write"]["default"] is False
    assert tools["prove"].annotations.read_only_hint is False
    assert tools["goals"].annotations.read_only_hint is True
    assert "sorries" in tools["check"].output_schema["properties"]


async def test_check_goals_search_and_a_refused_path(
    fake_lean: FakeLean, root: Path, tmp_path: Path
) -> None:
    async with _client(root, tmp_path) as client:
        checked = await client.call_tool("check", {"file": "T.lean"})
        assert not checked.is_error, _text(checked)
        data = checked.structured_content
        assert [s["goal"] for s in data["sorries"]] == ["x : Nat\n⊢ x + 0 = x"]
        assert data["axioms"][0]["axioms"] == ["sorryAx"]

        goals = await client.call_tool("goals", {"code": T_LEAN})
        assert not goals.is_error, _text(goals)
        [site] = goals.structured_content["sorries"]
        step = await client.call_tool(
            "try_tactic", {"proof_state": site["proof_state"], "tactic": "simp"}
        )
        assert step.structured_content["status"] == "complete"

        found = await client.call_tool("search", {"query": "add comm nat", "limit": 3})
        assert not found.is_error, _text(found)
        hits = found.structured_content["hits"]
        assert hits[0]["name"] == "Nat.add_comm"
        assert hits[0]["docstring"] == "Addition is commutative."

        outside = await client.call_tool("check", {"file": "../Secret.lean"})
        assert outside.is_error
        assert "outside the project root" in _text(outside)
        again = await client.call_tool("check", {"file": "T.lean", "goals": False})
        assert not again.is_error
    assert not any("Secret" in str(i.get("file")) for i in fake_lean.invocations())


async def test_malformed_arguments_get_a_tool_error_and_the_server_keeps_serving(
    fake_lean: FakeLean, root: Path, tmp_path: Path
) -> None:
    async with _client(root, tmp_path) as client:
        bad = await client.call_tool("try_tactic", {"proof_state": "seven", "tactic": ""})
        assert bad.is_error
        assert "Bad arguments for `try_tactic`" in _text(bad)
        both = await client.call_tool("goals", {"file": "T.lean", "code": "x"})
        assert both.is_error and "exactly one of `file` and `code`" in _text(both)
        unknown = await client.call_tool("try_tactic", {"proof_state": 41, "tactic": "simp"})
        assert unknown.is_error and "no proof state 41" in _text(unknown)
        listed = await client.list_tools()
        assert len(listed.tools) == 6
        ok = await client.call_tool("goals", {"file": "T.lean"})
        assert not ok.is_error


async def test_prove_runs_the_loop_and_writes_only_with_write(
    fake_lean: FakeLean, root: Path, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.push("```lean\nsimp\n```", "```lean\nsimp\n```")
    async with _client(root, tmp_path, openai_server) as client:
        dry = await client.call_tool("prove", {"file": "T.lean"})
        assert not dry.is_error, _text(dry)
        report = dry.structured_content["report"]
        assert report["targets"][0]["status"] == "proved"
        assert dry.structured_content["written"] is None
        assert (root / "T.lean").read_text("utf-8") == T_LEAN
        wet = await client.call_tool("prove", {"file": "T.lean", "write": True})
        assert not wet.is_error, _text(wet)
        assert wet.structured_content["written"] == str(root / "T.lean")
    assert (root / "T.lean").read_text("utf-8") == T_LEAN.replace("sorry", "simp")
    assert len(openai_server.chat_requests) == 2


async def test_a_rejected_proof_is_not_written(
    fake_lean: FakeLean, root: Path, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.responder = lambda request: "```lean\nsorry\n```"
    async with _client(root, tmp_path, openai_server) as client:
        result = await client.call_tool(
            "prove", {"file": "T.lean", "write": True, "samples": 1, "rounds": 2}
        )
    assert not result.is_error, _text(result)
    assert result.structured_content["report"]["targets"][0]["status"] == "failed"
    assert result.structured_content["written"] is None
    assert (root / "T.lean").read_text("utf-8") == T_LEAN


@pytest.fixture
def http_server(fake_lean: FakeLean, root: Path, tmp_path: Path) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "leanloop", "mcp", str(root), "--http", str(port)],
        env=_env(tmp_path, None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


async def test_http_serves_on_loopback(http_server: int) -> None:
    async with Client(f"http://127.0.0.1:{http_server}/mcp") as client:
        listed = await client.list_tools()
        assert len(listed.tools) == 6
        result = await client.call_tool("goals", {"file": "T.lean"})
        assert not result.is_error


def test_without_the_sdk_it_says_how_to_install_it(tmp_path: Path, root: Path) -> None:
    blocker = tmp_path / "block"
    (blocker / "mcp").mkdir(parents=True)
    (blocker / "mcp" / "__init__.py").write_text("raise ImportError('no mcp here')\n", "utf-8")
    env = dict(os.environ, PYTHONPATH=str(blocker))
    proc = subprocess.run(
        [sys.executable, "-m", "leanloop", "mcp", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: leanloop mcp needs the MCP Python SDK, which is not installed: "
        "pip install 'leanloop[mcp]'."
    ]
