"""Reading `leanOptions` / `moreLeanArgs` / `weakLeanArgs` from a lakefile, as Lake passes them.

No Lean or Lake runs here. The expected arguments follow Lake's source (cited in
agent/lean/lakefile.py): `LeanOption.asCliArg` is `-D{name}={value}` with a String in double
quotes, and a library's arguments are the package's options and `moreLeanArgs`, then the
library's. Lakefile inputs are real ones where one was found: the `lake new … math` TOML
template, the lakefile of Lake's own `tests/lake/tests/cache` test, lean4's `test/50/foo`
lakefile (a computed `moreLeanArgs`) and a user's `lean_lib … where` template. Others are
written here to cover one rule each."""

from __future__ import annotations

from pathlib import Path

import pytest

from leanloop.lean.lakefile import lake_lean_args, option_arg


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


# The `[leanOptions]` block of the `lake new NAME math` template (lakefile.toml), as found in
# public projects.
MATH_TEMPLATE_TOML = """\
name = "defialgebra"
version = "0.1.0"
keywords = ["math"]
defaultTargets = ["Defialgebra", "DefiKernel"]

[leanOptions]
pp.unicode.fun = true # pretty-prints `fun a ↦ b`
relaxedAutoImplicit = false
weak.linter.mathlibStandardSet = true
maxSynthPendingDepth = 3

[[require]]
name = "mathlib"
scope = "leanprover-community"
rev = "v4.33.0-rc2"

[[lean_lib]]
name = "Defialgebra"

[[lean_lib]]
name = "DefiKernel"
"""


def test_math_template_toml_options_become_d_flags_in_order(tmp_path: Path) -> None:
    root = project(tmp_path, {"lakefile.toml": MATH_TEMPLATE_TOML, "Defialgebra/Basic.lean": ""})
    got = lake_lean_args(root, root / "Defialgebra" / "Basic.lean")
    assert got.args == [
        "-Dpp.unicode.fun=true",
        "-DrelaxedAutoImplicit=false",
        "-Dweak.linter.mathlibStandardSet=true",
        "-DmaxSynthPendingDepth=3",
    ]
    assert got.warnings == []
    assert got.library == "Defialgebra"


def test_toml_library_options_follow_the_package_and_only_for_its_own_files(
    tmp_path: Path,
) -> None:
    toml = """\
name = "proj"
srcDir = "src"
moreLeanArgs = ["-DmaxRecDepth=2000"]
weakLeanArgs = ["-DwarningAsError=true"]

[leanOptions]
autoImplicit = false

[[lean_lib]]
name = "Plain"

[[lean_lib]]
name = "Strict"
srcDir = "strict"
roots = ["Strict", "Extra.Thing"]
leanOptions = { linter.all = true, maxHeartbeats = 400000 }
moreLeanArgs = ["-DmaxHeartbeats=500000"]
weakLeanArgs = ["-Dlinter.style=true"]
"""
    root = project(
        tmp_path,
        {
            "lakefile.toml": toml,
            "src/Plain/A.lean": "",
            "src/strict/Strict/B.lean": "",
            "src/strict/Extra/Thing.lean": "",
            "src/strict/Extra/Other.lean": "",
            "Scratch.lean": "",
        },
    )
    package_args = ["-DautoImplicit=false", "-DmaxRecDepth=2000"]
    plain = lake_lean_args(root, root / "src/Plain/A.lean")
    assert plain.args == ["-DwarningAsError=true", *package_args]
    assert plain.library == "Plain"
    strict = lake_lean_args(root, root / "src/strict/Strict/B.lean")
    assert strict.args == [
        "-DwarningAsError=true",
        "-Dlinter.style=true",
        *package_args,
        "-Dlinter.all=true",
        "-DmaxHeartbeats=400000",
        "-DmaxHeartbeats=500000",
    ]
    assert lake_lean_args(root, root / "src/strict/Extra/Thing.lean").library == "Strict"
    # `Extra.Other` is under Strict's directory but no root or glob of it names that module.
    other = lake_lean_args(root, root / "src/strict/Extra/Other.lean")
    assert other.library is None
    assert other.args == ["-DwarningAsError=true", *package_args]
    # A file in no library gets the package's settings only.
    assert lake_lean_args(root, root / "Scratch.lean").args == plain.args


def test_toml_globs_and_array_form_options(tmp_path: Path) -> None:
    toml = """\
name = "proj"
leanOptions = [{name = "pp.all", value = true}, {name = "trace.profiler.output", value = "x y"}]

[[lean_lib]]
name = "Lib"
globs = ["Lib.+", "Tests.*"]
leanOptions = [["autoImplicit", false]]
"""
    root = project(tmp_path, {"lakefile.toml": toml, "Tests/T.lean": "", "Lib/A/B.lean": ""})
    tests = lake_lean_args(root, root / "Tests" / "T.lean")
    assert tests.library == "Lib"
    assert tests.args == [
        "-Dpp.all=true",
        '-Dtrace.profiler.output="x y"',  # asCliFlagValue quotes strings
        "-DautoImplicit=false",
    ]
    assert lake_lean_args(root, root / "Lib" / "A" / "B.lean").library == "Lib"


