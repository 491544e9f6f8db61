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
    from leanloop.cli import _settings
    from leanloop.tools import Toolset

    settings = _settings(root, settings_flags)
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
    from leanloop.cli import _run

    @app.command()
    def mcp(
        root: Annotated[
            Path | None,
            typer.Argument(
                metavar="ROOT", help="The Lean project's root (default: the current directory)."
            ),
        ] = None,
        http: Annotated[
            int | None,
            typer.Option(
                metavar="PORT",
                help="Serve streamable HTTP on 127.0.0.1:PORT instead of stdio.",
            ),
        ] = None,
        model: Annotated[
            str | None, typer.Option(metavar="NAME", help="The model `prove` uses.")
        ] = None,
        base_url: Annotated[
            str | None, typer.Option(metavar="URL", help="OpenAI-compatible base URL for prove.")
        ] = None,
        lean_cmd: Annotated[
            str | None, typer.Option(metavar="COMMAND", help="Command that checks a file.")
        ] = None,
        timeout: Annotated[
            float | None, typer.Option(metavar="SECONDS", help="Seconds per Lean run.")
        ] = None,
        sandbox: Annotated[
            str | None, typer.Option(metavar="required|auto|off", help="Run Lean in a sandbox.")
        ] = None,
        backend: Annotated[
            str | None,
            typer.Option(metavar="cli|repl", help="cli: `lean --json` per run; repl: warm REPLs."),
        ] = None,
    ) -> None:
        """Serve leanloop's tools (check, goals, try_tactic, search, prove, audit) over MCP."""
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
                lean_cmd=lean_cmd,
                timeout=timeout,
                sandbox=sandbox,
                backend=backend,
            )
            await serve(where, flags, http)
            return 0

        raise typer.Exit(_run(body))


__all__ = ["MISSING_SDK", "build_server", "register", "serve"]
