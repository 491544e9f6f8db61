"""The `leanloop ci` command, registered on the CLI's app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leanloop.ci.model import FAIL_ON_DEFAULT, FailOn, Rule
from leanloop.errors import UsageError

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

    @app.command()
    def ci(
        repo: Annotated[
            Path, typer.Argument(help="The git repository (default: the current directory).")
        ] = Path("."),
        base: Annotated[
            str | None,
            typer.Option(help="Compare with the merge base of this ref (e.g. origin/main)."),
        ] = None,
        paths: Annotated[
            list[str] | None,
            typer.Option("--paths", help="Only files matching this glob; repeatable."),
        ] = None,
        fail_on: Annotated[
            list[str] | None,
            typer.Option(
                "--fail-on",
                help=f"Rules that fail the check (default {FAIL_ON_DEFAULT}; "
                "error, sorry, axiom, forbidden, each optionally new-; or none).",
            ),
        ] = None,
        fill: Annotated[
            bool, typer.Option("--fill", help="Prove the new `sorry`s with the model.")
        ] = False,
        fill_all: Annotated[
            bool, typer.Option("--fill-all", help="Prove every `sorry` of the checked files.")
        ] = False,
        commit_branch: Annotated[
            str | None, typer.Option(help="Commit the proofs on this new branch.")
        ] = None,
        suggest: Annotated[
            bool,
            typer.Option("--suggest", help="Write suggestions.json (a pull-request review)."),
        ] = False,
        post_review: Annotated[
            bool,
            typer.Option("--post-review", help="Post the suggestions through GitHub's API."),
        ] = False,
        fmt: Annotated[
            list[str] | None,
            typer.Option("--format", help="text, github, sarif, junit, markdown, json."),
        ] = None,
        report_dir: Annotated[
            Path | None, typer.Option(help="Where report files go (default: here).")
        ] = None,
        budget_usd: Annotated[
            float | None, typer.Option(help="Stop filling once this much is spent.")
        ] = None,
        max_targets: Annotated[
            int | None, typer.Option(help="Prove at most this many declarations.")
        ] = None,
        build: Annotated[
            bool, typer.Option("--build", help="Run the repository's `lake build` first.")
        ] = False,
        model: Annotated[str | None, typer.Option(help="Model name for --fill.")] = None,
        base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
        api_key_env: Annotated[
            str | None, typer.Option(help="Environment variable holding the API key.")
        ] = None,
        samples: Annotated[int | None, typer.Option(help="Attempts per target.")] = None,
        rounds: Annotated[int | None, typer.Option(help="Rounds of feedback per attempt.")] = None,
        lean_cmd: Annotated[
            str | None, typer.Option(help="Command that checks a file, given its path.")
        ] = None,
        timeout: Annotated[float | None, typer.Option(help="Seconds per Lean run.")] = None,
        allow_native_decide: Annotated[
            bool | None,
            typer.Option("--allow-native-decide", help="Accept proofs that trust compiled code."),
        ] = None,
        sandbox: Annotated[str | None, typer.Option(help="required, auto or off.")] = None,
        replay: Annotated[
            str | None,
            typer.Option(help="auto, required (the default for ci) or off, for --fill."),
        ] = None,
        backend: Annotated[str | None, typer.Option(help="cli or repl.")] = None,
    ) -> None:
        """Check a Lean repository for CI: new `sorry`s, errors and axioms, by declaration."""
        from leanloop.ci.run import CiOptions, run_ci
        from leanloop.cli import _run

        options = CiOptions(
            repo=repo,
            base=base,
            paths=_split(paths),
            fail_on=fail_on,
            fill="all" if fill_all else ("new" if fill else None),
            commit_branch=commit_branch,
            suggest=suggest,
            post_review=post_review,
            formats=fmt,
            report_dir=report_dir,
            budget_usd=budget_usd,
            max_targets=max_targets,
            build=build,
            flags=dict(
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                samples=samples,
                rounds=rounds,
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                replay=replay,
                backend=backend,
            ),
        )
        raise typer.Exit(_run(lambda: run_ci(options)))
