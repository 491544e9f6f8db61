"""The `leanloop` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanloop.command import run_command
from leanloop.errors import UsageError
from leanloop.options import (
    BUDGET,
    OUTPUT,
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    Command,
    ConcurrencyOpt,
    EffortOpt,
    Group,
    JsonOpt,
    LeanCmdOpt,
    ModelOpt,
    NativeOpt,
    ReplayOpt,
    RequestTimeoutOpt,
    RoundsOpt,
    SamplesOpt,
    SandboxOpt,
    TimeoutOpt,
)
from leanloop.settings import Settings, load_settings

if TYPE_CHECKING:
    from leanloop.report import RunReport

app = typer.Typer(
    name="leanloop",
    cls=Group,
    help="Prove Lean 4 theorems with a language model and keep only what Lean accepts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _settings(path: Path | None, flags: dict[str, Any]) -> Settings:
    from leanloop.lean.project import find_lake_root

    dirs = [Path.cwd()]
    if path is not None and (root := find_lake_root(path.resolve())) is not None:
        dirs.append(root)
    return load_settings(flags, dirs)


def _write_json(dest: Path, data: str) -> str | None:
    """Write the report; the reason it could not be written, or ``None``."""
    from leanloop.files import atomic_write

    try:
        atomic_write(dest, data.encode("utf-8"))
    except OSError as e:
        return f"Cannot write the report to {dest}: {e.strerror}."
    return None


def _summary(report: RunReport) -> str:
    from leanloop.report import Status

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
    if report.stopped:
        unfinished = sum(t.status is Status.STOPPED for t in report.targets)
        lines.append(
            f"The run stopped early ({unfinished} target(s) not finished): {report.stopped}"
        )
    if report.written:
        kept = [t.name for t in report.targets if t.status is Status.PROVED]
        lines.append(f"Wrote the verified proofs to {report.written}: {', '.join(kept)}.")
    elif report.unwritten:
        lines.append(f"Verified but not written: {', '.join(report.unwritten)}.")
    elif report.dry_run and proved:
        lines.append("Dry run: nothing was written.")
    elif proved:
        lines.append("Nothing was written.")
    if report.error:
        lines.append(report.error)
    if any(t.native_decide for t in report.targets):
        lines.append(
            "* accepted only because --allow-native-decide trusts compiled code (native_decide)."
        )
    for t in report.targets:
        if t.status not in (Status.PROVED, Status.STOPPED) and t.note:
            lines.append(f"  {t.name}: {t.note}")
    return "\n".join(lines)


def _check_destinations(
    path: Path, output: Path | None, report: Path | None, *, dry_run: bool
) -> None:
    """Everything prove will write must be writable before Lean runs or the model is asked."""
    from leanloop.files import unwritable

    real = path.resolve()
    if output is not None and output.resolve() == real:
        raise UsageError("--output must differ from the input file (omit it to write in place).")
    if report is not None and report.resolve() == real:
        raise UsageError("--report must not be the Lean file itself.")
    if report is not None and output is not None and report.resolve() == output.resolve():
        raise UsageError("--report and --output must be different files.")
    checks: list[tuple[str, Path]] = [("--report", report)] if report is not None else []
    if output is not None:
        checks.append(("--output", output))
    elif not dry_run:
        checks.append(("The file", path))
    for what, dest in checks:
        if (problem := unwritable(dest, what)) is not None:
            if what == "The file":
                problem = problem.rstrip(".") + " (pass --output or --dry-run)."
            raise UsageError(problem)


@app.command(cls=Command)
def prove(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="The Lean file whose `sorry`s to prove.")
    ],
    theorem: Annotated[
        list[str] | None,
        typer.Option(
            "--theorem",
            "-t",
            metavar="NAME",
            help="Only this declaration (full name works; example@LINE for an example); "
            "repeatable (default: every declaration with a `sorry`).",
        ),
    ] = None,
    samples: SamplesOpt = None,
    rounds: RoundsOpt = None,
    concurrency: ConcurrencyOpt = None,
    eager: Annotated[
        bool | None,
        typer.Option(
            "--eager/--no-eager",
            metavar="",
            help="Start every sample at once: faster, but a target proved at once still pays "
            "for all of them (default: off).",
            rich_help_panel=BUDGET,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            metavar="",
            help="Prove and check, but write nothing (default: off).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the proved file here instead of in place (default: in place).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write a JSON report here (default: none).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    reasoning_effort: EffortOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
) -> None:
    """Prove the `sorry`s of a Lean file; write back only proofs Lean accepted."""
    from leanloop.files import parse
    from leanloop.progress import PlainDisplay, make_display
    from leanloop.prove import Interrupted, prove_file
    from leanloop.session import choose_model, make_checker, make_policy, make_replayer

    async def body() -> int:
        settings = _settings(
            path,
            dict(
                replay=replay,
                samples=samples,
                rounds=rounds,
                concurrency=concurrency,
                eager=eager,
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                reasoning_effort=reasoning_effort,
                request_timeout=request_timeout,
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                backend=backend,
            ),
        )
        from leanloop.files import SourceFile
        from leanloop.model import Announcing
        from leanloop.source.targets import find_targets

        # Bad input (unreadable file, unwritable destination, unterminated comment, unknown
        # theorem) is reported before anything else, so that it is the only line the user sees,
        # and before Lean runs or the model is paid.
        source = SourceFile.read(path)
        _check_destinations(path, output, report, dry_run=dry_run)
        doc = parse(source)
        targets = find_targets(doc, theorem or None)
        checker = make_checker(settings, path)
        try:
            # `--replay required` without the tool stops here, before any model call.
            replayer = await make_replayer(settings, path) if targets else None
        except BaseException:
            await checker.aclose()
            raise
        choice = choose_model(settings)
        display = make_display(len(targets)) if targets else PlainDisplay()
        if choice.notice:
            display.say(choice.notice)
        if isinstance(choice.model, Announcing):
            choice.model.set_notifier(display.say)
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
                say=display.say,
                progress=display.event,
                replayer=replayer,
            )
        except Interrupted as stop:
            display.close()
            if json_out:
                typer.echo(stop.report.model_dump_json(indent=2))
            lost = stop.report.unwritten
            tail = f" Verified but not written: {', '.join(lost)}." if lost else ""
            typer.echo(f"{stop}{tail}", err=True)
            return stop.exit_code
        finally:
            display.close()
            await choice.model.aclose()
            await checker.aclose()
        data = result.model_dump_json(indent=2)
        report_problem = _write_json(report, data) if report is not None else None
        if json_out:
            typer.echo(data)
        elif result.targets:
            typer.echo(_summary(result))
        problems = [p for p in (result.stopped, result.error, report_problem) if p]
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        if problems:
            return 2
        return 0 if result.proved == len(result.targets) else 1

    raise typer.Exit(run_command(body))


@app.command(cls=Command)
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

    raise typer.Exit(run_command(body))


@app.command(cls=Command)
def doctor(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH", help="A Lean file or project directory (default: the current one)."
        ),
    ] = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    lean_cmd: LeanCmdOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
) -> None:
    """What leanloop found (Lean, Lake, the project, the endpoint, the sandbox) and what to do.

    It takes the endpoint options `prove` takes and checks the endpoint `prove` would use."""
    from leanloop.doctor import SectionSource, cage_section, diagnose, replay_section

    async def body() -> int:
        where = path or Path.cwd()
        settings = _settings(
            where if where.exists() else Path.cwd(),
            dict(
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                lean_cmd=lean_cmd,
                sandbox=sandbox,
                backend=backend,
                replay=replay,
            ),
        )
        extra: list[SectionSource] = [cage_section, replay_section]
        result = await diagnose(settings, where, extra=extra)
        typer.echo(result.model_dump_json(indent=2) if json_out else result.render())
        return 0 if result.ok else 1

    raise typer.Exit(run_command(body))


@app.command(cls=Command)
def audit(
    path: Annotated[Path, typer.Argument(help="The Lean file to audit.")],
    json_out: JsonOpt = False,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
) -> None:
    """Run the acceptance gate on a file as it stands; exit 1 on any finding."""
    from leanloop.audit import audit_file
    from leanloop.session import make_checker, make_policy, make_replayer

    async def body() -> int:
        settings = _settings(
            path,
            dict(
                lean_cmd=lean_cmd,
                timeout=timeout,
                allow_native_decide=allow_native_decide,
                sandbox=sandbox,
                backend=backend,
                replay=replay,
            ),
        )
        from leanloop.files import SourceFile

        SourceFile.read(path)
        checker = make_checker(settings, path)
        typer.echo(f"Running Lean on {path}…", err=True)
        try:
            replayer = await make_replayer(settings, path)
            result = await audit_file(
                path,
                checker,
                make_policy(settings),
                replayer=replayer,
                replay_required=settings.replay == "required",
            )
        finally:
            await checker.aclose()
        typer.echo(result.model_dump_json(indent=2) if json_out else result.render())
        return 0 if result.ok else 1

    raise typer.Exit(run_command(body))


def _show_version(value: bool) -> None:
    if value:
        from leanloop import __version__

        typer.echo(f"leanloop {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            is_eager=True,
            callback=_show_version,
            help="Print leanloop's version and exit.",
        ),
    ] = False,
) -> None:
    """Prove Lean 4 theorems with a language model and keep only what Lean accepts."""


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
