"""leanloop: prove Lean 4 theorems with a language model, keeping only what Lean accepts."""

from agent.errors import (
    ConfigError,
    EndpointAuthError,
    EndpointError,
    LeanloopError,
    LeanNotBuiltError,
    LeanNotFoundError,
    SandboxError,
    UsageError,
)
from agent.gate import Reason, Verdict, judge
from agent.loop import Prover
from agent.policy import Policy
from agent.report import RunReport, Status, TargetReport
from agent.settings import Settings, load_settings
from agent.source import LeanDocument

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "EndpointAuthError",
    "EndpointError",
    "LeanDocument",
    "LeanNotBuiltError",
    "LeanNotFoundError",
    "LeanloopError",
    "Policy",
    "Prover",
    "Reason",
    "RunReport",
    "SandboxError",
    "Settings",
    "Status",
    "TargetReport",
    "UsageError",
    "Verdict",
    "judge",
    "load_settings",
]
