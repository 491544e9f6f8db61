"""The `leanloop` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanloop.command import INTERRUPT_EXIT, run_command
from leanloop.errors import LeanloopError, UsageError
from leanloop.options import (
    BUDGET,
    MODEL,
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
    MaxToolCallsOpt,
    ModelOpt,
    ModeOpt,
    NativeOpt,
    PremisesOpt,
    ReplayOpt,
    RequestTimeoutOpt,
    RoundsOpt,
    SamplesOpt,
    SandboxOpt,
    TimeoutOpt,
    TokenBudgetOpt,
    ToolTimeoutOpt,
)
from leanloop.settings import Settings

if TYPE_CHECKING:
    from leanloop.lean.checker import Checker
    from leanloop.report import RunReport
    from leanloop.run_files import Backends, Job, Outcome

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
    from leanloop.session import settings_for

    return settings_for(path, flags)


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
    whole = [t.name for t in report.targets if t.whole_body and t.status is Status.PROVED]
    if whole:
        lines.append(f"Rewritten whole (--whole-body): {', '.join(whole)}.")
    if report.not_targets:
        lines.append(f"{len(report.not_targets)} `sorry` leanloop does not prove:")
        lines.extend(f"  {n.render()}" for n in report.not_targets)
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


PathsArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="PATH...",
        help="Lean files, or directories (their .lean files, build output left out).",
        show_default=False,
    ),
]


def _unwritten_proofs(report: RunReport) -> str:
    """The verified proofs a run did not write, to paste in by hand (Ctrl-C)."""
    lines = ["Verified but not written; paste them in, or run again:"]
    for t in report.targets:
        if t.name in report.unwritten and t.proof is not None:
            lines.append(f"{report.file}:{t.line}: {t.name}")
            lines.extend(f"    {line}" for line in t.proof.splitlines())
    return "\n".join(lines)


def _notes(notes: list[str]) -> None:
    for note in notes:
        typer.echo(note, err=True)


def _select(jobs: list[Any], names: list[str] | None, whole_body: bool = False) -> None:
    """Each job's targets: all, or those ``names`` pick. With several files, a name has to
    match in one of them (a theorem lives in one file)."""
    from leanloop.source.targets import find_targets

    if not names or len(jobs) == 1:
        for job in jobs:
            job.targets = find_targets(job.doc, names or None, whole_body=whole_body)
        return
    for job in jobs:
        job.targets = []
    for name in names:
        problems: list[str] = []
        for job in jobs:
            try:
                picked = find_targets(job.doc, [name], whole_body=whole_body)
            except UsageError as e:
                problems.append(str(e))
                continue
            job.targets += [t for t in picked if t not in job.targets]
        if len(problems) == len(jobs):
            has = [p for p in problems if "has no `sorry`" in p]
            raise UsageError(has[0] if has else f"No theorem named `{name}` in these files.")


@app.command(cls=Command)
def prove(
    paths: PathsArg,
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
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    reasoning_effort: EffortOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    premises: PremisesOpt = None,
    mode: ModeOpt = None,
    samples: SamplesOpt = None,
    rounds: RoundsOpt = None,
    concurrency: ConcurrencyOpt = None,
    max_tool_calls: MaxToolCallsOpt = None,
    tool_timeout: ToolTimeoutOpt = None,
    token_budget: TokenBudgetOpt = None,
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
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
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
            help="Write the proved file here instead of in place; one input file only "
            "(default: in place).",
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
    whole_body: Annotated[
        bool,
        typer.Option(
            "--whole-body",
            metavar="",
            help="Let the model rewrite the whole body of a theorem with several `sorry`s, "
            "instead of filling each in place and keeping the rest as you wrote it; the report "
            "names the theorems rewritten (default: off).",
            rich_help_panel=BUDGET,
        ),
    ] = False,
) -> None:
    """Prove the `sorry`s of Lean files; write back only proofs Lean accepted."""
    from leanloop.files import SourceFile, parse
    from leanloop.inputs import Batch, lean_files, single
    from leanloop.model import Announcing
    from leanloop.progress import PlainDisplay, make_display
    from leanloop.prove import Interrupted, prove_file
    from leanloop.report import RunReport
    from leanloop.run_files import Backends, Job, Outcome, file_error, stops_the_run
    from leanloop.session import choose_model, make_policy

    flags = dict(
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
        premises=premises,
        mode=mode,
        max_tool_calls=max_tool_calls,
        tool_timeout=tool_timeout,
        token_budget=token_budget,
    )

    async def body() -> int:
        # Bad input (a bad path, an unreadable file, an unwritable destination, an unterminated
        # comment, an unknown theorem) is reported before anything else, so that it is the only
        # line the user sees, and before Lean runs or the model is paid.
        files = lean_files(paths)
        one = single(paths)
        if output is not None and len(files) > 1:
            raise UsageError(
                "--output takes one Lean file; with several, each is written in place "
                "(or pass --dry-run)."
            )
        jobs = []
        for path in files:
            settings = _settings(path, flags)
            source = SourceFile.read(path)
            _check_destinations(path, output, report, dry_run=dry_run)
            jobs.append(Job(path, settings, source, parse(source)))
        _select(jobs, theorem, whole_body)
        total = sum(len(job.targets) for job in jobs)
        display = make_display(total) if total else PlainDisplay()
        backends = Backends(display.say)
        try:
            await _checkers_first(backends, jobs)
        except BaseException:
            display.close()
            raise
        choice = choose_model(jobs[0].settings)
        if choice.notice:
            display.say(choice.notice)
        if isinstance(choice.model, Announcing):
            choice.model.set_notifier(display.say)
        done = Outcome()
        try:
            for i, job in enumerate(jobs):
                checker = backends.checker(job)
                try:
                    # `--replay required` without the tool stops here, before any model call.
                    replayer = await backends.replayer(job) if job.targets else None
                    result = await prove_file(
                        job.source,
                        job.doc,
                        job.targets,
                        settings=job.settings,
                        model=choice.model,
                        checker=checker,
                        policy=make_policy(job.settings),
                        dry_run=dry_run,
                        output=output,
                        say=display.say,
                        progress=display.event,
                        replayer=replayer,
                        whole_file=not theorem,
                    )
                except Interrupted as stop:
                    display.close()
                    done.results.append(stop.report)
                    done.not_started = [str(j.path) for j in jobs[i + 1 :]]
                    return _interrupted(stop, done, one)
                except LeanloopError as e:
                    if one:
                        raise
                    done.errors.append(file_error(job, e))
                    if stops_the_run(e):
                        done.not_started = [str(j.path) for j in jobs[i + 1 :]]
                        break
                    display.say(f"error: {job.path}: {e}")
                    continue
                done.results.append(result)
                if result.stopped:
                    done.stopped = result.stopped
                    done.not_started = [str(j.path) for j in jobs[i + 1 :]]
                    break
        except asyncio.CancelledError:
            # Ctrl-C between two files: what was written before stays, and is named.
            written = [r.written for r in done.results if r.written]
            if not written:
                raise
            display.close()
            typer.echo(
                "interrupted; nothing more was written. Written before the interrupt: "
                f"{', '.join(written)}.",
                err=True,
            )
            return INTERRUPT_EXIT
        finally:
            display.close()
            await choice.model.aclose()
            await backends.aclose()
        if one:
            [result] = done.results
            data = result.model_dump_json(indent=2)
        else:
            batch = Batch[RunReport](
                files=done.results, errors=done.errors, not_started=done.not_started
            )
            data = batch.model_dump_json(indent=2)
        report_problem = _write_json(report, data) if report is not None else None
        if json_out:
            typer.echo(data)
        else:
            shown = [r for r in done.results if r.targets or r.not_targets]
            for k, r in enumerate(shown):
                if not one:
                    typer.echo(("\n" if k else "") + f"{r.file}:")
                typer.echo(_summary(r))
            if not one and shown:
                proved = sum(r.proved for r in shown)
                count = sum(len(r.targets) for r in shown)
                typer.echo(f"\n{proved}/{count} proved in {len(shown)} file(s).")
        if any(r.proved and r.replay is None for r in done.results):
            _notes(backends.notes)
        problems = [p for r in done.results for p in (r.stopped, r.error) if p]
        problems += [f"{e.file}: {e.error}" for e in done.errors]
        if done.not_started:
            problems.append(f"not started: {', '.join(done.not_started)}")
        if report_problem:
            problems.append(report_problem)
        for problem in dict.fromkeys(problems):
            typer.echo(f"error: {problem}", err=True)
        if problems:
            return 2
        return 0 if all(r.complete for r in done.results) else 1

    def _interrupted(stop: Interrupted, done: Outcome, one: bool) -> int:
        """Ctrl-C: nothing more is written. The verified proofs that were not are printed
        (as JSON with ``--json``, as text otherwise) and named on the last line."""
        from leanloop.inputs import Batch

        lost = stop.report.unwritten
        if json_out:
            if one:
                typer.echo(stop.report.model_dump_json(indent=2))
            else:
                batch = Batch[RunReport](
                    files=done.results, errors=done.errors, not_started=done.not_started
                )
                typer.echo(batch.model_dump_json(indent=2))
        elif lost:
            typer.echo(_unwritten_proofs(stop.report))
        written = [r.written for r in done.results[:-1] if r.written]
        before = f" Written before the interrupt: {', '.join(written)}." if written else ""
        what = str(stop) if not written else "interrupted; nothing more was written."
        tail = f" Verified but not written: {', '.join(lost)}." if lost else ""
        typer.echo(f"{what}{before}{tail}", err=True)
        return stop.exit_code

    raise typer.Exit(run_command(body))


@app.command(cls=Command)
def check(
    paths: PathsArg,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run Lean on files: their messages, `sorry` count and each theorem's axioms."""
    from leanloop.files import SourceFile
    from leanloop.inputs import Batch, lean_files, single
    from leanloop.inspect import FileCheck, inspect_file
    from leanloop.run_files import Backends, Job

    async def body() -> int:
        files = lean_files(paths)
        one = single(paths)
        jobs = [
            Job(p, _settings(p, dict(lean_cmd=lean_cmd, timeout=timeout)), SourceFile.read(p))
            for p in files
        ]
        backends = Backends(_stderr)

        async def one_file(job: Job, checker: Checker) -> FileCheck:
            return await inspect_file(job.path, checker)

        done = await _each_file(jobs, backends, one_file, one=one)
        results: list[FileCheck] = done.results
        return _finish_many(
            one=one,
            json_out=json_out,
            results=results,
            done=done,
            batch_json=lambda: Batch[FileCheck](
                files=results, errors=done.errors, not_started=done.not_started
            ).model_dump_json(indent=2),
            ok=all(r.ok for r in results),
        )

    raise typer.Exit(run_command(body))


