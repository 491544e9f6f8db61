"""The proving loop: ask, extract, check, feed back; keep only what the gate accepts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from leanloop.errors import LeanNotBuiltError, LeanNotFoundError
from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import Checker
from leanloop.model import ChatMessage, Extracted, ExtractionError, Model, ProofRequest, extract
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
    kind: str  # start | round | proved | failed
    attempt: int = 0
    round: int = 0
    message: str = ""


Progress = Callable[[Event], None]


@dataclass
class _Tally:
    attempts: int = 0
    rounds: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last: Verdict | None = None
    last_problem: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Accepted:
    target: Target
    extracted: Extracted
    verdict: Verdict


class Prover:
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
        self.accepted: dict[str, Accepted] = {}

    async def prove_all(
        self, doc: LeanDocument, targets: list[Target], file: str, blocked: dict[str, str]
    ) -> list[TargetReport]:
        async def one(t: Target) -> TargetReport:
            if t.name in blocked:
                return TargetReport(
                    name=t.name, file=file, line=t.line, status=Status.BLOCKED, note=blocked[t.name]
                )
            return await self.prove(doc, t, file)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    async def prove(self, doc: LeanDocument, target: Target, file: str) -> TargetReport:
        start = time.monotonic()
        tally = _Tally()
        self._progress(Event(target=target.name, kind="start"))
        tasks = [
            asyncio.create_task(self._attempt(doc, target, file, i, tally))
            for i in range(self._samples())
        ]
        winner: Accepted | None = None
        try:
            for fut in asyncio.as_completed(tasks):
                result = await fut
                if result is not None:
                    winner = result
                    break
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        report = TargetReport(
            name=target.name,
            file=file,
            line=target.line,
            status=Status.PROVED if winner else Status.FAILED,
            attempts=tally.attempts,
            rounds=tally.rounds,
            model_calls=tally.calls,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            cost_usd=cost(
                self.settings.prices, self.model.name, tally.prompt_tokens, tally.completion_tokens
            ),
            seconds=round(time.monotonic() - start, 3),
        )
        if winner is not None:
            self.accepted[target.name] = winner
            report.proof = winner.extracted.proof
            report.axioms = winner.verdict.axioms
            report.native_decide = winner.verdict.native
            self._progress(Event(target=target.name, kind="proved", message="proved"))
        else:
            last = tally.last
            report.last_errors = [e.text for e in last.errors] if last else []
            report.note = last.message if last else tally.last_problem
            self._progress(
                Event(target=target.name, kind="failed", message=report.note or "not proved")
            )
        return report

    def _samples(self) -> int:
        # The built-in prover is deterministic: more samples would repeat the same proofs.
        return 1 if self.model.name.startswith("builtin:") else self.settings.samples

    def _rounds(self, doc: LeanDocument) -> int:
        if self.model.name.startswith("builtin:"):
            from leanloop.model.builtin import portfolio

            return len(portfolio(doc.imports))
        return self.settings.rounds

    async def _attempt(
        self, doc: LeanDocument, target: Target, file: str, index: int, tally: _Tally
    ) -> Accepted | None:
        async with self._slots:
            tally.attempts += 1
            messages = [
                ChatMessage(role="system", content=self.prompts.system),
                ChatMessage(
                    role="user",
                    content=self.prompts.first_request(
                        doc, target, file, self.settings.context_chars
                    ),
                ),
            ]
            for rnd in range(1, self._rounds(doc) + 1):
                tally.rounds += 1
                request = ProofRequest(
                    target=target.name,
                    mode=target.mode,
                    imports=doc.imports,
                    round=rnd,
                    attempt=index,
                )
                completion = await self.model.complete(messages, request)
                tally.calls += 1
                tally.prompt_tokens += completion.prompt_tokens
                tally.completion_tokens += completion.completion_tokens
                messages.append(ChatMessage(role="assistant", content=completion.text))
                try:
                    extracted = extract(completion.text, doc, target)
                except ExtractionError as e:
                    tally.last_problem = str(e)
                    self._round(target, index, rnd, str(e))
                    messages.append(
                        ChatMessage(
                            role="user", content=self.prompts.extraction_feedback(str(e), target)
                        )
                    )
                    continue
                verdict = await judge(
                    doc,
                    target,
                    extracted.proof,
                    self.checker,
                    self.policy,
                    whole_body=extracted.whole_body,
                    file_name=file_name(file),
                )
                self._raise_if_fatal(verdict)
                if verdict.accepted:
                    return await self._settle(
                        doc, target, file, Accepted(target, extracted, verdict)
                    )
                tally.last = verdict
                self._round(target, index, rnd, verdict.message)
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


def file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] or "Check.lean"
