"""Text assembled from slices of a source text and insertions, with a map back to the source.

The gate builds the text Lean checks by copying the spliced file and inserting parentheses and
clause keywords of its own; every position Lean reports in that text must lead back to the
user's file or to the proof."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Assembled:
    text: str
    # (start in ``text``, start in the source, length, whether copied): sorted, contiguous.
    # An inserted piece carries its anchor: the source offset its positions report.
    pieces: tuple[tuple[int, int, int, bool], ...]

    def source(self, offset: int) -> int:
        """The source offset ``offset`` comes from; for inserted text, its anchor."""
        if not self.pieces:
            return 0
        starts = [p[0] for p in self.pieces]
        k = max(bisect.bisect_right(starts, offset) - 1, 0)
        start, src, length, copied = self.pieces[k]
        if not copied:
            return src
        return src + min(max(offset - start, 0), length)


@dataclass
class Builder:
    """Append copies of ``source`` and insertions; :meth:`build` gives the mapped text."""

    source: str
    _parts: list[str] = field(default_factory=list)
    _pieces: list[tuple[int, int, int, bool]] = field(default_factory=list)
    _len: int = 0
    _at: int = 0  # the source offset after the last copy: the default anchor

    def copy(self, start: int, end: int) -> None:
        if end <= start:
            return
        self._parts.append(self.source[start:end])
        self._pieces.append((self._len, start, end - start, True))
        self._len += end - start
        self._at = end

    def insert(self, text: str, anchor: int | None = None) -> None:
        if not text:
            return
        self._parts.append(text)
        self._pieces.append((self._len, self._at if anchor is None else anchor, len(text), False))
        self._len += len(text)

    @property
    def length(self) -> int:
        return self._len

    def column(self) -> int:
        """The column the next character lands on."""
        tail = "".join(self._parts[-8:])
        nl = tail.rfind("\n")
        if nl >= 0:
            return len(tail) - nl - 1
        text = "".join(self._parts)
        return len(text) - (text.rfind("\n") + 1)

    def build(self) -> Assembled:
        return Assembled("".join(self._parts), tuple(self._pieces))
