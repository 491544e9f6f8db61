"""An OpenAI-compatible chat endpoint (Mistral, vLLM, SGLang, llama.cpp …)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import openai
from openai import AsyncOpenAI

from leanloop.errors import EndpointAuthError, EndpointError
from leanloop.model.base import ChatMessage, Completion, ProofRequest

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
        self._api_key_env = api_key_env
        self._base_url = base_url
        # Retries are ours, so that 429/5xx are counted and Retry-After is honoured uniformly.
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0
        )
        self._extra: dict[str, Any] = {}
        if reasoning_effort is not None:
            self._extra["reasoning_effort"] = reasoning_effort
        if temperature is not None:
            self._extra["temperature"] = temperature
        if max_tokens is not None:
            self._extra["max_tokens"] = max_tokens
        self._max_retries = max_retries
        self._backoff: float = backoff

    async def complete(self, messages: list[ChatMessage], request: ProofRequest) -> Completion:
        payload = [m.model_dump() for m in messages]
        for attempt in range(self._max_retries + 1):
            try:
                resp = await self._client.chat.completions.create(
                    model=self.name,
                    messages=payload,  # type: ignore[arg-type]
                    **self._extra,
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise EndpointAuthError(self._auth_message(e.status_code)) from None
            except openai.NotFoundError:
                raise EndpointError(
                    f"The endpoint {self._base_url} does not serve the model `{self.name}`; "
                    "check --model and --base-url."
                ) from None
            except openai.APIStatusError as e:
                if e.status_code != 429 and e.status_code < 500:
                    raise EndpointError(
                        f"The endpoint refused the request ({e.status_code}): {_error_text(e)}."
                    ) from None
                if attempt == self._max_retries:
                    raise EndpointError(
                        f"The endpoint kept failing ({e.status_code}) after "
                        f"{self._max_retries} retries."
                    ) from None
                await asyncio.sleep(self._delay(attempt, e.response.headers.get("retry-after")))
                continue
            except (openai.APIConnectionError, openai.APITimeoutError):
                if attempt == self._max_retries:
                    raise EndpointError(
                        f"Cannot reach the endpoint at {self._base_url}; is it running?"
                    ) from None
                await asyncio.sleep(self._delay(attempt, None))
                continue
            except openai.APIError as e:
                raise EndpointError(f"The endpoint sent an unusable answer: {e}.") from None
            except ValueError as e:
                # A body that claims to be JSON and is not (json.JSONDecodeError is a ValueError).
                raise EndpointError(f"The endpoint sent an answer that is not JSON: {e}.") from None
            return _completion(resp)
        raise AssertionError("unreachable")

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
        await self._client.close()


def _error_text(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
        if isinstance(inner, dict) and "detail" in inner:
            return str(inner["detail"])
    return e.message


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
    return Completion(
        text=text,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )
