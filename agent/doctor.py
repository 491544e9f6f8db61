"""`leanloop doctor`: what is there, what is missing, and what to do about it."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from leanloop.errors import LeanloopError
from leanloop.lean.project import find_lake_root
from leanloop.lean.runner import run_process
from leanloop.settings import BUILTIN_MODEL, Settings

_DEFAULT_BASE_URL = str(Settings.model_fields["base_url"].default).rstrip("/")
_PROBE_TIMEOUT = 20.0


class Finding(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    # Not there, but nothing needs it: shown as a note, and `doctor` still exits 0.
    optional: bool = False


class Section(BaseModel):
    """A titled block of doctor's output contributed by another part of leanloop (the cage's
    exposure list, the replay status …): its findings count towards ``ok``."""

    title: str
    findings: list[Finding] = []
    lines: list[str] = []  # plain information, shown under the title


class SectionSource(Protocol):
    """Where extra sections come from: called once per `doctor` run, after the built-in checks."""

    async def __call__(self, settings: Settings, where: Path) -> Section: ...


class Diagnosis(BaseModel):
    findings: list[Finding]
    sections: list[Section] = []  # extra sections, in the order they were given

    @property
    def ok(self) -> bool:
        every = [*self.findings, *(f for s in self.sections for f in s.findings)]
        return all(f.ok or f.optional for f in every)

    def render(self) -> str:
        lines = _render_findings(self.findings)
        for section in self.sections:
            lines.append("")
            lines.append(f"{section.title}:")
            lines.extend(_render_findings(section.findings))
            lines.extend(f"    {line}" for line in section.lines)
        return "\n".join(lines)


def _render_findings(findings: list[Finding]) -> list[str]:
    lines = []
    for f in findings:
        label = "ok " if f.ok else ("note" if f.optional else "MISSING")
        lines.append(f"{label} {f.name}: {f.detail}")
        if f.fix:
            lines.append(f"        -> {f.fix}")
    return lines


async def _version(tool: str, cwd: Path, env: dict[str, str]) -> tuple[Finding, str]:
    """The tool's finding and its `--version` output."""
    exe = shutil.which(tool)
    if exe is None:
        return Finding(
            name=tool,
            ok=False,
            detail="not found on PATH",
            fix="install Lean with elan: https://github.com/leanprover/elan",
        ), ""
    # Lean never sees leanloop's whole environment, not even for `--version` (issue 14).
    proc = await run_process([exe, "--version"], cwd=cwd, timeout=60, env=env)
    text = (proc.stdout or proc.stderr).strip().splitlines()
    ok = proc.exit_code == 0 and bool(text)
    return Finding(
        name=tool,
        ok=ok,
        detail=f"{exe}: {text[0] if text else 'no version output'}",
        fix=None if ok else f"`{tool} --version` failed; reinstall with elan",
    ), proc.stdout


def _toolchain(root: Path | None, lean_output: str) -> Finding | None:
    """Whether the Lean on PATH is the one the project's `lean-toolchain` asks for: checks
    would otherwise run under another Lean than the project's build (elan, run in the project,
    picks the right one)."""
    from leanloop.lean.messages import lean_version
    from leanloop.lean.replay import project_toolchain, toolchain_matches

    wanted = project_toolchain(root)
    found = lean_version(lean_output)
    if wanted is None or found is None:
        return None
    match = toolchain_matches(wanted, found)
    if match is False:
        return Finding(
            name="toolchain",
            ok=False,
            detail=f"the project's lean-toolchain asks for {wanted}, but the Lean on PATH is "
            f"{found}: proofs would be checked by another Lean than the project's",
            fix="install elan, which runs the project's toolchain inside the project, or put "
            f"Lean {wanted.rsplit(':', 1)[-1].removeprefix('v')} first on PATH",
        )
    what = "matches" if match else "may match (a channel or a development build)"
    return Finding(name="toolchain", ok=True, detail=f"Lean {found} {what} {wanted}")


