"""Layer 1 of the gate: a static screen of the candidate's tokens.

Words inside comments and strings don't count; `open … in` and `set_option … in` stay legal."""

from __future__ import annotations

from agent.policy import FORBIDDEN_OPTION_PREFIXES, SCOPED_BY_IN, Policy
from agent.source.scanner import Token, TokenKind, UnterminatedError, tokenize


def _until_line_end(tokens: list[Token], i: int, text: str) -> list[Token]:
    end = text.find("\n", tokens[i].start)
    end = len(text) if end < 0 else end
    return [t for t in tokens[i + 1 :] if t.start < end]


def screen(proof: str, policy: Policy) -> str | None:
    """A sentence naming the first forbidden construct, or ``None`` when the text is clean."""
    try:
        tokens = [t for t in tokenize(proof) if t.is_code]
    except UnterminatedError as e:
        return f"The proof has an {e} and cannot be screened."
    for i, tok in enumerate(tokens):
        if tok.kind not in (TokenKind.IDENT, TokenKind.SYMBOL):
            continue
        text = tok.text
        is_hash_command = len(text) > 1 and text[0] == "#" and text[1].isalpha()
        key = "#" if is_hash_command and "#" in policy.forbidden else text
        # `Foo.sorry`-style names still mean the same constant; `h.native` is harmless.
        last = text.rsplit(".", 1)[-1] if tok.kind is TokenKind.IDENT else text
        if key in policy.forbidden or (last in ("sorry", "sorryAx") and last in policy.forbidden):
            why = policy.forbidden.get(key) or policy.forbidden[last]
            return f"The proof uses `{text}`, which is not allowed: {why}."
        if text in SCOPED_BY_IN:
            rest = _until_line_end(tokens, i, proof)
            if not any(t.text == "in" for t in rest):
                return f"The proof uses `{text}` without `in`, which makes it a command."
            if text == "set_option" and rest and rest[0].text.startswith(FORBIDDEN_OPTION_PREFIXES):
                return f"The proof sets `{rest[0].text}`, which can switch off checking."
        if tok.kind is TokenKind.IDENT and text.startswith(FORBIDDEN_OPTION_PREFIXES):
            return f"The proof mentions `{text}`, an option that can switch off checking."
    return None
