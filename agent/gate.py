"""The acceptance gate: the only way a proof becomes "proved".

One function, :func:`judge`, takes the original file, the target and a candidate proof and
returns one :class:`Verdict`. Layers run cheapest first; the first that objects decides."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from leanloop.lean.checker import Checker, LeanResult
from leanloop.lean.messages import (
    STANDARD_AXIOMS,
    AxiomReport,
    LeanMessage,
    Severity,
    goals_of,
    parse_axioms,
    try_this,
)
from leanloop.lean.project import module_gate_problem, toolchain_version
from leanloop.policy import Policy
from leanloop.screen import screen
from leanloop.source import Declaration, LeanDocument, UnterminatedError, code_tokens
from leanloop.source.clauses import Shape, ShapeError, starts_clause
from leanloop.source.clauses import shape as proof_shape
from leanloop.source.probe import probe
from leanloop.source.targets import Proof, Spliced, SplicedPart, Target, splice
from leanloop.source.textmap import Assembled


class Reason(StrEnum):
    EMPTY = "empty"
    FORBIDDEN = "forbidden"
    STRUCTURE = "structure"
    LEAN_ERROR = "lean_error"
    SORRY = "sorry"
    AXIOMS = "axioms"
    NO_SENTINEL = "no_sentinel"
    STATEMENT = "statement_changed"
    TIMEOUT = "timeout"
    CRASH = "crash"
    JUNK = "junk"
    LEAN_UNAVAILABLE = "lean_unavailable"
    NOT_BUILT = "not_built"
    REPLAY = "replay"  # the independent replay (SafeVerify) rejected the file


class ProofError(BaseModel):
    """A Lean error, placed relative to the candidate proof when it falls inside it."""

    in_proof: bool
    # 1-based; within the proof when ``in_proof``, else in the user's file (0 when ``added``)
    line: int
    column: int
    text: str
    goals: str | None = None
    added: bool = False  # the message points into text leanloop added, not the user's
    part: int = 0  # which proof, from 1, for a target with several holes; 0 for one

    def where(self) -> str:
        if self.in_proof:
            mine = f"proof {self.part}" if self.part else "the proof"
            return f"line {self.line} of {mine}"
        if self.added:
            return "lines leanloop added for the check"
        return f"line {self.line} of the file"


class Verdict(BaseModel):
    accepted: bool
    reason: Reason | None = None
    message: str
    errors: list[ProofError] = []
    axioms: list[str] | None = None
    native: bool = False  # accepted only because native_decide was allowed
    missing_module: str | None = None
    lean_seconds: float = 0.0
    # `Try this:` suggestions Lean printed inside the proof (from `exact?` and friends).
    suggestions: list[str] = []

    @classmethod
    def reject(cls, reason: Reason, message: str, **kw: object) -> Verdict:
        return cls(accepted=False, reason=reason, message=message, **kw)


SENTINEL = "#print axioms"
# Full names, whatever the file has opened: `MessageData.ofConstName` shortens names by the open
# namespaces, so under `open Foo` an axiom `Foo.propext` would print as `propext`.
SENTINEL_PREFIX = "set_option pp.fullNames true in "


def sentinel_command(full_name: str) -> str:
    """One line. Lean logs the answer at its `#print` token (`withRef tk` in `elabPrintAxioms`,
    src/Lean/Elab/Print.lean)."""
    return f"{SENTINEL_PREFIX}{SENTINEL} _root_.{full_name}"


SENTINEL_COLUMN = len(SENTINEL_PREFIX)


def read_sentinel(
    messages: list[LeanMessage], line: int, full_name: str, guarded: range
) -> AxiomReport | str:
    """The one `#print axioms` answer for ``full_name`` at the sentinel on ``line``, or why
    there is none to trust.

    An answer must stand at the sentinel's own position and name its constant. Anything that
    looks like an answer inside ``guarded`` (the lines the candidate could influence) or a
    second answer at the sentinel means a message was forged, and the check fails."""
    at_sentinel: list[AxiomReport] = []
    for m in messages:
        if m.severity is not Severity.INFORMATION:
            continue
        report = parse_axioms(m.data)
        if report is None:
            continue
        if m.pos.line == line:
            if m.pos.column != SENTINEL_COLUMN or not _names_constant(report.name, full_name):
                return "an axioms answer at the sentinel does not belong to it"
            at_sentinel.append(report)
        elif m.pos.line in guarded:
            return f"an axioms answer appeared at line {m.pos.line}, where no sentinel stands"
    if not at_sentinel:
        return "Lean never answered `#print axioms` for the theorem, so the check did not finish"
    if len(at_sentinel) > 1:
        return "Lean's output holds more than one axioms answer for the sentinel"
    return at_sentinel[0]


def _names_constant(printed: str, full_name: str) -> bool:
    # A private theorem's real name is `_private.<module>.0.<name>`. How `#print axioms` prints
    # it is not in the recordings; both spellings are accepted, nothing else.
    # Guillemets only quote (`«my lemma»`), so they are compared away.
    printed = printed.replace("«", "").replace("»", "").removeprefix("_root_.")
    full_name = full_name.replace("«", "").replace("»", "")
    if printed == full_name:
        return True
    return printed.startswith("_private.") and printed.endswith(".0." + full_name)


def axiom_problem(axioms: list[str], policy: Policy) -> list[str]:
    """Axioms beyond the standard three (and, when allowed, native ones), as printed."""
    return [
        a.removeprefix("_root_.")
        for a in axioms
        if a.removeprefix("_root_.") not in STANDARD_AXIOMS
        and not (policy.allow_native_decide and is_native(a.removeprefix("_root_.")))
    ]


def reference_text(doc: LeanDocument, decl: Declaration, ref: str) -> str:
    """A theorem holding the untouched statement, behind the target's own `… in` prefixes so it
    is elaborated in exactly the target's context."""
    assert decl.header_end is not None
    prefix = doc.text[decl.start : decl.own_start] if decl.prefix_end is not None else ""
    after = decl.name_end if decl.name_end is not None else decl.keyword + len(decl.kind)
    return f"{prefix}theorem {ref} {doc.text[after : decl.header_end].strip()} := sorry\n\n"


