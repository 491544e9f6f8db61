"""Helpers for the `leanloop bench` tests (a plain module, not a ``conftest.py``: other tests
import ``conftest`` by name)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doubles.openai_server import ScriptedOpenAIServer

DATA = Path(__file__).resolve().parent.parent / "data" / "bench"
MODEL = "labs-leanstral-2603"
# The fake toolchain reads its script from FAKE_LEAN_*; Lean's children see only allow-listed
# variables, so the tests allow those through as a user would allow their own.
FAKE_ENV = {"LEANLOOP_ENV_ALLOW": "FAKE_LEAN_*"}
KEY_ENV = {**FAKE_ENV, "MISTRAL_API_KEY": "test-key", "LEANLOOP_MAX_RETRIES": "0"}
PRICED = {
    **KEY_ENV,
    "LEANLOOP_PRICES": json.dumps({MODEL: {"prompt": 1.0, "completion": 2.0}}),
}
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500}  # $0.002 at PRICED


def endpoint(server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--model", MODEL, *extra]


_THEOREM = re.compile(r"Prove this \w+ by replacing .*?```lean\n(?:/-.*?-/\n)?\S+ (\S+)", re.S)


def asked_about(request: dict[str, Any]) -> str:
    """The theorem a conversation is about, from its first user message (as a person reads it)."""
    first = next(m["content"] for m in request["messages"] if m["role"] == "user")
    m = _THEOREM.search(first)
    assert m is not None, first
    return m.group(1)


def scripted(answers: dict[str, list[str | dict[str, Any]]]) -> Callable[[dict[str, Any]], Any]:
    """A responder: the i-th conversation about a theorem gets ``answers[theorem][i]``
    (the last one repeats). Later rounds of one conversation count as further answers."""
    lock = threading.Lock()
    seen: Counter[str] = Counter()

    def respond(request: dict[str, Any]) -> Any:
        name = asked_about(request)
        with lock:
            i = seen[name]
            seen[name] += 1
        script = answers[name]
        answer = script[min(i, len(script) - 1)]
        if isinstance(answer, str):
            return {"content": answer, "usage": USAGE}
        return answer

    return respond


def lean(proof: str) -> str:
    return f"```lean\n{proof}\n```"


def attempts(out: Path) -> list[dict[str, Any]]:
    text = (out / "attempts.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text("utf-8"))
    return data


def pass_at(s: dict[str, Any], k: int) -> float:
    [fig] = [f for f in s["pass_at_k"] if f["k"] == k]
    value: float = fig["value"]
    return value


def write_problems(directory: Path, statements: dict[str, str], header: str = "") -> Path:
    """A JSONL dataset of the given statements, one per name."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "problems.jsonl"
    rows = [
        {"name": n, "split": "test", "formal_statement": s, "header": header}
        for n, s in statements.items()
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def without(directory: Path, *modules: str) -> dict[str, str]:
    """Environment for a leanloop process in which ``modules`` cannot be imported, as on a
    plain install that lacks them: stubs that raise ImportError come first on the path."""
    import os

    for name in modules:
        stub = directory / name
        stub.mkdir(parents=True, exist_ok=True)
        (stub / "__init__.py").write_text(
            f'raise ImportError("No module named {name} (blocked by the test)")\n', "utf-8"
        )
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(directory) + (os.pathsep + path if path else "")}
