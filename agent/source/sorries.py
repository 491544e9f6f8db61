"""Every `sorry` (and `admit`) in a file's code, with the declaration it sits in and why it is, or
is not, something leanloop can prove.

Targets are the holes of theorem, lemma and example bodies (after `where` too, and in the fields
of a structure-instance value: a `lemma … where` is a theorem). Everything else is listed with
its reason: a statement that contains `sorry` (no proof can remove it), a `def` body or an
instance field (a model-written definition changes what it means), a default value of a
structure, a `sorry` inside a `macro`/`notation`/`syntax` (every use brings it along) or inside a
command such as `#eval`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from leanloop.source.document import HOLE_WORDS, Declaration, LeanDocument
from leanloop.source.scanner import TokenKind


class Use(StrEnum):
    TARGET = "target"
    STATEMENT = "statement"
    ANSWER = "answer"  # formal-conjectures' `answer(sorry)`: the answer is not filled in
    DEFINITION = "definition"
    INSTANCE = "instance"
    STRUCTURE = "structure"
    MACRO = "macro"
    COMMAND = "command"
    OUTSIDE = "outside"


_STRUCTURES = frozenset({"structure", "class", "inductive"})
_MACROS = frozenset(
    """macro macro_rules syntax notation notation3 infix infixl infixr prefix postfix elab
    elab_rules simproc dsimproc""".split()
)


@dataclass(frozen=True, slots=True)
class SorryUse:
    offset: int
    line: int  # 1-based, in the file
    column: int  # 0-based code points
    declaration: str  # the full name, `example@LINE`, or the command's keyword and line
    use: Use
    reason: str  # one sentence for people
    decl: Declaration | None = None

    @property
    def target(self) -> bool:
        return self.use is Use.TARGET


def label(doc: LeanDocument, d: Declaration) -> str:
    """How reports name a declaration: its full name, or its kind and keyword line."""
    return d.full_name or f"{d.kind}@{doc.position(d.keyword)[0]}"


_ANSWER = re.compile(r"(?<![\w.'!?])answer\s*\(\s*$")


def _answer_placeholder(doc: LeanDocument, offset: int) -> bool:
    """`answer(sorry)`, as formal-conjectures writes a conjecture's unknown answer."""
    return _ANSWER.search(doc.text[max(offset - 40, 0) : offset]) is not None


def _reason(use: Use, d: Declaration | None, command: str) -> str:
    kind = d.kind if d is not None else command
    return {
        Use.TARGET: "a proof obligation leanloop can fill",
        Use.STATEMENT: "the statement contains `sorry`, so no proof of it can pass; fill in "
        "the statement first",
        Use.ANSWER: "the answer is not filled in (`answer(sorry)`), so no proof of the "
        "statement can pass until it is",
        Use.DEFINITION: f"a `{kind}` body: leanloop does not write definitions, since a "
        "model-written definition changes what it means",
        Use.INSTANCE: "a field of an instance: leanloop does not write instances, since a "
        "model-written field changes what the instance is",
        Use.STRUCTURE: f"a default value in a `{kind}`",
        Use.MACRO: f"inside a `{kind}`: every use of it brings the `sorry` along",
        Use.COMMAND: f"inside `{kind}`",
        Use.OUTSIDE: "outside any declaration",
    }[use]


def _classify(doc: LeanDocument, d: Declaration) -> Use:
    if d.statement_sorries:
        answer = any(_answer_placeholder(doc, o) for o in d.statement_sorries)
        return Use.ANSWER if answer else Use.STATEMENT
    if d.is_proof:
        return Use.TARGET
    if d.kind == "instance":
        return Use.INSTANCE
    if d.kind in _STRUCTURES:
        return Use.STRUCTURE
    return Use.DEFINITION


def sorry_uses(doc: LeanDocument) -> list[SorryUse]:
    """Every `sorry`/`admit` token in code, in file order."""
    decls = {d.start: d for d in doc.declarations}
    out: list[SorryUse] = []
    for cmd in doc.commands:
        holes = [t for t in cmd.tokens if t.kind is TokenKind.IDENT and t.text in HOLE_WORDS]
        if not holes:
            continue
        d = decls.get(cmd.start)
        words = (t.text for t in cmd.tokens if t.is_code and t.kind is not TokenKind.DOC_COMMENT)
        first = next((w for w in words if w not in ("local", "scoped")), "")
        for t in holes:
            if d is not None and t.start >= d.keyword:
                use = _classify(doc, d)
                name = label(doc, d)
            else:
                use = (
                    Use.MACRO
                    if first in _MACROS
                    else Use.COMMAND
                    if first.startswith("#")
                    else Use.OUTSIDE
                )
                name = f"{first}@{doc.position(cmd.start)[0]}" if first else "?"
            line, column = doc.position(t.start)
            out.append(SorryUse(t.start, line, column, name, use, _reason(use, d, first), d))
    return out