@dataclass(frozen=True)
class CheckedCopy:
    """The text Lean checks for one candidate: the file cut after the target, a reference copy
    of the untouched statement before it, the target as the probe gives it (every part of the
    proof in parentheses, see :mod:`leanloop.source.probe`), then an identity check and the
    axioms sentinel."""

    text: str
    prefix_len: int  # the untouched file text before the target's command
    prefix_lines: int  # lines of that prefix (its last line may continue)
    ref_len: int
    probe: Assembled  # the target's declaration, mapped to offsets in ``spliced.text``
    spliced: Spliced  # the file with the proof in its hole, as it would be written
    decl_lines: tuple[int, int]  # first and last line of the target in ``text``
    identity_line: int
    sentinel_line: int

    @property
    def probe_start(self) -> int:
        return self.prefix_len + self.ref_len


def checked_copy(
    doc: LeanDocument, target: Target, spliced: Spliced, shapes: tuple[Shape, ...]
) -> CheckedCopy:
    d = target.decl
    ref = f"leanloop_ref_{target.line}"
    # The reference is elaborated where the target is, so it sees the same context.
    # Not yet seen against real Lean (tests/test_real_gate.py checks it where Lean exists):
    # that `type_of%` elaborates here, universe-polymorphic statements included; that a
    # namespace left open at the end of the cut copy is accepted; that `#print axioms
    # _root_.Ns.x` resolves a `private` theorem.
    ref_text = reference_text(doc, d, ref)
    shape = shapes[-1]
    if shape.termination is not None and shape.termination.binders:
        # `termination_by x y => …` leaves its names outside any parentheses: Lean must read
        # each as a name (not a keyword of the file's notation) where the target stands.
        prefix_chain = doc.text[d.start : d.own_start] if d.prefix_end is not None else ""
        names = " ".join(shape.termination.binders)
        ref_text += f"{prefix_chain}example := fun ({names} : Unit) => ()\n\n"
    # `#print axioms` needs a name: an `example` becomes a theorem in the checked copy only.
    rename = None if d.full_name is not None else f"theorem {target.local_check_name}"
    checked = probe(doc, target, spliced, shapes, rename=rename)
    prefix = doc.text[: d.start]
    head = prefix + ref_text
    text = head + checked.text
    first_line = head.count("\n") + 1
    last_line = text.count("\n") + 1
    text = text.rstrip() + "\n\n"
    identity_line = text.count("\n") + 1
    text += f"example : type_of% @{ref} := @{target.local_check_name}\n"
    sentinel_line = identity_line + 1
    text += sentinel_command(target.check_name) + "\n"
    return CheckedCopy(
        text=text,
        prefix_len=len(prefix),
        prefix_lines=prefix.count("\n") + 1,
        ref_len=len(ref_text),
        probe=checked,
        spliced=spliced,
        decl_lines=(first_line, last_line),
        identity_line=identity_line,
        sentinel_line=sentinel_line,
    )


