"""Helpers for the `leanloop ci` tests: real git repositories built with gitpython.

(Not a conftest.py: the top-level tests import ``conftest`` by name, so a second one would
shadow it.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# Lean children get an allow-listed environment (issue 14); the doubles' scenario and log
# variables have to be let through explicitly.
DOUBLE_ENV = "FAKE_LEAN_SCENARIO,FAKE_LEAN_LOG,FAKE_SAFE_VERIFY_*"


class GitRepo:
    """A repository with a `main` branch; ``commit`` writes files and commits them."""

    def __init__(self, root: Path) -> None:
        from git import Actor, Repo

        self.root = root
        self.repo = Repo.init(root, initial_branch="main")
        self._actor = Actor("Test", "test@example.com")
        with self.repo.config_writer() as cw:
            cw.set_value("user", "name", "Test")
            cw.set_value("user", "email", "test@example.com")

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")

    def commit(self, files: dict[str, str | bytes] | None = None, message: str = "change") -> str:
        self.write(files or {})
        self.repo.git.add(A=True)
        c = self.repo.index.commit(message, author=self._actor, committer=self._actor)
        return str(c.hexsha)

    def branch(self, name: str) -> None:
        self.repo.git.checkout("-b", name)

    def move(self, old: str, new: str) -> None:
        self.repo.index.move([old, new])


def repo_factory(tmp_path: Path) -> Callable[..., GitRepo]:
    def make(name: str = "proj") -> GitRepo:
        root = tmp_path / name
        root.mkdir()
        return GitRepo(root)

    return make
