"""An OpenAI-compatible chat endpoint (Mistral, vLLM, SGLang, llama.cpp …).

`openai` takes over half a second to import, so it is imported when the first request is made,
not when this module is."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from leanloop.errors import EndpointAuthError, EndpointError
from leanloop.model.base import (
    ChatMessage,
    Completion,
    Notify,
    ProofRequest,
    ToolCall,
    ToolCompletion,
)

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

_MAX_RETRY_AFTER = 120.0
# A server that went quiet once is likely to do so again: one more try, not max_retries of them,
# so that a hanging endpoint is known within about twice request_timeout.
_STALL_RETRIES = 1


class OpenAIModel:
    def __init__(
        self,
        *,
        model: str,
        base_url: str,
        api_key: str,
        api_key_env: str,
        reasoning_effort: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 1.0,
    ) -> None:
        self.name = model
        self._api_key = api_key
        self._api_key_env = api_key_env
        self._base_url = base_url
        self._timeout = timeout
        self._client_obj: AsyncOpenAI | None = None
        self._extra: dict[str, Any] = {}
        if reasoning_effort is not None:
            self._extra["reasoning_effort"] = reasoning_effort
        if temperature is not None:
            self._extra["temperature"] = temperature
        if max_tokens is not None:
            self._extra["max_tokens"] = max_tokens
        self._max_retries = max_retries
        self._backoff: float = backoff
        self._notify: Notify = lambda msg: None
        # OpenAI's way to get the token usage at the end of a stream; dropped for a server
        # that refuses it.
        self._usage_option = True

    def set_notifier(self, notify: Notify) -> None:
        self._notify = notify

    @property
    def _client(self) -> AsyncOpenAI:
        if self._client_obj is None:
            from openai import AsyncOpenAI

            # Retries are ours, so that 429/5xx are counted, shown and Retry-After is honoured.
            self._client_obj = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key,
                timeout=self._timeout,
                max_retries=0,
            )
        return self._client_obj

    async def complete(self, messages: list[ChatMessage], request: ProofRequest) -> Completion:
        return await self._request([m.model_dump() for m in messages], {}, request)

    async def complete_tools(
        self,
        messages: list[dict[str, object]],
        tools: list[dict[str, object]],
        request: ProofRequest,
    ) -> ToolCompletion:
        """One turn of a function-calling conversation (OpenAI's `tools`, which Mistral and
        vLLM's OpenAI server take as well), streamed and retried as :meth:`complete` is."""
        return await self._request(messages, {"tools": tools, "tool_choice": "auto"}, request)

    async def _request(
        self, payload: list[dict[str, Any]], extra: dict[str, Any], request: ProofRequest
    ) -> ToolCompletion:
        """One chat request with the retries: 429/5xx and lost connections up to
        ``max_retries``, a stall once."""
        import openai

        retries = stalls = 0  # 429/5xx and connection failures; answers that stalled
        stall_retries = min(self._max_retries, _STALL_RETRIES)
        while True:
            try:
                return await self._stream(payload, extra)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise EndpointAuthError(self._auth_message(e.status_code)) from None
            except openai.NotFoundError:
                raise EndpointError(
                    f"The endpoint {self._base_url} does not serve the model `{self.name}`; "
                    "check --model and --base-url."
                ) from None
            except openai.APIStatusError as e:
                said = _error_text(e)
                if self._usage_option and e.status_code in (400, 422) and "stream_options" in said:
                    # A server that does not know OpenAI's option for usage in a stream: ask
                    # again without it (it may still send usage, as Mistral's API does).
                    self._usage_option = False
                    continue
                if e.status_code != 429 and e.status_code < 500:
                    raise EndpointError(
                        f"The endpoint refused the request ({e.status_code}): {said}."
                    ) from None
                if retries == self._max_retries:
                    raise EndpointError(
                        f"The endpoint kept failing ({e.status_code}) after "
                        f"{_retries(self._max_retries)}; it said: {said}."
                    ) from None
                wait = self._delay(retries, e.response.headers.get("retry-after"))
                retries += 1
                self._retrying(
                    request, f"{e.status_code} ({said})", retries, self._max_retries, wait
                )
                await asyncio.sleep(wait)
            except _Stalled:
                if stalls == stall_retries:
                    raise EndpointError(
                        f"The endpoint at {self._base_url} sent nothing for "
                        f"{self._timeout:g} s ({_tries(stalls + 1)}); it is hanging or "
                        "overloaded. If it is only slow, raise --request-timeout (the "
                        "request_timeout setting)."
                    ) from None
                wait = self._delay(stalls, None)
                stalls += 1
                self._retrying(
                    request,
                    f"nothing received for {self._timeout:g} s",
                    stalls,
                    stall_retries,
                    wait,
                )
                await asyncio.sleep(wait)
            except _Broken:
                if retries == self._max_retries:
                    raise EndpointError(
                        f"Cannot reach the endpoint at {self._base_url}; is it running?"
                    ) from None
                wait = self._delay(retries, None)
                retries += 1
                self._retrying(request, "cannot connect", retries, self._max_retries, wait)
                await asyncio.sleep(wait)
            except openai.APIError as e:
                raise EndpointError(f"The endpoint sent an unusable answer: {e}.") from None
            except ValueError as e:
                # A body that claims to be JSON and is not (json.JSONDecodeError is a ValueError).
                raise EndpointError(f"The endpoint sent an answer that is not JSON: {e}.") from None

    async def _stream(self, payload: list[dict[str, Any]], extra: dict[str, Any]) -> ToolCompletion:
        """One request, streamed, so that a server that goes quiet is told from one that is
        only slow: ``timeout`` seconds with nothing delivered (no text, reasoning, tool call,
        finish or usage; keep-alive chunks do not count) is a stall, whether before the first
        chunk or between two."""
        import openai

        options = {**self._extra, **extra}
        if self._usage_option:
            options["stream_options"] = {"include_usage": True}
        loop = asyncio.get_running_loop()
        stream: Any  # an AsyncStream of chunks (stream=True; the overloads cannot tell)
        try:
            stream = await asyncio.wait_for(
                self._client.chat.completions.create(
                    model=self.name,
                    messages=payload,  # type: ignore[arg-type]
                    stream=True,
                    **options,
                ),
                self._timeout,
            )
        except (TimeoutError, openai.APITimeoutError):
            raise _Stalled() from None
        except openai.APIConnectionError:
            raise _Broken() from None
        answer = _Answer()
        try:
            response = getattr(stream, "response", None)
            kind = str(response.headers.get("content-type", "")) if response is not None else ""
            if response is not None and "text/event-stream" not in kind:
                # A server that does not stream answers with one body: read it as a completion.
                try:
                    body = await asyncio.wait_for(response.aread(), self._timeout)
                except (TimeoutError, openai.APITimeoutError):
                    raise _Stalled() from None
                return _whole(body)
            deadline = loop.time() + self._timeout
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(stream), max(0.0, deadline - loop.time()))
                except StopAsyncIteration:
                    break
                except (TimeoutError, openai.APITimeoutError):
                    raise _Stalled() from None
                except openai.APIConnectionError:
                    raise _Broken() from None
                except Exception as e:
                    if _transport_error(e):  # an older client lets the HTTP library's errors out
                        raise _Broken() from None
                    raise
                if answer.add(chunk):
                    deadline = loop.time() + self._timeout
            if not answer.chunks:
                raise EndpointError("The endpoint answered without a completion.")
        finally:
            with contextlib.suppress(Exception):
                await stream.close()
        return answer.completion()

    def _retrying(self, request: ProofRequest, what: str, retry: int, of: int, wait: float) -> None:
        self._notify(f"[{request.target}] endpoint: {what}; retry {retry} of {of} in {wait:.1f} s")

    def _auth_message(self, status: int) -> str:
        msg = f"The endpoint refused the API key ({status}); set {self._api_key_env} to a valid key"
        if status == 403 and "mistral.ai" in self._base_url:
            msg += (
                " (Mistral answers 403 for Labs models such as labs-leanstral-2603 until an "
                "admin enables Labs models for the organisation in the console)"
            )
        return msg + "."

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), _MAX_RETRY_AFTER)
            except ValueError:
                pass
        return float(self._backoff * (2**attempt) * (0.5 + random.random() / 2))

    async def aclose(self) -> None:
        if self._client_obj is not None:
            await self._client_obj.close()


