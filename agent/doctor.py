"""`leanloop doctor`: what is there, what is missing, and what to do about it."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from pydantic import BaseModel

from leanloop.lean.project import find_lake_root
from leanloop.lean.runner import run_process
from leanloop.settings import Settings


class Finding(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None


class Diagnosis(BaseModel):
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def render(self) -> str:
        lines = []
        for f in self.findings:
            lines.append(f"{'ok ' if f.ok else 'MISSING'} {f.name}: {f.detail}")
            if f.fix:
                lines.append(f"        -> {f.fix}")
        return "\n".join(lines)


async def _version(tool: str, cwd: Path) -> Finding:
    exe = shutil.which(tool)
    if exe is None:
        return Finding(
            name=tool,
            ok=False,
            detail="not found on PATH",
            fix="install Lean with elan: https://github.com/leanprover/elan",
        )
    proc = await run_process([exe, "--version"], cwd=cwd, timeout=60)
    text = (proc.stdout or proc.stderr).strip().splitlines()
    ok = proc.exit_code == 0 and bool(text)
    return Finding(
        name=tool,
        ok=ok,
        detail=f"{exe}: {text[0] if text else 'no version output'}",
        fix=None if ok else f"`{tool} --version` failed; reinstall with elan",
    )


async def _endpoint(settings: Settings) -> Finding:
    if settings.model.startswith("builtin:"):
        return Finding(name="endpoint", ok=True, detail="built-in prover, no endpoint needed")
    key = os.environ.get(settings.api_key_env)
    if not key:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{settings.api_key_env} is not set; `prove` will use the built-in prover",
            fix=f"export {settings.api_key_env}=<your key>",
        )
    import openai

    client = openai.AsyncOpenAI(base_url=settings.base_url, api_key=key, max_retries=0, timeout=20)
    try:
        await client.models.list()
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{settings.base_url} refused the key ({e.status_code})",
            fix=f"set {settings.api_key_env} to a valid key",
        )
    except openai.APIError as e:
        return Finding(
            name="endpoint",
            ok=False,
            detail=f"{settings.base_url} is not reachable ({type(e).__name__})",
            fix="check --base-url and your network",
        )
    finally:
        await client.close()
    return Finding(
        name="endpoint",
        ok=True,
        detail=f"{settings.base_url} answers with the key from {settings.api_key_env}",
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


async def diagnose(settings: Settings, where: Path) -> Diagnosis:
    cwd = where if where.is_dir() else where.parent
    findings = [await _version("lean", cwd), await _version("lake", cwd)]
    root = find_lake_root(where.resolve())
    findings.append(
        Finding(
            name="project",
            ok=root is not None,
            detail=f"Lake project at {root}" if root else f"no lakefile at or above {cwd}",
            fix=None if root else "run leanloop inside a Lake project (lake new NAME math)",
        )
    )
    findings.append(_backend(settings))
    findings.append(await _endpoint(settings))
    findings.append(_sandbox(settings))
    return Diagnosis(findings=findings)
