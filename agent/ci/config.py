"""The CI's own settings: the axiom allow-list and its per-declaration exceptions.

They live in ``[tool.leanloop.ci]`` of ``pyproject.toml`` or in ``[ci]`` of ``leanloop.toml``
(the latter wins), in the repository root or the current directory:

    [tool.leanloop.ci]
    allow-axioms = ["Lean.ofReduceBool"]        # accepted in every declaration

    [tool.leanloop.ci.exceptions]
    "Foo.bigCheck" = ["native_decide"]          # accepted in this declaration only

An exception names an axiom, or a forbidden token such as ``native_decide`` (which also covers
the axioms compiled code adds)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leanloop.errors import ConfigError


class CiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    allow_axioms: list[str] = Field(default_factory=list, alias="allow-axioms")
    exceptions: dict[str, list[str]] = Field(default_factory=dict)


def _table(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"Cannot read the CI settings in {path}: {e}.") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("leanloop", {}).get("ci")
    else:
        table = data.get("ci", data.get("leanloop", {}).get("ci"))
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"The leanloop CI settings in {path} must be a table.")
    return table


def load_ci_config(dirs: list[Path]) -> CiConfig:
    """Merge the tables found in ``dirs`` (lowest precedence first)."""
    merged: dict[str, Any] = {}
    origin = "defaults"
    for d in dirs:
        for name in ("pyproject.toml", "leanloop.toml"):
            p = d / name
            if p.is_file() and (table := _table(p)) is not None:
                merged.update({k.replace("_", "-"): v for k, v in table.items()})
                origin = str(p)
    try:
        return CiConfig.model_validate(merged)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "ci"
        raise ConfigError(f"Bad CI setting `{where}` in {origin}: {first['msg']}.") from None
