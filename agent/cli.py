"""The `leanloop` command line."""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from leanloop.errors import LeanloopError, UsageError
from leanloop.settings import Settings, load_settings

if TYPE_CHECKING:
    from leanloop.report import RunReport

app = typer.Typer(
    name="leanloop",
    help="Prove Lean 4 theorems with a language model and keep only what Lean accepts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: the rich layout labels every flag `<bool>` and every repeatable option
    # `<list[str]>`; click's own says `--samples N` and `--dry-run`.
    rich_markup_mode=None,
)
T = TypeVar("T")


def _default(name: str) -> str:
    """A setting's default as the user would type it (settings files and LEANLOOP_* win)."""
    value = Settings.model_fields[name].default
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Options shared by several commands. Metavars say what to type; an empty one marks a flag.
JsonOpt = Annotated[
    bool, typer.Option("--json", metavar="", help="Print the result as JSON on stdout.")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(metavar="SECONDS", help=f"Seconds per Lean run (default: {_default('timeout')})."),
]
NativeOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-native-decide",
        metavar="",
        help="Accept proofs that trust compiled code (native_decide) (default: off).",
    ),
]
SandboxOpt = Annotated[
    str | None,
    typer.Option(
        metavar="required|auto|off",
        help=f"Run Lean in a sandbox (default: {_default('sandbox')}).",
    ),
]
ReplayOpt = Annotated[
    str | None,
    typer.Option(
        metavar="auto|required|off",
        help="The independent replay (SafeVerify) before writing: used when built, demanded, "
        f"or not run (default: {_default('replay')}).",
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        metavar="cli|repl",
        help="cli: one `lean --json` run per check; repl: a pool of warm Lean REPLs "
        f"(default: {_default('backend')}).",
    ),
]
LeanCmdOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COMMAND",
        help="Command that checks a file, given its path (default: lake env lean --json).",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Model name, or builtin:automation for the built-in prover "
        f"(default: {_default('model')}).",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help=f"OpenAI-compatible base URL (default: {_default('base_url')}).",
    ),
]
ApiKeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        metavar="VARIABLE",
        help=f"Environment variable holding the API key (default: {_default('api_key_env')}).",
    ),
]
EffortOpt = Annotated[
    str | None,
    typer.Option(
        metavar="none|high", help="Reasoning effort sent to the model (default: not sent)."
    ),
]

# `--mode agent` (prove and bench): the model calls leanloop's tools; budgets replace rounds.
ModeOpt = Annotated[
    str | None,
    typer.Option(
        metavar="default|agent",
        help="agent: the model calls check, goals, try_tactic, search and submit_proof "
        "itself, within the budgets below (default: default).",
    ),
]
MaxToolCallsOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help=f"Agent mode: tool calls per attempt (default: {_default('max_tool_calls')}).",
    ),
]
ToolTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help=f"Agent mode: seconds per tool call (default: {_default('tool_timeout')}).",
    ),
]
TokenBudgetOpt = Annotated[
    int | None,
    typer.Option(metavar="N", help="Agent mode: tokens per attempt (default: no limit)."),
]


def _run(
    coro_fn: Callable[[], Coroutine[Any, Any, T]],
    interrupted: str = "interrupted; nothing was written.",
) -> T:
    """Run a command body; turn our errors into one line and an exit code. ``interrupted`` is
    what Ctrl-C prints (the bench says how to resume)."""
    try:
        return asyncio.run(coro_fn())
    except LeanloopError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        typer.echo(interrupted, err=True)
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


@app.command()
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
            "repeatable.",
        ),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Independent attempts per target; by default a further one starts only after "
            f"a round failed (default: {_default('samples')}).",
        ),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            metavar="N", help=f"Rounds of feedback per attempt (default: {_default('rounds')})."
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            metavar="N", help=f"Attempts running at once (default: {_default('concurrency')})."
        ),
    ] = None,
    eager: Annotated[
        bool | None,
        typer.Option(
            "--eager/--no-eager",
            metavar="",
            help="Start every sample at once: faster, but a target proved at once still pays "
            "for all of them (default: off).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Prove and check, but write nothing.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the proved file here instead of in place."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a JSON report here.")
    ] = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    reasoning_effort: EffortOpt = None,
    lean_cmd: LeanCmdOpt = None,
    timeout: TimeoutOpt = None,
    allow_native_decide: NativeOpt = None,
    sandbox: SandboxOpt = None,
    backend: BackendOpt = None,
    replay: ReplayOpt = None,
    premises: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Add the top N declarations of the local premise index (the project and its "
            "packages) for each target to its first prompt (default: 0).",
        ),
    ] = None,
    mode: ModeOpt = None,
    max_tool_calls: MaxToolCallsOpt = None,
    tool_timeout: ToolTimeoutOpt = None,
    token_budget: TokenBudgetOpt = None,
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
            hints = await _premise_hints(path, settings.premises, display.say) if targets else None
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
                hints=hints,
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

    raise typer.Exit(_run(body))


async def _premise_hints(
    path: Path, count: int, say: Callable[[str], None]
) -> Callable[[Any, Any], Coroutine[Any, Any, str]] | None:
    """`--premises N`: the index of the file's workspace, and a function giving a target's top N
    declarations as prompt text."""
    if count <= 0:
        return None
    from leanloop.lean.project import find_lake_root
    from leanloop.premises.retrieve import open_retriever, render_premises

    root = find_lake_root(path.resolve()) or path.resolve().parent
    retriever = await open_retriever(root, count, say)

    async def hints(doc: Any, target: Any) -> str:
        return render_premises(await retriever(doc, target))

    return hints


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

    raise typer.Exit(_run(body))


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
