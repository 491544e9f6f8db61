"""Issue 19: `ci` must never pass a new `sorry`. On a real git repository whose branch adds one
form of `sorry` (outside a theorem body too), `ci --fail-on new-sorry` reports it as new, by
declaration, and exits 1; the Lean double answers `declaration uses `sorry`` for every
declaration kind, as real Lean does. The base already has an unrelated old `sorry`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


BASE = "theorem keep : True := trivial\n\ntheorem old_gap : 1 = 1 := sorry\n"

# (form, added text, the declaration (or command) the finding names)
FORMS: list[tuple[str, str, str]] = [
    ("lemma-where", "lemma wh : True ∧ True where\n  left := trivial\n  right := by sorry\n", "wh"),
    ("def", "def d : Nat := sorry\n", "d"),
    ("instance-where", "instance : Inhabited Nat where\n  default := sorry\n", "instance"),
    ("statement", "theorem st : (sorry : Prop) := by trivial\n", "st"),
    ("statement-iff", "theorem si (p : Prop) : p ↔ sorry := by\n  rfl\n", "si"),
    ("struct-braces", "theorem sb : True ∧ True := { left := trivial, right := sorry }\n", "sb"),
    ("anonymous-ctor", "theorem ac : True ∧ True := ⟨trivial, sorry⟩\n", "ac"),
    ("where-nested-by", "theorem wn : True := h\nwhere\n  h : True := by\n    sorry\n", "wn"),
    (
        "decreasing-by",
        "def f : Nat → Nat\n  | 0 => 0\n  | n + 1 => f n\ndecreasing_by sorry\n",
        "f",
    ),
    ("termination-by", "def g (n : Nat) : Nat := n\ntermination_by sorry\n", "g"),
    ("macro", 'macro "cheat" : tactic => `(tactic| sorry)\n', "macro"),
    ("notation", 'notation "oops" => (sorry : Nat)\n', "notation"),
    ("syntax-rules", 'syntax "zz" : term\nmacro_rules | `(zz) => `(sorry)\n', "macro_rules"),
    ("admit", "theorem ad : 1 = 1 := by\n  admit\n", "ad"),
    ("guard", "#guard (sorry : Bool)\n", "#guard"),
    ("eval", "#eval (sorry : Nat)\n", "#eval"),
    ("example", "example : 2 = 2 := by\n  sorry\n", "example"),
    (
        "indented-in-namespace",
        "namespace N\n  theorem ind : 3 = 3 := by\n    sorry\nend N\n",
        "N.ind",
    ),
    (
        "mutual",
        "mutual\n  theorem mu : True := by sorry\n  theorem mv : True := trivial\nend\n",
        "mu",
    ),
]


@pytest.mark.parametrize(("form", "added", "name"), FORMS, ids=[f[0] for f in FORMS])
def test_a_branch_adding_a_sorry_fails(
    form: str, added: str, name: str, fake_lean: Any, tmp_path: Path, cli: Any
) -> None:
    g = repo_factory(tmp_path)()
    g.commit({"Demo/A.lean": BASE})
    g.branch("pr")
    g.commit({"Demo/A.lean": BASE + "\n" + added})
    report_dir = tmp_path / "out"
    proc = cli(
        "ci", str(g.root), "--base", "main", "--fail-on", "new-sorry",
        "--format", "json", "--report-dir", str(report_dir),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((report_dir / "leanloop-ci.json").read_text("utf-8"))
    findings = [f for fr in data["files"] for f in fr["findings"] if f["rule"] == "sorry"]
    new = [f for f in findings if f["new"]]
    assert new, findings
    assert any(
        (f["declaration"] or f["message"]).startswith(name) or name in f["message"] for f in new
    ), new
    # The old one stays old.
    assert [f["new"] for f in findings if f["declaration"] == "old_gap"] == [False]


def test_a_sorry_only_lean_sees_is_a_finding_that_says_so(
    fake_lean: Any, tmp_path: Path, cli: Any
) -> None:
    """A tactic of the file's own that expands to `sorry`: its text has none; Lean's warning is
    the finding (scripted: the double does not expand macros)."""
    g = repo_factory(tmp_path)()
    g.commit({"Demo/A.lean": BASE})
    g.branch("pr")
    added = "theorem hid : 1 = 2 := by\n  my_tactic\n"
    g.commit({"Demo/A.lean": BASE + "\n" + added})
    fake_lean.scenario(
        [
            {
                "when": "my_tactic",
                "at": "hid",
                "severity": "warning",
                "error": "declaration uses `sorry`",
                "axioms": ["sorryAx"],
            }
        ]
    )
    report_dir = tmp_path / "out"
    proc = cli(
        "ci", str(g.root), "--base", "main", "--fail-on", "new-sorry",
        "--format", "json", "--report-dir", str(report_dir),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((report_dir / "leanloop-ci.json").read_text("utf-8"))
    [hid] = [f for fr in data["files"] for f in fr["findings"] if f["declaration"] == "hid"]
    assert hid["rule"] == "sorry" and hid["new"]
    assert "only Lean sees it" in hid["message"]


MY_LEMMA = 'macro "my_lemma" n:ident : command => `(theorem $n : True := sorry)\n'


@pytest.mark.parametrize("added", [True, False], ids=["added", "kept"])
def test_a_sorry_lean_sees_where_leanloop_reads_no_declaration(
    added: bool, fake_lean: Any, tmp_path: Path, cli: Any
) -> None:
    """A command of the file's own (`my_lemma one`, a macro) makes a declaration that uses
    `sorry`: leanloop's text view has no declaration there, yet Lean's warning is a finding,
    new when the branch added the command and old when the base had it already (scripted:
    the double does not expand macros)."""
    g = repo_factory(tmp_path)()
    use = "my_lemma one\n"
    g.commit({"Demo/A.lean": BASE + "\n" + MY_LEMMA + ("" if added else use)})
    g.branch("pr")
    g.commit({"Demo/A.lean": BASE + "\n" + MY_LEMMA + use + "theorem more : True := trivial\n"})
    fake_lean.scenario(
        [
            {"when": "my_lemma one", "at": "my_lemma one", "severity": "warning",
             "error": "declaration uses `sorry`", "axioms": ["sorryAx"]}
        ]
    )  # fmt: skip
    report_dir = tmp_path / "out"
    proc = cli(
        "ci", str(g.root), "--base", "main", "--fail-on", "new-sorry",
        "--format", "json", "--report-dir", str(report_dir),
    )  # fmt: skip
    assert proc.returncode == (1 if added else 0), proc.stdout + proc.stderr
    data = json.loads((report_dir / "leanloop-ci.json").read_text("utf-8"))
    unread = [
        (f["line"], f["new"])
        for fr in data["files"]
        for f in fr["findings"]
        if f["rule"] == "sorry" and "not read this text as a declaration" in f["message"]
    ]
    assert unread == [(6, added)]
