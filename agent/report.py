"""Results, as pydantic models so they can be written as JSON for machines."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from leanloop.settings import Price


class Status(StrEnum):
    PROVED = "proved"
    FAILED = "failed"
    BLOCKED = "blocked"  # could not be attempted (errors earlier in the file)


class TargetReport(BaseModel):
    name: str
    file: str
    line: int
    status: Status
    proof: str | None = None
    attempts: int = 0
    rounds: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    seconds: float = 0.0
    axioms: list[str] | None = None
    native_decide: bool = False
    last_errors: list[str] = []
    note: str | None = None


class RunReport(BaseModel):
    file: str
    model: str
    written: str | None = None  # where the proved file was written, if anywhere
    dry_run: bool = False
    targets: list[TargetReport]

    @property
    def proved(self) -> int:
        return sum(t.status is Status.PROVED for t in self.targets)


def cost(prices: dict[str, Price], model: str, prompt: int, completion: int) -> float | None:
    if model.startswith("builtin:"):
        return 0.0
    price = prices.get(model)
    if price is None:
        return None
    return round((prompt * price.prompt + completion * price.completion) / 1_000_000, 6)
