"""Running a benchmark: every sample of every problem, independently, through `prove`'s own
conversation loop and acceptance path (:class:`leanloop.loop.Agent`: prompts, extraction, repair
rounds, the gate and the whole-file check); each attempt journalled as it ends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from leanloop.bench import answers
from leanloop.bench.answers import Hole, find_holes
from leanloop.bench.problems import Problem
from leanloop.bench.store import AttemptRecord, Outcome, ProblemRecord
from leanloop.errors import EndpointAuthError, EndpointError, LeanloopError
from leanloop.gate import Reason, Verdict
from leanloop.lean.checker import Checker, LeanResult
from leanloop.loop import NO_PROOF, Agent, AnswerProblem, AttemptLog, Hooks
from leanloop.model import Completion, Model
from leanloop.policy import Policy
from leanloop.prompts import Prompts
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
# The gate accepted the proof, but the whole new file did not pass: `prove` would not write it.
WHOLE_FILE = "whole_file"

# Settings that do not change what a sample can achieve; changing them may resume a run. The
# endpoint's address is one: the same model behind a restarted server is the same run.
_NEUTRAL = frozenset(
    {
        "base_url",
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
    if settings.mode == "agent":
        relevant["tool_prompts"] = hashlib.sha256(prompts.tools_system.encode("utf-8")).hexdigest()[
            :16
        ]
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

    def problem_done(self, tally: Tally, name: str, proved: int, samples: int) -> None:
        """Every sample of ``name`` has finished; ``proved`` of its ``samples`` (this run's and
        earlier runs' in the same directory) were proved."""
        ...

    def problem_skipped(self, tally: Tally, name: str, line: str) -> None: ...


@dataclass(frozen=True)
class Prepared:
    doc: LeanDocument
    target: Target
    baseline: LeanResult  # Lean's run on the untouched problem, for the whole-file check
    holes: list[Hole] = field(default_factory=list)  # answer holes the model fills too


class Records(Protocol):
    """Where finished records go: the journal on disk, or a list in a Ray worker."""

    def append(self, record: AttemptRecord | ProblemRecord) -> None: ...


Work = list[tuple[Problem, list[int]]]


class Recorder:
    """Journals each record as it ends, keeps the totals and tells the progress sink.

    ``earlier`` holds, per problem, the samples proved and finished by earlier runs in the same
    directory (kept on resume), so that a problem's line counts all of its samples."""

    def __init__(
        self,
        journal: Records,
        sink: Sink,
        work: Work,
        earlier: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.journal = journal
        self.sink = sink
        self.tally = Tally(total=sum(len(s) for _, s in work), problems_total=len(work))
        self._left = {p.name: len(s) for p, s in work}
        self._counts = {p.name: list((earlier or {}).get(p.name, (0, 0))) for p, _ in work}

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
        counts = self._counts[record.problem]
        counts[0] += record.outcome is Outcome.PROVED
        counts[1] += 1
        self._left[record.problem] -= 1
        if self._left[record.problem] == 0:
            t.problems_done += 1
            self.sink.problem_done(t, record.problem, counts[0], counts[1])

    def skipped(self, record: ProblemRecord) -> None:
        """A problem no sample ran on; recorded once, however many samples were asked for."""
        self.journal.append(record)
        self.tally.total -= self._left[record.problem]  # its samples will not be attempted
        self._left[record.problem] = 0
        self.tally.problems_done += 1
        what = "dataset error" if record.status == "dataset_error" else "infra"
        self.sink.problem_skipped(self.tally, record.problem, f"skipped ({what}): {record.message}")


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
        project: Path | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        # ``project``: where the agent mode's tools and the premise index work (default: the
        # current directory); ``say`` hears about the run (the index being built).
        self.agent = Agent(
            model=model,
            checker=checker,
            settings=settings,
            policy=policy,
            prompts=prompts,
            project=project or Path.cwd(),
            say=say,
        )
        self.model = model
        self.checker = checker
        self.settings = settings
        self.policy = policy
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
            await self.agent.aclose()

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
        return Prepared(doc, targets[0], result, holes)

    # -----------------------------------------------------------------------------------------
    # one sample: the shared loop (leanloop.loop.Agent) run to its end, then the whole-file
    # check, exactly as `prove` would do before writing

    async def sample(self, problem: Problem, prep: Prepared, index: int) -> AttemptRecord:
        rec = AttemptRecord(
            problem=problem.name,
            sample=index,
            outcome=Outcome.NO_PROOF,
            model=self.model.name,
            settings_fingerprint=self.settings_fp,
            dataset_fingerprint=self.dataset_fp,
            started=time.time(),
        )
        holes = _AnswerHoles(prep, self.policy) if prep.holes else None
        first = await self.agent.first_request(prep.doc, prep.target, problem.origin, holes)
        log = AttemptLog(index)
        try:
            accepted = await self.agent.attempt(
                prep.doc,
                prep.target,
                first=first,
                log=log,
                check_file=CHECK_FILE,
                holes=holes,
                hooks=_Answered(self),
                file=problem.origin,
            )
        except EndpointAuthError:
            raise
        except EndpointError as e:
            if not self._answered:
                raise EndpointError(
                    f"The endpoint failed before answering any request: {e}"
                ) from None
            return self._end(rec, log, Outcome.INFRA, "endpoint", note=str(e))
        if accepted is not None:
            t0 = time.monotonic()
            final = await self.agent.confirm(accepted.doc, [accepted], prep.baseline, CHECK_FILE)
            log.lean_checks += 1
            log.lean_seconds += time.monotonic() - t0
            if accepted.target.name in final.kept:
                rec.proof = accepted.extracted.proof
                rec.answer = accepted.answer
                return self._end(rec, log, Outcome.PROVED, None, note=None)
            # What `prove` reports as "Left out: the whole-file check failed".
            why = final.dropped.get(accepted.target.name, "the whole file did not pass")
            log.rejections.append(WHOLE_FILE)
            return self._end(
                rec, log, Outcome.WRONG, WHOLE_FILE, note=f"The whole-file check failed: {why}"
            )
        if log.trouble is not None:
            # A round Lean could not judge might have been a proof: not the model's failure.
            kind = _infra_kind(log.trouble)
            return self._end(rec, log, Outcome.INFRA, kind, note=log.trouble.message)
        wrong = any(r != NO_PROOF for r in log.rejections)
        last = log.rejections[-1] if log.rejections else None
        note = log.broken or log.note
        return self._end(rec, log, Outcome.WRONG if wrong else Outcome.NO_PROOF, last, note=note)

    def _end(
        self,
        rec: AttemptRecord,
        log: AttemptLog,
        outcome: Outcome,
        reason: str | None,
        note: str | None,
    ) -> AttemptRecord:
        rec.outcome = outcome
        rec.reason = reason
        rec.reasons = list(log.rejections)
        rec.infra_kind = reason if outcome is Outcome.INFRA else None
        rec.note = note
        rec.rounds = log.rounds
        rec.calls = log.calls
        rec.lean_checks = log.lean_checks
        rec.prompt_tokens = log.prompt_tokens
        rec.completion_tokens = log.completion_tokens
        rec.cost_usd = self.agent.cost(rec.prompt_tokens, rec.completion_tokens)
        rec.model_seconds = round(log.model_seconds, 3)
        rec.lean_seconds = round(log.lean_seconds, 3)
        rec.tool_calls = log.tool_calls
        rec.budget_hits = list(log.budget_hits)
        rec.finished = time.time()
        return rec


class _Answered(Hooks):
    """Notes that the endpoint has answered once: from then on its errors are infra."""

    def __init__(self, bench: Bench) -> None:
        self._bench = bench

    def call(self, log: AttemptLog, rnd: int, completion: Completion) -> None:
        self._bench._answered = True


class _AnswerHoles:
    """The problem's answer holes, for the shared loop (:class:`leanloop.loop.Holes`)."""

    def __init__(self, prep: Prepared, policy: Policy) -> None:
        self._prep = prep
        self._policy = policy

    def request(self) -> str:
        return answers.request(self._prep.holes)

    def reminder(self) -> str:
        return answers.reminder(self._prep.holes)

    def fill(self, answer: str) -> tuple[LeanDocument, Target, str]:
        try:
            return answers.fill(
                self._prep.doc, self._prep.target, self._prep.holes, answer, self._policy
            )
        except answers.AnswerError as e:
            raise AnswerProblem(str(e), refused=isinstance(e, answers.AnswerRefused)) from None


def _infra_kind(verdict: Verdict) -> str:
    if verdict.reason is Reason.CRASH and _mentions_memory(verdict.message):
        return "lean_memory"
    assert verdict.reason is not None
    return INFRA_REASONS[verdict.reason]


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
    from leanloop.lean.messages import version_header
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
    header = version_header(proc.stdout) if proc.exit_code == 0 else None
    return header or "unknown"
