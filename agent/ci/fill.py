"""`ci --fill`: prove the new `sorry`s with the loop and the gate, then offer the proofs as
review suggestions or commit them on a new branch."""

from __future__ import annotations

import difflib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from leanloop.ci.check import decl_key
from leanloop.ci.model import FileResult, FillReport, FillResult, Rule
from leanloop.ci.scope import Scope
from leanloop.errors import ConfigError, UsageError
from leanloop.lean.checker import Checker
from leanloop.lean.replay import Replayer, allow_unproved
from leanloop.loop import Event
from leanloop.model import Model
from leanloop.policy import Policy
from leanloop.report import Status
from leanloop.settings import Settings
from leanloop.source import LeanDocument

Say = Callable[[str], None]


@dataclass
class Filled:
    report: FillReport
    originals: dict[str, bytes]  # path -> the file's bytes before filling (only changed files)
    proved: dict[str, list[str]]  # path -> the declarations proved in it


def wanted_targets(results: list[FileResult], mode: str) -> dict[str, list[str]]:
    """Per file, the keys of the declarations to prove: those with a new `sorry` (or any)."""
    out: dict[str, list[str]] = {}
    for fr in results:
        for f in fr.findings:
            if f.rule is not Rule.SORRY or (mode == "new" and f.new is False):
                continue
            keys = out.setdefault(fr.path, [])
            if f.key not in keys:
                keys.append(f.key)
    return out


async def fill(
    scope: Scope,
    results: list[FileResult],
    *,
    mode: str,
    settings: Settings,
    model: Model,
    make_checker: Callable[[Path], Checker],
    policy: Policy,
    budget_usd: float | None,
    max_targets: int | None,
    replayer: Replayer | None,
    say: Say,
) -> Filled:
    from leanloop.files import SourceFile, atomic_write, parse
    from leanloop.loop import file_name
    from leanloop.prove import prove_file
    from leanloop.report import cost
    from leanloop.source.targets import find_targets

    if budget_usd is not None and cost(settings.prices, model.name, 1, 1) is None:
        raise ConfigError(
            f'--budget-usd needs the price of {model.name}: set prices."{model.name}" '
            "(USD per million prompt and completion tokens) in the settings."
        )
    report = FillReport(model=model.name, targets=[], spent_usd=0.0, budget_usd=budget_usd)
    originals: dict[str, bytes] = {}
    proved: dict[str, list[str]] = {}
    todo = wanted_targets(results, mode)
    count = 0

    def progress(event: Event) -> None:
        if event.kind in ("proved", "failed"):
            say(f"[{event.target}] {event.message}")

    halted = False
    for rel, keys in todo.items():
        path = scope.root / rel
        checker = make_checker(path)
        try:
            for key in keys:
                source = SourceFile.read(path)
                doc = parse(source)
                targets = [t for t in find_targets(doc) if decl_key(doc, t.decl) == key]
                if not targets:
                    continue
                target = targets[0]
                skip = None
                if max_targets is not None and count >= max_targets:
                    skip = f"--max-targets {max_targets} reached"
                elif budget_usd is not None and (report.spent_usd or 0.0) >= budget_usd:
                    skip = f"the budget of ${budget_usd:.2f} is spent"
                if skip is not None:
                    report.stopped = report.stopped or skip
                    report.targets.append(
                        FillResult(
                            file=rel,
                            declaration=target.name,
                            line=target.line,
                            status="skipped",
                            note=skip,
                        )
                    )
                    continue
                count += 1
                say(f"Proving {target.name} ({rel}:{target.line})…")
                # Proved into a scratch copy first: the replay sees it before the tree does.
                out_dir = Path(tempfile.mkdtemp(prefix="leanloop-fill-"))
                scratch_out = out_dir / path.name
                try:
                    run = await prove_file(
                        source,
                        doc,
                        [target],
                        settings=settings,
                        model=model,
                        checker=checker,
                        policy=policy,
                        dry_run=False,
                        output=scratch_out,
                        say=say,
                        progress=progress,
                    )
                    rejected = None
                    if run.written and replayer is not None:
                        proved_text = (
                            scratch_out.read_bytes().decode("utf-8").removeprefix("\ufeff")
                        )
                        verdict = await replayer.replay(
                            source.text, proved_text, file_name=file_name(rel)
                        )
                        # The file's other sorries are proved one at a time later; SafeVerify
                        # flags every declaration still using `sorryAx`.
                        others = {t.check_name for t in find_targets(doc)} - {target.check_name}
                        verdict = allow_unproved(verdict, others)
                        if not verdict.passed:
                            rejected = verdict.reason
                            if verdict.status == "failed":
                                say(
                                    "warning: the replay layer rejected a proof the text-level "
                                    f"gate accepted ({target.name}); this points at a hole in "
                                    f"the gate. The proof: {run.targets[0].proof!r}"
                                )
                    if run.written and rejected is None:
                        if path.read_bytes() != source.raw:
                            raise UsageError(f"{rel} changed on disk while proving.")
                        atomic_write(path, scratch_out.read_bytes(), like=path)
                finally:
                    shutil.rmtree(out_dir, ignore_errors=True)
                for t in run.targets:
                    if rejected is not None and t.status.value == "proved":
                        t.status = Status.FAILED
                        t.note = f"Left out: {rejected}"
                    if t.cost_usd is None:
                        report.spent_usd = None
                    elif report.spent_usd is not None:
                        report.spent_usd = round(report.spent_usd + t.cost_usd, 6)
                    report.targets.append(
                        FillResult(
                            file=rel,
                            declaration=t.name,
                            line=t.line,
                            status=t.status.value,
                            note=t.note,
                            cost_usd=t.cost_usd,
                            proof=t.proof,
                        )
                    )
                if run.written and rejected is None:
                    originals.setdefault(rel, source.raw)
                    proved.setdefault(rel, []).extend(
                        t.name for t in run.targets if t.status.value == "proved"
                    )
                if run.stopped:
                    # A fatal error (a refused key, an endpoint that keeps failing): no point
                    # in trying the remaining targets.
                    report.stopped = report.stopped or run.stopped
                    report.error = report.error or run.stopped
                    halted = True
                    break
        finally:
            await checker.aclose()
        if halted:
            break
    return Filled(report, originals, proved)


