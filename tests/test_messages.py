"""Reading Lean's output: typed messages, `#print axioms` answers, goals, junk and crashes.

Inputs are real recordings (tests/data/lean-reference, copied from ../shared/lean-reference) or
lines in the exact `lean --json` format those recordings document."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from doubles.fake_lean import FakeLean

from leanloop.gate import is_native
from leanloop.lean.checker import interpret
from leanloop.lean.messages import (
    AxiomReport,
    LeanMessage,
    NotBuilt,
    Position,
    Severity,
    goals_of,
    max_errors_reached,
    missing_module,
    not_built,
    parse_axioms,
    parse_json_lines,
)
from leanloop.lean.runner import ProcessResult
from leanloop.source import LeanDocument

DATA = Path(__file__).parent / "data" / "lean-reference"
CRASH_LOG = next(DATA.glob("failure_crash_partial_json_stdout__*.log"))
LAKE_LOG = next(DATA.glob("failure_small_unsolved_goals__*.log"))


def guard_entries() -> list[dict[str, Any]]:
    current = json.loads((DATA / "lean-by-example_guard_msgs.json").read_text("utf-8"))
    drift = json.loads((DATA / "lean-by-example_axioms_drift_v4.9-v4.26.json").read_text("utf-8"))
    entries = list(current["entries"])
    for version in drift["versions"].values():
        entries.extend(version["entries"])
    return entries


def proc(stdout: str = "", stderr: str = "", exit_code: int | None = 0, **kw: Any) -> ProcessResult:
    return ProcessResult(
        argv=["lean", "--json", "T.lean"],
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        timed_out=kw.pop("timed_out", False),
        seconds=kw.pop("seconds", 0.5),
        **kw,
    )


# ---------------------------------------------------------------------------------------------
# JSON lines


def test_json_lines_in_either_key_order_with_null_end_pos() -> None:
    a = (
        '{"severity":"error","pos":{"line":3,"column":4},"endPos":null,"fileName":"T.lean",'
        '"data":"unexpected token \'at\'; expected term","caption":"","keepFullRange":false,'
        '"isSilent":false,"kind":"[anonymous]"}'
    )
    b = (
        '{"severity":"warning","pos":{"column":8,"line":1},"kind":"[anonymous]",'
        '"keepFullRange":false,"isSilent":false,"fileName":"T.lean",'
        '"endPos":{"column":9,"line":1},"data":"declaration uses `sorry`","caption":""}'
    )
    c = '{"fileName":"T.lean","pos":{"line":5,"column":0},"severity":"information","data":"hi"}'
    parsed = parse_json_lines(f"{a}\n\n{b}\r\n{c}\n")
    assert parsed.junk == []
    first, second, third = parsed.messages
    assert (first.severity, first.pos, first.end_pos) == (
        Severity.ERROR,
        Position(line=3, column=4),
        None,
    )
    assert first.is_error and first.data.startswith("unexpected token")
    assert second.pos == Position(line=1, column=8)
    assert second.end_pos == Position(line=1, column=9)
    assert second.is_sorry_warning
    assert third.severity is Severity.INFORMATION and third.kind is None


def test_repl_style_info_severity_and_old_sorry_quoting() -> None:
    msg = LeanMessage.model_validate(
        {
            "pos": {"line": 1, "column": 0},
            "severity": "info",
            "data": "'t' does not depend on any axioms",
        }
    )
    assert msg.severity is Severity.INFORMATION
    old = LeanMessage.model_validate(
        {"pos": {"line": 1, "column": 8}, "severity": "warning", "data": "declaration uses 'sorry'"}
    )
    assert old.is_sorry_warning


def test_partial_json_from_a_real_crash_is_junk_not_an_exception() -> None:
    log = CRASH_LOG.read_text("utf-8")
    [partial] = [ln for ln in log.splitlines() if ln.startswith('{"severity"')]
    assert not partial.rstrip().endswith("}")  # truncated by the crash
    parsed = parse_json_lines(partial + "\n")
    assert (parsed.messages, parsed.junk) == ([], [partial])
    # the whole lake log is not Lean JSON either: every non-blank line is kept as junk
    whole = parse_json_lines(log)
    assert whole.messages == []
    assert len(whole.junk) == len([ln for ln in log.splitlines() if ln.strip()])


def test_crash_with_partial_json_becomes_a_crashed_result_with_the_excerpt() -> None:
    log = CRASH_LOG.read_text("utf-8")
    [partial] = [ln for ln in log.splitlines() if ln.startswith('{"severity"')]
    result = interpret(
        proc(stdout=partial, stderr="Stack overflow detected. Aborting.\n", exit_code=134)
    )
    assert result.status == "crashed"
    assert result.exit_code == 134
    assert "Stack overflow detected" in result.excerpt
    assert "crashed (exit code 134)" in result.describe()


@pytest.mark.parametrize(
    ("stdout", "exit_code", "status"),
    [
        ("", 0, "ok"),
        ('{"severity":"error","pos":{"line":1,"column":0},"data":"boom"}\n', 1, "ok"),
        ("", 1, "crashed"),  # exit 1 with no error message: something else went wrong
        ("", 137, "crashed"),
        ("not json at all\n", 0, "junk"),
        (LAKE_LOG.read_text("utf-8"), 1, "crashed"),
    ],
)
def test_process_outcomes(stdout: str, exit_code: int, status: str) -> None:
    assert interpret(proc(stdout=stdout, exit_code=exit_code)).status == status


def test_timeout_and_start_failure_are_verdicts() -> None:
    timed = interpret(proc(exit_code=None, timed_out=True, seconds=2.0))
    assert timed.status == "timeout"
    assert "time limit" in timed.describe()
    missing = interpret(proc(exit_code=None, start_error="lean: No such file or directory"))
    assert missing.status == "start_failed"
    assert "could not be started" in missing.describe()


# ---------------------------------------------------------------------------------------------
# #print axioms


def test_every_recorded_print_axioms_text_parses() -> None:
    seen = 0
    for entry in guard_entries():
        command = entry.get("command") or ""
        guard = entry.get("guard_line") or ""
        m = re.search(r"#print axioms (\S+)", command + " " + guard)
        if m is None:
            continue
        report = parse_axioms(entry["message"])
        assert isinstance(report, AxiomReport), entry["message"]
        printed = re.match(r"^'(.*)' ", entry["message"])
        assert printed is not None
        assert report.name == printed[1]
        assert report.name.endswith(m[1].rsplit(".", 1)[-1])
        seen += 1
    assert seen >= 40


def test_no_axioms_and_standard_axioms() -> None:
    none = parse_axioms("'Nat.add_zero' does not depend on any axioms")
    assert none == AxiomReport(name="Nat.add_zero", axioms=[])
    assert none.nonstandard == []
    em = parse_axioms("'Classical.em' depends on axioms: [propext, Classical.choice, Quot.sound]")
    assert em is not None and em.nonstandard == []
    primed = parse_axioms("'not_neg_iff'' depends on axioms: [propext]")
    assert primed == AxiomReport(name="not_neg_iff'", axioms=["propext"])


def test_sorry_and_native_decide_axioms_are_nonstandard() -> None:
    t = parse_axioms("'T' depends on axioms: [propext, sorryAx]")
    assert t is not None and t.nonstandard == ["sorryAx"]
    aux = parse_axioms("'native_thm' depends on axioms: [native_thm._native.native_decide.ax_1_1]")
    assert aux is not None
    assert aux.nonstandard == ["native_thm._native.native_decide.ax_1_1"]
    assert all(is_native(a) for a in aux.nonstandard)
    old = parse_axioms(
        "'zero_ne_eq_one' depends on axioms: [Lean.ofReduceBool, Lean.trustCompiler]"
    )
    assert old is not None and all(is_native(a) for a in old.nonstandard)


def test_long_axiom_list_wrapped_over_lines() -> None:
    report = parse_axioms(
        "'big' depends on axioms: [propext,\n  Classical.choice,\n"
        "  big._native.native_decide.ax_1_1]\n"
    )
    assert report == AxiomReport(
        name="big", axioms=["propext", "Classical.choice", "big._native.native_decide.ax_1_1"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "'Nat.div_add_mod' is non-classical and depends on axioms: [propext]",
        "axiom propext : ∀ {a b : Prop}, (a ↔ b) → a = b",
        "Goals accomplished 🎉",
        "",
    ],
)
def test_other_information_is_not_an_axiom_report(text: str) -> None:
    assert parse_axioms(text) is None


# ---------------------------------------------------------------------------------------------
# goals, missing modules, columns


def test_goals_of_a_recorded_unsolved_goals_error() -> None:
    out = (DATA / "exactErrorPos.expected.out").read_text("utf-8")
    # the second message of the recording, as `--json` would carry it in `data`
    m = re.search(
        r"^exactErrorPos\.lean:3:99-4:14: error: (unsolved goals\n.*?)(?=^exactErrorPos)",
        out,
        re.M | re.S,
    )
    assert m is not None
    msg = LeanMessage.model_validate(
        {"pos": {"line": 3, "column": 99}, "severity": "error", "data": m[1].rstrip("\n")}
    )
    goals = goals_of(msg)
    assert goals is not None
    assert goals.splitlines()[0] == "f : Nat → Nat"
    assert goals.splitlines()[-1] == "⊢ f x = x"
    other = msg.model_copy(update={"data": "don't know how to synthesize placeholder"})
    assert goals_of(other) is None


def test_missing_olean_is_recognised() -> None:
    msg = LeanMessage.model_validate(
        {
            "pos": {"line": 1, "column": 0},
            "severity": "error",
            "data": "object file /p/.lake/build/lib/lean/Mathlib/Tactic.olean of module "
            "Mathlib.Tactic does not exist",
        }
    )
    assert missing_module([msg]) == "Mathlib.Tactic"
    assert missing_module([msg.model_copy(update={"severity": Severity.WARNING})]) is None


def _error(data: str, line: int = 1, column: int = 0) -> LeanMessage:
    return LeanMessage(pos=Position(line=line, column=column), severity=Severity.ERROR, data=data)


# The texts below are built from Lean's source (no recording has them): `findOLeanParts` in
# src/Lean/Environment.lean and `lean_read_module_data` in src/library/module.cpp.
@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/home/me/My Proofs/.lake/build/lib/lean/Foo/Bar.olean", "Foo.Bar"),
        ("./.lake/packages/mathlib/.lake/build/lib/lean/Mathlib/Tactic.olean", "Mathlib.Tactic"),
        ("/usr/lib/x/.lake/build/lib/lean/A/B.olean", "A.B"),
        ("C:\\Users\\A B\\proj\\.lake\\build\\lib\\lean\\Foo.olean", "Foo"),
    ],
)
def test_quoted_missing_olean_paths_may_hold_spaces(path: str, module: str) -> None:
    msg = _error(f"object file '{path}' of module {module} does not exist")
    found = not_built([msg])
    assert found is not None
    assert (found.kind, found.module, found.path) == ("missing", module, path)
    assert missing_module([msg]) == module
    assert "`lake build`" in found.describe() and module in found.describe()


def test_unknown_module_prefix_is_not_built() -> None:
    msg = _error(
        "unknown module prefix 'Mathlib'\n\nNo directory 'Mathlib' or file 'Mathlib.olean' in "
        "the search path entries:\n/home/me/.elan/toolchains/x/lib/lean"
    )
    assert missing_module([msg]) == "Mathlib"


@pytest.mark.parametrize("what", ["invalid", "incompatible"])
def test_oleans_from_another_toolchain_say_rebuild(what: str) -> None:
    path = "/home/me/My Proofs/.lake/build/lib/lean/Foo/Bar.olean"
    msg = _error(f"failed to read file '{path}', {what} header")
    found = not_built([msg])
    assert found is not None
    assert (found.kind, found.module, found.path) == ("stale", "Foo.Bar", path)
    assert missing_module([msg]) == "Foo.Bar"
    elan = "/home/me/.elan/toolchains/leanprover--lean4---v4.9.0/lib/lean/Init/Prelude.olean"
    assert not_built([_error(f"failed to read file '{elan}', {what} header")]) == NotBuilt(
        kind="stale", module="Init.Prelude", path=elan
    )
    tricky = "/usr/lib/x/.lake/build/lib/lean/A/B.olean"
    assert missing_module([_error(f"failed to read file '{tricky}', {what} header")]) == "A.B"
    text = found.describe()
    assert "another Lean toolchain" in text and "`lake build`" in text and path in text
    # a warning with the same words is not Lean failing to load anything
    assert not_built([msg.model_copy(update={"severity": Severity.WARNING})]) is None


def test_unreadable_file_outside_a_lake_build_is_named_by_its_path() -> None:
    msg = _error("failed to read file '/tmp/x/Weird.bin', incompatible header")
    found = not_built([msg])
    assert found is not None and found.module is None
    assert missing_module([msg]) == "/tmp/x/Weird.bin"


def test_not_built_is_exposed_on_the_result() -> None:
    line = json.dumps(
        {
            "severity": "error",
            "pos": {"line": 1, "column": 0},
            "endPos": None,
            "data": "failed to read file '/p/.lake/build/lib/lean/A.olean', incompatible header",
        }
    )
    result = interpret(proc(stdout=line + "\n", exit_code=1))
    assert result.status == "ok"
    assert result.not_built is not None and result.not_built.kind == "stale"
    assert result.missing_module == "A"


# `reportMessages` in src/Lean/Language/Basic.lean (lean4 PR #10262): the error past the limit
# is printed in its place, as a JSON message under `--json`, and Lean exits with code 1.
MAX_ERRORS = "maximum number of errors (100; from option `maxErrors`) reached, exiting"


def test_max_errors_json_message_is_a_failed_check() -> None:
    lines = [
        json.dumps({"severity": "error", "pos": {"line": i, "column": 2}, "data": "boom"})
        for i in range(1, 101)
    ]
    lines.append(
        json.dumps({"severity": "error", "pos": {"line": 101, "column": 2}, "data": MAX_ERRORS})
    )
    result = interpret(proc(stdout="\n".join(lines) + "\n", exit_code=1))
    assert result.status == "ok"
    assert len(result.errors) == 101
    assert result.max_errors == 100
    assert "maxErrors" in result.describe() and "100" in result.describe()


def test_max_errors_as_a_bare_line_is_an_error_not_junk() -> None:
    first = json.dumps({"severity": "error", "pos": {"line": 7, "column": 4}, "data": "boom"})
    result = interpret(proc(stdout=f"{first}\n{MAX_ERRORS}\n", exit_code=1))
    assert result.status == "ok"
    assert result.max_errors == 100
    assert [m.data for m in result.errors] == ["boom", MAX_ERRORS]
    assert result.errors[-1].pos == Position(line=7, column=4)
    # other stray output next to it is still junk
    mixed = interpret(proc(stdout=f"{first}\n{MAX_ERRORS}\nhello\n", exit_code=1))
    assert mixed.status == "junk" and mixed.max_errors == 100


def test_max_errors_text_elsewhere_is_not_the_limit() -> None:
    assert max_errors_reached([_error("boom")]) is None
    info = LeanMessage(
        pos=Position(line=1, column=0), severity=Severity.INFORMATION, data=MAX_ERRORS
    )
    assert max_errors_reached([info]) is None
    assert max_errors_reached([_error(f"x {MAX_ERRORS}")]) is None


def test_columns_after_non_ascii_characters(fake_lean: FakeLean, tmp_path: Path) -> None:
    """An error after `α₁` on the same line is placed by code points, as Lean counts."""
    fake_lean.scenario([{"when": "bad_tac", "error": "unknown tactic", "at": "bad_tac"}])
    text = "theorem t (α₁ : Nat) (β₂ : Nat) : α₁ + β₂ = β₂ + α₁ := by bad_tac\n#print axioms t\n"
    path = tmp_path / "T.lean"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run(
        ["lean", "--json", str(path)], capture_output=True, text=True, encoding="utf-8", check=False
    ).stdout
    parsed = parse_json_lines(out)
    assert parsed.junk == []
    [err] = [m for m in parsed.messages if m.is_error]
    doc = LeanDocument(text)
    start = doc.offset(err.pos.line, err.pos.column)
    assert err.end_pos is not None
    end = doc.offset(err.end_pos.line, err.end_pos.column)
    assert text[start:end] == "bad_tac"
    assert err.pos.column != len(text[:start].encode("utf-8"))  # not a byte offset


def test_render_uses_lean_positions() -> None:
    msg = LeanMessage.model_validate(
        {"fileName": "T.lean", "pos": {"line": 2, "column": 4}, "severity": "error", "data": "x"}
    )
    assert msg.render() == "T.lean:2:4: error: x"


def test_try_this_suggestions_old_and_new() -> None:
    from leanloop.lean.messages import try_this

    assert try_this("Try this:\n  [apply] exact Nat.one_pos") == "exact Nat.one_pos"
    assert try_this("Try this: exact Nat.le_succ n") == "exact Nat.le_succ n"
    assert try_this("Try this:\n  [apply] simp only [a,\n    b]") is None  # multi-line: unused
    assert try_this("unsolved goals\n⊢ True") is None


# ---------------------------------------------------------------------------------------------
# The rest of what Lean prints is read here too (issue 20): the REPL's answers, `lean
# --version`, the runtime's `uncaught exception:` lines, and not-built errors in any text.

REPL_RECORDING = DATA / "repl" / "Mathlib" / "exact.expected.out"


def test_recorded_repl_answers_and_their_messages() -> None:
    from leanloop.lean.messages import repl_answer, repl_message

    answers = [
        repl_answer(chunk) for chunk in REPL_RECORDING.read_text("utf-8").split("\n\n") if chunk
    ]
    assert answers[0] == {"env": 0}
    [raw] = answers[1]["messages"]
    # The command started on line 5, column 2 of the file: the message moves with it, and on
    # the command's first line its column too.
    msg = repl_message(raw, 4, 2)
    assert msg is not None
    assert (msg.pos, msg.end_pos) == (Position(line=5, column=10), Position(line=5, column=14))
    assert msg.is_sorry_warning
    info = repl_message(answers[2]["messages"][0])
    assert info is not None and info.severity is Severity.INFORMATION
    assert repl_message({"severity": "error", "data": "no position"}) is None


@pytest.mark.parametrize("text", ['["env", 0]', "{not json", ""])
def test_a_repl_answer_that_is_not_an_object_is_refused(text: str) -> None:
    from leanloop.lean.messages import repl_answer

    with pytest.raises(ValueError):
        repl_answer(text)


@pytest.mark.parametrize(
    ("output", "version"),
    [
        # `Lean.versionHeader` (src/Lean/Shell.lean): version, target, commit, build type.
        ("Lean (version 4.22.0, x86_64-unknown-linux-gnu, commit 0a1b2c3d4e5f, Release)\n",
         "4.22.0"),
        ("Lean (version 4.23.0-rc2, aarch64-apple-darwin, commit 0a1b2c3d4e5f, Release)",
         "4.23.0-rc2"),
        ("Lean (version 4.23.0-nightly-2025-08-01, x86_64-unknown-linux-gnu, Release)",
         "4.23.0-nightly-2025-08-01"),
        ("info: downloading toolchain\nLean (version 4.9.0, commit abc, Release)", "4.9.0"),
        ("lean: command not found", None),
        ("Lake version 5.0.0 (Lean version 4.22.0)", None),
    ],
)  # fmt: skip
def test_lean_version_output(output: str, version: str | None) -> None:
    from leanloop.lean.messages import lean_version, version_header

    assert lean_version(output) == version
    header = version_header(output)
    assert (header is None) == (version is None)
    assert header is None or header.startswith(f"Lean (version {version}")


def test_uncaught_exception_lines() -> None:
    from leanloop.lean.messages import strip_uncaught, uncaught_exceptions

    lines = ["Replaying x", "uncaught exception: (kernel) declaration has metavariables 'f'"]
    assert uncaught_exceptions(lines) == ["(kernel) declaration has metavariables 'f'"]
    assert strip_uncaught(lines[1]) == "(kernel) declaration has metavariables 'f'"
    assert strip_uncaught("  plain ") == "plain"


def test_import_problems_in_any_text() -> None:
    from leanloop.lean.messages import import_problem

    missing = import_problem(
        "uncaught exception: object file '/p/A B.olean' of module A does not exist"
    )
    assert missing == NotBuilt(kind="missing", module="A", path="/p/A B.olean")
    stale = import_problem(
        "failed to read file '/p/.lake/build/lib/lean/Demo/Alg.olean', incompatible header"
    )
    assert stale is not None and (stale.kind, stale.module) == ("stale", "Demo.Alg")
    assert import_problem("unsolved goals") is None


@pytest.mark.parametrize(
    ("line", "declaration"),
    [
        ("(kernel) declaration has metavariables 'Foo.bar'", "Foo.bar"),
        ("uncaught exception: (kernel) deep recursion detected", None),
        ("No such constructor Foo.mk", "Foo.mk"),
        ("Invalid recursor Nat.rec'", "Nat.rec'"),
    ],
)
def test_the_kernels_refusals(line: str, declaration: str | None) -> None:
    from leanloop.lean.messages import kernel_error

    found = kernel_error(line)
    assert found is not None and found.declaration == declaration
    assert kernel_error("Finished with no errors.") is None
