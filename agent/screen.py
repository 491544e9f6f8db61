"""Layer 1 of the gate: a static screen of the candidate's text, then of its tokens.

First the raw text, with no lexing at all: a handful of names mean the kernel or the compiler is
being bypassed, and they are refused wherever they appear, comments and strings included. A
rare false rejection is cheaper than one false accept through a comment the screen read
differently from Lean.

Then the tokens: words inside comments and strings don't count (code inside `s!"{…}"` does);
`open … in` and `set_option … in` stay legal. Names are compared as Lean reads them:
`«debug».x` is `debug.x` and `_root_.Lean.ofReduceBool` is `Lean.ofReduceBool`. Any place where
Lean's reading depends on its open-ended token table is refused (see `scanner.ambiguities`)."""

from __future__ import annotations

import re

from leanloop.policy import FORBIDDEN_OPTION_PREFIXES, NATIVE_TOKENS, SCOPED_BY_IN, Policy
from leanloop.source.clauses import ShapeError, shape
from leanloop.source.document import is_command_keyword
from leanloop.source.scanner import Token, TokenKind, UnterminatedError, ambiguities, tokenize

# Constants that are forbidden under any namespace prefix (`Foo.sorry` is still `sorry` if
# `Foo` is opened away; better to refuse than to reason about name resolution).
_FORBIDDEN_TAILS = frozenset(
    {"sorry", "sorryAx", "admit", "native_decide", "ofReduceBool", "trustCompiler"}
)

# Refused anywhere in the proof text. Each either switches the kernel off, swaps in code the
# kernel never checks, or stops Lean before the check ends.
RAW_FORBIDDEN: dict[str, str] = {
    "debug.": "it names a `debug.*` option, which can switch off the kernel's check",
    "skipKernelTC": "it names the option that switches off the kernel's type check",
    "implemented_by": "it swaps in code the kernel never checks",
    "extern": "it swaps in code the kernel never checks",
    "native": "it trusts compiled code instead of the kernel",
    "native_decide": "it trusts compiled code instead of the kernel",
    "ofReduceBool": "it trusts compiled code instead of the kernel",
    "trustCompiler": "it trusts compiled code instead of the kernel",
    "sorryAx": "it is the `sorry` axiom",
    "unsafe": "unsafe code is not checked by the kernel",
    "#exit": "it stops Lean before the check ends",
}
_NATIVE_RAW = frozenset({"native", "native_decide", "ofReduceBool", "trustCompiler"})
# Identifier characters: a raw word must not be part of a longer name (`alternative` is fine).
_ID = r"A-Za-z0-9_'!?"


def _raw_pattern(word: str) -> re.Pattern[str]:
    left = "" if word.startswith("#") else f"(?<![{_ID}])"
    right = "" if word.endswith(".") else f"(?![{_ID}])"
    return re.compile(left + re.escape(word) + right)


def _raw_words(policy: Policy) -> dict[str, str]:
    words = dict(RAW_FORBIDDEN)
    if policy.allow_native_decide:
        for w in _NATIVE_RAW:
            words.pop(w, None)
    # A word the project explicitly allowed (`allow = ["unsafe"]`) is its own decision.
    for w in list(words):
        if w in policy.allowed and w in _ALLOWABLE:
            words.pop(w)
    return words


_ALLOWABLE = frozenset({"unsafe", "extern", "implemented_by"})


def _aesop_phase(text: str, at: int) -> bool:
    """Whether `unsafe` at ``at`` is an Aesop rule phase: `(add unsafe 50% apply foo)` or a later
    entry of the same `(add …, unsafe …)` clause. Not a declaration modifier, not the `unsafe`
    term."""
    before = text[:at].rstrip()
    if re.search(rf"(?<![{_ID}])add$", before):
        return True
    if not before.endswith(","):
        return False
    depth = 0
    for k in range(len(before) - 1, -1, -1):
        c = before[k]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                return re.match(r"\(\s*add(?![" + _ID + "])", before[k:]) is not None
            depth -= 1
    return False


def raw_finding(proof: str, policy: Policy) -> str | None:
    """The first forbidden word anywhere in the text, with no lexing."""
    text = proof.replace("«", "").replace("»", "")
    for word, why in _raw_words(policy).items():
        for m in _raw_pattern(word).finditer(text):
            if word == "unsafe" and _aesop_phase(text, m.start()):
                continue
            return (
                f"The proof text contains `{word}`, which is refused anywhere, comments and "
                f"strings included: {why}."
            )
    return None


