"""The command that checks a file (with the lakefile's options), the project's toolchain, and
`module` files on toolchains where `#print axioms` is refused inside them.

Toolchain strings are the forms `lean-toolchain` files hold (elan's `leanprover/lean4:…`,
`leanprover/lean4-nightly:…`, bare versions and channels). The v4.20–v4.29 range comes from
lean4 PRs #8174 and #13117 (cited in agent/lean/project.py) and the issue; no recording shows the
`#print axioms` error in a module."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean

from leanloop.lean.checker import CliChecker, LeanResult
from leanloop.lean.project import (
    LeanCommand,
    ToolchainVersion,
    lean_command,
    module_gate_problem,
    parse_toolchain,
    starts_with_module,
    toolchain_version,
)
from leanloop.lean.runner import LocalExecutor

STRICT_TOML = """\
name = "proj"

[leanOptions]
autoImplicit = false
relaxedAutoImplicit = false

[[lean_lib]]
name = "Proj"
moreLeanArgs = ["-DmaxHeartbeats=400000"]
"""


def make_project(tmp_path: Path, lakefile: str = STRICT_TOML) -> Path:
    (tmp_path / "lakefile.toml").write_text(lakefile, encoding="utf-8")
    file = tmp_path / "Proj" / "Basic.lean"
    file.parent.mkdir()
    file.write_text("theorem t : True := trivial\n", encoding="utf-8")
    return file


# ---------------------------------------------------------------------------------------------
# the command line


def test_for_file_puts_lakefile_options_then_callers_then_the_file() -> None:
    cmd = LeanCommand(
        argv=["lake", "env", "lean", "--json"],
        cwd=Path("/p"),
        project_root=Path("/p"),
        lean_options=["-DautoImplicit=false", "-DmaxHeartbeats=400000"],
    )
    assert cmd.for_file(Path("/s/T.lean"), ["-DmaxHeartbeats=1000"]) == [
        "lake",
        "env",
        "lean",
        "--json",
        "-DautoImplicit=false",
        "-DmaxHeartbeats=400000",
        "-DmaxHeartbeats=1000",  # last: the caller's limit wins
        "/s/T.lean",
    ]
    placeholder = cmd.model_copy(update={"argv": ["wrap", "{file}", "--json"]})
    assert placeholder.for_file(Path("T.lean")) == [
        "wrap",
        "-DautoImplicit=false",
        "-DmaxHeartbeats=400000",
        "T.lean",
        "--json",
    ]


def test_old_three_field_construction_still_works() -> None:
    cmd = LeanCommand(argv=["lean", "--json"], cwd=Path("/p"), project_root=None)
    assert (cmd.lean_options, cmd.warnings) == ([], [])
    assert cmd.for_file(Path("T.lean")) == ["lean", "--json", "T.lean"]


def test_default_lake_command_carries_the_lakefile_options(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    file = make_project(tmp_path)
    cmd = lean_command(file, None)
    assert cmd.argv == ["lake", "env", "lean", "--json"]
    assert cmd.lean_options == [
        "-DautoImplicit=false",
        "-DrelaxedAutoImplicit=false",
        "-DmaxHeartbeats=400000",
    ]
    assert cmd.warnings == []


def test_an_explicit_lean_cmd_gets_no_lakefile_options(fake_lean: FakeLean, tmp_path: Path) -> None:
    file = make_project(tmp_path)
    cmd = lean_command(file, "lean --json")
    assert (cmd.lean_options, cmd.warnings) == ([], [])


def test_unreadable_lakefile_value_reaches_the_command_as_a_warning(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    file = make_project(tmp_path)
    (tmp_path / "lakefile.toml").unlink()
    (tmp_path / "lakefile.lean").write_text(
        "import Lake\nopen Lake DSL\npackage proj where\n  leanOptions := strictOptions\n",
        encoding="utf-8",
    )
    cmd = lean_command(file, None)
    assert cmd.lean_options == []
    assert len(cmd.warnings) == 1 and "`leanOptions`" in cmd.warnings[0]


def test_the_checker_runs_lean_with_the_lakefile_options(
    fake_lean: FakeLean, tmp_path: Path
) -> None:
    file = make_project(tmp_path)
    checker = CliChecker(
        lean_command(file, None),
        LocalExecutor(1),
        timeout=60,
        extra_args=["-DmaxHeartbeats=7"],
        scratch_root=tmp_path / "scratch",
    )
    (tmp_path / "scratch").mkdir()
    result = asyncio.run(checker.check(file.read_text(encoding="utf-8")))
    assert result.status == "ok"
    argv = fake_lean.invocations()[-1]["argv"]
    assert argv[:-1] == [
        "lake",
        "env",
        "lean",
        "--json",
        "-DautoImplicit=false",
        "-DrelaxedAutoImplicit=false",
        "-DmaxHeartbeats=400000",
        "-DmaxHeartbeats=7",
    ]
    assert argv[-1].endswith("Check.lean")


# ---------------------------------------------------------------------------------------------
# toolchain


@pytest.mark.parametrize(
    ("text", "release", "rc", "nightly"),
    [
        ("leanprover/lean4:v4.25.0\n", (4, 25, 0), None, None),
        ("leanprover/lean4:v4.25.0-rc1", (4, 25, 0), 1, None),
        ("v4.9.1", (4, 9, 1), None, None),
        ("4.19.0", (4, 19, 0), None, None),
        ("leanprover/lean4:nightly-2025-06-01", None, None, date(2025, 6, 1)),
        ("leanprover/lean4-nightly:nightly-2026-01-31\n", None, None, date(2026, 1, 31)),
    ],
)
def test_toolchain_strings(
    text: str, release: tuple[int, int, int] | None, rc: int | None, nightly: date | None
) -> None:
    v = parse_toolchain(text)
    assert v is not None
    assert (v.release, v.rc, v.nightly) == (release, rc, nightly)


@pytest.mark.parametrize(
    "text",
    [
        "stable",
        "leanprover/lean4:stable",
        "nightly",
        "",
        "leanprover/lean4-pr-releases:pr-1234",
        "leanprover/lean4:nightly-2025-13-40",
    ],
)
def test_toolchains_without_a_fixed_version(text: str) -> None:
    assert parse_toolchain(text) is None


def test_release_candidates_sort_before_the_release() -> None:
    def key(s: str) -> tuple[int, int, int, int]:
        v = parse_toolchain(s)
        assert v is not None and v.release_key is not None
        return v.release_key

    assert key("v4.19.0") < key("v4.20.0-rc1") < key("v4.20.0-rc5") < key("v4.20.0")
    assert key("v4.20.0") < key("v4.20.1") < key("v4.30.0-rc1")


def test_toolchain_file_is_found_above_the_file(tmp_path: Path) -> None:
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.22.0\n", encoding="utf-8")
    deep = tmp_path / "A" / "B"
    deep.mkdir(parents=True)
    v = toolchain_version(deep / "C.lean")
    assert v is not None and v.release == (4, 22, 0) and str(v) == "v4.22.0"


# ---------------------------------------------------------------------------------------------
# `module` files


MODULE_FILE = """\
/-
Copyright (c) 2025. All rights reserved.
-/
-- a line comment
/-! # Module docs before the header -/
module