# Review suggestions ------------------------------------------------------------------------------


class ReviewComment(BaseModel):
    path: str
    line: int
    side: str = "RIGHT"
    start_line: int | None = None
    start_side: str | None = None
    body: str


class ReviewPayload(BaseModel):
    """The body of `POST /repos/{owner}/{repo}/pulls/{number}/reviews`."""

    commit_id: str
    event: str = "COMMENT"
    body: str
    comments: list[ReviewComment]


def _owner(doc: LeanDocument, line: int) -> str | None:
    for d in doc.declarations:
        if doc.position(d.start)[0] <= line <= doc.position(d.end)[0]:
            return d.full_name or f"example@{doc.position(d.keyword)[0]}"
    return None


def suggestions(
    root: Path, originals: dict[str, bytes], head_sha: str, model: str
) -> ReviewPayload:
    """One comment per changed hunk, replacing exactly the original lines (the `sorry`'s)."""
    comments: list[ReviewComment] = []
    for rel, raw in sorted(originals.items()):
        old = raw.decode("utf-8").removeprefix("\ufeff")
        new = (root / rel).read_bytes().decode("utf-8").removeprefix("\ufeff")
        old_lines = old.splitlines(keepends=True)
        new_lines = new.splitlines(keepends=True)
        doc = LeanDocument(old)
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            if i1 == i2:  # a pure insertion: anchor it on the line before
                i1 -= 1
                j1 -= 1
            replacement = "".join(new_lines[j1:j2])
            if replacement and not replacement.endswith("\n"):
                replacement += "\n"
            name = _owner(doc, i1 + 1)
            head = f"leanloop proved `{name}` with {model}; Lean accepted it through the gate."
            body = f"{head}\n\n```suggestion\n{replacement}```\n"
            first, last = i1 + 1, max(i2, i1 + 1)
            comments.append(
                ReviewComment(
                    path=rel,
                    line=last,
                    start_line=first if first < last else None,
                    start_side="RIGHT" if first < last else None,
                    body=body,
                )
            )
    n = len(comments)
    return ReviewPayload(
        commit_id=head_sha,
        body=f"leanloop found proofs for {n} `sorry` block(s); each is checked by Lean.",
        comments=comments,
    )


