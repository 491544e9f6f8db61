"""`leanloop mcp`: leanloop's tools for any MCP client (Claude Code, Vibe, Cursor, …), on the
official MCP Python SDK (`mcp` 2.x, `mcp.server.mcpserver.MCPServer`).

The SDK is the optional extra `mcp` and is imported only when the command runs. The tools are
those of `leanloop.tools`, with the JSON schemas of their pydantic models; their failures come
back as MCP tool errors with one sentence, and the server keeps serving. stdio is the default
transport, so nothing but the protocol may reach stdout: every note goes to stderr."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanloop.errors import ConfigError, UsageError
from leanloop.options import (
    OUTPUT,
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    Command,
    LeanCmdOpt,
    ModelOpt,
    SandboxOpt,
    TimeoutOpt,
)

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from leanloop.tools import Toolset, ToolSpec

MISSING_SDK = (
    "leanloop mcp needs the MCP Python SDK, which is not installed: pip install 'leanloop[mcp]'."
)
INSTRUCTIONS = (
    "leanloop checks Lean 4 proofs with Lean and an acceptance gate. Use `goals` and "
    "`try_tactic` to explore, `search` to find lemmas of the project and Mathlib, `check` to "
    "run Lean, and `prove` to have leanloop's prover fill `sorry`s (it writes the file only "
    "with write: true, and only proofs the gate accepted). Paths are relative to the project "
    "root."
)


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _function(spec: ToolSpec, toolset: Toolset) -> Any:
    """An async function whose keyword parameters are the input model's fields, for the SDK's
    registration. Every parameter is optional to the SDK: the model validates, so a bad
    argument gets leanloop's one sentence rather than a dump of the validation."""
    from mcp.server.mcpserver.exceptions import ToolError as McpToolError

    from leanloop.tools import ToolError, call

    async def run(**kwargs: Any) -> Any:
        arguments = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return await call(toolset, spec.name, arguments)
        except ToolError as e:
            raise McpToolError(str(e)) from None

    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Any)
        for name in spec.input.model_fields
    ]
    run.__signature__ = inspect.Signature(params, return_annotation=spec.output)  # type: ignore[attr-defined]
    run.__name__ = spec.name
    return run


def build_server(toolset: Toolset) -> MCPServer:
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.tools.base import Tool
        from mcp_types import ToolAnnotations
    except ImportError:
        raise ConfigError(MISSING_SDK) from None
    from leanloop import __version__
    from leanloop.tools import TOOLS

    tools = []
    for spec in TOOLS:
        tool = Tool.from_function(
            _function(spec, toolset),
            name=spec.name,
            description=spec.description,
            annotations=ToolAnnotations(read_only_hint=spec.read_only, open_world_hint=False),
            structured_output=True,
        )
        # What clients see is the model's own schema (field descriptions, constraints).
        tool.parameters = spec.schema()
        tools.append(tool)
    return MCPServer(name="leanloop", version=__version__, instructions=INSTRUCTIONS, tools=tools)


async def serve(root: Path, settings_flags: dict[str, Any], http: int | None) -> None:
    from leanloop.session import settings_for
    from leanloop.tools import Toolset

    settings = settings_for(root, settings_flags)
    toolset = Toolset(root, settings, say=_stderr)
    server = build_server(toolset)
    try:
        if http is None:
            await server.run_stdio_async()
        else:
            _stderr(f"leanloop mcp: serving streamable HTTP on http://127.0.0.1:{http}/mcp")
            await server.run_streamable_http_async(host="127.0.0.1", port=http)
    finally:
        await toolset.aclose()


def register(app: typer.Typer) -> None:
    """Add the command to ``app``; the SDK is imported only when it runs."""
    app.command("mcp", cls=Command)(mcp_command)


def mcp_command(
    root: Annotated[
        Path | None,
        typer.Argument(
            metavar="ROOT",
            help="The Lean project's root (default: the current directory).",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    http: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            help="Serve streamable HTTP on 127.0.0.1:PORT instead of stdio (default: stdio).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
) -> None:
    """Serve leanloop's tools (check, goals, try_tactic, search, prove, audit) over MCP.

    The model options are those the `prove` tool uses."""
    from leanloop.command import run_command

    where = (root or Path.cwd()).resolve()

    async def body() -> int:
        if not where.is_dir():
            raise UsageError(f"{where} is not a directory; give the Lean project's root.")
        if http is not None and not 0 < http < 65536:
            raise UsageError(f"--http {http} is not a TCP port (1-65535).")
        try:
            import mcp.server.mcpserver  # noqa: F401
        except ImportError:
            raise ConfigError(MISSING_SDK) from None
        flags = dict(
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            lean_cmd=lean_cmd,
            timeout=timeout,
            sandbox=sandbox,
            backend=backend,
        )
        await serve(where, flags, http)
        return 0

    raise typer.Exit(run_command(body))


__all__ = ["MISSING_SDK", "build_server", "mcp_command", "register", "serve"]
