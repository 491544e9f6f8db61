"""Errors meant for people. Each message is one sentence a user can act on."""

from __future__ import annotations


class LeanloopError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LeanloopError):
    """Bad input from the user: a missing file, an unknown theorem, a bad flag value."""


class ConfigError(LeanloopError):
    """A setting that can't be used as given."""


class LeanNotFoundError(LeanloopError):
    """No Lean toolchain could be run."""


class LeanNotBuiltError(LeanloopError):
    """An imported module has no compiled `.olean`; `lake build` must run first."""


class EndpointError(LeanloopError):
    """The model endpoint could not be used."""


class EndpointAuthError(EndpointError):
    """The endpoint refused the API key (401/403)."""


class SandboxError(LeanloopError):
    """The sandbox was required but cannot be used."""
