"""The premise index: every declaration of a Lake workspace and its packages, searchable offline.

The index is one SQLite file per workspace (FTS5 for the BM25 ranking), in leanloop's cache
directory, never in the user's project. It is brought up to date incrementally:

* each package is keyed by its `lake-manifest.json` entry (type, URL, revision, sub-directory);
* each file by its size and modification time, and, when those changed or the package's key did,
  by a hash of its content. A file whose content is unchanged is never read again, so an
  unchanged Mathlib is indexed once.

Reading files is CPU-bound; `update` is synchronous and callers in async code run it with
`asyncio.to_thread` (see :func:`open_index`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from leanloop.errors import LeanloopError
from leanloop.premises.extract import Extracted, extract_declarations
from leanloop.premises.terms import name_words, query_terms
from leanloop.source import UnterminatedError, code_tokens

SCHEMA = "leanloop-premises 2"
# BM25 weights per column: a hit in the name counts most, then the statement, then the docstring.
WEIGHTS = (4.0, 1.5, 0.5)
# Terms in more than this share of all declarations barely move BM25 and cost the most to score
# (every `=` in Mathlib); they are left out of a query unless nothing else is left.
COMMON_SHARE = 0.15
# How many matching rows the OR part of a query may make FTS5 score: with position lists
# (FTS5's default `detail=full`) BM25 costs about a microsecond per row.
OR_BUDGET = 15_000
# Candidates read from the AND query, among which a name made of exactly the query's words
# comes first.
_RERANK = 5
_SKIP_DIRS = frozenset({".lake", ".git", "build", "lake-packages", ".github", "node_modules"})
_BATCH = 256
_PARALLEL_FROM = 50  # fewer files are read faster than worker processes start

Progress = Callable[[int, int, str], None]  # files done, files to read, current package


class PremiseError(LeanloopError):
    """The index cannot be built or read."""


class Premise(BaseModel):
    """One declaration that can be used in a proof."""

    name: str
    kind: str
    signature: str
    docstring: str = ""
    package: str
    module: str
    file: str  # absolute path
    line: int


class SearchHit(BaseModel):
    premise: Premise
    score: float


class IndexStats(BaseModel):
    packages: list[str]
    files: int
    read: int  # files parsed in this update
    reused: int  # files whose declarations were kept
    removed: int
    declarations: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    dir: Path
    key: str  # changes when the package may have changed (its manifest entry)
    only: tuple[str, ...] = ()  # top-level directories to index (empty: all)


def cache_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "leanloop" / "premises"


def index_path(root: Path, directory: Path | None = None) -> Path:
    real = os.path.realpath(root)
    digest = hashlib.sha256(real.encode("utf-8")).hexdigest()[:16]
    return (directory or cache_dir()) / f"{Path(real).name}-{digest}.sqlite"


# --- what is indexed -----------------------------------------------------------------------


def packages_of(root: Path) -> list[Package]:
    """The workspace itself, every package `lake-manifest.json` names, any other directory in
    the packages directory, and the toolchain's own `Init` and `Std` when they can be found."""
    manifest = _read_manifest(root)
    name = str(manifest.get("name") or root.name)
    found = [Package(name=name, dir=root, key="workspace")]
    packages_dir = root / str(manifest.get("packagesDir") or ".lake/packages")
    seen: set[Path] = set()
    entries = manifest.get("packages")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        pkg_name = entry["name"]
        if entry.get("type") == "path" and isinstance(entry.get("dir"), str):
            where = (root / entry["dir"]).resolve()
        else:
            where = packages_dir / pkg_name
        seen.add(where)
        sub = entry.get("subDir")
        if isinstance(sub, str) and sub:
            where = where / sub
        key = json.dumps(
            {k: entry.get(k) for k in ("type", "url", "rev", "subDir", "dir")}, sort_keys=True
        )
        if where.is_dir() and where.resolve() != root.resolve():
            found.append(Package(name=pkg_name, dir=where, key=key))
    if packages_dir.is_dir():
        for d in sorted(packages_dir.iterdir()):
            if d.is_dir() and d not in seen and not d.name.startswith("."):
                found.append(Package(name=d.name, dir=d, key="unlisted"))
    core = toolchain_sources(root)
    if core is not None:
        found.append(Package(name="lean4", dir=core[0], key=core[1], only=("Init", "Std")))
    return found


