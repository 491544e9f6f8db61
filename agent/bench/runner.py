"""Running a benchmark: every sample of every problem, independently, through the same model,
extraction, prompts and acceptance gate as `prove`; each attempt journalled as it ends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from leanloop.bench import answers
from leanloop.bench.answers import Hole, find_holes
from leanloop.bench.problems import Problem
from leanloop.bench.store import AttemptRecord, Outcome, ProblemRecord
from leanloop.errors import EndpointAuthError, EndpointError, LeanloopError, LeanNotFoundError
from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import Checker, LeanResult
from leanloop.model import ChatMessage, ExtractionError, Model, ProofRequest, extract
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.report import cost
from leanloop.settings import Settings
from leanloop.source import LeanDocument, UnterminatedError
from leanloop.source.targets import Target, find_targets

CHECK_FILE = "Bench.lean"

# Gate reasons that say nothing about the proof: Lean did not finish its job.
INFRA_REASONS = {
    Reason.TIMEOUT: "lean_timeout",
    Reason.CRASH: "lean_crash",
    Reason.JUNK: "lean_junk",
}
# Reasons decided before Lean runs: no Lean check was spent.
_NO_CHECK = frozenset({Reason.EMPTY, Reason.FORBIDDEN, Reason.STRUCTURE})

# Settings that do not change what a sample can achieve; changing them may resume a run.
_NEUTRAL = frozenset(
    {
        "samples",
        "concurrency",
        "lean_workers",
        "prices",
        "api_key_env",
        "backend",
        "repl_cmd",
        "repl_max_uses",
        "repl_header_timeout",
        "sandbox",
        "env_allow",
        "replay",
        "replay_cmd",
        "eager",
        "request_timeout",
        "max_retries",
        "prompts_dir",
    }
)


# Settings added after runs were journalled (issue 21): at their defaults they leave an older
# run's fingerprint as it was, so it can still be resumed.
_ADDED = frozenset({"mode", "max_tool_calls", "tool_timeout", "token_budget", "premises"})


def settings_fingerprint(settings: Settings, prompts: Prompts) -> tuple[str, dict[str, object]]:
    """A hash of what decides the outcome of a sample: model, rounds, limits, policy, prompts."""
    relevant: dict[str, object] = {
        k: v
        for k, v in settings.model_dump(mode="json").items()
        if k not in _NEUTRAL and not (k in _ADDED and v == Settings.model_fields[k].default)
    }
    relevant["prompts"] = hashlib.sha256(
        (prompts.system + prompts.first.template + prompts.feedback.template).encode("utf-8")
    ).hexdigest()[:16]
    blob = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16], relevant


@dataclass
class Tally:
    """Running totals for the progress display."""

    total: int = 0  # attempts this run will make
    attempted: int = 0
    solved: int = 0
    infra: int = 0
    problems_total: int = 0
    problems_done: int = 0
    tokens: int = 0
    dollars: float = 0.0
    dollars_known: bool = True
    started: float = field(default_factory=time.monotonic)


class Sink(Protocol):
    """Where progress goes: a live bar on a terminal, plain lines elsewhere."""

    def attempt(self, tally: Tally, record: AttemptRecord) -> None: ...

    def problem(self, tally: Tally, name: str, line: str) -> None: ...


@dataclass(frozen=True)
class Prepared:
    doc: LeanDocument
    target: Target
    holes: list[Hole] = field(default_factory=list)  # answer holes the model fills too


class Records(Protocol):
    """Where finished records go: the journal on disk, or a list in a Ray worker."""

    def append(self, record: AttemptRecord | ProblemRecord) -> None: ...


Work = list[tuple[Problem, list[int]]]


class Recorder:
    """Journals each record as it ends, keeps the totals and tells the progress sink."""

    def __init__(self, journal: Records, sink: Sink, work: Work) -> None:
        self.journal = journal
        self.sink = sink
        self.tally = Tally(total=sum(len(s) for _, s in work), problems_total=len(work))
        self._left = {p.name: len(s) for p, s in work}

    def attempt(self, record: AttemptRecord) -> None:
        self.journal.append(record)
        t = self.tally
        t.attempted += 1
        t.solved += record.outcome is Outcome.PROVED
        t.infra += record.outcome is Outcome.INFRA
        t.tokens += record.prompt_tokens + record.completion_tokens
        if record.cost_usd is None:
            t.dollars_known = False
        else:
            t.dollars += record.cost_usd
        self.sink.attempt(t, record)
        self._left[record.problem] -= 1
        if self._left[record.problem] == 0:
            t.problems_done += 1
            self.sink.problem(t, record.problem, "done")

    def skipped(self, record: ProblemRecord) -> None:
        """A problem no sample ran on; recorded once, however many samples were asked for."""
        self.journal.append(record)
        self.tally.total -= self._left[record.problem]  # its samples will not be attempted
        self._left[record.problem] = 0
        self.tally.problems_done += 1
        what = "dataset error" if record.status == "dataset_error" else "infra"
        self.sink.problem(self.tally, record.problem, f"skipped ({what}): {record.message}")


class Bench:
    def __init__(
        self,
        *,
        model: Model,
        checker: Checker,
        settings: Settings,
        policy: Policy,
        prompts: Prompts,
        settings_fp: str,
        dataset_fp: str,
    ) -> None:
        self.model = model
        self.checker = checker
        self.settings = settings
        self.policy = policy
        self.prompts = prompts
        self.settings_fp = settings_fp
        self.dataset_fp = dataset_fp
        self._answered = False  # has the endpoint ever answered? (else its errors are fatal)
        self._prepared: dict[str, asyncio.Task[Prepared | ProblemRecord]] = {}

    async def run(self, work: Work, recorder: Recorder) -> None:
        """Run the given samples of each problem; ``concurrency`` conversations at once."""
        jobs: Iterator[tuple[Problem, int]] = ((p, i) for p, s in work for i in s)
        skipped: set[str] = set()
        order = [p for p, _ in work]
        position = {p.name: i for i, p in enumerate(order)}
        # Check the next problems' statements while this one's samples talk to the model, so
        # that no conversation slot waits for a baseline check.
        fewest = min((len(s) for _, s in work), default=1)
        ahead = 1 + -(-self.settings.concurrency // max(fewest, 1))

        async def worker() -> None:
            for problem, index in jobs:
                at = position[problem.name]
                for later in order[at + 1 : at + 1 + ahead]:
                    self._prepare_task(later)
                prepared = await self._prepare(problem)
                if isinstance(prepared, ProblemRecord):
                    if problem.name not in skipped:
                        skipped.add(problem.name)
                        recorder.skipped(prepared)
                    continue
                recorder.attempt(await self.sample(problem, prepared, index))

        workers = [asyncio.create_task(worker()) for _ in range(max(1, self.settings.concurrency))]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if (exc := t.exception()) is not None:
                    raise exc
        finally:
            for t in workers:
                t.cancel()
            for p in self._prepared.values():
                p.cancel()
            await asyncio.gather(*workers, *self._prepared.values(), return_exceptions=True)

    # -----------------------------------------------------------------------------------------
    # one problem: its document, its target, and Lean's word on the untouched statement

    def _prepare_task(self, problem: Problem) -> asyncio.Task[Prepared | ProblemRecord]:
        task = self._prepared.get(problem.name)
        if task is None:
            task = asyncio.create_task(self._baseline(problem))
            self._prepared[problem.name] = task
        return task

    async def _prepare(self, problem: Problem) -> Prepared | ProblemRecord:
        return await asyncio.shield(self._prepare_task(problem))

    def _problem_record(self, problem: Problem, status: str, message: str) -> ProblemRecord:
        return ProblemRecord(
            problem=problem.name,
            status="dataset_error" if status == "dataset_error" else "infra",
            message=message,
            settings_fingerprint=self.settings_fp,
            dataset_fingerprint=self.dataset_fp,
        )

    async def _baseline(self, problem: Problem) -> Prepared | ProblemRecord:
        try:
            doc = LeanDocument(problem.text)
        except UnterminatedError as e:
            return self._problem_record(problem, "dataset_error", f"the statement has an {e}")
        start = len(problem.text) - len(problem.statement) - 1
        targets = [t for t in find_targets(doc) if t.decl.start >= start]
        if len(targets) != 1:
            why = "no theorem with a `sorry`" if not targets else f"{len(targets)} theorems"
            return self._problem_record(
                problem, "dataset_error", f"the statement holds {why}; expected exactly one"
            )
        result = await self.checker.check(doc.text, file_name=CHECK_FILE)
        if (fatal := _fatal(result)) is not None:
            raise fatal
        if result.status != "ok":
            kind = _crash_kind(result) if result.status == "crashed" else "lean_timeout"
            rec = self._problem_record(problem, "infra", f"{kind}: {result.describe()}")
            rec.lean_seconds = result.seconds
            return rec
        if result.errors:
            first = result.errors[0]
            line = first.pos.line - (doc.text[:start].count("\n"))
            where = f"line {line} of the statement" if line >= 1 else "the header"
            text = first.data.splitlines()[0] if first.data else ""
            rec = self._problem_record(
                problem, "dataset_error", f"Lean rejects the problem itself ({where}): {text}"
            )
            rec.lean_seconds = result.seconds
            return rec
        holes: list[Hole] = []
        if problem.answers:
            try:
                holes = find_holes(doc, problem.answers, targets[0].decl.start)
            except answers.AnswerError as e:
                return self._problem_record(problem, "dataset_error", str(e))
        return Prepared(doc, targets[0], holes)

    # -----------------------------------------------------------------------------------------
    # one sample: a conversation of up to `rounds` rounds, run to its end

    async def sample(self, problem: Problem, prep: Prepared, index: int) -> AttemptRecord:
        doc, target = prep.doc, prep.target
        rec = AttemptRecord(
            problem=problem.name,
            sample=index,
            outcome=Outcome.NO_PROOF,
            model=self.model.name,
            settings_fingerprint=self.settings_fp,
            dataset_fingerprint=self.dataset_fp,
            started=time.time(),
        )
        first = self.prompts.first_request(doc, target, problem.origin, self.settings.context_chars)
        if prep.holes:
            first += answers.request(prep.holes)
        if self.settings.mode == "agent":
            return await self._agent_sample(rec, doc, target, first, index)
        messages = [
            ChatMessage(role="system", content=self.prompts.system),
            ChatMessage(role="user", content=first),
        ]
        for rnd in range(1, self.settings.rounds + 1):
            rec.rounds = rnd
            request = ProofRequest(
                target=target.name, mode=target.mode, imports=doc.imports, round=rnd, attempt=index
            )
            t0 = time.monotonic()
            try:
                completion = await self.model.complete(messages, request)
            except EndpointAuthError:
                raise
            except EndpointError as e:
                if not self._answered:
                    raise EndpointError(
                        f"The endpoint failed before answering any request: {e}"
                    ) from None
                rec.model_seconds += time.monotonic() - t0
                return self._end(rec, Outcome.INFRA, "endpoint", note=str(e))
            self._answered = True
            rec.model_seconds += time.monotonic() - t0
            rec.calls += 1
            rec.prompt_tokens += completion.prompt_tokens
            rec.completion_tokens += completion.completion_tokens
            messages.append(ChatMessage(role="assistant", content=completion.text))
            at_doc, at_target, shown = doc, target, None
            try:
                if prep.holes:
                    at_doc, at_target, shown = answers.fill(
                        doc, target, prep.holes, completion.text, self.policy
                    )
                extracted = extract(completion.text, at_doc, at_target)
            except (ExtractionError, answers.AnswerError) as e:
                refused = isinstance(e, answers.AnswerRefused)
                rec.reasons.append(Reason.FORBIDDEN.value if refused else Outcome.NO_PROOF.value)
                if refused:
                    rec.outcome = Outcome.WRONG
                rec.note = getattr(e, "for_user", None) or str(e)
                feedback = self.prompts.extraction_feedback(str(e), target)
                if prep.holes:
                    feedback += answers.reminder(prep.holes)
                messages.append(ChatMessage(role="user", content=feedback))
                continue
            verdict = await judge(
                at_doc,
                at_target,
                extracted.proof,
                self.checker,
                self.policy,
                whole_body=extracted.whole_body,
                file_name=CHECK_FILE,
            )
            rec.lean_seconds += verdict.lean_seconds
            if verdict.reason not in _NO_CHECK:
                rec.lean_checks += 1
            if verdict.accepted:
                rec.proof = extracted.proof
                rec.answer = shown
                return self._end(rec, Outcome.PROVED, None, note=None)
            assert verdict.reason is not None
            if (kind := _infra_kind(verdict)) is not None:
                return self._end(rec, Outcome.INFRA, kind, note=verdict.message)
            rec.reasons.append(verdict.reason.value)
            rec.note = verdict.message
            rec.outcome = Outcome.WRONG
            feedback = self.prompts.feedback_request(verdict, target, self.settings.feedback_chars)
            if prep.holes:
                feedback += answers.reminder(prep.holes)
            messages.append(ChatMessage(role="user", content=feedback))
        last = rec.reasons[-1] if rec.reasons else None
        return self._end(rec, rec.outcome, last, note=rec.note)

    async def _agent_sample(
        self, rec: AttemptRecord, doc: LeanDocument, target: Target, first: str, index: int
    ) -> AttemptRecord:
        """`--mode agent`: the sample is one tool-calling conversation (leanloop.agentic)."""
        from leanloop.agentic import Agent, make_agent, project_of

        if not isinstance(getattr(self, "_agent", None), Agent):
            root = project_of(self.checker)
            self._agent = make_agent(
                self.model, self.checker, self.policy, self.settings, self.prompts,
                root / CHECK_FILE, CHECK_FILE,
            )  # fmt: skip
        try:
            r = await self._agent.attempt(doc, target, first, Path(CHECK_FILE), index)
        except EndpointAuthError:
            raise
        except EndpointError as e:
            return self._end(rec, Outcome.INFRA, "endpoint", note=str(e))
        self._answered = True
        rec.rounds = rec.calls = r.calls
        rec.prompt_tokens, rec.completion_tokens = r.prompt_tokens, r.completion_tokens
        rec.lean_checks, rec.lean_seconds = r.lean_checks, r.lean_seconds
        rec.model_seconds = r.model_seconds
        rec.reasons = r.reasons
        rec.tool_calls, rec.budget_hits = r.tool_calls, r.budget_hits
        if r.accepted is not None:
            rec.proof = r.accepted.proof
            return self._end(rec, Outcome.PROVED, None, note=None)
        if r.verdict is not None and (kind := _infra_kind(r.verdict)) is not None:
            return self._end(rec, Outcome.INFRA, kind, note=r.verdict.message)
        outcome = Outcome.WRONG if r.reasons else Outcome.NO_PROOF
        return self._end(rec, outcome, r.reasons[-1] if r.reasons else None, note=r.note)

    def _end(
        self, rec: AttemptRecord, outcome: Outcome, reason: str | None, note: str | None
    ) -> AttemptRecord:
        rec.outcome = outcome
        rec.reason = reason
        rec.infra_kind = reason if outcome is Outcome.INFRA else None
        rec.note = note
        rec.cost_usd = cost(
            self.settings.prices, self.model.name, rec.prompt_tokens, rec.completion_tokens
        )
        rec.model_seconds = round(rec.model_seconds, 3)
        rec.lean_seconds = round(rec.lean_seconds, 3)
        rec.finished = time.time()
        return rec


def _infra_kind(verdict: Verdict) -> str | None:
    if verdict.reason is Reason.LEAN_UNAVAILABLE:
        raise LeanNotFoundError(verdict.message)
    if verdict.reason is Reason.NOT_BUILT:
        from leanloop.errors import LeanNotBuiltError

        raise LeanNotBuiltError(verdict.message)
    if verdict.reason is Reason.CRASH and _mentions_memory(verdict.message):
        return "lean_memory"
    return INFRA_REASONS.get(verdict.reason) if verdict.reason is not None else None


def _mentions_memory(text: str) -> bool:
    # A guess, not seen recorded: Lean out of memory (or killed by the cage's memory limit)
    # is expected to say "out of memory" or "memory" somewhere in what it printed.
    return "memory" in text.lower()


def _crash_kind(result: LeanResult) -> str:
    return "lean_memory" if _mentions_memory(result.excerpt) else "lean_crash"


def _fatal(result: LeanResult) -> LeanloopError | None:
    """Failures of the set-up, not of one problem: no point in going on."""
    from leanloop.prove import baseline_problem

    if result.status in ("start_failed", "junk") or result.missing_module is not None:
        return baseline_problem(result)
    return None


async def lean_version(settings: Settings, where: Path) -> str:
    """`lean --version` as the checker would run it, or "unknown"."""
    from leanloop.lean.project import lean_command
    from leanloop.lean.runner import run_process

    try:
        command = lean_command(where, settings.lean_cmd)
    except LeanloopError:
        return "unknown"
    argv = command.argv
    names = [Path(a).name for a in argv]
    if "lean" not in names:
        return "unknown"  # a custom command we cannot ask for its version
    argv = [*argv[: names.index("lean") + 1], "--version"]
    proc = await run_process(argv, cwd=command.cwd, timeout=60)
    lines = proc.stdout.strip().splitlines()
    return lines[0] if proc.exit_code == 0 and lines else "unknown"