def _error_text(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and "message" in inner:
            return _one_line(str(inner["message"]))
        if isinstance(inner, dict) and "detail" in inner:
            return _one_line(str(inner["detail"]))
        if isinstance(inner, str):
            return _one_line(inner)
    if isinstance(body, str) and body.strip():
        return _one_line(body)
    return _one_line(e.message)


def _retries(n: int) -> str:
    return "1 retry" if n == 1 else f"{n} retries"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Stalled(Exception):
    """Nothing was delivered for ``request_timeout`` seconds."""


class _Broken(Exception):
    """The connection could not be made, or broke off mid-answer."""


def _transport_error(e: BaseException) -> bool:
    return type(e).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore")


def _tries(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


class _Answer:
    """A streamed completion, put together chunk by chunk."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.finish: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.chunks = 0  # chunks with a choice in them
        # Tool calls by their stream index: id and name come once, the arguments in pieces.
        self.calls: dict[int, dict[str, Any]] = {}

    def add(self, chunk: Any) -> bool:
        """Take one chunk in; whether it delivered anything (text, reasoning, a finish reason
        or the usage), as opposed to an empty keep-alive."""
        delivered = False
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
            self.completion_tokens = getattr(usage, "completion_tokens", 0) or 0
            delivered = True
        choices = getattr(chunk, "choices", None) or []
        if not isinstance(choices, list):
            raise EndpointError("The endpoint answered with a chunk that is not a completion.")
        for choice in choices[:1]:
            self.chunks += 1
            delta = getattr(choice, "delta", None)
            content = getattr(delta, "content", None)
            if isinstance(content, str) and content:
                self.parts.append(content)
                delivered = True
            elif isinstance(content, list):
                # Some servers send typed parts (text, thinking); only text is the answer.
                for part in content:
                    if isinstance(part, dict):
                        delivered = True
                        if part.get("type") == "text":
                            self.parts.append(str(part.get("text", "")))
            # Reasoning models stream their thinking apart from the answer (vLLM, SGLang and
            # others name the field `reasoning_content` or `reasoning`): it is progress.
            if any(getattr(delta, f, None) for f in ("reasoning_content", "reasoning")):
                delivered = True
            for call in getattr(delta, "tool_calls", None) or []:
                self._add_call(call)
                delivered = True
            finish = getattr(choice, "finish_reason", None)
            if isinstance(finish, str):
                self.finish = finish
                delivered = True
        return delivered

    def _add_call(self, call: Any) -> None:
        """One piece of a streamed tool call. OpenAI and vLLM send a call's id and name in its
        first piece and its arguments as text in the following ones, each with the call's
        ``index``; Mistral's API sends each call whole, where the arguments may be an object."""
        index = _field(call, "index")
        if not isinstance(index, int):
            # No index: a new id starts a call, anything else goes on with the last one.
            cid = _field(call, "id")
            last = max(self.calls, default=-1)
            known = last >= 0 and cid in (None, self.calls[last].get("id"))
            index = last if known else last + 1
        held = self.calls.setdefault(index, {"arguments": ""})
        fn = _field(call, "function")
        for key, value in (("id", _field(call, "id")), ("name", _field(fn, "name"))):
            if isinstance(value, str) and value:
                held[key] = value
        args = _field(fn, "arguments")
        if isinstance(args, dict):
            held["arguments"] = args
        elif isinstance(args, str) and isinstance(held["arguments"], str):
            held["arguments"] += args

    def completion(self) -> ToolCompletion:
        return ToolCompletion(
            text="".join(self.parts),
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            finish_reason=self.finish,
            tool_calls=_tool_calls(self.calls[i] for i in sorted(self.calls)),
        )


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``: the client gives objects, a raw body gives dicts."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _tool_calls(raw: Iterable[Any]) -> list[ToolCall]:
    """The calls as the caller sees them. A call without a name is dropped; the arguments are
    checked by the caller, so malformed ones reach the model as an error, not a crash here."""
    calls: list[ToolCall] = []
    for i, call in enumerate(raw):
        fn = _field(call, "function")
        name = _field(fn, "name") if fn is not None else _field(call, "name")
        args = _field(fn, "arguments") if fn is not None else _field(call, "arguments")
        if not isinstance(name, str) or not name:
            continue
        if not isinstance(args, str | dict):
            args = "" if args is None else str(args)
        cid = _field(call, "id")
        calls.append(ToolCall(id=str(cid or f"call{i}"), name=name, arguments=args))
    return calls


def _whole(body: bytes) -> ToolCompletion:
    """A completion sent as one JSON body, by a server that ignored `stream`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise EndpointError(f"The endpoint sent an answer that is not JSON: {e}.") from None
    try:
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise EndpointError("The endpoint answered without a completion.") from None
    if isinstance(text, list):
        text = "".join(
            str(c.get("text", "")) for c in text if isinstance(c, dict) and c.get("type") == "text"
        )
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    finish = choice.get("finish_reason") if isinstance(choice, dict) else None
    raw_calls = message.get("tool_calls") if isinstance(message, dict) else None
    return ToolCompletion(
        text=str(text),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=finish if isinstance(finish, str) else None,
        tool_calls=_tool_calls(raw_calls if isinstance(raw_calls, list) else []),
    )
