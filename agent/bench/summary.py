"""What a run achieved, from its journal: pass@k with intervals, solved by any of n, cost and
time, rejections and infra failures; as JSON, Markdown, a rich table and plots."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from leanloop.bench.estimate import bootstrap_interval, pass_at_k
from leanloop.bench.problems import KnownIssue
from leanloop.bench.store import AttemptRecord, Loaded, Outcome, RunMeta
from leanloop.errors import UsageError


class PassAtK(BaseModel):
    k: int
    value: float | None  # mean over the problems that have at least k scored samples
    ci_low: float | None
    ci_high: float | None
    problems: int  # how many problems the figure averages over
    too_few_samples: int  # problems left out: fewer than k samples that were not infra


class SolvedAny(BaseModel):
    """Problems with at least one proved sample. Not pass@k (unless k = n, said so)."""

    label: str
    solved: int
    problems: int
    samples: int


class BudgetPoint(BaseModel):
    k: int
    pass_at_k: float | None
    cost_usd: float | None  # expected dollars for k samples of every scored problem


class Summary(BaseModel):
    dataset: str
    dataset_fingerprint: str
    settings_fingerprint: str
    model: str
    lean_version: str
    settings: dict[str, Any]
    samples: int
    ks: list[int]
    infra_counts_as_failure: bool
    problems_in_scope: int
    problems_scored: int
    problems_incomplete: int  # fewer finished samples than asked for
    known_issues: list[KnownIssue]
    dataset_errors: dict[str, str]
    needs_answer: list[str]
    problems_infra: dict[str, str]  # Lean failed on the statement itself (retried on resume)
    pass_at_k: list[PassAtK]
    solved_any: SolvedAny
    outcomes: dict[str, int]
    infra_by_kind: dict[str, int]
    rejections_by_reason: dict[str, int]
    model_calls: int
    first_tries: int
    repairs: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None when the model's price is not in the `prices` setting
    cost_per_solved_usd: float | None
    wall_seconds: float
    model_seconds: float
    lean_checks: int
    lean_seconds: float
    budget: list[BudgetPoint]
    mixed_fingerprints: bool  # lines from other settings or datasets (--force) are present
    dropped_lines: list[str]


def summarise(meta: RunMeta, loaded: Loaded, *, infra_as_failure: bool = False) -> Summary:
    scope = set(meta.problems)
    excluded = {i.name for i in meta.known_issues} | set(meta.needs_answer)
    dataset_errors = {
        n: r.message
        for n, r in loaded.problems.items()
        if r.status == "dataset_error" and r.dataset_fingerprint == meta.dataset_fingerprint
    }
    by_problem: dict[str, list[AttemptRecord]] = defaultdict(list)
    for (name, sample), rec in loaded.attempts.items():
        if name in scope and sample < meta.samples:
            by_problem[name].append(rec)
    problems_infra = {
        n: r.message
        for n, r in loaded.problems.items()
        if r.status == "infra" and n not in by_problem
    }
    scored = sorted(n for n in by_problem if n not in excluded and n not in dataset_errors)
    # One pass over the attempts (a journal can hold 100,000 of them).
    proved_v, infra_v = Outcome.PROVED, Outcome.INFRA
    outcomes: Counter[str] = Counter()
    infra_kinds: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    nc: dict[str, tuple[int, int]] = {}
    per_problem_cost: dict[str, float | None] = {}
    calls = first = prompt = completion = checks = 0
    model_s = lean_s = 0.0
    start, end = float("inf"), 0.0
    for name in scored:
        n = c = 0
        spent: float | None = 0.0
        for r in by_problem[name]:
            o = r.outcome
            outcomes[o] += 1
            if o is infra_v:
                infra_kinds[r.infra_kind or "unknown"] += 1
                if infra_as_failure:
                    n += 1
            else:
                n += 1
                c += o is proved_v
            if r.reasons:
                reasons.update(r.reasons)
            calls += r.calls
            first += r.calls > 0
            prompt += r.prompt_tokens
            completion += r.completion_tokens
            checks += r.lean_checks
            model_s += r.model_seconds
            lean_s += r.lean_seconds
            if r.started:
                start = min(start, r.started)
            end = max(end, r.finished)
            if spent is not None:
                spent = None if r.cost_usd is None else spent + r.cost_usd
        nc[name] = (n, c)
        per_problem_cost[name] = spent
    total_cost: float | None = 0.0
    for spent in per_problem_cost.values():
        total_cost = None if spent is None or total_cost is None else total_cost + spent

    figures: list[PassAtK] = []
    budget: list[BudgetPoint] = []
    for k in meta.ks:
        values = [pass_at_k(n, c, k) for n, c in nc.values() if n >= k]
        low, high = bootstrap_interval(values) if values else (None, None)
        value = sum(values) / len(values) if values else None
        figures.append(
            PassAtK(
                k=k,
                value=value,
                ci_low=low,
                ci_high=high,
                problems=len(values),
                too_few_samples=sum(1 for n, _ in nc.values() if n < k),
            )
        )
        dollars: float | None = 0.0
        for name in scored:
            total = per_problem_cost[name]
            runs = len(by_problem[name])
            if total is None or dollars is None:
                dollars = None
            elif runs:
                dollars += total * k / runs
        budget.append(BudgetPoint(k=k, pass_at_k=value, cost_usd=_round(dollars)))

    solved = sum(1 for n in scored if nc[n][1] > 0)
    label = f"solved by any of {meta.samples} samples"
    if meta.ks and max(meta.ks) == meta.samples:
        label += f" (the same as pass@{meta.samples} here, since k = n = {meta.samples})"
    proved_problems = solved
    return Summary(
        dataset=meta.dataset,
        dataset_fingerprint=meta.dataset_fingerprint,
        settings_fingerprint=meta.settings_fingerprint,
        model=meta.model,
        lean_version=meta.lean_version,
        settings=meta.settings,
        samples=meta.samples,
        ks=meta.ks,
        infra_counts_as_failure=infra_as_failure,
        problems_in_scope=len(scope),
        problems_scored=len(scored),
        problems_incomplete=sum(
            1 for n in scope - excluded - set(dataset_errors) if len(by_problem[n]) < meta.samples
        ),
        known_issues=meta.known_issues,
        dataset_errors=dataset_errors,
        needs_answer=meta.needs_answer,
        problems_infra=problems_infra,
        pass_at_k=figures,
        solved_any=SolvedAny(
            label=label, solved=solved, problems=len(scored), samples=meta.samples
        ),
        outcomes={o.value: outcomes.get(o, 0) for o in Outcome},
        infra_by_kind=dict(infra_kinds),
        rejections_by_reason=dict(reasons),
        model_calls=calls,
        first_tries=first,
        repairs=calls - first,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=_round(total_cost),
        cost_per_solved_usd=(
            _round(total_cost / proved_problems)
            if total_cost is not None and proved_problems
            else None
        ),
        wall_seconds=round(end - start, 3) if end >= start else 0.0,
        model_seconds=round(model_s, 3),
        lean_checks=checks,
        lean_seconds=round(lean_s, 3),
        budget=budget,
        mixed_fingerprints=len(loaded.fingerprints) > 1,
        dropped_lines=loaded.dropped,
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _usd(x: float | None) -> str:
    return "unknown (no price set)" if x is None else f"${x:.4f}"


def _per_solved(s: Summary) -> str:
    if s.cost_usd is not None and s.cost_per_solved_usd is None:
        return "– (no problem solved)"
    return _usd(s.cost_per_solved_usd)


def _cost_sentence(s: Summary) -> str:
    if s.cost_usd is None:
        return f"cost unknown (no price set for {s.model})"
    if s.cost_per_solved_usd is None:
        return f"cost ${s.cost_usd:.4f} (no problem solved)"
    return f"cost ${s.cost_usd:.4f} (${s.cost_per_solved_usd:.4f} per solved problem)"


def check_ks(ks: list[int], samples: int) -> None:
    bad = [k for k in ks if k > samples]
    if bad:
        raise UsageError(
            f"pass@{bad[0]} needs at least {bad[0]} samples per problem, but --samples is "
            f"{samples}; lower --k or raise --samples."
        )
    if any(k < 1 for k in ks):
        raise UsageError("Every k in --k must be at least 1.")


# ---------------------------------------------------------------------------------------------
# renderings


def markdown(s: Summary) -> str:
    infra = "counted as failures" if s.infra_counts_as_failure else "excluded from pass@k"
    lines = [
        f"# Benchmark: {s.dataset}",
        "",
        f"Model `{s.model}`, {s.samples} samples per problem, "
        f"{s.settings.get('rounds', '?')} rounds per sample; Lean: {s.lean_version}. "
        f"Dataset fingerprint `{s.dataset_fingerprint}`, settings `{s.settings_fingerprint}`.",
        "",
        "| k | pass@k | 95% CI | problems | dollars at k |",
        "|---|---|---|---|---|",
    ]
    budget = {b.k: b.cost_usd for b in s.budget}
    for f in s.pass_at_k:
        ci = "–" if f.ci_low is None else f"{_pct(f.ci_low)} – {_pct(f.ci_high)}"
        lines.append(f"| {f.k} | {_pct(f.value)} | {ci} | {f.problems} | {_usd(budget.get(f.k))} |")
    a = s.solved_any
    lines += [
        "",
        f"{a.label[0].upper() + a.label[1:]}: {a.solved}/{a.problems} problems.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| problems scored | {s.problems_scored} of {s.problems_in_scope} in scope |",
        f"| attempts proved / wrong / no proof / infra | {s.outcomes['proved']} / "
        f"{s.outcomes['wrong']} / {s.outcomes['no_proof']} / {s.outcomes['infra']} |",
        f"| infra attempts | {infra} |",
        f"| model calls (first tries + repairs) | {s.model_calls} ({s.first_tries} + "
        f"{s.repairs}) |",
        f"| tokens (prompt + completion) | {s.prompt_tokens} + {s.completion_tokens} |",
        f"| cost | {_usd(s.cost_usd)} |",
        f"| cost per solved problem | {_per_solved(s)} |",
        f"| wall time | {s.wall_seconds:.1f} s |",
        f"| Lean checks (Lean seconds) | {s.lean_checks} ({s.lean_seconds:.1f} s) |",
    ]
    if s.rejections_by_reason:
        lines.append(
            "| rejections by reason | "
            + ", ".join(f"{k}: {v}" for k, v in sorted(s.rejections_by_reason.items()))
            + " |"
        )
    if s.infra_by_kind:
        lines.append(
            "| infra by kind | "
            + ", ".join(f"{k}: {v}" for k, v in sorted(s.infra_by_kind.items()))
            + " |"
        )
    notes = _notes(s)
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def _notes(s: Summary) -> list[str]:
    out = []
    for i in s.known_issues:
        out.append(f"Excluded (known issue): {i.name}: {i.reason}")
    for n, m in sorted(s.dataset_errors.items()):
        out.append(f"Dataset error, not counted: {n}: {m}")
    for n in s.needs_answer:
        out.append(f"Needs an answer, skipped: {n}")
    for n, m in sorted(s.problems_infra.items()):
        out.append(f"Not attempted (Lean failed on the statement; retried on resume): {n}: {m}")
    for f in s.pass_at_k:
        if f.too_few_samples:
            out.append(
                f"pass@{f.k} leaves out {f.too_few_samples} problem(s) with fewer than {f.k} "
                "samples that were not infra."
            )
    if s.problems_incomplete:
        out.append(
            f"{s.problems_incomplete} problem(s) have fewer than {s.samples} finished samples; "
            "run again with the same --out to finish them."
        )
    if s.mixed_fingerprints:
        out.append("The journal mixes attempts from different settings or datasets (--force).")
    out.extend(s.dropped_lines)
    return out


def rich_table(s: Summary) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{s.model} on {s.dataset} ({s.samples} samples per problem)")
    for col in ("k", "pass@k", "95% CI", "problems", "dollars at k"):
        table.add_column(col, justify="right")
    budget = {b.k: b.cost_usd for b in s.budget}
    for f in s.pass_at_k:
        ci = "–" if f.ci_low is None else f"{_pct(f.ci_low)} – {_pct(f.ci_high)}"
        table.add_row(str(f.k), _pct(f.value), ci, str(f.problems), _usd(budget.get(f.k)))
    a = s.solved_any
    o = s.outcomes
    lines = [
        f"{a.label[0].upper() + a.label[1:]}: {a.solved}/{a.problems} problems.",
        f"Attempts: {o['proved']} proved, {o['wrong']} wrong, {o['no_proof']} no proof, "
        f"{o['infra']} infra ("
        + ("counted as failures" if s.infra_counts_as_failure else "not counted against the model")
        + ").",
        f"Model calls: {s.model_calls} ({s.first_tries} first tries, {s.repairs} repairs); "
        f"tokens {s.prompt_tokens + s.completion_tokens}; {_cost_sentence(s)}.",
        f"Wall time {s.wall_seconds:.1f} s; {s.lean_checks} Lean checks, {s.lean_seconds:.1f} "
        "Lean seconds.",
        *_notes(s),
    ]
    return Group(table, Text("\n".join(lines)))


PASS_AT_K_PNG = "pass_at_k.png"
COST_PNG = "solved_vs_dollars.png"
INTERVAL = "95% bootstrap interval"
NO_MATPLOTLIB = (
    "No plots: they need matplotlib (pip install 'leanloop[plots]'); summary.json and "
    "summary.md are written."
)


def plots(s: Summary, out: Path) -> tuple[list[Path], list[str]]:
    """Write the plots that have data; the paths written, and a note for each plot that was
    not. matplotlib is imported only here, and a missing one is a note, not a failure."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], [NO_MATPLOTLIB]
    written: list[Path] = []
    notes: list[str] = []
    for name, fig in figures(s):
        if isinstance(fig, str):
            notes.append(f"{name} not drawn: {fig}")
            continue
        path = out / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written, notes


