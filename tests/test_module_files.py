"""On Lean v4.20 to v4.29, `#print axioms` is an error inside a `module` file, so no proof there
can be gated: leanloop says so once instead of rejecting every proof."""

from __future__ import annotations

from pathlib import Path

from conftest import RunCli
from doubles.fake_lean import FakeLean

SOURCE = "module\n\ntheorem t : 1 + 1 = 2 := by\n  rfl\n"


def _project(tmp_path: Path, toolchain: str) -> Path:
    (tmp_path / "lakefile.toml").write_text('name = "p"\n', encoding="utf-8")
    (tmp_path / "lean-toolchain").write_text(f"leanprover/lean4:{toolchain}\n", encoding="utf-8")
    path = tmp_path / "M.lean"
    path.write_text(SOURCE, encoding="utf-8")
    return path


def test_audit_refuses_a_module_file_on_a_toolchain_that_cannot_gate_it(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path
) -> None:
    path = _project(tmp_path, "v4.25.0")
    proc = run_cli("audit", path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.strip().splitlines()[-1:]
    assert "module" in line and "#print axioms" in line
    assert "Traceback" not in proc.stderr


def test_audit_runs_on_a_module_file_on_a_later_toolchain(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path
) -> None:
    path = _project(tmp_path, "v4.30.0")
    proc = run_cli("audit", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
