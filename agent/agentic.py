"""The agent mode (`--mode agent`): one attempt is a function-calling conversation.

The model gets leanloop's tools (`check`, `goals`, `try_tactic`, `search`, from
`leanloop.tools`) and `submit_proof` as OpenAI function-calling tools. leanloop runs each call and
answers with a tool message. Every `submit_proof` goes through the gate (`leanloop.gate.judge`,
the same acceptance path as the default mode); a rejection is returned to the model with the
gate's reason. Budgets bound an attempt instead of rounds: `max_tool_calls`, `tool_timeout` per
call, `token_budget`.

A turn without tool calls is read as in the default mode: the proof is extracted from the text,
judged, and the verdict fed back as a user message (at most `rounds` such turns). Malformed
arguments are an error result for the model, never a crash. Nothing here writes a file: the
caller (prove's whole-file check and write-back, or the bench journal) does that with what the
gate accepted."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from leanloop.gate import Reason, Verdict, judge
from leanloop.lean.checker import Checker
from leanloop.model import (
    Extracted,
    ExtractionError,
    ProofRequest,
    ToolCall,
    ToolCompletion,
    ToolModel,
    extract,
)
from leanloop.policy import Policy
from leanloop.prompts import Prompts
from leanloop.settings import Settings
from leanloop.source import LeanDocument
from leanloop.source.targets import Target
from leanloop.tools import BY_NAME, ToolError, Toolset, call
from leanloop.tools.registry import describe

AGENT_TOOLS = ("check", "goals", "try_tactic", "search")
SUBMIT = "submit_proof"

SYSTEM = """\
You are an expert Lean 4 prover working with tools. Explore with `goals`, `try_tactic`, `check`
and `search` (declarations of the project and its libraries), then call `submit_proof` with the
proof that replaces the `sorry`. Only a submission that Lean and leanloop's gate accept counts;
a rejection tells you why. Never use `sorry`, `admit`, new axioms, `native_decide` or
metaprogramming, and never change the theorem statement."""

TOOLS_NOTE = """

