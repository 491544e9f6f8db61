"""Benchmark datasets: problems, the loaders for each format, known issues and the fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from leanloop.errors import UsageError
from leanloop.source import LeanDocument, UnterminatedError, code_tokens

Format = Literal["lean", "jsonl", "leandojo"]
Warn = Callable[[str], None]


class Problem(BaseModel):
    """One benchmark problem. ``header + statement`` is the Lean text that is checked."""

    name: str
    header: str
    statement: str  # ends in `:= by sorry` or `:= sorry`
    informal: str | None = None
    split: str | None = None
    origin: str  # where it came from, for messages: `file.lean:12` or `data.jsonl:3`
    # Answer holes (`abbrev foo_solution : T := sorry` in the header) the statement uses, which
    # the model fills together with the proof (`--with-answers`).
    answers: list[str] = []

    @property
    def text(self) -> str:
        sep = "" if not self.header or self.header.endswith("\n") else "\n"
        return self.header + sep + self.statement + "\n"


class KnownIssue(BaseModel):
    name: str
    reason: str


class Dataset(BaseModel):
    path: str
    format: Format
    problems: list[Problem]
    # Problems left out before any run, with why: answer holes without --with-answers.
    needs_answer: list[str] = []
    known_issues: list[KnownIssue] = []
    fingerprint: str = ""


def normalise(text: str) -> str:
    """Text as it matters for identity: newlines unified, trailing spaces and blank edges gone."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def fingerprint(problems: list[Problem]) -> str:
    items = sorted(
        (p.name, normalise(p.header), normalise(p.statement), normalise(p.informal or ""))
        for p in problems
    )
    blob = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def detect_format(path: Path) -> Format:
    if path.is_dir() or path.suffix == ".lean":
        return "lean"
    if path.suffix in (".jsonl", ".json"):
        first = _first_json_line(path)
        if isinstance(first, list):  # a JSON array on one line
            first = first[0] if first else None
        elif first is None and path.suffix == ".json":
            first = _first_array_item(path)
        if isinstance(first, dict) and {"full_name", "file_path", "commit"} <= first.keys():
            return "leandojo"
        return "jsonl"
    raise UsageError(
        f"Cannot tell the format of {path}: give a directory of .lean files, a .jsonl file or a "
        "LeanDojo theorem list (or force one with --format lean|jsonl|leandojo)."
    )


def _first_array_item(path: Path) -> object:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data[0] if isinstance(data, list) and data else None


def _first_json_line(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        return json.loads(line)
                    except json.JSONDecodeError:
                        return None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def load(
    path: Path,
    *,
    fmt: Format | None = None,
    split: str | None = None,
    strict: bool = False,
    known_issues: Path | None = None,
    with_answers: bool = False,
    repo: Path | None = None,
    warn: Warn,
) -> Dataset:
    """Read a dataset; bad input is a :class:`UsageError` with one clear sentence. ``repo`` is
    the local clone a LeanDojo theorem list refers to."""
    if not path.exists():
        raise UsageError(f"No such dataset: {path}.")
    fmt = fmt or detect_format(path)
    needs_answer: list[str] = []
    if fmt == "lean":
        if split is not None:
            raise UsageError("--split applies to JSONL datasets only; a .lean dataset has none.")
        problems, needs_answer = load_lean(path, with_answers=with_answers)
    elif fmt == "leandojo":
        if split is not None:
            raise UsageError("--split applies to JSONL datasets; a LeanDojo list is one split.")
        problems = load_leandojo(path, repo=repo, warn=warn)
    else:
        if path.is_dir():
            raise UsageError(f"{path} is a directory; --format jsonl needs a .jsonl file.")
        problems = load_jsonl(path, split=split, strict=strict, warn=warn)
    _refuse_duplicates(problems)
    issues = load_known_issues(known_issues or _default_known_issues(path))
    return Dataset(
        path=str(path),
        format=fmt,
        problems=problems,
        needs_answer=needs_answer,
        known_issues=issues,
        fingerprint=fingerprint(problems),
    )


def _default_known_issues(path: Path) -> Path | None:
    where = path if path.is_dir() else path.parent
    p = where / "known_issues.json"
    return p if p.is_file() else None


def load_known_issues(path: Path | None) -> list[KnownIssue]:
    """A JSON list of ``{"name": …, "reason": …}``."""
    if path is None:
        return []
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"Cannot read the known issues in {path}: {e}.") from None
    if isinstance(data, dict):
        data = data.get("known_issues", [])
    try:
        return [KnownIssue.model_validate(x) for x in data]
    except (ValidationError, TypeError):
        raise UsageError(
            f'{path} must hold a list of {{"name": …, "reason": …}} entries.'
        ) from None


