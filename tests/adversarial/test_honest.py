"""Every honest proof in the corpus is accepted by the gate: zero false rejections."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean
from gate_harness import Judged, judge_case, pick_target
from honest import HONEST, Honest

from leanloop.gate import Reason, sentinel_command
from leanloop.model.extract import ExtractionError, extract
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import LeanDocument, code_tokens
from leanloop.source.targets import Target, splice

Judge = Callable[..., Awaitable[Judged]]


@pytest.fixture
def run_judge(fake_lean: FakeLean, tmp_path: Path) -> Judge:
    """``await run_judge(file, theorem, proof, **options)`` runs the gate against the fake Lean."""
    return functools.partial(judge_case, fake_lean, tmp_path)


def _param(case: Honest) -> object:
    marks = (
        [pytest.mark.xfail(strict=True, raises=AssertionError, reason=case.bug)] if case.bug else []
    )
    return pytest.param(case, id=case.id, marks=marks)


def test_corpus_shape() -> None:
    ids = [c.id for c in HONEST]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    assert len([c for c in HONEST if c.bug is None]) >= 32
    for case in HONEST:
        assert "sorry" in case.file, case.id


@pytest.mark.parametrize("case", [_param(c) for c in HONEST])
async def test_honest_proof_is_accepted(
    case: Honest, run_judge: Judge, fake_lean: FakeLean
) -> None:
    judged = await run_judge(case.file, case.theorem, case.proof, whole_body=case.whole_body)
    verdict = judged.verdict
    assert verdict.accepted, f"false rejection ({verdict.reason}): {verdict.message}"
    assert verdict.reason is None
    assert verdict.native is False
    sources = fake_lean.checked_sources()
    assert len(sources) == 1
    checked = sources[-1]
    # Lean saw the proof as spliced into the hole, the identity check and the sentinel.
    spliced = splice(judged.doc, judged.target, case.proof, whole_body=case.whole_body)
    proofs = [case.proof] if isinstance(case.proof, str) else case.proof

    # Every line as it will stand in the user's file, at its column: the checked text only adds
    # parentheses (and a line break after an opening one), and moves `where` helpers into a
    # `let rec` (their `where` keyword is not checked text).
    def bare(line: str) -> str:
        return line.split("--")[0].replace("(", "").replace(")", "").rstrip().rstrip(",")

    shown = {bare(ln) for ln in checked.splitlines()}
    for part in spliced.parts:
        laid_out = spliced.text[part.proof_start : part.proof_end]
        for line in laid_out.splitlines()[1:]:
            if bare(line).strip() and not bare(line).lstrip().startswith("where"):
                assert bare(line) in shown, line
    # Every token of the proof but `where` (helpers come as `let rec` before the body there).
    assert not Counter(
        t.text for p in proofs for t in code_tokens(p) if t.text != "where"
    ) - Counter(t.text for t in code_tokens(checked))
    assert sentinel_command(judged.target.check_name) in checked
    assert "type_of%" in checked
    last = spliced.text[spliced.parts[-1].proof_start : spliced.parts[-1].proof_end]
    assert checked.index("type_of%") > checked.index(code_tokens(last)[-1].text)


def test_honest_proofs_pass_the_screen() -> None:
    """The cheapest layer alone: no honest proof trips the static screen."""
    policy = Policy.build()
    for case in HONEST:
        if case.bug is None:
            for proof in [case.proof] if isinstance(case.proof, str) else case.proof:
                assert screen(proof, policy) is None, case.id


# ---------------------------------------------------------------------------------------------
# Whole-body answers go through `extract` first: a restated theorem must keep its statement.

FILE = "theorem t (a b : Nat) (h : a = b) : b = a := by\n  sorry\n"


def _target() -> tuple[LeanDocument, Target]:
    doc = LeanDocument(FILE)
    return doc, pick_target(doc, "t")


@pytest.mark.parametrize(
    "answer",
    [
        # A weaker statement with the same name.
        "```lean\ntheorem t (a b : Nat) (h : a = b) : a = a := by\n  rfl\n```",
        # An extra hypothesis that makes it trivial.
        "```lean\ntheorem t (a b : Nat) (h : a = b) (h' : b = a) : b = a := h'\n```",
        # A different binder type.
        "```lean\ntheorem t (a b : Int) (h : a = b) : b = a := h.symm\n```",
        # A differently named theorem.
        "```lean\ntheorem t' (a b : Nat) (h : a = b) : b = a := h.symm\n```",
    ],
    ids=["weaker", "extra-hypothesis", "other-type", "other-name"],
)
def test_restated_theorem_must_keep_its_statement(answer: str) -> None:
    doc, target = _target()
    with pytest.raises(ExtractionError):
        extract(answer, doc, target)


async def test_restated_theorem_with_same_statement_is_judged_whole_body(
    run_judge: Judge, fake_lean: FakeLean
) -> None:
    doc, target = _target()
    answer = (
        "Here is the proof.\n```lean\n"
        "theorem t (a b : Nat) (h : a = b) : b = a := by\n  rw [h]\n```"
    )
    extracted = extract(answer, doc, target)
    assert extracted.whole_body
    judged = await run_judge(FILE, "t", extracted.proof, whole_body=extracted.whole_body)
    assert judged.verdict.accepted, judged.verdict.message
    assert "rw [h]" in fake_lean.checked_sources()[-1]


async def test_restated_theorem_smuggling_a_command_is_rejected(
    run_judge: Judge, fake_lean: FakeLean
) -> None:
    doc, target = _target()
    answer = (
        "```lean\ntheorem t (a b : Nat) (h : a = b) : b = a := by\n  exact h.symm\n    #exit\n```"
    )
    extracted = extract(answer, doc, target)
    judged = await run_judge(FILE, "t", extracted.proof, whole_body=extracted.whole_body)
    assert not judged.verdict.accepted
    assert judged.verdict.reason == Reason.FORBIDDEN
    assert fake_lean.invocations() == []