`goals` and `check` with no arguments work on this theorem's file as it stands ($file); give
`code` to try other text. When you are done, call `submit_proof` with $reply."""


class SubmitInput(BaseModel):
    proof: str = Field(
        min_length=1,
        description="The proof that replaces the `sorry` (tactics for a tactic hole, a term for "
        "a term hole), or the whole proof after `:=` with whole_body.",
    )
    whole_body: bool = Field(
        default=False, description="The proof replaces the declaration's whole body."
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


@dataclass
class AgentResult:
    """How one agent attempt went, for the loop's tally and for bench's attempt records."""

    accepted: Extracted | None = None
    verdict: Verdict | None = None  # the accepted verdict, or the last rejection
    calls: int = 0  # model calls
    turns: int = 0  # turns answered in text (the default mode's rounds)
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    lean_checks: int = 0
    lean_seconds: float = 0.0
    model_seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)  # gate reasons of rejected submissions
    budget_hits: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class Agent:
    """Everything an attempt needs; one per run, shared by its attempts."""

    model: ToolModel
    checker: Checker
    policy: Policy
    settings: Settings
    prompts: Prompts
    toolset: Toolset
    file_name: str = "Check.lean"

    async def attempt(
        self, doc: LeanDocument, target: Target, first: str, file: Path, index: int
    ) -> AgentResult:
        s = self.settings
        result = AgentResult()
        rel = _relative(file, self.toolset.root)
        note = TOOLS_NOTE.replace("$file", rel).replace("$reply", _reply(target))
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": first + note},
        ]
        tools = tool_schemas()
        while True:
            if s.token_budget is not None and (
                result.prompt_tokens + result.completion_tokens >= s.token_budget
            ):
                result.budget_hits.append("token_budget")
                result.note = f"The token budget ({s.token_budget}) is used up."
                return result
            request = ProofRequest(
                target=target.name,
                mode=target.mode,
                imports=doc.imports,
                round=result.calls + 1,
                attempt=index,
            )
            t0 = time.monotonic()
            completion = await self.model.complete_tools(messages, tools, request)
            result.model_seconds += time.monotonic() - t0
            result.calls += 1
            result.prompt_tokens += completion.prompt_tokens
            result.completion_tokens += completion.completion_tokens
            if not completion.tool_calls:
                messages.append({"role": "assistant", "content": completion.text})
                done = await self._text_turn(doc, target, completion, messages, result)
                if done or result.turns >= s.rounds:
                    return result
                continue
            messages.append(_assistant(completion))
            for tc in completion.tool_calls:
                if result.tool_calls >= s.max_tool_calls:
                    if "max_tool_calls" not in result.budget_hits:
                        result.budget_hits.append("max_tool_calls")
                    result.note = f"The tool-call budget ({s.max_tool_calls}) is used up."
                    messages.append(_tool_message(tc, "Not run: " + result.note))
                    continue
                result.tool_calls += 1
                content, accepted = await self._run(doc, target, tc, result)
                messages.append(_tool_message(tc, content))
                if accepted:
                    return result
            if "max_tool_calls" in result.budget_hits:
                return result

    async def _text_turn(
        self,
        doc: LeanDocument,
        target: Target,
        completion: ToolCompletion,
        messages: list[dict[str, Any]],
        result: AgentResult,
    ) -> bool:
        """A turn without tool calls, handled as a round of the default mode."""
        result.turns += 1
        try:
            extracted = extract(completion.text, doc, target)
        except ExtractionError as e:
            result.note = e.for_user
            messages.append(
                {"role": "user", "content": self.prompts.extraction_feedback(str(e), target)}
            )
            return False
        verdict = await self._judge(doc, target, extracted, result)
        if verdict.accepted:
            return True
        messages.append(
            {
                "role": "user",
                "content": self.prompts.feedback_request(
                    verdict, target, self.settings.feedback_chars
                ),
            }
        )
        return False

    async def _run(
        self, doc: LeanDocument, target: Target, tc: ToolCall, result: AgentResult
    ) -> tuple[str, bool]:
        """(the tool message's content, whether a proof was accepted)."""
        args = _arguments(tc)
        if isinstance(args, str):
            return args, False
        if tc.name == SUBMIT:
            try:
                sub = SubmitInput.model_validate(args)
            except ValidationError as e:
                return f"Error: bad arguments for `{SUBMIT}`: {describe(e)}.", False
            extracted = Extracted(sub.proof, sub.whole_body)
            verdict = await self._judge(doc, target, extracted, result)
            if verdict.accepted:
                return "Accepted: Lean and the gate accept this proof.", True
            return _rejection(verdict, self.prompts, target, self.settings.feedback_chars), False
        if tc.name not in AGENT_TOOLS:
            return (
                f"Error: there is no tool `{tc.name}`; the tools are "
                f"{', '.join((*AGENT_TOOLS, SUBMIT))}.",
                False,
            )
        if tc.name in ("check", "goals") and "file" not in args and "code" not in args:
            args = {**args, "code": doc.text}  # the target's own file, as it stands
        try:
            out = await asyncio.wait_for(
                call(self.toolset, tc.name, args), self.settings.tool_timeout
            )
        except ToolError as e:
            return f"Error: {e}", False
        except TimeoutError:
            if "tool_timeout" not in result.budget_hits:
                result.budget_hits.append("tool_timeout")
            return (
                f"Error: `{tc.name}` took longer than {self.settings.tool_timeout:g} s and was "
                "stopped.",
                False,
            )
        return out.model_dump_json(exclude_none=True), False

    async def _judge(
        self, doc: LeanDocument, target: Target, extracted: Extracted, result: AgentResult
    ) -> Verdict:
        verdict = await judge(
            doc,
            target,
            extracted.proof,
            self.checker,
            self.policy,
            whole_body=extracted.whole_body,
            file_name=self.file_name,
        )
        result.lean_seconds += verdict.lean_seconds
        if verdict.reason not in (Reason.EMPTY, Reason.FORBIDDEN, Reason.STRUCTURE):
            result.lean_checks += 1
        result.verdict = verdict
        if verdict.accepted:
            result.accepted = extracted
        else:
            assert verdict.reason is not None
            result.reasons.append(verdict.reason.value)
            result.note = verdict.message
        return verdict


def _arguments(tc: ToolCall) -> dict[str, Any] | str:
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


def _rejection(verdict: Verdict, prompts: Prompts, target: Target, budget: int) -> str:
    reason = verdict.reason.value if verdict.reason is not None else "rejected"
    return f"Rejected ({reason}): " + prompts.feedback_request(verdict, target, budget)


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


def _tool_message(tc: ToolCall, content: str) -> dict[str, Any]:
    # Mistral requires `tool_call_id` (mandatory since 2024-05) and takes `name` beside it.
    return {"role": "tool", "tool_call_id": tc.id, "name": tc.name, "content": content}


def _reply(target: Target) -> str:
    if target.whole_body:
        return '{"proof": <the whole proof after `:=`>, "whole_body": true}'
    if target.mode == "tactic":
        return '{"proof": <the tactics that replace the `sorry`>}'
    return '{"proof": <the term that replaces the `sorry`>}'


def _relative(file: Path, root: Path) -> str:
    try:
        return str(file.resolve().relative_to(root))
    except ValueError:
        return file.name


def make_agent(
    model: object,
    checker: Checker,
    policy: Policy,
    settings: Settings,
    prompts: Prompts,
    file: Path,
    file_name: str,
) -> Agent:
    """The agent for a run on ``file``: its tools work in the file's Lake project, on the
    run's own checker (the same cage and limits)."""
    from leanloop.errors import ConfigError
    from leanloop.lean.project import find_lake_root

    if not isinstance(model, ToolModel):
        raise ConfigError(
            "--mode agent needs a model endpoint with function calling; the built-in prover "
            "has none (give --model and --base-url, or use the default mode)."
        )
    root = find_lake_root(file.resolve()) or file.resolve().parent
    toolset = Toolset(root, settings, checker=checker)
    return Agent(model, checker, policy, settings, prompts, toolset, file_name)


def project_of(checker: Checker) -> Path:
    """The project a checker runs Lean in (for bench, whose problems are not files)."""
    command = getattr(checker, "command", None)
    cwd = getattr(command, "cwd", None)
    return Path(cwd) if isinstance(cwd, Path) else Path.cwd()
