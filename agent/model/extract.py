"""Getting a proof out of a model's answer.

The answer is untrusted text: we take the last fenced Lean block (or the raw text), drop
reasoning sections, and accept a restated theorem only when its statement is the original one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leanloop.source import LeanDocument, TokenKind
from leanloop.source.scanner import UnterminatedError, code_tokens
from leanloop.source.targets import Target

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Extracted:
    proof: str
    whole_body: bool  # the model restated the theorem; ``proof`` replaces the whole body


class ExtractionError(ValueError):
    """The answer held no usable proof. ``str(e)`` is fed back to the model (it says "you");
    ``for_user`` is the same problem told to the person running leanloop."""

    def __init__(self, for_model: str, for_user: str) -> None:
        super().__init__(for_model)
        self.for_user = for_user


def _code(answer: str) -> str:
    text = _THINK.sub("", answer).strip()
    blocks = [(m["lang"].lower(), m["body"]) for m in _FENCE.finditer(text)]
    lean = [b for lang, b in blocks if lang in ("lean", "lean4")]
    if lean:
        return lean[-1].strip("\n")
    if blocks:
        return blocks[-1][1].strip("\n")
    return text


def _looks_like_prose(text: str) -> bool:
    first = text.strip().splitlines()[0] if text.strip() else ""
    words = first.split()
    return (
        len(words) >= 6 and first.rstrip().endswith((".", ":", "!", "?")) and (first[0].isupper())
    )


def _statement_tokens(text: str, start: int, end: int) -> list[str]:
    return [t.text for t in code_tokens(text[start:end])]


def extract(answer: str, doc: LeanDocument, target: Target) -> Extracted:
    code = _code(answer)
    if not code.strip():
        raise ExtractionError(
            "Your answer contained no Lean code.", "The model's answer held no Lean code."
        )
    try:
        sub = LeanDocument(code)
    except UnterminatedError as e:
        raise ExtractionError(
            f"Your Lean code has an {e}.", f"The model's Lean code has an {e}."
        ) from None
    if any(d.is_proof for d in sub.declarations):
        return _from_restatement(code, sub, doc, target)
    if _looks_like_prose(code):
        raise ExtractionError(
            "Your answer was prose, not Lean code; reply with a ```lean block.",
            "The model answered in prose, not Lean code.",
        )
    if code.lstrip().startswith(":="):
        code = code.lstrip()[2:].lstrip(" ")
    if target.mode == "tactic" and not target.whole_body and re.match(r"by(\s|$)", code.lstrip()):
        # `by` is not a tactic: where the hole is a tactic, its tactic block is what we want.
        code = code.lstrip()[2:].lstrip(" \t").lstrip("\r\n")
    return Extracted(code, False)


def _from_restatement(code: str, sub: LeanDocument, doc: LeanDocument, target: Target) -> Extracted:
    orig = target.decl
    assert orig.header_end is not None
    want_name = orig.name
    candidates = [
        d
        for d in sub.declarations
        if d.header_end is not None and (orig.name is None or d.name in (want_name, orig.full_name))
    ]
    if not candidates:
        raise ExtractionError(
            f"Your code states a different theorem; prove `{target.name}` as stated.",
            f"The model stated a different theorem instead of proving `{target.name}`.",
        )
    d = candidates[-1]
    assert d.header_end is not None and d.body_start is not None
    after_name = orig.name_end if orig.name_end is not None else orig.keyword + len(orig.kind)
    sub_after = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
    if _statement_tokens(doc.text, after_name, orig.header_end) != _statement_tokens(
        code, sub_after, d.header_end
    ):
        raise ExtractionError(
            "The theorem statement in your answer differs from the original; do not change "
            "the statement.",
            "The model changed the theorem statement; that answer was not used.",
        )
    body = code[d.body_start : d.end]
    if not any(t.kind is not TokenKind.COMMENT for t in code_tokens(body)):
        raise ExtractionError(
            "Your restated theorem has no proof after `:=`.",
            "The model restated the theorem without a proof after `:=`.",
        )
    return Extracted(body.strip(), True)
