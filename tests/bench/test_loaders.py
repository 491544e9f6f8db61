"""The dataset loaders on small files of each format, and their bad-input messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench_helpers import DATA, FAKE_ENV, without, write_problems
from conftest import RunCli
from doubles.fake_lean import FakeLean

from leanloop.bench.problems import Dataset, detect_format, fingerprint, load
from leanloop.errors import UsageError


def _load(path: Path, **kw: Any) -> tuple[Dataset, list[str]]:
    warnings: list[str] = []
    ds = load(path, warn=warnings.append, **kw)
    return ds, warnings


def test_a_directory_of_lean_files() -> None:
    ds, _ = _load(DATA / "lean_dir")
    assert ds.format == "lean"
    problems = {p.name: p for p in ds.problems}
    assert sorted(problems) == ["Sub.and_swap", "add_zero_right", "two_eq"]
    two = problems["two_eq"]
    # The header is the file up to the theorem (the earlier problem included), the statement
    # the theorem itself; together they are the file as it stands.
    assert two.header.startswith("-- Two problems in one file")
    assert "theorem add_zero_right" in two.header
    assert two.statement == "theorem two_eq : 1 + 1 = 2 := sorry"
    assert problems["Sub.and_swap"].origin == "Sub/Putnam.lean:9"
    assert "namespace Sub" in problems["Sub.and_swap"].header
    assert ds.needs_answer == ["answer_spec"]


def test_jsonl_with_splits_and_the_deepseek_layout() -> None:
    ds, warnings = _load(DATA / "small.jsonl", split="test")
    names = [p.name for p in ds.problems]
    assert names == ["mini_two", "mini_three"]
    assert [w.split(" (")[0] for w in warnings] == [
        "small.jsonl line 4 is malformed",
        "small.jsonl line 5 is malformed",
    ]
    assert "not JSON" in warnings[0] and "name" in warnings[1]
    two, three = ds.problems
    assert two.statement.endswith("theorem mini_two (n : Nat) : n + 0 = n := by sorry")
    assert two.statement.startswith("/- Zero is a right identity. -/\n")
    assert three.statement == "theorem mini_three : True := by sorry"
    all_, _ = _load(DATA / "small.jsonl")
    one = all_.problems[0]
    # DeepSeek's statements end in `:= by` for the model to continue.
    assert one.statement == "/-- One plus one is two. -/\ntheorem mini_one : 1 + 1 = 2 := by sorry"
    assert one.text == "open Nat\n\n" + one.statement + "\n"
    assert one.split == "valid"


def test_strict_stops_at_the_first_malformed_line() -> None:
    with pytest.raises(UsageError, match=r"small.jsonl line 4 is malformed .*--strict"):
        _load(DATA / "small.jsonl", strict=True)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    row = {"name": "same", "formal_statement": "theorem same : True := sorry"}
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", "utf-8")
    with pytest.raises(
        UsageError, match=r"Duplicate problem name `same` \(d.jsonl:1 and d.jsonl:2\)"
    ):
        _load(path)


def test_the_fingerprint_follows_the_text_not_its_layout(tmp_path: Path) -> None:
    a = write_problems(
        tmp_path / "a", {"p": "theorem p : True := sorry", "q": "theorem q : 1 = 1 := sorry"}
    )
    b = tmp_path / "b.jsonl"
    rows = [
        {"name": "q", "formal_statement": "theorem q : 1 = 1 := sorry   \r\n", "header": ""},
        {"name": "p", "formal_statement": "theorem p : True := sorry"},
    ]
    b.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    c = write_problems(
        tmp_path / "c", {"p": "theorem p : True := sorry", "q": "theorem q : 2 = 2 := sorry"}
    )
    fa, fb, fc = (fingerprint(_load(x)[0].problems) for x in (a, b, c))
    assert fa == fb != fc


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(DATA / "lean_dir") == "lean"
    assert detect_format(DATA / "small.jsonl") == "jsonl"
    dojo = tmp_path / "test.json"
    dojo.write_text(json.dumps([{"url": "u", "commit": "c", "file_path": "f", "full_name": "n"}]))
    assert detect_format(dojo) == "leandojo"
    with pytest.raises(UsageError, match="Cannot tell the format"):
        detect_format(tmp_path / "x.csv")


def test_split_on_a_lean_directory_is_refused() -> None:
    with pytest.raises(UsageError, match="--split applies to JSONL"):
        _load(DATA / "lean_dir", split="test")


# LeanDojo Benchmark 4 theorem lists: read from the user's local clone, at the list's commit.

_AT_COMMIT = """import Lean

namespace Demo

/-- doubles -/
theorem two_mul' (n : Nat) : 2 * n = n + n := by
  omega

theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :=
  ⟨h.2, h.1⟩

