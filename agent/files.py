"""The user's files: reading Lean sources faithfully and writing atomically."""

from __future__ import annotations

import os
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


def atomic_write(path: Path, data: bytes, *, like: Path | None = None) -> None:
    """Write via a temporary file in the same directory and a rename: all or nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        src = like if like is not None and like.exists() else None
        if src is not None:
            os.chmod(tmp, src.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse(source: SourceFile) -> LeanDocument:
    try:
        return LeanDocument(source.text)
    except UnterminatedError as e:
        raise UsageError(f"Cannot read {source.path}: it has an {e}.") from None
