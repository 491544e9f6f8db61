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
    line: int  # of the declaration's keyword, 1-based: the line `check`, `prove` and reports give
    column: int  # of the first sorry

    @property
    def name(self) -> str:
        if self.decl.full_name:
            return self.decl.full_name
        return f"example@{self.line}"

    @property
    def check_name(self) -> str:
        return check_name(self.decl, self.line)

    @property
    def local_check_name(self) -> str:
        return local_check_name(self.decl, self.line)


def local_check_name(decl: Declaration, line: int) -> str:
    """The name a declaration has where it stands in a checked copy: an `example` (``line`` is
    its keyword's) becomes a theorem there, because `#print axioms` needs a name."""
    return decl.full_name or f"leanloop_example_{line}"


def check_name(decl: Declaration, line: int) -> str:
    """The full name `#print axioms` uses, enclosing namespaces included."""
    if decl.full_name:
        return decl.full_name
    own = local_check_name(decl, line)
    return f"{decl.namespace}.{own}" if decl.namespace else own


def find_targets(doc: LeanDocument, names: list[str] | None = None) -> list[Target]:
    """Targets in file order; ``names`` narrows by full or trailing name, or by the
    `example@LINE` label that reports give an `example`."""
    decls = doc.proof_targets
    if names:
        chosen: list[Declaration] = []
        for name in names:
            if m := re.fullmatch(r"example@(\d+)", name):
                # The keyword's line is the label; the first sorry's line (what earlier
                # versions printed) is accepted too.
                matches = [
                    d
                    for d in decls
                    if d.full_name is None
                    and int(m[1]) in (doc.position(d.keyword)[0], doc.position(d.sorries[0])[0])
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
    line = doc.position(d.keyword)[0]
    col = doc.position(d.sorries[0])[1]
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
    wrapped: bool = False  # the proof stands in parentheses (see :func:`splice`)
    resume: int = -1  # where the text after the hole resumes in ``text``


def newline_of(text: str) -> str:
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def proof_lines(proof: str) -> list[str]:
    """The proof as the model meant it: common indentation and blank edges removed."""
    return textwrap.dedent(proof.replace("\r\n", "\n").strip("\n")).rstrip().split("\n")


def layout(proof: str, doc: LeanDocument, target: Target, *, shift: int = 0) -> str:
    """Indent a proof for its hole so every line keeps its place relative to the first.

    The first line goes where the hole starts; later lines are shifted to the hole's column
    (plus ``shift``), keeping the answer's relative indentation. A proof of the whole body that
    opens with a lone `by` gets its tactics two columns in from the declaration's line, as a
    person would write them."""
    nl = newline_of(doc.text)
    lines = proof_lines(proof)
    if len(lines) == 1:
        return lines[0]
    _, hole_col = doc.position(target.hole_start)
    hole_col += shift
    head, rest = lines[0], lines[1:]
    if head.strip() == "by" and target.mode == "term" and _is_whole_value(doc, target):
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


def _is_whole_value(doc: LeanDocument, target: Target) -> bool:
    """Whether the hole is the declaration's entire value (right after its own `:=`)."""
    d = target.decl
    if target.whole_body:
        return True
    return d.assign is not None and not doc.text[d.assign + 2 : target.hole_start].strip()


def _edit(
    doc: LeanDocument, target: Target, proof: str, whole_body: bool, *, wrap: bool = False
) -> tuple[int, int, str, int, int]:
    """The replacement for ``target``: (start, end, text) in ``doc``, and where the proof
    itself lies within that text (it may be wrapped in parentheses)."""
    hole = target
    if whole_body or target.whole_body:
        start, end, proof = _whole_body(doc, target.decl, proof)
        hole = Target(target.decl, start, end, "term", True, target.line, target.column)
    else:
        start, end = target.hole_start, target.hole_end
    arms = proof.lstrip().startswith("|")
    wrap = wrap and not arms
    laid = layout(proof, doc, hole, shift=1 if wrap else 0)
    lead = " " if start > 0 and doc.text[start - 1] == "=" else ""
    if not wrap:
        return start, end, lead + laid, len(lead), len(lead) + len(laid)
    # `(` … `)` is the tactic paren `(tacs)` or the term paren, by the hole's category. The
    # closing parenthesis goes on a line of its own so that a trailing `--` comment in the
    # proof cannot swallow it.
    nl = newline_of(doc.text)
    hole_col = doc.position(hole.hole_start)[1]
    close = f"{nl}{' ' * (hole_col + 1)})" if ("\n" in laid or "--" in laid) else ")"
    text = f"{lead}({laid}{close}"
    return start, end, text, len(lead) + 1, len(lead) + 1 + len(laid)


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


def splice(
    doc: LeanDocument, target: Target, proof: str, *, whole_body: bool = False, wrap: bool = False
) -> Spliced:
    """Put ``proof`` into the hole (or, with ``whole_body``, in place of the body after `:=`).

    With ``wrap`` the proof goes inside parentheses of the hole's own category. Lean's parser
    must then read the whole proof as one tactic sequence or one term before the `)`: a proof
    that would end its tactic block early (a line indented less than the block, a command
    keyword no list here knows) becomes a parse error instead of a new top-level command.
    Pattern-matching arms cannot be wrapped; the structure check covers them."""
    start, end, laid, p0, p1 = _edit(doc, target, proof, whole_body, wrap=wrap)
    text = doc.text[:start] + laid + doc.text[end:]
    delta = len(laid) - (end - start)
    wrapped = laid[p0 - 1 : p0] == "(" and wrap
    return Spliced(
        text, start + p0, start + p1, target.decl.end + delta, wrapped, start + len(laid)
    )


@dataclass(frozen=True, slots=True)
class Applied:
    text: str
    replaced: list[tuple[int, int]]  # in file order: what each proof replaced in the original
    spans: list[tuple[int, int]]  # and where each replacement stands in ``text``


def apply_proofs(
    doc: LeanDocument, proofs: list[tuple[Target, str, bool]], *, wrap: bool = False
) -> Applied:
    """Splice several accepted proofs at once, last hole first so earlier offsets stay valid."""
    text = doc.text
    edits = sorted(
        (_edit(doc, t, proof, whole, wrap=wrap) for t, proof, whole in proofs),
        key=lambda e: e[0],
    )
    for start, end, laid, _, _ in reversed(edits):
        text = text[:start] + laid + text[end:]
    spans: list[tuple[int, int]] = []
    delta = 0
    for start, end, laid, _, _ in edits:
        spans.append((start + delta, start + delta + len(laid)))
        delta += len(laid) - (end - start)
    return Applied(text, [(start, end) for start, end, _, _, _ in edits], spans)
