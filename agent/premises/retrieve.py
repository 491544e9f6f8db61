"""Premises for a proof target (`prove --premises N`): the top hits of the local index for the
target's name and statement, ReProver-style retrieval without a GPU."""

from __future__ import annotations

import asyncio

from leanloop.premises.index import IndexStats, Premise, PremiseIndex
from leanloop.source import LeanDocument
from leanloop.source.targets import Target


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
        hits = await asyncio.to_thread(self.index.search, target_query(doc, target), self.count + 1)
        names = {target.name, target.check_name}
        return [h.premise for h in hits if h.premise.name not in names][: self.count]


def index_note(stats: IndexStats) -> str | None:
    """A line about an index update that read files, or ``None`` when nothing changed."""
    if not stats.read:
        return None
    return (
        f"Premise index: {stats.declarations} declarations, {stats.read} file(s) read in "
        f"{stats.seconds:.1f} s."
    )


def render_premises(premises: list[Premise]) -> str:
    """The block the first prompt gets: one line per declaration, with its module."""
    if not premises:
        return ""
    lines = ["Declarations of the project and its packages that may help:"]
    for p in premises:
        doc = f" -- {p.docstring[:160]}" if p.docstring else ""
        lines.append(f"{p.kind} {p.name} {p.signature}  ({p.module}){doc}")
    return "\n".join(lines)
