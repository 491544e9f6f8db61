"""Typed Lean messages, parsed from `lean --json` output.

Formats follow the recordings in ``shared/lean-reference`` (see its README): one JSON object per
line, keys in no fixed order, ``endPos`` possibly ``null``, severity ``information`` (the REPL and
Kimina say ``info``), 1-based lines and 0-based code-point columns.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Severity(StrEnum):
    INFORMATION = "information"
    WARNING = "warning"
    ERROR = "error"


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)
    line: int
    column: int


class LeanMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    file_name: str | None = Field(default=None, alias="fileName")
    pos: Position
    end_pos: Position | None = Field(default=None, alias="endPos")
    severity: Severity
    data: str
    caption: str = ""
    kind: str | None = None
    is_silent: bool = Field(default=False, alias="isSilent")

    @field_validator("severity", mode="before")
    @classmethod
    def _info_alias(cls, v: object) -> object:
        return "information" if v == "info" else v

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def is_sorry_warning(self) -> bool:
        # The quoting changed at v4.28: 'sorry' before, `sorry` after.
        return self.severity is Severity.WARNING and self.data.strip() in SORRY_WARNINGS

    def render(self, path: str | None = None) -> str:
        where = f"{path or self.file_name or '<input>'}:{self.pos.line}:{self.pos.column}"
        return f"{where}: {self.severity.value}: {self.data}"


SORRY_WARNINGS = frozenset({"declaration uses 'sorry'", "declaration uses `sorry`"})
STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})

_AXIOMS_RE = re.compile(r"^'(?P<name>.*)' depends on axioms: \[(?P<list>.*)\]\s*$", re.DOTALL)
_NO_AXIOMS_RE = re.compile(r"^'(?P<name>.*)' does not depend on any axioms\s*$", re.DOTALL)
_NOT_BUILT_RES = (
    # Not in the recordings; the first form is quoted in public bug reports, the second is the
    # newer wording. Both mean `lake build` has to run before this file can be checked.
    re.compile(r"object file \S+ of module (?P<module>\S+) does not exist"),
    re.compile(r"unknown module prefix '(?P<module>[^']+)'"),
)


class AxiomReport(BaseModel):
    name: str
    axioms: list[str]

    @property
    def nonstandard(self) -> list[str]:
        return [a for a in self.axioms if a not in STANDARD_AXIOMS]


def parse_axioms(data: str) -> AxiomReport | None:
    """Read a `#print axioms` answer; ``None`` if ``data`` is something else."""
    text = data.strip()
    if m := _NO_AXIOMS_RE.match(text):
        return AxiomReport(name=m["name"], axioms=[])
    if m := _AXIOMS_RE.match(text):
        axioms = [a.strip() for a in m["list"].split(",") if a.strip()]
        return AxiomReport(name=m["name"], axioms=axioms)
    return None


def missing_module(messages: list[LeanMessage]) -> str | None:
    """The module whose build output is missing, when Lean says an import is not built."""
    for msg in messages:
        if not msg.is_error:
            continue
        for pattern in _NOT_BUILT_RES:
            if m := pattern.search(msg.data):
                return m["module"]
    return None


class ParsedOutput(BaseModel):
    messages: list[LeanMessage]
    junk: list[str]  # stdout lines that were not Lean messages


def parse_json_lines(stdout: str) -> ParsedOutput:
    """Parse `lean --json` stdout. Lines that are not messages are kept aside, never raised."""
    messages: list[LeanMessage] = []
    junk: list[str] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            messages.append(LeanMessage.model_validate(obj))
        except (json.JSONDecodeError, ValidationError, TypeError):
            junk.append(line)
    return ParsedOutput(messages=messages, junk=junk)


_GOAL_START = re.compile(r"^unsolved goals\s*$", re.MULTILINE)


def goals_of(msg: LeanMessage) -> str | None:
    """The goal state printed by an `unsolved goals` error, if this is one."""
    m = _GOAL_START.search(msg.data)
    if not m:
        return None
    return msg.data[m.end() :].strip("\n") or None


_TRY_THIS = re.compile(r"^Try this:\s*(?:\[apply\]\s*)?(?P<text>.+?)\s*$", re.DOTALL)


def try_this(data: str) -> str | None:
    """The suggestion of a `Try this:` message, on one line; ``None`` for anything else.

    v4.33 prints `Try this:\n  [apply] exact foo` (recorded in the REPL transcripts); older
    versions print `Try this: exact foo`. Multi-line suggestions are not used."""
    m = _TRY_THIS.match(data.strip())
    if m is None or "\n" in m["text"]:
        return None
    return m["text"]
