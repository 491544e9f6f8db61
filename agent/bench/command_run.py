"""The bodies of `leanloop bench run|report|compare`: set-up, resume rules and output."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import typer

from leanloop.bench.problems import Dataset, Format, Problem, load
from leanloop.bench.store import (
    Journal,
    Loaded,
    Outcome,
    RunMeta,
    load_attempts,
    read_meta,
    write_meta,
)
from leanloop.bench.summary import Summary, check_ks, markdown, rich_table, summarise
from leanloop.errors import UsageError
from leanloop.settings import Settings, load_settings


@dataclass
class RunArgs:
    dataset: Path
    ks: list[int]
    limit: int | None
    out: Path
    fmt: str | None
    split: str | None
    strict: bool
    shard: tuple[int, int] | None
    project: Path | None
    known_issues: Path | None
    force: bool
    retry_infra: bool
    infra_as_failure: bool
    json_out: bool
    flags: dict[str, Any]
    executor: str = "local"
    with_answers: bool = False
    ray_address: str | None = None


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """A stable split by the problem's name: the same on every machine and every run."""
    if shard is None:
        return True
    i, n = shard
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return h % n == i - 1


def _project_dir(args: RunArgs) -> Path:
    from leanloop.lean.project import find_lake_root

    if args.project is not None:
        if not args.project.is_dir():
            raise UsageError(f"--project {args.project} is not a directory.")
        return args.project.resolve()
    start = args.dataset.resolve()
    root = find_lake_root(start)
    if root is not None:
        return root
    return (
        Path.cwd()
        if args.fmt == "jsonl" or (start.is_file() and start.suffix != ".lean")
        else (start if start.is_dir() else start.parent)
    )


def _settings(project: Path, flags: dict[str, Any]) -> Settings:
    dirs = [Path.cwd()]
    if project.resolve() != Path.cwd().resolve():
        dirs.append(project)
    return load_settings(flags, dirs)


def select(dataset: Dataset, args: RunArgs) -> list[Problem]:
    chosen = [p for p in dataset.problems if in_shard(p.name, args.shard)]
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1.")
        chosen = chosen[: args.limit]
    return chosen


def _check_resume(old: RunMeta | None, new: RunMeta, loaded: Loaded, force: bool) -> None:
    """Refuse to mix attempts of another model, other settings or another dataset into a run,
    naming what differs. The endpoint's address is not part of a run's identity: a local
    server restarted on a new port serves the same model."""
    if old is None and not loaded.attempts and not loaded.problems:
        return
    seen = set(loaded.fingerprints)
    if old is not None:
        seen.add((old.settings_fingerprint, old.dataset_fingerprint))
    if not seen or seen == {(new.settings_fingerprint, new.dataset_fingerprint)} or force:
        return
    what = []
    if old is not None and old.model != new.model:
        what.append(f"the model ({old.model} then, {new.model} now)")
    if any(d != new.dataset_fingerprint for _, d in seen):
        what.append("the dataset")
    if any(s != new.settings_fingerprint for s, _ in seen) and not what:
        changed = changed_settings(old.settings, new.settings) if old is not None else []
        if changed:
            what.extend(changed)
        elif old is not None and old.settings_fingerprint == new.settings_fingerprint:
            what.append("the settings of earlier attempts in its journal (mixed with --force)")
        else:
            what.append("the settings (the run was made by another version of leanloop)")
    raise UsageError(
        f"The run in {new_out_hint(old)} does not match this one: {' and '.join(what)} "
        "changed; use another --out, or --force to mix them."
    )


