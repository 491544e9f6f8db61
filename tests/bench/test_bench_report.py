"""`leanloop bench report` and `compare`, and a run killed mid-way then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bench_helpers import (
    KEY_ENV,
    PRICED,
    attempts,
    endpoint,
    lean,
    scripted,
    without,
    write_problems,
)
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

RIGHT = lean("rfl")
WRONG = lean("simp_wrong")
PROBLEMS = {
    "alpha": "theorem alpha (n : Nat) : n + 0 = n := by sorry",
    "beta": "theorem beta : 2 + 2 = 4 := by sorry",
    "gamma": "theorem gamma : True := by sorry",
}


def _scripted_run(
    fake_lean: FakeLean, server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path, out: str
) -> Path:
    fake_lean.scenario([{"when": "simp_wrong", "error": "unsolved goals", "at": "simp_wrong"}])
    data = write_problems(tmp_path / "ds", PROBLEMS)
    server.responder = scripted(
        {"alpha": [RIGHT, WRONG], "beta": [WRONG, WRONG, RIGHT, WRONG], "gamma": [WRONG]}
    )
    proc = cli(
        "bench", "run", data, *endpoint(server), "--samples", "4", "--rounds", "1",
        "--k", "1,2,4", "--out", out, "--concurrency", "4", env=PRICED,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return tmp_path / out


def _table(md: str, header: str) -> list[dict[str, str]]:
    lines = md.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| " + header))
    rows = []
    cols = [c.strip() for c in lines[start].strip("|").split("|")]
    assert set(lines[start + 1].replace("|", "").strip()) == {"-"}
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        rows.append(dict(zip(cols, (c.strip() for c in ln.strip("|").split("|")), strict=True)))
    return rows


def test_report_writes_summary_markdown_and_plots(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    image_io = pytest.importorskip("matplotlib.image")
    out = _scripted_run(fake_lean, openai_server, cli, tmp_path, "run")
    proc = cli("bench", "report", out)
    assert proc.returncode == 0, proc.stderr
    for name in ("pass_at_k.png", "solved_vs_dollars.png"):
        image = image_io.imread(out / name)
        assert image.shape[0] > 100 and image.shape[1] > 100
    rows = _table((out / "summary.md").read_text("utf-8"), "k |")
    # alpha c=1, beta c=1, gamma c=0 of n=4: pass@1 = 2/3 * 1/4, pass@2 = 2/3 * 1/2.
    assert [(r["k"], r["pass@k"]) for r in rows] == [("1", "16.7%"), ("2", "33.3%"), ("4", "66.7%")]
    assert rows[0]["dollars at k"] == "$0.0060"  # 3 problems x 1 sample x $0.002
    low, high = (float(x.rstrip("%")) for x in rows[0]["95% CI"].split(" – "))
    assert low <= 16.7 <= high
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["solved_any"] == {
        "label": "solved by any of 4 samples (the same as pass@4 here, since k = n = 4)",
        "solved": 2,
        "problems": 3,
        "samples": 4,
    }
    assert "16.7%" in proc.stdout


def test_report_on_a_directory_that_is_not_a_run(cli: RunCli, tmp_path: Path) -> None:
    proc = cli("bench", "report", tmp_path)
    assert proc.returncode == 2
    assert "is not a bench run directory" in proc.stderr


def test_compare_puts_runs_side_by_side_and_warns_on_other_data(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    a = _scripted_run(fake_lean, openai_server, cli, tmp_path, "a")
    b = _scripted_run(fake_lean, openai_server, cli, tmp_path, "b")
    proc = cli("bench", "compare", a, b, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "different datasets" not in proc.stderr
    runs = json.loads(proc.stdout)
    assert [r["run"] for r in runs] == [str(a), str(b)]

    other = write_problems(tmp_path / "ds2", {"alpha": PROBLEMS["alpha"]})
    openai_server.responder = scripted({"alpha": [RIGHT]})
    cli(
        "bench", "run", other, *endpoint(openai_server), "--samples", "1", "--rounds", "1",
        "--out", "c", env=KEY_ENV,
    )  # fmt: skip
    proc = cli("bench", "compare", a, tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    assert "different datasets" in proc.stderr
    assert "pass@1" in proc.stdout and "pass@2" in proc.stdout


def test_resume_after_sigkill_loses_and_repeats_nothing(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, run_cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", PROBLEMS)
    slow = {"content": RIGHT, "delay": 0.3}
    openai_server.responder = scripted({n: [slow] for n in PROBLEMS})
    args = [
        sys.executable, "-m", "leanloop", "bench", "run", str(data), *endpoint(openai_server),
        "--samples", "3", "--rounds", "1", "--concurrency", "2", "--out", "run",
    ]  # fmt: skip
    env = {**os.environ, **KEY_ENV}
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    journal = tmp_path / "run" / "attempts.jsonl"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if journal.is_file() and journal.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never journalled three attempts")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {(r["problem"], r["sample"]) for r in attempts(tmp_path / "run")}
    assert 3 <= len(before) < 9
    asked = len(openai_server.chat_requests)

    again = run_cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "3", "--rounds", "1",
        "--concurrency", "2", "--out", "run", "--json", env=KEY_ENV,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = [(r["problem"], r["sample"]) for r in attempts(tmp_path / "run")]
    assert sorted(after) == sorted((n, i) for n in PROBLEMS for i in range(3))  # none twice
    assert len(openai_server.chat_requests) - asked == 9 - len(before)
    assert json.loads(again.stdout)["outcomes"]["proved"] == 9


def test_a_terminal_gets_a_live_progress_bar(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    import pty

    data = write_problems(tmp_path / "ds", PROBLEMS)
    openai_server.responder = scripted({n: [RIGHT] for n in PROBLEMS})
    leader, follower = pty.openpty()
    args = [
        sys.executable, "-m", "leanloop", "bench", "run", str(data), *endpoint(openai_server),
        "--samples", "2", "--rounds", "1", "--out", "run",
    ]  # fmt: skip
    chunks: list[bytes] = []

    def drain() -> None:  # read as it comes, so a full terminal buffer never blocks the run
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            args,
            cwd=tmp_path,
            env={**os.environ, **KEY_ENV, "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        reader.join(timeout=10)
        os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen
    assert "━" in screen  # rich's bar, which plain lines never draw
    assert "solved 6/6" in screen and "problems 3/3" in screen and "infra 0" in screen
    assert "Traceback" not in screen


def test_report_without_matplotlib_writes_the_summaries_and_says_so_once(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, run_cli: RunCli,
    tmp_path: Path,
) -> None:  # fmt: skip
    out = _scripted_run(fake_lean, openai_server, cli, tmp_path, "run")
    (out / "summary.json").unlink()
    proc = run_cli("bench", "report", out, env=without(tmp_path / "blocked", "matplotlib"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and "matplotlib" in notes[0] and "leanloop[plots]" in notes[0]
    assert json.loads((out / "summary.json").read_text("utf-8"))["samples"] == 4
    assert (out / "summary.md").is_file()
    assert not (out / "pass_at_k.png").exists()


def test_the_plots_label_k_plainly_name_the_interval_and_skip_what_has_no_data(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from leanloop.bench.command_run import load_summary
    from leanloop.bench.summary import figures

    priced = load_summary(
        _scripted_run(fake_lean, openai_server, cli, tmp_path, "priced"), infra_as_failure=False
    )
    [(name, fig), (cost_name, cost_fig)] = figures(priced)
    assert (name, cost_name) == ("pass_at_k.png", "solved_vs_dollars.png")
    [ax] = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4"]
    assert ax.get_xlabel() == "k"
    assert "95% bootstrap interval" in ax.get_legend().get_texts()[0].get_text()
    assert not isinstance(cost_fig, str)
    plt.close("all")

    # Without a price, the cost plot has no data: it is skipped, and the report says why.
    openai_server.responder = scripted({n: [RIGHT] for n in PROBLEMS})
    data = write_problems(tmp_path / "ds2", PROBLEMS)
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "2", "--rounds", "1",
        "--k", "1,2", "--out", "unpriced", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = cli("bench", "report", tmp_path / "unpriced")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "unpriced" / "pass_at_k.png").is_file()
    assert not (tmp_path / "unpriced" / "solved_vs_dollars.png").exists()
    assert "note: solved_vs_dollars.png not drawn: the cost is unknown: no price is set for" in (
        proc.stderr
    )


def test_the_cost_line_reads_as_a_sentence(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    openai_server.responder = scripted({n: [RIGHT] for n in PROBLEMS})
    data = write_problems(tmp_path / "ds", PROBLEMS)
    args = ["bench", "run", data, *endpoint(openai_server), "--samples", "1", "--rounds", "1"]
    proc = cli(*args, "--out", "unpriced", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert "cost unknown (no price set for labs-leanstral-2603)." in proc.stdout
    assert "unknown (no price set) (" not in proc.stdout
    proc = cli(*args, "--out", "priced", env=PRICED)
    assert "cost $0.0060 ($0.0020 per solved problem)." in proc.stdout
