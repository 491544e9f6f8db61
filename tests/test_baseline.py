"""Reasons to stop before any model call, read from Lean's run on the untouched file."""

from __future__ import annotations

from leanloop.errors import LeanNotBuiltError, LeanNotFoundError
from leanloop.lean.checker import LeanResult
from leanloop.lean.messages import LeanMessage
from leanloop.prove import baseline_problem


def _result(**kw: object) -> LeanResult:
    base: dict[str, object] = {"status": "ok", "messages": [], "exit_code": 0}
    base.update(kw)
    return LeanResult.model_validate(base)


def test_clean_run_is_no_problem() -> None:
    assert baseline_problem(_result()) is None


def test_not_built_import_says_lake_build() -> None:
    msg = LeanMessage.model_validate({
        "pos": {"line": 1, "column": 0}, "severity": "error",
        "data": "object file /p/.lake/build/lib/lean/Foo/Bar.olean of module Foo.Bar "
                "does not exist",
    })  # fmt: skip
    problem = baseline_problem(_result(messages=[msg], exit_code=1))
    assert isinstance(problem, LeanNotBuiltError)
    assert "Foo.Bar" in str(problem) and "lake build" in str(problem)


def test_read_only_project_in_the_cage_gets_a_hint() -> None:
    problem = baseline_problem(
        _result(status="crashed", exit_code=1,
                excerpt="error: failed to write '.lake/lakefile.olean': Read-only file system")
    )  # fmt: skip
    assert problem is not None
    assert "lake build" in str(problem) and "--sandbox off" in str(problem)


def test_missing_executable_is_lean_not_found() -> None:
    problem = baseline_problem(_result(status="start_failed", exit_code=None, excerpt="lake: x"))
    assert isinstance(problem, LeanNotFoundError)
