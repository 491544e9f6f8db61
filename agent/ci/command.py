"""The `leanloop ci` command: its options, parsed here into :class:`CiOptions`, and
registered on the CLI's app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from leanloop.ci.model import FAIL_ON_DEFAULT, FailOn, Rule
from leanloop.errors import UsageError
from leanloop.options import (
    BUDGET,
    LEAN,
    OUTPUT,
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    Command,
    LeanCmdOpt,
    MaxToolCallsOpt,
    ModelOpt,
    ModeOpt,
    NativeOpt,
    PremisesOpt,
    RequestTimeoutOpt,
    RoundsOpt,
    SamplesOpt,
    SandboxOpt,
    TimeoutOpt,
    TokenBudgetOpt,
    ToolTimeoutOpt,
)

FORMAT_NAMES = ("text", "github", "sarif", "junit", "markdown", "json")


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


def parse_fail_on(values: list[str] | None) -> list[FailOn]:
    items = _split(values) or FAIL_ON_DEFAULT.split(",")
    if items == ["none"]:
        return []
    out: list[FailOn] = []
    for item in items:
        new_only = item.startswith("new-")
        try:
            rule = Rule(item.removeprefix("new-"))
        except ValueError:
            choices = ", ".join(r.value for r in Rule)
            raise UsageError(
                f"--fail-on {item}: unknown rule; use {choices}, each optionally prefixed "
                "with new- (or none)."
            ) from None
        out.append(FailOn(rule=rule, new_only=new_only))
    return out


def parse_formats(values: list[str] | None) -> list[str]:
    items = _split(values) or ["text"]
    for item in items:
        if item not in FORMAT_NAMES:
            raise UsageError(f"--format {item}: unknown format; use {', '.join(FORMAT_NAMES)}.")
    return list(dict.fromkeys(items))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``; keep heavy imports inside the command body."""
    app.command(cls=Command)(ci)


def ci(
    repo: Annotated[
        Path,
        typer.Argument(
            metavar="REPO",
            help="The git repository (default: the current directory).",
            show_default=False,
        ),
    ] = Path("."),
    base: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Compare with the merge base of this ref, e.g. origin/main (default: none, "
            "every Lean file is checked).",
        ),
    ] = None,
    paths: Annotated[
        list[str] | None,
        typer.Option(
            "--paths",
            metavar="GLOB",
            help="Only files matching this glob; repeatable (default: every .lean file).",
        ),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="RULES",
            help="Rules that fail the check: error, sorry, axiom, forbidden, each optionally "
            f"new-; or none (default: {FAIL_ON_DEFAULT}).",
        ),
    ] = None,
    fill: Annotated[
        bool,
        typer.Option(
            "--fill", metavar="", help="Prove the new `sorry`s with the model (default: off)."
        ),
    ] = False,
    fill_all: Annotated[
        bool,
        typer.Option(
            "--fill-all",
            metavar="",
            help="Prove every `sorry` of the checked files (default: off).",
        ),
    ] = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    premises: PremisesOpt = None,
    mode: ModeOpt = None,
    samples: SamplesOpt = None,
    rounds: RoundsOpt = None,
    max_tool_calls: MaxToolCallsOpt = None,
    tool_timeout: ToolTimeoutOpt = None,
    token_budget: TokenBudgetOpt = None,
    budget_usd: Annotated[
        float | None,
        typer.Option(
            metavar="DOLLARS",
            help="Stop filling once this much is spent (default: no limit).",
            rich_help_panel=BUDGET,
        ),
    ] = None,
    max_targets: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Prove at most this many declarations (default: no limit).",
            rich_help_panel=BUDGET,
        ),
    ] = None,
    build: Annotated[
        bool,
        typer.Option(
            "--build",
            metavar="",
            help="Run the repository's `lake build` first (default: off).",
            rich_help_panel=LEAN,
        ),
    ] = False,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    replay: Annotated[
        str | None,
        typer.Option(
            metavar="auto|required|off",
            help="The independent replay (SafeVerify) of each filled file; off gives it up "
            "(default for ci: required).",
            rich_help_panel=LEAN,
        ),
    ] = None,
    backend: BackendOpt = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            metavar="FORMATS",
            help=f"Any of {', '.join(FORMAT_NAMES)}, comma-separated or repeated (default: text).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Where report files go, created if missing (default: the current directory).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            metavar="",
            help="Write suggestions.json, a pull-request review (default: off).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    post_review: Annotated[
        bool,
        typer.Option(
            "--post-review",
            metavar="",
            help="Post the suggestions through GitHub's API (default: off).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    commit_branch: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Commit the proofs on this new branch (default: none).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
) -> None:
    """Check a Lean repository for CI: new `sorry`s, errors and axioms, by declaration."""
    from leanloop.ci.run import CiOptions, run_ci
    from leanloop.command import run_command

    async def body() -> int:
        fill_mode: Literal["new", "all"] | None = "all" if fill_all else ("new" if fill else None)
        if fill_mode is None and (suggest or commit_branch or post_review):
            fill_mode = "new"  # suggestions and commits need proofs to carry
        if budget_usd is not None and budget_usd < 0:
            raise UsageError("--budget-usd must not be negative.")
        if max_targets is not None and max_targets < 0:
            raise UsageError("--max-targets must not be negative.")
        options = CiOptions(
            repo=repo,
            base=base,
            paths=_split(paths),
            fail_on=parse_fail_on(fail_on),
            fill=fill_mode,
            commit_branch=commit_branch,
            suggest=suggest or post_review,
            post_review=post_review,
            formats=parse_formats(fmt),
            report_dir=report_dir,
            budget_usd=budget_usd,
            max_targets=max_targets,
            build=build,
            flags=dict(
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                request_timeout=request_timeout,
                samples=samples,
                rounds=rounds,
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                replay=replay,
                backend=backend,
                premises=premises,
                mode=mode,
                max_tool_calls=max_tool_calls,
                tool_timeout=tool_timeout,
                token_budget=token_budget,
            ),
        )
        return await run_ci(options)

    raise typer.Exit(run_command(body))