def payload_json(payload: ReviewPayload) -> str:
    return payload.model_dump_json(indent=2, exclude_none=True) + "\n"


async def post_review(payload: ReviewPayload, env: dict[str, str]) -> str:
    """Post the review through GitHub's REST API; returns the review's URL (or id)."""
    import asyncio
    import urllib.error
    import urllib.request

    missing = [
        n for n in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH") if not env.get(n)
    ]
    if missing:
        raise UsageError(f"--post-review needs {', '.join(missing)} in the environment.")
    try:
        event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text("utf-8"))
        number = int(event.get("pull_request", {}).get("number") or event["number"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(
            "--post-review: $GITHUB_EVENT_PATH does not describe a pull request."
        ) from None
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    url = f"{api}/repos/{env['GITHUB_REPOSITORY']}/pulls/{number}/reviews"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload.model_dump(exclude_none=True)).encode("utf-8"),
        method="POST",
        headers={
            "Authorization": f"Bearer {env['GITHUB_TOKEN']}",
            "Accept": "application/vnd.github+json",
            "Content-Type": "application/json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )

    def send() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return int(resp.status), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return int(e.code), e.read().decode("utf-8", "replace")

    try:
        status, text = await asyncio.to_thread(send)
    except (urllib.error.URLError, OSError) as e:
        raise UsageError(f"--post-review: cannot reach {api}: {e}.") from None
    if status >= 300:
        raise UsageError(f"--post-review: GitHub answered {status}: {text[:200].strip()}.")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        data = {}
    return str(data.get("html_url") or data.get("id") or "posted")


# Committing on a new branch ---------------------------------------------------------------------


def check_branch(root: Path, name: str) -> None:
    """Refuse before any work: a dirty tree, or a branch name already taken or invalid."""
    from git import Repo

    repo = Repo(root)
    if repo.is_dirty(index=True, working_tree=True, untracked_files=False):
        raise UsageError(
            "--commit-branch needs a clean working tree (commit or stash your changes first)."
        )
    if name in {h.name for h in repo.heads}:
        raise UsageError(f"--commit-branch {name}: the branch already exists; choose a new name.")
    if not repo.git.check_ref_format("--branch", name, with_exceptions=False):
        raise UsageError(f"--commit-branch {name}: not a valid branch name.")


def commit_branch(
    root: Path, name: str, originals: dict[str, bytes], proved: dict[str, list[str]], model: str
) -> str:
    """Commit the filled files on a new branch from HEAD without checking it out; the working
    tree gets its original bytes back, so the current branch and the tree are untouched."""
    from io import BytesIO

    from git import IndexFile, Repo
    from git.objects import Blob, Commit
    from gitdb.base import IStream  # type: ignore[import-untyped]

    repo = Repo(root)
    head = repo.head.commit
    index = IndexFile.from_tree(repo, head.tree)
    entries = []
    from git.index.typ import BaseIndexEntry

    for rel in sorted(originals):
        data = (root / rel).read_bytes()
        stream = repo.odb.store(IStream(Blob.type, len(data), BytesIO(data)))
        mode = (head.tree / rel).mode
        entries.append(BaseIndexEntry((mode, stream.binsha, 0, rel)))
    index.add(entries)
    tree = index.write_tree()
    names = [f"- {decl} ({rel})" for rel in sorted(proved) for decl in proved[rel]]
    message = (
        f"leanloop: prove {len(names)} theorem(s) with {model}\n\n"
        + "\n".join(names)
        + "\n\nEach proof was accepted by Lean through leanloop's gate.\n"
    )
    commit = Commit.create_from_tree(repo, tree, message, parent_commits=[head], head=False)
    repo.create_head(name, commit)
    for rel, raw in originals.items():
        (root / rel).write_bytes(raw)
    return str(commit.hexsha)