public import Init

theorem t : True := trivial
"""


def v(s: str) -> ToolchainVersion:
    parsed = parse_toolchain(s)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    "toolchain",
    ["v4.20.0-rc1", "v4.20.0", "v4.25.0", "v4.29.1", "nightly-2025-05-01", "nightly-2025-11-20"],
)
def test_module_file_cannot_be_gated_on_affected_toolchains(toolchain: str) -> None:
    problem = module_gate_problem(MODULE_FILE, v(toolchain))
    assert problem is not None
    assert "`module`" in problem and "#print axioms" in problem and toolchain in problem
    assert problem.count(".") >= 1 and "\n" not in problem


@pytest.mark.parametrize(
    "toolchain", ["v4.19.0", "v4.19.0-rc3", "v4.30.0-rc1", "v4.33.0", "nightly-2025-04-29"]
)
def test_module_file_can_be_gated_elsewhere(toolchain: str) -> None:
    assert module_gate_problem(MODULE_FILE, v(toolchain)) is None


def test_unknown_toolchain_does_not_block() -> None:
    assert module_gate_problem(MODULE_FILE, None) is None


@pytest.mark.parametrize(
    "text",
    [
        "import Init\n\ntheorem module : True := trivial\n",
        "-- module\nimport Init\n",
        "/- module -/\nimport Init\n",
        'def s := "module"\n',
        "/- an unclosed comment\nmodule\n",
        "",
    ],
)
def test_only_a_leading_module_command_counts(text: str) -> None:
    assert not starts_with_module(text)
    assert module_gate_problem(text, v("v4.25.0")) is None


def test_module_after_comments_counts() -> None:
    assert starts_with_module(MODULE_FILE)
    assert starts_with_module("module\nimport Init\n")


# ---------------------------------------------------------------------------------------------
# against the real toolchain (skipped unless `lake` is on PATH)


def real_project(tmp_path: Path, lakefile: str, files: dict[str, str]) -> Path:
    root = tmp_path / "real"
    root.mkdir(parents=True)
    (root / "lakefile.toml").write_text(lakefile, encoding="utf-8")
    repo = Path(__file__).resolve().parent.parent
    (root / "lean-toolchain").write_text(
        (repo / "lean-toolchain").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def real_check(file: Path, text: str | None = None) -> LeanResult:
    checker = CliChecker(lean_command(file, None), LocalExecutor(1), timeout=300)
    return asyncio.run(checker.check(text if text is not None else file.read_text("utf-8")))


# With `autoImplicit` on (Lean's default), `x` is bound silently and the statement elaborates.
TYPO_STATEMENT = "theorem t : x = x := rfl\n"


@pytest.mark.lean
def test_real_lakefile_auto_implicit_off_reaches_lean(tmp_path: Path) -> None:
    root = real_project(
        tmp_path, STRICT_TOML, {"Proj/Basic.lean": TYPO_STATEMENT, "Loose.lean": TYPO_STATEMENT}
    )
    strict = real_check(root / "Proj" / "Basic.lean")
    assert strict.status == "ok" and strict.errors, strict.messages
    loose_root = real_project(tmp_path / "loose", 'name = "proj"\n', {"A.lean": TYPO_STATEMENT})
    loose = real_check(loose_root / "A.lean")
    assert loose.status == "ok" and not loose.errors, loose.messages


@pytest.mark.lean
def test_real_missing_import_reads_as_not_built(tmp_path: Path) -> None:
    root = real_project(
        tmp_path,
        'name = "proj"\n\n[[lean_lib]]\nname = "Proj"\n',
        {"Proj/Other.lean": "def x := 1\n", "Proj/Basic.lean": "import Proj.Other\n"},
    )
    result = real_check(root / "Proj" / "Basic.lean")
    assert result.not_built is not None, result.messages
    assert result.missing_module in ("Proj.Other", "Proj")


@pytest.mark.lean
def test_real_max_errors_is_a_failed_check(tmp_path: Path) -> None:
    file = tmp_path / "Many.lean"
    file.write_text("#check nope\n" * 120, encoding="utf-8")
    result = real_check(file)
    assert result.status == "ok"
    if result.max_errors is None:  # toolchains before lean4 PR #10262 have no limit
        assert len(result.errors) == 120
    else:
        assert result.max_errors == 100 and len(result.errors) == 101


@pytest.mark.lean
def test_real_module_file_agrees_with_module_gate_problem(tmp_path: Path) -> None:
    root = real_project(tmp_path, 'name = "proj"\n', {})
    text = "module\n\npublic theorem t : True := trivial\n\n#print axioms t\n"
    file = root / "M.lean"
    file.write_text(text, encoding="utf-8")
    version = toolchain_version(file)
    result = real_check(file)
    if module_gate_problem(text, version) is not None:
        assert result.errors, "the toolchain was expected to refuse #print axioms in a module"
