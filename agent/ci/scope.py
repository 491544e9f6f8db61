"""Which files `leanloop ci` checks, read from git with gitpython.

With a base, the `.lean` files changed between the merge base and ``HEAD`` (renames followed, so
a moved file is compared with its old self); without one, every Lean file of the repository
except build output."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from leanloop.errors import UsageError
from leanloop.inputs import EXCLUDED_DIRS

if TYPE_CHECKING:
    from git import Repo


@dataclass(frozen=True)
class FileScope:
    path: str  # repository-relative, POSIX separators
    base_path: str | None  # the same file at the merge base (differs after a rename)
    change: str  # "added", "modified", "renamed" or "unchanged" (no base given)


@dataclass(frozen=True)
class Scope:
    root: Path
    head_sha: str
    branch: str | None  # None when HEAD is detached (as in a pull-request checkout)
    base_ref: str | None
    base_sha: str | None  # the merge base
    files: list[FileScope]
    whole_repo: bool


def open_repo(path: Path) -> Repo:
    """The git repository at or above ``path``; one clear sentence when there is none."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    if not path.exists():
        raise UsageError(f"No such directory: {path}.")
    try:
        repo = Repo(path, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise UsageError(
            f"{path} is not inside a git repository; `leanloop ci` reads the changes from git."
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise UsageError(f"{path} is a bare git repository; `leanloop ci` needs a working tree.")
    try:
        repo.head.commit  # noqa: B018 - raises on a repository without commits
    except ValueError:
        raise UsageError(
            f"The git repository at {repo.working_tree_dir} has no commits yet."
        ) from None
    return repo


def _is_shallow(repo: Repo) -> bool:
    return (Path(repo.git_dir) / "shallow").exists()


def _resolve_base(repo: Repo, base: str) -> Any:
    from git import GitCommandError

    if not base.startswith("-"):
        try:
            # git's own revision syntax (origin/main, HEAD~3, @{upstream}, a tag, a sha).
            sha = repo.git.rev_parse("--verify", "--quiet", f"{base}^{{commit}}")
            return repo.commit(sha.strip())
        except (GitCommandError, ValueError):
            pass
    if _is_shallow(repo):
        raise UsageError(
            f"--base {base}: not found in this shallow clone; fetch it first, e.g. "
            f"`git fetch --depth=1 origin {base.removeprefix('origin/')}` (or use "
            "`fetch-depth: 0` in actions/checkout)."
        ) from None
    raise UsageError(
        f"--base {base}: no such branch, tag or commit in this repository (for a remote branch, "
        f"run `git fetch` first and pass it as origin/NAME)."
    ) from None


def _merge_base(repo: Repo, base: str, base_commit: Any) -> Any:
    from git import GitCommandError

    try:
        found = repo.merge_base(base_commit, repo.head.commit)
    except GitCommandError:
        found = []
    if found:
        return found[0]
    if _is_shallow(repo):
        raise UsageError(
            f"This shallow clone does not contain the merge base of {base} and HEAD; fetch more "
            "history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)."
        )
    raise UsageError(f"{base} and HEAD have no common ancestor, so there is nothing to compare.")


def _wanted(path: str, globs: list[str]) -> bool:
    parts = PurePosixPath(path).parts
    if not path.endswith(".lean") or any(p in EXCLUDED_DIRS for p in parts[:-1]):
        return False
    if parts[-1] == "lakefile.lean":
        return False  # Lake's configuration, not a module of the library
    # fnmatch's `*` also crosses `/`, so `Demo/*.lean` takes the whole Demo tree.
    return not globs or any(fnmatch.fnmatchcase(path, g) for g in globs)


def collect(path: Path, base: str | None, globs: list[str]) -> Scope:
    from git import GitCommandNotFound

    try:
        return _collect(path, base, globs)
    except GitCommandNotFound:
        raise UsageError("`git` is not on PATH; leanloop ci reads the changes with it.") from None


def _collect(path: Path, base: str | None, globs: list[str]) -> Scope:
    repo = open_repo(path)
    root = Path(str(repo.working_tree_dir)).resolve()
    head = repo.head.commit
    branch = None if repo.head.is_detached else repo.active_branch.name
    if base is None:
        listed = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard")
        names = sorted({n for n in listed.split("\0") if n})
        files = [
            FileScope(n, n, "unchanged")
            for n in names
            if _wanted(n, globs) and (root / n).is_file()
        ]
        return Scope(root, head.hexsha, branch, None, None, files, whole_repo=True)
    merge_base = _merge_base(repo, base, _resolve_base(repo, base))
    files = []
    for d in merge_base.diff(head):  # gitpython asks git for rename detection (-M)
        change = d.change_type
        if change == "D" or d.b_path is None:
            continue
        new = str(d.b_path)
        if not _wanted(new, globs) or not (root / new).is_file():
            continue
        if change == "A" or d.a_path is None:
            files.append(FileScope(new, None, "added"))
        elif change == "R":
            files.append(FileScope(new, str(d.a_path), "renamed"))
        else:
            files.append(FileScope(new, str(d.a_path), "modified"))
    files.sort(key=lambda f: f.path)
    return Scope(root, head.hexsha, branch, base, merge_base.hexsha, files, whole_repo=False)


def read_base(root: Path, sha: str, path: str) -> str | None:
    """The text of ``path`` at commit ``sha``; ``None`` if it is not there or not UTF-8."""
    from git import Repo

    repo = Repo(root)
    try:
        blob = repo.commit(sha).tree / path
        data: bytes = blob.data_stream.read()
    except KeyError:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.removeprefix("\ufeff")
