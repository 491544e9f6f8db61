"""The endpoint client, unmodified, against a real HTTP server speaking the OpenAI wire format."""

from __future__ import annotations

import socket

import pytest
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.errors import EndpointAuthError, EndpointError
from leanloop.model import ChatMessage, OpenAIModel, ProofRequest
from leanloop.session import choose_model
from leanloop.settings import Settings

MESSAGES = [
    ChatMessage(role="system", content="You prove theorems."),
    ChatMessage(role="user", content="Prove `t`."),
]
REQUEST = ProofRequest(target="t", mode="tactic", imports=[], round=1, attempt=0)


def model_for(server: ScriptedOpenAIServer, **kw: object) -> OpenAIModel:
    options: dict[str, object] = {
        "model": "labs-leanstral-2603",
        "base_url": server.base_url,
        "api_key": "test-key",
        "api_key_env": "MISTRAL_API_KEY",
        "max_retries": 3,
        "backoff": 0.0,
    }
    options.update(kw)
    return OpenAIModel(**options)  # type: ignore[arg-type]


async def test_completion_text_and_usage(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push(
        {"content": "```lean\nrfl\n```", "usage": {"prompt_tokens": 321, "completion_tokens": 12}}
    )
    model = model_for(openai_server)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert completion.text == "```lean\nrfl\n```"
    assert (completion.prompt_tokens, completion.completion_tokens) == (321, 12)
    [request] = openai_server.chat_requests
    assert request["headers"]["authorization"] == "Bearer test-key"
    assert request["json"]["model"] == "labs-leanstral-2603"
    assert request["json"]["messages"] == [m.model_dump() for m in MESSAGES]


@pytest.mark.parametrize(
    ("kw", "sent"),
    [
        ({}, {}),
        ({"reasoning_effort": "high"}, {"reasoning_effort": "high"}),
        ({"reasoning_effort": "none"}, {"reasoning_effort": "none"}),
        ({"temperature": 0.7, "max_tokens": 512}, {"temperature": 0.7, "max_tokens": 512}),
    ],
)
async def test_optional_parameters_are_sent_only_when_set(
    openai_server: ScriptedOpenAIServer, kw: dict[str, object], sent: dict[str, object]
) -> None:
    openai_server.push("rfl")
    model = model_for(openai_server, **kw)
    try:
        await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    body = openai_server.chat_requests[0]["json"]
    optional = {k: body[k] for k in ("reasoning_effort", "temperature", "max_tokens") if k in body}
    assert optional == sent


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_rate_limits_and_server_errors_are_retried(
    openai_server: ScriptedOpenAIServer, status: int
) -> None:
    openai_server.push({"status": status, "headers": {"Retry-After": "0"}}, "rfl")
    model = model_for(openai_server)
    try:
        completion = await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert completion.text == "rfl"
    assert len(openai_server.chat_requests) == 2


async def test_retries_run_out(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.responder = lambda request: {"status": 503, "headers": {"Retry-After": "0"}}
    model = model_for(openai_server, max_retries=2)
    try:
        with pytest.raises(EndpointError, match=r"kept failing \(503\) after 2 retries"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert len(openai_server.chat_requests) == 3


def test_retry_after_is_honoured_and_capped() -> None:
    model = OpenAIModel(
        model="m", base_url="http://127.0.0.1:9/v1", api_key="k", api_key_env="K", backoff=1.0
    )
    assert model._delay(0, "7") == 7.0
    assert model._delay(3, "0") == 0.0
    assert model._delay(0, "100000") == 120.0
    # no (usable) header: exponential backoff with jitter
    assert 2.0 <= model._delay(2, None) <= 4.0
    assert 0.5 <= model._delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") <= 1.0


async def test_401_names_the_key_variable(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push({"status": 401})
    model = model_for(openai_server, api_key_env="MY_KEY")
    try:
        with pytest.raises(EndpointAuthError) as info:
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    assert "MY_KEY" in str(info.value)
    assert "401" in str(info.value)
    assert info.value.exit_code == 2
    assert len(openai_server.chat_requests) == 1  # never retried


async def test_403_from_mistral_explains_labs_models(openai_server: ScriptedOpenAIServer) -> None:
    """Configured for the Mistral API; the HTTP client is pointed at the local server."""
    openai_server.push({"status": 403, "content": "Forbidden"})
    model = model_for(openai_server, base_url="https://api.mistral.ai/v1")
    model._client.base_url = openai_server.base_url  # type: ignore[assignment]
    try:
        with pytest.raises(EndpointAuthError) as info:
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()
    message = str(info.value)
    assert "MISTRAL_API_KEY" in message
    assert "Labs models" in message
    assert "\n" not in message
    assert len(openai_server.chat_requests) == 1


async def test_other_client_errors_are_reported(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push({"status": 404}, {"status": 400, "content": "messages: field required"})
    model = model_for(openai_server)
    try:
        with pytest.raises(EndpointError, match="does not serve the model `labs-leanstral-2603`"):
            await model.complete(MESSAGES, REQUEST)
        with pytest.raises(EndpointError, match=r"refused the request \(400\): messages: field"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        {"body": {"id": "x", "object": "chat.completion", "choices": []}},
        {"body": {"unexpected": "shape"}},
        {"body": "<html>bad gateway</html>", "headers": {"Content-Type": "text/html"}},
        # Labelled application/json, but not JSON.
        {"body": "<html>bad gateway</html>"},
    ],
    ids=["no-choices", "wrong-shape", "html", "invalid-json"],
)
async def test_garbage_is_an_endpoint_error(
    openai_server: ScriptedOpenAIServer, answer: dict[str, object]
) -> None:
    openai_server.push(answer)
    model = model_for(openai_server)
    try:
        with pytest.raises(EndpointError):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()


async def test_endpoint_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIModel(
        model="m",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="k",
        api_key_env="K",
        max_retries=1,
        backoff=0.0,
    )
    try:
        with pytest.raises(EndpointError, match=f"Cannot reach the endpoint at .*:{port}"):
            await model.complete(MESSAGES, REQUEST)
    finally:
        await model.aclose()


def test_choose_model_without_key() -> None:
    choice = choose_model(Settings(), env={})
    assert choice.model.name == "builtin:automation"
    assert choice.notice is not None
    assert "MISTRAL_API_KEY" in choice.notice and "\n" not in choice.notice
    with_key = choose_model(Settings(), env={"MISTRAL_API_KEY": "k"})
    assert with_key.model.name == "labs-leanstral-2603" and with_key.notice is None
    # a self-hosted server (vLLM, SGLang, llama.cpp) is used even without a key
    local = choose_model(Settings(base_url="http://127.0.0.1:8000/v1", model="kimina"), env={})
    assert local.model.name == "kimina"
    assert local.notice is not None and "MISTRAL_API_KEY" in local.notice
    builtin = choose_model(Settings(model="builtin:automation"), env={"MISTRAL_API_KEY": "k"})
    assert (builtin.model.name, builtin.notice) == ("builtin:automation", None)
