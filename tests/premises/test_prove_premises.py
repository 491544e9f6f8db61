"""`prove --premises N` (issue 21): the top hits of the local index go into the first prompt."""

from __future__ import annotations

from pathlib import Path

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

NAT = (
    "namespace Nat\n/-- Addition is commutative. -/\n"
    "protected theorem add_comm : ∀ (n m : Nat), n + m = m + n := by omega\n"
    "theorem mul_one (n : Nat) : n * 1 = n := by omega\n"
    "theorem pow_two (n : Nat) : n ^ 2 = n * n := by omega\n"
    "end Nat\n"
)
TARGET = "theorem swap (a b : Nat) : a + b = b + a := by\n  sorry\n"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".lake/packages/mathlib/Mathlib").mkdir(parents=True)
    (root / ".lake/packages/mathlib/Mathlib/Nat.lean").write_text(NAT, "utf-8")
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    (root / "T.lean").write_text(TARGET, "utf-8")
    return root


def _first_prompt(server: ScriptedOpenAIServer) -> str:
    [request] = server.chat_requests
    return str(request["json"]["messages"][1]["content"])


def test_premises_go_into_the_first_prompt(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.push("```lean\nexact Nat.add_comm a b\n```")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = run_cli(
        "prove", root / "T.lean", "--premises", "2", "--base-url", openai_server.base_url,
        "--replay", "off", "--dry-run", cwd=root, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    prompt = _first_prompt(openai_server)
    assert "Declarations of the project and its packages that may help:" in prompt
    first = prompt.split("may help:\n", 1)[1].splitlines()[0]
    assert first == (
        "theorem Nat.add_comm : ∀ (n m : Nat), n + m = m + n  (Mathlib.Nat)"
        " -- Addition is commutative."
    )
    assert prompt.index("may help") < prompt.index("Prove this theorem")
    assert "Indexing premises: 2/2 files" in result.stderr


def test_without_premises_the_prompt_has_none(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, openai_server: ScriptedOpenAIServer
) -> None:
    root = _project(tmp_path)
    openai_server.push("```lean\nomega\n```")
    result = run_cli(
        "prove", root / "T.lean", "--base-url", openai_server.base_url, "--replay", "off",
        "--dry-run", cwd=root, env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "may help" not in _first_prompt(openai_server)
    assert not (tmp_path / "cache").exists()  # no index is built
