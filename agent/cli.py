"""The `leanloop` command line."""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from leanloop.errors import LeanloopError, UsageError
from leanloop.lean.project import find_lake_root
from leanloop.loop import Event
from leanloop.report import RunReport, Status
from leanloop.settings import Settings, load_settings

app = typer.Typer(
    name="leanloop",
    help="Prove Lean 4 theorems with a language model and keep only what Lean accepts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
T = TypeVar("T")

# Options shared by several commands.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
TimeoutOpt = Annotated[float | None, typer.Option(help="Seconds per Lean run.")]
NativeOpt = Annotated[
    bool | None,
    typer.Option("--allow-native-decide", help="Accept proofs that trust compiled code."),
]
SandboxOpt = Annotated[str | None, typer.Option(help="required, auto or off.")]
BackendOpt = Annotated[
    str | None, typer.Option(help="cli (lean --json per check) or repl (warm REPL pool).")
]
LeanCmdOpt = Annotated[
    str | None,
    typer.Option(
        help="Command that checks a file, given its path (default: lake env lean --json)."
    ),
]


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command body; turn our errors into one line and an exit code."""
    try:
        return asyncio.run(coro_fn())
    except LeanloopError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written.", err=True)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as e:
        if os.environ.get("LEANLOOP_DEBUG"):
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(e).__name__}: {e} (set LEANLOOP_DEBUG=1 for "
            "details; please report it)",
            err=True,
        )
        raise typer.Exit(70) from None


def _settings(path: Path | None, flags: dict[str, Any]) -> Settings:
    dirs = [Path.cwd()]
    if path is not None and (root := find_lake_root(path.resolve())) is not None:
        dirs.append(root)
    return load_settings(flags, dirs)


def _write_json(dest: Path, data: str) -> None:
    from leanloop.files import atomic_write

    try:
        atomic_write(dest, data.encode("utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot write the report to {dest}: {e.strerror}.") from None


def _progress(event: Event) -> None:
    if event.kind == "start":
        msg = "working"
    elif event.kind == "round":
        msg = f"attempt {event.attempt}, round {event.round}: {event.message}"
    else:
        msg = event.message
    typer.echo(f"[{event.target}] {msg}", err=True)


def _summary(report: RunReport) -> str:
    rows = [("theorem", "line", "status", "rounds", "calls", "tokens", "cost", "time")]
    for t in report.targets:
        cost = "?" if t.cost_usd is None else f"${t.cost_usd:.4f}"
        rows.append(
            (
                t.name,
                str(t.line),
                t.status.value + ("*" if t.native_decide else ""),
                str(t.rounds),
                str(t.model_calls),
                str(t.prompt_tokens + t.completion_tokens),
                cost,
                f"{t.seconds:.1f}s",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    proved = report.proved
    lines.append("")
    lines.append(f"{proved}/{len(report.targets)} proved with {report.model}.")
    if report.written:
        lines.append(f"Wrote the verified proofs to {report.written}.")
    elif report.dry_run and proved:
        lines.append("Dry run: nothing was written.")
    elif proved:
        lines.append("Nothing was written.")
    if any(t.native_decide for t in report.targets):
        lines.append(
            "* accepted only because --allow-native-decide trusts compiled code (native_decide)."
        )
    for t in report.targets:
        if t.status is not Status.PROVED and t.note:
            lines.append(f"  {t.name}: {t.note}")
    return "\n".join(lines)


@app.command()
def prove(
    path: Annotated[Path, typer.Argument(help="The Lean file whose `sorry`s to prove.")],
    theorem: Annotated[
        list[str] | None,
        typer.Option(
            "--theorem", "-t", help="Only this declaration (full name works); repeatable."
        ),
    ] = None,
    samples: Annotated[int | None, typer.Option(help="Independent attempts per target.")] = None,
    rounds: Annotated[int | None, typer.Option(help="Rounds of feedback per attempt.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Attempts running at once.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Prove but write nothing.")] = False,
    output: Annotated[
        Path | None, typer.Option(help="Write the proved file here instead of in place.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write a JSON report here.")] = None,
    json_out: JsonOpt = False,
    model: Annotated[
        str | None, typer.Option(help="Model name, or builtin:automation for the built-in prover.")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key.")
    ] = None,
    reasoning_effort: Annotated[str | None, typer.Option(help="none or high.")] = None,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
) -> None:
    """Prove the `sorry`s of a Lean file; write back only proofs Lean accepted."""
    from leanloop.files import parse
    from leanloop.prove import prove_file, stderr_say
    from leanloop.session import choose_model, make_checker, make_policy

    async def body() -> int:
        settings = _settings(
            path,
            dict(
                samples=samples,
                rounds=rounds,
                concurrency=concurrency,
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                reasoning_effort=reasoning_effort,
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                backend=backend,
            ),
        )
        if output is not None and output.resolve() == path.resolve():
            raise UsageError(
                "--output must differ from the input file (omit it to write in place)."
            )
        for flag, dest in (("--output", output), ("--report", report)):
            # Found out now, not after the model calls have been paid for.
            if dest is not None and not dest.resolve().parent.is_dir():
                raise UsageError(f"{flag} {dest}: the directory {dest.parent} does not exist.")
        from leanloop.files import SourceFile
        from leanloop.source.targets import find_targets

        # Bad input (unreadable file, unterminated comment, unknown theorem) is reported before
        # anything else, so that it is the only line the user sees.
        source = SourceFile.read(path)
        doc = parse(source)
        targets = find_targets(doc, theorem or None)
        checker = make_checker(settings, path)
        choice = choose_model(settings)
        if choice.notice:
            stderr_say(choice.notice)
        try:
            result = await prove_file(
                source,
                doc,
                targets,
                settings=settings,
                model=choice.model,
                checker=checker,
                policy=make_policy(settings),
                dry_run=dry_run,
                output=output,
                say=stderr_say,
                progress=_progress,
            )
        finally:
            await choice.model.aclose()
            await checker.aclose()
        data = result.model_dump_json(indent=2)
        if report is not None:
            _write_json(report, data)
        if json_out:
            typer.echo(data)
        elif result.targets:
            typer.echo(_summary(result))
        return 0 if result.proved == len(result.targets) else 1

    raise typer.Exit(_run(body))


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="The Lean file to check.")],
    json_out: JsonOpt = False,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Run Lean on a file: its messages, `sorry` count and each theorem's axioms."""
    from leanloop.inspect import inspect_file
    from leanloop.session import make_checker

    async def body() -> int:
        settings = _settings(path, dict(lean_cmd=lean_cmd, timeout=timeout))
        from leanloop.files import SourceFile

        SourceFile.read(path)
        checker = make_checker(settings, path)
        typer.echo(f"Running Lean on {path}…", err=True)
        try:
            result = await inspect_file(path, checker)
        finally:
            await checker.aclose()
        if json_out:
            typer.echo(result.model_dump_json(indent=2))
        else:
            typer.echo(result.render())
        return 0 if result.ok else 1

    raise typer.Exit(_run(body))


@app.command()
def doctor(
    json_out: JsonOpt = False,
    path: Annotated[Path | None, typer.Argument(help="A Lean file or project directory.")] = None,
) -> None:
    """What leanloop found (Lean, Lake, the project, the endpoint, the sandbox) and what to do."""
    from leanloop.doctor import diagnose

    async def body() -> int:
        settings = _settings(path or Path.cwd(), {})
        result = await diagnose(settings, path or Path.cwd())
        typer.echo(result.model_dump_json(indent=2) if json_out else result.render())
        return 0 if result.ok else 1

    raise typer.Exit(_run(body))


@app.command()
def audit(
    path: Annotated[Path, typer.Argument(help="The Lean file to audit.")],
    json_out: JsonOpt = False,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
) -> None:
    """Run the acceptance gate on a file as it stands; exit 1 on any finding."""
    from leanloop.audit import audit_file
    from leanloop.session import make_checker, make_policy

    async def body() -> int:
        settings = _settings(
            path,
            dict(
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                backend=backend,
            ),
        )
        from leanloop.files import SourceFile

        SourceFile.read(path)
        checker = make_checker(settings, path)
        typer.echo(f"Running Lean on {path}…", err=True)
        try:
            result = await audit_file(path, checker, make_policy(settings))
        finally:
            await checker.aclose()
        typer.echo(result.model_dump_json(indent=2) if json_out else result.render())
        return 0 if result.ok else 1

    raise typer.Exit(_run(body))


def _register_commands() -> None:
    from leanloop.bench.command import register as register_bench
    from leanloop.ci.command import register as register_ci

    register_bench(app)
    register_ci(app)


_register_commands()


def main() -> None:
    try:
        app()
    except SystemExit as e:
        code = e.code
        sys.exit(code if isinstance(code, int) else (0 if code is None else 2))


if __name__ == "__main__":
    main()
