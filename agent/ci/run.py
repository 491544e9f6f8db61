"""The body of `leanloop ci`: scope, checks, filling, reports, exit code."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from leanloop.ci.model import CiReport, FailOn
from leanloop.errors import ConfigError, SandboxError, UsageError
from leanloop.settings import Settings


@dataclass
class CiOptions:
    """`leanloop ci`'s options, already parsed by its command layer (`leanloop.ci.command`)."""

    repo: Path
    base: str | None = None
    paths: list[str] = field(default_factory=list)
    fail_on: list[FailOn] = field(default_factory=list)
    fill: Literal["new", "all"] | None = None
    commit_branch: str | None = None
    suggest: bool = False
    post_review: bool = False
    formats: list[str] = field(default_factory=lambda: ["text"])
    report_dir: Path | None = None
    budget_usd: float | None = None
    max_targets: int | None = None
    build: bool = False
    flags: dict[str, Any] = field(default_factory=dict)


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def report_directory(report_dir: Path | None) -> Path:
    """Where report files go: ``report_dir``, created (with its parents) when missing, as
    `pytest --junitxml` and SARIF uploaders expect; the current directory by default."""
    if report_dir is None:
        return Path.cwd()
    if report_dir.exists() and not report_dir.is_dir():
        raise UsageError(f"--report-dir {report_dir} is a file, not a directory.")
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"Cannot create --report-dir {report_dir}: {e.strerror}.") from None
    return report_dir


def _settings(options: CiOptions, root: Path) -> Settings:
    from leanloop.lean.project import find_lake_root
    from leanloop.settings import load_settings

    dirs = [Path.cwd(), root]
    if (lake := find_lake_root(root)) is not None and lake not in dirs:
        dirs.append(lake)
    settings = load_settings(options.flags, dirs)
    if "replay" not in settings.model_fields_set:
        # ci writes proofs nobody watched being made: the independent replay is demanded unless
        # the user relaxed it somewhere.
        settings = settings.model_copy(update={"replay": "required"})
    return settings


def require_cage(settings: Settings) -> str | None:
    """`ci --fill` never falls back silently to running model-written proofs uncaged.

    Returns the warning to print when the user turned the cage off explicitly."""
    from leanloop.lean.sandbox import sandbox_status

    status = sandbox_status(settings.sandbox)
    if status.usable:
        return None
    if settings.sandbox == "off" and "sandbox" in settings.model_fields_set:
        return (
            "warning: --sandbox off: Lean will elaborate the model's proofs without the cage, "
            "with this job's access to the file system and the network."
        )
    fix = f" ({status.fix})" if status.fix else ""
    raise SandboxError(
        f"ci --fill runs model-written proofs through Lean and will not do so uncaged: "
        f"{status.detail}{fix}; pass --sandbox off to accept running them uncaged."
    )


# What `--replay off` gives up, said where ci stops for want of SafeVerify.
WITHOUT_REPLAY = (
    "To fill without it, pass --replay off: the proofs are then checked by leanloop's gate and "
    "Lean only, without SafeVerify's independent replay of the proved file through the kernel, "
    "the check that catches a proof which fools a text-level reading of Lean's output"
)


async def prepare_replayer(settings: Settings, file: Path, scratch: Path) -> Any:
    """The independent replay (issue 13) every filled file passes before it is written; with
    `--replay required` (ci's default) and no SafeVerify, a setup error before any model call
    that says how to go on without it, and what that gives up."""
    from leanloop.session import make_replayer

    try:
        return await make_replayer(settings, file, say, scratch)
    except ConfigError as e:
        raise ConfigError(f"ci --fill: {str(e).rstrip('.')}. {WITHOUT_REPLAY}.") from None