def lean_name(text: str) -> str:
    """The name Lean sees: guillemets removed, `_root_.` dropped."""
    name = text.replace("«", "").replace("»", "")
    return name.removeprefix("_root_.")


def _finding(tok: Token, policy: Policy, prev: Token | None) -> str | None:
    text = tok.text
    if tok.kind is TokenKind.SYMBOL:
        # `#eval`, `#exit`, …; a bare `#` is the start of an array literal `#[…]`.
        is_command = len(text) > 1 and text[0] == "#"
        key = "#" if is_command else text
        if key in policy.forbidden and text != "#":
            return f"The proof uses `{text}`, which is not allowed: {policy.forbidden[key]}."
        return None
    name = lean_name(text)
    if name == "scoped" and prev is not None and prev.text == "open":
        return None  # `open scoped X in` only opens
    if name == "unsafe":
        return None  # the raw screen decides, knowing Aesop's rule phases
    tail = name.rsplit(".", 1)[-1]
    keys = [name, tail] if tail in _FORBIDDEN_TAILS else [name]
    for key in keys:
        if key in policy.forbidden:
            return f"The proof uses `{text}`, which is not allowed: {policy.forbidden[key]}."
    if name.startswith(FORBIDDEN_OPTION_PREFIXES):
        return f"The proof mentions `{text}`, an option that can switch off checking."
    if is_command_keyword(name) and name not in SCOPED_BY_IN and name not in policy.allowed:
        return (
            f"The proof uses `{text}`, a command keyword: a proof must stay inside its declaration."
        )
    return None


def _scoped_by_in(tokens: list[Token], i: int) -> bool:
    """Whether `open …`/`set_option …` at ``i`` ends with `in` (on any line), which keeps it
    inside the proof."""
    if tokens[i].text == "set_option":
        # `set_option NAME VALUE in`
        return i + 3 < len(tokens) and tokens[i + 3].text == "in"
    depth = 0
    for t in tokens[i + 1 :]:
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
        elif t.text == "in" and depth == 0:
            return True
        elif depth == 0 and not (
            t.kind is TokenKind.IDENT or t.text in ("→", "->", "scoped", "hiding", "renaming")
        ):
            return False
    return False


def _helper_starts(proof: str) -> frozenset[int]:
    """Where the proof's `where` helpers start; empty when its clauses cannot be read (the
    structure check then says why)."""
    try:
        found = shape(proof)
    except (ShapeError, UnterminatedError):
        return frozenset()
    return frozenset(h.start for h in found.helpers)


def screen(proof: str, policy: Policy) -> str | None:
    """A sentence naming the first forbidden construct, or ``None`` when the text is clean."""
    if (finding := raw_finding(proof, policy)) is not None:
        return finding
    try:
        all_tokens = tokenize(proof)
    except UnterminatedError as e:
        return f"The proof has an {e} and cannot be screened."
    for offset, why in ambiguities(proof, all_tokens):
        line = proof.count("\n", 0, offset) + 1
        return f"Line {line} of the proof can be read in more than one way by Lean ({why})."
    documented = _helper_starts(proof)
    for tok in all_tokens:
        if tok.kind is TokenKind.DOC_COMMENT and not (
            tok.text.startswith("/--") and tok.start in documented
        ):
            # `/--` and `/-!` are Lean syntax, not whitespace: a doc comment belongs to a
            # declaration (or is a command), never inside a proof; the one exception is the
            # doc comment of a `where` helper (`letRecDecl := docComment? …`, Term.lean).
            return "The proof contains a doc comment (`/--` or `/-!`), which starts a command."
    tokens = [t for t in all_tokens if t.is_code]
    for i, tok in enumerate(tokens):
        if tok.kind not in (TokenKind.IDENT, TokenKind.SYMBOL):
            continue
        prev = tokens[i - 1] if i else None
        if (finding := _finding(tok, policy, prev)) is not None:
            return finding
        if tok.text in SCOPED_BY_IN and not _scoped_by_in(tokens, i):
            return f"The proof uses `{tok.text}` without `in`, which makes it a command."
    return None


__all__ = ["NATIVE_TOKENS", "RAW_FORBIDDEN", "lean_name", "raw_finding", "screen"]
