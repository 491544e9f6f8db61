"""Each output format of `leanloop ci`, produced and valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory

from leanloop.ci.formats import escape_data, escape_property


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


BASE = "theorem keep : True := trivial\n\ntheorem old_gap : 1 = 1 := sorry\n"
PR = (
    "theorem keep : True := trivial\n\ntheorem old_gap : 1 = 1 := sorry\n\n"
    "theorem fresh : 3 = 3 := by\n  sorry\n\ntheorem broken : 1 = 2 := by\n  simp_bad\n"
)


def _pr_repo(git_repo: Any, fake_lean: Any, name: str = "Demo/A, b.lean") -> Any:
    g = git_repo()
    g.commit({name: BASE})
    g.branch("pr")
    g.commit({name: PR})
    fake_lean.scenario([{"when": "simp_bad", "error": "100% wrong: unknown tactic"}])
    return g


def test_github_annotations_and_step_summary(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
    g = _pr_repo(git_repo, fake_lean)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    proc = cli(
        "ci",
        g.root,
        "--base",
        "main",
        "--format",
        "github",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert proc.returncode == 1
    notes = [ln for ln in proc.stdout.splitlines() if ln.startswith("::")]
    by_title = {ln.split("title=")[1].split("::")[0]: ln for ln in notes}
    fresh = by_title["new sorry in fresh"]
    assert fresh.startswith("::error file=Demo/A%2C b.lean,line=6,col=3,endLine=6,")
    old = by_title["sorry in old_gap"]
    assert old.startswith("::notice file=Demo/A%2C b.lean,line=3,col=28,")
    broken = by_title["new error in broken"]
    assert broken.startswith("::error file=Demo/A%2C b.lean,line=8,")
    assert "100%25 wrong" in broken
    text = summary.read_text("utf-8")
    assert text.startswith("earlier step\n<!-- leanloop-ci -->")
    assert "fresh" in text


def test_escaping_keeps_one_line() -> None:
    msg = "unsolved goals\r\n⊢ 1 = 2\n100%"
    assert escape_data(msg) == "unsolved goals%0D%0A⊢ 1 = 2%0A100%25"
    assert escape_property("a:b,c\nd") == "a%3Ab%2Cc%0Ad"


def test_sarif_structure_and_stable_fingerprints(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
    g = _pr_repo(git_repo, fake_lean, "A.lean")
    out = tmp_path / "out"
    out.mkdir()
    proc = cli("ci", g.root, "--base", "main", "--format", "sarif", "--report-dir", out)
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads((out / "leanloop.sarif").read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "leanloop"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) >= 4
    for r in driver["rules"]:
        assert r["shortDescription"]["text"]
    results = run["results"]
    assert len(results) == 3
    for res in results:
        assert res["ruleId"] in rule_ids
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("none", "note", "warning", "error")
        assert res["message"]["text"]
        (loc,) = res["locations"]
        phys = loc["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "A.lean"
        assert phys["region"]["startLine"] >= 1 and phys["region"]["startColumn"] >= 1
        assert res["partialFingerprints"]
    by_decl = {r["properties"]["declaration"]: r for r in results}
    assert by_decl["fresh"]["level"] == "error"
    assert by_decl["fresh"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert by_decl["old_gap"]["level"] == "note"
    assert by_decl["old_gap"]["baselineState"] == "unchanged"
    # Moving the code down keeps each finding's fingerprint.
    before = {k: v["partialFingerprints"] for k, v in by_decl.items()}
    g.commit({"A.lean": "-- moved\n\n" + PR})
    cli("ci", g.root, "--base", "main", "--format", "sarif", "--report-dir", out)
    moved = json.loads((out / "leanloop.sarif").read_text("utf-8"))["runs"][0]["results"]
    after = {r["properties"]["declaration"]: r for r in moved}
    assert {k: v["partialFingerprints"] for k, v in after.items()} == before
    assert after["fresh"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 8


def test_junit_one_case_per_declaration(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
    g = _pr_repo(git_repo, fake_lean, "A.lean")
    proc = cli("ci", g.root, "--base", "main", "--format", "junit", "--report-dir", tmp_path)
    assert proc.returncode == 1
    root = ET.parse(tmp_path / "leanloop-junit.xml").getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "A.lean"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"keep", "old_gap", "fresh", "broken"}
    assert cases["keep"].find("failure") is None
    assert cases["old_gap"].find("failure") is None  # pre-existing: reported, not failed
    assert "pre-existing" in (cases["old_gap"].findtext("system-out") or "")
    assert cases["fresh"].find("failure") is not None
    assert cases["broken"].find("failure") is not None
    assert suite.get("tests") == "4" and suite.get("failures") == "2"


def test_markdown_has_marker(fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path) -> None:
    g = _pr_repo(git_repo, fake_lean, "A.lean")
    cli("ci", g.root, "--base", "main", "--format", "markdown", "--report-dir", tmp_path)
    md = (tmp_path / "leanloop-summary.md").read_text("utf-8")
    assert md.splitlines()[0] == "<!-- leanloop-ci -->"
    assert "`A.lean:6`" in md and "new sorry" in md
    assert "fresh: sorry 0 → 1" in md
