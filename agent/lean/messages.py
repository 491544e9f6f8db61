"""The one place that reads what Lean prints: `lean --json` lines, the REPL's messages, `lake
build` logs, `#print axioms` answers, not-built errors, `lean --version`, and the runtime's
`uncaught exception:` lines.

Formats follow the recordings in ``shared/lean-reference`` (see its README): one JSON object per
line, keys in no fixed order, ``endPos`` possibly ``null``, severity ``information`` (the REPL and
Kimina say ``info``), 1-based lines and 0-based code-point columns.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any, Literal

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
# Lean's own wording, from its source (no recording has these):
# * `findOLeanParts` in src/Lean/Environment.lean (leanprover/lean4 8f02e4d7) throws
#   s!"object file '{mFile}' of module {mod} does not exist"; the path is quoted and may hold
#   spaces. Older toolchains printed it unquoted, and the doubles still use that form.
# * `findOLean` in the same file throws s!"unknown module prefix '{pkg}'\n\nNo directory …".
# * `lean_read_module_data` in src/library/module.cpp (leanprover/lean4 00638b0c) returns
#   "failed to read file '<path>', invalid header" when the file does not start with the
#   `.olean` marker and "…, incompatible header" when its version, flags or githash differ:
#   files written by another Lean toolchain (or damaged ones).
# An import that fails is logged as one error at the header (`processHeader`), so each of these
# arrives as an ordinary error message.
_MISSING_RES = (
    re.compile(r"object file '(?P<path>[^\n]*)' of module (?P<module>\S+) does not exist"),
    re.compile(r"object file (?P<path>\S+) of module (?P<module>\S+) does not exist"),
    re.compile(r"unknown module prefix '(?P<module>[^'\n]+)'"),
)
_STALE_RE = re.compile(r"failed to read file '(?P<path>[^\n]*)', (?:invalid|incompatible) header")
# Lake puts a module's build output under `…/lib/lean/<A>/<B>.olean` (older Lake: `…/lib/`).
_OLEAN_DIRS = (re.compile(r".*[/\\]lib[/\\]lean[/\\]"), re.compile(r".*[/\\]lib[/\\]"))
_OLEAN_EXT = re.compile(r"\.(?:olean(?:\.server|\.private)?|ilean|ir)$")


class NotBuilt(BaseModel):
    """Lean could not load an import: its build output is missing (``missing``) or was written by
    another toolchain or is damaged (``stale``). Either way `lake build` has to run first."""

    kind: Literal["missing", "stale"]
    module: str | None = None
    path: str | None = None

    @property
    def label(self) -> str:
        """The module's name when known, else the file Lean could not read."""
        return self.module or self.path or "an imported module"

    def describe(self) -> str:
        if self.kind == "missing":
            return (
                f"The imported module {self.label} is not built; run `lake build` in the "
                "project first."
            )
        what = f"{self.module} ({self.path})" if self.module and self.path else self.label
        return (
            f"The build output of {what} was made by another Lean toolchain or is damaged; "
            "run `lake build` in the project to rebuild it."
        )


def _module_of_olean(path: str) -> str | None:
    ext = _OLEAN_EXT.search(path)
    if ext is None:
        return None
    for prefix in _OLEAN_DIRS:  # the last `lib/lean/` (else `lib/`) in the path
        if m := prefix.match(path):
            parts = re.split(r"[/\\]", path[m.end() : ext.start()])
            return ".".join(parts) if all(parts) else None
    return None


def not_built(messages: list[LeanMessage]) -> NotBuilt | None:
    """Why an import could not be loaded, when an error says so; ``None`` otherwise."""
    for msg in messages:
        if msg.is_error and (found := import_problem(msg.data)) is not None:
            return found
    return None


# `reportMessages` in src/Lean/Language/Basic.lean (lean4 PR #10262, Sept. 2025): once the
# errors of one `lean` run pass `maxErrors` (default 100), the next error is printed in its place
# with this text, as an ordinary message (a JSON line under `--json`) at that error's position,
# and the process exits with code 1. Read from Lean's source; no recording has it. The bare
# line form is accepted too, in case a wrapper prints it outside the JSON.
_MAX_ERRORS_RE = re.compile(
    r"^maximum number of errors \((?P<n>\d+)(?:; from option `maxErrors`)?\) reached, exiting\s*$"
)


