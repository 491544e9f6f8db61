"""The user's files: reading Lean sources faithfully, checking where we may write, and writing
atomically without breaking links, modes or owners."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from leanloop.errors import UsageError
from leanloop.source import LeanDocument, UnterminatedError

BOM = "\ufeff"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    bom: bool

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        if not path.exists():
            raise UsageError(f"No such file: {path}.")
        if path.is_dir():
            raise UsageError(f"{path} is a directory, not a Lean file.")
        if path.suffix != ".lean":
            raise UsageError(f"{path} is not a Lean file (expected a .lean file).")
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise UsageError(f"Cannot read {path}: {e.strerror}.") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text, which Lean requires.") from None
        bom = text.startswith(BOM)
        return cls(path, raw, text[1:] if bom else text, bom)

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")


def real_path(path: Path) -> Path:
    """Where writing ``path`` lands: through every symlink, so the link stays a link."""
    return Path(os.path.realpath(path))


def unwritable(path: Path, what: str) -> str | None:
    """Why ``path`` (a file to create or replace atomically) cannot be written, or ``None``.

    Uses ``os.access``, which asks the kernel with the real user's rights: it sees permission
    bits, read-only mounts and immutable files (the last also for root)."""
    dest = real_path(path)
    parent = dest.parent
    if dest.is_dir():
        return f"{what} {path} is a directory; give a file name."
    if not parent.is_dir():
        return f"{what} {path}: the directory {parent} does not exist."
    if dest.exists() and not os.access(dest, os.W_OK):
        return f"{what} {path} is not writable."
    if _special(dest):
        return None  # a device or pipe (/dev/stdout) is written as it is, not replaced
    if not os.access(parent, os.W_OK | os.X_OK):
        return (
            f"{what} {path} cannot be written: the directory {parent} is not writable "
            "(the file is replaced through a temporary file there)."
        )
    return None


def _special(path: Path) -> bool:
    """An existing file that is not a regular one: replacing it would be wrong (/dev/null)."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes, *, like: Path | None = None) -> None:
    """Write via a temporary file in the same directory and a rename: all or nothing.

    A symlink is followed and its target replaced. The replaced file's mode and (where we may)
    owner are kept, or ``like``'s when given; a new file gets the usual mode (0666 - umask)."""
    dest = real_path(path)
    if _special(dest):
        with dest.open("wb") as f:
            f.write(data)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        model = like if like is not None and like.exists() else dest if dest.exists() else None
        if model is not None:
            st = model.stat()
            if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                # Only root may give a file away; the mode is kept either way.
                with contextlib.suppress(OSError):
                    os.chown(tmp, st.st_uid, st.st_gid)
            os.chmod(tmp, st.st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse(source: SourceFile) -> LeanDocument:
    try:
        return LeanDocument(source.text)
    except UnterminatedError as e:
        raise UsageError(f"Cannot read {source.path}: it has an {e}.") from None
