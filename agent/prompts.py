"""Every word the model is sent. Users can override each template with a file of the same name
(`system.txt`, `first.txt`, `feedback.txt`, and for `--mode agent` `tools_system.txt`) in the
`prompts_dir` setting; placeholders use `$name` so that Lean's braces need no escaping."""

from __future__ import annotations

from pathlib import Path
from string import Template

from leanloop.errors import ConfigError
from leanloop.gate import ProofError, Verdict
from leanloop.source import LeanDocument
from leanloop.source.targets import Target

SYSTEM = """\
You are an expert Lean 4 prover. You complete proofs so that the Lean compiler accepts them.
Rules: never use `sorry`, `admit`, new axioms, `native_decide` or metaprogramming; never change
the theorem statement; reply with exactly one ```lean code block holding only the requested code."""

FIRST = """\
Here is the context from the Lean file $file:
```lean
$context
```

Prove this $kind by replacing $hole:
```lean
$declaration
```

Reply with one ```lean block containing $reply"""

FEEDBACK = """\
Lean rejected that proof. $summary

$errors
Fix the proof and reply with one ```lean block containing $reply"""

TOOLS_SYSTEM = """\
You are an expert Lean 4 prover working with tools. Explore with `goals`, `try_tactic`, `check`
and `search` (declarations of the project and its libraries), then call `submit_proof` with the
proof that replaces the `sorry`. Only a submission that Lean and leanloop's gate accept counts;
a rejection tells you why. Never use `sorry`, `admit`, new axioms, `native_decide` or
metaprogramming, and never change the theorem statement."""

TOOLS_NOTE = """

`goals` and `check` with no arguments work on this theorem's file as it stands ($file); give
`code` to try other text. When you are done, call `submit_proof` with $reply."""

_REPLY = {
    "tactic": "only the tactics that replace `sorry` (they are inserted at its position)",
    "term": "only the proof that replaces `sorry` (a term, or `by` followed by tactics)",
    "whole": "only the complete proof that follows `:=` (a term, or `by` followed by tactics)",
}


def _reply(target: Target) -> str:
    if target.whole_body:
        return _REPLY["whole"]
    if target.parts > 1:
        return (
            f"exactly {target.parts} ```lean blocks, one for each `sorry` in order, each holding "
            "only the code that replaces that `sorry` (tactics where it stands for tactics, a "
            "term where it stands for a term)"
        )
    return _REPLY[target.mode]


def _submit_reply(target: Target) -> str:
    if target.whole_body:
        return '{"proof": <the whole proof after `:=`>, "whole_body": true}'
    if target.parts > 1:
        return (
            f'{{"proof": [<{target.parts} proofs, one for each `sorry` in order: tactics where '
            "it stands for tactics, a term where it stands for a term>]}"
        )
    if target.mode == "tactic":
        return '{"proof": <the tactics that replace the `sorry`>}'
    return '{"proof": <the term that replaces the `sorry`>}'


class Prompts:
    def __init__(self, directory: Path | None = None) -> None:
        self.system = self._load(directory, "system.txt", SYSTEM)
        # `--mode agent`: the system prompt of the tool-calling conversation.
        self.tools_system = self._load(directory, "tools_system.txt", TOOLS_SYSTEM)
        self.first = Template(self._load(directory, "first.txt", FIRST))
        self.feedback = Template(self._load(directory, "feedback.txt", FEEDBACK))

    @staticmethod
    def _load(directory: Path | None, name: str, default: str) -> str:
        if directory is None:
            return default
        path = directory / name
        if not path.is_file():
            return default
        try:
            return path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"Cannot read the prompt template {path}: {e}.") from e

    def first_request(
        self,
        doc: LeanDocument,
        target: Target,
        file: str,
        budget: int,
        premises: str = "",
    ) -> str:
        """The first message of a conversation. ``premises`` (from `--premises N`) goes where
        a template says `$premises`; the built-in one has no such place (so that its text, and
        bench's fingerprint of it, stay as they were): there it goes before `Prove this`, and
        at the end of a template that has neither."""
        d = target.decl
        decl = doc.text[d.start : d.end]
        if target.whole_body:
            hole = "its whole proof, everything after the statement (it has several `sorry`s)"
        elif target.parts > 1:
            hole = f"each of its {target.parts} `sorry`s (numbered in comments below)"
            # Number the holes where they stand, so that each answer block has its place.
            for k, h in reversed(list(enumerate(target.holes, 1))):
                decl = decl[: h.end - d.start] + f" /- {k} -/" + decl[h.end - d.start :]
        else:
            hole = "the `sorry`"
        text = self.first.safe_substitute(
            premises=premises,
            file=file,
            context=context(doc, target, budget),
            kind=d.kind,
            hole=hole,
            declaration=decl,
            reply=_reply(target),
        )
        if premises and "$premises" not in self.first.template:
            marker = "\n\nProve this "
            at = text.find(marker)
            text = f"{text[:at]}\n\n{premises}{text[at:]}" if at >= 0 else f"{text}\n\n{premises}"
        return text

    def feedback_request(self, verdict: Verdict, target: Target, budget: int) -> str:
        return self.feedback.safe_substitute(
            summary=verdict.message,
            errors=render_errors(verdict.errors, budget),
            reply=_reply(target),
        )

    def extraction_feedback(self, problem: str, target: Target) -> str:
        return self.feedback.safe_substitute(summary=problem, errors="", reply=_reply(target))

    def tools_note(self, target: Target, file: str, *, answers: bool = False) -> str:
        """What the agent mode adds to the first request: how to use the tools on this file,
        and how to submit (with ``answers``, the values of answer holes too)."""
        reply = _submit_reply(target)
        if answers:
            reply = reply[:-1] + ', "answer": <that declaration with its value>}'
        return Template(TOOLS_NOTE).safe_substitute(file=file, reply=reply)


_SCOPE_KEYWORDS = frozenset(
    [
        "open",
        "namespace",
        "section",
        "end",
        "variable",
        "universe",
        "set_option",
        "import",
        "export",
    ]
)


def context(doc: LeanDocument, target: Target, budget: int) -> str:
    """Imports and scoping commands always; then the nearest earlier commands that fit."""
    before = [c for c in doc.commands if c.end <= target.decl.start]
    keep: set[int] = set()
    used = 0
    for i, cmd in enumerate(before):
        first = next((t.text for t in cmd.tokens if t.is_code), "")
        if first in _SCOPE_KEYWORDS:
            keep.add(i)
            used += cmd.end - cmd.start
    for i in range(len(before) - 1, -1, -1):
        if i in keep:
            continue
        size = before[i].end - before[i].start
        if used + size > budget:
            break
        keep.add(i)
        used += size
    parts = [doc.text[before[i].start : before[i].end] for i in sorted(keep)]
    return "\n\n".join(parts) if parts else "-- (no context)"


def render_errors(errors: list[ProofError], budget: int) -> str:
    out: list[str] = []
    used = 0
    for e in errors:
        mine = f"your proof {e.part}" if e.part else "your proof"
        where = (
            f"Line {e.line}, column {e.column} of {mine}"
            if e.in_proof
            else f"Line {e.line}, column {e.column} of the file"
        )
        block = f"{where}:\n{e.text}\n"
        if used + len(block) > budget:
            if not out:
                # Even the first error is too long: keep its start rather than nothing.
                out.append(block[: max(budget - 20, 0)].rstrip() + "\n[…]\n")
            shown = len(out)
            if shown < len(errors):
                out.append(f"({len(errors) - shown} more error(s) not shown)\n")
            break
        out.append(block)
        used += len(block)
    return "\n".join(out)
