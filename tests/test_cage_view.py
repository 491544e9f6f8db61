"""Issue 15: the cage shows Lean only the toolchain, the system, the project and the scratch.

A hostile Lean double (`hostile_lean.py --hostile=read`) tries to read what a proof running code
at elaboration time would want, and prints what it got as a Lean message: the channel through
which a read would leak to the model. Everything here lives outside /tmp on purpose: the cage
replaces /tmp with an empty one, so a canary under /tmp would prove nothing."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunCli

from leanloop.lean.checker import CliChecker
from leanloop.lean.environment import lean_environment
from leanloop.lean.project import LeanCommand
from leanloop.lean.sandbox import Limits, cage_exposure, make_executor, sandbox_status

HOSTILE = Path(__file__).parent / "doubles" / "hostile_lean.py"

pytestmark = [
    pytest.mark.cage,
    pytest.mark.skipif(not sandbox_status("auto").usable, reason="bubblewrap is not usable here"),
]


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory outside /tmp (under the real home, which the cage must hide too)."""
    base = Path.home() / f".leanloop-cage-view-{uuid.uuid4().hex[:12]}"
    if Path("/tmp") in base.parents:
        pytest.skip("the home directory is under /tmp here")
    base.mkdir()
    # A file straight in the real home, next to the test's tree.
    Path(f"{base}.canary").write_text("REAL-HOME-CANARY")
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)
        Path(f"{base}.canary").unlink(missing_ok=True)


def _layout(base: Path) -> dict[str, Path]:
    home = base / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("HOME-CANARY")
    project = base / "work" / "project"
    (project / ".lake" / "build" / "lib" / "lean").mkdir(parents=True)
    (project / ".lake" / "build" / "lib" / "lean" / "Proj.olean").write_text("PROJECT-OLEAN")
    # A `require dep from "../dep"` dependency, as Lake records it (version 7 manifest).
    manifest = {
        "version": 7,
        "name": "proj",
        "lakeDir": ".lake",
        "packagesDir": ".lake/packages",
        "packages": [
            {"type": "path", "name": "dep", "inherited": False, "dir": "../dep",
             "configFile": "lakefile.lean", "manifestFile": "lake-manifest.json"},
        ],
    }  # fmt: skip
    (project / "lake-manifest.json").write_text(json.dumps(manifest))
    dep = base / "work" / "dep"
    dep.mkdir()
    (dep / "Dep.lean").write_text("-- PATH-DEPENDENCY")
    (project / "T.lean").write_text("theorem t : 1 + 1 = 2 := by\n  rfl\n")
    (base / "canary.txt").write_text("OUTSIDE-CANARY")
    sibling = base / "work" / "other"
    sibling.mkdir()
    (sibling / "notes.txt").write_text("SIBLING-CANARY")
    elan = base / "elan"
    (elan / "toolchains" / "fake" / "lib" / "lean").mkdir(parents=True)
    (elan / "toolchains" / "fake" / "lib" / "lean" / "Init.olean").write_text("ELAN-OLEAN")
    # A toolchain found only through `lean` on PATH (no elan): its prefix must be visible.
    toolchain = base / "opt" / "lean-fake"
    (toolchain / "bin").mkdir(parents=True)
    (toolchain / "lib" / "lean").mkdir(parents=True)
    (toolchain / "lib" / "lean" / "Init.olean").write_text("PREFIX-OLEAN")
    (toolchain / "bin" / "lean").write_text("#!/bin/sh\nexit 0\n")
    (toolchain / "bin" / "lean").chmod(0o755)
    return {
        "home": home,
        "project": project,
        "dep": dep,
        "sibling": sibling,
        "elan": elan,
        "toolchain": toolchain,
        "outside": base,
    }


