"""Endpoint trouble named as such: a hang is not "cannot reach", retries are shown, a 5xx shows
the server's own words, empty answers in every round mean a broken endpoint; and the text
written for the model is not what the user reads."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.errors import EndpointError
from leanloop.model import ChatMessage, OpenAIModel, ProofRequest

MESSAGES = [ChatMessage(role="user", content="Prove `t`.")]
REQUEST = ProofRequest(target="t", mode="tactic", imports=[], round=1, attempt=0)
ADD_ZERO = "theorem foo (n : Nat) : n + 0 = n := by\n  sorry\n"
KEY_ENV = {"MISTRAL_API_KEY": "test-key"}


def model_for(server: ScriptedOpenAIServer, **kw: object) -> OpenAIModel:
    options: dict[str, object] = {
        "model": "labs-leanstral-2603",
        "base_url": server.base_url,
        "api_key": "k",
        "api_key_env": "MISTRAL_API_KEY",
        "max_retries": 2,
        "backoff": 0.0,
    }
    options.update(kw)
    return OpenAIModel(**options)  # type: ignore[arg-type]


async def test_hanging_endpoint_is_not_called_unreachable(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.responder = lambda request: {"content": "rfl", "delay": 30}
    model = model_for(openai_server, timeout=0.3, max_retries=5)
    said: list[str] = []
    model.set_notifier(said.append)
    try:
        with pytest.raises(EndpointError) as info:
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    message = str(info.value)
    assert "sent nothing for 0.3 s (2 tries)" in message and "--request-timeout" in message
    assert "Cannot reach" not in message and "is it running" not in message
    # A stall is tried once more, not max_retries more times: a hang is known in minutes.
    assert said == ["[t] endpoint: nothing received for 0.3 s; retry 1 of 1 in 0.0 s"]
    assert len(openai_server.chat_requests) == 2


@pytest.mark.parametrize("keepalive", [None, 0.05], ids=["silent", "keep-alive chunks"])
async def test_a_stream_that_stops_delivering_is_a_stall(
    openai_server: ScriptedOpenAIServer, keepalive: float | None
) -> None:
    """The answer starts, then nothing comes (or only empty chunks): a stall, even though
    bytes keep arriving."""
    openai_server.responder = lambda request: {
        "content": "exact rfl",
        "pieces": 2,
        "stall": 30,
        "keepalive": keepalive,
    }
    model = model_for(openai_server, timeout=0.5, max_retries=1)
    try:
        with pytest.raises(EndpointError, match=r"sent nothing for 0.5 s \(2 tries\)"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert len(openai_server.chat_requests) == 2


async def test_a_slow_steady_stream_is_not_a_stall(openai_server: ScriptedOpenAIServer) -> None:
    """The limit is on silence, not on the whole answer: 40 pieces, one every 0.05 s, take
    twice the limit and still arrive whole."""
    text = "exact " + "(" * 20 + "rfl" + ")" * 20
    openai_server.push({"content": text, "pieces": 40, "gap": 0.05})
    model = model_for(openai_server, timeout=1.0)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert completion.text == text
    assert len(openai_server.chat_requests) == 1


async def test_usage_comes_from_the_end_of_the_stream(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push({"content": "rfl", "usage": {"prompt_tokens": 70, "completion_tokens": 9}})
    model = model_for(openai_server)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert (completion.prompt_tokens, completion.completion_tokens) == (70, 9)
    [request] = openai_server.chat_requests
    assert request["json"]["stream"] is True
    assert request["json"]["stream_options"] == {"include_usage": True}


async def test_a_server_that_refuses_stream_options_is_asked_without(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.push(
        {"status": 422, "content": "stream_options: Extra inputs are not permitted"}, "rfl", "rfl"
    )
    model = model_for(openai_server)
    said: list[str] = []
    model.set_notifier(said.append)
    try:
        assert (await model.complete(MESSAGES, REQUEST)).text == "rfl"
        assert (await model.complete(MESSAGES, REQUEST)).text == "rfl"  # remembered
    finally:
        await model.aclose()
    first, second, third = (r["json"] for r in openai_server.chat_requests)
    assert "stream_options" in first
    assert "stream_options" not in second and "stream_options" not in third
    assert said == []  # not a retry the user needs to hear about


async def test_a_server_that_does_not_stream_is_read_whole(
    openai_server: ScriptedOpenAIServer,
) -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "rfl"},
                     "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }  # fmt: skip
    openai_server.push({"body": body})
    model = model_for(openai_server)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert (completion.text, completion.finish_reason) == ("rfl", "length")
    assert (completion.prompt_tokens, completion.completion_tokens) == (5, 2)


async def test_every_retry_is_shown_with_status_server_words_and_wait(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.push(
        {"status": 503, "content": "model is loading", "headers": {"Retry-After": "0"}},
        {"status": 429, "content": "slow down", "headers": {"Retry-After": "0"}},
        "rfl",
    )
    model = model_for(openai_server)
    said: list[str] = []
    model.set_notifier(said.append)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert completion.text == "rfl"
    assert said == [
        "[t] endpoint: 503 (model is loading); retry 1 of 2 in 0.0 s",
        "[t] endpoint: 429 (slow down); retry 2 of 2 in 0.0 s",
    ]


async def test_5xx_after_retries_carries_the_server_message(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.responder = lambda request: {
        "status": 500,
        "content": "CUDA out of memory",
        "headers": {"Retry-After": "0"},
    }
    model = model_for(openai_server, max_retries=1)
    try:
        with pytest.raises(EndpointError, match=r"kept failing \(500\).*CUDA out of memory"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()


async def test_refused_connection_is_still_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIModel(
        model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k", api_key_env="K",
        max_retries=1, backoff=0.0,
    )  # fmt: skip
    said: list[str] = []
    model.set_notifier(said.append)
    try:
        with pytest.raises(EndpointError, match="Cannot reach"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert said == ["[t] endpoint: cannot connect; retry 1 of 1 in 0.0 s"]


# ---------------------------------------------------------------------------------------------
# as the user sees it


def test_retries_are_shown_while_prove_runs(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.push(
        {"status": 502, "content": "bad gateway upstream", "headers": {"Retry-After": "0"}},
        "```lean\nrfl\n```",
    )
    proc = cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--samples", "1", env=KEY_ENV
    )
    assert proc.returncode == 0, proc.stderr
    assert "[foo] endpoint: 502 (bad gateway upstream); retry 1 of 5 in 0.0 s" in proc.stderr


def test_hanging_endpoint_in_prove(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: {"content": "rfl", "delay": 30}
    proc = cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--samples", "1",
        "--request-timeout", "0.3", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "[foo] endpoint: nothing received for 0.3 s; retry 1 of 1" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "sent nothing for 0.3 s" in last and "--request-timeout" in last
    assert "is it running" not in proc.stderr
    assert len(openai_server.chat_requests) == 2


@pytest.mark.parametrize(
    ("finish", "words"),
    [("stop", "endpoint or the model behind it is broken"), ("length", "max_tokens")],
)
def test_empty_answers_in_every_round_stop_the_target(
    fake_lean: FakeLean,
    openai_server: ScriptedOpenAIServer,
    cli: RunCli,
    tmp_path: Path,
    finish: str,
    words: str,
) -> None:
    path = tmp_path / "T.lean"
    path.write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: {"content": "", "finish_reason": finish}
    proc = cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--samples", "4",
        "--rounds", "3", "--json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    # one sample's rounds show the endpoint is broken; the other samples are not paid for
    assert len(openai_server.chat_requests) == 3
    [target] = json.loads(proc.stdout)["targets"]
    assert target["status"] == "failed"
    assert "empty answer in all 3 rounds" in target["note"] and words in target["note"]
    assert path.read_text("utf-8") == ADD_ZERO


def test_text_written_for_the_model_is_not_shown_to_the_user(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "T.lean").write_text(ADD_ZERO, encoding="utf-8")
    openai_server.responder = lambda request: "```python\n\n```"  # a block, but no Lean in it
    proc = cli(
        "prove", "T.lean", "--base-url", openai_server.base_url, "--samples", "1",
        "--rounds", "2", "--report", "r.json", env=KEY_ENV,
    )  # fmt: skip
    assert proc.returncode == 1
    [target] = json.loads((tmp_path / "r.json").read_text("utf-8"))["targets"]
    assert target["note"] == "The model's answer held no Lean code."
    assert "Your answer" not in proc.stderr + proc.stdout
    # the model itself is still told, in its own terms
    second = openai_server.chat_requests[1]["json"]["messages"][-1]["content"]
    assert "Your answer contained no Lean code." in second
