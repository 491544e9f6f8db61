"""`leanloop ci`: which files, what is new against the merge base, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


BASE = """\
theorem keep : True := trivial

theorem old_gap : 1 = 1 := sorry
"""

# An edit above the old `sorry` moves it down; only `fresh` is new.
PR = """\
/-- A new doc comment above everything. -/
theorem helper : 2 = 2 := rfl

theorem keep : True := trivial

theorem old_gap : 1 = 1 := sorry

theorem fresh : 3 = 3 := by
  sorry
"""


def _findings(report_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((report_dir / "leanloop-ci.json").read_text("utf-8"))
    return [f for fr in data["files"] for f in fr["findings"]]


def _run(cli: Any, root: Path, *args: str) -> Any:
    return cli("ci", str(root), "--format", "text,json", "--report-dir", str(root.parent), *args)


def test_new_sorry_by_name_not_line(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"Demo/A.lean": BASE, "README.md": "x"})
    g.branch("pr")
    g.commit({"Demo/A.lean": PR})
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 1, proc.stderr
    found = {(f["declaration"], f["rule"], f["new"], f["line"]) for f in _findings(g.root.parent)}
    assert found == {("old_gap", "sorry", False, 6), ("fresh", "sorry", True, 9)}
    assert "Demo/A.lean:9:3: sorry (new): fresh" in proc.stdout
    # Only the pre-existing one remains: the new-sorry rule does not fire.
    g.commit({"Demo/A.lean": PR.replace("by\n  sorry", "rfl")})
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [f["new"] for f in _findings(g.root.parent)] == [False]
    # ... unless every sorry counts.
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "sorry")
    assert proc.returncode == 1


def test_rename_keeps_history(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"Demo/Old.lean": BASE + "\n" + "x" * 0})
    g.branch("pr")
    g.move("Demo/Old.lean", "Demo/New.lean")
    g.commit({"Demo/New.lean": "-- moved\n" + BASE}, "rename")
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((g.root.parent / "leanloop-ci.json").read_text("utf-8"))
    (fr,) = data["files"]
    assert (fr["path"], fr["base_path"], fr["change"]) == (
        "Demo/New.lean",
        "Demo/Old.lean",
        "renamed",
    )
    assert [(f["declaration"], f["new"]) for f in fr["findings"]] == [("old_gap", False)]


def test_new_axiom_and_new_error(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "theorem t : True := trivial\n"})
    g.branch("pr")
    g.commit(
        {
            "A.lean": "axiom cheat : False\n\ntheorem t : True := trivial\n\n"
            "theorem u : 1 = 2 := by\n  simp_bad\n\ntheorem v : False := cheat\n"
        }
    )
    fake_lean.scenario([{"when": "simp_bad", "error": "unknown tactic\nsecond line"}])
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "new-axiom")
    assert proc.returncode == 1
    got = {(f["rule"], f["declaration"], f["line"], f["new"]) for f in _findings(g.root.parent)}
    assert ("axiom", "cheat", 1, True) in got
    assert ("axiom", "v", 8, True) in got
    assert ("error", "u", 5, True) in got
    # An error alone fires `error`, not `new-axiom`.
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "new-sorry")
    assert proc.returncode == 0
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "error")
    assert proc.returncode == 1
    assert "fails: error" in proc.stdout


def test_pre_existing_error_is_not_new(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "theorem u : 1 = 2 := by\n  simp_bad\n"})
    g.branch("pr")
    g.commit({"A.lean": "-- note\ntheorem u : 1 = 2 := by\n  simp_bad\n"})
    fake_lean.scenario([{"when": "simp_bad", "error": "unknown tactic"}])
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "new-error")
    assert proc.returncode == 0, proc.stdout
    assert [(f["rule"], f["new"]) for f in _findings(g.root.parent)] == [("error", False)]


def test_forbidden_fires(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "theorem t : True := trivial\n"})
    g.branch("pr")
    g.commit(
        {"A.lean": "theorem t : True := trivial\n\ntheorem big : 2 + 2 = 4 := by native_decide\n"}
    )
    proc = _run(cli, g.root, "--base", "main", "--fail-on", "forbidden")
    assert proc.returncode == 1
    rules = {f["rule"] for f in _findings(g.root.parent) if f["declaration"] == "big"}
    assert "forbidden" in rules


def test_whole_repo_without_base(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit(
        {
            "Demo/A.lean": "theorem a : 1 = 1 := sorry\n",
            "Other/B.lean": "theorem b : True := trivial\n",
            ".lake/packages/dep/C.lean": "theorem c : 1 = 1 := sorry\n",
            "build/D.lean": "theorem d : 1 = 1 := sorry\n",
            # Lake's configuration is no module of the library.
            "lakefile.lean": "import Lake\nopen Lake DSL\npackage demo\n",
        }
    )
    proc = _run(cli, g.root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((g.root.parent / "leanloop-ci.json").read_text("utf-8"))
    assert [fr["path"] for fr in data["files"]] == ["Demo/A.lean", "Other/B.lean"]
    assert [f["new"] for f in _findings(g.root.parent)] == [None]
    proc = _run(cli, g.root, "--paths", "Other/*")
    assert proc.returncode == 0
    data = json.loads((g.root.parent / "leanloop-ci.json").read_text("utf-8"))
    assert [fr["path"] for fr in data["files"]] == ["Other/B.lean"]


def test_unchanged_files_are_not_checked(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "theorem a : 1 = 1 := sorry\n", "B.lean": "theorem b : True := trivial\n"})
    g.branch("pr")
    g.commit({"B.lean": "theorem b : True := trivial\n\ntheorem b2 : True := trivial\n"})
    proc = _run(cli, g.root, "--base", "HEAD~1")  # git's revision syntax works
    assert proc.returncode == 0
    checked = {inv["source"] for inv in fake_lean.invocations() if inv.get("source")}
    assert not any("theorem a" in s for s in checked)


def test_no_lean_files_exit_0(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"README.md": "hi"})
    g.branch("pr")
    g.commit({"README.md": "hello"})
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 0
    assert "No changed Lean files" in proc.stdout


def test_not_built_said_once(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "import Dep\ntheorem a : True := trivial\n", "B.lean": "import Dep\n"})
    fake_lean.scenario([{"when": "import Dep", "missing_olean": "Dep"}])
    proc = _run(cli, g.root)
    assert proc.returncode == 1
    assert proc.stdout.count("not built") == 3  # one finding per file, one note
    assert "2 file(s) could not be checked because their imports are not built" in proc.stdout


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        ("plain_dir", [], "not inside a git repository"),
        ("repo", ["--base", "nope"], "--base nope: no such branch"),
        ("repo", ["--fail-on", "bogus"], "--fail-on bogus: unknown rule"),
        ("repo", ["--format", "pdf"], "--format pdf: unknown format"),
        ("latin1", [], "is not UTF-8"),
        ("repo", ["--budget-usd", "-1"], "--budget-usd must not be negative"),
        ("repo", ["--report-dir", "proj/A.lean"], "is a file, not a directory"),
    ],
)
def test_bad_input_exit_2(
    fake_lean: Any,
    git_repo: Any,
    run_cli: Any,
    tmp_path: Path,
    setup: str,
    args: list[str],
    needle: str,
) -> None:
    if setup == "plain_dir":
        root = tmp_path / "plain"
        root.mkdir()
    else:
        g = git_repo()
        files: dict[str, str | bytes] = {"A.lean": "theorem a : True := trivial\n"}
        if setup == "latin1":
            files["B.lean"] = "-- caf\xe9\n".encode("latin-1")
        g.commit(files)
        root = g.root
    proc = run_cli("ci", str(root), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_shallow_clone_without_base(
    fake_lean: Any, git_repo: Any, run_cli: Any, tmp_path: Path
) -> None:
    from git import Repo

    g = git_repo()
    g.commit({"A.lean": "theorem a : True := trivial\n"})
    g.commit({"A.lean": "theorem a : True := trivial\n\ntheorem b : True := trivial\n"})
    base = g.repo.head.commit.parents[0].hexsha
    g.repo.create_tag("v0", ref=base)
    clone = Repo.clone_from(f"file://{g.root}", tmp_path / "shallow", depth=1)
    proc = run_cli("ci", clone.working_tree_dir, "--base", base)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "shallow clone" in proc.stderr and "git fetch" in proc.stderr


def test_detached_head_is_checked(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    # actions/checkout leaves a pull request's merge commit detached: that must work.
    g = git_repo()
    g.commit({"A.lean": "theorem a : True := trivial\n"})
    g.branch("pr")
    g.commit({"A.lean": "theorem a : True := trivial\n\ntheorem b : 1 = 1 := sorry\n"})
    g.repo.git.checkout("--detach", "HEAD")
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 1
    assert [f["declaration"] for f in _findings(g.root.parent)] == ["b"]


def test_example_keeps_its_identity_across_edits(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "example : 1 = 1 := sorry\n"})
    g.branch("pr")
    g.commit({"A.lean": "theorem a : True := trivial\n\nexample : 1 = 1 := sorry\n"})
    proc = _run(cli, g.root, "--base", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [(f["declaration"], f["new"]) for f in _findings(g.root.parent)] == [
        ("example@3", False)
    ]


def test_a_missing_report_dir_is_created(fake_lean: Any, git_repo: Any, cli: Any) -> None:
    g = git_repo()
    g.commit({"A.lean": "theorem a : True := trivial\n"})
    where = g.root.parent / "reports" / "leanloop"
    proc = cli("ci", str(g.root), "--format", "sarif,junit,json", "--report-dir", str(where))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in where.iterdir()) == [
        "leanloop-ci.json", "leanloop-junit.xml", "leanloop.sarif"
    ]  # fmt: skip