async def _endpoint(
    settings: Settings, env: Mapping[str, str] | None = None, *, probe: bool = False
) -> Finding:
    """The endpoint `prove` would use, decided the same way (see ``session.choose_model``);
    with ``probe``, also one tiny chat request, since a key may list models and still be
    refused for chat."""
    env = os.environ if env is None else env
    if settings.model.startswith("builtin:"):
        return Finding(name="endpoint", ok=True, detail="built-in prover, no endpoint needed")
    url = settings.base_url
    key = env.get(settings.api_key_env, "")
    if not key:
        if url.rstrip("/") == _DEFAULT_BASE_URL:
            # Nothing is broken: `prove` works, with the built-in prover.
            return Finding(
                name="endpoint",
                ok=False,
                optional=True,
                detail=f"{settings.api_key_env} is not set, so `prove` uses the built-in "
                f"prover ({BUILTIN_MODEL})",
                fix=f"export {settings.api_key_env}=<your key> to use {settings.model}, or "
                "pass --base-url for a self-hosted server",
            )
        key = "none"  # self-hosted servers usually take any key; `prove` sends this too
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=_PROBE_TIMEOUT)
    try:
        page = await client.models.list()
        served = [m.id for m in page.data]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{url} refused the key ({e.status_code})",
            fix=f"set {settings.api_key_env} to a valid key",
        )
    except openai.NotFoundError:
        return Finding(
            name="endpoint",
            ok=True,
            detail=f"{url} answers but does not list its models, so `{settings.model}` could "
            "not be confirmed",
        )
    except openai.APITimeoutError:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{url} accepted the connection but did not answer within {_PROBE_TIMEOUT:g} s",
            fix="the server is hanging or overloaded; check it",
        )
    except openai.APIConnectionError:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"cannot connect to {url}",
            fix="check --base-url and that the server is running",
        )
    except openai.APIStatusError as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{url} answered {e.status_code} when asked for its models",
            fix="check --base-url and the server's logs",
        )
    except (openai.APIError, ValueError) as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{url} sent an answer that is not an OpenAI model list ({type(e).__name__})",
            fix="check --base-url (it should end in /v1 for most servers)",
        )
    finally:
        await client.close()
    keyed = f"with the key from {settings.api_key_env}" if key != "none" else "without a key"
    if settings.model not in served:
        listed = ", ".join(served[:8]) + (" …" if len(served) > 8 else "")
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{url} answers {keyed} but does not list the model `{settings.model}` "
            f"(it lists: {listed or 'nothing'})",
            fix="pass --model with one of the listed names",
        )
    listed_ok = f"{url} answers {keyed} and serves `{settings.model}`"
    if not probe:
        return Finding(
            name="endpoint",
            ok=True,
            detail=f"{listed_ok} (chat not tried: --probe sends one tiny request)",
        )
    return await _chat(settings, key, listed_ok)


async def _chat(settings: Settings, key: str, listed_ok: str) -> Finding:
    """One chat request of one token, through the client `prove` uses, so that its errors
    read as they would there (a key refused for chat, a Labs model not enabled, …)."""
    from leanloop.errors import EndpointError
    from leanloop.model import ChatMessage, OpenAIModel, ProofRequest

    model = OpenAIModel(
        model=settings.model,
        base_url=settings.base_url,
        api_key=key,
        api_key_env=settings.api_key_env,
        max_tokens=1,
        timeout=_PROBE_TIMEOUT,
        max_retries=0,
    )
    try:
        await model.complete(
            [ChatMessage(role="user", content="Reply with OK.")],
            ProofRequest(target="doctor", mode="tactic", imports=[], round=1, attempt=0),
        )
    except EndpointError as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{listed_ok}, but a chat request failed: {e}",
            fix=f"check {settings.api_key_env} and the model's access on the provider's side",
        )
    finally:
        await model.aclose()
    return Finding(name="endpoint", ok=True, detail=f"{listed_ok}, and answered a chat request")


def _lean_cmd(command: str) -> Finding:
    """The command `prove` and `check` run instead of `lake env lean --json`."""
    try:
        argv = shlex.split(command)
    except ValueError as e:
        return Finding(name="lean-cmd", ok=False, detail=f"`{command}` cannot be parsed: {e}")
    exe = shutil.which(argv[0]) if argv else None
    return Finding(
        name="lean-cmd",
        ok=exe is not None,
        detail=f"`{command}`" + (f" ({exe})" if exe else f": {argv[0] if argv else ''} not found"),
        fix=None if exe else "pass --lean-cmd with a command that exists",
    )


def _backend(settings: Settings) -> Finding:
    if settings.backend == "cli":
        return Finding(name="backend", ok=True, detail="cli: one `lean --json` run per check")
    argv = shlex.split(settings.repl_cmd) or [""]
    found = shutil.which(argv[0]) is not None
    return Finding(
        name="backend",
        ok=found,
        detail=f"repl: warm REPL processes started with `{settings.repl_cmd}`"
        + ("" if found else f" ({argv[0]} not found)"),
        fix=None
        if found
        else "add leanprover-community/repl to the project and set repl_cmd to run it",
    )