def _finish_many(
    *,
    one: bool,
    json_out: bool,
    results: list[Any],
    done: Any,
    batch_json: Callable[[], str],
    ok: bool,
    notes: list[str] | None = None,
) -> int:
    """Print `check`'s or `audit`'s results: one file's as before, several as a batch. Exit 2
    when a file could not be processed, else 1 on a finding, else 0."""
    if json_out:
        typer.echo(results[0].model_dump_json(indent=2) if one else batch_json())
    else:
        for k, r in enumerate(results):
            if not one:
                typer.echo(("\n" if k else "") + f"{r.file}:")
            typer.echo(r.render())
    _notes(notes or [])
    for e in done.errors:
        typer.echo(f"error: {e.file}: {e.error}", err=True)
    if done.not_started:
        typer.echo(f"error: not started: {', '.join(done.not_started)}", err=True)
    if done.errors or done.not_started:
        return 2
    return 0 if ok else 1


async def _checkers_first(backends: Any, jobs: list[Any]) -> None:
    """Every file's checker, before any work: no Lean to run or a bad --lean-cmd is one
    sentence for the whole command, said before anything else."""
    try:
        for job in jobs:
            backends.checker(job)
    except BaseException:
        await backends.aclose()
        raise


async def _each_file(
    jobs: list[Job],
    backends: Backends,
    run: Callable[[Job, Checker], Awaitable[object]],
    *,
    one: bool,
) -> Outcome:
    """`check` and `audit` over their files, in order: each result, or its error (raised when
    there is one file only); an error for all files stops the run. The checkers are closed."""
    from leanloop.run_files import Outcome, file_error, stops_the_run

    await _checkers_first(backends, jobs)
    done = Outcome()
    try:
        for i, job in enumerate(jobs):
            checker = backends.checker(job)
            typer.echo(f"Running Lean on {job.path}…", err=True)
            try:
                done.results.append(await run(job, checker))
            except LeanloopError as e:
                if one:
                    raise
                done.errors.append(file_error(job, e))
                if stops_the_run(e):
                    done.not_started = [str(j.path) for j in jobs[i + 1 :]]
                    break
    finally:
        await backends.aclose()
    return done


