"""`atomic_write` and `unwritable`: links followed, modes kept, special files left in place."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from leanloop.files import atomic_write, unwritable


def test_relative_symlink_chain_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "A.lean"
    real.write_text("old\n")
    real.chmod(0o600)
    (tmp_path / "mid.lean").symlink_to("real/A.lean")
    (tmp_path / "top.lean").symlink_to("mid.lean")
    atomic_write(tmp_path / "top.lean", b"new\n")
    assert (tmp_path / "top.lean").is_symlink() and (tmp_path / "mid.lean").is_symlink()
    assert real.read_bytes() == b"new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["A.lean"]


def test_like_gives_its_mode(tmp_path: Path) -> None:
    model = tmp_path / "M.lean"
    model.write_text("x")
    model.chmod(0o751)
    out = tmp_path / "Out.lean"
    atomic_write(out, b"y", like=model)
    assert stat.S_IMODE(out.stat().st_mode) == 0o751


def test_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "n.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.json").stat().st_mode) == 0o640


def test_unwritable_reasons(tmp_path: Path) -> None:
    assert (
        unwritable(tmp_path, "--report") == f"--report {tmp_path} is a directory; give a file name."
    )
    missing = tmp_path / "no" / "x.json"
    assert unwritable(missing, "--report") == (
        f"--report {missing}: the directory {tmp_path / 'no'} does not exist."
    )
    assert unwritable(tmp_path / "fine.json", "--report") is None
    assert unwritable(Path("/dev/null"), "--report") is None
    # a dangling link is written through to where it points
    (tmp_path / "dangling.lean").symlink_to(tmp_path / "no" / "T.lean")
    assert "does not exist" in (unwritable(tmp_path / "dangling.lean", "--output") or "")
