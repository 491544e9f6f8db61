"""One set of typed tools over a Lake project (check, goals, try_tactic, search, prove, audit),
used by the MCP server and by the agent mode alike."""

from leanloop.tools.registry import BY_NAME, TOOLS, ToolSpec, call, parse_input
from leanloop.tools.toolset import ToolError, Toolset

__all__ = ["BY_NAME", "TOOLS", "ToolError", "ToolSpec", "Toolset", "call", "parse_input"]
