"""The agent mode's requests go through the same streamed client as the default mode's: tool
calls streamed in pieces come together, a stall is retried once and then named, 429s are retried,
and a server that does not stream still gives its tool calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.errors import EndpointError
from leanloop.model import OpenAIModel, ProofRequest

REQUEST = ProofRequest(target="t", mode="tactic", imports=[], round=1, attempt=0)
MESSAGES: list[dict[str, object]] = [{"role": "user", "content": "Prove `t`."}]
TOOLS: list[dict[str, object]] = [
    {
        "type": "function",
        "function": {"name": "goals", "description": "d", "parameters": {"type": "object"}},
    }
]
CALLS = [
    {"name": "goals", "arguments": {"line": 2}},
    {"name": "try_tactic", "arguments": {"proof_state": 1, "tactic": "simp [Nat.add_comm]"}},
]


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


def _args(arguments: str | dict[str, object]) -> Any:
    return json.loads(arguments) if isinstance(arguments, str) else arguments


@pytest.mark.parametrize("flavour", ["openai", "vllm", "mistral"])
async def test_streamed_tool_calls_come_together(
    openai_server: ScriptedOpenAIServer, flavour: str
) -> None:
    openai_server.push({"tool_calls": CALLS, "flavour": flavour, "pieces": 5})
    model = model_for(openai_server)
    try:
        completion = await model.complete_tools(MESSAGES, TOOLS, REQUEST)
    finally:
        await model.aclose()
    assert [(c.name, _args(c.arguments)) for c in completion.tool_calls] == [
        (c["name"], c["arguments"]) for c in CALLS
    ]
    assert len({c.id for c in completion.tool_calls}) == 2
    assert completion.finish_reason == "tool_calls"
    [sent] = openai_server.chat_requests
    assert sent["json"]["stream"] is True and sent["json"]["tools"] == TOOLS


async def test_a_stalled_tool_call_stream_is_retried_once_then_named(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.responder = lambda request: {
        "tool_calls": CALLS,
        "flavour": "vllm",
        "pieces": 3,
        "stall": 30,
    }
    model = model_for(openai_server, timeout=0.5, max_retries=3)
    try:
        with pytest.raises(EndpointError, match=r"sent nothing for 0.5 s \(2 tries\)"):
            await model.complete_tools(MESSAGES, TOOLS, REQUEST)
    finally:
        await model.aclose()
    assert len(openai_server.chat_requests) == 2


async def test_a_rate_limited_tool_request_is_retried(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.push(
        {"status": 429, "headers": {"Retry-After": "0"}},
        {"tool_calls": CALLS[:1], "flavour": "mistral"},
    )
    model = model_for(openai_server)
    said: list[str] = []
    model.set_notifier(said.append)
    try:
        completion = await model.complete_tools(MESSAGES, TOOLS, REQUEST)
    finally:
        await model.aclose()
    assert [c.name for c in completion.tool_calls] == ["goals"]
    assert len(said) == 1 and said[0].startswith("[t] endpoint: 429")


async def test_a_server_that_does_not_stream_still_gives_its_tool_calls(
    openai_server: ScriptedOpenAIServer,
) -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "goals", "arguments": '{"line": 2}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
    openai_server.push({"body": body})
    model = model_for(openai_server)
    try:
        completion = await model.complete_tools(MESSAGES, TOOLS, REQUEST)
    finally:
        await model.aclose()
    [call] = completion.tool_calls
    assert (call.id, call.name, _args(call.arguments)) == ("call_1", "goals", {"line": 2})
    assert (completion.text, completion.prompt_tokens) == ("", 12)
