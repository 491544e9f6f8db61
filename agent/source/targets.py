"""Proof targets (a declaration with `sorry`s) and splicing proofs into their holes."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from leanloop.errors import UsageError
from leanloop.source.clauses import clause_offsets, starts_clause
from leanloop.source.document import Declaration, LeanDocument

Mode = Literal["term", "tactic"]
# A proof for a target: one text, or one per hole for a target with several.
Proof = str | list[str]


@dataclass(frozen=True, slots=True)
class Hole:
    start: int
    end: int
    mode: Mode


@dataclass(frozen=True, slots=True)
class Target:
    """One declaration to prove. Each `sorry` of its body is a hole of its own, filled in place,
    so the user's partial proof around the holes stays as written; with ``whole_body`` (asked
    for explicitly) the hole is the whole body after `:=` and the model writes a complete
    proof. ``hole_start``/``hole_end``/``mode`` are the first hole's."""

    decl: Declaration
    hole_start: int
    hole_end: int
    mode: Mode
    whole_body: bool
    line: int  # of the declaration's keyword, 1-based: the line `check`, `prove` and reports give
    column: int  # of the first sorry
    holes: tuple[Hole, ...] = ()

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

    @property
    def parts(self) -> int:
        """How many proofs the target takes: one per hole (one for a whole body)."""
        return 1 if self.whole_body else max(len(self.holes), 1)

    def hole(self, k: int) -> Target:
        """The target narrowed to its ``k``-th hole."""
        h = self.holes[k]
        return Target(self.decl, h.start, h.end, h.mode, False, self.line, self.column, (h,))


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


def find_targets(
    doc: LeanDocument, names: list[str] | None = None, *, whole_body: bool = False
) -> list[Target]:
    """Targets in file order; ``names`` narrows by full or trailing name, or by the
    `example@LINE` label that reports give an `example`. With ``whole_body``, a declaration
    with several holes is one hole: its whole body."""
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
            with_sorry = [d for d in matches if d.sorries or d.statement_sorries]
            if not with_sorry:
                raise UsageError(f"`{name}` has no `sorry` to prove.")
            if all(d.statement_sorries for d in with_sorry):
                raise UsageError(
                    f"`{name}`'s statement contains `sorry`, so no proof of it can pass."
                )
            exact = [d for d in with_sorry if d.full_name == name]
            for d in exact or with_sorry:
                if d not in chosen:
                    chosen.append(d)
        decls = [d for d in decls if d in chosen]
    return [_target(doc, d, whole_body) for d in decls]


def _target(doc: LeanDocument, d: Declaration, whole_body: bool = False) -> Target:
    line = doc.position(d.keyword)[0]
    col = doc.position(d.sorries[0])[1]
    holes = tuple(
        # `sorry` and `admit` are both five characters long.
        Hole(o, o + 5, "tactic" if tactic else "term")
        for o, tactic in zip(d.sorries, d.sorry_tactic, strict=True)
    )
    if whole_body and len(holes) > 1:
        start, end, _ = _whole_body(doc, d, "")
        return Target(d, start, end, "term", True, line, col)
    first = holes[0]
    return Target(d, first.start, first.end, first.mode, False, line, col, holes)


@dataclass(frozen=True, slots=True)
class Laid:
    """A proof laid out for its hole, and where each of its lines came from in the model's own
    text (:func:`proof_lines`), so that positions Lean reports are given in the model's terms."""

    text: str
    # Per line of ``text``: (the model's line, 0-based; the column in this line from which the
    # mapping runs; the model's column there).
    lines: tuple[tuple[int, int, int], ...]

    def model_position(self, offset: int) -> tuple[int, int]:
        """The model's (1-based line, 0-based column) for an offset into ``text``."""
        k = self.text.count("\n", 0, offset)
        col = offset - (self.text.rfind("\n", 0, offset) + 1)
        line, laid_col, model_col = self.lines[min(k, len(self.lines) - 1)]
        return line + 1, model_col + max(col - laid_col, 0)


@dataclass(frozen=True, slots=True)
class SplicedPart:
    """One proof in its hole: ``doc.text[start:end]`` became the text at ``proof_start`` (after
    a space or a line break) to ``proof_end``."""

    start: int  # in the user's file
    end: int
    proof_start: int  # in the spliced text
    proof_end: int
    laid: Laid
    arms: bool = False  # pattern-matching arms in place of the whole value


