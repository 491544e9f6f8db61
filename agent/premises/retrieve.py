"""Premises for a proof target (`prove --premises N`): the top hits of the local index for the
target's name and statement, ReProver-style retrieval without a GPU."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from leanloop.premises.index import Premise, PremiseIndex, open_index
from leanloop.source import LeanDocument
from leanloop.source.targets import Target

Say = Callable[[str], None]


def target_query(doc: LeanDocument, target: Target) -> str:
    """The target's name and statement, as a search query."""
    d = target.decl
    end = d.header_end if d.header_end is not None else d.end
    start = d.name_end if d.name_end is not None else d.keyword + len(d.kind)
    name = d.full_name or ""
    return f"{name} {' '.join(doc.text[start:end].split())}".strip()


class Retriever:
    """The top ``count`` premises for a target (the target itself left out)."""

    def __init__(self, index: PremiseIndex, count: int) -> None:
        self.index = index
        self.count = count

    async def __call__(self, doc: LeanDocument, target: Target) -> list[Premise]:
        hits = await asyncio.to_thread(
            self.index.search, target_query(doc, target), self.count + 1
        )
        names = {target.name, target.check_name}
        return [h.premise for h in hits if h.premise.name not in names][: self.count]

    def close(self) -> None:
        self.index.close()


async def open_retriever(root: Path, count: int, say: Say) -> Retriever:
    """The index of the workspace at ``root``, brought up to date (off the event loop, with a
    progress line every tenth of the files read)."""
    index = await asyncio.to_thread(open_index, root)
    shown = -1

    def progress(done: int, total: int, package: str) -> None:
        nonlocal shown
        tenth = done * 10 // max(total, 1)
        if tenth != shown:
            shown = tenth
            say(f"Indexing premises: {done}/{total} files ({package})")

    stats = await index.aupdate(progress)
    if stats.read:
        say(
            f"Premise index: {stats.declarations} declarations, {stats.read} file(s) read in "
            f"{stats.seconds:.1f} s."
        )
    return Retriever(index, count)


def render_premises(premises: list[Premise]) -> str:
    """The block the first prompt gets: one line per declaration, with its module."""
    if not premises:
        return ""
    lines = ["Declarations of the project and its packages that may help:"]
    for p in premises:
        doc = f" -- {p.docstring[:160]}" if p.docstring else ""
        lines.append(f"{p.kind} {p.name} {p.signature}  ({p.module}){doc}")
    return "\n".join(lines)
