"""One agent everywhere (issue 20): `bench run` measures what `prove` ships.

The same problems, the same scripted endpoint and the same Lean double, once through
`leanloop prove` (one file per problem) and once through `leanloop bench run` (the directory as
a dataset). Each attempt must get the same verdict, the same number of model calls and the same
final proof text; a benchmark attempt is "proved" exactly when `prove` writes that proof."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from bench_helpers import KEY_ENV, MODEL, asked_about, attempts, lean
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

RIGHT = lean("rfl")
WRONG = lean("simp_wrong")
PROSE = "I could not find a proof of this one, sorry about that."
ROUNDS = 3

# name -> (statement, the answer of each round of the conversation)
PROBLEMS: dict[str, tuple[str, list[str]]] = {
    "first_try": ("theorem first_try (n : Nat) : n + 0 = n := by\n  sorry", [RIGHT]),
    "repaired": ("theorem repaired : 2 + 2 = 4 := by\n  sorry", [WRONG, RIGHT]),
    "prose_first": ("theorem prose_first : True := by\n  sorry", [PROSE, RIGHT]),
    "cheat_first": ("theorem cheat_first : 1 = 1 := by\n  sorry", [lean("sorry"), RIGHT]),
    "never": ("theorem never : 3 = 3 := by\n  sorry", [WRONG, WRONG, WRONG]),
    "search": (
        "theorem search (n : Nat) : n ≤ n + 1 := by\n  sorry",
        [lean("exact?")],
    ),
    # Lean runs out of time on the first answer; the loop feeds that back like any rejection.
    "slow_first": ("theorem slow_first : 4 = 4 := by\n  sorry", [lean("slow_tactic"), RIGHT]),
    # The gate accepts this proof but the whole-file check does not: `prove` never writes it.
    "whole_file_only": (
        "theorem whole_file_only : 5 = 5 := by\n  sorry",
        [lean("fragile_tactic")],
    ),
}

RULES: list[dict[str, Any]] = [
    {"when": "simp_wrong", "error": "unsolved goals\n⊢ False", "at": "simp_wrong"},
    {
        "when_regex": r":= by\n  \(?exact\?",
        "error": "Try this:\n  [apply] exact Nat.le_succ n",
        "severity": "information",
        "at": "exact?",
    },
    {"when": "slow_tactic", "sleep": 30},
    # Scripted so that only the whole-file check sees an error: the candidate check has the
    # proof inside the parentheses it adds, the whole new file has it as written.
    {
        "when_regex": r"^  fragile_tactic$",
        "error": "unknown tactic",
        "at": "fragile_tactic",
    },
]


def _respond(request: dict[str, Any]) -> dict[str, Any]:
    """The answer for this round of this conversation, however the calls interleave."""
    name = asked_about(request)
    rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
    script = PROBLEMS[name][1]
    content = script[min(rnd, len(script) - 1)]
    return {"content": content, "usage": {"prompt_tokens": 100, "completion_tokens": 10}}


def _calls(server: ScriptedOpenAIServer, since: int) -> Counter[str]:
    return Counter(asked_about(r["json"]) for r in server.chat_requests[since:])


def _dataset(root: Path) -> Path:
    """One file per problem, its theorem last: the bench problem is the file as it stands."""
    root.mkdir()
    for name, (statement, _) in PROBLEMS.items():
        (root / f"{name}.lean").write_text(f"-- problem {name}\n\n{statement}\n", encoding="utf-8")
    return root


def test_bench_and_prove_give_each_attempt_the_same_verdict_calls_and_proof(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    fake_lean.scenario(RULES)
    openai_server.responder = _respond
    data = _dataset(tmp_path / "problems")
    common = [
        "--base-url", openai_server.base_url, "--model", MODEL,
        "--samples", "1", "--rounds", str(ROUNDS), "--timeout", "3",
    ]  # fmt: skip

    # Through `prove`, each problem's file on its own.
    proved_by_prove: dict[str, dict[str, Any]] = {}
    prove_calls: Counter[str] = Counter()
    for name in PROBLEMS:
        work = tmp_path / "prove" / name
        work.mkdir(parents=True)
        file = work / f"{name}.lean"
        shutil.copy(data / f"{name}.lean", file)
        before = len(openai_server.chat_requests)
        proc = cli(
            "prove", file, *common, "--replay", "off", "--report", work / "r.json",
            cwd=work, env=KEY_ENV,
        )  # fmt: skip
        assert proc.returncode in (0, 1), proc.stderr
        [target] = json.loads((work / "r.json").read_text("utf-8"))["targets"]
        target["written"] = file.read_text("utf-8")
        proved_by_prove[name] = target
        prove_calls += _calls(openai_server, before)

    # Through `bench run`, the directory as a dataset.
    before = len(openai_server.chat_requests)
    proc = cli("bench", "run", data, *common, "--out", tmp_path / "run", env=KEY_ENV)
    assert proc.returncode == 0, proc.stderr
    bench_calls = _calls(openai_server, before)
    records = {r["problem"]: r for r in attempts(tmp_path / "run")}

    assert sorted(records) == sorted(PROBLEMS)
    assert bench_calls == prove_calls
    for name, target in proved_by_prove.items():
        rec = records[name]
        verdict = "proved" if rec["outcome"] == "proved" else "failed"
        assert (name, verdict) == (name, target["status"])
        assert (name, rec["calls"]) == (name, target["model_calls"])
        assert (name, rec["proof"]) == (name, target["proof"] if verdict == "proved" else None)
        if verdict == "proved":
            statement = PROBLEMS[name][0]
            assert statement.replace("sorry", rec["proof"]) in target["written"]
        else:
            assert "sorry" in target["written"]

    # What the script makes of each problem, so that the comparison is not vacuous.
    outcome = {n: r["outcome"] for n, r in records.items()}
    assert outcome == {
        "first_try": "proved",
        "repaired": "proved",
        "prose_first": "proved",
        "cheat_first": "proved",
        "never": "wrong",
        "search": "proved",
        "slow_first": "proved",
        "whole_file_only": "wrong",
    }
    assert records["repaired"]["rounds"] == 2 and records["repaired"]["calls"] == 2
    assert records["never"]["calls"] == ROUNDS
    # `exact?` is settled to the proof Lean suggested, in both.
    assert records["search"]["proof"] == "exact Nat.le_succ n"
    assert records["whole_file_only"]["reason"] == "whole_file"
    assert "whole-file check" in (proved_by_prove["whole_file_only"]["note"] or "")
