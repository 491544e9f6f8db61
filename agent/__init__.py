"""leanloop: prove Lean 4 theorems with a language model, keeping only what Lean accepts.

The public names below load on first use, so `leanloop --help` and every command's start do not
pay for the model client (`openai` alone takes over half a second to import)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ConfigError": "leanloop.errors",
    "EndpointAuthError": "leanloop.errors",
    "EndpointError": "leanloop.errors",
    "LeanloopError": "leanloop.errors",
    "LeanNotBuiltError": "leanloop.errors",
    "LeanNotFoundError": "leanloop.errors",
    "SandboxError": "leanloop.errors",
    "UsageError": "leanloop.errors",
    "Reason": "leanloop.gate",
    "Verdict": "leanloop.gate",
    "judge": "leanloop.gate",
    "Agent": "leanloop.loop",
    "Prover": "leanloop.loop",
    "Policy": "leanloop.policy",
    "RunReport": "leanloop.report",
    "Status": "leanloop.report",
    "TargetReport": "leanloop.report",
    "Settings": "leanloop.settings",
    "load_settings": "leanloop.settings",
    "LeanDocument": "leanloop.source",
}

if TYPE_CHECKING:
    from leanloop.errors import (
        ConfigError,
        EndpointAuthError,
        EndpointError,
        LeanloopError,
        LeanNotBuiltError,
        LeanNotFoundError,
        SandboxError,
        UsageError,
    )
    from leanloop.gate import Reason, Verdict, judge
    from leanloop.loop import Agent, Prover
    from leanloop.policy import Policy
    from leanloop.report import RunReport, Status, TargetReport
    from leanloop.settings import Settings, load_settings
    from leanloop.source import LeanDocument


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leanloop' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Agent",
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
