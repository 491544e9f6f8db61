"""Finding the Lake project and the command that checks one file."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from pydantic import BaseModel

from leanloop.errors import ConfigError, LeanNotFoundError

LAKEFILES = ("lakefile.lean", "lakefile.toml")


def find_lake_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a lakefile."""
    here = start if start.is_dir() else start.parent
    for d in (here, *here.parents):
        if any((d / name).is_file() for name in LAKEFILES):
            return d
    return None


class LeanCommand(BaseModel):
    """How to run Lean on one file: ``argv + [file]`` in ``cwd``."""

    argv: list[str]
    cwd: Path
    project_root: Path | None

    def for_file(self, file: Path, options: list[str] | None = None) -> list[str]:
        """The command line for ``file``; ``options`` (such as `-DmaxHeartbeats=N`) go just
        before the file."""
        options = options or []
        for i, a in enumerate(self.argv):
            if "{file}" in a:
                return [
                    *self.argv[:i],
                    *options,
                    a.replace("{file}", str(file)),
                    *self.argv[i + 1 :],
                ]
        return [*self.argv, *options, str(file)]


def lean_command(file: Path, override: str | None) -> LeanCommand:
    """The default is `lake env lean --json FILE` in the Lake root, or `lean --json FILE`."""
    root = find_lake_root(file.resolve())
    cwd = root or file.resolve().parent
    if override:
        try:
            argv = shlex.split(override)
        except ValueError as e:
            raise ConfigError(f"--lean-cmd is not a valid command line ({e}).") from e
        if not argv:
            raise ConfigError("--lean-cmd is empty.")
    elif root is not None:
        argv = ["lake", "env", "lean", "--json"]
    else:
        argv = ["lean", "--json"]
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        hint = (
            "install Lean with elan (https://github.com/leanprover/elan) and make sure "
            f"`{argv[0]}` is on PATH, or pass --lean-cmd"
        )
        raise LeanNotFoundError(f"Lean was not found: `{argv[0]}` is not on PATH; {hint}.")
    return LeanCommand(argv=argv, cwd=cwd, project_root=root)
