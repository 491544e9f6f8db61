"""The Lean boundary: running Lean (runner, sandbox, checker) and reading its output (messages)."""

from leanloop.lean.checker import Checker, CliChecker, LeanResult
from leanloop.lean.messages import AxiomReport, LeanMessage, Position, Severity, parse_json_lines
from leanloop.lean.project import LeanCommand, find_lake_root, lean_command
from leanloop.lean.runner import Executor, LocalExecutor, ProcessResult

__all__ = [
    "AxiomReport",
    "Checker",
    "CliChecker",
    "Executor",
    "LeanCommand",
    "LeanMessage",
    "LeanResult",
    "LocalExecutor",
    "Position",
    "ProcessResult",
    "Severity",
    "find_lake_root",
    "lean_command",
    "parse_json_lines",
]
