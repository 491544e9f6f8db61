"""The files a command was given: Lean files and directories, as `lake build` users expect.

`prove`, `check` and `audit` take several paths. A file is taken as given; a directory stands
for its `.lean` files, found recursively in path order, leaving out build output and fetched
dependencies (`.lake/`, `lake-packages/`, `build/`), hidden directories and `lakefile.lean`.
Every bad path is one sentence, before any work starts.

Results for several files share one shape, :class:`Batch`: one report per file, and the files
that could not be processed, each with its reason. One file named alone keeps its own report's
shape, so that scripts written for one file go on working."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from leanloop.errors import UsageError

R = TypeVar("R", bound=BaseModel)

# Directories that hold build output or fetched dependencies, never the project's own sources.
EXCLUDED_DIRS = frozenset({".lake", "lake-packages", ".git", "build"})
# Lake's configuration is a Lean file, not a module of the project.
_CONFIG = frozenset({"lakefile.lean"})


def lean_files(paths: list[Path]) -> list[Path]:
    """The Lean files ``paths`` name, each once, in the order given."""
    if not paths:
        raise UsageError("Give a Lean file or a directory of Lean files.")
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"No such file or directory: {path}.")
        if path.is_dir():
            inside = _in_directory(path)
            if not inside:
                raise UsageError(
                    f"The directory {path} holds no .lean files (build output is left out)."
                )
            found.extend(inside)
        elif path.suffix != ".lean":
            raise UsageError(f"{path} is not a Lean file (give .lean files or directories).")
        else:
            found.append(path)
    seen: set[Path] = set()
    out = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _in_directory(root: Path) -> list[Path]:
    out: list[Path] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith("."))
        out.extend(
            Path(here) / f for f in sorted(files) if f.endswith(".lean") and f not in _CONFIG
        )
    return out


def single(paths: list[Path]) -> bool:
    """Whether the command was given exactly one file (not a directory): its result then keeps
    the one-file shape."""
    return len(paths) == 1 and not paths[0].is_dir()


class FileError(BaseModel):
    """A file that could not be processed, and why (one sentence)."""

    file: str
    error: str


class Batch(BaseModel, Generic[R]):
    """The result of a command on several files."""

    files: list[R]
    errors: list[FileError] = []
    # Files not started because the run stopped first (a fatal error, Ctrl-C).
    not_started: list[str] = []
