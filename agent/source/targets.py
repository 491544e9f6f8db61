"""Proof targets (a declaration with `sorry`s) and splicing a proof into their hole."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Literal

from leanloop.errors import UsageError
from leanloop.source.document import Declaration, LeanDocument

Mode = Literal["term", "tactic"]


@dataclass(frozen=True, slots=True)
class Target:
    """One declaration to prove. With one `sorry` the hole is that `sorry`; with several it is the
    whole body after `:=`, so the model writes one complete proof."""

    decl: Declaration
    hole_start: int
    hole_end: int
    mode: Mode
    whole_body: bool
    line: int  # of the first sorry, 1-based
    column: int

    @property
    def name(self) -> str:
        if self.decl.full_name:
            return self.decl.full_name
        return f"example@{self.line}"

    @property
    def check_name(self) -> str:
        """The name `#print axioms` uses; examples get one in the checked copy."""
        return self.decl.full_name or f"leanloop_example_{self.line}"


def find_targets(doc: LeanDocument, names: list[str] | None = None) -> list[Target]:
    """Targets in file order; ``names`` narrows by full or trailing name, or by the
    `example@LINE` label that reports give an `example`."""
    decls = doc.proof_targets
    if names:
        chosen: list[Declaration] = []
        for name in names:
            if m := re.fullmatch(r"example@(\d+)", name):
                matches = [
                    d
                    for d in decls
                    if d.full_name is None and doc.position(d.sorries[0])[0] == int(m[1])
                ]
            else:
                matches = doc.find(name.removeprefix("_root_."))
            if not matches:
                raise UsageError(f"No theorem named `{name}` in this file.")
            with_sorry = [d for d in matches if d.sorries]
            if not with_sorry:
                raise UsageError(f"`{name}` has no `sorry` to prove.")
            exact = [d for d in with_sorry if d.full_name == name]
            for d in exact or with_sorry:
                if d not in chosen:
                    chosen.append(d)
        decls = [d for d in decls if d in chosen]
    return [_target(doc, d) for d in decls]


def _target(doc: LeanDocument, d: Declaration) -> Target:
    line, col = doc.position(d.sorries[0])
    if len(d.sorries) == 1:
        start = d.sorries[0]
        return Target(
            d,
            start,
            start + len("sorry"),
            "tactic" if d.first_sorry_tactic else "term",
            False,
            line,
            col,
        )
    start, end, _ = _whole_body(doc, d, "")
    return Target(d, start, end, "term", True, line, col)


@dataclass(frozen=True, slots=True)
class Spliced:
    text: str
    proof_start: int  # where the inserted proof begins in ``text``
    proof_end: int
    decl_end: int  # where the target declaration now ends


def newline_of(text: str) -> str:
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def proof_lines(proof: str) -> list[str]:
    """The proof as the model meant it: common indentation and blank edges removed."""
    return textwrap.dedent(proof.replace("\r\n", "\n").strip("\n")).rstrip().split("\n")


def layout(proof: str, doc: LeanDocument, target: Target) -> str:
    """Indent a proof for its hole so every line keeps its place relative to the first.

    The first line goes where the hole starts; later lines are shifted to the hole's column,
    except a term proof that opens with a lone `by`, whose tactics go two columns in from the
    declaration's line, as a person would write them."""
    nl = newline_of(doc.text)
    lines = proof_lines(proof)
    if len(lines) == 1:
        return lines[0]
    _, hole_col = doc.position(target.hole_start)
    head, rest = lines[0], lines[1:]
    if head.strip() == "by" and target.mode == "term":
        base = doc.line_indent(target.decl.keyword) + 2
        rest_body = textwrap.dedent("\n".join(rest)).split("\n")
        rest = [(" " * base + ln) if ln.strip() else "" for ln in rest_body]
        return nl.join([head.strip(), *rest])
    head_indent = len(head) - len(head.lstrip())
    shifted = []
    for ln in rest:
        indent = len(ln) - len(ln.lstrip())
        shifted.append(" " * (hole_col + indent - head_indent) + ln.lstrip() if ln.strip() else "")
    return nl.join([head.lstrip(), *shifted])


def _edit(doc: LeanDocument, target: Target, proof: str, whole_body: bool) -> tuple[int, int, str]:
    """The replacement for ``target``: (start, end, text) in ``doc``."""
    if not (whole_body or target.whole_body):
        start, end = target.hole_start, target.hole_end
        laid = layout(proof, doc, target)
    else:
        start, end, proof = _whole_body(doc, target.decl, proof)
        hole = Target(target.decl, start, end, "term", True, target.line, target.column)
        laid = layout(proof, doc, hole)
    if start > 0 and doc.text[start - 1] == "=":
        laid = " " + laid
    return start, end, laid


def _whole_body(doc: LeanDocument, d: Declaration, proof: str) -> tuple[int, int, str]:
    """Where a complete proof goes. It may come as `:= …`, as pattern-matching arms `| … => …`,
    or bare; the declaration may have `:=` or arms. Both spellings are accepted for both."""
    text = proof.strip()
    arms = text.startswith("|")
    if text.startswith(":="):
        text = text[2:].lstrip(" \t").lstrip("\r\n")
    if d.assign is not None and not arms:
        start = d.assign + 2
        while start < d.end and doc.text[start] in " \t":
            start += 1
        return start, d.end, text
    assert d.header_end is not None
    return d.header_end, d.end, text if arms else ":= " + text


def splice(doc: LeanDocument, target: Target, proof: str, *, whole_body: bool = False) -> Spliced:
    """Put ``proof`` into the hole (or, with ``whole_body``, in place of the body after `:=`)."""
    start, end, laid = _edit(doc, target, proof, whole_body)
    text = doc.text[:start] + laid + doc.text[end:]
    delta = len(laid) - (end - start)
    return Spliced(text, start, start + len(laid), target.decl.end + delta)


def apply_proofs(doc: LeanDocument, proofs: list[tuple[Target, str, bool]]) -> str:
    """Splice several accepted proofs at once, last hole first so earlier offsets stay valid."""
    text = doc.text
    for target, proof, whole in sorted(proofs, key=lambda p: p[0].hole_start, reverse=True):
        start, end, laid = _edit(doc, target, proof, whole)
        text = text[:start] + laid + text[end:]
    return text