def changed_settings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The settings that decide a sample's outcome and differ, in words: ``rounds (3 then, 2
    now)``. The model is named apart, and how many samples run (or at once) may change."""
    out = []
    for key in sorted(set(old) | set(new)):
        if key in ("model", "samples", "concurrency") or old.get(key) == new.get(key):
            continue
        if key == "prompts":
            out.append("the prompts (system, first or feedback template)")
        else:
            then, now = (json.dumps(d.get(key), sort_keys=True) for d in (old, new))
            out.append(f"the setting {key} ({then} then, {now} now)")
    return out


def new_out_hint(old: RunMeta | None) -> str:
    return "this --out directory" if old is None else f"this --out directory ({old.dataset})"


async def run_bench(args: RunArgs) -> int:
    from leanloop.bench.progress import LiveSink, PlainSink
    from leanloop.bench.runner import Bench, Recorder, lean_version, settings_fingerprint
    from leanloop.prompts import Prompts
    from leanloop.session import choose_model, make_checker, make_policy

    project = _project_dir(args)
    settings = _settings(project, args.flags)
    check_ks(args.ks, settings.samples)
    if args.executor not in ("local", "ray"):
        raise UsageError(f"--executor must be local or ray, not `{args.executor}`.")
    if args.fmt not in (None, "lean", "jsonl", "leandojo"):
        raise UsageError(f"--format must be lean, jsonl or leandojo, not `{args.fmt}`.")
    fmt: Format | None = cast(Format, args.fmt) if args.fmt else None
    dataset = load(
        args.dataset,
        fmt=fmt,
        split=args.split,
        strict=args.strict,
        known_issues=args.known_issues,
        with_answers=args.with_answers,
        repo=project,
        warn=lambda m: _say(f"warning: {m}"),
    )
    problems = select(dataset, args)
    if not problems:
        raise UsageError(f"No problems to run in {args.dataset}.")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a directory.")
    prompts = Prompts(settings.prompts_dir)
    settings_fp, relevant = settings_fingerprint(settings, prompts)
    choice = choose_model(settings)
    if choice.notice:
        _say(choice.notice)
    # The settings fingerprint is of what the user asked for; the model actually used (the
    # built-in one when no key is set) joins it so a fallback never mixes into a model's run.
    settings_fp = _combine(settings_fp, choice.model.name)
    known = {i.name for i in dataset.known_issues}
    meta = RunMeta(
        dataset=str(args.dataset),
        format=dataset.format,
        split=args.split,
        dataset_fingerprint=dataset.fingerprint,
        settings_fingerprint=settings_fp,
        model=choice.model.name,
        settings={**relevant, "samples": settings.samples, "concurrency": settings.concurrency},
        lean_version="unknown",
        samples=settings.samples,
        ks=args.ks,
        problems=[p.name for p in problems],
        needs_answer=dataset.needs_answer,
        known_issues=[i for i in dataset.known_issues if i.name in {p.name for p in problems}],
        shard=None if args.shard is None else f"{args.shard[0]}/{args.shard[1]}",
        created=time.time(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    old = read_meta(args.out)
    loaded = load_attempts(args.out)
    for msg in loaded.dropped:
        _say(f"warning: {msg}")
    _check_resume(old, meta, loaded, args.force)

    for n in dataset.needs_answer:
        _say(
            f"[{n}] needs an answer (a `sorry` value it uses): skipped; --with-answers asks for it."
        )
    done = {
        key
        for key, rec in loaded.attempts.items()
        if not (args.retry_infra and rec.outcome is Outcome.INFRA)
    }
    # A dataset error is final for the statement Lean rejected, not for a corrected one.
    final = {
        n
        for n, r in loaded.problems.items()
        if r.status == "dataset_error" and r.dataset_fingerprint == dataset.fingerprint
    }
    work = []
    for p in problems:
        if p.name in known or p.name in final:
            continue
        todo = [i for i in range(settings.samples) if (p.name, i) not in done]
        if todo:
            work.append((p, todo))
    skipped = sum(settings.samples for p in problems if p.name not in known) - sum(
        len(t) for _, t in work
    )
    if skipped:
        _say(f"Resuming: {skipped} finished attempt(s) in {args.out} are kept, not run again.")

    checker = make_checker(settings, project / "Bench.lean", warn=_say)
    try:
        meta.lean_version = await lean_version(settings, project / "Bench.lean")
        write_meta(args.out, meta)
        journal = Journal(args.out)
        try:
            total = sum(len(t) for _, t in work)
            sink: LiveSink | PlainSink = (
                LiveSink(total) if sys.stderr.isatty() and total else PlainSink()
            )
            recorder = Recorder(journal, sink, work, _earlier(loaded, done, settings.samples))
            with sink:
                if args.executor == "ray":
                    from leanloop.bench.ray_executor import run_on_ray

                    await asyncio.to_thread(
                        run_on_ray,
                        work,
                        recorder,
                        settings=settings,
                        project=project,
                        settings_fp=settings_fp,
                        dataset_fp=dataset.fingerprint,
                        address=args.ray_address,
                    )
                else:
                    bench = Bench(
                        model=choice.model,
                        checker=checker,
                        settings=settings,
                        policy=make_policy(settings),
                        prompts=prompts,
                        settings_fp=settings_fp,
                        dataset_fp=dataset.fingerprint,
                        project=project,
                        say=_say,
                    )
                    await bench.run(work, recorder)
        finally:
            journal.close()
    finally:
        await choice.model.aclose()
        await checker.aclose()
    write_report(
        args.out, infra_as_failure=args.infra_as_failure, json_out=args.json_out, plots=False
    )
    return 0


def _earlier(
    loaded: Loaded, done: set[tuple[str, int]], samples: int
) -> dict[str, tuple[int, int]]:
    """Per problem, the samples kept from earlier runs: (proved, finished)."""
    out: dict[str, tuple[int, int]] = {}
    for name, sample in done:
        if sample < samples:
            proved, finished = out.get(name, (0, 0))
            rec = loaded.attempts[(name, sample)]
            out[name] = (proved + (rec.outcome is Outcome.PROVED), finished + 1)
    return out


def _combine(fp: str, model: str) -> str:
    return "sha256:" + hashlib.sha256(f"{fp}|{model}".encode()).hexdigest()[:16]


def load_summary(directory: Path, *, infra_as_failure: bool) -> Summary:
    meta = read_meta(directory)
    if meta is None:
        raise UsageError(f"{directory} is not a bench run directory (it has no run.json).")
    return summarise(meta, load_attempts(directory), infra_as_failure=infra_as_failure)


def write_report(
    directory: Path, *, infra_as_failure: bool, json_out: bool, plots: bool
) -> Summary:
    from leanloop.files import atomic_write

    summary = load_summary(directory, infra_as_failure=infra_as_failure)
    data = summary.model_dump_json(indent=2)
    try:
        atomic_write(directory / "summary.json", (data + "\n").encode("utf-8"))
        atomic_write(directory / "summary.md", markdown(summary).encode("utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot write the report in {directory}: {e.strerror}.") from None
    written = [directory / "summary.json", directory / "summary.md"]
    notes: list[str] = []
    if plots:
        from leanloop.bench.summary import plots as draw

        drawn, notes = draw(summary, directory)
        written += drawn
    if json_out:
        typer.echo(data)
    else:
        _print_rich(rich_table(summary))
        _say("Wrote " + ", ".join(str(p) for p in written) + ".")
    for note in notes:
        _say(f"note: {note}")
    return summary


def _print_rich(renderable: Any) -> None:
    from rich.console import Console

    Console(file=sys.stdout, width=120 if not sys.stdout.isatty() else None).print(renderable)


def compare_runs(directories: list[Path], *, infra_as_failure: bool, json_out: bool) -> None:
    if not directories:
        raise UsageError("Give at least one run directory to compare.")
    summaries = [load_summary(d, infra_as_failure=infra_as_failure) for d in directories]
    prints = {s.dataset_fingerprint for s in summaries}
    if len(prints) > 1:
        _say(
            "warning: these runs used different datasets (fingerprints "
            + ", ".join(
                f"{d}: {s.dataset_fingerprint}" for d, s in zip(directories, summaries, strict=True)
            )
            + "); their scores are not comparable."
        )
    if json_out:
        typer.echo(
            json.dumps(
                [
                    {"run": str(d), **s.model_dump(mode="json")}
                    for d, s in zip(directories, summaries, strict=True)
                ],
                indent=2,
            )
        )
        return
    from rich.table import Table

    ks = sorted({f.k for s in summaries for f in s.pass_at_k})
    table = Table(title="Benchmark runs")
    for col in ["run", "model", "n", *[f"pass@{k}" for k in ks], "any of n", "cost", "$/solved"]:
        table.add_column(col, justify="left" if col in ("run", "model") else "right")
    for d, s in zip(directories, summaries, strict=True):
        figs = {f.k: f.value for f in s.pass_at_k}
        table.add_row(
            str(d),
            s.model,
            str(s.samples),
            *[("–" if figs.get(k) is None else f"{100 * (figs[k] or 0):.1f}%") for k in ks],
            f"{s.solved_any.solved}/{s.solved_any.problems}",
            "?" if s.cost_usd is None else f"${s.cost_usd:.4f}",
            "?" if s.cost_per_solved_usd is None else f"${s.cost_per_solved_usd:.4f}",
        )
    _print_rich(table)
