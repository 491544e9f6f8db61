"""Building the pieces from settings: the model, the Lean checker, the policy."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leanloop.errors import ConfigError, LeanloopError
from leanloop.lean.checker import Checker, CliChecker, LeanResult
from leanloop.lean.environment import lean_environment
from leanloop.lean.project import LeanCommand, lean_command
from leanloop.lean.repl import ReplPool
from leanloop.lean.replay import Replayer
from leanloop.lean.runner import Executor, run_process
from leanloop.lean.sandbox import Limits, make_executor
from leanloop.model import BuiltinAutomation, Model, OpenAIModel
from leanloop.model.base import NO_FUNCTION_CALLING
from leanloop.policy import Policy
from leanloop.settings import BUILTIN_MODEL, Settings, load_settings

DEFAULT_BASE_URL = Settings.model_fields["base_url"].default


@dataclass(frozen=True)
class ModelChoice:
    model: Model
    notice: str | None  # one line for the user when we fell back to the built-in prover


def settings_for(path: Path | None, flags: Mapping[str, Any]) -> Settings:
    """The settings of a command run on ``path``: the settings files of the current directory,
    then of ``path``'s Lake project, the environment, then the flags."""
    from leanloop.lean.project import find_lake_root

    dirs = [Path.cwd()]
    if path is not None and (root := find_lake_root(path.resolve())) is not None:
        dirs.append(root)
    return load_settings(flags, dirs)


def choose_model(settings: Settings, env: Mapping[str, str] | None = None) -> ModelChoice:
    env = os.environ if env is None else env
    agent = settings.mode == "agent"
    if settings.model.startswith("builtin:"):
        if agent:
            raise ConfigError(NO_FUNCTION_CALLING)
        return ModelChoice(BuiltinAutomation(), None)
    key = env.get(settings.api_key_env, "")
    notice = None
    if not key:
        if settings.base_url.rstrip("/") == DEFAULT_BASE_URL:
            if agent:
                raise ConfigError(
                    f"--mode agent needs the model endpoint, and {settings.api_key_env} is not "
                    f"set: set it to use {settings.model} (or give --base-url of a server with "
                    "function calling)."
                )
            return ModelChoice(
                BuiltinAutomation(),
                f"No API key: {settings.api_key_env} is not set, so the built-in prover "
                f"({BUILTIN_MODEL}) is used; set {settings.api_key_env} to use "
                f"{settings.model}.",
            )
        # Self-hosted servers (vLLM, SGLang, llama.cpp) usually take any key.
        key = "none"
        notice = f"{settings.api_key_env} is not set; sending no real key to {settings.base_url}."
    model = OpenAIModel(
        model=settings.model,
        base_url=settings.base_url,
        api_key=key,
        api_key_env=settings.api_key_env,
        reasoning_effort=settings.reasoning_effort,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
    )
    return ModelChoice(model, notice)


def make_checker(
    settings: Settings, file: Path, warn: Callable[[str], None] | None = None
) -> Checker:
    """A checker for ``file``'s project, caged as the ``sandbox`` setting says."""
    say = warn or _stderr
    scratch = Path(tempfile.mkdtemp(prefix="leanloop-"))
    # CPU time adds up over Lean's threads, so the wall-clock timeout alone decides in practice;
    # a warm REPL adds it up over every command it serves.
    cpu = int(settings.timeout * (os.cpu_count() or 1)) + 30
    if settings.backend == "repl":
        cpu *= settings.repl_max_uses + 1
    limits = Limits(memory_mb=settings.memory_mb, cpu_seconds=cpu)
    repl = settings.backend == "repl"
    command = lean_command(file, settings.repl_cmd if repl else settings.lean_cmd)
    for warning in command.warnings:
        say(f"warning: {warning}")
    env = child_environment(settings)
    executor, status = make_executor(
        settings.sandbox, settings.lean_workers, limits, scratch, say, env=env
    )
    checker = _backend(settings, command, executor, scratch, repl)
    if status.active and command.project_root is not None and _is_lake(command):
        return LakeReady(checker, command, settings.timeout, env)
    return checker