@pytest.mark.parametrize(
    ("value", "what"),
    [("1.5", "leanOptions"), ("-3", "leanOptions"), ('"x"', "leanOptions")],
)
def test_toml_values_lake_cannot_hold_are_named_not_guessed(
    tmp_path: Path, value: str, what: str
) -> None:
    toml = f'name = "p"\nleanOptions = {value}\n'
    if value != '"x"':
        toml = f'name = "p"\n[leanOptions]\nfoo = {value}\n'
    root = project(tmp_path, {"lakefile.toml": toml, "A.lean": ""})
    got = lake_lean_args(root, root / "A.lean")
    assert got.args == []
    assert len(got.warnings) == 1
    assert f"`{what}`" in got.warnings[0] and "lakefile.toml" in got.warnings[0]


def test_invalid_toml_gives_one_warning(tmp_path: Path) -> None:
    root = project(tmp_path, {"lakefile.toml": "name = \n[leanOptions\n", "A.lean": ""})
    got = lake_lean_args(root, root / "A.lean")
    assert got.args == []
    assert len(got.warnings) == 1 and "not valid TOML" in got.warnings[0]


# lean4 tests/lake/tests/cache/lakefile.lean (Lake's own test suite).
LAKE_CACHE_TEST = """\
import Lake
open System Lake DSL

package test where
  enableArtifactCache := true
  restoreAllArtifacts := get_config? restoreAll |>.isSome

lean_lib Test

lean_lib Module where
  leanOptions := #[⟨`experimental.module, true⟩]

lean_lib Ignored

lean_exe test where
  root := `Main
"""


def test_lakes_own_test_lakefile_applies_the_library_option_to_its_files_only(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path, {"lakefile.lean": LAKE_CACHE_TEST, "Module.lean": "", "Test/X.lean": ""}
    )
    module = lake_lean_args(root, root / "Module.lean")
    assert module.args == ["-Dexperimental.module=true"]
    assert module.library == "Module"
    # Computed fields leanloop does not need (`restoreAllArtifacts`) are no reason to warn.
    assert module.warnings == []
    test = lake_lean_args(root, root / "Test" / "X.lean")
    assert (test.args, test.library, test.warnings) == ([], "Test", [])


def test_lean_template_with_comments_and_guillemets(tmp_path: Path) -> None:
    lakefile = """\
import Lake
open Lake DSL

package «lean_project» where
  -- Settings applied to both builds and interactive editing
  leanOptions := #[
    ⟨`pp.unicode.fun, true⟩, -- pretty-prints `fun a ↦ b`
    ⟨`pp.proofs.withType, false⟩
  ]
  -- leanOptions := #[⟨`autoImplicit, true⟩]
  -- add package configuration options here

/- moreLeanArgs := #["-DmaxHeartbeats=1"] -/

@[default_target]
lean_lib «LeanProject» where
  srcDir := "src"
  leanOptions := #[⟨`autoImplicit, false⟩, ⟨`maxHeartbeats, 400000⟩, ⟨`foo, "a \\"b\\""⟩]
  moreLeanArgs := #["-DmaxRecDepth=5000", "-Dlinter.all=true"]
"""
    root = project(tmp_path, {"lakefile.lean": lakefile, "src/LeanProject/Basic.lean": ""})
    got = lake_lean_args(root, root / "src" / "LeanProject" / "Basic.lean")
    assert got.warnings == []
    assert got.library == "LeanProject"
    assert got.args == [
        "-Dpp.unicode.fun=true",
        "-Dpp.proofs.withType=false",
        "-DautoImplicit=false",
        "-DmaxHeartbeats=400000",
        '-Dfoo="a "b""',
        "-DmaxRecDepth=5000",
        "-Dlinter.all=true",
    ]
    # The library's settings are not applied outside its source directory.
    (root / "Other.lean").write_text("", encoding="utf-8")
    assert lake_lean_args(root, root / "Other.lean").args == got.args[:2]