def _stderr(message: str) -> None:
    typer.echo(message, err=True)


@app.command(cls=Command)
def doctor(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH",
            help="A Lean file or project directory (default: the current one).",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            metavar="",
            help="Also send the endpoint one tiny chat request (one token), since a key can "
            "list models and still be refused for chat (default: off).",
            rich_help_panel=MODEL,
        ),
    ] = False,
    lean_cmd: LeanCmdOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What leanloop found (Lean, Lake, the project, the endpoint, the sandbox, SafeVerify) and
    what to do.

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
        result = await diagnose(settings, where, extra=extra, probe=probe)
        typer.echo(result.model_dump_json(indent=2) if json_out else result.render())
        return 0 if result.ok else 1

    raise typer.Exit(run_command(body))


@app.command(cls=Command)
def audit(
    paths: PathsArg,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the acceptance gate on files as they stand; exit 1 on any finding."""
    from leanloop.audit import AuditReport, audit_file
    from leanloop.files import SourceFile
    from leanloop.inputs import Batch, lean_files, single
    from leanloop.run_files import Backends, Job
    from leanloop.session import make_policy

    flags = dict(
        lean_cmd=lean_cmd,
        timeout=timeout,
        allow_native_decide=allow_native_decide,
        sandbox=sandbox,
        backend=backend,
        replay=replay,
    )

    async def body() -> int:
        files = lean_files(paths)
        one = single(paths)
        jobs = [Job(p, _settings(p, flags), SourceFile.read(p)) for p in files]
        backends = Backends(_stderr)

        async def one_file(job: Job, checker: Checker) -> AuditReport:
            return await audit_file(
                job.path,
                checker,
                make_policy(job.settings),
                replayer=await backends.replayer(job),
                replay_required=job.settings.replay == "required",
            )

        done = await _each_file(jobs, backends, one_file, one=one)
        results: list[AuditReport] = done.results
        unreplayed = any(r.replay is None for r in results)
        return _finish_many(
            one=one,
            json_out=json_out,
            results=results,
            done=done,
            batch_json=lambda: Batch[AuditReport](
                files=results, errors=done.errors, not_started=done.not_started
            ).model_dump_json(indent=2),
            ok=all(r.ok for r in results),
            notes=backends.notes if unreplayed else [],
        )

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
    from leanloop.mcp_server import register as register_mcp

    register_bench(app)
    register_ci(app)
    register_mcp(app)


_register_commands()


def main() -> None:
    try:
        app()
    except SystemExit as e:
        code = e.code
        sys.exit(code if isinstance(code, int) else (0 if code is None else 2))


if __name__ == "__main__":
    main()