def _read_manifest(root: Path) -> dict[str, object]:
    try:
        data = json.loads((root / "lake-manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def toolchain_sources(root: Path) -> tuple[Path, str] | None:
    """The Lean sources of the project's toolchain (`…/src/lean`, holding `Init/`), with the
    toolchain's name as the key. Elan keeps `leanprover/lean4:v4.22.0` in
    `~/.elan/toolchains/leanprover--lean4---v4.22.0` (its naming, recalled, not recorded
    here); a toolchain found only on PATH is used through `…/bin/lean`'s prefix."""
    import shutil

    try:
        name = (root / "lean-toolchain").read_text("utf-8").strip()
    except OSError:
        name = ""
    candidates: list[Path] = []
    if name:
        elan = Path(os.environ.get("ELAN_HOME") or Path.home() / ".elan")
        folder = name.replace("/", "--").replace(":", "---")
        candidates.append(elan / "toolchains" / folder / "src" / "lean")
    lean = shutil.which("lean")
    if lean is not None:
        candidates.append(Path(os.path.realpath(lean)).parent.parent / "src" / "lean")
    for c in candidates:
        if (c / "Init").is_dir():
            return c, f"toolchain {name or c}"
    return None


def lean_files(package: Package) -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to the package, stat) of every `.lean` file, in a stable order."""
    tops = [package.dir / t for t in package.only] if package.only else [package.dir]
    for top in tops:
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(
                d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")
            )
            for f in sorted(filenames):
                # The lakefile is Lake's configuration, not a module of the package.
                if f.endswith(".lean") and not (f == "lakefile.lean" and dirpath == str(top)):
                    full = os.path.join(dirpath, f)
                    try:
                        st = os.stat(full)
                    except OSError:
                        continue
                    yield os.path.relpath(full, package.dir), st


def module_name(relpath: str) -> str:
    return relpath.removesuffix(".lean").replace(os.sep, ".").replace("/", ".")


# --- extraction (also in worker processes) ------------------------------------------------


def _read_and_extract(path: str) -> tuple[str, list[Extracted]] | None:
    """(content hash, declarations) of one file; None if it cannot be read as UTF-8."""
    try:
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return hashlib.sha256(raw).hexdigest(), extract_declarations(text.removeprefix("\ufeff"))


def _hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# --- the index -----------------------------------------------------------------------------

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS packages(name TEXT PRIMARY KEY, dir TEXT NOT NULL, key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY, package TEXT NOT NULL, path TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha TEXT NOT NULL,
    UNIQUE(package, path));
CREATE TABLE IF NOT EXISTS decls(
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    signature TEXT NOT NULL, docstring TEXT NOT NULL, line INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS decls_file ON decls(file_id);
CREATE INDEX IF NOT EXISTS decls_name ON decls(name);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    name, stmt, doc, tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
"""


class PremiseIndex:
    """The declarations of the Lake workspace at ``root`` and of its packages."""

    def __init__(self, root: Path, path: Path, packages: list[Package] | None = None) -> None:
        self.root = root
        self.path = path
        self._packages = packages
        self._db = self._connect(path)
        self._count: int | None = None
        # One connection, used from worker threads (`aupdate`, callers' `to_thread`): one at a time.
        self._lock = threading.Lock()

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=60, check_same_thread=False)
            version = _meta(db, "schema")
            if version is not None and version != SCHEMA:
                db.close()
                path.unlink(missing_ok=True)  # an older layout: rebuilt from scratch
                db = sqlite3.connect(path, timeout=60, check_same_thread=False)
            # A cache: losing it to a crash means rebuilding it, so no fsync per commit.
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(_SCHEMA_SQL)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
            db.commit()
        except sqlite3.OperationalError as e:
            if "fts5" in str(e).lower():
                raise PremiseError(
                    "This Python's SQLite has no FTS5, which premise search needs; use a Python "
                    "built with a standard SQLite (python.org, Debian, Ubuntu and conda builds "
                    "have it)."
                ) from None
            raise PremiseError(f"Cannot open the premise index {path}: {e}.") from None
        except (OSError, sqlite3.DatabaseError) as e:
            raise PremiseError(f"Cannot open the premise index {path}: {e}.") from None
        return db

    def close(self) -> None:
        self._db.close()

    @property
    def packages(self) -> list[Package]:
        if self._packages is None:
            self._packages = packages_of(self.root)
        return self._packages

    def is_empty(self) -> bool:
        return self._db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None

    # -- building ---------------------------------------------------------------------------

    def update(self, progress: Progress | None = None, workers: int = 1) -> IndexStats:
        """Bring the index up to date with the files on disk; only changed files are read."""
        with self._lock:
            return self._update(progress, workers)

    def _update(self, progress: Progress | None, workers: int) -> IndexStats:
        start = time.perf_counter()
        report = progress or (lambda done, total, what: None)
        db = self._db
        packages = self.packages
        stored_keys = dict(db.execute("SELECT name, key FROM packages").fetchall())
        work: list[tuple[int | None, Package, str, os.stat_result]] = []
        removed = reused = files = 0
        for pkg in packages:
            forced = stored_keys.get(pkg.name) != pkg.key
            stored = {
                path: (fid, size, mtime, sha)
                for fid, path, size, mtime, sha in db.execute(
                    "SELECT id, path, size, mtime_ns, sha FROM files WHERE package = ?",
                    (pkg.name,),
                )
            }
            present: set[str] = set()
            for rel, st in lean_files(pkg):
                files += 1
                present.add(rel)
                old = stored.get(rel)
                same_stat = old is not None and (old[1], old[2]) == (st.st_size, st.st_mtime_ns)
                if same_stat and not forced:
                    reused += 1
                    continue
                if old is not None and _hash(pkg.dir / rel) == old[3]:
                    db.execute(
                        "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                        (st.st_size, st.st_mtime_ns, old[0]),
                    )
                    reused += 1
                    continue
                work.append((old[0] if old else None, pkg, rel, st))
            for rel, (fid, *_rest) in stored.items():
                if rel not in present:
                    self._drop_file(fid)
                    removed += 1
            db.execute(
                "INSERT OR REPLACE INTO packages VALUES (?, ?, ?)",
                (pkg.name, str(pkg.dir), pkg.key),
            )
        names = {p.name for p in packages}
        for (gone,) in db.execute("SELECT name FROM packages").fetchall():
            if gone not in names:
                for (fid,) in db.execute("SELECT id FROM files WHERE package = ?", (gone,)):
                    self._drop_file(fid)
                    removed += 1
                db.execute("DELETE FROM packages WHERE name = ?", (gone,))
        db.commit()
        self._index(work, report, workers)
        if work:
            db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            db.commit()
        self._count = None
        return IndexStats(
            packages=[p.name for p in packages],
            files=files,
            read=len(work),
            reused=reused,
            removed=removed,
            declarations=self.count(),
            seconds=round(time.perf_counter() - start, 3),
        )

    async def aupdate(
        self, progress: Progress | None = None, workers: int | None = None
    ) -> IndexStats:
        """:meth:`update` off the event loop; by default with a process per core (up to 4)."""
        if workers is None:
            workers = min(os.cpu_count() or 1, 4)
        return await asyncio.to_thread(self.update, progress, workers)

    def _index(
        self,
        work: list[tuple[int | None, Package, str, os.stat_result]],
        report: Progress,
        workers: int,
    ) -> None:
        total = len(work)
        paths = [str(pkg.dir / rel) for _, pkg, rel, _ in work]
        done = 0
        if workers > 1 and total > _PARALLEL_FROM:
            done = self._index_in_workers(work, paths, report, workers)
        try:
            for k in range(done, total):
                fid, pkg, rel, st = work[k]
                self._store(fid, pkg, rel, st, _read_and_extract(paths[k]))
                if k % _BATCH == _BATCH - 1:
                    self._db.commit()
                report(k + 1, total, pkg.name)
        finally:
            self._db.commit()

    def _index_in_workers(
        self,
        work: list[tuple[int | None, Package, str, os.stat_result]],
        paths: list[str],
        report: Progress,
        workers: int,
    ) -> int:
        """Read files in ``workers`` processes; the number stored. Should the processes fail
        (a program whose main module cannot be imported again, no semaphores), the caller reads
        the rest itself."""
        import multiprocessing
        from concurrent.futures.process import BrokenProcessPool

        done = 0
        try:
            # `spawn`, not `fork`: the caller may run this in a thread of an asyncio program.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                for result in pool.map(_read_and_extract, paths, chunksize=16):
                    fid, pkg, rel, st = work[done]
                    self._store(fid, pkg, rel, st, result)
                    done += 1
                    if done % _BATCH == 0:
                        self._db.commit()
                    report(done, len(work), pkg.name)
        except (BrokenProcessPool, OSError):
            pass
        return done

    def _store(
        self,
        fid: int | None,
        pkg: Package,
        rel: str,
        st: os.stat_result,
        result: tuple[str, list[Extracted]] | None,
    ) -> None:
        db = self._db
        if fid is not None:
            self._drop_decls(fid)
        sha, decls = result if result is not None else ("unreadable", [])
        if fid is None:
            cur = db.execute(
                "INSERT INTO files(package, path, size, mtime_ns, sha) VALUES (?, ?, ?, ?, ?)",
                (pkg.name, rel, st.st_size, st.st_mtime_ns, sha),
            )
            fid = cur.lastrowid
        else:
            db.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, sha = ? WHERE id = ?",
                (st.st_size, st.st_mtime_ns, sha, fid),
            )
        workspace = pkg.key == "workspace"
        rows = [d for d in decls if workspace or not d.private]
        for d in rows:
            cur = db.execute(
                "INSERT INTO decls(file_id, name, kind, signature, docstring, line) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (fid, d.full_name, d.kind, d.signature, d.docstring, d.line),
            )
            db.execute(
                "INSERT INTO fts(rowid, name, stmt, doc) VALUES (?, ?, ?, ?)",
                (
                    cur.lastrowid,
                    " ".join(d.terms.name),
                    " ".join(d.terms.statement),
                    " ".join(d.terms.doc),
                ),
            )

    def _drop_decls(self, fid: int) -> None:
        self._db.execute(
            "DELETE FROM fts WHERE rowid IN (SELECT id FROM decls WHERE file_id = ?)", (fid,)
        )
        self._db.execute("DELETE FROM decls WHERE file_id = ?", (fid,))

    def _drop_file(self, fid: int) -> None:
        self._drop_decls(fid)
        self._db.execute("DELETE FROM files WHERE id = ?", (fid,))

    # -- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        if self._count is None:
            self._count = int(self._db.execute("SELECT count(*) FROM decls").fetchone()[0])
        return self._count

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best ``limit`` declarations for ``query``: words of a name (`add comm nat`), a
        statement (`a + b = b + a`), or both.

        FTS5 scores every row a query matches, and a term such as `add` matches a tenth of
        Mathlib. So the declarations that have every term come first (an AND query, which
        only scores the few rows that match it); the rest of the list comes from the rarest
        terms, as many as fit in `OR_BUDGET` matching rows, ranked by BM25."""
        if limit <= 0:
            return []
        with self._lock:
            return self._search(query, limit)

    def _search(self, query: str, limit: int) -> list[SearchHit]:
        terms = self._terms(query)
        if not terms:
            return []
        hits: list[tuple[int, float]] = []
        if len(terms) > 1:
            hits = self._by_name(self._ranked(" AND ".join(t for t, _ in terms), limit * _RERANK),
                                 query)[:limit]  # fmt: skip
        if len(hits) < limit:
            chosen: list[str] = []
            rows = 0
            for term, df in sorted(terms, key=lambda x: x[1]):
                if chosen and rows + df > OR_BUDGET:
                    break
                chosen.append(term)
                rows += df
            seen = {h[0] for h in hits}
            match = " OR ".join(chosen)
            if rows > OR_BUDGET and chosen[0].startswith("w"):
                match = f"name : {chosen[0]}"  # one common word: where it names things
            more = self._ranked(match, limit + len(hits))
            hits += [h for h in more if h[0] not in seen][: limit - len(hits)]
        return [self._hit(rowid, score) for rowid, score in hits]

    def _by_name(self, hits: list[tuple[int, float]], query: str) -> list[tuple[int, float]]:
        """Among declarations that match every term, those whose name holds the most of the
        query's words, and then the fewest others, come first (`Nat.add_comm` before
        `Nat.add_left_comm` and `Nat.add` for `add comm nat`); BM25 orders the rest."""
        if not hits:
            return hits
        # The query's name words, as `query_terms` keeps them (one letter is a variable).
        wanted = {w for part in query.split() for w in name_words(part) if len(w) > 1}
        if not wanted:
            return hits
        marks = ",".join("?" * len(hits))
        names = dict(
            self._db.execute(
                f"SELECT id, name FROM decls WHERE id IN ({marks})", [h[0] for h in hits]
            ).fetchall()
        )

        def key(hit: tuple[int, float]) -> tuple[int, int, float]:
            words = set(name_words(names.get(hit[0], "")))
            return len(wanted - words), len(words - wanted), hit[1]

        return sorted(hits, key=key)

    def _ranked(self, match: str, limit: int) -> list[tuple[int, float]]:
        return [
            (int(rowid), float(score))
            for rowid, score in self._db.execute(
                "SELECT rowid, bm25(fts, ?, ?, ?) AS score FROM fts WHERE fts MATCH ? "
                "ORDER BY score LIMIT ?",
                (*WEIGHTS, match, limit),
            )
        ]

    def _hit(self, rowid: int, score: float) -> SearchHit:
        name, kind, signature, docstring, line, package, path, pkg_dir = self._db.execute(
            "SELECT d.name, d.kind, d.signature, d.docstring, d.line, f.package, f.path, p.dir "
            "FROM decls d JOIN files f ON f.id = d.file_id JOIN packages p ON p.name = f.package "
            "WHERE d.id = ?",
            (rowid,),
        ).fetchone()
        return SearchHit(
            premise=Premise(
                name=name,
                kind=kind,
                signature=signature,
                docstring=docstring,
                package=package,
                module=module_name(path),
                file=str(Path(pkg_dir) / path),
                line=line,
            ),
            score=round(-score, 4),
        )

    def _terms(self, query: str) -> list[tuple[str, int]]:
        """The query's terms that occur in the index, with the number of declarations each
        occurs in. Name words are always kept; other statement terms that occur in more than
        `COMMON_SHARE` of all declarations (`=`, `+`) are left out, as they barely move the
        score."""
        try:
            tokens = code_tokens(query)
        except UnterminatedError:
            tokens = code_tokens(
                query.replace('"', " ").replace("/-", " ").replace("«", " ").replace("'", " ")
            )
        words, rest = query_terms(tokens)
        terms = [*words, *rest]
        if not terms:
            return []
        marks = ",".join("?" * len(terms))
        df: dict[str, int] = dict(
            self._db.execute(
                f"SELECT term, doc FROM fts_vocab WHERE term IN ({marks})", terms
            ).fetchall()
        )
        limit = max(COMMON_SHARE * self.count(), 50)
        kept = [(t, df[t]) for t in words if df.get(t, 0)]
        kept += [(t, df[t]) for t in rest if 0 < df.get(t, 0) <= limit]
        if kept:
            return kept
        return sorted(((t, df[t]) for t in terms if df.get(t, 0)), key=lambda x: x[1])[:3]


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def open_index(root: Path, directory: Path | None = None) -> PremiseIndex:
    """The index of the workspace at ``root`` (not brought up to date: call ``update``)."""
    return PremiseIndex(root, index_path(root, directory))
