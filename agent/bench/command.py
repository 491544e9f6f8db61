"""The `leanloop bench` command, registered on the CLI's app."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

DEFAULT_OUT = Path("bench-run")

OutArg = Annotated[Path, typer.Argument(help="A run directory (the --out of `bench run`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
InfraOpt = Annotated[
    bool,
    typer.Option(
        "--infra-as-failure",
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
            help="A directory of .lean files, a .jsonl file, or a LeanDojo theorem list "
            "(with --project naming your local clone of its repository)."
        ),
    ],
    samples: Annotated[
        int | None, typer.Option(help="Independent samples per problem (n).")
    ] = None,
    rounds: Annotated[int | None, typer.Option(help="Rounds of feedback per sample.")] = None,
    k: Annotated[str, typer.Option("--k", help="The k of pass@k, comma-separated.")] = "1",
    limit: Annotated[int | None, typer.Option(help="Only the first M problems.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Samples running at once.")] = None,
    out: Annotated[
        Path, typer.Option(help="Run directory: attempts.jsonl, run.json, summaries.")
    ] = DEFAULT_OUT,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="lean, jsonl or leandojo (detected by default)."),
    ] = None,
    split: Annotated[str | None, typer.Option(help="JSONL only: the split to run.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at a malformed JSONL line instead of skipping.")
    ] = False,
    shard: Annotated[
        str | None, typer.Option(help="I/N: run the I-th of N deterministic parts (1-based).")
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            help="The Lake project the problems are checked in (default: found from "
            "the dataset, else the current directory)."
        ),
    ] = None,
    known_issues: Annotated[
        Path | None,
        typer.Option(
            help="JSON list of {name, reason} excluded from the score (default: "
            "known_issues.json beside the dataset)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Resume even if the model, settings or data changed.")
    ] = False,
    retry_infra: Annotated[
        bool, typer.Option("--retry-infra", help="Run infra attempts of an earlier run again.")
    ] = False,
    with_answers: Annotated[
        bool,
        typer.Option(
            "--with-answers",
            help="Ask for the value of answer holes (abbrev …_solution := sorry) with the proof.",
        ),
    ] = False,
    infra_as_failure: InfraOpt = False,
    json_out: JsonOpt = False,
    executor: Annotated[
        str, typer.Option(help="local (asyncio, this machine) or ray (a Ray cluster).")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name, or builtin:automation.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key.")
    ] = None,
    lean_cmd: Annotated[str | None, typer.Option(help="Command that checks a file.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per Lean run.")] = None,
    sandbox: Annotated[str | None, typer.Option(help="required, auto or off.")] = None,
    backend: Annotated[str | None, typer.Option(help="cli or repl.")] = None,
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
            ),
        )
        return await run_bench(args)

    hint = f"Finished attempts are kept in {out}; run the same command again to resume."
    raise typer.Exit(_run(body, hint))


def report(
    directory: OutArg,
    json_out: JsonOpt = False,
    infra_as_failure: InfraOpt = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
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
    directories: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
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