def max_errors_limit(data: str) -> int | None:
    """The limit named by Lean's `maxErrors` message, or ``None`` for any other text."""
    m = _MAX_ERRORS_RE.match(data.strip())
    return int(m["n"]) if m else None


def max_errors_reached(messages: list[LeanMessage]) -> int | None:
    """The `maxErrors` limit, when Lean stopped because too many errors were reported."""
    for msg in messages:
        if msg.is_error and (n := max_errors_limit(msg.data)) is not None:
            return n
    return None


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
    """The module (or, failing that, the file) Lean could not load because it is not built, or
    was built by another toolchain; ``None`` when no error says so. See `not_built`."""
    found = not_built(messages)
    return None if found is None else found.label


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


# ---------------------------------------------------------------------------------------------
# The REPL (leanprover-community/repl): messages arrive as JSON objects inside its answer, with
# positions relative to the command that was sent (``shared/lean-reference/repl/PROTOCOL.md``).


def repl_answer(text: str) -> dict[str, Any]:
    """One REPL answer (pretty-printed JSON); ValueError when it is not a JSON object."""
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the REPL answered with something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ValueError("the REPL answered with something that is not a JSON object")
    return answer


def repl_message(message: object, lines: int = 0, first_col: int = 0) -> LeanMessage | None:
    """A message of a REPL answer, moved ``lines`` down (and on the command's first line
    ``first_col`` to the right) to where it is in the file; ``None`` if it is not a message."""
    try:
        msg = LeanMessage.model_validate(message)
    except ValidationError:
        return None

    def move(p: Position | None) -> Position | None:
        if p is None:
            return None
        col = p.column + first_col if p.line == 1 else p.column
        return Position(line=p.line + lines, column=col)

    return msg.model_copy(update={"pos": move(msg.pos), "end_pos": move(msg.end_pos)})


class ReplSorry(BaseModel):
    """A `sorry` the REPL reported: its place in the checked text and its goal."""

    line: int  # 1-based, in the file the command was cut from
    column: int
    goal: str
    proof_state: int | None  # the REPL's own id, valid in the process that answered


def repl_sorries(answer: dict[str, Any], lines: int = 0, first_col: int = 0) -> list[ReplSorry]:
    """The `sorries` of a command's answer, moved as :func:`repl_message` moves messages;
    entries without a position are skipped."""
    out = []
    for raw in answer.get("sorries", []):
        if not isinstance(raw, dict) or not isinstance(raw.get("pos"), dict):
            continue
        at = repl_message(
            {"pos": raw["pos"], "severity": "information", "data": ""}, lines, first_col
        )
        state = raw.get("proofState")
        out.append(
            ReplSorry(
                line=at.pos.line if at else 0,
                column=at.pos.column if at else 0,
                goal=str(raw.get("goal", "")),
                proof_state=state if isinstance(state, int) else None,
            )
        )
    return out


class ReplTactic(BaseModel):
    """The REPL's answer to `{"tactic": …, "proofState": n}` (recorded in
    shared/lean-reference/repl: `proof_step`, `proof_branching`, `invalid_tactic`,
    `unknown_tactic`)."""

    proof_state: int | None = None
    goals: list[str] = []
    messages: list[LeanMessage] = []
    proof_status: str | None = None  # absent before REPL toolchain v4.19
    error: str | None = None  # `{"message": …}`: the tactic threw, or the state is unknown


def repl_tactic(answer: dict[str, Any]) -> ReplTactic:
    """A tactic-mode answer; one without a `proofState` is the REPL's error message."""
    if "proofState" not in answer:
        return ReplTactic(error=str(answer.get("message", answer)))
    goals = answer.get("goals", [])
    status = answer.get("proofStatus")
    state = answer.get("proofState")
    return ReplTactic(
        proof_state=state if isinstance(state, int) else None,
        goals=[str(g) for g in goals] if isinstance(goals, list) else [],
        messages=[m for m in (repl_message(x) for x in answer.get("messages", [])) if m],
        proof_status=status if isinstance(status, str) else None,
    )


