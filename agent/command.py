"""Running one command's body: our errors become one line and an exit code, never a traceback.

Every command (`prove`, `check`, `audit`, `doctor`, `ci`, `bench …`) runs its body through
:func:`run_command`, so they all end the same way. It lives apart from the typer layer so that
the commands registered from other packages (`leanloop.ci`, `leanloop.bench`) need not import
the CLI module that registers them."""

from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer

from leanloop.errors import LeanloopError

T = TypeVar("T")

INTERRUPTED = "interrupted; nothing was written."
INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in leanloop, not in the user's input
INTERRUPT_EXIT = 130  # 128 + SIGINT, as shells report Ctrl-C


def run_command(coro_fn: Callable[[], Coroutine[Any, Any, T]], interrupted: str = INTERRUPTED) -> T:
    """Run a command body on a fresh event loop and return what it returns. A
    :class:`LeanloopError` prints ``error: …`` and exits with its code; Ctrl-C prints
    ``interrupted`` (the bench says how to resume) and exits 130; anything else is a bug, said
    in one line (with the traceback under ``LEANLOOP_DEBUG=1``) with exit code 70."""
    try:
        return asyncio.run(coro_fn())
    except LeanloopError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        typer.echo(interrupted, err=True)
        raise typer.Exit(INTERRUPT_EXIT) from None
    except typer.Exit:
        raise
    except Exception as e:
        if os.environ.get("LEANLOOP_DEBUG"):
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(e).__name__}: {e} (set LEANLOOP_DEBUG=1 for "
            "details; please report it)",
            err=True,
        )
        raise typer.Exit(INTERNAL_ERROR_EXIT) from None
