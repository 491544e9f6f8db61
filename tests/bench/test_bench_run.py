"""`leanloop bench run` end to end: the real CLI, the scripted endpoint and the fake Lean.

What a user checks: the pass@k figures of a scripted run, that samples are independent, that a
second run finishes the first without paying twice, that timeouts and endpoint failures are not
counted against the model, and what the run cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_helpers import (
    FAKE_ENV,
    KEY_ENV,
    PRICED,
    attempts,
    endpoint,
    lean,
    pass_at,
    scripted,
    summary,
    write_problems,
)
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

WRONG = lean("simp_wrong")
RIGHT = lean("rfl")
TWO = {
    "alpha": "theorem alpha (n : Nat) : n + 0 = n := by sorry",
    "beta": "theorem beta : 2 + 2 = 4 := by sorry",
}


def wrong_is_unsolved(fake_lean: FakeLean, *more: dict[str, object]) -> None:
    fake_lean.scenario(
        [{"when": "simp_wrong", "error": "unsolved goals\n⊢ False", "at": "simp_wrong"}, *more]
    )


def test_pass_at_k_of_a_scripted_run(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    data = write_problems(tmp_path / "ds", TWO)
    # alpha: 1 of 4 samples right; beta: 3 of 4. Every sample runs, even after a success.
    openai_server.responder = scripted(
        {"alpha": [RIGHT, WRONG, WRONG, WRONG], "beta": [WRONG, RIGHT, RIGHT, RIGHT]}
    )
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "4", "--rounds", "1",
        "--k", "1,2,4", "--out", "run", "--json", env=PRICED,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 8
    s = json.loads(proc.stdout)
    # hand-computed: alpha (n=4, c=1): pass@1 1/4, pass@2 1 - C(3,2)/C(4,2) = 1/2, pass@4 1;
    # beta (n=4, c=3): pass@1 3/4, pass@2 1, pass@4 1.
    assert pass_at(s, 1) == pytest.approx(0.5)
    assert pass_at(s, 2) == pytest.approx(0.75)
    assert pass_at(s, 4) == pytest.approx(1.0)
    assert s["solved_any"]["solved"] == 2
    assert "any of 4" in s["solved_any"]["label"]
    assert s["outcomes"] == {"proved": 4, "wrong": 4, "no_proof": 0, "infra": 0}
    assert s["rejections_by_reason"] == {"lean_error": 4}
    # 8 calls at 1000 prompt + 500 completion tokens, $1 and $2 per million: $0.002 each.
    assert s["cost_usd"] == pytest.approx(0.016)
    assert s["cost_per_solved_usd"] == pytest.approx(0.008)
    assert [b["cost_usd"] for b in s["budget"]] == pytest.approx([0.004, 0.008, 0.016])
    assert (s["model_calls"], s["first_tries"], s["repairs"]) == (8, 8, 0)
    assert s["lean_version"].startswith("Lean (version")
    assert s == summary(tmp_path / "run")
    lines = attempts(tmp_path / "run")
    assert sorted((r["problem"], r["sample"]) for r in lines) == [
        (p, i) for p in ("alpha", "beta") for i in range(4)
    ]
    proved = [r for r in lines if r["outcome"] == "proved"]
    assert {r["proof"] for r in proved} == {"rfl"}
    assert all(r["model"] == "labs-leanstral-2603" for r in lines)
    assert len({r["dataset_fingerprint"] for r in lines}) == 1


def test_repair_rounds_and_the_human_table(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    data = write_problems(tmp_path / "ds", {"alpha": TWO["alpha"]})
    # Round one wrong, round two right, in both samples: correct samples after a repair.
    openai_server.responder = scripted({"alpha": [WRONG, RIGHT, WRONG, RIGHT]})
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "2", "--rounds", "3",
        "--k", "1", "--out", "run", "--concurrency", "1", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path / "run")
    assert pass_at(s, 1) == 1.0
    assert (s["model_calls"], s["first_tries"], s["repairs"]) == (4, 2, 2)
    assert [r["rounds"] for r in attempts(tmp_path / "run")] == [2, 2]
    # No price for the model: the cost is unknown, never a made-up $0.
    assert s["cost_usd"] is None
    assert "pass@k" in proc.stdout and "100.0%" in proc.stdout
    assert "unknown (no price set)" in proc.stdout
    assert "Solved by any of 2 samples" in proc.stdout


def test_timeouts_and_endpoint_failures_are_infra_not_wrong(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean, {"when": "slow_tactic", "sleep": 30})
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted(
        {
            "alpha": [RIGHT, lean("slow_tactic"), WRONG, {"status": 503}],
            "beta": [RIGHT],
        }
    )
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "4", "--rounds", "1",
        "--k", "1,2", "--out", "run", "--concurrency", "1", "--timeout", "3", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path / "run")
    assert s["outcomes"] == {"proved": 5, "wrong": 1, "no_proof": 0, "infra": 2}
    assert s["infra_by_kind"] == {"lean_timeout": 1, "endpoint": 1}
    assert s["rejections_by_reason"] == {"lean_error": 1}
    # alpha scores over its 2 non-infra samples (1 right): pass@1 1/2; beta 1.
    assert pass_at(s, 1) == pytest.approx(0.75)
    assert "infra (lean_timeout)" in proc.stderr
    # The same journal, with infra counted as failures (n = 4, c = 1 for alpha):
    proc = cli("bench", "report", "run", "--json", "--infra-as-failure", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert pass_at(json.loads(proc.stdout), 1) == pytest.approx((0.25 + 1) / 2)


def test_resume_skips_finished_attempts_and_extends_n(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted({"alpha": [RIGHT], "beta": [WRONG]})
    wrong_is_unsolved(fake_lean)
    args = [*endpoint(openai_server), "--rounds", "1", "--out", "run"]
    assert cli("bench", "run", data, *args, "--samples", "2", env=KEY_ENV).returncode == 0
    assert len(openai_server.chat_requests) == 2 * 2

    again = cli("bench", "run", data, *args, "--samples", "2", env=KEY_ENV)
    assert again.returncode == 0, again.stderr
    assert len(openai_server.chat_requests) == 4  # nothing new to do, no model call
    assert "4 finished attempt(s)" in again.stderr

    more = cli("bench", "run", data, *args, "--samples", "3", "--k", "1,3", env=KEY_ENV)
    assert more.returncode == 0, more.stderr
    assert len(openai_server.chat_requests) == 6  # only sample 2 of each problem
    lines = attempts(tmp_path / "run")
    assert sorted((r["problem"], r["sample"]) for r in lines) == [
        (p, i) for p in ("alpha", "beta") for i in range(3)
    ]
    s = summary(tmp_path / "run")
    assert pass_at(s, 3) == pytest.approx(0.5)
    assert s["samples"] == 3


def test_a_changed_model_or_dataset_refuses_to_mix(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted({"alpha": [RIGHT], "beta": [RIGHT]})
    base = ["--samples", "1", "--rounds", "1", "--out", "run", "--base-url", openai_server.base_url]
    assert cli("bench", "run", data, *base, "--model", "m1", env=KEY_ENV).returncode == 0
    calls = len(openai_server.chat_requests)

    proc = cli("bench", "run", data, *base, "--model", "m2", env=KEY_ENV)
    assert proc.returncode == 2
    assert "the model (m1 then, m2 now) changed" in proc.stderr
    assert "--force" in proc.stderr
    assert len(openai_server.chat_requests) == calls

    other = write_problems(tmp_path / "ds2", {"alpha": TWO["beta"].replace("beta", "alpha")})
    proc = cli("bench", "run", other, *base, "--model", "m1", env=KEY_ENV)
    assert proc.returncode == 2
    assert "the dataset changed" in proc.stderr

    proc = cli("bench", "run", data, *base, "--model", "m1", "--rounds", "2", env=KEY_ENV)
    assert proc.returncode == 2
    assert "the setting rounds (1 then, 2 now) changed" in proc.stderr


def test_a_torn_last_line_is_dropped_and_redone(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted({"alpha": [RIGHT], "beta": [RIGHT]})
    args = ["bench", "run", data, *endpoint(openai_server), "--samples", "2", "--rounds", "1"]
    assert cli(*args, "--out", "run", env=KEY_ENV).returncode == 0
    journal = tmp_path / "run" / "attempts.jsonl"
    raw = journal.read_bytes().splitlines(keepends=True)
    lost = json.loads(raw[-1])
    journal.write_bytes(b"".join(raw[:-1]) + raw[-1][: len(raw[-1]) // 2])  # crash mid-write

    proc = cli(*args, "--out", "run", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert "cut short" in proc.stderr
    assert len(openai_server.chat_requests) == 5  # only the torn attempt again
    lines = attempts(tmp_path / "run")  # every line parses: nothing glued to the torn one
    assert sorted((r["problem"], r["sample"]) for r in lines) == [
        (p, i) for p in ("alpha", "beta") for i in range(2)
    ]
    assert (lines[-1]["problem"], lines[-1]["sample"]) == (lost["problem"], lost["sample"])


def test_a_statement_lean_rejects_is_a_dataset_error_not_a_failed_proof(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario([{"when": "Nat.bogus", "error": "unknown constant 'Nat.bogus'"}])
    data = write_problems(
        tmp_path / "ds", {**TWO, "gamma": "theorem gamma : Nat.bogus 1 = 1 := by sorry"}
    )
    openai_server.responder = scripted({"alpha": [RIGHT], "beta": [RIGHT]})
    args = ["bench", "run", data, *endpoint(openai_server), "--samples", "2", "--rounds", "1"]
    proc = cli(*args, "--out", "run", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    assert "gamma" not in {r["problem"] for r in attempts(tmp_path / "run") if "sample" in r}
    assert {json.loads(r)["problem"] for r in _lines(tmp_path)} == {"alpha", "beta", "gamma"}
    s = summary(tmp_path / "run")
    assert list(s["dataset_errors"]) == ["gamma"]
    assert "unknown constant" in s["dataset_errors"]["gamma"]
    assert s["problems_scored"] == 2 and pass_at(s, 1) == 1.0
    assert len(openai_server.chat_requests) == 4
    checks = len(fake_lean.invocations())
    assert cli(*args, "--out", "run", env=KEY_ENV).returncode == 0
    assert len(fake_lean.invocations()) == checks + 1  # reported once: only `lean --version`


def _lines(tmp_path: Path) -> list[str]:
    text = (tmp_path / "run" / "attempts.jsonl").read_text("utf-8")
    return [ln for ln in text.splitlines() if ln.strip()]


def test_known_issues_are_excluded_and_named(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    (tmp_path / "ds" / "known_issues.json").write_text(
        json.dumps([{"name": "beta", "reason": "statement false as formalised"}]), "utf-8"
    )
    openai_server.responder = scripted({"alpha": [RIGHT]})
    proc = cli(
        "bench", "run", data, *endpoint(openai_server), "--samples", "1", "--rounds", "1",
        "--out", "run", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(openai_server.chat_requests) == 1
    s = summary(tmp_path / "run")
    assert s["known_issues"] == [{"name": "beta", "reason": "statement false as formalised"}]
    assert s["problems_scored"] == 1
    md = (tmp_path / "run" / "summary.md").read_text("utf-8")
    assert "beta: statement false as formalised" in md


def test_a_directory_of_lean_files_and_answer_holes(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    from bench_helpers import DATA

    before = {p: p.read_bytes() for p in (DATA / "lean_dir").rglob("*") if p.is_file()}
    proc = cli(
        "bench", "run", DATA / "lean_dir", "--model", "builtin:automation", "--samples", "1",
        "--rounds", "1", "--out", "run", env=FAKE_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "[answer_spec] needs an answer" in proc.stderr
    s = summary(tmp_path / "run")
    assert s["needs_answer"] == ["answer_spec"]
    assert sorted(r["problem"] for r in attempts(tmp_path / "run")) == [
        "Sub.and_swap",
        "add_zero_right",
        "two_eq",
    ]
    # builtin's first tactic is `rfl`, which the fake accepts for every problem.
    assert pass_at(s, 1) == 1.0 and s["cost_usd"] == 0.0
    # Nothing is ever written into the dataset.
    assert {p: p.read_bytes() for p in (DATA / "lean_dir").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "1,8", "--samples", "4"], "pass@8 needs at least 8 samples"),
        (["--k", "one"], "--k takes numbers"),
        (["--shard", "3/2"], "--shard 3/2"),
        (["--split", "nope"], "No problem in"),
    ],
)
def test_bad_flags_get_one_clear_line(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path, args: list[str], message: str
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    proc = run_cli("bench", "run", data, "--model", "builtin:automation", *args, env=FAKE_ENV)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert message in line
    assert not (tmp_path / "bench-run").exists()


def test_shards_split_the_problems_between_machines(
    fake_lean: FakeLean, cli: RunCli, tmp_path: Path
) -> None:
    names = [f"p{i}" for i in range(8)]
    data = write_problems(tmp_path / "ds", {n: f"theorem {n} : True := by sorry" for n in names})
    seen = []
    for shard in ("1/2", "2/2"):
        out = f"run{shard[0]}"
        proc = cli(
            "bench", "run", data, "--model", "builtin:automation", "--samples", "1",
            "--rounds", "1", "--shard", shard, "--out", out, env=FAKE_ENV,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        seen.append({r["problem"] for r in attempts(tmp_path / out)})
    assert seen[0] and seen[1]
    assert seen[0].isdisjoint(seen[1]) and seen[0] | seen[1] == set(names)
    # Deterministic: the same split on another machine, another day.
    from leanloop.bench.command_run import in_shard

    assert {n for n in names if in_shard(n, (1, 2))} == seen[0]


def test_a_problem_line_counts_that_problem_and_the_totals_say_they_are_totals(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    wrong_is_unsolved(fake_lean)
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted({"alpha": [RIGHT, WRONG], "beta": [RIGHT]})
    args = ["bench", "run", data, *endpoint(openai_server), "--rounds", "1", "--out", "run"]
    proc = cli(*args, "--samples", "3", "--concurrency", "1", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    [alpha] = [ln for ln in proc.stderr.splitlines() if ln.startswith("[alpha] done")]
    [beta] = [ln for ln in proc.stderr.splitlines() if ln.startswith("[beta] done")]
    # alpha: the first of its 3 samples proved; beta: all 3. The rest is the run's totals.
    assert alpha.startswith("[alpha] done: 1 of 3 sample(s) proved · run so far: 1/3 attempts")
    assert beta.startswith("[beta] done: 3 of 3 sample(s) proved · run so far: 4/6 attempts")
    assert "2/2 problems done" in beta

    # On resume, a problem's line counts its samples from the earlier run too.
    more = cli(*args, "--samples", "4", "--concurrency", "1", env=KEY_ENV)
    assert more.returncode == 0, more.stderr
    assert "[alpha] done: 1 of 4 sample(s) proved" in more.stderr
    assert "[beta] done: 4 of 4 sample(s) proved" in more.stderr


def test_a_restarted_server_on_a_new_port_resumes_the_run(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    data = write_problems(tmp_path / "ds", TWO)
    openai_server.responder = scripted({"alpha": [RIGHT], "beta": [RIGHT]})
    args = ["bench", "run", data, "--model", "m1", "--rounds", "1", "--out", "run"]
    first = cli(*args, "--samples", "1", "--base-url", openai_server.base_url, env=KEY_ENV)
    assert first.returncode == 0, first.stderr

    with ScriptedOpenAIServer() as restarted:  # the same model, on another port
        assert restarted.base_url != openai_server.base_url
        restarted.responder = scripted({"alpha": [RIGHT], "beta": [RIGHT]})
        proc = cli(*args, "--samples", "2", "--base-url", restarted.base_url, env=KEY_ENV)
        assert proc.returncode == 0, proc.stderr
        assert "2 finished attempt(s)" in proc.stderr
        assert len(restarted.chat_requests) == 2  # only the new samples
    assert len(attempts(tmp_path / "run")) == 4
    assert summary(tmp_path / "run")["mixed_fingerprints"] is False


def test_executor_ray_without_ray_is_one_sentence(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path
) -> None:
    from bench_helpers import without

    data = write_problems(tmp_path / "ds", TWO)
    proc = run_cli(
        "bench", "run", data, "--model", "builtin:automation", "--executor", "ray",
        "--out", "run", env={**FAKE_ENV, **without(tmp_path / "blocked", "ray")},
    )  # fmt: skip
    assert proc.returncode == 2
    [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "--executor ray needs Ray" in line and "leanloop[ray]" in line
    assert "Traceback" not in proc.stderr