def test_lean_structure_instance_form_and_globs(tmp_path: Path) -> None:
    lakefile = """\
import Lake
open Lake DSL

package foo {
  weakLeanArgs := #["-DwarningAsError=true"],
  leanOptions := #[⟨`autoImplicit, false⟩]
}

lean_lib Foo where
  globs := #[.submodules `Foo, Glob.one `Bar]
  moreLeanArgs := #["-DmaxHeartbeats=1"]
"""
    root = project(tmp_path, {"lakefile.lean": lakefile, "Foo/A.lean": "", "Bar.lean": ""})
    a = lake_lean_args(root, root / "Foo" / "A.lean")
    assert a.warnings == []
    assert a.args == ["-DwarningAsError=true", "-DautoImplicit=false", "-DmaxHeartbeats=1"]
    assert lake_lean_args(root, root / "Bar.lean").library == "Foo"


# lean4 test/50/foo/lakefile.lean: `moreLeanArgs` computed from `get_config?`.
COMPUTED_MORE_LEAN_ARGS = """\
import Lake
open Lake DSL

package foo where
  moreLeanArgs := get_config? leanArgs |>.getD "" |>.splitOn " " |>.toArray
  moreLeancArgs := get_config? leancArgs |>.getD "" |>.splitOn " " |>.toArray

@[defaultTarget]
lean_exe foo
"""


@pytest.mark.parametrize(
    ("lakefile", "field"),
    [
        (COMPUTED_MORE_LEAN_ARGS, "moreLeanArgs"),
        (
            "import Lake\nopen Lake DSL\ndef opts := #[⟨`autoImplicit, false⟩]\n"
            "package p where\n  leanOptions := opts\n",
            "leanOptions",
        ),
        (
            "import Lake\nopen Lake DSL\npackage p where\n"
            "  leanOptions := #[⟨`autoImplicit, false⟩] ++ extra\n",
            "leanOptions",
        ),
        (
            "import Lake\nopen Lake DSL\npackage p where\n"
            '  moreLeanArgs := if get_config? ci |>.isSome then #["-DwarningAsError=true"] '
            "else #[]\n",
            "moreLeanArgs",
        ),
        (
            "import Lake\nopen Lake DSL\npackage p where\n"
            '  moreLeanArgs := #[s!"-DmaxHeartbeats={n}"]\n',
            "moreLeanArgs",
        ),
        (
            "import Lake\nopen Lake DSL\npackage p where\n"
            "  leanOptions := #[⟨`maxHeartbeats, 2 * 200000⟩]\n",
            "leanOptions",
        ),
    ],
    ids=["get_config", "def", "append", "if", "interpolation", "arithmetic"],
)
def test_computed_lean_values_are_named_in_a_warning(
    tmp_path: Path, lakefile: str, field: str
) -> None:
    root = project(tmp_path, {"lakefile.lean": lakefile, "A.lean": ""})
    got = lake_lean_args(root, root / "A.lean")
    assert got.args == []
    assert len(got.warnings) == 1, got.warnings
    assert f"`{field}`" in got.warnings[0] and "lakefile.lean" in got.warnings[0]


def test_a_library_whose_place_is_computed_is_not_silently_skipped(tmp_path: Path) -> None:
    lakefile = """\
import Lake
open Lake DSL
package p where
  leanOptions := #[⟨`autoImplicit, false⟩]
lean_lib L where
  srcDir := dir / "src"
  leanOptions := #[⟨`linter.all, true⟩]
"""
    root = project(tmp_path, {"lakefile.lean": lakefile, "src/L/A.lean": ""})
    got = lake_lean_args(root, root / "src" / "L" / "A.lean")
    assert got.args == ["-DautoImplicit=false"]
    assert any("`lean_lib L`" in w and "A.lean" in w for w in got.warnings)


def test_lakefile_lean_wins_over_toml_and_no_package_is_a_warning(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "lakefile.toml": 'name = "p"\n[leanOptions]\nautoImplicit = true\n',
            "lakefile.lean": "import Lake\nopen Lake DSL\n-- nothing here\n",
            "A.lean": "",
        },
    )
    got = lake_lean_args(root, root / "A.lean")
    assert got.args == []
    assert len(got.warnings) == 1 and "no `package`" in got.warnings[0]


def test_no_lakefile_means_no_arguments(tmp_path: Path) -> None:
    assert lake_lean_args(tmp_path, tmp_path / "A.lean").model_dump() == {
        "args": [],
        "warnings": [],
        "library": None,
    }


def test_option_arg_matches_lakes_as_cli_arg() -> None:
    assert option_arg("autoImplicit", False) == "-DautoImplicit=false"
    assert option_arg("maxHeartbeats", 0) == "-DmaxHeartbeats=0"
    assert option_arg("x", "s") == '-Dx="s"'


def test_this_repositorys_own_lakefile(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    file = repo / "lean_workspace" / "LeanloopExamples" / "Basic.lean"
    got = lake_lean_args(repo, file)
    assert (got.args, got.library, got.warnings) == (
        ["-DautoImplicit=false"],
        "LeanloopExamples",
        [],
    )