def gate_problem(doc: LeanDocument, file: Path) -> str | None:
    """Why no proof in this file can be gated at all, before any model call: on Lean v4.20 to
    v4.29, `#print axioms` is an error inside a file that starts with `module`."""
    return module_gate_problem(doc.text, toolchain_version(file))


def signature(doc: LeanDocument, decl: Declaration) -> tuple[str, str | None, list[str]]:
    """A declaration's kind, full name and header tokens (everything before its body)."""
    end = decl.header_end if decl.header_end is not None else decl.end
    return decl.kind, decl.full_name, [t.text for t in code_tokens(doc.text[decl.start : end])]


def structure_problem(doc: LeanDocument, target: Target, spliced: Spliced) -> str | None:
    """Layer 2 (see :func:`proof_structure`): why the spliced proof cannot be checked."""
    found = proof_structure(doc, target, spliced)
    return found if isinstance(found, str) else None


def proof_structure(doc: LeanDocument, target: Target, spliced: Spliced) -> tuple[Shape, ...] | str:
    """Layer 2: the spliced declaration must still be one declaration with the same statement,
    and each proof's clauses must be read by Lean as leanloop reads them. Each proof's shape
    (one per hole), or why not.

    Text before the target is untouched and Lean checks nothing after it, so the target's own
    region is all that can change."""
    d = target.decl
    try:
        region = LeanDocument(spliced.text[d.start : spliced.decl_end])
    except UnterminatedError as e:
        return f"After splicing, the theorem has an {e}."
    if len(region.commands) != 1 or len(region.declarations) != 1:
        return (
            f"After splicing, the theorem's text holds {len(region.declarations)} declarations "
            f"in {len(region.commands)} commands: the proof must stay inside its declaration."
        )
    [new] = region.declarations
    if signature(region, new)[::2] != signature(doc, d)[::2] or new.name != d.name:
        unsure = f" (leanloop could not place {'; '.join(d.unsure)})" if d.unsure else ""
        return f"After splicing, the theorem's statement changed{unsure}."
    shapes: list[Shape] = []
    many = len(spliced.parts) > 1
    for k, part in enumerate(spliced.parts, 1):
        which = f"Proof {k}" if many else "The proof"
        found = _part_structure(doc, d, spliced, part)
        if isinstance(found, str):
            return f"{which}: {found}" if many else found
        shapes.append(found)
    if shapes[-1].where is not None and new.assign is None and new.arms is None:
        return (
            "A `where` helper after a structure instance's fields is not something leanloop "
            "can check; prove the fields without one."
        )
    return tuple(shapes)


def _part_structure(
    doc: LeanDocument, d: Declaration, spliced: Spliced, part: SplicedPart
) -> Shape | str:
    try:
        shape = proof_shape(spliced.text, part.proof_start, part.proof_end)
    except ShapeError as e:
        return str(e)
    except UnterminatedError as e:
        return f"The proof has an {e}."
    # Every line of the proof after its first must sit deeper than the declaration: Lean ends
    # a tactic block at a line indented less than the block, and what follows is a command.
    # A clause that belongs to the declaration (`termination_by`, `decreasing_by`, `where`)
    # may stand at the declaration's own column.
    floor = doc.line_indent(d.own_start)
    proof = spliced.text[part.proof_start : part.proof_end]
    for ln in proof.replace("\r\n", "\n").split("\n")[1:]:
        indent = len(ln) - len(ln.lstrip(" \t"))
        if not ln.strip() or indent > floor:
            continue
        if indent == floor and starts_clause(ln.lstrip(" \t")):
            continue
        return (
            "A line of the proof is not indented past the declaration, so Lean would read "
            "it as a new command."
        )
    if shape.has_clauses:
        after = spliced.text[part.proof_end : spliced.decl_end]
        if any(t.is_code for t in code_tokens(after)):
            words = ", ".join(
                f"`{w}`"
                for w, there in (
                    ("termination_by", shape.termination),
                    ("decreasing_by", shape.decreasing),
                    ("where", shape.where),
                )
                if there is not None
            )
            return (
                f"The proof's {words} must end the declaration, and this hole is followed by "
                "more of the declaration."
            )
    return shape