def _refuse_duplicates(problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for p in problems:
        if p.name in seen:
            raise UsageError(
                f"Duplicate problem name `{p.name}` ({seen[p.name]} and {p.origin}); "
                "problem names must be unique."
            )
        seen[p.name] = p.origin


# ---------------------------------------------------------------------------------------------
# A directory of .lean files


def lean_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*.lean")
        if not any(part.startswith(".") for part in p.relative_to(path).parts)
        and p.name != "lakefile.lean"
    )


def load_lean(path: Path, *, with_answers: bool = False) -> tuple[list[Problem], list[str]]:
    """Every theorem with a `sorry` is a problem; its header is its file up to it. One that
    uses an answer hole needs an answer: skipped, or with ``with_answers`` a problem whose
    answers the model fills too."""
    root = path if path.is_dir() else path.parent
    problems: list[Problem] = []
    needs_answer: list[str] = []
    files = lean_files(path)
    if not files:
        raise UsageError(f"No .lean files in {path}.")
    for file in files:
        try:
            text = file.read_text("utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"Cannot read {file}: {e}.") from None
        try:
            doc = LeanDocument(text)
        except UnterminatedError as e:
            raise UsageError(f"{file}: {e}.") from None
        rel = file.relative_to(root).as_posix() if file != path else file.name
        # `abbrev foo_solution : T := sorry`: an answer the problem asks for (PutnamBench).
        answers = {
            n: d.name
            for d in doc.declarations
            if d.kind in ("abbrev", "def") and d.sorries and d.name
            for n in (d.name, d.full_name)
            if n
        }
        for d in doc.proof_targets:
            line = doc.position(d.start)[0]
            name = d.full_name or f"{rel}:example@{line}"
            end = d.header_end if d.header_end is not None else d.end
            used = {t.text for t in code_tokens(text[d.start : end])}
            holes = sorted({answers[n] for n in used if n in answers})
            if holes and not with_answers:
                needs_answer.append(name)
                continue
            problems.append(
                Problem(
                    name=name,
                    header=text[: d.start],
                    statement=text[d.start : d.end],
                    origin=f"{rel}:{line}",
                    answers=holes,
                )
            )
    return problems, needs_answer


# ---------------------------------------------------------------------------------------------
# JSONL (DeepSeek-Prover, Goedel-Prover, Kimina)


class JsonlRow(BaseModel):
    name: str
    formal_statement: str
    header: str = ""
    split: str | None = None
    informal_prefix: str | None = None
    goal: str | None = None


def load_jsonl(path: Path, *, split: str | None, strict: bool, warn: Warn) -> list[Problem]:
    problems: list[Problem] = []
    splits: set[str] = set()
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"Cannot read {path}: {e}.") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = JsonlRow.model_validate_json(line)
        except ValidationError as e:
            err = e.errors()[0]
            what = (
                "it is not JSON"
                if err["type"] == "json_invalid"
                else f"{'.'.join(map(str, err['loc'])) or 'the line'}: {err['msg'].lower()}"
            )
            msg = f"{path.name} line {no} is malformed ({what})"
            if strict:
                raise UsageError(msg + "; stopping because of --strict.") from None
            warn(msg + "; skipped.")
            continue
        if row.split is not None:
            splits.add(row.split)
        if split is not None and row.split != split:
            continue
        problems.append(
            Problem(
                name=row.name,
                header=row.header,
                statement=_informal_comment(row.informal_prefix)
                + _with_sorry(row.formal_statement),
                informal=row.informal_prefix or None,
                split=row.split,
                origin=f"{path.name}:{no}",
            )
        )
    if split is not None and not problems:
        have = ", ".join(sorted(splits)) or "none"
        raise UsageError(f"No problem in {path} has split `{split}` (splits present: {have}).")
    return problems


