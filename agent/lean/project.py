"""Finding the Lake project, its toolchain, and the command that checks one file."""

from __future__ import annotations

import re
import shlex
import shutil
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from leanloop.errors import ConfigError, LeanNotFoundError
from leanloop.lean.lakefile import lake_lean_args
from leanloop.source.scanner import TokenKind, UnterminatedError, code_tokens

LAKEFILES = ("lakefile.lean", "lakefile.toml")


def find_lake_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a lakefile."""
    here = start if start.is_dir() else start.parent
    for d in (here, *here.parents):
        if any((d / name).is_file() for name in LAKEFILES):
            return d
    return None


class LeanCommand(BaseModel):
    """How to run Lean on one file: ``argv + lean_options + [file]`` in ``cwd``."""

    argv: list[str]
    cwd: Path
    project_root: Path | None
    # The lakefile's `leanOptions` / `moreLeanArgs` / `weakLeanArgs` as Lake passes them, which
    # `lake env lean` alone does not apply (see lakefile.py).
    lean_options: list[str] = Field(default_factory=list)
    # One sentence per lakefile setting that could not be read with certainty, for the caller
    # to show: the check may then differ from `lake build`.
    warnings: list[str] = Field(default_factory=list)

    def for_file(self, file: Path, options: list[str] | None = None) -> list[str]:
        """The command line for ``file``. The lakefile's options, then ``options`` (such as
        `-DmaxHeartbeats=N`), go just before the file, so that for a repeated `-D` the caller's
        comes last and wins (Lean sets options left to right; recalled, not re-read in its
        source)."""
        options = [*self.lean_options, *(options or [])]
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
    lake = None
    if override:
        try:
            argv = shlex.split(override)
        except ValueError as e:
            raise ConfigError(f"--lean-cmd is not a valid command line ({e}).") from e
        if not argv:
            raise ConfigError("--lean-cmd is empty.")
    elif root is not None:
        argv = ["lake", "env", "lean", "--json"]
        lake = lake_lean_args(root, file)
    else:
        argv = ["lean", "--json"]
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        hint = (
            "install Lean with elan (https://github.com/leanprover/elan) and make sure "
            f"`{argv[0]}` is on PATH, or pass --lean-cmd"
        )
        raise LeanNotFoundError(f"Lean was not found: `{argv[0]}` is not on PATH; {hint}.")
    return LeanCommand(
        argv=argv,
        cwd=cwd,
        project_root=root,
        lean_options=lake.args if lake else [],
        warnings=lake.warnings if lake else [],
    )


class ToolchainVersion(BaseModel):
    """A Lean toolchain from `lean-toolchain`: a release (``v4.25.0``, ``v4.25.0-rc1``) or a
    nightly (``nightly-2025-06-01``). Releases compare with releases, nightlies by date."""

    model_config = ConfigDict(frozen=True)

    text: str
    release: tuple[int, int, int] | None = None
    rc: int | None = None  # ``-rcN``; a final release sorts after all its candidates
    nightly: date | None = None

    @property
    def release_key(self) -> tuple[int, int, int, int] | None:
        if self.release is None:
            return None
        return (*self.release, self.rc if self.rc is not None else 1_000_000)

    def __str__(self) -> str:
        return self.text


_RELEASE_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?")
_NIGHTLY_RE = re.compile(r"nightly-(\d{4})-(\d{2})-(\d{2})")


def parse_toolchain(text: str) -> ToolchainVersion | None:
    """Read a `lean-toolchain` line (``leanprover/lean4:v4.25.0``, ``v4.25.0-rc1``,
    ``leanprover/lean4-nightly:nightly-2025-06-01`` …). Channels such as ``stable`` and PR
    builds name no fixed version: ``None``."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    name = line.rsplit(":", 1)[-1]
    if m := _RELEASE_RE.fullmatch(name):
        major, minor, patch, rc = m.groups()
        return ToolchainVersion(
            text=name,
            release=(int(major), int(minor), int(patch)),
            rc=int(rc) if rc is not None else None,
        )
    if m := _NIGHTLY_RE.fullmatch(name):
        try:
            return ToolchainVersion(text=name, nightly=date(*(int(g) for g in m.groups())))
        except ValueError:
            return None
    return None


def toolchain_version(start: Path) -> ToolchainVersion | None:
    """The toolchain named by the nearest `lean-toolchain` at or above ``start`` (where elan
    looks), or ``None`` when there is none or it names no fixed version."""
    here = start if start.is_dir() else start.parent
    for d in (here, *here.parents):
        f = d / "lean-toolchain"
        if f.is_file():
            try:
                return parse_toolchain(f.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                return None
    return None


# `#print axioms` is refused inside a `module` file from lean4 PR #8174 ("chore: disable
# `#print axioms` under the module system", merged 2025-04-30) until PR #13117 ("feat: support
# `#print axioms` under the module system", opened 2026-03-25), i.e. releases v4.20 to v4.29,
# as the issue says. The nightly window is from those PR dates; its end is a guess (the merge
# date of #13117 was not found), and no recording shows the error itself.
_MODULE_AXIOMS_RELEASES = ((4, 20, 0, 0), (4, 30, 0, 0))
_MODULE_AXIOMS_NIGHTLIES = (date(2025, 5, 1), date(2026, 3, 31))


def _module_axioms_broken(version: ToolchainVersion) -> bool:
    if (key := version.release_key) is not None:
        lo, hi = _MODULE_AXIOMS_RELEASES
        return lo <= key < hi
    if version.nightly is not None:
        first, last = _MODULE_AXIOMS_NIGHTLIES
        return first <= version.nightly <= last
    return False


def starts_with_module(text: str) -> bool:
    """Whether the file's first command (after comments and blank space) is `module`."""
    try:
        tokens = code_tokens(text)
    except UnterminatedError:
        return False  # then Lean sees no `module` header either: the file is one comment
    return bool(tokens) and tokens[0].kind is TokenKind.IDENT and tokens[0].text == "module"


def module_gate_problem(text: str, version: ToolchainVersion | None) -> str | None:
    """One sentence when ``text`` is a `module` file that cannot be gated on ``version``:
    there, `#print axioms` is an error, so no proof's axioms can be checked. ``None`` when it
    can be gated, or when the version is unknown (Lean's own error then shows)."""
    if version is None or not starts_with_module(text) or not _module_axioms_broken(version):
        return None
    return (
        f"This file starts with `module`, and on Lean {version} (as on every Lean from v4.20 "
        "to v4.29) `#print axioms` is an error inside a module, so leanloop cannot check which "
        "axioms a proof uses; use Lean v4.30 or later, or a file without `module`."
    )
