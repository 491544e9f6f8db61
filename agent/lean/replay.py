"""The replay layer: a second opinion that never reads the proof's text.

SafeVerify (github.com/GasStationManager/SafeVerify) takes two compiled `.olean` files, the
original (statements with `sorry`) and the proved file, replays both environments through the
kernel (`Environment.replay`, as lean4checker does), checks that every original declaration
exists in the proved file with the same name, kind and type (and, for definitions that did not
use `sorry`, the same body), that the proved file's declarations use only `propext`,
`Quot.sound` and `Classical.choice`, and refuses `unsafe` (and, with `--disallow-partial`,
`partial`) constants. Everything here is built from SafeVerify's source (`Main.lean`, several
versions) and its README; no run of the real tool has been recorded on this machine.

Every process goes through the given :class:`Executor`, so it is caged like any Lean run.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from leanloop.errors import ConfigError
from leanloop.lean.checker import LeanResult, interpret
from leanloop.lean.messages import (
    import_problem,
    kernel_error,
    strip_uncaught,
    uncaught_exceptions,
)
from leanloop.lean.project import LeanCommand
from leanloop.lean.runner import Executor, ProcessResult
from leanloop.settings import Settings

LAYER = "replay layer (SafeVerify)"
INSTALL = (
    'add `require SafeVerify from git "https://github.com/GasStationManager/SafeVerify"` '
    "(at a revision made for your Lean version) to the lakefile, then run "
    "`lake update SafeVerify` and `lake build safe_verify`"
)
ALLOWED_AXIOMS = ("propext", "Quot.sound", "Classical.choice")  # SafeVerify's default list
_DETAIL_CHARS = 2000
_DETAIL_LINES = 20
_PROBE_TIMEOUT = 60.0

ReplayStatusName = Literal["passed", "failed", "unavailable", "error"]


class ReplayProblem(BaseModel):
    """One problem SafeVerify printed."""

    category: str  # missing | type | definition | kind | axioms | unsafe | partial | kernel | …
    declaration: str | None = None
    axioms: list[str] | None = None  # all the declaration's axioms, when the line lists them
    line: str


class ReplayVerdict(BaseModel):
    """What the replay layer concluded about one (original, proved) pair."""

    # error = infrastructure: a timeout, a crash, or the ORIGINAL file failing to compile.
    status: ReplayStatusName
    reason: str  # one sentence for people, naming the replay layer
    detail: str = ""  # bounded excerpt of the tool's output
    declarations: list[str] = []  # declarations a failure names, when the tool says
    seconds: float = 0.0
    problems: list[ReplayProblem] = []

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class ReplayStatus(BaseModel):
    """Whether the replay tool can be used here; for `doctor` and for `--replay auto` notices."""

    available: bool
    command: list[str]  # what runs, before the two .olean paths
    version: str | None  # SafeVerify's revision from lake-manifest.json, when it is a package
    toolchain_match: bool | None  # None: unknown
    detail: str
    fix: str | None
    lean_version: str | None = None  # the Lean version the tool says it was built with
    project_toolchain: str | None = None  # the project's `lean-toolchain`, stripped
    # Not set up at all (no SafeVerify in the project, no such command), as opposed to present
    # but unusable (not built, built with another Lean, not answering as SafeVerify does).
    missing: bool = False

    def summary(self) -> str:
        """One line for `doctor`: what runs, its revision, and the toolchain match."""
        parts = [self.detail]
        if self.version:
            parts.append(f"SafeVerify {self.version}")
        if self.toolchain_match is True:
            parts.append(f"built with the project's toolchain ({self.project_toolchain})")
        elif self.toolchain_match is None and self.available:
            parts.append("whether it was built with the project's toolchain is unknown")
        return "; ".join(parts)


class Replayer(Protocol):
    async def replay(self, original: str, proved: str, *, file_name: str) -> ReplayVerdict: ...


# ---------------------------------------------------------------------------------------------
# Reading SafeVerify's output


# Failure lines, from SafeVerify's Main.lean across its history. The newest versions print
# everything to stderr and end a failure with `throw (IO.userError "SafeVerify check failed. …")`
# (so Lean's runtime prints `uncaught exception: …` and exits 1); some intermediate versions
# printed "SafeVerify check failed." and exited 0, and the oldest threw on the first problem with
# messages like "theorem X does not have the same type as the requirement". All are read here.
_FOUND = re.compile(r"Found a problem in .+? with declaration (?P<name>.+?)(?:: (?P<why>[^:]+))?$")
_WHY = (
    ("declaration not found", "missing"),
    ("theorem type mismatch", "type"),
    ("definition type or value mismatch", "definition"),
    ("opaque type or value mismatch", "definition"),
    ("kind mismatch", "kind"),
    ("disallowed axioms", "axioms"),
)
_PATTERNS_FIRST: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<name>\S+) used disallowed axioms\."), "axioms"),
    (re.compile(r"unsafe constant (?P<name>\S+) detected"), "unsafe"),
    (re.compile(r"partial constant (?P<name>\S+) detected"), "partial"),
    (re.compile(r"kernel verification failed for '(?P<name>[^']+)'"), "kernel"),
)
# Between the two: the kernel's own refusals, Lean's text (`messages.kernel_error`).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"suspicious Nat literal in new declaration '(?P<name>[^']+)'"), "kernel"),
    (re.compile(r"is missing \d+ transitive imports required by target"), "imports"),
    (re.compile(r"has no imports \(possible prelude file\)"), "imports"),
    # The oldest versions (2024), which threw on the first problem:
    (re.compile(r"theorem (?P<name>\S+) does not have the same type as the requirement"), "type"),
    (re.compile(r"(?:^|: )(?P<name>\S+) not found in submission"), "missing"),
    (re.compile(r"definition (?P<name>\S+) does not match the requirement"), "definition"),
    (re.compile(r"definition (?P<name>\S+) is noncomputable"), "definition"),
    (re.compile(r"\S+ (?P<name>\S+) is not the same kind as the requirement"), "kind"),
    (re.compile(r"\S+ is not in the allowed set of standard axioms"), "axioms"),
)
_AXIOM_LIST = re.compile(r"used disallowed axioms\. #\[([^\]]*)\]")
_FAILED_MARKER = re.compile(r"SafeVerify check failed")
_PASS_LINES = ("SafeVerify check passed.", "Finished with no errors.", "Finished.")
# Failures that say nothing about the proof: our .olean is gone or unreadable, or an import
# cannot be found (Lean's own wording, read by `messages.import_problem`), or SafeVerify's own
# complaint that the target is not a module it can replay.
_NOT_A_MODULE = re.compile(r"Target '[^']*' does not import Init")


def _infra(exception: str) -> bool:
    return import_problem(exception) is not None or _NOT_A_MODULE.search(exception) is not None


_CATEGORY_TEXT = {
    "missing": "a declaration of the original file is missing from the proved file",
    "type": "a theorem's statement differs from the original",
    "definition": "a definition differs from the original",
    "kind": "a declaration changed kind (for example theorem to def)",
    "axioms": "the proof uses an axiom outside propext, Quot.sound and Classical.choice",
    "unsafe": "the proved file contains an unsafe declaration",
    "partial": "the proved file contains a partial declaration",
    "kernel": "the kernel refused a declaration when replaying the proved file's environment",
    "imports": "the proved file does not import everything the original imports",
    "other": "SafeVerify rejected the proved file",
}
_CATEGORY_ORDER = tuple(_CATEGORY_TEXT)


def _findings(lines: Sequence[str]) -> list[ReplayProblem]:
    out: list[ReplayProblem] = []
    for raw in lines:
        line = strip_uncaught(raw)
        if m := _FOUND.search(line):
            why = (m.group("why") or "").strip()
            cat = next((c for key, c in _WHY if key in why), "other")
            out.append(ReplayProblem(category=cat, declaration=m.group("name").strip(), line=line))
            continue
        if (hit := _first_pattern(_PATTERNS_FIRST, line)) is not None:
            out.append(hit)
            continue
        if (kernel := kernel_error(line)) is not None:
            out.append(ReplayProblem(category="kernel", declaration=kernel.declaration, line=line))
            continue
        if (hit := _first_pattern(_PATTERNS, line)) is not None:
            out.append(hit)
    return out


def _first_pattern(
    patterns: tuple[tuple[re.Pattern[str], str], ...], line: str
) -> ReplayProblem | None:
    for pattern, cat in patterns:
        if m := pattern.search(line):
            axioms = None
            if cat == "axioms" and (listed := _AXIOM_LIST.search(line)) is not None:
                axioms = [a.strip() for a in listed.group(1).split(",") if a.strip()]
            name = m.groupdict().get("name")
            return ReplayProblem(category=cat, declaration=name, axioms=axioms, line=line)
    return None


def _excerpt(lines: Sequence[str], keep: Sequence[str] = ()) -> str:
    """The lines that explain a verdict (or the tail of the output), bounded."""
    wanted = set(keep)
    chosen = [ln for ln in lines if ln.strip() and ln in wanted] or [
        ln for ln in lines if ln.strip()
    ][-_DETAIL_LINES:]
    text = "\n".join(chosen[:_DETAIL_LINES])
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def read_verdict(
    proc: ProcessResult, *, target: Path, submission: Path, timeout: float
) -> ReplayVerdict:
    """Turn one SafeVerify run into a verdict; never raises on odd output."""
    if proc.start_error:
        return ReplayVerdict(
            status="error",
            reason=f"The {LAYER} could not be started: {proc.start_error}.",
            seconds=proc.seconds,
        )
    if proc.timed_out:
        return ReplayVerdict(
            status="error",
            reason=f"The {LAYER} did not finish within {timeout:g}s and was stopped.",
            detail=_excerpt((proc.stdout + "\n" + proc.stderr).splitlines()),
            seconds=proc.seconds,
        )
    # Versions differ in which stream they use; stderr last so the exception ends the text.
    lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    exceptions = uncaught_exceptions(lines)
    # The target is replayed completely before "Replaying <submission>" is printed, so without
    # that line an exception came from the target (or from setting up), not from the proof.
    in_target = not any(ln.strip() == f"Replaying {submission}" for ln in lines) and any(
        ln.strip() == f"Replaying {target}" for ln in lines
    )
    infra = [e for e in exceptions if _infra(e)]
    if infra:
        return ReplayVerdict(
            status="error",
            reason=f"The {LAYER} could not read its input: {infra[0]}.",
            detail=_excerpt(lines),
            seconds=proc.seconds,
        )
    if exceptions and in_target:
        return ReplayVerdict(
            status="error",
            reason=f"The {LAYER} refused the original file itself: {exceptions[0]}.",
            detail=_excerpt(lines),
            seconds=proc.seconds,
        )
    findings = _findings(lines)
    failed_marker = any(_FAILED_MARKER.search(ln) for ln in lines)
    if findings or failed_marker:
        cats = [f.category for f in findings] or ["other"]
        first = min(cats, key=_CATEGORY_ORDER.index)
        names: list[str] = []
        for f in findings:
            if f.declaration and f.declaration not in names:
                names.append(f.declaration)
        named = f" ({', '.join(names[:5])}{', …' if len(names) > 5 else ''})" if names else ""
        return ReplayVerdict(
            status="failed",
            reason=f"The {LAYER} rejected the proof: {_CATEGORY_TEXT[first]}{named}.",
            detail=_excerpt(lines, keep=_failure_lines(lines)),
            declarations=names,
            seconds=proc.seconds,
            problems=findings,
        )
    if exceptions and proc.exit_code == 1:
        # An exception after the proved file's replay began that none of the patterns know: a
        # rejection we cannot name (newer SafeVerify checks), not a pass.
        return ReplayVerdict(
            status="failed",
            reason=f"The {LAYER} rejected the proof: {exceptions[0]}.",
            detail=_excerpt(lines),
            seconds=proc.seconds,
        )
    if proc.exit_code != 0:
        return ReplayVerdict(
            status="error",
            reason=f"The {LAYER} crashed (exit code {proc.exit_code}).",
            detail=_excerpt(lines),
            seconds=proc.seconds,
        )
    if any(ln.strip() in _PASS_LINES for ln in lines):
        return ReplayVerdict(
            status="passed",
            reason=f"The {LAYER} replayed both files through the kernel and found no problem.",
            seconds=proc.seconds,
        )
    return ReplayVerdict(
        status="error",
        reason=f"The {LAYER} finished without a verdict leanloop recognises.",
        detail=_excerpt(lines),
        seconds=proc.seconds,
    )


def allow_unproved(verdict: ReplayVerdict, unproved: Collection[str]) -> ReplayVerdict:
    """The verdict when the declarations in ``unproved`` are meant to keep their `sorry`.

    SafeVerify flags every declaration that uses `sorryAx`, so a file proved only in part always
    fails. A failure is turned into a pass only when each problem is a declaration of
    ``unproved`` whose disallowed axioms SafeVerify listed and are exactly `sorryAx`: a proved
    theorem that uses an unproved one still fails, and so does output that does not list the
    axioms (the 2024 versions)."""
    if verdict.status != "failed" or not verdict.problems:
        return verdict
    known: dict[str, set[str]] = {}
    for p in verdict.problems:
        if p.axioms is not None and p.declaration is not None:
            known[p.declaration] = {a for a in p.axioms if a not in ALLOWED_AXIOMS}
    for p in verdict.problems:
        name = p.declaration
        if p.category != "axioms" or name is None or name not in unproved:
            return verdict
        if known.get(name) != {"sorryAx"}:
            return verdict
    left = sorted({p.declaration for p in verdict.problems if p.declaration})
    return verdict.model_copy(
        update={
            "status": "passed",
            "reason": (
                f"The {LAYER} found no problem beyond the {len(left)} declaration(s) left with "
                f"sorry ({', '.join(left[:5])}{', …' if len(left) > 5 else ''})."
            ),
            "declarations": [],
        }
    )


def _failure_lines(lines: Sequence[str]) -> list[str]:
    """The problem lines, and everything from the exception on (a kernel message spans lines)."""
    keep = [ln for ln in lines if _findings([ln])]
    starts = [i for i, ln in enumerate(lines) if uncaught_exceptions([ln])]
    return keep + (list(lines[starts[0] :]) if starts else [])


# ---------------------------------------------------------------------------------------------
# The replayer


def _module_stem(file_name: str) -> str:
    """A module-like file stem. Both files get the same one (in different directories): recent
    Lean names a module compiled without `--root` `_stdin`, older Lean named it after the file,
    and either way names derived from the module (`_private.<Module>.0.x`) then match."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(file_name).stem) or "Proof"
    return stem if not stem[0].isdigit() else "M" + stem