def _write(dest: Path, text: str) -> None:
    from leanloop.files import atomic_write

    try:
        atomic_write(dest, text.encode("utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot write {dest}: {e.strerror}.") from None


def emit(report: CiReport, formats: list[str], report_dir: Path) -> None:
    from leanloop import __version__
    from leanloop.ci.formats import FILE_NAMES, render, render_markdown

    for fmt in formats:
        text = render(fmt, report, __version__)
        if fmt in FILE_NAMES:
            dest = report_dir / FILE_NAMES[fmt]
            _write(dest, text)
            say(f"Wrote {dest}.")
        else:
            print(text, flush=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if "github" in formats and summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(render_markdown(report))
        except OSError as e:
            say(f"warning: cannot append to $GITHUB_STEP_SUMMARY ({e.strerror}).")


async def run_ci(options: CiOptions) -> int:
    from leanloop.ci.scope import collect

    report_dir = report_directory(options.report_dir)
    scope = collect(options.repo, options.base, options.paths)
    if options.commit_branch is not None:
        from leanloop.ci.fill import check_branch

        check_branch(scope.root, options.commit_branch)
    settings = _settings(options, scope.root)
    warning = None
    replayer = None
    scratch = Path(tempfile.mkdtemp(prefix="leanloop-ci-"))
    try:
        if options.fill is not None:
            warning = require_cage(settings)
            if scope.files:
                replayer = await prepare_replayer(
                    settings, scope.root / scope.files[0].path, scratch
                )
        return await _check_and_fill(options, scope, settings, report_dir, warning, replayer)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def _check_and_fill(
    options: CiOptions,
    scope: Any,
    settings: Settings,
    report_dir: Path,
    warning: str | None,
    replayer: Any,
) -> int:
    from leanloop.ci.check import check_scope
    from leanloop.ci.config import load_ci_config
    from leanloop.session import make_checker, make_policy

    config = load_ci_config([Path.cwd(), scope.root])
    policy = make_policy(settings)
    fail_on, formats = options.fail_on, options.formats
    report = CiReport(
        repo=str(scope.root),
        base_ref=scope.base_ref,
        base_sha=scope.base_sha,
        head_sha=scope.head_sha,
        whole_repo=scope.whole_repo,
        fail_on=[r.label for r in fail_on],
        files=[],
    )
    if not scope.files:
        what = "changed " if options.base else ""
        report.notes.append(f"No {what}Lean files to check in {scope.root}.")
        emit(report, formats, report_dir)
        return 0
    if options.build:
        from leanloop.ci.build import build_findings, run_build
        from leanloop.lean.project import find_lake_root

        lake_root = find_lake_root(scope.root / scope.files[0].path) or scope.root
        built = await run_build(lake_root, settings, say)
        report.build, report.build_findings = build_findings(built, scope.root, lake_root, fail_on)
        if not built.ok:
            report.notes.append(
                f"{report.build.detail}; its errors are reported as build errors, and files "
                "that import a module that did not build cannot be checked."
            )

    def checker_for(file: Path) -> Any:
        return make_checker(settings, file, say)

    report.files, report.stale_exceptions, notes = await check_scope(
        scope, checker_for, policy, config, fail_on, say
    )
    report.notes.extend(notes)
    if options.fill is not None:
        if warning:
            say(warning)
        await _fill(report, scope, settings, policy, options, report_dir, checker_for, replayer)
    emit(report, formats, report_dir)
    if report.fill is not None and report.fill.error is not None:
        # "A sorry remains" (1) and "the prover could not be used" differ: as `prove` does.
        say(f"error: {report.fill.error}")
        return 2
    return report.exit_code


async def _fill(
    report: CiReport,
    scope: Any,
    settings: Settings,
    policy: Any,
    options: CiOptions,
    report_dir: Path,
    checker_for: Any,
    replayer: Any,
) -> None:
    from leanloop.ci.fill import commit_branch, fill, payload_json, post_review, suggestions
    from leanloop.session import choose_model

    choice = choose_model(settings)
    if choice.notice:
        say(choice.notice)
    try:
        filled = await fill(
            scope,
            report.files,
            mode=options.fill or "new",
            settings=settings,
            model=choice.model,
            make_checker=checker_for,
            policy=policy,
            budget_usd=options.budget_usd,
            max_targets=options.max_targets,
            replayer=replayer,
            say=say,
        )
    finally:
        await choice.model.aclose()
    report.fill = filled.report
    if options.suggest:
        payload = suggestions(scope.root, filled.originals, scope.head_sha, choice.model.name)
        _write(report_dir / "suggestions.json", payload_json(payload))
        filled.report.suggestions = len(payload.comments)
        if options.post_review and payload.comments:
            where = await post_review(payload, dict(os.environ))
            report.notes.append(f"Posted the review: {where}")
    if options.commit_branch is not None and filled.originals:
        filled.report.branch = options.commit_branch
        filled.report.commit = commit_branch(
            scope.root,
            options.commit_branch,
            filled.originals,
            filled.proved,
            choice.model.name,
        )
