"""Answer holes (`--with-answers`): a PutnamBench-style problem asks for a value
(`abbrev foo_solution : T := sorry`) and a proof about it. The model gives both; the value is
put in place of the hole's body, and the proof goes through the gate on that document, so Lean's
`#print axioms` of the theorem also covers the value."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import Declaration, LeanDocument, UnterminatedError, code_tokens
from leanloop.source.targets import Target, find_targets

_BLOCK = re.compile(r"```[ \t]*(?:lean4?|)[ \t]*\n(?P<body>.*?)(?:```|\Z)", re.DOTALL)


class AnswerError(ValueError):
    """No usable value for an answer hole; the message is fed back to the model."""


class AnswerRefused(AnswerError):
    """A value the gate's policy forbids: a rejection, not a missing answer."""


@dataclass(frozen=True)
class Hole:
    name: str
    decl: Declaration
    text: str  # the declaration as written, `sorry` and all


def find_holes(doc: LeanDocument, names: list[str], before: int) -> list[Hole]:
    """The answer declarations named ``names`` that come before offset ``before``."""
    out = []
    for name in names:
        found = [
            d
            for d in doc.declarations
            if d.name == name and d.sorries and d.assign is not None and d.end <= before
        ]
        if not found:
            raise AnswerError(f"the answer `{name}` has no `:= sorry` body to fill")
        d = found[-1]
        out.append(Hole(name, d, doc.text[d.start : d.end]))
    return out


def request(holes: list[Hole]) -> str:
    """What the first request adds: the holes to fill, and how to reply."""
    decls = "\n\n".join(h.text for h in holes)
    names = ", ".join(f"`{h.name}`" for h in holes)
    return (
        f"\n\nThe statement uses {names}, which is still `sorry`:\n```lean\n{decls}\n```\n"
        "Give its value too: first one ```lean block with that declaration and its value in "
        "place of `sorry` (same name and type), then the proof as asked."
    )


def reminder(holes: list[Hole]) -> str:
    names = ", ".join(f"`{h.name}`" for h in holes)
    return f"\n\nGive the value of {names} again, in its own ```lean block, before the proof."


def _statement(text: str, d: Declaration) -> list[str]:
    assert d.header_end is not None
    after = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
    return [t.text for t in code_tokens(text[after : d.header_end])]


def value_of(answer: str, hole: Hole, doc: LeanDocument) -> str:
    """The value the model gave for ``hole``, from any Lean block of its answer."""
    blocks = [m["body"] for m in _BLOCK.finditer(answer)] or [answer]
    want = _statement(doc.text, hole.decl)
    for block in reversed(blocks):
        try:
            sub = LeanDocument(block)
        except UnterminatedError:
            continue
        for d in sub.declarations:
            if d.name != hole.name or d.assign is None:
                continue
            if d.kind != hole.decl.kind or _statement(block, d) != want:
                raise AnswerError(
                    f"Your `{hole.name}` has a different type or kind; keep its declaration "
                    "and replace only `sorry`."
                )
            value = block[d.assign + 2 : d.end].strip()
            if not value:
                raise AnswerError(f"Your `{hole.name}` has no value after `:=`.")
            return value
    raise AnswerError(
        f"Your answer did not give the value of `{hole.name}`: reply with a ```lean block "
        f"holding `{hole.decl.kind} {hole.name} … := VALUE`, then the proof."
    )


def fill(
    doc: LeanDocument, target: Target, holes: list[Hole], answer: str, policy: Policy
) -> tuple[LeanDocument, Target, str]:
    """The document with the model's values in the holes, its target, and the values as given
    (for the record). A value the policy forbids is refused like a forbidden proof."""
    values = [(h, value_of(answer, h, doc)) for h in holes]
    for h, v in values:
        if (finding := screen(v, policy)) is not None:
            raise AnswerRefused(f"Your value for `{h.name}` is refused: {finding}")
    text = doc.text
    for h, v in sorted(values, key=lambda hv: hv[0].decl.start, reverse=True):
        assert h.decl.assign is not None
        text = text[: h.decl.assign + 2] + " " + v + text[h.decl.end :]
    new = LeanDocument(text)
    [new_target] = [t for t in find_targets(new) if t.name == target.name]
    shown = "\n\n".join(f"{h.decl.kind} {h.name} := {v}" for h, v in values)
    return new, new_target, shown