def _sandbox(settings: Settings) -> Finding:
    from leanloop.lean.sandbox import sandbox_status

    status = sandbox_status(settings.sandbox)
    return Finding(
        name="sandbox",
        ok=status.usable or settings.sandbox == "off",
        detail=status.detail,
        fix=status.fix,
    )


async def diagnose(
    settings: Settings,
    where: Path,
    *,
    extra: Sequence[SectionSource] = (),
    env: Mapping[str, str] | None = None,
    probe: bool = False,
) -> Diagnosis:
    findings: list[Finding] = []
    if not where.exists():
        findings.append(
            Finding(
                name="path",
                ok=False,
                detail=f"{where} does not exist",
                fix="give an existing Lean file or project directory",
            )
        )
        cwd = Path.cwd()
    else:
        cwd = where if where.is_dir() else where.parent
    from leanloop.session import child_environment

    child_env = child_environment(settings)
    lean, lean_output = await _version("lean", cwd, child_env)
    lake, _ = await _version("lake", cwd, child_env)
    findings += [lean, lake]
    root = find_lake_root(where.resolve()) if where.exists() else None
    findings.append(
        Finding(
            name="project",
            ok=root is not None,
            detail=f"Lake project at {root}"
            if root
            else (f"no lakefile at or above {cwd}" if where.exists() else "no path to look in"),
            fix=None if root else "run leanloop inside a Lake project (lake new NAME math)",
        )
    )
    if (toolchain := _toolchain(root, lean_output)) is not None:
        findings.append(toolchain)
    if settings.lean_cmd:
        findings.append(_lean_cmd(settings.lean_cmd))
    findings.append(_backend(settings))
    findings.append(await _endpoint(settings, env, probe=probe))
    findings.append(_sandbox(settings))
    sections = [await source(settings, where) for source in extra]
    return Diagnosis(findings=findings, sections=sections)


async def cage_section(settings: Settings, where: Path) -> Section:
    """What the cage shows Lean on this machine (issue 15)."""
    from leanloop.lean.project import lean_command
    from leanloop.lean.sandbox import cage_exposure, sandbox_status
    from leanloop.session import child_environment

    status = sandbox_status(settings.sandbox)
    title = "What the cage shows Lean"
    if not status.active:
        return Section(title=title, lines=[f"nothing is hidden: {status.detail}"])
    try:
        command = lean_command(where if where.exists() else Path.cwd(), settings.lean_cmd)
    except LeanloopError as e:
        return Section(title=title, lines=[f"unknown until Lean is found ({e})"])
    shown = cage_exposure(command.cwd, None, command.argv, child_environment(settings))
    lines = [f"{e.access:9}  {e.path}  ({e.why})" for e in shown]
    lines.append("nothing else is visible")
    return Section(title=title, lines=lines)


async def replay_section(settings: Settings, where: Path) -> Section:
    """Whether the independent replay (SafeVerify) can run, its version and toolchain (issue 13)."""
    import tempfile

    from leanloop.lean.project import lean_command
    from leanloop.lean.replay import replay_status
    from leanloop.lean.sandbox import Limits, make_executor
    from leanloop.session import child_environment

    title = "Independent replay (SafeVerify)"
    required = settings.replay == "required"
    if settings.replay == "off":
        return Section(title=title, lines=["off (--replay off)"])
    try:
        command = lean_command(where if where.exists() else Path.cwd(), settings.lean_cmd)
    except LeanloopError as e:
        return Section(
            title=title,
            findings=[
                Finding(
                    name="replay",
                    ok=False,
                    optional=not required,
                    detail=f"unknown until Lean is found ({str(e).rstrip('.')})",
                )
            ],
        )
    scratch = Path(tempfile.mkdtemp(prefix="leanloop-doctor-"))
    try:
        executor, _ = make_executor(
            settings.sandbox,
            1,
            Limits(cpu_seconds=int(_PROBE_TIMEOUT) + 5),
            scratch,
            lambda _: None,
            env=child_environment(settings),
        )
        status = await replay_status(settings, command, executor)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if status.available:
        finding = Finding(name="replay", ok=True, detail=status.summary())
    else:
        # Said plainly: the replay is a second opinion `prove` can do without, unless required.
        what = "not set up" if status.missing else "cannot be used"
        finding = Finding(
            name="replay",
            ok=False,
            optional=not required,
            detail=f"{what}: {status.detail}; proved files are checked by the gate and Lean, "
            "without SafeVerify's independent replay through the kernel"
            + (" (--replay required: prove and ci --fill stop)" if required else ""),
            fix=status.fix,
        )
    return Section(title=title, findings=[finding])
