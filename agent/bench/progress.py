"""Progress for a benchmark run: a live rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from leanloop.bench.runner import Tally
from leanloop.bench.store import AttemptRecord


def _money(t: Tally) -> str:
    return f"${t.dollars:.4f}" if t.dollars_known else "$?"


def _eta(t: Tally) -> str:
    if not t.attempted:
        return "?"
    left = (time.monotonic() - t.started) / t.attempted * (t.total - t.attempted)
    return f"{left:.0f}s"


def status_line(t: Tally) -> str:
    """The whole run's totals so far (not one problem's)."""
    return (
        f"run so far: {t.solved}/{t.attempted} attempts proved, {t.problems_done}/"
        f"{t.problems_total} problems done, {t.tokens} tokens, {_money(t)}, {t.infra} infra, "
        f"ETA {_eta(t)}"
    )


def done_line(name: str, proved: int, samples: int) -> str:
    return f"[{name}] done: {proved} of {samples} sample(s) proved"


class PlainSink:
    """One line per finished problem, and one per attempt that failed for infra reasons."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr

    def attempt(self, tally: Tally, record: AttemptRecord) -> None:
        if record.outcome.value == "infra":
            self._say(
                f"[{record.problem} #{record.sample}] infra ({record.infra_kind}): "
                f"{(record.note or '').splitlines()[0] if record.note else ''}"
            )

    def problem_done(self, tally: Tally, name: str, proved: int, samples: int) -> None:
        self._say(f"{done_line(name, proved, samples)} · {status_line(tally)}")

    def problem_skipped(self, tally: Tally, name: str, line: str) -> None:
        self._say(f"[{name}] {line} · {status_line(tally)}")

    def _say(self, msg: str) -> None:
        print(msg, file=self._stream, flush=True)

    def __enter__(self) -> PlainSink:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class LiveSink:
    """A rich progress bar over attempts, with the totals beside it."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: Any = self._progress.add_task("attempts", total=total, info="")

    def attempt(self, tally: Tally, record: AttemptRecord) -> None:
        self._progress.update(
            self._task, completed=tally.attempted, total=tally.total, info=self._info(tally)
        )

    def problem_done(self, tally: Tally, name: str, proved: int, samples: int) -> None:
        self._progress.update(self._task, total=tally.total, info=self._info(tally))

    def problem_skipped(self, tally: Tally, name: str, line: str) -> None:
        self._progress.console.print(f"[{name}] {line}", markup=False)
        self._progress.update(self._task, total=tally.total, info=self._info(tally))

    @staticmethod
    def _info(t: Tally) -> str:
        return (
            f"solved {t.solved}/{t.attempted} · problems {t.problems_done}/{t.problems_total} · "
            f"tokens {t.tokens} · {_money(t)} · infra {t.infra}"
        )

    def __enter__(self) -> LiveSink:
        self._progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