class _CopyIndex:
    """Positions in a checked copy, mapped back to the proof or to the user's file.

    The copy is the untouched prefix of the user's file, then text leanloop wrote (the
    reference statement, the target with its proof, the checks after it). Only the part after
    the prefix is indexed here; the prefix uses the user's document, parsed once."""

    def __init__(self, doc: LeanDocument, copy: CheckedCopy) -> None:
        self.doc = doc
        self.copy = copy
        tail = copy.text[copy.prefix_len :]
        self._tail_starts = [0, *(k + 1 for k, c in enumerate(tail) if c == "\n")]
        # The prefix's last line continues into the tail when the target starts mid-line.
        self._base_col = copy.prefix_len - (doc.text.rfind("\n", 0, copy.prefix_len) + 1)

    def offset(self, line: int, column: int) -> int:
        if line < self.copy.prefix_lines:
            return self.doc.offset(line, column)
        k = line - self.copy.prefix_lines
        if k >= len(self._tail_starts):
            return len(self.copy.text)
        col = column - self._base_col if k == 0 else column
        return self.copy.prefix_len + self._tail_starts[k] + max(col, 0)


def _place(copy: CheckedCopy, index: _CopyIndex, msg: LeanMessage) -> ProofError:
    offset = index.offset(msg.pos.line, msg.pos.column)
    goals = goals_of(msg)
    where = _origin(copy, offset)
    if where is None:
        return ProofError(in_proof=False, line=0, column=0, text=msg.data, goals=goals, added=True)
    k, a, b = where
    if k:
        # In the model's own coordinates: the splice's indentation undone.
        part = k if len(copy.spliced.parts) > 1 else 0
        return ProofError(in_proof=True, line=a, column=b, text=msg.data, goals=goals, part=part)
    line, column = index.doc.position(a)
    return ProofError(in_proof=False, line=line, column=column, text=msg.data, goals=goals)


def _origin(copy: CheckedCopy, offset: int) -> tuple[int, int, int] | None:
    """Where ``offset`` in the copy comes from: (k, line, column) in the model's k-th proof
    (``k`` from 1), (0, offset in the user's file, 0) outside the proofs, None for text leanloop
    added (the reference statement, the checks after the target)."""
    if offset < copy.prefix_len:
        return 0, offset, 0
    start = copy.probe_start
    if offset < start or offset > start + len(copy.probe.text):
        return None
    sp = copy.spliced
    at = copy.probe.source(offset - start)
    for k, part in enumerate(sp.parts, 1):
        if part.proof_start <= at <= part.proof_end:
            line, column = part.laid.model_position(at - part.proof_start)
            return k, line, column
    return 0, sp.doc_offset(at), 0


def _process_failure(result: LeanResult) -> Verdict | None:
    reasons = {
        "timeout": Reason.TIMEOUT,
        "crashed": Reason.CRASH,
        "junk": Reason.JUNK,
        "start_failed": Reason.LEAN_UNAVAILABLE,
    }
    if result.status == "ok":
        return None
    return Verdict.reject(reasons[result.status], result.describe(), lean_seconds=result.seconds)


