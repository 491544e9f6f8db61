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


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("leanloop.toml", 'samples = 2\n\n[ci]\nallow-axioms = ["Classical.ofNonempty"]\n'),
        ("pyproject.toml", "[tool.leanloop]\nsamples = 2\n\n" + PYPROJECT),
    ],
)
def test_settings_leave_the_ci_table_to_ci(tmp_path: Path, name: str, text: str) -> None:
    """`[ci]` belongs to `leanloop ci`: the settings beside it still load, and it is neither an
    unknown setting nor read as one."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    settings = load_settings({}, [tmp_path], env={})
    assert settings.samples == 2
    assert "ci" not in settings.model_dump()
    (tmp_path / name).write_text(text.replace("samples = 2", "sample = 2"), encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting `sample`"):
        load_settings({}, [tmp_path], env={})


def test_exception_for_one_declaration(
    fake_lean: Any, git_repo: Any, cli: Any, tmp_path: Path
) -> None:
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
