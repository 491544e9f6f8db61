"""The proving loop: ask, extract, check, feed back; keep only what the gate accepts.

:class:`Agent` is the one conversation loop and acceptance path. `prove` and `ci --fill` run it
through :class:`Prover` (samples raced per target, the first accepted proof wins); `bench` runs
every sample of it to its end (see :mod:`leanloop.bench.runner`). Either way a proof counts only
after the gate accepted it, a search tactic was settled, and :meth:`Agent.confirm` (the
whole-file check) kept it: a benchmark measures what users run.

The conversation is plain chat by default. With ``mode = "agent"`` it is a function-calling one
(:class:`leanloop.agentic.ToolChat`): a turn may call leanloop's tools instead of answering, and
`submit_proof` is judged here like an answer; a turn answered in text is a round as in the
default mode. Budgets (tool calls, tokens) end an agent attempt; rounds count only text turns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from pydantic import BaseModel

from leanloop.errors import ConfigError, LeanloopError, LeanNotBuiltError, LeanNotFoundError
from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import Checker, LeanResult
from leanloop.model import (
    ChatMessage,
    Completion,
    Extracted,
    ExtractionError,
    Model,
    ProofRequest,
    ToolCall,
    ToolCompletion,
    ToolModel,
    extract,
)
from leanloop.model.base import NO_FUNCTION_CALLING
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.report import Status, TargetReport, cost
from leanloop.settings import Settings
from leanloop.source import LeanDocument, code_tokens
from leanloop.source.targets import Target

if TYPE_CHECKING:
    from leanloop.agentic import ToolChat
    from leanloop.tools import Toolset
    from leanloop.writeback import FinalCheck

SEARCH_TACTICS = frozenset({"exact?", "apply?", "simp?", "simp_all?", "aesop?", "rw?"})
# Verdicts in which Lean did not finish its job: they say nothing certain about the proof.
LEAN_TROUBLE = frozenset({Reason.TIMEOUT, Reason.CRASH, Reason.JUNK})
# Reasons decided before Lean runs: no Lean check was spent.
_NO_CHECK = frozenset({Reason.EMPTY, Reason.FORBIDDEN, Reason.STRUCTURE})
NO_PROOF = "no_proof"  # a round whose answer held nothing usable


class Event(BaseModel):
    """A progress event, one per notable step."""

    target: str
    # start (first attempt got a slot) | round (a round failed) | call (a model call finished)
    # | tool (the agent mode ran a tool, ``message`` its name) | proved | failed | stopped
    # | note (news about the run, not one target: ``target`` is empty)
    kind: str
    attempt: int = 0
    round: int = 0
    message: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


Progress = Callable[[Event], None]


@dataclass
class Accepted:
    target: Target
    extracted: Extracted
    verdict: Verdict
    doc: LeanDocument  # the document the proof was judged in
    attempt: int = 0  # 0-based sample
    round: int = 1  # the round whose answer it was
    answer: str | None = None  # values given for answer holes (bench `--with-answers`)


@dataclass
class AttemptLog:
    """What one sample did, filled in as it goes, so that it is complete also when the attempt
    ends in an exception (an endpoint error)."""

    index: int  # 0-based
    rounds: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    lean_checks: int = 0
    lean_seconds: float = 0.0
    # Per rejected round: the gate's reason, or ``no_proof`` when the answer held no usable Lean.
    rejections: list[str] = field(default_factory=list)
    last: Verdict | None = None  # the latest verdict that rejected a proof
    note: str | None = None  # the latest problem, in the user's words
    trouble: Verdict | None = None  # the latest round Lean could not judge
    broken: str | None = None  # every round got an empty answer: the endpoint is broken
    # `--mode agent`: tools run, and the budgets hit (max_tool_calls and token_budget end the
    # attempt; tool_timeout only cut a call off).
    tool_calls: int = 0
    budget_hits: list[str] = field(default_factory=list)


class AnswerProblem(Exception):
    """An answer hole's value is missing or refused; fed back to the model like an extraction
    problem. ``refused``: the policy forbids it (a rejection, not a missing answer)."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


class Holes(Protocol):
    """Answer holes the model fills together with the proof (`bench --with-answers`)."""

    def request(self) -> str:
        """What the first request adds."""
        ...

    def reminder(self) -> str:
        """What every feedback adds."""
        ...

    def fill(self, answer: str) -> tuple[LeanDocument, Target, str]:
        """The document with the answer's values in the holes, its target, and the values as
        given; raises :class:`AnswerProblem`."""
        ...