_ENDS_BY = re.compile(r":=\s*by\s*$")
_ENDS_ASSIGN = re.compile(r":=\s*$")


def _with_sorry(statement: str) -> str:
    """DeepSeek's files end statements in `:= by` for the model to continue; make the hole
    explicit so that the statement is a problem like any other."""
    s = statement.rstrip()
    if _ENDS_BY.search(s):
        return s + " sorry"
    if _ENDS_ASSIGN.search(s):
        return s + " by sorry"
    return s


def _informal_comment(informal: str | None) -> str:
    """The informal text goes before the statement as a comment, so the model sees it."""
    if not informal or not informal.strip():
        return ""
    text = informal.strip()
    if text.startswith("/-") and text.endswith("-/"):
        return text + "\n"
    return "/- " + text.replace("-/", "- /") + " -/\n"


class LeanDojoRow(BaseModel):
    """One theorem of a LeanDojo Benchmark 4 list (other keys, such as traced tactics, are
    ignored)."""

    url: str
    commit: str
    file_path: str
    full_name: str
    start: tuple[int, int]
    end: tuple[int, int]


LEAN_DOJO_MISSING = (
    "Reading a LeanDojo Benchmark 4 theorem list needs lean-dojo, which installs with leanloop "
    "on Python 3.11 and 3.12 only (lean-dojo does not support Python 3.13 or later yet); use "
    "a supported Python, or `pip install lean-dojo` where it installs."
)


def load_leandojo(path: Path, *, repo: Path | None, warn: Warn) -> list[Problem]:
    """A LeanDojo Benchmark 4 theorem list (a JSON array, or JSONL), each theorem read from the
    user's local clone at its commit with gitpython, never from the network.

    LeanDojo's own code reads the positions: the file at the commit is a `lean_dojo.LeanFile`,
    sliced by `Pos` (1-based line and column) as LeanDojo's tracer wrote them, and a file of a
    dependency (`.lake/packages/NAME/…`, LeanDojo's `LEAN4_PACKAGES_DIR`) is read from that
    package's own clone inside the project. `LeanGitRepo` and `Theorem` are not constructed:
    their constructor reaches GitHub for a GitHub URL, or copies a local repository into
    lean_dojo's cache."""
    import tempfile

    import git

    try:
        # Importing lean_dojo has side effects (its cache and logging), so only here.
        from lean_dojo.constants import LEAN4_PACKAGES_DIR
        from lean_dojo.data_extraction.lean import LeanFile, Pos
    except ImportError:
        raise UsageError(LEAN_DOJO_MISSING) from None

    rows = _leandojo_rows(path, warn)
    if not rows:
        raise UsageError(f"{path} holds no theorem.")
    where = repo or Path.cwd()
    clones: dict[Path, git.Repo] = {}
    files: dict[tuple[str, str], tuple[str, LeanFile]] = {}
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="leanloop-leandojo-") as scratch:
        for n, row in enumerate(rows):
            key = (row.commit, row.file_path)
            if key not in files:
                clone_dir, rel = _clone_of(where, Path(row.file_path), Path(LEAN4_PACKAGES_DIR))
                if clone_dir not in clones:
                    clones[clone_dir] = _open_clone(clone_dir, row)
                text = _file_at(clones[clone_dir], clone_dir, row, rel)
                # LeanFile reads a file on disk: the blob at the commit, in a scratch copy.
                copy = Path(scratch) / str(n) / rel
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(text, encoding="utf-8")
                try:
                    files[key] = (text, LeanFile(Path(scratch) / str(n), rel))
                except RuntimeError as e:  # LeanFile refuses Windows line endings
                    raise UsageError(f"{row.file_path} at {row.commit[:12]}: {e}") from None
            text, lean_file = files[key]
            start, end = Pos(*row.start), Pos(*row.end)
            problem = _leandojo_problem(text, lean_file, row, start, end, warn)
            if problem is not None:
                problems.append(problem)
    return problems