# ---------------------------------------------------------------------------------------------
# `lean --version`: `Lean.versionHeader` in src/Lean/Shell.lean (leanprover/lean4 058ac19),
# "Lean (version {shortVersionString}, {target}, commit {githash}, {buildType})", where the short
# version is `4.22.0`, `4.23.0-rc2` or `4.23.0-nightly-2025-08-01` (`-pre` for an unreleased
# build); the older C++ shell printed the same opening. Read from Lean's source; no recording.

_LEAN_VERSION_LINE = re.compile(r"^Lean \(version (?P<v>[^,\s)]+)")


def version_header(output: str) -> str | None:
    """The `Lean (version …)` line of `lean --version` output, or ``None`` for other text."""
    for line in output.splitlines():
        if _LEAN_VERSION_LINE.match(line.strip()):
            return line.strip()
    return None


def lean_version(output: str) -> str | None:
    """The version in `lean --version` output (`4.22.0`), or ``None`` for other text."""
    header = version_header(output)
    m = _LEAN_VERSION_LINE.match(header) if header is not None else None
    return m["v"] if m else None


# ---------------------------------------------------------------------------------------------
# A Lean program's `main` that throws: the runtime prints `uncaught exception: <message>` on
# stderr and exits 1. SafeVerify ends a failure this way (`throw (IO.userError …)` in its
# Main.lean), and its kernel and import errors arrive as such lines. Not recorded here.

_UNCAUGHT = "uncaught exception: "


def uncaught_exceptions(lines: list[str]) -> list[str]:
    """The messages of the `uncaught exception:` lines among ``lines``."""
    return [ln.strip()[len(_UNCAUGHT) :] for ln in lines if ln.strip().startswith(_UNCAUGHT)]


def strip_uncaught(line: str) -> str:
    """``line`` without the runtime's `uncaught exception: ` prefix."""
    text = line.strip()
    return text[len(_UNCAUGHT) :] if text.startswith(_UNCAUGHT) else text


class KernelError(BaseModel):
    """The kernel refused a declaration; ``declaration`` when the text names it."""

    declaration: str | None = None


# The kernel's refusals as a replay prints them: a `KernelException` is shown behind the prefix
# `(kernel) ` (often naming the declaration in quotes), and `Environment.replay` (Lean's
# src/Lean/Replay.lean, which lean4checker and SafeVerify call) throws "No such constructor X",
# "Invalid constructor X", "No such recursor X", … . Taken from SafeVerify's and lean4checker's
# sources; no run of either is recorded here.
_KERNEL = (
    re.compile(r"\(kernel\) [^']*(?:'(?P<name>[^']+)')?"),
    re.compile(r"(?:Invalid|No such) (?:constructor|recursor) (?P<name>\S+)"),
)


def kernel_error(line: str) -> KernelError | None:
    """The kernel's refusal in one line of a replay's output, or ``None``."""
    for pattern in _KERNEL:
        if m := pattern.search(line):
            return KernelError(declaration=m.groupdict().get("name"))
    return None


def import_problem(text: str) -> NotBuilt | None:
    """Whether ``text`` (any Lean output, not only a message) says a module or `.olean` could
    not be loaded: missing, or written by another toolchain. See `not_built`."""
    for pattern in _MISSING_RES:
        if m := pattern.search(text):
            return NotBuilt(kind="missing", module=m["module"], path=m.groupdict().get("path"))
    if m := _STALE_RE.search(text):
        return NotBuilt(kind="stale", module=_module_of_olean(m["path"]), path=m["path"])
    return None


# ---------------------------------------------------------------------------------------------
# `lake build` logs, read into Lean messages. The format follows the recordings in
# ``shared/lean-reference/lake`` (see its README):
#
#     ✔ [i/N] Built Module            built, no messages
#     ⚠ [i/N] Built Module            built, messages follow
#     ✖ [i/N] Building Module         failed, messages follow
#     trace: .> LEAN_PATH=… lean … --json
#     error: FILE:LINE:COL: text      also `warning:` and `info:`; text goes on in unprefixed lines
#     error: Lean exited with code 1  (134 for a crash)
#     info: stdout: / info: stderr:   raw output Lake could not read, up to the next prefixed line
#     Some required builds logged failures:
#     - Module
#     Build completed successfully.
#
# No end positions appear in those Lake versions; columns are 0-based code points as everywhere
# in Lean.

