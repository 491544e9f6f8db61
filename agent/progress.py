"""What `prove` shows while it runs: a live panel on a terminal, plain lines elsewhere (CI logs).

Both take the loop's events, endpoint notices (retries) and one-off messages; the live panel
keeps counts (targets done, proved, failed, model calls, tokens, cost, elapsed, ETA) and prints
only outcomes above itself, so 200 targets do not print 200 lines at once."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from leanloop.loop import Event

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live


class Display(Protocol):
    def event(self, event: Event) -> None: ...

    def say(self, message: str) -> None: ...

    def close(self) -> None: ...


@dataclass
class Counts:
    """The running totals both displays could show; the live one does."""

    total: int
    started_at: float = field(default_factory=time.monotonic)
    proved: int = 0
    failed: int = 0
    calls: int = 0
    tokens: int = 0
    cost: float | None = 0.0
    working: dict[str, str] = field(default_factory=dict)  # target -> latest news

    @property
    def done(self) -> int:
        return self.proved + self.failed

    def add(self, event: Event) -> None:
        if event.kind == "start":
            self.working[event.target] = "working"
        elif event.kind == "round":
            self.working[event.target] = f"attempt {event.attempt}, round {event.round} failed"
        elif event.kind == "tool":
            self.working[event.target] = f"attempt {event.attempt}: {event.message}"
        elif event.kind == "call":
            self.calls += 1
            self.tokens += event.prompt_tokens + event.completion_tokens
            if self.cost is not None:
                self.cost = None if event.cost_usd is None else self.cost + event.cost_usd
        elif event.kind in ("proved", "failed"):
            self.working.pop(event.target, None)
            if event.kind == "proved":
                self.proved += 1
            else:
                self.failed += 1

    def line(self, now: float | None = None) -> str:
        elapsed = (now if now is not None else time.monotonic()) - self.started_at
        parts = [
            f"{self.done}/{self.total} done",
            f"{self.proved} proved",
            f"{self.failed} failed",
            f"{self.calls} model call(s)",
            f"{self.tokens:,} tokens",
        ]
        if self.cost is not None and self.calls:
            parts.append(f"${self.cost:.4f}")
        parts.append(f"{_duration(elapsed)} elapsed")
        if 0 < self.done < self.total:
            parts.append(f"ETA {_duration(elapsed / self.done * (self.total - self.done))}")
        return " · ".join(parts)


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class PlainDisplay:
    """One line per event, as a log wants it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def _print(self, text: str) -> None:
        print(text, file=self._stream or sys.stderr, flush=True)

    def event(self, event: Event) -> None:
        if event.kind == "call":
            return
        if event.kind == "note":
            self._print(event.message)
            return
        if event.kind == "start":
            msg = "working"
        elif event.kind == "round":
            msg = f"attempt {event.attempt}, round {event.round}: {event.message}"
        elif event.kind == "tool":
            msg = f"attempt {event.attempt}: {event.message}"
        else:
            msg = event.message
        self._print(f"[{event.target}] {msg}")

    def say(self, message: str) -> None:
        self._print(message)

    def close(self) -> None:
        return None


class LiveDisplay:
    """A panel that redraws in place on a terminal; outcomes are printed above it."""

    def __init__(self, total: int, console: Console, *, rows: int = 6) -> None:
        from rich.live import Live

        self.counts = Counts(total=total)
        self._console = console
        self._rows = rows
        self._live: Live = Live(
            get_renderable=self._render,
            console=console,
            refresh_per_second=4,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def _render(self) -> RenderableType:
        from rich.text import Text

        text = Text(self.counts.line(), style="bold")
        shown = list(self.counts.working.items())[: self._rows]
        for name, news in shown:
            text.append(f"\n  {name}: {news}", style="dim")
        more = len(self.counts.working) - len(shown)
        if more > 0:
            text.append(f"\n  … and {more} more", style="dim")
        return text

    def event(self, event: Event) -> None:
        if event.kind == "note":
            self.say(event.message)
            return
        self.counts.add(event)
        if event.kind == "proved":
            self._console.print(f"[green]proved[/green] {_escape(event.target)}")
        elif event.kind == "failed":
            self._console.print(
                f"[red]failed[/red] {_escape(event.target)}: {_escape(event.message)}"
            )
        self._live.refresh()

    def say(self, message: str) -> None:
        self._console.print(_escape(message))

    def close(self) -> None:
        self._live.stop()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def make_display(total: int, stream: TextIO | None = None) -> Display:
    """The live panel when ``stream`` (stderr by default) is a terminal, else plain lines."""
    out = stream or sys.stderr
    if not _is_terminal(out):
        return PlainDisplay(stream)
    from rich.console import Console

    console = Console(file=out, stderr=stream is None, highlight=False)
    if not console.is_terminal or console.is_dumb_terminal:
        return PlainDisplay(stream)
    return LiveDisplay(total, console)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
