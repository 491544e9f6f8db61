"""The tools, bound to one Lake project: `check`, `goals`, `try_tactic`, `search`, `prove`,
`audit`. The MCP server and the agent mode both call these, so a tool behaves the same for an
outside agent and for leanloop's own model.

Safety, for every caller:
* paths are confined to the project root (`..` or a symlink that leaves it is refused);
* every Lean run goes through the checker `leanloop.session` builds from the settings: the same
  cage, limits and environment as the command line;
* nothing is written except by `prove` with `write`, and then only what the gate and the
  whole-file check accepted (`leanloop.prove.prove_file`)."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from leanloop.errors import LeanloopError
from leanloop.files import SourceFile, parse
from leanloop.lean.checker import Checker
from leanloop.lean.messages import LeanMessage
from leanloop.lean.repl import InteractiveRepl, ReplPool, StaleProofState
from leanloop.loop import file_name
from leanloop.premises import IndexStats, PremiseIndex, open_index
from leanloop.settings import Settings
from leanloop.source import LeanDocument, UnterminatedError
from leanloop.tools.models import (
    AuditInput,
    AuditOutput,
    CheckInput,
    CheckOutput,
    GoalsInput,
    GoalsOutput,
    Message,
    ProveInput,
    ProveOutput,
    SearchInput,
    SearchOutput,
    SorryGoal,
    SourceInput,
    TryTacticInput,
    TryTacticOutput,
)
from leanloop.tools.probes import Site, probe, read_probe, sorry_sites

Say = Callable[[str], None]
SNIPPET = "Snippet.lean"
_MAX_STATES = 10_000
_DOCS = 8

CLI_HOW = (
    "the command line has no proof states: leanloop put `focus done` (a tactic hole) or "
    "`(by done)` (a term hole) at each `sorry`, and read the goal from Lean's "
    "`unsolved goals` error there"
)
REPL_HOW = "the Lean REPL's `sorries`, with their proof states"


class ToolError(LeanloopError):
    """A tool could not do what was asked; the message is one sentence for the caller."""


@dataclass
class _CliState:
    text: str
    label: str
    path: Path
    site: Site
    tactics: list[str] = field(default_factory=list)


@dataclass
class _ReplState:
    header: str
    generation: int
    state: int


class Toolset:
    """The tools for the Lake project at ``root``, with ``settings`` (as the CLI loads them)."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        *,
        say: Say | None = None,
        checker: Checker | None = None,
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self.settings = settings
        self._say = say or (lambda msg: None)
        self._shared = checker  # the caller's checker (the agent mode's), for every run
        self._checkers: dict[Path, Checker] = {}
        self._interactive: InteractiveRepl | None = None
        self._states: dict[int, _CliState | _ReplState] = {}
        self._ids = itertools.count(1)
        self._docs: dict[str, LeanDocument] = {}
        self._index: PremiseIndex | None = None
        self._index_lock = asyncio.Lock()

    # -- plumbing ---------------------------------------------------------------------------

    def confine(self, path: str) -> Path:
        """``path`` (relative to the root, or absolute) if it stays inside the project root
        once every symlink and `..` is resolved; otherwise a ToolError."""
        if not path.strip():
            raise ToolError("The path is empty; give a .lean file of the project.")
        given = Path(path)
        full = given if given.is_absolute() else self.root / given
        real = Path(os.path.realpath(full))
        if real != self.root and self.root not in real.parents:
            raise ToolError(
                f"{path} is outside the project root {self.root}; only files under it can be used."
            )
        return real

    def checker(self, path: Path) -> Checker:
        """The checker for ``path``'s project, built as the CLI builds it (the cage, limits and
        the lakefile's options for that file)."""
        from leanloop.session import make_checker

        if self._shared is not None:
            return self._shared
        if path not in self._checkers:
            self._checkers[path] = make_checker(self.settings, path, warn=self._say)
        return self._checkers[path]

    def _repl(self, checker: Checker) -> InteractiveRepl | None:
        if not isinstance(checker, ReplPool):
            return None
        if self._interactive is None:
            self._interactive = checker.interactive()
        return self._interactive

    async def _source(self, inp: SourceInput) -> tuple[str, str, Path]:
        """(text, the name Lean sees, the path whose project and options apply)."""
        if inp.code is not None:
            return inp.code, SNIPPET, self.root / SNIPPET
        assert inp.file is not None
        path = self.confine(inp.file)
        source = SourceFile.read(path)
        return source.text, file_name(str(path)), path

    def _doc(self, text: str, label: str) -> LeanDocument:
        """The parsed text; the last few are kept, since an agent sends the same file again and
        again (parsing a long file costs more than the rest of a tool call)."""
        doc = self._docs.pop(text, None)
        if doc is None:
            try:
                doc = LeanDocument(text)
            except UnterminatedError as e:
                raise ToolError(f"Cannot read {label}: it has an {e}.") from None
        self._docs[text] = doc
        while len(self._docs) > _DOCS:
            del self._docs[next(iter(self._docs))]
        return doc

    def _remember(self, state: _CliState | _ReplState) -> int:
        sid = next(self._ids)
        self._states[sid] = state
        if len(self._states) > _MAX_STATES:
            del self._states[min(self._states)]
        return sid

    async def aclose(self) -> None:
        if self._interactive is not None:
            await self._interactive.aclose()
        for checker in self._checkers.values():
            await checker.aclose()
        self._checkers.clear()
        if self._index is not None:
            self._index.close()

    # -- check ----------------------------------------------------------------------------

    async def check(self, inp: CheckInput) -> CheckOutput:
        from leanloop.inspect import inspect_document

        text, label, path = await self._source(inp)
        doc = self._doc(text, label)
        checker = self.checker(path)
        result = await inspect_document(doc, checker, label)
        if inp.goals and doc.declarations and any(d.sorries for d in doc.declarations):
            sorries = (await self._goals(text, label, path, None)).sorries
        else:
            sorries = [
                SorryGoal(line=s.line, column=s.column, declaration=s.declaration)
                for s in sorry_sites(doc)
            ]
        return CheckOutput(
            ok=result.ok,
            status=result.detail,
            messages=[message(m) for m in result.messages],
            errors=result.errors,
            warnings=result.warnings,
            sorries=sorries,
            axioms=result.theorems,
        )

    # -- goals ----------------------------------------------------------------------------

    async def goals(self, inp: GoalsInput) -> GoalsOutput:
        text, label, path = await self._source(inp)
        return await self._goals(text, label, path, inp.line)

    async def _goals(self, text: str, label: str, path: Path, line: int | None) -> GoalsOutput:
        doc = self._doc(text, label)
        sites = [s for s in sorry_sites(doc) if line is None or s.line == line]
        checker = self.checker(path)
        repl = self._repl(checker)
        if repl is not None:
            return await self._repl_goals(repl, text, sites, line)
        answers = await asyncio.gather(
            *(self._cli_goal(checker, text, label, path, s) for s in sites)
        )
        return GoalsOutput(backend="cli", how=CLI_HOW, sorries=list(answers))

    async def _cli_goal(
        self, checker: Checker, text: str, label: str, path: Path, site: Site
    ) -> SorryGoal:
        p = probe(text, site, [])
        result = await checker.check(p.text, file_name=label)
        answer = read_probe(result, p)
        base = SorryGoal(line=site.line, column=site.column, declaration=site.declaration)
        if answer.goals is None:
            why = answer.problem or "Lean gave no goal at this `sorry`"
            return base.model_copy(update={"error": why})
        if not answer.goals:
            return base.model_copy(update={"error": "no goal is open here"})
        sid = self._remember(_CliState(text, label, path, site))
        return base.model_copy(
            update={"goal": answer.goals[0], "goals": answer.goals, "proof_state": sid}
        )

    async def _repl_goals(
        self, repl: InteractiveRepl, text: str, sites: list[Site], line: int | None
    ) -> GoalsOutput:
        from leanloop.lean.repl import split_header

        answer = await repl.command(text)
        header = split_header(text)[0]
        by_place = {(s.line, s.column): s for s in sites}
        out = []
        for s in answer.sorries:
            if line is not None and s.line != line:
                continue
            site = by_place.get((s.line, s.column))
            sid = None
            if s.proof_state is not None:
                sid = self._remember(_ReplState(header, answer.generation, s.proof_state))
            out.append(
                SorryGoal(
                    line=s.line,
                    column=s.column,
                    declaration=site.declaration if site else None,
                    goal=s.goal,
                    goals=[s.goal],
                    proof_state=sid,
                )
            )
        return GoalsOutput(backend="repl", how=REPL_HOW, sorries=out)

    # -- try_tactic -----------------------------------------------------------------------

    async def try_tactic(self, inp: TryTacticInput) -> TryTacticOutput:
        state = self._states.get(inp.proof_state)
        if state is None:
            raise ToolError(
                f"There is no proof state {inp.proof_state}; call `goals` to get proof states."
            )
        if isinstance(state, _ReplState):
            return await self._repl_tactic(state, inp.tactic)
        return await self._cli_tactic(state, inp.tactic)

    async def _repl_tactic(self, state: _ReplState, tactic: str) -> TryTacticOutput:
        assert self._interactive is not None
        try:
            answer = await self._interactive.tactic(
                state.header, state.generation, state.state, tactic
            )
        except StaleProofState as e:
            raise ToolError(str(e)) from None
        if answer.error is not None:
            return TryTacticOutput(status="error", error=answer.error.strip())
        errors = [m for m in answer.messages if m.is_error]
        status = answer.proof_status
        if errors or (
            status is not None and not status.startswith(("Completed", "Incomplete: open"))
        ):
            why = errors[0].data if errors else status
            return TryTacticOutput(
                status="error", error=why, messages=[message(m) for m in answer.messages]
            )
        nxt = None
        if answer.proof_state is not None:
            nxt = self._remember(_ReplState(state.header, state.generation, answer.proof_state))
        done = status == "Completed" or (status is None and not answer.goals)
        return TryTacticOutput(
            status="complete" if done else "goals",
            goals=[] if done else answer.goals,
            proof_state=nxt,
        )

    async def _cli_tactic(self, state: _CliState, tactic: str) -> TryTacticOutput:
        tactics = [*state.tactics, tactic]
        p = probe(state.text, state.site, tactics)
        result = await self.checker(state.path).check(p.text, file_name=state.label)
        answer = read_probe(result, p)
        if answer.errors:
            first = p.tactic_lines[0]
            return TryTacticOutput(
                status="error",
                error=answer.errors[0].data,
                messages=[message(m, line_shift=1 - first) for m in answer.errors],
            )
        if answer.goals is None:
            return TryTacticOutput(status="error", error=answer.problem or "Lean gave no answer")
        nxt = self._remember(_CliState(state.text, state.label, state.path, state.site, tactics))
        if not answer.goals:
            return TryTacticOutput(status="complete", proof_state=nxt)
        return TryTacticOutput(status="goals", goals=answer.goals, proof_state=nxt)

    # -- search ---------------------------------------------------------------------------

    async def search(
        self, inp: SearchInput, progress: Callable[[int, int, str], None] | None = None
    ) -> SearchOutput:
        index, stats = await self.index(progress)
        hits = await asyncio.to_thread(index.search, inp.query, inp.limit)
        return SearchOutput(
            hits=[h.premise for h in hits],
            scores=[h.score for h in hits],
            index=stats if stats.read or stats.removed else None,
        )

    async def index(
        self, progress: Callable[[int, int, str], None] | None = None
    ) -> tuple[PremiseIndex, IndexStats]:
        """The project's premise index, brought up to date (off the event loop; a line to
        ``say`` every tenth of the files read, unless ``progress`` is given)."""
        async with self._index_lock:
            if self._index is None:
                self._index = await asyncio.to_thread(open_index, self.root)
            stats = await self._index.aupdate(progress or self._index_progress())
        return self._index, stats

    def _index_progress(self) -> Callable[[int, int, str], None]:
        """A line to ``say`` (stderr for the MCP server) every tenth of the files read."""
        shown = -1

        def progress(done: int, total: int, package: str) -> None:
            nonlocal shown
            if (tenth := done * 10 // max(total, 1)) != shown:
                shown = tenth
                self._say(f"Indexing premises: {done}/{total} files ({package})")

        return progress

    # -- prove and audit ------------------------------------------------------------------

    async def prove(self, inp: ProveInput) -> ProveOutput:
        from leanloop.prove import prove_file
        from leanloop.session import choose_model, make_policy, make_replayer
        from leanloop.source.targets import find_targets

        path = self.confine(inp.file)
        source = SourceFile.read(path)
        doc = parse(source)
        targets = find_targets(doc, inp.theorem or None)
        update = {k: v for k, v in (("samples", inp.samples), ("rounds", inp.rounds)) if v}
        settings = self.settings.model_copy(update=update)
        notes: list[str] = []
        replayer = await make_replayer(settings, path, warn=notes.append) if targets else None
        choice = choose_model(settings)
        if choice.notice:
            notes.append(choice.notice)
        try:
            report = await prove_file(
                source,
                doc,
                targets,
                settings=settings,
                model=choice.model,
                checker=self.checker(path),
                policy=make_policy(settings),
                dry_run=not inp.write,
                output=None,
                say=notes.append,
                progress=lambda event: None,
                replayer=replayer,
            )
        finally:
            await choice.model.aclose()
        return ProveOutput(report=report, written=report.written, notes=notes)

    async def audit(self, inp: AuditInput) -> AuditOutput:
        from leanloop.audit import audit_file
        from leanloop.session import make_policy, make_replayer

        path = self.confine(inp.file)
        SourceFile.read(path)
        replayer = await make_replayer(self.settings, path, warn=self._say)
        report = await audit_file(
            path,
            self.checker(path),
            make_policy(self.settings),
            replayer=replayer,
            replay_required=self.settings.replay == "required",
        )
        return AuditOutput(report=report, ok=report.ok)


def message(m: LeanMessage, *, line_shift: int = 0) -> Message:
    end = m.end_pos
    return Message(
        severity=m.severity.value,
        line=max(m.pos.line + line_shift, 0),
        column=m.pos.column,
        end_line=None if end is None else max(end.line + line_shift, 0),
        end_column=None if end is None else end.column,
        text=m.data,
    )


__all__ = ["CLI_HOW", "REPL_HOW", "ToolError", "Toolset", "message"]
