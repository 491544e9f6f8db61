"""The `leanloop bench` command, registered on the CLI's app."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from leanloop.options import (
    MaxToolCallsOpt,
    ModeOpt,
    PremisesOpt,
    TokenBudgetOpt,
    ToolTimeoutOpt,
)

DEFAULT_OUT = Path("bench-run")

# Help panels, the same names in every command.
MODEL, BUDGET, LEAN, OUTPUT = "Model", "Budget", "Lean", "Output"


def _default(name: str) -> str:
    """A setting's default as the user would type it (settings files and LEANLOOP_* win)."""
    from leanloop.settings import Settings

    value = Settings.model_fields[name].default
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


OutArg = Annotated[
    Path, typer.Argument(metavar="DIR", help="A run directory (the --out of `bench run`).")
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", metavar="", rich_help_panel=OUTPUT, help="Print the summary as JSON."),
]
InfraOpt = Annotated[
    bool,
    typer.Option(
        "--infra-as-failure",
        metavar="",
        rich_help_panel=OUTPUT,
        help="Count infra attempts (endpoint errors, Lean timeouts and crashes) as failed "
        "samples instead of leaving them out of pass@k.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``; keep heavy imports inside the command body."""
    bench = typer.Typer(
        name="bench",
        help="pass@k benchmark runs: run a dataset, report, compare runs.",
        no_args_is_help=True,
    )
    bench.command("run")(run)
    bench.command("report")(report)
    bench.command("compare")(compare)
    app.add_typer(bench, name="bench")


def _run(body: Callable[[], Coroutine[Any, Any, int]], resume_hint: str | None = None) -> int:
    """The CLI's command runner (one line and an exit code for our errors); Ctrl-C says how to
    resume."""
    from leanloop.command import run_command

    return run_command(body, "interrupted." + (f" {resume_hint}" if resume_hint else ""))


def _ks(text: str) -> list[int]:
    from leanloop.errors import UsageError

    try:
        ks = sorted({int(x) for x in text.replace(" ", "").split(",") if x})
    except ValueError:
        raise UsageError(
            f"--k takes numbers separated by commas, like 1,2,8 (got `{text}`)."
        ) from None
    if not ks:
        raise UsageError("--k needs at least one number.")
    return ks


def _shard(text: str | None) -> tuple[int, int] | None:
    from leanloop.errors import UsageError

    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard takes I/N, like 1/4 (got `{text}`).") from None
    if not 1 <= i <= n:
        raise UsageError(f"--shard {text}: I must be between 1 and N.")
    return i, n


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(
    dataset: Annotated[
        Path,
        typer.Argument(
            metavar="DATASET",
            help="A directory of .lean files, a .jsonl file, or a LeanDojo theorem list "
            "(with --project naming your local clone of its repository).",
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            rich_help_panel=MODEL,
            help="Model name, or builtin:automation for the built-in prover "
            f"(default: {_default('model')}).",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            rich_help_panel=MODEL,
            help=f"OpenAI-compatible base URL (default: {_default('base_url')}).",
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            metavar="VARIABLE",
            rich_help_panel=MODEL,
            help=f"Environment variable holding the API key (default: {_default('api_key_env')}).",
        ),
    ] = None,
    premises: PremisesOpt = None,
    mode: ModeOpt = None,
    samples: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            rich_help_panel=BUDGET,
            help=f"Independent samples per problem (n) (default: {_default('samples')}).",
        ),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            rich_help_panel=BUDGET,
            help=f"Rounds of feedback per sample (default: {_default('rounds')}).",
        ),
    ] = None,
    k: Annotated[
        str,
        typer.Option(
            "--k",
            metavar="K,K…",
            rich_help_panel=BUDGET,
            show_default=False,
            help="The k of pass@k, comma-separated (default: 1).",
        ),
    ] = "1",
    limit: Annotated[
        int | None,
        typer.Option(
            metavar="M",
            rich_help_panel=BUDGET,
            help="Only the first M problems (default: all).",
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            rich_help_panel=BUDGET,
            help=f"Samples running at once (default: {_default('concurrency')}).",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="I/N",
            rich_help_panel=BUDGET,
            help="Run the I-th of N deterministic parts, 1-based (default: all problems).",
        ),
    ] = None,
    max_tool_calls: MaxToolCallsOpt = None,
    tool_timeout: ToolTimeoutOpt = None,
    token_budget: TokenBudgetOpt = None,
    project: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            rich_help_panel=LEAN,
            help="The Lake project the problems are checked in (default: found from "
            "the dataset, else the current directory).",
        ),
    ] = None,
    lean_cmd: Annotated[
        str | None,
        typer.Option(
            metavar="COMMAND",
            rich_help_panel=LEAN,
            help="Command that checks a file, given its path (default: lake env lean --json).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            rich_help_panel=LEAN,
            help=f"Seconds per Lean run (default: {_default('timeout')}).",
        ),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option(
            metavar="required|auto|off",
            rich_help_panel=LEAN,
            help=f"Run Lean in a sandbox (default: {_default('sandbox')}).",
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            metavar="cli|repl",
            rich_help_panel=LEAN,
            help="cli: one `lean --json` run per check; repl: a pool of warm Lean REPLs "
            f"(default: {_default('backend')}).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            metavar="DIR",
            rich_help_panel=OUTPUT,
            show_default=False,
            help="Run directory: attempts.jsonl, run.json, summaries (default: bench-run).",
        ),
    ] = DEFAULT_OUT,
    json_out: JsonOpt = False,
    infra_as_failure: InfraOpt = False,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="lean|jsonl|leandojo",
            help="The dataset's format (default: detected).",
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(metavar="SPLIT", help="JSONL only: the split to run (default: all)."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", metavar="", help="Stop at a malformed JSONL line instead of skipping it."
        ),
    ] = False,
    known_issues: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="JSON list of {name, reason} excluded from the score (default: "
            "known_issues.json beside the dataset).",
        ),
    ] = None,
    with_answers: Annotated[
        bool,
        typer.Option(
            "--with-answers",
            metavar="",
            help="Ask for the value of answer holes (abbrev …_solution := sorry) with the proof.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            metavar="",
            help="Resume even if the model, settings or data changed.",
        ),
    ] = False,
    retry_infra: Annotated[
        bool,
        typer.Option(
            "--retry-infra", metavar="", help="Run infra attempts of an earlier run again."
        ),
    ] = False,
    executor: Annotated[
        str,
        typer.Option(
            metavar="local|ray",
            show_default=False,
            help="local: asyncio on this machine; ray: a Ray cluster, with the `ray` extra "
            "(default: local).",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Ray cluster address (default: start a local Ray)."),
    ] = None,
) -> None:
    """Run every sample of every problem and journal each attempt; resumable."""

    async def body() -> int:
        from leanloop.bench.command_run import RunArgs, run_bench

        args = RunArgs(
            dataset=dataset,
            ks=_ks(k),
            limit=limit,
            out=out,
            fmt=fmt,
            split=split,
            strict=strict,
            shard=_shard(shard),
            project=project,
            known_issues=known_issues,
            force=force,
            retry_infra=retry_infra,
            infra_as_failure=infra_as_failure,
            json_out=json_out,
            executor=executor,
            ray_address=ray_address,
            with_answers=with_answers,
            flags=dict(
                samples=samples,
                rounds=rounds,
                concurrency=concurrency,
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                lean_cmd=lean_cmd,
                timeout=timeout,
                sandbox=sandbox,
                backend=backend,
                premises=premises,
                mode=mode,
                max_tool_calls=max_tool_calls,
                tool_timeout=tool_timeout,
                token_budget=token_budget,
            ),
        )
        return await run_bench(args)

    hint = f"Finished attempts are kept in {out}; run the same command again to resume."
    raise typer.Exit(_run(body, hint))


def report(
    directory: OutArg,
    json_out: JsonOpt = False,
    infra_as_failure: InfraOpt = False,
    no_plots: Annotated[
        bool,
        typer.Option("--no-plots", metavar="", rich_help_panel=OUTPUT, help="Skip the PNG plots."),
    ] = False,
) -> None:
    """Write summary.json, summary.md and PNG plots for a run directory."""

    async def body() -> int:
        from leanloop.bench.command_run import write_report

        await asyncio.sleep(0)
        write_report(
            directory, infra_as_failure=infra_as_failure, json_out=json_out, plots=not no_plots
        )
        return 0

    raise typer.Exit(_run(body))


def compare(
    directories: Annotated[
        list[Path], typer.Argument(metavar="DIR…", help="Run directories to compare.")
    ],
    json_out: JsonOpt = False,
    infra_as_failure: InfraOpt = False,
) -> None:
    """Put runs side by side; warn when they ran on different datasets."""

    async def body() -> int:
        from leanloop.bench.command_run import compare_runs

        await asyncio.sleep(0)
        compare_runs(directories, infra_as_failure=infra_as_failure, json_out=json_out)
        return 0

    raise typer.Exit(_run(body))
