"""`--executor ray`: one Ray task per problem, for runs that outgrow one machine.

Each task builds its own model and checker from the settings (the API key comes from the
worker's environment), runs the problem's samples with the same code as the local executor, and
returns its records; the driver journals them as each problem finishes, so resuming works per
problem. Ray is imported only here."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from leanloop.bench.problems import Problem
from leanloop.bench.runner import Recorder, Work
from leanloop.bench.store import AttemptRecord, ProblemRecord
from leanloop.errors import LeanloopError, UsageError

RAY_MISSING = "--executor ray needs Ray, which is not installed: pip install 'leanloop[ray]'."


def _problem_task(
    settings_data: dict[str, Any],
    project: str,
    problem_data: dict[str, Any],
    samples: list[int],
    settings_fp: str,
    dataset_fp: str,
) -> dict[str, Any]:
    """Runs inside a Ray worker: a plain function of plain data."""
    from leanloop.settings import Settings

    settings = Settings.model_validate(settings_data)
    problem = Problem.model_validate(problem_data)
    try:
        records = asyncio.run(
            _run_problem(settings, Path(project), problem, samples, settings_fp, dataset_fp)
        )
    except LeanloopError as e:
        return {"fatal": e.message, "exit_code": e.exit_code}
    return {"records": [r.model_dump(mode="json") for r in records]}


class _Collect:
    def __init__(self) -> None:
        self.records: list[AttemptRecord | ProblemRecord] = []

    def append(self, record: AttemptRecord | ProblemRecord) -> None:
        self.records.append(record)


class _Quiet:
    def attempt(self, tally: Any, record: AttemptRecord) -> None:
        return None

    def problem_done(self, tally: Any, name: str, proved: int, samples: int) -> None:
        return None

    def problem_skipped(self, tally: Any, name: str, line: str) -> None:
        return None


async def _run_problem(
    settings: Any,
    project: Path,
    problem: Problem,
    samples: list[int],
    settings_fp: str,
    dataset_fp: str,
) -> list[AttemptRecord | ProblemRecord]:
    from leanloop.bench.runner import CHECK_FILE, Bench
    from leanloop.prompts import Prompts
    from leanloop.session import choose_model, make_checker, make_policy

    choice = choose_model(settings)
    checker = make_checker(settings, project / CHECK_FILE, warn=lambda m: None)
    work: Work = [(problem, samples)]
    out = _Collect()
    try:
        bench = Bench(
            model=choice.model,
            checker=checker,
            settings=settings,
            policy=make_policy(settings),
            prompts=Prompts(settings.prompts_dir),
            settings_fp=settings_fp,
            dataset_fp=dataset_fp,
            project=project,
        )
        await bench.run(work, Recorder(out, _Quiet(), work))
    finally:
        await choice.model.aclose()
        await checker.aclose()
    return out.records


def run_on_ray(
    work: Work,
    recorder: Recorder,
    *,
    settings: Any,
    project: Path,
    settings_fp: str,
    dataset_fp: str,
    address: str | None,
) -> None:
    try:
        import ray
    except ImportError:
        raise UsageError(RAY_MISSING) from None
    started = False
    if not ray.is_initialized():
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UsageError(f"Cannot start or reach Ray ({address or 'local'}): {e}") from None
        started = True
    try:
        task = ray.remote(_problem_task)
        data = settings.model_dump(mode="json")
        pending = {
            task.remote(data, str(project), p.model_dump(), s, settings_fp, dataset_fp): p
            for p, s in work
        }
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                pending.pop(ref)
                result = ray.get(ref)
                if "fatal" in result:
                    err = LeanloopError(result["fatal"])
                    err.exit_code = int(result["exit_code"])
                    raise err
                for raw in result["records"]:
                    if raw.get("kind") == "problem":
                        recorder.skipped(ProblemRecord.model_validate(raw))
                    else:
                        recorder.attempt(AttemptRecord.model_validate(raw))
    finally:
        if started:
            ray.shutdown()
