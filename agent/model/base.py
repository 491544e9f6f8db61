"""The model boundary: a conversation goes in, one completion comes out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ProofRequest(BaseModel):
    """What the loop knows about the hole, for models that don't read prose (the built-in one)."""

    target: str
    mode: Literal["term", "tactic"]
    imports: list[str]
    round: int  # 1-based round within the attempt
    attempt: int  # 0-based attempt index


class Completion(BaseModel):
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None  # `length` when the answer was cut off at max_tokens


class Model(Protocol):
    """Anything that answers a proof conversation."""

    name: str

    async def complete(self, messages: list[ChatMessage], request: ProofRequest) -> Completion: ...

    async def aclose(self) -> None: ...


Notify = Callable[[str], None]


@runtime_checkable
class Announcing(Protocol):
    """A model that tells the user about its own trouble (retries, waits) as it happens."""

    def set_notifier(self, notify: Notify) -> None: ...


class ToolCall(BaseModel):
    """One function call the model asked for, as it sent it. ``arguments`` is the JSON text of
    the OpenAI format; Mistral's own API may send an object instead, kept as it came."""

    id: str
    name: str
    arguments: str | dict[str, object]


class ToolCompletion(Completion):
    """An answer that may call tools instead of (or beside) answering in text."""

    tool_calls: list[ToolCall] = []


NO_FUNCTION_CALLING = (
    "--mode agent needs a model endpoint with function calling; the built-in prover has none "
    "(give --model and --base-url of one, or leave out --mode agent)."
)


@runtime_checkable
class ToolModel(Protocol):
    """A model that takes OpenAI function-calling tools (the agent mode)."""

    name: str

    async def complete_tools(
        self,
        messages: list[dict[str, object]],
        tools: list[dict[str, object]],
        request: ProofRequest,
    ) -> ToolCompletion: ...