def _backend(
    settings: Settings, command: LeanCommand, executor: Executor, scratch: Path, repl: bool
) -> Checker:
    if repl:
        return ReplPool(
            command,
            executor,
            size=settings.lean_workers,
            timeout=settings.timeout,
            max_uses=settings.repl_max_uses,
            scratch_root=scratch,
            header_timeout=settings.repl_header_timeout,
        )
    extra = []
    if settings.max_heartbeats is not None:
        extra.append(f"-DmaxHeartbeats={settings.max_heartbeats}")
    return CliChecker(
        command, executor, timeout=settings.timeout, extra_args=extra, scratch_root=scratch
    )


async def make_replayer(
    settings: Settings,
    file: Path,
    warn: Callable[[str], None] | None = None,
    scratch: Path | None = None,
) -> Replayer | None:
    """The independent replay (SafeVerify) for ``file``'s project, caged like every Lean run;
    None when it is off, or unavailable under `auto` (one short note through ``warn``; the
    commands show it at the end of the run). Under `required` and unavailable: a ConfigError
    (exit 2) before any model call."""
    from leanloop.lean.replay import replayer_for

    if settings.replay == "off":
        return None
    say = warn or _stderr
    scratch = scratch or Path(tempfile.mkdtemp(prefix="leanloop-replay-"))
    # Compiling a file and replaying it take longer than one check; the wall clock decides.
    limits = Limits(memory_mb=settings.memory_mb, cpu_seconds=int(settings.timeout) * 4 + 30)
    # The checker built beside it has said what the sandbox gives; once is enough.
    executor, _ = make_executor(
        settings.sandbox, 1, limits, scratch, lambda _: None, env=child_environment(settings)
    )
    command = lean_command(file, settings.lean_cmd)
    return await replayer_for(settings, command, executor, scratch, say)


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of every Lean, Lake and REPL process: the allow-list plus
    ``env_allow``, never the endpoint key."""
    return lean_environment(settings.env_allow, settings.api_key_env)


def _is_lake(command: LeanCommand) -> bool:
    return Path(command.argv[0]).name == "lake"


async def prepare_lake(command: LeanCommand, timeout: float, env: dict[str, str]) -> None:
    """Let Lake set the project up (config cache, manifest) before Lean runs caged, where the
    project is read-only. Only the user's own lakefile runs here, never a model's proof, but it
    gets the same allow-listed environment, and the runner's bounded, tree-wide kill."""
    if command.project_root is None or not _is_lake(command):
        return
    lake = shutil.which(command.argv[0]) or command.argv[0]
    proc = await run_process(
        [lake, "env", "true"], cwd=command.project_root, timeout=timeout, env=env
    )
    if proc.start_error:
        raise LeanloopError(f"Lake could not set up the project: {proc.start_error}.")
    if proc.timed_out:
        raise LeanloopError(
            f"Lake could not set up the project: `lake env true` did not finish within "
            f"{timeout:g} s."
        )
    if proc.exit_code != 0:
        out = (proc.stderr or proc.stdout).strip().splitlines()
        raise LeanloopError(
            "Lake could not set up the project (`lake env true` failed): "
            + " / ".join(out[:5] or [f"exit code {proc.exit_code}"])
        )


class LakeReady:
    """A checker whose first check waits for Lake's set-up (`prepare_lake`), once, off the
    event loop; a failed set-up fails every check with the same error."""

    def __init__(
        self, inner: Checker, command: LeanCommand, timeout: float, env: dict[str, str]
    ) -> None:
        self.inner = inner
        self._command = command
        self._timeout = timeout
        self._env = env
        self._lock = asyncio.Lock()
        self._ready = False
        self._error: LeanloopError | None = None

    async def check(self, text: str, *, file_name: str = "Check.lean") -> LeanResult:
        await self._set_up()
        return await self.inner.check(text, file_name=file_name)

    async def _set_up(self) -> None:
        async with self._lock:
            if self._error is not None:
                raise LeanloopError(self._error.message)
            if self._ready:
                return
            try:
                await prepare_lake(self._command, self._timeout, self._env)
            except LeanloopError as e:
                self._error = e
                raise
            self._ready = True

    async def aclose(self) -> None:
        await self.inner.aclose()


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_policy(settings: Settings) -> Policy:
    return Policy.build(
        allow=settings.allow,
        forbid=settings.forbid,
        allow_native_decide=settings.allow_native_decide,
    )
