"""Issue 22: every command keyword and every `… in` prefix, placed after a proof's last
pattern-matching arm or after a clause that belongs after the body (`termination_by`,
`decreasing_by`, a `where` helper): on the same line, on the next line at every column, and
after a comment. Real Lean would end the declaration there and read the rest as a command. None
may be accepted: the screen refuses the keywords it knows; for the rest (`open … in`,
`set_option … in`, a command keyword the file itself declares) the text Lean checks holds the
escape inside parentheses, which Lean cannot close (the fake Lean answers so, as Lean does), or
the structure check sees the line Lean would end the block at."""

from __future__ import annotations

from pathlib import Path

import pytest
from cases import ARMS_FILE, REC_FILE, USER_CMD_FILE
from doubles.fake_lean import FakeLean
from gate_harness import judge_case

from leanloop.gate import Reason
from leanloop.source.document import COMMAND_KEYWORDS, IN_PREFIXES

# Text that would start a command, for each word.
_ESCAPES = {w: f"{w} evil" for w in sorted(COMMAND_KEYWORDS - {"@["})}
_ESCAPES |= {w: f"{w} Foo in" for w in sorted(IN_PREFIXES)}
_ESCAPES |= {
    "open": "open Foo in",
    "open-scoped": "open scoped Foo in",
    "set_option": "set_option maxHeartbeats 1 in",
    "register_": "register_simp_attr evil",
    "builtin_": "builtin_initialize evil : Unit ← pure ()",
    "declare_": "declare_syntax_cat evil",
    "evilcmd": "evilcmd",  # the file's own command (USER_CMD_FILE)
}

# (name, file, body before the escape: its last line is where the escape follows)
_CONTEXTS = [
    ("arms", ARMS_FILE, "    | 0 => rfl\n    | k + 1 => rfl"),
    ("arms-tactic-rhs", ARMS_FILE, "    | 0 => rfl\n    | k + 1 => by simp"),
    ("termination_by", REC_FILE, "by simp\n    termination_by n"),
    ("decreasing_by", REC_FILE, "by simp\n    decreasing_by\n      simp_wf"),
    ("where", REC_FILE, "aux\n    where\n      aux : n + 0 = n + 1 := h"),
]


def _placements(body: str, escape: str) -> dict[str, str]:
    out = {"same-line": f"{body} {escape}", "block-comment": f"{body} /- c -/ {escape}"}
    for col in range(9):
        out[f"next-line-col-{col}"] = f"{body}\n{' ' * col}{escape}"
    out["after-line-comment"] = f"{body} -- done\n{' ' * 6}{escape}"
    return out


@pytest.mark.parametrize("context", _CONTEXTS, ids=[c[0] for c in _CONTEXTS])
async def test_no_escape_is_accepted(
    context: tuple[str, str, str], fake_lean: FakeLean, tmp_path: Path
) -> None:
    name, file, body = context
    file = USER_CMD_FILE.removesuffix(ARMS_FILE) + file  # declares the command `evilcmd`
    reached_lean = 0
    for word, escape in _ESCAPES.items():
        for where, proof in _placements(body, escape).items():
            before = len(fake_lean.checked_sources())
            judged = await judge_case(fake_lean, tmp_path, file, "t", proof, whole_body=True)
            verdict = judged.verdict
            assert not verdict.accepted, f"{name} / {word} / {where} accepted:\n{proof}"
            assert verdict.reason in (
                Reason.FORBIDDEN,
                Reason.STRUCTURE,
                Reason.LEAN_ERROR,
            ), (word, where, verdict.message)
            if verdict.reason is Reason.LEAN_ERROR:
                reached_lean += 1
                checked = fake_lean.checked_sources()[before]
                # Lean saw the escape inside the parentheses the gate opened for the proof.
                assert "(" in checked[: checked.index(escape.split()[0], checked.index(" t "))]
    # The grid is not decided by the screen alone: Lean's own parse is exercised.
    assert reached_lean >= 10