@dataclass(frozen=True, slots=True)
class Spliced:
    """The file with the proofs in their holes, in file order."""

    text: str
    parts: tuple[SplicedPart, ...]
    decl_end: int  # where the target declaration now ends

    # The span from the first proof to the last (for one hole: the proof).
    @property
    def proof_start(self) -> int:
        return self.parts[0].proof_start

    @property
    def proof_end(self) -> int:
        return self.parts[-1].proof_end

    @property
    def arms(self) -> bool:
        """The (last) proof is pattern-matching arms in place of the whole value."""
        return self.parts[-1].arms

    def doc_offset(self, at: int) -> int:
        """The user's offset for an offset of the spliced text outside the proofs (a proof's
        lead maps to its hole's start)."""
        delta = 0
        for p in self.parts:
            if at < p.start + delta:
                return at - delta
            if at <= p.proof_end:
                return p.start
            delta = p.proof_end - p.end
        return at - delta


def newline_of(text: str) -> str:
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def proof_lines(proof: str) -> list[str]:
    """The proof as the model meant it: common indentation and blank edges removed."""
    return textwrap.dedent(proof.replace("\r\n", "\n").strip("\n")).rstrip().split("\n")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _segments(lines: list[str]) -> tuple[list[tuple[int, int, str, bool]], int]:
    """The model's lines as (line, column, text, cut) segments, a new (cut) one before every clause
    keyword of the declaration (`termination_by`, `decreasing_by`, `where`) that does not start
    its line, so each clause starts a line of its own; and the index of the first clause
    segment (``len`` when there is none)."""
    joined = "\n".join(lines)
    cuts: dict[int, list[int]] = {}
    starts = [0]
    for k, ln in enumerate(lines[:-1]):
        starts.append(starts[k] + len(ln) + 1)
    clause_lines: list[tuple[int, int]] = []
    for off in clause_offsets(joined):
        line = joined.count("\n", 0, off)
        col = off - starts[line]
        clause_lines.append((line, col))
        if joined[starts[line] : off].strip():
            cuts.setdefault(line, []).append(col)
    first = min(clause_lines) if clause_lines else None
    segs: list[tuple[int, int, str, bool]] = []
    first_clause = None
    for k, ln in enumerate(lines):
        bounds = [_indent(ln), *cuts.get(k, [])]
        for n, col in enumerate(bounds):
            stop = bounds[n + 1] if n + 1 < len(bounds) else len(ln)
            if first_clause is None and first is not None and (k, col) >= first:
                first_clause = len(segs)
            segs.append((k, col, ln[col:stop].rstrip(), n > 0))
    return segs, len(segs) if first_clause is None else first_clause


def layout(
    proof: str, doc: LeanDocument, decl: Declaration, hole_col: int, *, by_head: bool
) -> Laid:
    """Indent a proof for its hole so every line keeps its place relative to the first.

    The first line goes where the hole starts (column ``hole_col``); later lines of the body
    are shifted to the hole's column, keeping the answer's relative indentation. With
    ``by_head`` (a proof of the whole value), a body that opens with a lone `by` gets its
    tactics two columns in from the declaration's line, as a person would write them. Clauses
    that belong after the body (`termination_by`, `decreasing_by`, `where`) start at the
    declaration's column, their contents keeping their relative indentation."""
    nl = newline_of(doc.text)
    segs, first_clause = _segments(proof_lines(proof))
    main, clauses = segs[:first_clause], segs[first_clause:]
    if not main:  # nothing before the first clause: the structure check refuses it
        main, clauses = clauses, []
    floor = doc.line_indent(decl.own_start)
    placed: list[tuple[int, int, int, str]] = []  # (model line, laid column, model column, text)
    head_line, head_col, head, _ = main[0]
    placed.append((head_line, 0, head_col, head))
    rest = main[1:]
    if by_head and head.strip() == "by" and rest:
        base = floor + 2
        low = min((c for _, c, t, _ in rest if t), default=0)
        placed += [(k, base + c - low, c, t) for k, c, t, _ in rest]
    else:
        placed += [(k, max(hole_col + c - head_col, 0), c, t) for k, c, t, _ in rest]
    if clauses:
        # The least indented clause keyword that starts a line goes to the declaration's
        # column; one the layout cut from the middle of a line goes there too; the rest keep
        # their indentation relative to it.
        starting = [c for _, c, t, cut in clauses if not cut and starts_clause(t)]
        lines = [c for _, c, t, cut in clauses if not cut and t]
        low = min(starting) if starting else (min(lines) - 2 if lines else 0)
        placed += [(k, floor if cut else floor + max(c - low, 0), c, t) for k, c, t, cut in clauses]
    text_lines: list[str] = []
    maps: list[tuple[int, int, int]] = []
    for n, (k, col, mcol, t) in enumerate(placed):
        if n == 0:
            text_lines.append(t)
            maps.append((k, 0, mcol))
        elif t:
            text_lines.append(" " * col + t)
            maps.append((k, col, mcol))
        else:
            text_lines.append("")
            maps.append((k, 0, 0))
    return Laid(nl.join(text_lines), tuple(maps))


def _is_whole_value(doc: LeanDocument, target: Target) -> bool:
    """Whether the hole is the declaration's entire value (right after its own `:=`)."""
    d = target.decl
    if target.whole_body:
        return True
    return d.assign is not None and not doc.text[d.assign + 2 : target.hole_start].strip()