def evaluate(
    result: LeanResult, copy: CheckedCopy, target: Target, policy: Policy, doc: LeanDocument
) -> Verdict:
    """Layers 3 and 4: read Lean's answer for one checked copy."""
    if (failed := _process_failure(result)) is not None:
        return failed
    secs = result.seconds
    if (nb := result.not_built) is not None:
        return Verdict.reject(
            Reason.NOT_BUILT, nb.describe(), missing_module=nb.module, lean_seconds=secs
        )
    index = _CopyIndex(doc, copy)
    errors = result.errors
    if any(m.pos.line == copy.identity_line for m in errors):
        return Verdict.reject(
            Reason.STATEMENT,
            "Lean found that the proved statement is not the original statement.",
            errors=[_place(copy, index, m) for m in errors],
            lean_seconds=secs,
        )
    if errors:
        placed = [_place(copy, index, m) for m in errors]
        first = placed[0]
        return Verdict.reject(
            Reason.LEAN_ERROR,
            f"Lean reported {len(errors)} error(s), the first at {first.where()}: "
            f"{first.text.splitlines()[0] if first.text else ''}",
            errors=placed,
            lean_seconds=secs,
        )
    first_line, last_line = copy.decl_lines
    for m in result.messages:
        if m.is_sorry_warning and first_line <= m.pos.line <= last_line:
            return Verdict.reject(Reason.SORRY, "The proof still uses `sorry`.", lean_seconds=secs)
    guarded = range(first_line, copy.sentinel_line + 1)
    report = read_sentinel(result.messages, copy.sentinel_line, target.check_name, guarded)
    if isinstance(report, str):
        return Verdict.reject(Reason.NO_SENTINEL, report[0].upper() + report[1:] + ".",
                              lean_seconds=secs)  # fmt: skip
    bad = axiom_problem(report.axioms, policy)
    if bad:
        return Verdict.reject(
            Reason.AXIOMS if "sorryAx" not in bad else Reason.SORRY,
            f"The proof depends on axioms beyond the standard three: {', '.join(bad)}.",
            axioms=report.axioms,
            lean_seconds=secs,
        )
    native = any(is_native(a) for a in report.axioms)
    suggestions = [
        text
        for m in result.messages
        if m.severity is Severity.INFORMATION
        and (text := try_this(m.data)) is not None
        and _place(copy, index, m).in_proof
    ]
    return Verdict(
        accepted=True,
        message="Lean accepted the proof.",
        axioms=report.axioms,
        native=native,
        lean_seconds=secs,
        suggestions=suggestions,
    )


def is_native(axiom: str) -> bool:
    axiom = axiom.removeprefix("_root_.")
    return axiom in ("Lean.ofReduceBool", "Lean.trustCompiler") or "._native." in axiom


async def judge(
    doc: LeanDocument,
    target: Target,
    proof: Proof,
    checker: Checker,
    policy: Policy,
    *,
    whole_body: bool = False,
    file_name: str = "Check.lean",
) -> Verdict:
    """Decide whether ``proof`` proves ``target`` (for a target with several holes, one proof
    per hole, in order). The only path to an accepted verdict."""
    prepared = await asyncio.to_thread(prepare, doc, target, proof, policy, whole_body)
    if isinstance(prepared, Verdict):
        return prepared
    result = await checker.check(prepared.text, file_name=file_name)
    return await asyncio.to_thread(evaluate, result, prepared, target, policy, doc)


def prepare(
    doc: LeanDocument, target: Target, proof: Proof, policy: Policy, whole_body: bool = False
) -> CheckedCopy | Verdict:
    """Layers 1 and 2, then the text Lean checks. CPU-bound: the caller runs it off the event
    loop. Only the target's own region is parsed; the rest of the file was parsed once."""
    parts = [proof] if isinstance(proof, str) else list(proof)
    if len(parts) != (1 if whole_body else target.parts):
        return Verdict.reject(
            Reason.EMPTY,
            f"The answer held {len(parts)} proof(s) for {target.parts} `sorry`s.",
        )
    for k, part in enumerate(parts, 1):
        which = f"Proof {k}: " if len(parts) > 1 else ""
        if not part.strip():
            return Verdict.reject(Reason.EMPTY, f"{which}The answer contained no proof.")
        if (finding := screen(part, policy)) is not None:
            return Verdict.reject(Reason.FORBIDDEN, which + finding)
    spliced = splice(doc, target, proof, whole_body=whole_body)
    shapes = proof_structure(doc, target, spliced)
    if isinstance(shapes, str):
        return Verdict.reject(Reason.STRUCTURE, shapes)
    return checked_copy(doc, target, spliced, shapes)
