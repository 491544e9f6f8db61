"""Issue 19: a declaration with several holes keeps the user's partial proof. Each `sorry` is
filled in place, each with its own proof, and all are checked together; a whole-body rewrite
happens only when asked for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.model.extract import ExtractionError, extract
from leanloop.prompts import Prompts
from leanloop.source import LeanDocument
from leanloop.source.targets import find_targets

KEY = {"MISTRAL_API_KEY": "test-key"}
PARTIAL = (
    "theorem closure (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
    "  -- the two halves, as the author planned them\n"
    "  constructor\n"
    "  · -- left: from the hypothesis\n"
    "    sorry\n"
    "  · sorry\n"
)


def _target() -> tuple[LeanDocument, Any]:
    doc = LeanDocument(PARTIAL)
    [target] = find_targets(doc)
    return doc, target


def test_one_block_per_hole() -> None:
    doc, target = _target()
    got = extract("```lean\nexact hp\n```\nand\n```lean\nexact hq\n```", doc, target)
    assert got.parts == ("exact hp", "exact hq") and not got.whole_body


def test_a_restatement_that_keeps_the_users_text_gives_the_holes() -> None:
    doc, target = _target()
    answer = (
        "```lean\ntheorem closure (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · exact hp\n  · apply id\n    exact hq\n```"
    )
    got = extract(answer, doc, target)
    assert [p.strip() for p in got.parts] == ["exact hp", "apply id\n    exact hq"]


@pytest.mark.parametrize(
    "answer",
    [
        # A rewrite of the whole body: not without the explicit option.
        "```lean\ntheorem closure (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨hp, hq⟩\n```",
        # One block for two holes.
        "```lean\nexact hp\n```",
        # Three blocks for two holes.
        "```lean\nexact hp\n```\n```lean\nexact hq\n```\n```lean\nrfl\n```",
    ],
)
def test_anything_else_is_sent_back(answer: str) -> None:
    doc, target = _target()
    with pytest.raises(ExtractionError):
        extract(answer, doc, target)


def test_the_prompt_numbers_the_holes_and_asks_for_a_block_each() -> None:
    doc, target = _target()
    text = Prompts().first_request(doc, target, "T.lean", 4000)
    assert "sorry /- 1 -/" in text and "sorry /- 2 -/" in text
    assert "exactly 2 ```lean blocks" in text


def _endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--model", "m", "--samples", "1", *extra]


def test_prove_fills_each_hole_and_keeps_the_rest(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(PARTIAL, encoding="utf-8")
    openai_server.responder = lambda _: "```lean\nexact hp\n```\n```lean\nexact hq\n```"
    proc = cli("prove", "T.lean", *_endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text("utf-8") == PARTIAL.replace("    sorry", "    exact hp").replace(
        "  · sorry", "  · exact hq"
    )
    [target] = json.loads(proc.stdout)["targets"]
    assert target["status"] == "proved"


def test_prove_sends_back_an_error_placed_in_its_proof(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "bad_lemma", "at": "bad_lemma", "error": "unknown identifier"}])
    path = tmp_path / "T.lean"
    path.write_text(PARTIAL, encoding="utf-8")
    answers = iter(
        [
            "```lean\nexact hp\n```\n```lean\nexact bad_lemma\n```",
            "```lean\nexact hp\n```\n```lean\nexact hq\n```",
        ]
    )
    openai_server.responder = lambda _: next(answers)
    proc = cli("prove", "T.lean", *_endpoint(openai_server), "--json", env=KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feedback = openai_server.chat_requests[1]["json"]["messages"][-1]["content"]
    assert "Line 1, column 6 of your proof 2" in feedback
    assert "    exact hp\n  · exact hq\n" in path.read_text("utf-8")
