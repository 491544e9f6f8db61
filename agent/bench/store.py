"""A run directory: `run.json` (what was run) and `attempts.jsonl` (one line per finished attempt,
appended as it ends, so that a killed run loses at most the attempts that were running)."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ValidationError

from leanloop.bench.problems import KnownIssue
from leanloop.errors import UsageError

ATTEMPTS = "attempts.jsonl"
RUN = "run.json"


class Outcome(StrEnum):
    PROVED = "proved"
    WRONG = "wrong"  # Lean or the gate rejected every round
    NO_PROOF = "no_proof"  # no round gave anything extractable
    INFRA = "infra"  # endpoint failure, Lean timeout, crash or memory: not the model's fault


class AttemptRecord(BaseModel):
    """One sample of one problem, as it ended."""

    kind: Literal["attempt"] = "attempt"
    problem: str
    sample: int  # 0-based
    outcome: Outcome
    reason: str | None = None  # last gate reason, or the infra kind
    reasons: list[str] = []  # the rejection reason of every round that was rejected
    infra_kind: str | None = None
    rounds: int = 0
    calls: int = 0
    lean_checks: int = 0
    proof: str | None = None
    answer: str | None = None  # the values given for answer holes (`--with-answers`)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    model_seconds: float = 0.0
    lean_seconds: float = 0.0
    started: float = 0.0  # unix time
    finished: float = 0.0
    model: str
    settings_fingerprint: str
    dataset_fingerprint: str
    note: str | None = None
    # `--mode agent`: tool calls made and the budgets that ended the attempt.
    tool_calls: int = 0
    budget_hits: list[str] = []


class ProblemRecord(BaseModel):
    """A problem that no sample ran on: its statement does not compile (a dataset error, final),
    or Lean failed on it for reasons of its own (infra, retried on the next run)."""

    kind: Literal["problem"] = "problem"
    problem: str
    status: Literal["dataset_error", "infra"]
    message: str
    lean_seconds: float = 0.0
    settings_fingerprint: str
    dataset_fingerprint: str


class RunMeta(BaseModel):
    dataset: str
    format: str
    split: str | None = None
    dataset_fingerprint: str
    settings_fingerprint: str
    model: str
    settings: dict[str, Any]
    lean_version: str
    samples: int
    ks: list[int]
    problems: list[str]  # in scope: after split, shard and limit
    needs_answer: list[str] = []
    known_issues: list[KnownIssue] = []
    shard: str | None = None
    created: float


@dataclass
class Loaded:
    attempts: dict[tuple[str, int], AttemptRecord]
    problems: dict[str, ProblemRecord]
    dropped: list[str] = field(default_factory=list)  # why lines were dropped
    fingerprints: set[tuple[str, str]] = field(default_factory=set)  # (settings, dataset) seen


def read_meta(out: Path) -> RunMeta | None:
    path = out / RUN
    if not path.is_file():
        return None
    try:
        return RunMeta.model_validate_json(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError) as e:
        raise UsageError(f"{path} is not a leanloop bench run description ({e}).") from None


def write_meta(out: Path, meta: RunMeta) -> None:
    from leanloop.files import atomic_write

    atomic_write(out / RUN, (meta.model_dump_json(indent=2) + "\n").encode("utf-8"))


def load_attempts(out: Path) -> Loaded:
    """Every complete line; the last line for a key wins. A line cut short by a crash (the last
    one, without its newline) and lines that are not records are dropped and named."""
    attempts: dict[tuple[str, int], AttemptRecord] = {}
    problems: dict[str, ProblemRecord] = {}
    dropped: list[str] = []
    seen: set[tuple[str, str]] = set()
    path = out / ATTEMPTS
    if not path.is_file():
        return Loaded(attempts=attempts, problems=problems)
    data = path.read_bytes()
    lines = data.split(b"\n")
    # Many long-lived records and no cycles among them: the cyclic collector would rescan the
    # growing heap again and again (most of the load time on a 100,000-line journal).
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        _read_lines(lines, path, attempts, problems, dropped, seen)
    finally:
        if gc_was_on:
            gc.enable()
    return Loaded(attempts=attempts, problems=problems, dropped=dropped, fingerprints=seen)


def _read_lines(
    lines: list[bytes],
    path: Path,
    attempts: dict[tuple[str, int], AttemptRecord],
    problems: dict[str, ProblemRecord],
    dropped: list[str],
    seen: set[tuple[str, str]],
) -> None:
    for no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        torn = no == len(lines)  # no newline after it: the write did not finish
        try:
            rec: AttemptRecord | ProblemRecord
            if b'"kind":"problem"' in raw:
                rec = ProblemRecord.model_validate_json(raw)
            else:
                rec = AttemptRecord.model_validate_json(raw)
        except ValidationError:
            dropped.append(
                f"line {no} of {path} was cut short by a crash; dropped"
                if torn
                else f"line {no} of {path} is not an attempt record; dropped"
            )
            continue
        if torn:
            dropped.append(f"line {no} of {path} has no newline (cut short?); dropped")
            continue
        seen.add((rec.settings_fingerprint, rec.dataset_fingerprint))
        if isinstance(rec, ProblemRecord):
            problems[rec.problem] = rec
        else:
            attempts[(rec.problem, rec.sample)] = rec


class Journal:
    """Appends records, one complete line each, flushed to disk as each attempt ends."""

    def __init__(self, out: Path) -> None:
        self._path = out / ATTEMPTS
        self._trim_torn_tail()
        self._file: IO[bytes] = self._path.open("ab")

    def _trim_torn_tail(self) -> None:
        # Appending after a torn line would glue the next record onto it.
        if not self._path.is_file():
            return
        with self._path.open("rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(max(size - 1, 0))
            if f.read(1) == b"\n":
                return
            f.seek(0)
            data = f.read()
            f.truncate(data.rfind(b"\n") + 1)

    def append(self, record: AttemptRecord | ProblemRecord) -> None:
        # One write per complete line, flushed: a killed process loses nothing it journalled.
        # (No fsync: it would serialise the event loop on the disk, and only a power cut
        # would need it.)
        self._file.write(record.model_dump_json().encode("utf-8") + b"\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
