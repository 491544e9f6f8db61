"""The proving loop: ask, extract, check, feed back; keep only what the gate accepts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from leanloop.errors import LeanloopError, LeanNotBuiltError, LeanNotFoundError
from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import Checker
from leanloop.model import (
    ChatMessage,
    Completion,
    Extracted,
    ExtractionError,
    Model,
    ProofRequest,
    extract,
)
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.report import Status, TargetReport, cost
from leanloop.settings import Settings
from leanloop.source import LeanDocument, code_tokens
from leanloop.source.targets import Target

SEARCH_TACTICS = frozenset({"exact?", "apply?", "simp?", "simp_all?", "aesop?", "rw?"})


class Event(BaseModel):
    """A progress event, one per notable step."""

    target: str
    # start (first attempt got a slot) | round (a round failed) | call (a model call finished)
    # | proved | failed | stopped
    kind: str
    attempt: int = 0
    round: int = 0
    message: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


Progress = Callable[[Event], None]


@dataclass
class _Tally:
    attempts: int = 0
    rounds: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: float | None = None  # when the first attempt got a slot: queued time is not counted
    last: Verdict | None = None
    last_problem: str | None = None
    broken: str | None = None  # the endpoint answered nothing usable: stop this target
    notes: list[str] = field(default_factory=list)

    def seconds(self) -> float:
        return 0.0 if self.started is None else round(time.monotonic() - self.started, 3)


@dataclass
class Accepted:
    target: Target
    extracted: Extracted
    verdict: Verdict


_Outcome = tuple[Accepted | None, BaseException | None]


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
        self.model = model
        self.checker = checker
        self.settings = settings
        self.policy = policy
        self.prompts = prompts
        self._progress = progress or (lambda e: None)
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
        report = self._report(target, file, self._tallies.get(target.name) or _Tally())
        if target.name in self.accepted:
            self._mark_proved(report, self.accepted[target.name])
        else:
            report.status = Status.STOPPED
            why = str(self.stopped) if self.stopped is not None else "interrupted"
            report.note = f"Not finished: the run stopped ({why.rstrip('.')})."
        return report

    def _report(self, target: Target, file: str, tally: _Tally) -> TargetReport:
        return TargetReport(
            name=target.name,
            file=file,
            line=target.line,
            status=Status.FAILED,
            attempts=tally.attempts,
            rounds=tally.rounds,
            model_calls=tally.calls,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            cost_usd=self._cost(tally.prompt_tokens, tally.completion_tokens),
            seconds=tally.seconds(),
        )

    def _cost(self, prompt: int, completion: int) -> float | None:
        return cost(self.settings.prices, self.model.name, prompt, completion)

    @staticmethod
    def _mark_proved(report: TargetReport, winner: Accepted) -> None:
        report.status = Status.PROVED
        report.proof = winner.extracted.proof
        report.axioms = winner.verdict.axioms
        report.native_decide = winner.verdict.native

    async def prove(self, doc: LeanDocument, target: Target, file: str) -> TargetReport:
        tally = self._tallies[target.name] = _Tally()
        winner = await self._race(doc, target, file, tally)
        report = self._report(target, file, tally)
        if winner is not None:
            self.accepted[target.name] = winner
            self._mark_proved(report, winner)
            self._progress(Event(target=target.name, kind="proved", message="proved"))
        else:
            last = tally.last
            report.last_errors = [e.text for e in last.errors] if last else []
            report.note = tally.broken or (last.message if last else tally.last_problem)
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
        samples = self._samples()
        # The same for every sample; built once (it walks the file's commands for context).
        first = self.prompts.first_request(doc, target, file, self.settings.context_chars)
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

    def _samples(self) -> int:
        # The built-in prover is deterministic: more samples would repeat the same proofs.
        return 1 if self.model.name.startswith("builtin:") else self.settings.samples

    def _rounds(self, doc: LeanDocument) -> int:
        if self.model.name.startswith("builtin:"):
            from leanloop.model.builtin import portfolio

            return len(portfolio(doc.imports))
        return self.settings.rounds

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
        """One sample: up to ``rounds`` rounds of answer and feedback. Each failed round calls
        ``launch_more`` (the next sample may start)."""
        async with self._slots:
            tally.attempts += 1
            if tally.started is None:
                tally.started = time.monotonic()
                self._progress(Event(target=target.name, kind="start"))
            messages = [
                ChatMessage(role="system", content=self.prompts.system),
                ChatMessage(role="user", content=first),
            ]
            rounds = self._rounds(doc)
            empty: list[Completion] = []
            for rnd in range(1, rounds + 1):
                request = ProofRequest(
                    target=target.name,
                    mode=target.mode,
                    imports=doc.imports,
                    round=rnd,
                    attempt=index,
                )
                completion = await self.model.complete(messages, request)
                tally.rounds += 1
                tally.calls += 1
                tally.prompt_tokens += completion.prompt_tokens
                tally.completion_tokens += completion.completion_tokens
                self._progress(
                    Event(
                        target=target.name,
                        kind="call",
                        attempt=index + 1,
                        round=rnd,
                        prompt_tokens=completion.prompt_tokens,
                        completion_tokens=completion.completion_tokens,
                        cost_usd=self._cost(completion.prompt_tokens, completion.completion_tokens),
                    )
                )
                messages.append(ChatMessage(role="assistant", content=completion.text))
                if not completion.text.strip():
                    empty.append(completion)
                    if len(empty) == rounds:
                        tally.broken = _broken_endpoint(empty)
                        return None
                try:
                    extracted = extract(completion.text, doc, target)
                except ExtractionError as e:
                    tally.last_problem = e.for_user
                    self._round(target, index, rnd, e.for_user)
                    if completion.text.strip():
                        # An empty answer says nothing about the proof: no further sample for it.
                        launch_more()
                    messages.append(
                        ChatMessage(
                            role="user", content=self.prompts.extraction_feedback(str(e), target)
                        )
                    )
                    continue
                verdict = await judge(
                    doc,
                    target,
                    extracted.answer,
                    self.checker,
                    self.policy,
                    whole_body=extracted.whole_body,
                    file_name=file_name(file),
                )
                self._raise_if_fatal(verdict)
                if verdict.accepted:
                    accepted = Accepted(target, extracted, verdict)
                    # Kept at once: if the run stops while the search tactic is settled, the
                    # proof is still written.
                    self.accepted.setdefault(target.name, accepted)
                    settled = await self._settle(doc, target, file, accepted)
                    self.accepted[target.name] = settled
                    return settled
                tally.last = verdict
                self._round(target, index, rnd, verdict.message)
                launch_more()
                messages.append(
                    ChatMessage(
                        role="user",
                        content=self.prompts.feedback_request(
                            verdict, target, self.settings.feedback_chars
                        ),
                    )
                )
        return None

    async def _settle(
        self, doc: LeanDocument, target: Target, file: str, accepted: Accepted
    ) -> Accepted:
        """Swap a search tactic (`exact?`) for the proof Lean found, if that is proved too:
        the file should not re-run a search on every build."""
        proof = accepted.extracted.proof
        if accepted.extracted.parts:
            return accepted  # several holes: each keeps what the model wrote
        searches = [t for t in code_tokens(proof) if t.text in SEARCH_TACTICS]
        if len(searches) != 1 or len(accepted.verdict.suggestions) != 1:
            return accepted
        tok = searches[0]
        settled = proof[: tok.start] + accepted.verdict.suggestions[0] + proof[tok.end :]
        verdict = await judge(
            doc,
            target,
            settled,
            self.checker,
            self.policy,
            whole_body=accepted.extracted.whole_body,
            file_name=file_name(file),
        )
        if not verdict.accepted:
            return accepted
        return Accepted(target, Extracted(settled, accepted.extracted.whole_body), verdict)

    def _round(self, target: Target, index: int, rnd: int, message: str) -> None:
        self._progress(
            Event(target=target.name, kind="round", attempt=index + 1, round=rnd, message=message)
        )

    @staticmethod
    def _raise_if_fatal(verdict: Verdict) -> None:
        if verdict.reason is Reason.NOT_BUILT:
            raise LeanNotBuiltError(verdict.message)
        if verdict.reason is Reason.LEAN_UNAVAILABLE:
            raise LeanNotFoundError(verdict.message)


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
