"""The agent mode's conversation (`--mode agent`): the model calls leanloop's tools.

The conversation loop and the acceptance path are :class:`leanloop.loop.Agent`'s, the same for
both modes; this module holds what is particular to function calling. :class:`ToolChat` keeps
the messages in OpenAI's shape, hands the model `check`, `goals`, `try_tactic` and `search`
(from `leanloop.tools`) plus `submit_proof`, runs each tool call and answers with a tool
message. A `submit_proof` is read here (:meth:`ToolChat.submission`) and judged by the loop,
through the gate and, as in the default mode, the whole-file check before anything is kept.

Malformed arguments are an error result for the model, never a crash. Nothing here writes a
file."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from leanloop.model import (
    Completion,
    Extracted,
    ProofRequest,
    ToolCall,
    ToolCompletion,
    ToolModel,
)
from leanloop.settings import Settings
from leanloop.source import LeanDocument
from leanloop.source.targets import Target
from leanloop.tools import BY_NAME, ToolError, Toolset, call
from leanloop.tools.registry import describe

AGENT_TOOLS = ("check", "goals", "try_tactic", "search")
SUBMIT = "submit_proof"
ACCEPTED = "Accepted: Lean and the gate accept this proof."


class SubmitInput(BaseModel):
    proof: str | list[str] = Field(
        description="The proof that replaces the `sorry` (tactics for a tactic hole, a term for "
        "a term hole); for a theorem with several `sorry`s, a list with one proof per `sorry`, "
        "in order; or, with whole_body, the whole proof after `:=`."
    )
    whole_body: bool = Field(
        default=False, description="The proof replaces the declaration's whole body."
    )
    answer: str | None = Field(
        default=None,
        description="Only when the task asks for the value of an answer declaration: that "
        "declaration with its value in place of `sorry`.",
    )


def tool_schemas() -> list[dict[str, object]]:
    """The tools in OpenAI's function-calling format, schemas from the pydantic models."""
    tools: list[dict[str, object]] = []
    for name in AGENT_TOOLS:
        spec = BY_NAME[name]
        tools.append(_function(name, spec.description, spec.schema()))
    tools.append(
        _function(
            SUBMIT,
            "Submit a complete proof of the target; it is checked by Lean and leanloop's gate.",
            SubmitInput.model_json_schema(),
        )
    )
    return tools


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, object]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


class ToolChat:
    """One attempt's function-calling conversation (:class:`leanloop.loop.Conversation`)."""

    tools = True

    def __init__(
        self, model: ToolModel, toolset: Toolset, settings: Settings, system: str, first: str
    ) -> None:
        self._model = model
        self._toolset = toolset
        self._settings = settings
        self._schemas = tool_schemas()
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": first},
        ]

    async def ask(self, request: ProofRequest) -> ToolCompletion:
        return await self._model.complete_tools(self.messages, self._schemas, request)

    def answered(self, completion: Completion) -> None:
        if isinstance(completion, ToolCompletion) and completion.tool_calls:
            self.messages.append(_assistant(completion))
        else:
            self.messages.append({"role": "assistant", "content": completion.text})

    def tell(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def reply(self, tc: ToolCall, content: str) -> None:
        # Mistral requires `tool_call_id` (mandatory since 2024-05) and takes `name` beside it.
        self.messages.append(
            {"role": "tool", "tool_call_id": tc.id, "name": tc.name, "content": content}
        )

    async def run(self, tc: ToolCall, doc: LeanDocument) -> tuple[str, bool]:
        """Run a tool other than `submit_proof`: (the tool message's content, whether the
        call was cut off by ``tool_timeout``)."""
        args = arguments(tc)
        if isinstance(args, str):
            return args, False
        if tc.name not in AGENT_TOOLS:
            return (
                f"Error: there is no tool `{tc.name}`; the tools are "
                f"{', '.join((*AGENT_TOOLS, SUBMIT))}.",
                False,
            )
        if tc.name in ("check", "goals") and "file" not in args and "code" not in args:
            args = {**args, "code": doc.text}  # the target's own file, as it stands
        timeout = self._settings.tool_timeout
        try:
            out = await asyncio.wait_for(call(self._toolset, tc.name, args), timeout)
        except ToolError as e:
            return f"Error: {e}", False
        except TimeoutError:
            return f"Error: `{tc.name}` took longer than {timeout:g} s and was stopped.", True
        return out.model_dump_json(exclude_none=True), False

    @staticmethod
    def submission(tc: ToolCall, target: Target) -> tuple[Extracted, str | None] | str:
        """A `submit_proof` call as the proof to judge and the answer text it gives, or the
        error for the model."""
        args = arguments(tc)
        if isinstance(args, str):
            return args
        try:
            sub = SubmitInput.model_validate(args)
        except ValidationError as e:
            return f"Error: bad arguments for `{SUBMIT}`: {describe(e)}."
        parts = [sub.proof] if isinstance(sub.proof, str) else sub.proof
        if sub.whole_body:
            if len(parts) != 1:
                return "Error: with whole_body, give the whole proof as one text."
            return Extracted(parts[0], True), sub.answer
        if len(parts) != target.parts:
            if target.parts > 1:
                return (
                    f"Error: this theorem has {target.parts} `sorry`s: give `proof` as a list "
                    f"of {target.parts} proofs, one for each `sorry` in order (or the whole "
                    "proof with whole_body)."
                )
            return "Error: this theorem has one `sorry`: give `proof` as one text."
        if target.parts > 1:
            return Extracted.of_parts(parts), sub.answer
        return Extracted(parts[0], False), sub.answer


def arguments(tc: ToolCall) -> dict[str, Any] | str:
    """The call's arguments as an object, or the error text for the model."""
    if isinstance(tc.arguments, dict):
        return dict(tc.arguments)
    text = tc.arguments.strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return f"Error: the arguments of `{tc.name}` are not valid JSON ({e.msg} at {e.pos})."
    if not isinstance(value, dict):
        return f"Error: the arguments of `{tc.name}` must be a JSON object."
    return value


def _assistant(completion: ToolCompletion) -> dict[str, Any]:
    """The model's turn as it goes back to the endpoint: OpenAI's shape, arguments as JSON
    text (what Mistral's and vLLM's OpenAI endpoints accept)."""
    return {
        "role": "assistant",
        "content": completion.text or "",
        "tool_calls": [
            {
                "id": tc.id,
                "type": "function",
                "function": {
                    "name": tc.name,
                    "arguments": tc.arguments
                    if isinstance(tc.arguments, str)
                    else json.dumps(tc.arguments),
                },
            }
            for tc in completion.tool_calls
        ],
    }