class SafeVerifyReplayer:
    """Compile both files with `lean -o` and hand the two `.olean` files to SafeVerify.

    ``scratch_root`` must be writable inside the cage (the sandbox's scratch directory)."""

    def __init__(
        self,
        command: LeanCommand,
        executor: Executor,
        *,
        replay_argv: list[str],
        timeout: float,
        scratch_root: Path,
    ) -> None:
        self._command = command
        self._executor = executor
        self._argv = list(replay_argv)
        self._timeout = timeout
        self._scratch_root = scratch_root

    async def replay(self, original: str, proved: str, *, file_name: str) -> ReplayVerdict:
        start = time.monotonic()
        self._scratch_root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="replay-", dir=self._scratch_root))
        try:
            verdict = await self._replay_in(scratch, original, proved, file_name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return verdict.model_copy(update={"seconds": time.monotonic() - start})

    async def _replay_in(
        self, scratch: Path, original: str, proved: str, file_name: str
    ) -> ReplayVerdict:
        stem = _module_stem(file_name)
        paths: dict[str, tuple[Path, Path]] = {}
        for role, text in (("target", original), ("submission", proved)):
            src = scratch / role / f"{stem}.lean"
            src.parent.mkdir()
            src.write_text(text, encoding="utf-8", newline="")
            paths[role] = (src, scratch / f"{role}-{uuid.uuid4().hex[:8]}.olean")
        target_res, sub_res = await asyncio.gather(
            self._compile(*paths["target"]), self._compile(*paths["submission"])
        )
        target_olean, sub_olean = paths["target"][1], paths["submission"][1]
        if target_res.status != "ok" or target_res.errors or not target_olean.is_file():
            return ReplayVerdict(
                status="error",
                reason=(
                    f"The {LAYER} could not compile the original file to an .olean: "
                    f"{_compile_problem(target_res, target_olean)}."
                ),
                detail=_lean_detail(target_res),
            )
        if sub_res.status == "ok" and sub_res.errors:
            first = _first_line(sub_res.errors[0].data)
            return ReplayVerdict(
                status="failed",
                reason=(
                    f"The {LAYER} rejected the proof: it does not compile as a module ({first})."
                ),
                detail=_lean_detail(sub_res),
            )
        if sub_res.status != "ok" or not sub_olean.is_file():
            return ReplayVerdict(
                status="error",
                reason=(
                    f"The {LAYER} could not compile the proved file to an .olean: "
                    f"{_compile_problem(sub_res, sub_olean)}."
                ),
                detail=_lean_detail(sub_res),
            )
        argv = [*self._argv, str(target_olean), str(sub_olean)]
        proc = await self._executor.run(argv, cwd=self._command.cwd, timeout=self._timeout)
        return read_verdict(proc, target=target_olean, submission=sub_olean, timeout=self._timeout)

    async def _compile(self, src: Path, olean: Path) -> LeanResult:
        argv = self._command.for_file(src, ["-o", str(olean)])
        proc = await self._executor.run(argv, cwd=self._command.cwd, timeout=self._timeout)
        return interpret(proc)


def _compile_problem(res: LeanResult, olean: Path) -> str:
    if res.status != "ok":
        return res.describe().rstrip(".")
    if res.errors:
        return _first_line(res.errors[0].data)
    return f"Lean reported no error but wrote no {olean.name}"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "an error without text"


def _lean_detail(res: LeanResult) -> str:
    text = "\n".join(m.render() for m in res.errors[:5]) or res.excerpt
    return text[:_DETAIL_CHARS]


# ---------------------------------------------------------------------------------------------
# Finding the tool


def _lake_env_prefix(command: LeanCommand) -> list[str]:
    """What runs a program in the project's environment (so SafeVerify finds the imports'
    .olean files through LEAN_PATH): the part of the Lean command before `lean`, or `lake env`."""
    argv = command.argv
    if argv and Path(argv[0]).name == "lake" and "lean" in argv[1:]:
        return argv[: argv.index("lean", 1)]
    if command.project_root is not None and shutil.which("lake") is not None:
        return ["lake", "env"]
    return []


def _built_exe(root: Path, name: str) -> Path | None:
    """Where `lake build NAME` leaves an executable: the root package's `.lake/build/bin`, or a
    dependency's own build directory. (The dependency layout is a guess from how Lake lays out
    packages; `build/` and `lake-packages/` are the pre-2024 layout.)"""
    candidates = [root / ".lake" / "build" / "bin" / name, root / "build" / "bin" / name]
    for packages, build in ((root / ".lake" / "packages", ".lake"), (root / "lake-packages", "")):
        if packages.is_dir():
            for pkg in sorted(packages.iterdir()):
                candidates.append(pkg / build / "build" / "bin" / name)
    return next((c for c in candidates if c.is_file()), None)


def _manifest_package(root: Path) -> tuple[str, str | None] | None:
    """SafeVerify's entry in lake-manifest.json: (name, revision)."""
    try:
        data = json.loads((root / "lake-manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    packages = data.get("packages", []) if isinstance(data, dict) else []
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict):
            continue
        url, name = str(pkg.get("url", "")), str(pkg.get("name", ""))
        if "safeverify" in url.lower() or name.lower() in ("safeverify", "safe_verify"):
            rev = pkg.get("rev")
            input_rev = pkg.get("inputRev")
            version = str(rev)[:12] if rev else None
            if version and input_rev:
                version = f"{version} ({input_rev})"
            return name, version
    return None


def project_toolchain(root: Path | None) -> str | None:
    """The project's `lean-toolchain`, e.g. `leanprover/lean4:v4.22.0`."""
    if root is None:
        return None
    try:
        text = (root / "lean-toolchain").read_text("utf-8").strip()
    except OSError:
        return None
    return text or None


def toolchain_matches(toolchain: str, lean_version: str) -> bool | None:
    """Whether a `lean-toolchain` line names the Lean that printed ``lean_version``.

    ``lean_version`` is `Lean.versionString`: `4.22.0`, `4.22.0-rc3`, `4.23.0-nightly-2025-08-01`,
    or `4.22.0, commit <hash>` for a development build (unknown here). The version format is from
    lean4's Init/Meta.lean; the comparison rule is ours."""
    tag = toolchain.rsplit(":", 1)[-1].strip()
    if "," in lean_version or not tag:
        return None
    if tag.startswith("nightly-"):
        return lean_version.endswith("-" + tag)
    return lean_version == tag.removeprefix("v")


_LEAN_VERSION = re.compile(r"Currently running on Lean v(?P<v>[^\s,]+(?:, commit \w+)?)")


async def replay_status(
    settings: Settings, command: LeanCommand, executor: Executor
) -> ReplayStatus:
    """Find the replay tool and ask it which Lean it was built with, without building anything.

    `lake exe safe_verify` would build the executable first (slow, and impossible in the cage's
    read-only project), so for that command the built binary is looked up and run under
    `lake env` instead. The probe passes two paths that do not exist: every SafeVerify version
    checks them first and stops at once; the Cli versions print `Currently running on Lean v…`
    before that, which gives the Lean version the tool was compiled with. (Assumed, not seen:
    that `lake env` runs in the cage's read-only project as it does for `lake env lean`.)"""
    root = command.project_root
    toolchain = project_toolchain(root)
    try:
        argv = shlex.split(settings.replay_cmd)
    except ValueError as e:
        return _unavailable(
            f"the replay-cmd setting is not a valid command line ({e})", None, toolchain
        )
    if not argv:
        return _unavailable("the replay-cmd setting is empty", None, toolchain)
    prefix = _lake_env_prefix(command)
    package = _manifest_package(root) if root is not None else None
    version = package[1] if package else None
    if Path(argv[0]).name == "lake" and argv[1:2] == ["exe"] and len(argv) >= 3:
        if root is None:
            return _unavailable("`lake exe` needs a Lake project and there is none", INSTALL, None)
        exe = _built_exe(root, argv[2])
        if exe is None:
            if package is not None:
                return _unavailable(
                    f"SafeVerify is required by the project but `{argv[2]}` is not built",
                    f"run `lake build {argv[2]}` in {root}",
                    toolchain,
                )
            return _unavailable(
                f"SafeVerify is not among the dependencies of the project at {root}",
                INSTALL,
                toolchain,
            )
        resolved = [*(prefix or ["lake", "env"]), str(exe), *argv[3:]]
    elif Path(argv[0]).name == "lake":
        resolved = argv  # the user's own lake invocation, e.g. `lake env /path/safe_verify`
    else:
        if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
            return _unavailable(f"`{argv[0]}` was not found", INSTALL, toolchain)
        resolved = [*prefix, *argv]

    missing = command.cwd / f".leanloop-replay-probe-{uuid.uuid4().hex[:8]}"
    probe = [*resolved, str(missing / "target.olean"), str(missing / "submission.olean")]
    proc = await executor.run(probe, cwd=command.cwd, timeout=_PROBE_TIMEOUT)
    output = (proc.stdout + "\n" + proc.stderr).strip()
    if proc.start_error or proc.timed_out or "does not exist" not in output:
        why = proc.start_error or (
            f"it did not answer within {_PROBE_TIMEOUT:g}s"
            if proc.timed_out
            else f"it did not run as SafeVerify does (exit code {proc.exit_code}: "
            f"{_excerpt(output.splitlines())[:300] or 'no output'})"
        )
        return ReplayStatus(
            available=False,
            command=resolved,
            version=version,
            toolchain_match=None,
            detail=f"`{shlex.join(resolved)}` cannot be used: {why}",
            fix=f"rebuild it with `lake build safe_verify`, or {INSTALL}",
            project_toolchain=toolchain,
        )
    m = _LEAN_VERSION.search(output)
    lean_version = m.group("v") if m else None
    match = toolchain_matches(toolchain, lean_version) if toolchain and lean_version else None
    built = f"built with Lean {lean_version}" if lean_version else "its Lean version is unknown"
    if match is False:
        return ReplayStatus(
            available=False,
            command=resolved,
            version=version,
            toolchain_match=False,
            detail=(
                f"`{shlex.join(resolved)}` was {built} but the project uses {toolchain}, so it "
                "cannot read the project's .olean files"
            ),
            fix="rebuild it with the project's toolchain: `lake build safe_verify`",
            lean_version=lean_version,
            project_toolchain=toolchain,
        )
    return ReplayStatus(
        available=True,
        command=resolved,
        version=version,
        toolchain_match=match,
        detail=f"`{shlex.join(resolved)}` ({built})",
        fix=None,
        lean_version=lean_version,
        project_toolchain=toolchain,
    )


def _unavailable(detail: str, fix: str | None, toolchain: str | None) -> ReplayStatus:
    return ReplayStatus(
        available=False,
        command=[],
        version=None,
        toolchain_match=None,
        detail=detail,
        fix=fix,
        project_toolchain=toolchain,
        missing=fix == INSTALL,
    )


def unavailable_note(status: ReplayStatus) -> str:
    """One short line for a run under `--replay auto` without the tool; the install steps are
    `leanloop doctor`'s to give."""
    why = "is not set up here" if status.missing else f"cannot be used here ({status.detail})"
    return (
        f"note: SafeVerify {why}, so the proved file was not replayed independently; "
        "`leanloop doctor` says how to set it up."
    )


def make_replayer(
    settings: Settings,
    command: LeanCommand,
    executor: Executor,
    status: ReplayStatus,
    scratch_root: Path,
    warn: Callable[[str], None],
) -> Replayer | None:
    """The replayer the settings ask for: None for `off`, and for `auto` when the tool is missing
    (after one warning); `required` without the tool is a setup error (exit 2)."""
    if settings.replay == "off":
        return None
    if not status.available:
        if settings.replay == "required":
            raise ConfigError(
                f"--replay required, but the {LAYER} is not available ({status.detail}); "
                f"{status.fix or INSTALL}."
            )
        warn(unavailable_note(status))
        return None
    return SafeVerifyReplayer(
        command,
        executor,
        replay_argv=status.command,
        timeout=settings.timeout,
        scratch_root=scratch_root,
    )


async def replayer_for(
    settings: Settings,
    command: LeanCommand,
    executor: Executor,
    scratch_root: Path,
    warn: Callable[[str], None],
) -> Replayer | None:
    """`replay_status` then `make_replayer`, skipping the probe when the replay is off."""
    if settings.replay == "off":
        return None
    status = await replay_status(settings, command, executor)
    return make_replayer(settings, command, executor, status, scratch_root, warn)
