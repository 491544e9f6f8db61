"""Getting a proof out of a model's answer.

The answer is untrusted text: we take the last fenced Lean block (or the raw text), drop
reasoning sections, and accept a restated theorem only when its statement is the original one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leanloop.source import LeanDocument, TokenKind
from leanloop.source.scanner import UnterminatedError, code_tokens
from leanloop.source.targets import Proof, Target

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Extracted:
    proof: str  # the proof; for a target with several holes, its parts as one text to show
    whole_body: bool  # the model restated the theorem; ``proof`` replaces the whole body
    parts: tuple[str, ...] = ()  # one proof per hole, for a target with several

    @property
    def answer(self) -> Proof:
        """What the gate judges: the proof, or the list of the holes' proofs."""
        return list(self.parts) if self.parts else self.proof

    @classmethod
    def of_parts(cls, parts: list[str]) -> Extracted:
        shown = "\n".join(f"-- sorry {k}\n{p}" for k, p in enumerate(parts, 1))
        return cls(shown, False, tuple(parts))


class ExtractionError(ValueError):
    """The answer held no usable proof. ``str(e)`` is fed back to the model (it says "you");
    ``for_user`` is the same problem told to the person running leanloop."""

    def __init__(self, for_model: str, for_user: str) -> None:
        super().__init__(for_model)
        self.for_user = for_user


def _blocks(answer: str) -> tuple[list[str], str]:
    """The answer's fenced Lean blocks (any fenced blocks when none says Lean), and the answer
    with its reasoning sections dropped."""
    text = _THINK.sub("", answer).strip()
    blocks = [(m["lang"].lower(), m["body"]) for m in _FENCE.finditer(text)]
    lean = [b for lang, b in blocks if lang in ("lean", "lean4")]
    return [b.strip("\n") for b in (lean or [b for _, b in blocks])], text


def _code(answer: str) -> str:
    """The last block, or the whole answer when it has none."""
    blocks, text = _blocks(answer)
    return blocks[-1] if blocks else text


def _looks_like_prose(text: str) -> bool:
    first = text.strip().splitlines()[0] if text.strip() else ""
    words = first.split()
    return (
        len(words) >= 6 and first.rstrip().endswith((".", ":", "!", "?")) and (first[0].isupper())
    )


def _statement_tokens(text: str, start: int, end: int) -> list[str]:
    return [t.text for t in code_tokens(text[start:end])]


def extract(answer: str, doc: LeanDocument, target: Target) -> Extracted:
    if target.parts > 1:
        return _extract_parts(answer, doc, target)
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
    return Extracted(_bare(code, target), False)


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


def _extract_parts(answer: str, doc: LeanDocument, target: Target) -> Extracted:
    """One proof per hole: as many blocks as holes, or the declaration restated with only its
    holes filled (the text around them kept, as the user wrote it)."""
    n = target.parts
    blocks, _ = _blocks(answer)
    for block in reversed(blocks):
        try:
            sub = LeanDocument(block)
        except UnterminatedError:
            continue
        if any(d.is_proof for d in sub.declarations):
            parts = _align(block, sub, doc, target)
            if parts is not None:
                return Extracted.of_parts(parts)
            raise ExtractionError(
                f"Your code changes the theorem outside its {n} `sorry`s; keep the rest as it "
                f"is, or reply with {n} ```lean blocks, one per `sorry`, in order.",
                "The model rewrote the theorem outside its `sorry`s; that answer was not used.",
            )
    if len(blocks) == n and all(b.strip() for b in blocks):
        return Extracted.of_parts([_bare(b, target.hole(k)) for k, b in enumerate(blocks)])
    raise ExtractionError(
        f"This theorem has {n} `sorry`s: reply with {n} ```lean blocks, one for each `sorry` in "
        "order, each holding only the code that replaces it.",
        f"The model's answer did not hold one proof for each of the {n} `sorry`s.",
    )


def _bare(code: str, hole: Target) -> str:
    """A proof for ``hole`` without a leading `:=`, and without a leading `by` where the hole
    is a tactic (`by` is not a tactic: its tactic block is what goes there)."""
    if code.lstrip().startswith(":="):
        code = code.lstrip()[2:].lstrip(" ")
    if hole.mode == "tactic" and not hole.whole_body and re.match(r"by(\s|$)", code.lstrip()):
        code = code.lstrip()[2:].lstrip(" \t").lstrip("\r\n")
    return code


def _align(code: str, sub: LeanDocument, doc: LeanDocument, target: Target) -> list[str] | None:
    """The text the model put at each hole, when its restated declaration keeps the user's own
    text between the holes token for token; None when it does not."""
    orig = target.decl
    if orig.body_start is None:
        return None
    cands = [
        d
        for d in sub.declarations
        if d.body_start is not None and (orig.name is None or d.name in (orig.name, orig.full_name))
    ]
    if not cands:
        return None
    d = cands[-1]
    assert d.body_start is not None
    if _statement_tokens(doc.text, orig.keyword, orig.body_start) != _statement_tokens(
        code, d.keyword, d.body_start
    ):
        return None
    # The user's body cut at its holes: the segments between them must come back as they were.
    marks = [orig.body_start, *(x for h in target.holes for x in (h.start, h.end)), orig.end]
    segments = [
        [t.text for t in code_tokens(doc.text[marks[i] : marks[i + 1]])]
        for i in range(0, len(marks), 2)
    ]
    base = d.body_start
    mine = code_tokens(code[base : d.end])
    texts = [t.text for t in mine]
    if texts[: len(segments[0])] != segments[0]:
        return None
    at = len(segments[0])
    parts: list[str] = []
    for k, seg in enumerate(segments[1:], 1):
        last = k == len(segments) - 1
        if not seg and not last:
            return None  # two holes with nothing between: no way to tell where each ends
        found = _find(texts, seg, at + 1, last=last)
        if found is None:
            return None
        start, end = base + mine[at].start, base + mine[found - 1].end
        chunk = code[start:end]
        # A chunk over several lines keeps its first line's column, so that its lines keep
        # their places relative to each other.
        col = start - (code.rfind("\n", 0, start) + 1)
        parts.append(" " * col + chunk if "\n" in chunk else chunk)
        at = found + len(seg)
    return parts if at == len(texts) else None


def _find(texts: list[str], seg: list[str], frm: int, last: bool) -> int | None:
    """Where ``seg`` next occurs in ``texts`` at or after ``frm`` (at the very end if ``last``)."""
    if last:
        start = len(texts) - len(seg)
        return start if start >= frm and texts[start:] == seg else None
    for i in range(frm, len(texts) - len(seg) + 1):
        if texts[i : i + len(seg)] == seg:
            return i
    return None
