"""Local premise search: the declarations of a Lake workspace and its packages, ranked by BM25
over name parts and statement tokens, offline (what LeanSearch and Loogle give online)."""

from leanloop.premises.index import (
    IndexStats,
    Package,
    Premise,
    PremiseError,
    PremiseIndex,
    SearchHit,
    index_path,
    open_index,
    packages_of,
)

__all__ = [
    "IndexStats",
    "Package",
    "Premise",
    "PremiseError",
    "PremiseIndex",
    "SearchHit",
    "index_path",
    "open_index",
    "packages_of",
]
