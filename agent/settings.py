"""One settings object, layered: command-line flags, then `LEANLOOP_*` environment variables,
then a `leanloop.toml` or a `[tool.leanloop]` table in `pyproject.toml` (the Lean project's, then
the current directory's)."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leanloop.errors import ConfigError

BUILTIN_MODEL = "builtin:automation"


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")
    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    model: str = "labs-leanstral-2603"
    base_url: str = "https://api.mistral.ai/v1"
    api_key_env: str = "MISTRAL_API_KEY"
    reasoning_effort: Literal["none", "high"] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    # Seconds a model request may deliver nothing (a stall) before it is retried once.
    request_timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)

    samples: int = Field(default=4, ge=1, le=1024)
    rounds: int = Field(default=3, ge=1, le=100)
    concurrency: int = Field(default=4, ge=1, le=256)

    lean_cmd: str | None = None
    # `cli` runs `lean --json` per check; `repl` keeps warm REPL processes per import header.
    backend: Literal["cli", "repl"] = "cli"
    repl_cmd: str = "lake exe repl"
    repl_max_uses: int = Field(default=64, ge=1)
    # Loading a header's imports (`import Mathlib`) can take minutes on a cold cache.
    repl_header_timeout: float = Field(default=600.0, gt=0)
    timeout: float = Field(default=300.0, gt=0)
    lean_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    max_heartbeats: int | None = Field(default=None, ge=0)
    memory_mb: int = Field(default=8192, ge=256)
    sandbox: Literal["required", "auto", "off"] = "auto"
    # Extra environment variable names passed to Lean and Lake, beyond the built-in allow-list
    # (for example a proxy for an uncaged `lake build`).
    env_allow: list[str] = Field(default_factory=list)
    # The independent replay (SafeVerify) on the final file: used when found, demanded, or not.
    replay: Literal["auto", "required", "off"] = "auto"
    replay_cmd: str = "lake exe safe_verify"
    # Start every sample at once rather than one more only after the running ones failed a round.
    eager: bool = False
    allow_native_decide: bool = False
    # Gate policy: tokens to allow (remove from the default forbidden list) or to forbid too.
    allow: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)

    # `--mode agent`: the model calls leanloop's tools (check, goals, try_tactic, search,
    # submit_proof) between its answers; the budgets bound an attempt's tool turns, and rounds
    # count only the turns answered in text.
    mode: Literal["default", "agent"] = "default"
    max_tool_calls: int = Field(default=24, ge=1, le=1000)
    tool_timeout: float = Field(default=300.0, gt=0)  # seconds per tool call
    token_budget: int | None = Field(default=None, gt=0)  # prompt + completion tokens
    # `--premises N`: the top N declarations of the local premise index for a target go
    # into its first prompt (0: none).
    premises: int = Field(default=0, ge=0, le=50)
    context_chars: int = Field(default=6000, ge=200)
    feedback_chars: int = Field(default=4000, ge=200)
    prompts_dir: Path | None = None
    prices: dict[str, Price] = Field(default_factory=dict)


FIELDS = tuple(Settings.model_fields)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read settings from {path}: {e}.") from e
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("leanloop", {})
    else:
        table = data.get("leanloop", data)
    if not isinstance(table, dict):
        raise ConfigError(f"The leanloop settings in {path} must be a table.")
    # `[tool.leanloop.ci]` belongs to `leanloop ci` (see leanloop.ci.config), not to Settings.
    table = {k: v for k, v in table.items() if k != "ci"}
    return {k.replace("-", "_"): v for k, v in table.items()}


def config_files(dirs: list[Path]) -> list[Path]:
    """Settings files in the given directories, lowest precedence first."""
    found: list[Path] = []
    for d in dirs:
        for name in ("pyproject.toml", "leanloop.toml"):
            p = d / name
            if p.is_file() and p not in found and (name != "pyproject.toml" or _has_table(p)):
                found.append(p)
    return found


def _has_table(path: Path) -> bool:
    try:
        return "leanloop" in tomllib.loads(path.read_text("utf-8")).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        raw = env.get(f"LEANLOOP_{name.upper()}")
        if raw is None or raw == "":
            continue
        if name in ("allow", "forbid", "env_allow"):
            out[name] = [t for t in raw.replace(",", " ").split() if t]
        elif name == "prices":
            try:
                out[name] = json.loads(raw)
            except json.JSONDecodeError as e:
                raise ConfigError(f"LEANLOOP_PRICES must be JSON ({e.msg}).") from e
        else:
            out[name] = raw
    return out


def load_settings(
    flags: Mapping[str, Any],
    search_dirs: list[Path],
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers and validate; every bad value is named with where it came from.

    ``search_dirs`` go from lowest to highest precedence (e.g. the current directory, then the
    Lean project root)."""
    env = os.environ if env is None else env
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in config_files(search_dirs):
        for k, v in _read_toml(path).items():
            merged[k] = v
            origin[k] = str(path)
    for k, v in _env_layer(env).items():
        merged[k] = v
        origin[k] = f"LEANLOOP_{k.upper()}"
    for k, v in flags.items():
        if v is not None:
            merged[k] = v
            origin[k] = "--" + k.replace("_", "-")
    try:
        return Settings.model_validate(merged)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = str(err["loc"][0]) if err["loc"] else "settings"
            where = origin.get(key, "defaults")
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown setting `{key}` (from {where})")
            else:
                problems.append(f"bad value for `{key}` (from {where}): {err['msg']}")
        raise ConfigError("Invalid settings: " + "; ".join(problems) + ".") from None