def _is_arms(proof: str) -> bool:
    lines = proof_lines(proof)
    return lines[0].lstrip().startswith("|")


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    lead: str  # text between the hole's start and the proof: a space, or a line break
    laid: Laid
    arms: bool = False

    @property
    def text(self) -> str:
        return self.lead + self.laid.text


def _edit(doc: LeanDocument, target: Target, proof: str, whole_body: bool) -> _Edit:
    """The replacement for ``target``: ``doc.text[start:end]`` becomes ``lead + laid``."""
    d = target.decl
    floor = doc.line_indent(d.own_start)
    nl = newline_of(doc.text)
    if _is_arms(proof) and (whole_body or target.whole_body or _is_whole_value(doc, target)):
        # Pattern-matching arms replace `:= …` (or the arms) and go on lines of their own, two
        # columns in from the declaration, as people write them.
        assert d.header_end is not None
        start = len(doc.text[: d.header_end].rstrip())
        laid = layout(proof, doc, d, floor + 2, by_head=False)
        return _Edit(start, d.end, nl + " " * (floor + 2), laid, arms=True)
    if whole_body or target.whole_body:
        start, end, text = _whole_body(doc, d, proof)
        by_head = True
    else:
        start, end, text = target.hole_start, target.hole_end, proof
        by_head = target.mode == "term" and _is_whole_value(doc, target)
    lead = " " if start > 0 and doc.text[start - 1] == "=" else ""
    hole_col = doc.position(start)[1] + len(lead)
    return _Edit(start, end, lead, layout(text, doc, d, hole_col, by_head=by_head))


def _whole_body(doc: LeanDocument, d: Declaration, proof: str) -> tuple[int, int, str]:
    """Where a complete proof goes (not arms: those go in place of the whole value). It may come
    as `:= …` or bare; the declaration may have `:=` or arms."""
    text = proof.strip()
    if text.startswith(":="):
        text = text[2:].lstrip(" \t").lstrip("\r\n")
    if d.assign is not None:
        start = d.assign + 2
        while start < d.end and doc.text[start] in " \t":
            start += 1
        return start, d.end, text
    assert d.header_end is not None
    return d.header_end, d.end, ":= " + text if text else text


def splice(doc: LeanDocument, target: Target, proof: Proof, *, whole_body: bool = False) -> Spliced:
    """Put the proof into the hole (or, with ``whole_body``, in place of the body after `:=`);
    for a target with several holes, ``proof`` is the list of their proofs, in order. This is the
    text that goes into the user's file; :func:`leanloop.source.probe.probe` builds the text
    Lean checks from it."""
    edits = _edits(doc, target, proof, whole_body)
    text = doc.text
    for e in reversed(edits):
        text = text[: e.start] + e.text + text[e.end :]
    parts: list[SplicedPart] = []
    delta = 0
    for e in edits:
        p0 = e.start + delta + len(e.lead)
        parts.append(SplicedPart(e.start, e.end, p0, p0 + len(e.laid.text), e.laid, e.arms))
        delta += len(e.text) - (e.end - e.start)
    return Spliced(text, tuple(parts), target.decl.end + delta)


def _edits(doc: LeanDocument, target: Target, proof: Proof, whole_body: bool) -> list[_Edit]:
    if isinstance(proof, str):
        if target.parts > 1 and not whole_body:
            raise ValueError(f"{target.name} has {target.parts} holes; give a proof for each")
        return [_edit(doc, target, proof, whole_body)]
    if len(proof) != target.parts:
        raise ValueError(f"{target.name} has {target.parts} holes, not {len(proof)}")
    if target.parts == 1:
        return [_edit(doc, target, proof[0], whole_body)]
    return [_edit(doc, target.hole(k), p, False) for k, p in enumerate(proof)]


@dataclass(frozen=True, slots=True)
class Applied:
    text: str
    replaced: list[tuple[int, int]]  # in file order: what each proof replaced in the original
    spans: list[tuple[int, int]]  # and where each replacement stands in ``text``


def apply_proofs(doc: LeanDocument, proofs: Sequence[tuple[Target, Proof, bool]]) -> Applied:
    """Splice several accepted proofs at once, last hole first so earlier offsets stay valid."""
    text = doc.text
    edits = sorted(
        (e for t, proof, whole in proofs for e in _edits(doc, t, proof, whole)),
        key=lambda e: e.start,
    )
    for e in reversed(edits):
        text = text[: e.start] + e.text + text[e.end :]
    spans: list[tuple[int, int]] = []
    delta = 0
    for e in edits:
        spans.append((e.start + delta, e.start + delta + len(e.text)))
        delta += len(e.text) - (e.end - e.start)
    return Applied(text, [(e.start, e.end) for e in edits], spans)
