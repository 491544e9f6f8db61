"""The environment every Lean, Lake and REPL process gets: an allow-list, never a copy.

Lean runs code while it elaborates, and the code comes from a model. Whatever that code can read
may end up in a message, and messages go to the model provider, reports and CI logs. So a child
gets only the variables Lean, Lake and elan need, never leanloop's whole environment (where the
endpoint key, `GITHUB_TOKEN` and cloud credentials live)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping

# What the toolchain itself reads (Lake's source, leanprover/lean4 `src/lake/`):
# - `Lake/Config/Env.lean` (`Env.compute`): `ELAN_TOOLCHAIN`, `LEAN_PATH`, `LEAN_SRC_PATH`,
#   `PATH`, the shared-library path (`sharedLibPathEnvVar` in `Lake/Util/NativeLib.lean`:
#   `LD_LIBRARY_PATH` on Linux, `DYLD_LIBRARY_PATH` on macOS), `LEAN_GITHASH`,
#   `LAKE_NO_CACHE`, `LAKE_CACHE_DIR`, `LAKE_PKG_URL_MAP`, and for the cache location
#   `XDG_CACHE_HOME`, else `HOME` (`getSystemCacheHome?`).
# - `Lake/Config/InstallPath.lean` (`findInstall?`): `ELAN_HOME`, `LEAN_SYSROOT`, `LAKE_HOME`,
#   `LEAN_AR`, `LEAN_CC`.
# - `lake env` then runs its command with `Workspace.augmentedEnvVars`: it computes `LEAN_PATH`,
#   `LEAN_SRC_PATH`, `PATH` and the shared-library path itself from the ones above plus the
#   workspace, and sets `ELAN`, `ELAN_HOME`, `ELAN_TOOLCHAIN`, `LAKE`, `LAKE_HOME`, `LEAN`,
#   `LEAN_SYSROOT`, ... So nothing beyond this list has to come in from outside.
# elan's proxies (`~/.elan/bin/lean`) find their home from `ELAN_HOME` or `HOME` and the
# toolchain from `ELAN_TOOLCHAIN` or the project's `lean-toolchain` file.
BUILTIN_NAMES: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "TMPDIR",
    "ELAN",
    "ELAN_HOME",
    "ELAN_TOOLCHAIN",
    "XDG_CACHE_HOME",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
)
BUILTIN_PATTERNS: tuple[str, ...] = ("LC_*", "LEAN_*", "LAKE_*")

# A name with one of these in it is treated as a secret: a pattern (built-in or the user's)
# never lets it through; only an exact name in `env_allow` does.
SECRET_MARKERS: tuple[str, ...] = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def _is_pattern(entry: str) -> bool:
    return any(c in entry for c in "*?[")


def child_environment(
    source: Mapping[str, str],
    *,
    extra: Iterable[str] = (),
    never: Iterable[str] = (),
) -> dict[str, str]:
    """The variables of ``source`` that a Lean/Lake/REPL child may see.

    ``extra`` are names (or ``fnmatch`` patterns) the user added (`env_allow`); ``never`` are
    names that pass under no circumstances (the endpoint key's variable)."""
    extra = [e for e in (x.strip() for x in extra) if e]
    exact = set(BUILTIN_NAMES) | {e for e in extra if not _is_pattern(e)}
    patterns = [*BUILTIN_PATTERNS, *(e for e in extra if _is_pattern(e))]
    banned = {n for n in never if n}
    out: dict[str, str] = {}
    for name, value in source.items():
        if name in banned:
            continue
        if name in exact or (
            not looks_secret(name) and any(fnmatch.fnmatchcase(name, p) for p in patterns)
        ):
            out[name] = value
    return out


def lean_environment(
    env_allow: Iterable[str] = (),
    api_key_env: str | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child environment from leanloop's own (``source``, default ``os.environ``) for the
    settings ``env_allow`` and ``api_key_env``."""
    return child_environment(
        os.environ if source is None else source,
        extra=env_allow,
        never=[api_key_env] if api_key_env else [],
    )
