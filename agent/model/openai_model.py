"""An OpenAI-compatible chat endpoint (Mistral, vLLM, SGLang, llama.cpp …).

`openai` takes over half a second to import, so it is imported when the first request is made,
not when this module is."""

from __future__ import annotations

import asyncio
import random
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
        timeout: float = 600.0,
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
        return _completion(await self._create([m.model_dump() for m in messages], {}))

    async def complete_tools(
        self,
        messages: list[dict[str, object]],
        tools: list[dict[str, object]],
        request: ProofRequest,
    ) -> ToolCompletion:
        """One turn of a function-calling conversation (OpenAI's `tools`, which Mistral and
        vLLM's OpenAI server take as well)."""
        resp = await self._create(messages, {"tools": tools, "tool_choice": "auto"})
        return _tool_completion(resp)

    async def _create(self, payload: list[dict[str, Any]], extra: dict[str, Any]) -> Any:
        import openai

        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                return await self._client.chat.completions.create(
                    model=self.name,
                    messages=payload,  # type: ignore[arg-type]
                    **self._extra,
                    **extra,
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise EndpointAuthError(self._auth_message(e.status_code)) from None
            except openai.NotFoundError:
                raise EndpointError(
                    f"The endpoint {self._base_url} does not serve the model `{self.name}`; "
                    "check --model and --base-url."
                ) from None
            except openai.APIStatusError as e:
                said = _error_text(e)
                if e.status_code != 429 and e.status_code < 500:
                    raise EndpointError(
                        f"The endpoint refused the request ({e.status_code}): {said}."
                    ) from None
                if last:
                    raise EndpointError(
                        f"The endpoint kept failing ({e.status_code}) after "
                        f"{_retries(self._max_retries)}; it said: {said}."
                    ) from None
                wait = self._delay(attempt, e.response.headers.get("retry-after"))
                self._retrying(attempt, f"{e.status_code} ({said})", wait)
                await asyncio.sleep(wait)
                continue
            except openai.APITimeoutError:  # before APIConnectionError: it is one
                if last:
                    raise EndpointError(
                        f"The endpoint at {self._base_url} did not answer within "
                        f"{self._timeout:g} s ({self._max_retries + 1} tries); it is overloaded "
                        "or hanging (the limit is the request_timeout setting)."
                    ) from None
                wait = self._delay(attempt, None)
                self._retrying(attempt, f"no answer within {self._timeout:g} s", wait)
                await asyncio.sleep(wait)
                continue
            except openai.APIConnectionError:
                if last:
                    raise EndpointError(
                        f"Cannot reach the endpoint at {self._base_url}; is it running?"
                    ) from None
                wait = self._delay(attempt, None)
                self._retrying(attempt, "cannot connect", wait)
                await asyncio.sleep(wait)
                continue
            except openai.APIError as e:
                raise EndpointError(f"The endpoint sent an unusable answer: {e}.") from None
            except ValueError as e:
                # A body that claims to be JSON and is not (json.JSONDecodeError is a ValueError).
                raise EndpointError(f"The endpoint sent an answer that is not JSON: {e}.") from None
        raise AssertionError("unreachable")

    def _retrying(self, attempt: int, what: str, wait: float) -> None:
        self._notify(
            f"endpoint: {what}; retry {attempt + 1} of {self._max_retries} in {wait:.1f} s"
        )

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


def _completion(resp: Any) -> Completion:
    try:
        choice = resp.choices[0]
        text = choice.message.content or ""
    except (AttributeError, IndexError, TypeError):
        raise EndpointError("The endpoint answered without a completion.") from None
    if not isinstance(text, str):
        # Some servers send content as a list of typed chunks; keep the text ones only.
        text = "".join(
            str(c.get("text", "")) for c in text if isinstance(c, dict) and c.get("type") == "text"
        )
    usage = getattr(resp, "usage", None)
    finish = getattr(choice, "finish_reason", None)
    return Completion(
        text=text,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        finish_reason=finish if isinstance(finish, str) else None,
    )


def _tool_completion(resp: Any) -> ToolCompletion:
    """The answer with its tool calls. OpenAI and vLLM send `tool_calls` with `function.arguments`
    as JSON text; Mistral's API sends the same shape (ids of nine letters and digits, an
    `index`), where `arguments` may also be an object. A call without a name is dropped; its
    arguments are checked by the caller, so a malformed one reaches the model as an error."""
    base = _completion(resp)
    calls: list[ToolCall] = []
    raw = getattr(resp.choices[0].message, "tool_calls", None) or []
    for i, call in enumerate(raw):
        fn = getattr(call, "function", None)
        if fn is None and isinstance(call, dict):
            fn = call.get("function")
        name = getattr(fn, "name", None) if not isinstance(fn, dict) else fn.get("name")
        args = getattr(fn, "arguments", None) if not isinstance(fn, dict) else fn.get("arguments")
        cid = getattr(call, "id", None) if not isinstance(call, dict) else call.get("id")
        if not isinstance(name, str) or not name:
            continue
        if not isinstance(args, str | dict):
            args = "" if args is None else str(args)
        calls.append(ToolCall(id=str(cid or f"call{i}"), name=name, arguments=args))
    return ToolCompletion(**base.model_dump(), tool_calls=calls)