def _leandojo_problem(
    text: str, lean_file: object, row: LeanDojoRow, start: object, end: object, warn: Warn
) -> Problem | None:
    from lean_dojo.data_extraction.lean import LeanFile, Pos

    assert isinstance(lean_file, LeanFile) and isinstance(start, Pos) and isinstance(end, Pos)
    try:
        a = len(lean_file[:start])
        b = a + len(lean_file[start:end])
    except (AssertionError, IndexError):
        warn(f"{row.full_name}: {row.file_path} has no position {tuple(start)}; skipped.")
        return None
    try:
        doc = LeanDocument(text)
    except UnterminatedError as e:
        warn(f"{row.full_name}: {row.file_path} has an {e}; skipped.")
        return None
    # The declaration whose keyword LeanDojo's span holds. Its doc comment and attributes go
    # with the statement, wherever LeanDojo's span starts.
    decl = next(
        (d for d in doc.declarations if a <= d.keyword < max(b, a + 1) and d.header_end),
        None,
    )
    if decl is None or decl.header_end is None:
        warn(f"{row.full_name}: no theorem at {row.file_path}:{start.line_nb}; skipped.")
        return None
    begin = min(decl.start, a)
    return Problem(
        name=row.full_name,
        header=text[:begin],
        statement=text[begin : decl.header_end].rstrip() + " := by sorry",
        origin=f"{row.file_path}:{start.line_nb}",
    )


def _leandojo_rows(path: Path, warn: Warn) -> list[LeanDojoRow]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"Cannot read {path}: {e}.") from None
    try:
        data = json.loads(raw)
        items = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                warn(f"{path}:{n}: not JSON; skipped.")
    rows: list[LeanDojoRow] = []
    for n, item in enumerate(items, 1):
        try:
            rows.append(LeanDojoRow.model_validate(item))
        except ValidationError:
            warn(f"{path}: theorem {n} lacks url, commit, file_path, full_name, start or end.")
    return rows


def _clone_of(where: Path, file_path: Path, packages: Path) -> tuple[Path, Path]:
    """The clone that holds ``file_path`` and the path inside it. LeanDojo names a dependency's
    file `.lake/packages/NAME/…` (relative to the traced repository), with the dependency's
    own URL and commit: Lake's checkout of it is a clone of its own."""
    if file_path.is_relative_to(packages) and len(file_path.parts) > len(packages.parts) + 1:
        name = file_path.parts[len(packages.parts)]
        return where / packages / name, Path(*file_path.parts[len(packages.parts) + 1 :])
    return where, file_path


def _open_clone(where: Path, row: LeanDojoRow) -> Any:
    import git

    try:
        return git.Repo(where, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(
            f"A LeanDojo theorem list names files of {row.url} at a commit; pass --project "
            f"with your local clone of it ({where} is not a git repository)."
        ) from None


def _file_at(clone: object, where: Path, row: LeanDojoRow, rel: Path) -> str:
    import git

    assert isinstance(clone, git.Repo)
    try:
        # gitpython resolves a full SHA lazily: reading its tree is what finds it missing.
        tree = clone.commit(row.commit).tree
    except (git.BadName, ValueError):
        raise UsageError(
            f"Commit {row.commit[:12]} of {row.url} is not in the clone at {where}; fetch it "
            "there first (git fetch)."
        ) from None
    try:
        blob = tree / rel.as_posix()
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8").removeprefix("\ufeff")
    except (KeyError, UnicodeDecodeError):
        raise UsageError(
            f"{row.file_path} is not a UTF-8 file at commit {row.commit[:12]} in {where}."
        ) from None
