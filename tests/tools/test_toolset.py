"""The tool layer (issue 21) against the Lean doubles: goals from the CLI probe and from the
REPL's `sorries`, tactics, confinement to the project root, and writes only through `prove`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.settings import Settings
from leanloop.tools import ToolError, Toolset, call
from leanloop.tools.models import CheckOutput, GoalsOutput, ProveOutput, TryTacticOutput

FAKE_REPL = Path(__file__).resolve().parents[1] / "doubles" / "fake_repl.py"
ADD_ZERO = "theorem add_zero' (x : Nat) : x + 0 = x := by\n  sorry\n"
TWO = (
    "theorem a_tac (p q : Prop) (hp : p) : p ∨ q := by\n  sorry\n\n"
    "theorem b_term (n : Nat) : n = n := sorry\n"
)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage p\n", "utf-8")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def settings(backend: str = "cli", **kw: object) -> Settings:
    return Settings(
        sandbox="off",
        replay="off",
        backend=backend,  # type: ignore[arg-type]
        repl_cmd=f"{sys.executable} {FAKE_REPL}",
        lean_workers=2,
        timeout=30,
        env_allow=["FAKE_LEAN_LOG", "FAKE_LEAN_SCENARIO"],
        **kw,  # type: ignore[arg-type]
    )


async def test_cli_goals_come_from_the_done_probe(fake_lean: FakeLean, tmp_path: Path) -> None:
    root = project(tmp_path, {"T.lean": TWO})
    tools = Toolset(root, settings())
    try:
        out = await call(tools, "goals", {"file": "T.lean"})
    finally:
        await tools.aclose()
    assert isinstance(out, GoalsOutput) and out.backend == "cli"
    a, b = out.sorries
    assert (a.declaration, a.line, a.column) == ("a_tac", 2, 2)
    assert a.goal == "p q : Prop\nhp : p\n⊢ p ∨ q"
    assert (b.declaration, b.line, b.goal) == ("b_term", 4, "n : Nat\n⊢ n = n")
    assert a.proof_state is not None and b.proof_state is not None
    probes = sorted(s for s in fake_lean.checked_sources() if "done" in s)
    # One Lean run per `sorry`, the other left as the user wrote it; a tactic hole gets
    # `focus done`, a term hole `(by done)`.
    assert len(probes) == 2
    assert "  focus done\n" in probes[0] and ":= sorry" in probes[0]
    assert ":= (by done)" in probes[1] and "  sorry\n" in probes[1]


async def test_check_reports_messages_goals_and_axioms(fake_lean: FakeLean, tmp_path: Path) -> None:
    root = project(tmp_path, {"T.lean": ADD_ZERO})
    tools = Toolset(root, settings())
    try:
        out = await call(tools, "check", {"file": "T.lean"})
    finally:
        await tools.aclose()
    assert isinstance(out, CheckOutput)
    assert [m.text for m in out.messages] == ["declaration uses `sorry`"]
    assert out.messages[0].line == 1 and out.warnings == 1 and out.errors == 0
    assert [s.goal for s in out.sorries] == ["x : Nat\n⊢ x + 0 = x"]
    assert [(t.name, t.axioms) for t in out.axioms] == [("add_zero'", ["sorryAx"])]


async def test_cli_try_tactic_splices_before_the_sorry_and_rechecks(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    fake_lean.scenario(
        [
            {"when_regex": r"intro hq\n\s*done", "goals": ["p q : Prop\nhp : p\nhq : q\n⊢ p"]},
            {"when": "bogus_tac", "error": "unknown tactic", "at": "bogus_tac"},
        ]
    )
    root = project(tmp_path, {"T.lean": TWO})
    tools = Toolset(root, settings())
    try:
        goals = await call(tools, "goals", {"file": "T.lean", "line": 2})
        assert isinstance(goals, GoalsOutput)
        [site] = goals.sorries
        step = await call(
            tools, "try_tactic", {"proof_state": site.proof_state, "tactic": "intro hq"}
        )
        assert isinstance(step, TryTacticOutput)
        assert (step.status, step.goals) == ("goals", ["p q : Prop\nhp : p\nhq : q\n⊢ p"])
        bad = await call(
            tools, "try_tactic", {"proof_state": step.proof_state, "tactic": "bogus_tac"}
        )
        assert isinstance(bad, TryTacticOutput)
        assert (bad.status, bad.error) == ("error", "unknown tactic")
        assert bad.messages[0].line == 2  # the second tactic of the spliced block
        done = await call(
            tools, "try_tactic", {"proof_state": step.proof_state, "tactic": "exact hp"}
        )
        assert isinstance(done, TryTacticOutput) and done.status == "complete"
    finally:
        await tools.aclose()
    last = fake_lean.checked_sources()[-1]
    assert "  focus\n    intro hq\n    exact hp\n    done\n" in last
    assert (root / "T.lean").read_text("utf-8") == TWO  # nothing is written


async def test_repl_goals_and_tactics_use_its_proof_states(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    root = project(tmp_path, {"T.lean": ADD_ZERO})
    tools = Toolset(root, settings("repl"))
    try:
        out = await call(tools, "goals", {"file": "T.lean"})
        assert isinstance(out, GoalsOutput) and out.backend == "repl"
        [site] = out.sorries
        assert (site.line, site.column, site.goal) == (2, 2, "x : Nat\n⊢ x + 0 = x")
        assert site.declaration == "add_zero'"
        unknown = await call(
            tools, "try_tactic", {"proof_state": site.proof_state, "tactic": "exat 1"}
        )
        assert isinstance(unknown, TryTacticOutput) and unknown.status == "error"
        assert unknown.error == "Lean error:\n<input>:1:1: unknown tactic"
        cheat = await call(
            tools, "try_tactic", {"proof_state": site.proof_state, "tactic": "skip; sorry"}
        )
        assert isinstance(cheat, TryTacticOutput) and cheat.status == "error"
        assert cheat.error == "Incomplete: contains sorry"
        step = await call(tools, "try_tactic", {"proof_state": site.proof_state, "tactic": "skip"})
        assert isinstance(step, TryTacticOutput) and step.status == "goals"
        assert step.goals == ["x : Nat\n⊢ x + 0 = x"] and step.proof_state != site.proof_state
        end = await call(tools, "try_tactic", {"proof_state": step.proof_state, "tactic": "simp"})
        assert isinstance(end, TryTacticOutput) and end.status == "complete"
        with pytest.raises(ToolError, match="no proof state 999"):
            await call(tools, "try_tactic", {"proof_state": 999, "tactic": "simp"})
    finally:
        await tools.aclose()
    sent = [inv["source"] for inv in fake_lean.invocations() if inv["argv"] == ["repl-tactic"]]
    assert sent == ["exat 1", "skip; sorry", "skip", "simp"]


async def test_paths_leaving_the_root_are_refused(fake_lean: FakeLean, tmp_path: Path) -> None:
    root = project(tmp_path, {"T.lean": ADD_ZERO})
    outside = tmp_path / "Secret.lean"
    outside.write_text(ADD_ZERO, "utf-8")
    os.symlink(outside, root / "Link.lean")
    (root / "sub").mkdir()
    tools = Toolset(root, settings())
    try:
        for path in ("../Secret.lean", str(outside), "Link.lean", "sub/../../Secret.lean"):
            with pytest.raises(ToolError, match="outside the project root"):
                await call(tools, "check", {"file": path})
        ok = await call(tools, "check", {"file": "sub/../T.lean", "goals": False})
        assert isinstance(ok, CheckOutput)
    finally:
        await tools.aclose()
    assert not any("Secret" in str(inv.get("file")) for inv in fake_lean.invocations())


async def test_bad_arguments_are_one_sentence(fake_lean: FakeLean, tmp_path: Path) -> None:
    tools = Toolset(project(tmp_path, {}), settings())
    with pytest.raises(ToolError, match=r"^Bad arguments for `goals`: give exactly one of"):
        await call(tools, "goals", {"file": "T.lean", "code": "theorem x : True := sorry"})
    with pytest.raises(ToolError, match=r"^Bad arguments for `search`: query:"):
        await call(tools, "search", {"query": 3})
    with pytest.raises(ToolError, match="No such file"):
        await call(tools, "check", {"file": "Missing.lean"})
    with pytest.raises(ToolError, match="There is no tool `nope`"):
        await call(tools, "nope", {})


async def test_prove_writes_only_with_write(fake_lean: FakeLean, tmp_path: Path) -> None:
    root = project(tmp_path, {"T.lean": ADD_ZERO})
    tools = Toolset(root, settings(model="builtin:automation"))
    try:
        dry = await call(tools, "prove", {"file": "T.lean"})
        assert isinstance(dry, ProveOutput)
        assert dry.report.proved == 1 and dry.written is None
        assert (root / "T.lean").read_text("utf-8") == ADD_ZERO
        wet = await call(tools, "prove", {"file": "T.lean", "write": True})
        assert isinstance(wet, ProveOutput) and wet.written == str(root / "T.lean")
    finally:
        await tools.aclose()
    text = (root / "T.lean").read_text("utf-8")
    assert "sorry" not in text and text.startswith("theorem add_zero'")
