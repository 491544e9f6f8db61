"""A small Lean-aware tokenizer.

It knows just enough Lean lexical structure to tell code from comments, strings and
`«quoted»` names, so that words such as `sorry` are found only where Lean would see them.
Offsets are indices into the Python ``str``, i.e. Unicode code points, which is also how
Lean counts columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TokenKind(StrEnum):
    IDENT = "ident"
    NUMBER = "number"
    STRING = "string"
    CHAR = "char"
    SYMBOL = "symbol"
    COMMENT = "comment"  # `--` and `/- -/`
    DOC_COMMENT = "doc_comment"  # `/-- -/` and `/-! -/`


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int

    @property
    def is_code(self) -> bool:
        return self.kind not in (TokenKind.COMMENT, TokenKind.DOC_COMMENT)


class UnterminatedError(ValueError):
    """A comment, string or quoted name runs to the end of the text."""


# Multi-character symbols we care to keep whole; everything else is one character.
_SYMBOLS = (":=", "@[", "<;>", "=>", "<|", "|>", "←", "→", "..")
_SYMBOLS_BY_FIRST = {c: tuple(s for s in _SYMBOLS if s[0] == c) for c in {s[0] for s in _SYMBOLS}}
# The same character classes as `is_id_first` / `is_id_rest`, for speed.
_LETTER_LIKE = (
    "\u03b1-\u03ba\u03bc-\u03c9\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9\u03ca-\u03fb"
    "\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f"
)
_ID_PART = re.compile(
    f"[A-Za-z_{_LETTER_LIKE}][A-Za-z0-9_'!?{_LETTER_LIKE}\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a]*"
)
_SPACE = re.compile(r"\s+")
# Lean's numeric literals; a letter right after the digits starts a new token, as in Lean.
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
)


def _is_letter_like(c: str) -> bool:
    # Mirrors Lean's `isLetterLike`: Greek (not λ Π Σ), Coptic, letterlike, math alphanumerics.
    o = ord(c)
    return (
        (0x3B1 <= o <= 0x3C9 and o != 0x3BB)
        or (0x391 <= o <= 0x3A9 and o not in (0x3A0, 0x3A3))
        or (0x3CA <= o <= 0x3FB)
        or (0x1F00 <= o <= 0x1FFE)
        or (0x2100 <= o <= 0x214F)
        or (0x1D49C <= o <= 0x1D59F)
    )


def _is_subscript(c: str) -> bool:
    o = ord(c)
    return 0x2080 <= o <= 0x2089 or 0x2090 <= o <= 0x209C or 0x1D62 <= o <= 0x1D6A


def is_id_first(c: str) -> bool:
    return (c.isascii() and c.isalpha()) or c == "_" or _is_letter_like(c)


def is_id_rest(c: str) -> bool:
    return (c.isascii() and c.isalnum()) or c in "_'!?" or _is_letter_like(c) or _is_subscript(c)


def _skip_block_comment(text: str, i: int) -> int:
    """`i` points at `/-`; return the offset just past the matching `-/` (comments nest)."""
    depth = 0
    n = len(text)
    while i < n:
        if text.startswith("/-", i):
            depth += 1
            i += 2
        elif text.startswith("-/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise UnterminatedError("unterminated comment")


def _skip_string(text: str, i: int) -> int:
    """`i` points at the opening quote."""
    n = len(text)
    i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    raise UnterminatedError("unterminated string literal")


def _skip_raw_string(text: str, i: int) -> int | None:
    """`i` points at `r`; return the end of `r"…"` / `r#"…"#`, or None if this is no raw string."""
    j = i + 1
    hashes = 0
    while j < len(text) and text[j] == "#":
        hashes += 1
        j += 1
    if j >= len(text) or text[j] != '"':
        return None
    close = '"' + "#" * hashes
    k = text.find(close, j + 1)
    if k < 0:
        raise UnterminatedError("unterminated raw string literal")
    return k + len(close)


def _skip_ident(text: str, i: int) -> int:
    """Dotted identifier whose components are plain or `«quoted»`."""
    n = len(text)
    while True:
        if i < n and text[i] == "«":
            k = text.find("»", i + 1)
            if k < 0:
                raise UnterminatedError("unterminated «name»")
            i = k + 1
        else:
            m = _ID_PART.match(text, i)
            i = m.end() if m else i + 1
        if i + 1 < n and text[i] == "." and (is_id_first(text[i + 1]) or text[i + 1] == "«"):
            i += 1
            continue
        return i


def _char_literal_end(text: str, i: int) -> int | None:
    """`i` points at `'`; return the end of a char literal such as `'a'` or `'\\''`, else None."""
    n = len(text)
    j = i + 1
    if j >= n or text[j] in "\n'":
        return None
    if text[j] == "\\":
        j += 1
        if j >= n:
            return None
        # `\xHH` and `\uHHHH` escapes; any other escape is one character.
        j += {"x": 3, "u": 5}.get(text[j], 1)
    else:
        j += 1
    return j + 1 if j < n and text[j] == "'" else None


def _interpolated_end(text: str, i: int, out: list[Token]) -> int:
    """`i` points at the `"` of `s!"…{e}…"`: the parts in braces are code, and are emitted as
    tokens, since Lean elaborates them."""
    n = len(text)
    start = i
    i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            out.append(Token(TokenKind.STRING, text[start : i + 1], start, i + 1))
            return i + 1
        if c == "{":
            out.append(Token(TokenKind.STRING, text[start:i], start, i))
            i = _tokenize(text, i + 1, out, stop_at_brace=True)
            start = i - 1  # the closing brace starts the next literal chunk
            continue
        i += 1
    raise UnterminatedError("unterminated string literal")


def tokenize(text: str) -> list[Token]:
    """Split Lean source into tokens; whitespace is dropped, comments are kept as tokens."""
    out: list[Token] = []
    _tokenize(text, 0, out, stop_at_brace=False)
    return out


def _tokenize(text: str, i: int, out: list[Token], *, stop_at_brace: bool) -> int:
    """Tokenize from ``i``; with ``stop_at_brace``, stop after the `}` that closes an
    interpolation and return the offset after it."""
    n = len(text)
    depth = 0
    while i < n:
        c = text[i]
        if c.isspace():
            m = _SPACE.match(text, i)
            i = m.end() if m else i + 1
            continue
        start = i
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            out.append(Token(TokenKind.COMMENT, text[start:i], start, i))
            continue
        if text.startswith("/-", i):
            kind = (
                TokenKind.DOC_COMMENT
                if text.startswith("/--", i) or text.startswith("/-!", i)
                else TokenKind.COMMENT
            )
            i = _skip_block_comment(text, i)
            out.append(Token(kind, text[start:i], start, i))
            continue
        if c == '"':
            prev = out[-1] if out else None
            if prev is not None and prev.end == i and prev.text.endswith("!"):
                i = _interpolated_end(text, i, out)
                continue
            i = _skip_string(text, i)
            out.append(Token(TokenKind.STRING, text[start:i], start, i))
            continue
        if c == "r" and i + 1 < n and text[i + 1] in '#"':
            end = _skip_raw_string(text, i)
            if end is not None:
                i = end
                out.append(Token(TokenKind.STRING, text[start:i], start, i))
                continue
        if is_id_first(c) or c == "«":
            i = _skip_ident(text, i)
            out.append(Token(TokenKind.IDENT, text[start:i], start, i))
            continue
        if "0" <= c <= "9":
            m = _NUMBER.match(text, i)
            i = m.end() if m else i + 1
            out.append(Token(TokenKind.NUMBER, text[start:i], start, i))
            continue
        if c == "'":
            end_char = _char_literal_end(text, i)
            if end_char is not None:
                i = end_char
                out.append(Token(TokenKind.CHAR, text[start:i], start, i))
                continue
        if c == "#" and i + 1 < n and text[i + 1].isascii() and text[i + 1].isalpha():
            i += 1
            while i < n and is_id_rest(text[i]):
                i += 1
            out.append(Token(TokenKind.SYMBOL, text[start:i], start, i))
            continue
        if stop_at_brace and c == "}" and depth == 0:
            return i + 1
        if c in "{}":
            depth += 1 if c == "{" else -1
        sym = next((s for s in _SYMBOLS_BY_FIRST.get(c, ()) if text.startswith(s, i)), c)
        i += len(sym)
        out.append(Token(TokenKind.SYMBOL, sym, start, i))
    if stop_at_brace:
        raise UnterminatedError("unterminated string interpolation")
    return i


def code_tokens(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.is_code]