end Demo
"""


def _clone(tmp_path: Path) -> tuple[Path, str]:
    import git

    root = tmp_path / "clone"
    repo = git.Repo.init(root)
    (root / "Demo").mkdir()
    (root / "Demo" / "Basic.lean").write_text(_AT_COMMIT, encoding="utf-8")
    repo.index.add(["Demo/Basic.lean"])
    commit = repo.index.commit("the benchmark's commit").hexsha
    # Later work in the clone must not change what the list refers to.
    (root / "Demo" / "Basic.lean").write_text("-- rewritten\n", encoding="utf-8")
    repo.index.add(["Demo/Basic.lean"])
    repo.index.commit("later")
    return root, commit


def _dojo_list(tmp_path: Path, commit: str) -> Path:
    lines = _AT_COMMIT.splitlines()
    first = lines.index("theorem two_mul' (n : Nat) : 2 * n = n + n := by") + 1
    second = lines.index("theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :=") + 1
    rows = [
        {
            "url": "https://github.com/example/demo",
            "commit": commit,
            "file_path": "Demo/Basic.lean",
            "full_name": "Demo.two_mul'",
            "start": [first, 1],
            "end": [first + 1, len("  omega") + 1],
            "traced_tactics": [],
        },
        {
            "url": "https://github.com/example/demo",
            "commit": commit,
            "file_path": "Demo/Basic.lean",
            "full_name": "Demo.and_swap",
            "start": [second, 1],
            "end": [second + 1, len("  ⟨h.2, h.1⟩") + 1],
        },
    ]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_leandojo_list_reads_the_clone_at_its_commit(tmp_path: Path) -> None:
    root, commit = _clone(tmp_path)
    dataset = load(_dojo_list(tmp_path, commit), repo=root, warn=lambda m: None)
    assert dataset.format == "leandojo"
    two, swap = dataset.problems
    assert two.name == "Demo.two_mul'"
    # The doc comment goes with its theorem: in the header, the theorem would not start in
    # the statement (and bench would find no theorem to prove there).
    assert two.statement == "/-- doubles -/\ntheorem two_mul' (n : Nat) : 2 * n = n + n := by sorry"
    assert two.header == "import Lean\n\nnamespace Demo\n\n"
    assert swap.statement == "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by sorry"
    assert "theorem two_mul'" in swap.header  # the file up to the theorem
    assert two.origin == "Demo/Basic.lean:6"


def test_leandojo_commit_missing_from_the_clone_is_one_sentence(tmp_path: Path) -> None:
    root, _ = _clone(tmp_path)
    path = _dojo_list(tmp_path, "0" * 40)
    with pytest.raises(UsageError) as info:
        load(path, repo=root, warn=lambda m: None)
    assert "not in the clone" in str(info.value) and "\n" not in str(info.value)


def test_leandojo_without_a_clone_says_to_pass_one(tmp_path: Path) -> None:
    _, commit = _clone(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(UsageError, match="--project"):
        load(_dojo_list(tmp_path, commit), repo=elsewhere, warn=lambda m: None)


def test_leandojo_dependency_files_are_read_from_the_package_clone(tmp_path: Path) -> None:
    """LeanDojo names a dependency's theorem `.lake/packages/NAME/…` with the dependency's own
    URL and commit; Lake's checkout of the package is a clone of that repository."""
    import git

    root, _ = _clone(tmp_path)
    dep_root = root / ".lake" / "packages" / "dep"
    dep = git.Repo.init(dep_root)
    (dep_root / "Dep").mkdir()
    (dep_root / "Dep" / "Core.lean").write_text(
        "namespace Dep\n\ntheorem one : 1 = 1 := rfl\n\nend Dep\n", encoding="utf-8"
    )
    dep.index.add(["Dep/Core.lean"])
    commit = dep.index.commit("dep").hexsha
    rows = [
        {
            "url": "https://github.com/example/dep",
            "commit": commit,
            "file_path": ".lake/packages/dep/Dep/Core.lean",
            "full_name": "Dep.one",
            "start": [3, 1],
            "end": [3, len("theorem one : 1 = 1 := rfl") + 1],
        }
    ]
    path = tmp_path / "dep.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    [one] = load(path, repo=root, warn=lambda m: None).problems
    assert one.statement == "theorem one : 1 = 1 := by sorry"
    assert one.header == "namespace Dep\n\n"


def test_leandojo_lists_run_end_to_end(fake_lean: FakeLean, cli: RunCli, tmp_path: Path) -> None:
    root, commit = _clone(tmp_path)
    proc = cli(
        "bench", "run", _dojo_list(tmp_path, commit), "--project", root, "--model",
        "builtin:automation", "--samples", "1", "--out", "run", env=FAKE_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "run" / "summary.json").read_text("utf-8"))
    assert s["dataset_errors"] == {}
    assert s["solved_any"]["solved"] == 2  # the fake accepts the built-in prover's `rfl`


def test_leandojo_without_lean_dojo_is_one_sentence(run_cli: RunCli, tmp_path: Path) -> None:
    root, commit = _clone(tmp_path)
    proc = run_cli(
        "bench", "run", _dojo_list(tmp_path, commit), "--project", root, "--model",
        "builtin:automation", env=without(tmp_path / "blocked", "lean_dojo"),
    )  # fmt: skip
    assert proc.returncode == 2
    [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "needs lean-dojo" in line and "Python 3.11 and 3.12" in line
    assert "Traceback" not in proc.stderr
