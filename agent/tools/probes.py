"""Goals from the `lean` command line, which has no proof states: a probe leanloop inserts at a
`sorry` makes Lean print the goal there as an error.

The probe is `focus done` where the `sorry` is a tactic, and `(by done)` where it is a term.
`done` fails when goals remain and reports them, `focus` first hides every goal but the one the
`sorry` would close. What is recorded and what is not:

* recorded: the text, `unsolved goals` and then the goals (`shared/lean-reference/repl/Mathlib/
  20240209`, where `by done` answers `unsolved goals\\n⊢ False`; `lean-cli/.../byStrictIndent`
  and `exactErrorPos` show the same text from the command line, with hypotheses one per line);
* read in Lean's source, not recorded: that the error is logged at the `done` token
  (`Term.reportUnsolvedGoals` logs at the current syntax, src/Lean/Elab/Tactic/Basic.lean),
  that several goals are separated by a blank line (`goalsToMessageData` joins them with
  `"\\n\\n"`, same file), and that `focus` shows `done` only the main goal;
* a guess: that no other `unsolved goals` error starts at the same place. So the answer taken
  is an `unsolved goals` error at the probe's own position, else the narrowest one whose range
  covers it; with neither, the goal is reported as unknown, never guessed.

`try_tactic` splices the tactics before the probe: `focus` + the tactics + `done`, and reads
the same answer (or an error inside the tactics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leanloop.lean.checker import LeanResult
from leanloop.lean.messages import LeanMessage, goals_of
from leanloop.source import Declaration, LeanDocument, UnterminatedError

Mode = Literal["tactic", "term"]


@dataclass(frozen=True, slots=True)
class Site:
    """One `sorry` of a text."""

    offset: int
    line: int
    column: int
    mode: Mode
    declaration: str | None


def sorry_sites(doc: LeanDocument) -> list[Site]:
    sites = []
    for d in doc.declarations:
        for offset in d.sorries:
            line, column = doc.position(offset)
            sites.append(Site(offset, line, column, _mode(doc, d, offset), d.full_name))
    return sites


def _mode(doc: LeanDocument, d: Declaration, offset: int) -> Mode:
    """Whether the `sorry` at ``offset`` stands where a tactic goes. `LeanDocument` decides it
    for a declaration's first `sorry`; the others are renamed (same length, still names) so
    that this one is first."""
    if offset == d.sorries[0]:
        return "tactic" if d.first_sorry_tactic else "term"
    text = doc.text[d.start : d.end]
    for other in d.sorries:
        if other != offset:
            k = other - d.start
            text = text[:k] + "sorrY" + text[k + 5 :]
    try:
        [decl] = [x for x in LeanDocument(text).declarations if x.sorries]
    except (ValueError, UnterminatedError):
        return "term"
    return "tactic" if decl.first_sorry_tactic else "term"


@dataclass(frozen=True, slots=True)
class Probe:
    text: str
    done_line: int  # where the probe's `done` stands, Lean's coordinates
    done_column: int
    tactic_lines: tuple[int, int]  # the lines the spliced tactics occupy (empty if none)


def probe(text: str, site: Site, tactics: list[str]) -> Probe:
    """``text`` with the `sorry` at ``site`` replaced by the probe, ``tactics`` run first."""
    body = [ln for t in tactics for ln in _dedent(t)]
    before = text[: site.offset]
    after = text[site.offset + len("sorry") :]
    indent = " " * (site.column + 2)
    if site.mode == "tactic" and not body:
        inserted = "focus done"
    elif site.mode == "tactic":
        inserted = "focus\n" + "".join(f"{indent}{ln}\n" for ln in body) + f"{indent}done"
    elif not body:
        inserted = "(by done)"
    else:
        inserted = "(by\n" + "".join(f"{indent}{ln}\n" for ln in body) + f"{indent}done)"
    new = before + inserted + after
    done_at = len(before) + inserted.rindex("done")
    line = new.count("\n", 0, done_at) + 1
    column = done_at - (new.rfind("\n", 0, done_at) + 1)
    first = site.line + 1
    return Probe(new, line, column, (first, first + len(body) - 1) if body else (0, -1))


def _dedent(tactic: str) -> list[str]:
    lines = [ln.rstrip() for ln in tactic.replace("\r\n", "\n").strip("\n").split("\n")]
    width = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return [ln[width:] for ln in lines if ln.strip()]


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    goals: list[str] | None  # None: no answer at the probe
    errors: list[LeanMessage]  # errors inside the spliced tactics
    problem: str | None  # why Lean's run says nothing (a crash, a timeout)


def read_probe(result: LeanResult, p: Probe) -> ProbeAnswer:
    if result.status != "ok":
        return ProbeAnswer(None, [], result.describe())
    first, last = p.tactic_lines
    in_tactics = [m for m in result.errors if first <= m.pos.line <= last]
    answers = [m for m in result.errors if goals_of(m) is not None and _covers(m, p)]
    exact = [m for m in answers if (m.pos.line, m.pos.column) == (p.done_line, p.done_column)]
    chosen = exact or sorted(answers, key=_span)
    if in_tactics:
        return ProbeAnswer(None, in_tactics, None)
    if not chosen:
        if any(m.pos.line < p.done_line for m in result.errors):
            return ProbeAnswer(None, [], "Lean reported an error before the `sorry`")
        return ProbeAnswer([], [], None)  # `done` succeeded: no goal is left there
    text = goals_of(chosen[0]) or ""
    return ProbeAnswer([g for g in text.split("\n\n") if g.strip()], [], None)


def _covers(m: LeanMessage, p: Probe) -> bool:
    start = (m.pos.line, m.pos.column)
    end = (m.end_pos.line, m.end_pos.column) if m.end_pos is not None else start
    return start <= (p.done_line, p.done_column) <= end


def _span(m: LeanMessage) -> tuple[int, int]:
    end = m.end_pos or m.pos
    return end.line - m.pos.line, end.column - m.pos.column
