"""`prove`, `check` and `audit` over several files: one model, one checker and one replayer per
Lake project (so warm REPLs are shared), the files one after another.

A problem with one file (its imports are not built, Lean crashes on it) is that file's error,
and the others go on; a problem that every file would meet (Lean cannot be started, a setting,
the sandbox) or a fatal endpoint error stops the run, and the files not reached are listed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leanloop.errors import ConfigError, LeanloopError, LeanNotFoundError, SandboxError
from leanloop.files import SourceFile
from leanloop.inputs import FileError
from leanloop.lean.checker import Checker
from leanloop.lean.replay import Replayer
from leanloop.settings import Settings

Say = Callable[[str], None]
# The same for every file: no point in going on with the next one.
_FOR_ALL = (ConfigError, LeanNotFoundError, SandboxError)


@dataclass
class Job:
    """One file of the run, read (and for `prove` parsed) before any work starts."""

    path: Path
    settings: Settings
    source: SourceFile
    doc: Any = None  # the LeanDocument, for `prove`
    targets: list[Any] = field(default_factory=list)


def project_of(path: Path) -> Path:
    """The Lake project a file belongs to (its directory when there is none)."""
    from leanloop.lean.project import find_lake_root

    real = path.resolve()
    return find_lake_root(real) or real.parent


class Backends:
    """The checker and the replayer of each project, made on first use and closed together.
    ``notes`` collects what is said once at the end of the run (the replay not set up)."""

    def __init__(self, say: Say) -> None:
        self._say = say
        self._checkers: dict[Path, Checker] = {}
        self._replayers: dict[Path, Replayer | None] = {}
        self.notes: list[str] = []

    def checker(self, job: Job) -> Checker:
        from leanloop.session import make_checker

        key = project_of(job.path)
        if key not in self._checkers:
            self._checkers[key] = make_checker(job.settings, job.path, self._say)
        return self._checkers[key]

    async def replayer(self, job: Job) -> Replayer | None:
        from leanloop.session import make_replayer

        key = project_of(job.path)
        if key not in self._replayers:
            self._replayers[key] = await make_replayer(job.settings, job.path, self._note)
        return self._replayers[key]

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    async def aclose(self) -> None:
        for checker in self._checkers.values():
            await checker.aclose()


@dataclass
class Outcome:
    """Per-file results, the files that failed, and those never reached."""

    results: list[Any] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run ended before the last file


def stops_the_run(error: LeanloopError) -> bool:
    return isinstance(error, _FOR_ALL)


def file_error(job: Job, error: LeanloopError) -> FileError:
    return FileError(file=str(job.path), error=str(error))
