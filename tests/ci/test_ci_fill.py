"""`ci --fill`: proving new sorries, suggestions, a new branch, the budget, the cage."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


BASE = "theorem old_gap (n : Nat) : n * 1 = n := by\n  sorry\n"
PR = (
    "theorem old_gap (n : Nat) : n * 1 = n := by\n  sorry\n\n"
    "theorem fresh (n : Nat) : n + 0 = n := by\n  sorry\n\n"
    "theorem fresh2 (n : Nat) : 0 + n = n := by\n  sorry\n"
)
RIGHT = "```lean\nrfl\n```"
KEY = {"MISTRAL_API_KEY": "test-key"}


def _pr(git_repo: Any) -> Any:
    g = git_repo()
    g.commit({"A.lean": BASE})
    g.branch("pr")
    g.commit({"A.lean": PR})
    return g


def _fill_args(server: Any, out: Path, *extra: str) -> list[str]:
    return [
        "--base", "main", "--fill", "--replay", "off", "--report-dir", str(out),
        "--format", "text,json", "--base-url", server.base_url,
        "--model", "labs-leanstral-2603", "--samples", "1", "--rounds", "1", *extra,
    ]  # fmt: skip


def test_fill_new_sorries_and_suggest(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    openai_server.responder = lambda request: RIGHT
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--suggest"), env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the PR as pushed has new sorries
    text = (g.root / "A.lean").read_text("utf-8")
    assert "theorem fresh (n : Nat) : n + 0 = n := by\n  rfl\n" in text
    assert "theorem fresh2 (n : Nat) : 0 + n = n := by\n  rfl\n" in text
    assert text.startswith(BASE)  # the pre-existing sorry is left alone
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert [(t["declaration"], t["status"]) for t in report["fill"]["targets"]] == [
        ("fresh", "proved"),
        ("fresh2", "proved"),
    ]
    payload = json.loads((tmp_path / "suggestions.json").read_text("utf-8"))
    assert payload["commit_id"] == g.repo.head.commit.hexsha
    assert payload["event"] == "COMMENT"
    lines = PR.splitlines()
    got = {(c["path"], c["line"]) for c in payload["comments"]}
    sorry_lines = {("A.lean", i + 1) for i, ln in enumerate(lines) if ln.strip() == "sorry"}
    assert got == sorry_lines - {("A.lean", 2)}
    for c in payload["comments"]:
        assert c["side"] == "RIGHT" and "start_line" not in c
        assert c["body"].endswith("```suggestion\n  rfl\n```\n")


def test_fill_in_the_agent_mode(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    """`--mode agent`: the same loop and acceptance path as `prove`, with tool calls."""
    g = _pr(git_repo)

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        ran = [m for m in request["messages"] if m["role"] == "tool"]
        call = ("submit_proof", {"proof": "rfl"}) if ran else ("goals", {})
        return {"tool_calls": [{"name": call[0], "arguments": call[1]}], "flavour": "mistral"}

    openai_server.responder = respond
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--mode", "agent"), env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the PR as pushed has new sorries
    text = (g.root / "A.lean").read_text("utf-8")
    assert "theorem fresh (n : Nat) : n + 0 = n := by\n  rfl\n" in text
    assert "theorem fresh2 (n : Nat) : 0 + n = n := by\n  rfl\n" in text
    assert text.startswith(BASE)
    requests = openai_server.chat_requests
    assert len(requests) == 4 and all(r["json"]["tools"] for r in requests)
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert [t["status"] for t in report["fill"]["targets"]] == ["proved", "proved"]


def test_fill_all_includes_pre_existing(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    openai_server.responder = lambda request: RIGHT
    args = _fill_args(openai_server, tmp_path, "--max-targets", "1")
    args[args.index("--fill")] = "--fill-all"
    proc = cli("ci", g.root, *args, env=KEY)
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert [(t["declaration"], t["status"]) for t in report["fill"]["targets"]] == [
        ("old_gap", "proved"),
        ("fresh", "skipped"),
        ("fresh2", "skipped"),
    ]
    assert "--max-targets 1" in report["fill"]["stopped"]


def test_budget_stops_the_filling(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    openai_server.responder = lambda request: {
        "content": RIGHT,
        "usage": {"prompt_tokens": 1000, "completion_tokens": 1000},
    }
    prices = json.dumps({"labs-leanstral-2603": {"prompt": 1000, "completion": 1000}})  # $2
    env = {**KEY, "LEANLOOP_PRICES": prices}
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--budget-usd", "1.5"), env=env)
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    fill = report["fill"]
    assert [t["status"] for t in fill["targets"]] == ["proved", "skipped"]
    assert fill["spent_usd"] == pytest.approx(2.0)
    assert "budget" in fill["stopped"]
    assert len(openai_server.chat_requests) == 1
    assert "fresh2 (n : Nat) : 0 + n = n := by\n  sorry" in (g.root / "A.lean").read_text("utf-8")


def test_budget_needs_a_price(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--budget-usd", "1"), env=KEY)
    assert proc.returncode == 2
    assert "--budget-usd needs the price" in proc.stderr
    assert openai_server.chat_requests == []


def test_commit_branch_leaves_tree_and_branch_alone(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    head = g.repo.head.commit.hexsha
    openai_server.responder = lambda request: RIGHT
    proc = cli(
        "ci", g.root, *_fill_args(openai_server, tmp_path, "--commit-branch", "leanloop/proofs"),
        env=KEY,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert g.repo.active_branch.name == "pr"
    assert g.repo.head.commit.hexsha == head
    assert not g.repo.is_dirty(untracked_files=False)
    assert (g.root / "A.lean").read_text("utf-8") == PR
    commit = g.repo.heads["leanloop/proofs"].commit
    assert [p.hexsha for p in commit.parents] == [head]
    committed = (commit.tree / "A.lean").data_stream.read().decode("utf-8")
    assert committed == PR.replace("n + 0 = n := by\n  sorry", "n + 0 = n := by\n  rfl").replace(
        "0 + n = n := by\n  sorry", "0 + n = n := by\n  rfl"
    )
    assert "fresh" in commit.message and "labs-leanstral-2603" in commit.message
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert report["fill"]["branch"] == "leanloop/proofs"
    assert "Committed the proofs on branch leanloop/proofs" in proc.stdout


@pytest.mark.parametrize("problem", ["dirty", "existing"])
def test_commit_branch_refusals(
    fake_lean: Any, git_repo: Any, run_cli: Any, openai_server: Any, tmp_path: Path, problem: str
) -> None:
    g = _pr(git_repo)
    if problem == "dirty":
        (g.root / "A.lean").write_text(PR + "\n-- edit\n", encoding="utf-8")
    else:
        g.repo.create_head("taken")
    name = "taken" if problem == "existing" else "new-branch"
    proc = run_cli(
        "ci", g.root, *_fill_args(openai_server, tmp_path, "--commit-branch", name), env=KEY
    )
    assert proc.returncode == 2, proc.stderr
    assert ("clean working tree" if problem == "dirty" else "already exists") in proc.stderr
    assert openai_server.chat_requests == []
    assert "Traceback" not in proc.stderr


def test_fill_refuses_without_cage(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    args = _fill_args(openai_server, tmp_path)
    # No bubblewrap on PATH and no explicit --sandbox off: refuse, never run uncaged.
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    env = {**KEY, "LEANLOOP_SANDBOX": None, "PATH": f"{fake_lean.bin_dir}:{tools}"}
    proc = cli("ci", g.root, *args, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "will not do so uncaged" in proc.stderr and "--sandbox off" in proc.stderr
    assert openai_server.chat_requests == []
    # Saying so explicitly runs it, with a warning that says what that means.
    openai_server.responder = lambda request: RIGHT
    proc = cli("ci", g.root, *args, "--sandbox", "off", env=env)
    assert proc.returncode == 1, proc.stderr
    assert "without the cage" in proc.stderr


def test_replay_required_by_default(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    args = _fill_args(openai_server, tmp_path)
    i = args.index("--replay")
    del args[i : i + 2]
    proc = cli("ci", g.root, *args, env=KEY)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert "--replay required" in message and "SafeVerify" in message
    # How to set it up, how to go on without it, and what that gives up.
    assert "lake build safe_verify" in message
    assert "pass --replay off" in message
    assert "without SafeVerify's independent replay of the proved file through the kernel" in (
        message
    )
    assert len(proc.stderr.strip().splitlines()) == 1
    assert openai_server.chat_requests == []


def test_an_unreachable_endpoint_is_exit_2_not_a_finding(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
    """CI must tell "a sorry remains" (1) from "the prover could not be reached" (2); the
    reports are still written."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    class Down:
        base_url = f"http://127.0.0.1:{port}/v1"

    g = _pr(git_repo)
    env = {**KEY, "LEANLOOP_MAX_RETRIES": "0"}
    proc = cli("ci", g.root, *_fill_args(Down(), tmp_path), env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Cannot reach the endpoint" in last
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert "Cannot reach the endpoint" in report["fill"]["error"]
    assert (g.root / "A.lean").read_text("utf-8") == PR


def test_the_budget_running_out_is_not_an_error(
    fake_lean: Any, git_repo: Any, cli: Any, openai_server: Any, tmp_path: Path
) -> None:
    g = _pr(git_repo)
    openai_server.responder = lambda request: RIGHT
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--max-targets", "1"), env=KEY)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the new sorries as pushed
    report = json.loads((tmp_path / "leanloop-ci.json").read_text("utf-8"))
    assert "--max-targets 1" in report["fill"]["stopped"] and report["fill"]["error"] is None


class _FakeGitHub:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                data = json.dumps({"id": 7, "html_url": "https://example.test/review/7"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_github() -> Iterator[_FakeGitHub]:
    gh = _FakeGitHub()
    gh.thread.start()
    try:
        yield gh
    finally:
        gh.server.shutdown()
        gh.server.server_close()


def test_post_review(
    fake_lean: Any,
    git_repo: Any,
    cli: Any,
    openai_server: Any,
    tmp_path: Path,
    fake_github: _FakeGitHub,
) -> None:
    g = _pr(git_repo)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}), encoding="utf-8")
    openai_server.responder = lambda request: RIGHT
    env = {
        **KEY,
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TOKEN": "gh-secret",
        "GITHUB_REPOSITORY": "octo/proj",
        "GITHUB_EVENT_PATH": str(event),
    }
    proc = cli("ci", g.root, *_fill_args(openai_server, tmp_path, "--post-review"), env=env)
    assert proc.returncode == 1, proc.stderr
    (req,) = fake_github.requests
    assert req["path"] == "/repos/octo/proj/pulls/42/reviews"
    assert req["headers"]["Authorization"] == "Bearer gh-secret"
    assert len(req["json"]["comments"]) == 2
    assert "https://example.test/review/7" in proc.stdout
