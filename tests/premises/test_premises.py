"""Local premise search (issue 21): what is indexed, how it is ranked, and when files are read."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from leanloop.premises import open_index
from leanloop.premises.extract import extract_declarations
from leanloop.source import LeanDocument

# Core Lean's own statement of `Nat.add_comm` (Init/Data/Nat/Basic.lean), as a Mathlib-style
# dependency would have it, among look-alikes that share its words or its shape.
NAT_FILE = """\
/-! # Natural numbers -/
namespace Nat

/-- Addition of natural numbers is commutative. -/
protected theorem add_comm : ∀ (n m : Nat), n + m = m + n
  | n, 0 => Eq.symm (Nat.zero_add n)
  | n, m+1 => by omega

protected theorem add_left_comm (n m k : Nat) : n + (m + k) = m + (n + k) := by omega

protected theorem mul_comm : ∀ (n m : Nat), n * m = m * n := by omega

theorem add_zero (n : Nat) : n + 0 = n := rfl

theorem succ_le_of_lt {n m : Nat} (h : n < m) : succ n ≤ m := h

private theorem helper (n : Nat) : n = n := rfl

end Nat
"""

OPS = ("add", "mul", "sub", "max", "min", "gcd")
PROPS = ("comm", "assoc", "zero", "one", "self", "left_comm", "right_comm", "cancel")
SPACES = ("Int", "Rat", "Real", "List", "Finset", "Set", "Multiset", "Polynomial", "Matrix")


def _distractors() -> str:
    lines = []
    for ns in SPACES:
        lines.append(f"namespace {ns}\n")
        for op in OPS:
            for prop in PROPS:
                lines.append(
                    f"/-- `{op}` and `{prop}` for {ns}. -/\n"
                    f"theorem {op}_{prop} (a b c : {ns}) : a * (b + c) ≤ {op} a c := sorry\n"
                )
        lines.append(f"end {ns}\n")
    return "\n".join(lines)


def _project(root: Path, rev: str = "abc") -> Path:
    mathlib = root / ".lake" / "packages" / "mathlib"
    (mathlib / "Mathlib" / "Data").mkdir(parents=True)
    (mathlib / "Mathlib" / "Data" / "Nat.lean").write_text(NAT_FILE, "utf-8")
    (mathlib / "Mathlib" / "Data" / "Other.lean").write_text(_distractors(), "utf-8")
    (mathlib / "Mathlib" / "Generic.lean").write_text(
        "theorem add_comm {G : Type} [AddCommMagma G] (a b : G) : a + b = b + a :=\n"
        "  AddCommMagma.add_comm a b\n",
        "utf-8",
    )
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage demo\n", "utf-8")
    _manifest(root, rev)
    (root / "Demo").mkdir()
    (root / "Demo" / "Basic.lean").write_text(
        "import Mathlib\n\nsection\nprivate theorem mine (x : Nat) : x + 0 = x := sorry\nend\n",
        "utf-8",
    )
    return root


def _manifest(root: Path, rev: str) -> None:
    manifest = {
        "version": "1.1.0",
        "packagesDir": ".lake/packages",
        "name": "demo",
        "packages": [
            {
                "url": "https://github.com/leanprover-community/mathlib4",
                "type": "git",
                "rev": rev,
                "name": "mathlib",
                "inputRev": "master",
            }
        ],
    }
    (root / "lake-manifest.json").write_text(json.dumps(manifest), "utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path / "proj")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _names(index, query: str, limit: int = 10) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.premise.name for h in index.search(query, limit)]


def test_nat_add_comm_is_found_by_its_words_and_by_its_shape(project: Path, cache: Path) -> None:
    index = open_index(project, cache)
    index.update()
    assert _names(index, "add comm nat")[0] == "Nat.add_comm"
    # Variables are named differently (n, m) in the statement: the shape decides.
    by_shape = _names(index, "a + b = b + a", 3)
    assert "Nat.add_comm" in by_shape and "add_comm" in by_shape
    assert _names(index, "Nat.add_comm")[0] == "Nat.add_comm"
    assert _names(index, "x + 0 = x", 3)[:2] == ["mine", "Nat.add_zero"] or set(
        _names(index, "x + 0 = x", 2)
    ) == {"mine", "Nat.add_zero"}
    index.close()


def test_a_hit_carries_what_an_agent_needs(project: Path, cache: Path) -> None:
    index = open_index(project, cache)
    index.update()
    [hit] = index.search("add comm nat", 1)
    p = hit.premise
    assert p.kind == "theorem"
    assert p.signature == ": ∀ (n m : Nat), n + m = m + n"
    assert p.docstring == "Addition of natural numbers is commutative."
    assert p.package == "mathlib" and p.module == "Mathlib.Data.Nat"
    assert (
        Path(p.file)
        .read_text("utf-8")
        .splitlines()[p.line - 1]
        .startswith("protected theorem add_comm")
    )
    assert hit.score > 0


def test_private_declarations_of_packages_are_not_premises(project: Path, cache: Path) -> None:
    index = open_index(project, cache)
    index.update()
    assert "Nat.helper" not in _names(index, "helper", 50)
    assert "mine" in _names(index, "mine")  # the workspace's own private theorem is usable there


def test_an_unchanged_tree_is_not_read_again(project: Path, cache: Path) -> None:
    first = open_index(project, cache)
    stats = first.update()
    assert stats.read == stats.files == 4
    first.close()
    again = open_index(project, cache)
    stats = again.update()
    assert (stats.read, stats.reused) == (0, 4)
    assert _names(again, "add comm nat")[0] == "Nat.add_comm"


def test_changed_touched_and_deleted_files(project: Path, cache: Path) -> None:
    index = open_index(project, cache)
    index.update()
    nat = project / ".lake/packages/mathlib/Mathlib/Data/Nat.lean"
    generic = project / ".lake/packages/mathlib/Mathlib/Generic.lean"
    st = nat.stat()
    os.utime(nat, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))  # touched, same content
    stats = index.update()
    assert stats.read == 0
    nat.write_text(NAT_FILE.replace("add_comm", "add_comm'"), "utf-8")
    generic.unlink()
    stats = index.update()
    assert (stats.read, stats.removed) == (1, 1)
    names = _names(index, "add comm", 40)
    assert "Nat.add_comm'" in names
    assert "Nat.add_comm" not in names and "add_comm" not in names


def test_a_new_manifest_revision_rechecks_contents_but_reads_only_changes(
    project: Path, cache: Path
) -> None:
    index = open_index(project, cache)
    index.update()
    _manifest(project, "def")
    stats = index.update()
    assert stats.read == 0  # every file was hashed again, none had changed
    (project / ".lake/packages/mathlib/Mathlib/Generic.lean").write_text(
        "theorem sub_self' (a : Nat) : a - a = 0 := sorry\n", "utf-8"
    )
    _manifest(project, "ghi")
    assert index.update().read == 1


def test_progress_is_reported_per_file(project: Path, cache: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    open_index(project, cache).update(progress=lambda d, t, p: seen.append((d, t, p)))
    assert [d for d, _, _ in seen] == [1, 2, 3, 4]
    assert {t for _, t, _ in seen} == {4}
    assert {p for _, _, p in seen} == {"demo", "mathlib"}


async def test_indexing_from_async_code_leaves_the_event_loop_free(
    tmp_path: Path, cache: Path
) -> None:
    root = _project(tmp_path / "big")
    extra = root / ".lake/packages/mathlib/Mathlib/Extra"
    extra.mkdir()
    for i in range(150):
        (extra / f"F{i}.lean").write_text(_distractors().replace("theorem ", f"theorem x{i}_"))
    index = open_index(root, cache)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    stats = await index.aupdate()
    ticker.cancel()
    assert stats.read == 154
    assert ticks >= 5  # the loop kept running while files were read


def test_names_agree_with_the_document_reader(tmp_path: Path) -> None:
    """The index's quick reading of commands finds the declarations `LeanDocument` finds, on
    every Lean file shipped with leanloop and its tests."""
    repo = Path(__file__).resolve().parents[2]
    files = [p for p in repo.rglob("*.lean") if ".lake" not in p.parts and ".venv" not in p.parts]
    assert len(files) >= 10
    for path in files:
        text = path.read_text("utf-8")
        doc = LeanDocument(text)
        expected = {
            (d.full_name.replace("«", "").replace("»", ""), d.kind)
            for d in doc.declarations
            if d.full_name and d.kind != "example"
        }
        found = {(e.full_name, e.kind) for e in extract_declarations(text)}
        assert found == expected, path


def test_statements_and_docstrings_are_read_as_written() -> None:
    text = (
        "namespace A.B\nopen Foo in\n/-- Doc\n  text. -/\n@[simp] theorem t {α : Type} "
        "(x : α) :\n    let y := x; y = x := rfl\n"
        "structure S (α : Type) extends T α where\n  f : α\n"
        "def g : Nat → Nat\n  | 0 => 1\n  | n + 1 => n\nend A.B\n"
        "theorem _root_.top : True := trivial\n"
    )
    got = {e.full_name: e for e in extract_declarations(text)}
    assert set(got) == {"A.B.t", "A.B.S", "A.B.g", "top"}
    assert got["A.B.t"].signature == "{α : Type} (x : α) : let y := x; y = x"
    assert got["A.B.t"].docstring == "Doc text."
    assert got["A.B.t"].line == 5
    assert got["A.B.S"].signature == "(α : Type)"
    assert got["A.B.g"].signature == ": Nat → Nat"


def test_worker_processes_index_what_one_process_does(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    extra = root / ".lake/packages/mathlib/Mathlib/Extra"
    extra.mkdir()
    for i in range(80):
        (extra / f"F{i}.lean").write_text(NAT_FILE.replace("namespace Nat", f"namespace N{i}"))
    one = open_index(root, tmp_path / "one")
    two = open_index(root, tmp_path / "two")
    s1, s2 = one.update(workers=1), two.update(workers=2)
    assert (s1.read, s1.declarations) == (s2.read, s2.declarations) == (84, s1.declarations)
    assert _names(one, "add comm nat") == _names(two, "add comm nat")
