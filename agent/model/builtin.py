"""`builtin:automation`: no endpoint, a fixed portfolio of automation tactics.

It goes through the same loop and gate as a real model; each round offers the next tactic."""

from __future__ import annotations

from leanloop.model.base import ChatMessage, Completion, ProofRequest

CORE_TACTICS = ("rfl", "decide", "simp", "omega", "simp_all", "trivial", "exact?")
MATHLIB_TACTICS = ("norm_num", "linarith", "positivity", "aesop")


def portfolio(imports: list[str]) -> list[str]:
    tactics = list(CORE_TACTICS)
    if any(i == "Mathlib" or i.startswith("Mathlib.") for i in imports):
        tactics[2:2] = MATHLIB_TACTICS  # cheap, decisive ones before the broad `simp_all`
    return tactics


class BuiltinAutomation:
    name = "builtin:automation"

    async def complete(self, messages: list[ChatMessage], request: ProofRequest) -> Completion:
        tactics = portfolio(request.imports)
        tactic = tactics[(request.round - 1) % len(tactics)]
        proof = tactic if request.mode == "tactic" else f"by {tactic}"
        return Completion(text=f"```lean\n{proof}\n```")

    async def aclose(self) -> None:
        return None
