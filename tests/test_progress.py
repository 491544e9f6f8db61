"""What `prove` shows while it runs: a live panel on a terminal, plain lines in a log."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer
from rich.console import Console

from leanloop.loop import Event
from leanloop.progress import Counts, LiveDisplay, PlainDisplay, make_display

ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def test_counts_line() -> None:
    counts = Counts(total=4, started_at=100.0)
    for e in [
        Event(target="a", kind="start"),
        Event(target="a", kind="call", prompt_tokens=1000, completion_tokens=234, cost_usd=0.01),
        Event(target="a", kind="proved"),
        Event(target="b", kind="start"),
        Event(target="b", kind="call", prompt_tokens=10, completion_tokens=5, cost_usd=0.002),
        Event(target="b", kind="round", attempt=1, round=1, message="x"),
    ]:
        counts.add(e)
    line = counts.line(now=130.0)
    assert line == (
        "1/4 done · 1 proved · 0 failed · 2 model call(s) · 1,249 tokens · $0.0120 · "
        "30s elapsed · ETA 1m30s"
    )
    assert counts.working == {"b": "attempt 1, round 1 failed"}


def test_unknown_price_shows_no_cost() -> None:
    counts = Counts(total=1, started_at=0.0)
    counts.add(Event(target="a", kind="call", prompt_tokens=5, cost_usd=None))
    counts.add(Event(target="a", kind="call", prompt_tokens=5, cost_usd=0.5))
    assert "$" not in counts.line(now=1.0)


def test_live_display_redraws_and_prints_outcomes() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    display = LiveDisplay(2, console)
    display.event(Event(target="a", kind="start"))
    display.event(Event(target="a", kind="call", prompt_tokens=7, completion_tokens=3))
    display.event(Event(target="a", kind="proved", message="proved"))
    display.event(Event(target="b", kind="failed", message="Lean said [no]"))
    display.say("a notice")
    display.close()
    text = out.getvalue()
    assert "1/2 done" in text and "10 tokens" in text
    assert "proved a" in text
    assert "failed b: Lean said [no]" in text  # not taken for markup
    assert "a notice" in text


def test_plain_display_when_not_a_terminal() -> None:
    out = io.StringIO()
    display = make_display(3, out)
    assert isinstance(display, PlainDisplay)
    display.event(Event(target="a", kind="start"))
    display.event(Event(target="a", kind="call", prompt_tokens=1))
    display.event(Event(target="a", kind="round", attempt=1, round=2, message="nope"))
    assert out.getvalue() == "[a] working\n[a] attempt 1, round 2: nope\n"


def test_prove_shows_a_live_panel_on_a_terminal(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: {"content": "```lean\nrfl\n```", "delay": 0.6}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "leanloop", "prove", "T.lean", "--base-url",
         openai_server.base_url, "--samples", "1"],
        cwd=tmp_path,
        env={**os.environ, **KEY_ENV, "TERM": "xterm", "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out, _ = proc.communicate(timeout=30)
    raw = b"".join(chunks).decode("utf-8", "replace")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)  # colours and cursor moves
    assert proc.returncode == 0, raw
    assert "\x1b[" in raw  # drawn in place
    assert "0/1 done" in shown and "model call(s)" in shown and "elapsed" in shown
    assert "proved foo" in shown
    assert "[foo] working" not in shown  # not the plain log lines
    assert "1/1 proved" in out  # the summary still goes to stdout


def test_prove_prints_plain_lines_when_not_a_terminal(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.push("```lean\nrfl\n```")
    proc = run_cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--samples", "1", env=KEY_ENV
    )
    assert proc.returncode == 0, proc.stderr
    assert "[foo] working" in proc.stderr and "[foo] proved" in proc.stderr
    assert "\x1b[" not in proc.stderr  # no terminal control codes in a log