_MESSAGE = re.compile(
    r"^(?P<sev>error|warning|info): (?P<file>.+?\.lean):(?P<line>\d+):(?P<col>\d+): (?P<text>.*)$"
)
_STEP = re.compile(
    r"^(?P<mark>[✔⚠✖]) \[(?P<i>\d+)/(?P<n>\d+)\] (?P<what>Built|Building) (?P<mod>.+)$"
)
_EXITED = re.compile(r"^error: Lean exited with code (?P<code>\d+)\s*$")
_RAW = re.compile(r"^info: (?P<stream>stdout|stderr):\s*$")
_OTHER_PREFIX = re.compile(r"^(?:error|warning|info|trace):")
_FAILURES_HEADER = "Some required builds logged failures:"
_SUCCESS = "Build completed successfully."
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFORMATION}


class BuildLog(BaseModel):
    messages: list[LeanMessage]
    failed_modules: list[str]  # from "Some required builds logged failures:" and ✖ lines
    exit_codes: list[int]  # from "error: Lean exited with code N"
    other_errors: list[str]  # `error:` lines that are not about a position (e.g. Lake's own)
    succeeded: bool  # "Build completed successfully." was printed


def clean_path(name: str) -> str:
    """Lake passes `././././Demo/Alg.lean`; the file is `Demo/Alg.lean`."""
    while name.startswith("./"):
        name = name[2:]
    return name


def parse_lake_log(text: str) -> BuildLog:
    """Read a `lake build` log; unknown lines are skipped, never raised on."""
    messages: list[LeanMessage] = []
    failed: list[str] = []
    codes: list[int] = []
    other: list[str] = []
    succeeded = False
    current: dict[str, object] | None = None
    body: list[str] = []
    in_failures = False
    in_raw = False

    def flush() -> None:
        nonlocal current, body
        if current is not None:
            # A message's text ends with a newline in Lean's plain output; continuation lines
            # are part of the text, trailing blank lines are not.
            while body and not body[-1].strip():
                body.pop()
            data = "\n".join([str(current["first"]), *body])
            messages.append(
                LeanMessage(
                    fileName=str(current["file"]),
                    pos=Position(line=int(str(current["line"])), column=int(str(current["col"]))),
                    severity=_SEVERITY[str(current["sev"])],
                    data=data,
                )
            )
        current = None
        body = []

    for raw_line in text.splitlines():
        line = raw_line.rstrip("\r")
        if m := _MESSAGE.match(line):
            flush()
            in_failures = in_raw = False
            current = {
                "sev": m["sev"],
                "file": clean_path(m["file"]),
                "line": m["line"],
                "col": m["col"],
                "first": m["text"],
            }
            continue
        if m := _STEP.match(line):
            flush()
            in_failures = in_raw = False
            if m["mark"] == "✖" and m["mod"] not in failed:
                failed.append(m["mod"].strip())
            continue
        if m := _EXITED.match(line):
            flush()
            in_raw = False
            codes.append(int(m["code"]))
            continue
        if _RAW.match(line):
            flush()
            in_raw = True
            continue
        if line == _FAILURES_HEADER:
            flush()
            in_failures, in_raw = True, False
            continue
        if line.strip() == _SUCCESS:
            flush()
            succeeded = True
            continue
        if in_failures and line.startswith("- "):
            mod = line[2:].strip()
            if mod not in failed:
                failed.append(mod)
            continue
        if _OTHER_PREFIX.match(line):
            flush()
            in_failures = in_raw = False
            if line.startswith("error:"):
                other.append(line[len("error:") :].strip())
            continue
        if in_raw or in_failures:
            continue
        if current is not None:
            body.append(line)
    flush()
    return BuildLog(
        messages=messages,
        failed_modules=failed,
        exit_codes=codes,
        other_errors=other,
        succeeded=succeeded,
    )