async def _read_in_cage(
    paths: dict[str, Path], wanted: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, object]:
    monkeypatch.setenv("HOME", str(paths["home"]))
    monkeypatch.setenv("ELAN_HOME", str(paths["elan"]))
    monkeypatch.setenv("PATH", f"{paths['toolchain'] / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GITHUB_TOKEN", "PROC-CANARY-TOKEN")
    monkeypatch.setenv("HOSTILE_READ", os.pathsep.join(map(str, wanted)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = lean_environment(["HOSTILE_*"])
    executor, status = make_executor(
        "required", 1, Limits(memory_mb=2048), scratch, lambda m: None, env=env
    )
    assert status.active
    command = LeanCommand(
        argv=[sys.executable, str(HOSTILE), "--hostile=read", "--json"],
        cwd=paths["project"],
        project_root=paths["project"],
    )
    checker = CliChecker(command, executor, timeout=60, scratch_root=scratch)
    result = await checker.check("theorem t : 1 + 1 = 2 := by\n  rfl\n")
    [report] = [m.data for m in result.messages if m.data.startswith("hostile-read ")]
    data: dict[str, object] = json.loads(report.removeprefix("hostile-read "))
    return data


async def test_lean_reads_only_the_project_and_the_toolchain(
    outside_tmp: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = _layout(outside_tmp)
    forbidden = {
        "home canary": paths["home"] / ".ssh" / "id_ed25519",
        "home": paths["home"],
        "sibling project": paths["sibling"] / "notes.txt",
        "a file next to the toolchain": paths["outside"] / "canary.txt",
        "a file in the real home": Path(f"{paths['outside']}.canary"),
        "shadow": Path("/etc/shadow"),
        "passwd": Path("/etc/passwd"),
    }
    # Directories above what is exposed exist in the cage as bare mount points.
    listed = {
        "the directory holding the projects": (paths["project"].parent, "other"),
        "the directory holding the toolchains": (paths["outside"], "canary.txt"),
        "the real home": (paths["outside"].parent, f"{paths['outside'].name}.canary"),
    }
    allowed = {
        "project olean": paths["project"] / ".lake" / "build" / "lib" / "lean" / "Proj.olean",
        "manifest": paths["project"] / "lake-manifest.json",
        "path dependency": paths["dep"] / "Dep.lean",
        "elan toolchain": paths["elan"] / "toolchains" / "fake" / "lib" / "lean" / "Init.olean",
        "prefix toolchain": paths["toolchain"] / "lib" / "lean" / "Init.olean",
    }
    dirs = [d for d, _ in listed.values()]
    data = await _read_in_cage(
        paths, [*forbidden.values(), *allowed.values(), *dirs], monkeypatch, tmp_path
    )
    reads = data["reads"]
    assert isinstance(reads, dict)
    for what, p in allowed.items():
        assert reads[str(p)].startswith("read: "), (what, reads[str(p)])
    for what, p in forbidden.items():
        got = reads[str(p)]
        assert got.startswith("blocked: "), (what, got)
    for what, (d, hidden) in listed.items():
        got = reads[str(d)]
        assert hidden not in got.removeprefix("listed: ").split(","), (what, got)
    assert "CANARY" not in json.dumps(data)


async def test_proc_shows_only_the_cage(
    outside_tmp: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`/proc` is the cage's own: the host's PID 1 and leanloop itself are not in it, so no
    process environment with a secret can be read, and the caged process holds no
    capabilities even when leanloop runs as root."""
    paths = _layout(outside_tmp)
    host_init = Path("/proc/1/environ")
    data = await _read_in_cage(paths, [host_init], monkeypatch, tmp_path)
    environs = data["environs"]
    assert isinstance(environs, dict)
    assert all("PROC-CANARY-TOKEN" not in v for v in environs.values()), environs
    # Only the cage's few processes; leanloop's own pid is not among them.
    assert str(os.getpid()) not in environs
    assert len(environs) < 10, sorted(environs)
    seen = data["reads"]
    assert isinstance(seen, dict)
    got = seen[str(host_init)]
    try:
        host = host_init.read_bytes().decode("utf-8", "replace")
    except OSError:
        host = None
    if host:
        assert got != "read: " + host[:4000]
    assert "PROC-CANARY-TOKEN" not in got
    assert data["cap_eff"] == "0000000000000000"


def test_cage_exposure_lists_what_is_visible(outside_tmp: Path, tmp_path: Path) -> None:
    paths = _layout(outside_tmp)
    env = {
        "PATH": f"{paths['toolchain'] / 'bin'}{os.pathsep}/usr/bin:/bin",
        "HOME": str(paths["home"]),
        "ELAN_HOME": str(paths["elan"]),
    }
    shown = cage_exposure(paths["project"], tmp_path, ["lake", "env", "lean"], env)
    by_path = {str(e.path): e for e in shown}
    assert by_path[str(paths["project"])].access == "read-only"
    assert by_path[str(tmp_path)].access == "writable"
    assert by_path[str(paths["elan"])].access == "read-only"
    assert by_path[str(paths["toolchain"])].access == "read-only"
    assert all(e.why for e in shown)
    visible = [str(e.path) for e in shown]
    for hidden in (paths["home"], paths["sibling"], outside_tmp, Path("/etc"), Path("/")):
        assert str(hidden) not in visible
    assert not any(v.startswith("/etc/") and "ld.so" not in v for v in visible), visible


def test_a_tool_in_the_home_directory_does_not_expose_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "lean").write_text("#!/bin/sh\n")
    (home / "bin" / "lean").chmod(0o755)
    env = {"PATH": f"{home / 'bin'}:/usr/bin", "HOME": str(home)}
    shown = {str(e.path): e for e in cage_exposure(home, None, ["lean"], env)}
    # `~/bin/lean` is bound as `~/bin`, not as the prefix `~`.
    assert shown[str(home / "bin")].access == "read-only"
    # Working in the home directory itself leaves an empty directory there.
    assert shown[str(home)].why.startswith("working directory, left empty")
    # `~/.local/bin/tool` (pipx) is bound as `~/.local/bin`: `~/.local/share` stays hidden.
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "lake").write_text("#!/bin/sh\n")
    (home / ".local" / "bin" / "lake").chmod(0o755)
    env["PATH"] = f"{home / '.local' / 'bin'}:{env['PATH']}"
    shown = {str(e.path): e for e in cage_exposure(tmp_path / "proj", None, ["lake"], env)}
    assert str(home / ".local" / "bin") in shown
    assert str(home / ".local") not in shown


def test_leanloop_check_under_the_cage_prints_no_canary(
    outside_tmp: Path, cli: RunCli, tmp_path: Path
) -> None:
    """End to end, as in the issue: `leanloop check` with `--sandbox required` and a Lean that
    reads the home directory, `/etc/shadow` and a sibling project, and prints what it read."""
    paths = _layout(outside_tmp)
    wanted = [
        paths["home"] / ".ssh" / "id_ed25519",
        Path("/etc/shadow"),
        paths["sibling"] / "notes.txt",
        paths["project"] / ".lake" / "build" / "lib" / "lean" / "Proj.olean",
    ]
    lean = shlex.join([sys.executable, str(HOSTILE), "--hostile=read", "--json"])
    proc = cli(
        "check",
        paths["project"] / "T.lean",
        env={
            "HOME": str(paths["home"]),
            "LEANLOOP_SANDBOX": "required",
            "LEANLOOP_LEAN_CMD": lean,
            "LEANLOOP_ENV_ALLOW": "HOSTILE_READ",
            "HOSTILE_READ": os.pathsep.join(map(str, wanted)),
        },
    )
    out = proc.stdout + proc.stderr
    assert "hostile-read" in out  # the double ran and its message came back
    assert "PROJECT-OLEAN" in out  # what Lean may read still comes through
    assert "CANARY" not in out
    assert "root:" not in out  # /etc/shadow's first line
