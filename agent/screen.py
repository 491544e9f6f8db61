"""Layer 1 of the gate: a static screen of the candidate's tokens.

Words inside comments and strings don't count (code inside `s!"{…}"` does); `open … in` and
`set_option … in` stay legal. Names are compared as Lean reads them: `«debug».x` is `debug.x`
and `_root_.Lean.ofReduceBool` is `Lean.ofReduceBool`."""

from __future__ import annotations

from leanloop.policy import FORBIDDEN_OPTION_PREFIXES, SCOPED_BY_IN, Policy
from leanloop.source.scanner import Token, TokenKind, UnterminatedError, tokenize

# Constants that are forbidden under any namespace prefix (`Foo.sorry` is still `sorry` if
# `Foo` is opened away; better to refuse than to reason about name resolution).
_FORBIDDEN_TAILS = frozenset(
    {"sorry", "sorryAx", "admit", "native_decide", "ofReduceBool", "trustCompiler"}
)


def lean_name(text: str) -> str:
    """The name Lean sees: guillemets removed, `_root_.` dropped."""
    name = text.replace("«", "").replace("»", "")
    return name.removeprefix("_root_.")


def _until_line_end(tokens: list[Token], i: int, text: str) -> list[Token]:
    end = text.find("\n", tokens[i].start)
    end = len(text) if end < 0 else end
    return [t for t in tokens[i + 1 :] if t.start < end]


def _finding(tok: Token, policy: Policy) -> str | None:
    text = tok.text
    if tok.kind is TokenKind.SYMBOL:
        # `#eval`, `#exit`, …; a bare `#` is the start of an array literal `#[…]`.
        is_command = len(text) > 1 and text[0] == "#"
        key = "#" if is_command else text
        if key in policy.forbidden and text != "#":
            return f"The proof uses `{text}`, which is not allowed: {policy.forbidden[key]}."
        return None
    name = lean_name(text)
    tail = name.rsplit(".", 1)[-1]
    keys = [name, tail] if tail in _FORBIDDEN_TAILS else [name]
    for key in keys:
        if key in policy.forbidden:
            return f"The proof uses `{text}`, which is not allowed: {policy.forbidden[key]}."
    if name.startswith(FORBIDDEN_OPTION_PREFIXES):
        return f"The proof mentions `{text}`, an option that can switch off checking."
    return None


def screen(proof: str, policy: Policy) -> str | None:
    """A sentence naming the first forbidden construct, or ``None`` when the text is clean."""
    try:
        tokens = [t for t in tokenize(proof) if t.is_code]
    except UnterminatedError as e:
        return f"The proof has an {e} and cannot be screened."
    for i, tok in enumerate(tokens):
        if tok.kind not in (TokenKind.IDENT, TokenKind.SYMBOL):
            continue
        if (finding := _finding(tok, policy)) is not None:
            return finding
        if tok.text in SCOPED_BY_IN:
            rest = _until_line_end(tokens, i, proof)
            if not any(t.text == "in" for t in rest):
                return f"The proof uses `{tok.text}` without `in`, which makes it a command."
    return None