def figures(s: Summary) -> list[tuple[str, Any]]:
    """Each plot's file name and its matplotlib figure, or why it has no data."""
    import matplotlib.pyplot as plt

    out: list[tuple[str, Any]] = []
    pts = [f for f in s.pass_at_k if f.value is not None]
    if not pts:
        out.append((PASS_AT_K_PNG, "no problem has enough scored samples for any k."))
    else:
        fig, ax = plt.subplots(figsize=(6, 4))
        ks = [f.k for f in pts]
        vals = [100 * (f.value or 0.0) for f in pts]
        lows = [100 * ((f.value or 0.0) - (f.ci_low or 0.0)) for f in pts]
        highs = [100 * ((f.ci_high or 0.0) - (f.value or 0.0)) for f in pts]
        ax.errorbar(
            ks, vals, yerr=[lows, highs], marker="o", capsize=3, label=f"pass@k, {INTERVAL}"
        )
        # k doubles from point to point, so a log axis spaces them evenly; the ticks are the
        # ks themselves, as plain numbers.
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, labels=[str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("k")
        ax.set_ylabel("pass@k (%)")
        ax.set_title(f"{s.model}: pass@k (n = {s.samples} samples per problem)")
        ax.legend(loc="lower right")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        out.append((PASS_AT_K_PNG, fig))

    budget = [b for b in s.budget if b.cost_usd is not None and b.pass_at_k is not None]
    if not budget:
        why = (
            f"the cost is unknown: no price is set for {s.model} (see `prices`)."
            if s.cost_usd is None
            else "no problem has enough scored samples for any k."
        )
        out.append((COST_PNG, why))
    else:
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = [b.cost_usd or 0.0 for b in budget]
        ys = [100 * (b.pass_at_k or 0.0) for b in budget]
        ax.plot(xs, ys, "o-")
        for b, x, y in zip(budget, xs, ys, strict=True):
            ax.annotate(f"pass@{b.k}", (x, y), textcoords="offset points", xytext=(4, 4))
        ax.set_xlabel("dollars (k samples of every problem)")
        ax.set_ylabel("pass@k (%)")
        ax.set_title(f"{s.model}: solved against dollars")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        out.append((COST_PNG, fig))
    return out