class Hooks:
    """What a caller hears during an attempt; every method does nothing by default."""

    def call(self, log: AttemptLog, rnd: int, completion: Completion) -> None:
        """A model call finished."""

    def rejected(
        self, log: AttemptLog, rnd: int, message: str, verdict: Verdict | None, informative: bool
    ) -> None:
        """A round failed: Lean or the gate rejected the proof (``verdict``), or the answer
        held none (``verdict`` None). ``informative`` unless the answer was empty, which says
        nothing about the proof."""

    def accepted(self, accepted: Accepted) -> None:
        """The gate accepted a proof (before any search tactic in it is settled)."""

    def tool(self, log: AttemptLog, rnd: int, name: str) -> None:
        """The agent mode is about to run the tool ``name``."""

    def ended(self, log: AttemptLog, rnd: int, message: str) -> None:
        """A budget ended the attempt (``message`` says which)."""


class Conversation(Protocol):
    """The messages of one attempt and how they are sent: plain chat, or function calling
    (:class:`leanloop.agentic.ToolChat`)."""

    tools: bool

    async def ask(self, request: ProofRequest) -> Completion: ...

    def answered(self, completion: Completion) -> None:
        """The model's answer, kept for the next request."""
        ...

    def tell(self, text: str) -> None:
        """Feedback from leanloop, as the user's message."""
        ...


class _Chat:
    """The default mode's conversation."""

    tools = False

    def __init__(self, model: Model, system: str, first: str) -> None:
        self._model = model
        self.messages = [
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=first),
        ]

    async def ask(self, request: ProofRequest) -> Completion:
        return await self._model.complete(self.messages, request)

    def answered(self, completion: Completion) -> None:
        self.messages.append(ChatMessage(role="assistant", content=completion.text))

    def tell(self, text: str) -> None:
        self.messages.append(ChatMessage(role="user", content=text))


