"""The `leanloop bench` command, registered on the CLI's app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the command to ``app``; keep heavy imports inside the command body."""