class Agent:
    """One conversation loop and one acceptance path for `prove`, `ci --fill` and `bench`.

    ``project`` is the Lake project the agent mode's tools and the premise index work in (by
    default each target file's own); ``say`` hears about the run (the index being built). The
    tools and the index are opened when first needed and closed by :meth:`aclose`."""

    def __init__(
        self,
        *,
        model: Model,
        checker: Checker,
        settings: Settings,
        policy: Policy,
        prompts: Prompts,
        project: Path | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.model = model
        self.checker = checker
        self.settings = settings
        self.policy = policy
        self.prompts = prompts
        self.project = project
        self._say = say or (lambda message: None)
        self._toolsets: dict[Path, Toolset] = {}

    def samples(self) -> int:
        # The built-in prover is deterministic: more samples would repeat the same proofs.
        return 1 if self.model.name.startswith("builtin:") else self.settings.samples

    def rounds(self, doc: LeanDocument) -> int:
        if self.model.name.startswith("builtin:"):
            from leanloop.model.builtin import portfolio

            return len(portfolio(doc.imports))
        return self.settings.rounds

    def cost(self, prompt: int, completion: int) -> float | None:
        return cost(self.settings.prices, self.model.name, prompt, completion)

    async def first_request(
        self, doc: LeanDocument, target: Target, file: str, holes: Holes | None = None
    ) -> str:
        """The first message; with ``premises``, the top declarations of the local index for
        the target go in (ReProver-style retrieval)."""
        hints = await self._premises(doc, target, file) if self.settings.premises else ""
        first = self.prompts.first_request(doc, target, file, self.settings.context_chars, hints)
        return first + holes.request() if holes is not None else first

    async def _premises(self, doc: LeanDocument, target: Target, file: str) -> str:
        from leanloop.premises.retrieve import Retriever, index_note, render_premises

        index, stats = await self.toolset(file).index()
        if (note := index_note(stats)) is not None:
            self._say(note)
        return render_premises(await Retriever(index, self.settings.premises)(doc, target))

    def toolset(self, file: str) -> Toolset:
        """The tools of ``file``'s project, on this run's checker (the same cage and limits)."""
        from leanloop.tools import Toolset

        root = self.project
        if root is None:
            from leanloop.lean.project import find_lake_root

            real = Path(file).resolve()
            root = find_lake_root(real) or real.parent
        if root not in self._toolsets:
            self._toolsets[root] = Toolset(root, self.settings, say=self._say, checker=self.checker)
        return self._toolsets[root]

    async def aclose(self) -> None:
        """Close what the agent mode and the premise index opened (REPLs, the index)."""
        toolsets, self._toolsets = self._toolsets, {}
        for toolset in toolsets.values():
            await toolset.aclose()

    def _conversation(
        self, target: Target, first: str, file: str, answers: bool
    ) -> _Chat | ToolChat:
        if self.settings.mode != "agent":
            return _Chat(self.model, self.prompts.system, first)
        from leanloop.agentic import ToolChat

        if not isinstance(self.model, ToolModel):
            raise ConfigError(NO_FUNCTION_CALLING)
        toolset = self.toolset(file)
        note = self.prompts.tools_note(target, file, answers=answers)
        return ToolChat(self.model, toolset, self.settings, self.prompts.tools_system, first + note)

    async def attempt(
        self,
        doc: LeanDocument,
        target: Target,
        *,
        first: str,
        log: AttemptLog,
        check_file: str,
        holes: Holes | None = None,
        hooks: Hooks | None = None,
        file: str | None = None,
    ) -> Accepted | None:
        """One sample: up to ``rounds`` rounds of answer and feedback (in the agent mode, tool
        turns between them, within the budgets); the accepted proof (settled) or None. Fatal
        problems (the endpoint refuses or is gone, Lean vanished or imports are not built)
        raise. ``file`` is the target's file as the first request names it (the agent mode's
        tools work in its project)."""
        hooks = hooks or Hooks()
        chat = self._conversation(target, first, file or check_file, holes is not None)
        rounds = self.rounds(doc)
        remind = holes.reminder() if holes is not None else ""
        empty: list[Completion] = []
        answered = 0  # rounds: turns answered in text (every turn, in the default mode)
        budget = self.settings.token_budget if chat.tools else None
        while answered < rounds:
            if budget is not None and log.prompt_tokens + log.completion_tokens >= budget:
                self._end(log, hooks, "token_budget", f"The token budget ({budget}) is used up.")
                return None
            turn = log.calls + 1
            log.rounds = turn
            request = ProofRequest(
                target=target.name,
                mode=target.mode,
                imports=doc.imports,
                round=turn,
                attempt=log.index,
            )
            t0 = time.monotonic()
            try:
                completion = await chat.ask(request)
            finally:
                log.model_seconds += time.monotonic() - t0
            log.calls += 1
            log.prompt_tokens += completion.prompt_tokens
            log.completion_tokens += completion.completion_tokens
            hooks.call(log, turn, completion)
            chat.answered(completion)
            if isinstance(completion, ToolCompletion) and completion.tool_calls:
                assert chat.tools  # only a function-calling conversation asks for tools
                accepted, ended = await self._tool_turn(
                    cast("ToolChat", chat),
                    completion.tool_calls,
                    doc,
                    target,
                    turn=turn,
                    log=log,
                    check_file=check_file,
                    holes=holes,
                    hooks=hooks,
                )
                if accepted is not None or ended:
                    return accepted
                continue
            answered += 1
            if not completion.text.strip():
                empty.append(completion)
                if len(empty) == rounds:
                    log.broken = _broken_endpoint(empty)
                    return None
            at_doc, at_target, shown = doc, target, None
            try:
                if holes is not None:
                    at_doc, at_target, shown = holes.fill(completion.text)
                extracted = extract(completion.text, at_doc, at_target)
            except (ExtractionError, AnswerProblem) as e:
                self._unusable(log, turn, e, hooks, informative=bool(completion.text.strip()))
                chat.tell(self.prompts.extraction_feedback(str(e), target) + remind)
                continue
            verdict = await self._judge(at_doc, at_target, extracted, check_file, log)
            if verdict.accepted:
                accepted = Accepted(
                    at_target, extracted, verdict, at_doc, log.index, turn, answer=shown
                )
                hooks.accepted(accepted)
                return await self._settle(accepted, check_file, log)
            self._rejected(log, turn, verdict, hooks)
            feedback = self.prompts.feedback_request(verdict, target, self.settings.feedback_chars)
            chat.tell(feedback + remind)
        return None

    async def _tool_turn(
        self,
        chat: ToolChat,
        calls: list[ToolCall],
        doc: LeanDocument,
        target: Target,
        *,
        turn: int,
        log: AttemptLog,
        check_file: str,
        holes: Holes | None,
        hooks: Hooks,
    ) -> tuple[Accepted | None, bool]:
        """Run the tool calls of one turn, each answered by a tool message: (the accepted
        proof, if a submission was accepted; whether the tool-call budget ended the attempt)."""
        limit = self.settings.max_tool_calls
        ended = False
        for tc in calls:
            if log.tool_calls >= limit:
                if not ended:
                    ended = True
                    self._end(
                        log, hooks, "max_tool_calls", f"The tool-call budget ({limit}) is used up."
                    )
                chat.reply(tc, f"Not run: the tool-call budget ({limit}) is used up.")
                continue
            log.tool_calls += 1
            hooks.tool(log, turn, tc.name)
            accepted = await self.tool_call(
                chat,
                tc,
                doc,
                target,
                turn=turn,
                log=log,
                check_file=check_file,
                holes=holes,
                hooks=hooks,
            )
            if accepted is not None:
                return accepted, False
        return None, ended

    async def tool_call(
        self,
        chat: ToolChat,
        tc: ToolCall,
        doc: LeanDocument,
        target: Target,
        *,
        turn: int,
        log: AttemptLog,
        check_file: str,
        holes: Holes | None = None,
        hooks: Hooks | None = None,
    ) -> Accepted | None:
        """One tool call, answered in ``chat``. A `submit_proof` goes the default mode's way:
        the answer holes filled, the gate, a search tactic settled; a rejection is the gate's
        reason as the tool's result, and counts as a failed round does."""
        from leanloop.agentic import ACCEPTED, SUBMIT

        hooks = hooks or Hooks()
        if tc.name != SUBMIT:
            content, timed_out = await chat.run(tc, doc)
            if timed_out and "tool_timeout" not in log.budget_hits:
                log.budget_hits.append("tool_timeout")
            chat.reply(tc, content)
            return None
        submitted = chat.submission(tc, target)
        if isinstance(submitted, str):
            chat.reply(tc, submitted)
            return None
        extracted, answer = submitted
        at_doc, at_target, shown = doc, target, None
        if holes is not None:
            try:
                at_doc, at_target, shown = holes.fill(answer or "")
            except AnswerProblem as e:
                self._unusable(log, turn, e, hooks, informative=True)
                chat.reply(tc, f"Rejected: {e}")
                return None
        verdict = await self._judge(at_doc, at_target, extracted, check_file, log)
        if verdict.accepted:
            chat.reply(tc, ACCEPTED)
            accepted = Accepted(at_target, extracted, verdict, at_doc, log.index, turn, shown)
            hooks.accepted(accepted)
            return await self._settle(accepted, check_file, log)
        self._rejected(log, turn, verdict, hooks)
        assert verdict.reason is not None
        feedback = self.prompts.feedback_request(verdict, target, self.settings.feedback_chars)
        chat.reply(tc, f"Rejected ({verdict.reason.value}): {feedback}")
        return None

    def _unusable(
        self, log: AttemptLog, rnd: int, e: Exception, hooks: Hooks, *, informative: bool
    ) -> None:
        """An answer with no usable proof, or an answer hole's value missing or refused."""
        refused = isinstance(e, AnswerProblem) and e.refused
        log.rejections.append(Reason.FORBIDDEN.value if refused else NO_PROOF)
        log.note = getattr(e, "for_user", None) or str(e)
        hooks.rejected(log, rnd, log.note, None, informative)

    def _rejected(self, log: AttemptLog, rnd: int, verdict: Verdict, hooks: Hooks) -> None:
        assert verdict.reason is not None
        if verdict.reason in LEAN_TROUBLE:
            log.trouble = verdict
        else:
            log.rejections.append(verdict.reason.value)
        log.last = verdict
        log.note = verdict.message
        hooks.rejected(log, rnd, verdict.message, verdict, True)

    @staticmethod
    def _end(log: AttemptLog, hooks: Hooks, budget: str, message: str) -> None:
        if budget not in log.budget_hits:
            log.budget_hits.append(budget)
        log.note = message
        hooks.ended(log, log.rounds, message)

    async def _judge(
        self,
        doc: LeanDocument,
        target: Target,
        extracted: Extracted,
        check_file: str,
        log: AttemptLog,
    ) -> Verdict:
        verdict = await judge(
            doc,
            target,
            extracted.answer,
            self.checker,
            self.policy,
            whole_body=extracted.whole_body,
            file_name=check_file,
        )
        if verdict.reason is Reason.NOT_BUILT:
            raise LeanNotBuiltError(verdict.message)
        if verdict.reason is Reason.LEAN_UNAVAILABLE:
            raise LeanNotFoundError(verdict.message)
        if verdict.reason not in _NO_CHECK:
            log.lean_checks += 1
            log.lean_seconds += verdict.lean_seconds
        return verdict

    async def _settle(self, accepted: Accepted, check_file: str, log: AttemptLog) -> Accepted:
        """Swap a search tactic (`exact?`) for the proof Lean found, if that is proved too:
        the file should not re-run a search on every build."""
        proof = accepted.extracted.proof
        if accepted.extracted.parts:
            return accepted  # several holes: each keeps what the model wrote
        searches = [t for t in code_tokens(proof) if t.text in SEARCH_TACTICS]
        if len(searches) != 1 or len(accepted.verdict.suggestions) != 1:
            return accepted
        tok = searches[0]
        settled = Extracted(
            proof[: tok.start] + accepted.verdict.suggestions[0] + proof[tok.end :],
            accepted.extracted.whole_body,
        )
        verdict = await self._judge(accepted.doc, accepted.target, settled, check_file, log)
        if not verdict.accepted:
            return accepted
        return Accepted(
            accepted.target,
            settled,
            verdict,
            accepted.doc,
            accepted.attempt,
            accepted.round,
            accepted.answer,
        )

    async def confirm(
        self,
        doc: LeanDocument,
        accepted: list[Accepted],
        baseline: LeanResult,
        check_file: str,
    ) -> FinalCheck:
        """The whole-file check of ``doc`` with every accepted proof in it: what is kept is
        what `prove` writes."""
        from leanloop.writeback import final_check

        chosen = [(a.target, a.extracted.answer, a.extracted.whole_body) for a in accepted]
        return await final_check(doc, chosen, self.checker, baseline, self.policy, check_file)


# ---------------------------------------------------------------------------------------------
# `prove` and `ci --fill`: the samples of each target raced, the first accepted proof wins.


@dataclass
class _Tally:
    attempts: list[AttemptLog] = field(default_factory=list)
    started: float | None = None  # when the first attempt got a slot: queued time is not counted
    last: Verdict | None = None
    last_problem: str | None = None
    broken: str | None = None  # the endpoint answered nothing usable: stop this target
    ended: str | None = None  # the latest attempt a budget ended: why (`--mode agent`)

    def seconds(self) -> float:
        return 0.0 if self.started is None else round(time.monotonic() - self.started, 3)

    def total(self, what: str) -> int:
        return sum(int(getattr(log, what)) for log in self.attempts)


_Outcome = tuple[Accepted | None, BaseException | None]


class _ProverHooks(Hooks):
    def __init__(
        self, prover: Prover, target: Target, tally: _Tally, launch_more: Callable[[], None]
    ) -> None:
        self._prover = prover
        self._target = target
        self._tally = tally
        self._launch_more = launch_more

    def call(self, log: AttemptLog, rnd: int, completion: Completion) -> None:
        p, c = completion.prompt_tokens, completion.completion_tokens
        self._prover._progress(
            Event(
                target=self._target.name,
                kind="call",
                attempt=log.index + 1,
                round=rnd,
                prompt_tokens=p,
                completion_tokens=c,
                cost_usd=self._prover.agent.cost(p, c),
            )
        )

    def rejected(
        self, log: AttemptLog, rnd: int, message: str, verdict: Verdict | None, informative: bool
    ) -> None:
        self._tally.ended = None
        if verdict is not None:
            self._tally.last = verdict
        else:
            self._tally.last_problem = message
        self._prover._progress(
            Event(
                target=self._target.name,
                kind="round",
                attempt=log.index + 1,
                round=rnd,
                message=message,
            )
        )
        if informative:
            self._launch_more()

    def accepted(self, accepted: Accepted) -> None:
        # Kept at once: if the run stops while the search tactic is settled, the proof is
        # still written.
        self._prover.accepted.setdefault(self._target.name, accepted)

    def tool(self, log: AttemptLog, rnd: int, name: str) -> None:
        self._prover._progress(
            Event(
                target=self._target.name,
                kind="tool",
                attempt=log.index + 1,
                round=rnd,
                message=name,
            )
        )

    def ended(self, log: AttemptLog, rnd: int, message: str) -> None:
        self._tally.ended = message
        self._prover._progress(
            Event(
                target=self._target.name,
                kind="round",
                attempt=log.index + 1,
                round=rnd,
                message=message,
            )
        )
        self._launch_more()


class Prover:
    """Proves targets; keeps what the gate accepted in ``accepted``.

    A fatal problem (the endpoint refuses or is gone, Lean vanished) stops new work: the other
    targets are cancelled, ``stopped`` holds the error, and the proofs accepted so far stay in
    ``accepted`` for the caller to check and write."""

    def __init__(
        self,
        *,
        model: Model,
        checker: Checker,
        settings: Settings,
        policy: Policy,
        prompts: Prompts,
        progress: Progress | None = None,
    ) -> None:
        self._progress = progress or (lambda e: None)
        self.agent = Agent(
            model=model,
            checker=checker,
            settings=settings,
            policy=policy,
            prompts=prompts,
            say=lambda message: self._progress(Event(target="", kind="note", message=message)),
        )
        self.model = model
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tallies: dict[str, _Tally] = {}
        self._reports: dict[str, TargetReport] = {}
        self.accepted: dict[str, Accepted] = {}
        self.stopped: LeanloopError | None = None

    async def prove_all(
        self, doc: LeanDocument, targets: list[Target], file: str, blocked: dict[str, str]
    ) -> list[TargetReport]:
        for name, why in blocked.items():
            self._progress(Event(target=name, kind="failed", message=why))
        tasks = {
            t.name: asyncio.create_task(self.prove(doc, t, file))
            for t in targets
            if t.name not in blocked
        }
        try:
            pending: set[asyncio.Task[TargetReport]] = set(tasks.values())
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                errors = [e for task in done if (e := _exception(task)) is not None]
                if not errors:
                    continue
                fatal = next((e for e in errors if isinstance(e, LeanloopError)), None)
                if fatal is None:
                    raise errors[0]  # a bug: the CLI reports it as an internal error
                self.stopped = fatal
                break
        finally:
            # Also on Ctrl-C (the caller's task cancelled): no attempt outlives the run.
            left = [task for task in tasks.values() if not task.done()]
            for task in left:
                task.cancel()
            if left:
                await asyncio.gather(*left, return_exceptions=True)
            # The tools and the premise index: only the attempts used them.
            await self.agent.aclose()
        return self.snapshot(targets, file, blocked)

    def snapshot(
        self, targets: list[Target], file: str, blocked: dict[str, str]
    ) -> list[TargetReport]:
        """Every target's report as things stand (also after a stop or Ctrl-C)."""
        reports = []
        for t in targets:
            if t.name in blocked:
                reports.append(
                    TargetReport(
                        name=t.name,
                        file=file,
                        line=t.line,
                        status=Status.BLOCKED,
                        note=blocked[t.name],
                    )
                )
            else:
                reports.append(self._reports.get(t.name) or self.unfinished(t, file))
        return reports

    def unfinished(self, target: Target, file: str) -> TargetReport:
        """The report of a target the run did not finish: proved if a proof was already
        accepted, else stopped."""
        tally = self._tallies.get(target.name) or _Tally()
        winner = self.accepted.get(target.name)
        report = self._report(target, file, tally, winner)
        if winner is not None:
            self._mark_proved(report, winner)
        else:
            report.status = Status.STOPPED
            why = str(self.stopped) if self.stopped is not None else "interrupted"
            report.note = f"Not finished: the run stopped ({why.rstrip('.')})."
        return report

    def _report(
        self, target: Target, file: str, tally: _Tally, winner: Accepted | None
    ) -> TargetReport:
        prompt, completion = tally.total("prompt_tokens"), tally.total("completion_tokens")
        # The rounds it took: the round of the proof that won, else the longest attempt's.
        # (Several attempts run at once: their rounds added up say nothing.)
        rounds = (
            winner.round
            if winner is not None
            else max((log.rounds for log in tally.attempts), default=0)
        )
        hits = [b for log in tally.attempts for b in log.budget_hits]
        return TargetReport(
            name=target.name,
            file=file,
            line=target.line,
            status=Status.FAILED,
            attempts=len(tally.attempts),
            rounds=rounds,
            model_calls=tally.total("calls"),
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=self.agent.cost(prompt, completion),
            seconds=tally.seconds(),
            mode=self.settings.mode,
            tool_calls=tally.total("tool_calls"),
            budget_hits=list(dict.fromkeys(hits)),
        )

    @staticmethod
    def _mark_proved(report: TargetReport, winner: Accepted) -> None:
        report.status = Status.PROVED
        report.proof = winner.extracted.proof
        report.axioms = winner.verdict.axioms
        report.native_decide = winner.verdict.native

    async def prove(self, doc: LeanDocument, target: Target, file: str) -> TargetReport:
        tally = self._tallies[target.name] = _Tally()
        winner = await self._race(doc, target, file, tally)
        report = self._report(target, file, tally, winner)
        if winner is not None:
            self.accepted[target.name] = winner
            self._mark_proved(report, winner)
            self._progress(Event(target=target.name, kind="proved", message="proved"))
        else:
            last = tally.last
            report.last_errors = [e.text for e in last.errors] if last else []
            report.note = (
                tally.broken or tally.ended or (last.message if last else tally.last_problem)
            )
            self._progress(
                Event(target=target.name, kind="failed", message=report.note or "not proved")
            )
        self._reports[target.name] = report
        return report

    async def _race(
        self, doc: LeanDocument, target: Target, file: str, tally: _Tally
    ) -> Accepted | None:
        """Run the samples of one target; the first accepted proof wins.

        By default one sample starts, and each round that fails lets one more start (up to
        ``samples``), so a target proved on the first try costs one model call; ``eager``
        starts them all at once."""
        samples = self.agent.samples()
        # The same for every sample; built once (it walks the file's commands for context).
        first = await self.agent.first_request(doc, target, file)
        outcomes: asyncio.Queue[_Outcome] = asyncio.Queue()
        tasks: list[asyncio.Task[None]] = []

        async def run(index: int) -> None:
            try:
                result = await self._attempt(doc, target, file, first, index, tally, launch)
                outcomes.put_nowait((result, None))
            except asyncio.CancelledError:
                raise
            except Exception as e:
                outcomes.put_nowait((None, e))

        def launch() -> None:
            if len(tasks) < samples:
                tasks.append(asyncio.create_task(run(len(tasks))))

        for _ in range(samples if self.settings.eager else 1):
            launch()
        try:
            finished = 0
            while finished < len(tasks):
                result, error = await outcomes.get()
                finished += 1
                if error is not None:
                    raise error
                if result is not None:
                    return result
                if tally.broken is not None:
                    return None
            return None
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt(
        self,
        doc: LeanDocument,
        target: Target,
        file: str,
        first: str,
        index: int,
        tally: _Tally,
        launch_more: Callable[[], None],
    ) -> Accepted | None:
        """One sample of the shared loop, once a slot is free. Each failed round calls
        ``launch_more`` (the next sample may start)."""
        async with self._slots:
            log = AttemptLog(index)
            tally.attempts.append(log)
            if tally.started is None:
                tally.started = time.monotonic()
                self._progress(Event(target=target.name, kind="start"))
            result = await self.agent.attempt(
                doc,
                target,
                first=first,
                log=log,
                check_file=file_name(file),
                hooks=_ProverHooks(self, target, tally, launch_more),
                file=file,
            )
            if log.broken is not None:
                tally.broken = log.broken
            if result is not None:
                self.accepted[target.name] = result
            return result


def _exception(task: asyncio.Task[TargetReport]) -> BaseException | None:
    return None if task.cancelled() else task.exception()


def _broken_endpoint(empty: list[Completion]) -> str:
    if any(c.finish_reason == "length" for c in empty):
        return (
            f"The endpoint returned an empty answer in all {len(empty)} rounds, cut off at the "
            "token limit: raise max_tokens (reasoning models spend tokens before answering)."
        )
    return (
        f"The endpoint returned an empty answer in all {len(empty)} rounds; the endpoint or "
        "the model behind it is broken, so this target was stopped."
    )


def file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] or "Check.lean"
