"""A Lean-aware tokenizer that follows Lean 4's own lexer rule by rule.

It tells code from comments, strings and `«quoted»` names, so that words such as `sorry` are
found only where Lean would see them. Offsets are indices into the Python ``str``, i.e. Unicode
code points, which is also how Lean counts columns.

The rules are copied from Lean's source and cited by function name: `Basic.lean` is
`src/Lean/Parser/Basic.lean` of leanprover/lean4 at commit 00c1b82722b5 (79,695 characters; the
newest version the reference index holds: raw strings, string gaps and `_` digit separators are
in it). Identifier characters come from `src/Init/Meta/Defs.lean` at commit
024d2419f314 (`isLetterLike`, `isSubScriptAlnum`, `isIdFirst`, `isIdRest`), interpolated strings
from `src/Lean/Parser/StrInterpolation.lean` (`interpolatedStrFn`) and doc comments from
`src/Lean/Parser/Term.lean` (`Command.commentBody`, `docComment`).

Lean has no separate lexer: its parser asks for a token where the grammar needs one, and symbols
are read by longest match in a token table that every `notation`/`syntax` extends. The scanner
uses a fixed table (`SYMBOL_TOKENS`), and :func:`ambiguities` lists every place where a different
table could move a comment, string or code boundary, so that a caller can refuse such text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TokenKind(StrEnum):
    IDENT = "ident"
    NUMBER = "number"
    STRING = "string"  # also raw strings and the literal chunks of `s!"…{…}…"`
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
    """A comment, string or quoted name runs to the end of the text, or (`LexError`) the text
    holds something Lean's lexer refuses."""


class LexError(UnterminatedError):
    """Text that Lean's lexer refuses, such as an invalid escape in a string literal. A subclass
    of `UnterminatedError` so that every caller already refuses it (fail closed)."""


# --- character classes -------------------------------------------------------------------------
# Init/Meta/Defs.lean (`isLetterLike`): Greek but λ Π Σ, Coptic, polytonic Greek, letterlike
# symbols, math alphanumerics, Latin-1 letters but × ÷, Latin Extended-A. (The two Latin ranges
# are recent; in older Lean such a character is no token at all, a parse error, so reading it
# as a letter never hides code.)
_LETTER_LIKE = (
    "\u03b1-\u03ba\u03bc-\u03c9\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9\u03ca-\u03fb"
    "\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f"
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u017f"
)
# `isSubScriptAlnum`.
_SUBSCRIPT = "\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
# `isIdFirst`: `Char.isAlpha` is ASCII only in Lean. `isIdRest` adds digits, `_ ' ! ?`.
_ID_FIRST = f"A-Za-z_{_LETTER_LIKE}"
_ID_REST = f"A-Za-z0-9_'!?{_LETTER_LIKE}{_SUBSCRIPT}"
_ID_FIRST_RE = re.compile(f"[{_ID_FIRST}]")
_ID_REST_RE = re.compile(f"[{_ID_REST}]")
# Basic.lean (`identFnAux`): parts are `isIdFirst isIdRest*` or `«…»` (anything but `»`),
# joined by `.` when the `.` is followed by an id-first character or `«` (`isIdCont`).
_ID_PART = f"(?:[{_ID_FIRST}][{_ID_REST}]*|«[^»]*»)"
_IDENT = re.compile(f"{_ID_PART}(?:\\.{_ID_PART})*")

# Basic.lean (`whitespace`): `Char.isWhitespace` is space, tab, CR, LF. Lean refuses a tab and
# an isolated CR outside comments and strings (a parse error, so the proof fails in Lean anyway);
# they are skipped here. Other Unicode spaces are no whitespace to Lean (no token at all).
_WS_CHARS = " \n\t\r"
_WS = re.compile(r"[ \n\t\r]+")

# Basic.lean `numberFnAux`, `takeDigitsFn` (`_` separators, each followed by a digit
# eventually), `decimalNumberFn` (`2.` is a scientific literal whatever follows the dot; an
# exponent needs a digit, else Lean reports an error).
_DIGITS = r"[0-9](?:_*[0-9])*"
_NUMBER = re.compile(
    r"0[xX](?:_*[0-9a-fA-F])+|0[bB](?:_*[01])+|0[oO](?:_*[0-7])+"
    rf"|{_DIGITS}(?:\.(?:{_DIGITS})?)?(?:[eE][+-]?{_DIGITS})?"
)

# Basic.lean (`quotedCharCoreFn`) with `isQuotableCharDefault`; `\{` is quotable only in
# interpolated strings (StrInterpolation.lean `isQuotableCharForStrInterpolant`) but is accepted
# in every string here: the grammar decides which strings are interpolated, and `\{` moves no
# boundary either way (in a plain string Lean reports an error). A gap (`stringGapFn`) is `\`,
# a newline, then whitespace without a second newline.
_ESCAPE = r"""\\(?:[\\"'rnt{]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|\n[ \t\r]*+(?!\n))"""
_PLAIN_STRING = re.compile(rf'"(?:[^"\\]++|{_ESCAPE})*+"')
_CHAR_ESCAPE = re.compile(r"""\\(?:[\\"'rnt]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})""")
_HEX = "0123456789abcdefABCDEF"

# Basic.lean (`finishCommentBlock`): only `-/` and `/-` matter inside a block comment.
_COMMENT_MARK = re.compile(r"-/|/-")

# --- the token table ---------------------------------------------------------------------------
# Multi-character symbols read whole by longest match (Basic.lean `tokenFnAux` ->
# `c.tokens.matchPrefix`). Every token of core Lean and Mathlib that contains `-`, `/` or `'`
# that the scanner knows of, plus the common ones the rest of leanloop looks for. Tokens that glue
# a bracket to something (`.(`, `#[`, `-[`, `` `( ``, `%[`) are left out on purpose: leanloop
# counts brackets one character at a time. Where each one comes from (declarations seen in the
# reference index, in lean4's core notation file that also declares `if … then … else`):
#   `@[inherit_doc] infixr:35 " /\\ " => And`, `infixr:30 " \\/ " => Or`, `infixl:35 " && "`,
#     `infixl:30 " || "`, `infixr:67 " :: "`, `" <|> "`, `" >> "`, `" >>= "`, `" <*> "`,
#     `" <* "`, `" *> "`, `" <$> "`, `" <| "`, `" |> "`,
#   `syntax "{ " withoutPosition(ident (" : " term)? " // " term) " }"` (Subtype),
#   Parser/Term.lean: `unicodeSymbol " → " " -> "` (depArrow), `" := "`, `".."` (optEllipsis),
#     `"@["`, and `"/--"` (docComment), which the scanner reads as a doc comment,
#   Mathlib `infixl:80 " ⁻¹' " => preimage`, `infixl:80 " '' " => image` (Set),
#   from memory, not checked in the index: `<;>`, `<-`, `<->`, `|>.`, `...`, `==`, `!=`, `<=`,
#     `>=`, `++`, `^^^`, `&&&`, `|||`, `<<<`, `>>>` (core), Mathlib `⁻¹` (Inv), `∑'`/`∏'`
#     (tsum, tprod), `-ᵥ`/`+ᵥ` (torsors), `/ₚ` (division by a unit).
# Which of them a given file has in scope the scanner cannot know; `ambiguities` covers that.
SYMBOL_TOKENS: tuple[str, ...] = (
    ":=", "@[", "<;>", "=>", "<|", "|>", "|>.", "<|>", "..", "...", "::",
    "->", "<-", "<->", "//", "/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "++",
    ">>=", ">>", "<$>", "<*>", "<*", "*>", "^^^", "&&&", "|||", "<<<", ">>>",
    "⁻¹", "⁻¹'", "''", "∑'", "∏'", "-ᵥ", "+ᵥ", "/ₚ",
)  # fmt: skip
_SYMBOL = re.compile("|".join(re.escape(s) for s in sorted(SYMBOL_TOKENS, key=len, reverse=True)))

# Tokens after which the scanner reads `"…"` as an interpolated string (StrInterpolation.lean
# `interpolatedStrFn`), as Lean does where the token is in scope: `syntax:max "s!"
# interpolatedStr(term)` (Init/Data/ToString/Macro.lean, part of Init, so always in scope), and,
# from memory, `"m!"` (Lean/Message.lean, needs `import Lean`), `"f!"`
# (Init/Data/Format/Macro.lean), `"println! " (interpolatedStr(term) <|> term)` and
# `"throwError " (…)` (Lean/Exception.lean, needs `import Lean`). Only `s!` is certain; for the
# others, and for any syntax the scanner does not know (`trace[…]`, user notation),
# :func:`ambiguities` flags the string when it holds `{`.
INTERPOLATION_TOKENS = frozenset({"s!", "m!", "f!", "println!", "throwError"})
CERTAIN_INTERPOLATION_TOKENS = frozenset({"s!"})


def column_of(text: str, offset: int) -> int:
    """Lean's 0-based column (code points) of ``offset`` in ``text``."""
    return offset - (text.rfind("\n", 0, offset) + 1)


def first_on_line(text: str, offset: int) -> bool:
    """Whether only spaces stand before ``offset`` on its line."""
    return not text[text.rfind("\n", 0, offset) + 1 : offset].strip()


def is_id_first(c: str) -> bool:
    return _ID_FIRST_RE.match(c) is not None


def is_id_rest(c: str) -> bool:
    return _ID_REST_RE.match(c) is not None


# --- block comments, doc comments, whitespace --------------------------------------------------


def _finish_comment_block(text: str, i: int, nesting: int) -> int:
    """Basic.lean (`finishCommentBlock`): from ``i`` inside a comment opened ``nesting``
    deep, the offset after the `-/` that closes it. Left to right, `-/` closes one level and `/-`
    opens one; each consumes both characters."""
    while True:
        m = _COMMENT_MARK.search(text, i)
        if m is None:
            raise UnterminatedError("unterminated comment")
        i = m.end()
        if m.group() == "/-":
            nesting += 1
        else:
            nesting -= 1
            if nesting == 0:
                return i


def _block_comment_end(text: str, i: int) -> int:
    """``i`` is at `/-` not followed by `-` or `!`. Basic.lean (`whitespace`): Lean steps
    over the character after `/-` without looking at it (`s.next input i`), then runs
    `finishCommentBlock 1`. So `/-/- -/` is one closed comment."""
    j = i + 3
    if j > len(text):
        raise UnterminatedError("unterminated comment")
    return _finish_comment_block(text, j, 1)


def _whitespace_end(text: str, i: int) -> int:
    """Basic.lean (`whitespace`): spaces, newlines, `--` line comments (to the newline,
    `takeUntilFn (· = '\\n')`) and `/-` block comments that are not `/--` or `/-!`."""
    n = len(text)
    while i < n:
        c = text[i]
        if c in _WS_CHARS:
            m = _WS.match(text, i)
            assert m is not None
            i = m.end()
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/-", i) and (i + 2 >= n or text[i + 2] not in "-!"):
            i = _block_comment_end(text, i)
        else:
            break
    return i


def _doc_comment_end(text: str, i: int) -> int:
    """``i`` is at `/--` or `/-!`. These are tokens (`whitespace` leaves them to the parser);
    `docComment := "/--" >> commentBody` and `moduleDoc := "/-!" >> commentBody`
    (Parser/Term.lean, Parser/Command.lean). Reading the token runs `whitespace` after it
    (Basic.lean `mkTokenAndFixPos`), then `commentBody` is `finishCommentBlock 1` from there.
    So `/---/` is complete, and after `/-- ` a `--` runs to the end of the line first."""
    return _finish_comment_block(text, _whitespace_end(text, i + 3), 1)


# --- strings and characters --------------------------------------------------------------------


def _escape_end(text: str, i: int, *, in_string: bool) -> int:
    """Basic.lean (`quotedCharCoreFn`): ``i`` is just after a backslash."""
    n = len(text)
    if i >= n:
        raise UnterminatedError("unterminated string literal")
    c = text[i]
    if c in "\\\"'rnt" or (in_string and c == "{"):
        return i + 1
    if c in "xu":
        width = 2 if c == "x" else 4
        digits = text[i + 1 : i + 1 + width]
        if len(digits) == width and all(d in _HEX for d in digits):
            return i + 1 + width
    elif in_string and c == "\n":
        # Basic.lean (`stringGapFn`): whitespace after the newline, but no second newline.
        j = i + 1
        while j < n and text[j] in " \t\r":
            j += 1
        if j < n and text[j] == "\n":
            raise LexError("extra newline in a string gap (`\\` at a line end)")
        return j
    shown = text[i - 1 : i + 1].replace("\n", "\\n")
    raise LexError(f"invalid escape sequence `{shown}` in a string literal")


def _string_end(text: str, i: int) -> int:
    """``i`` is at `"`. Basic.lean (`strLitFnAux`)."""
    m = _PLAIN_STRING.match(text, i)
    if m is not None:
        return m.end()
    # Slow path, only to name the error precisely.
    n = len(text)
    j = i + 1
    while j < n:
        c = text[j]
        if c == '"':
            return j + 1
        j = _escape_end(text, j + 1, in_string=True) if c == "\\" else j + 1
    raise UnterminatedError("unterminated string literal")


def _raw_string_end(text: str, i: int) -> int | None:
    """``i`` is at `r`. Basic.lean (`isRawStrLitStart`, `rawStrLitFnAux`): `r`,
    some `#`s, `"`; it ends at the first `"` followed by as many `#`s."""
    j = i + 1
    n = len(text)
    while j < n and text[j] == "#":
        j += 1
    if j >= n or text[j] != '"':
        return None
    close = '"' + "#" * (j - i - 1)
    k = text.find(close, j + 1)
    if k < 0:
        raise UnterminatedError("unterminated raw string literal")
    return k + len(close)


def _char_literal_end(text: str, i: int) -> int | None:
    """``i`` is at `'`. Basic.lean (`tokenFnAux`): `'` starts a character literal unless the
    next character is `'`; `charLitFnAux`: one character (any, a newline too) or an escape
    (`quotedCharFn`, no gaps, no `\\{`), then `'`. ``None`` if there is none here (Lean would
    report an error, or `''` is a symbol)."""
    n = len(text)
    j = i + 1
    if j >= n or text[j] == "'":
        return None
    if text[j] == "\\":
        m = _CHAR_ESCAPE.match(text, j)
        if m is None:
            return None
        j = m.end()
    else:
        j += 1
    return j + 1 if j < n and text[j] == "'" else None


# --- the tokenizer -----------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """Split Lean source into tokens; whitespace is dropped, comments are kept as tokens."""
    out: list[Token] = []
    _tokenize(text, 0, out, level=0)
    return out


def code_tokens(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.is_code]


def _interpolated_end(text: str, i: int, out: list[Token], level: int) -> int:
    """``i`` is at the `"` after `s!`/`m!`/`f!`. StrInterpolation.lean (`interpolatedStrFn`): an
    escape (with `\\{`), `"` ends it, `{` starts a term that runs to its `}`. The literal chunks
    are STRING tokens `"…{`, `}…{`, `}…"`; the terms in between are code."""
    n = len(text)
    start = i
    i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            i = _escape_end(text, i + 1, in_string=True)
        elif c == '"':
            out.append(Token(TokenKind.STRING, text[start : i + 1], start, i + 1))
            return i + 1
        elif c == "{":
            out.append(Token(TokenKind.STRING, text[start : i + 1], start, i + 1))
            i = _tokenize(text, i + 1, out, level=level + 1)
            start = i - 1  # the closing brace starts the next literal chunk
        else:
            i += 1
    raise UnterminatedError("unterminated string literal")


# Python's own stack bounds how deep `s!"{s!"{…}"}"` can nest here; deeper text is refused.
_MAX_INTERPOLATION_NESTING = 100


def _tokenize(text: str, i: int, out: list[Token], *, level: int) -> int:
    """Tokenize from ``i``; inside ``level`` interpolations, stop after the `}` that closes the
    innermost one and return the offset after it. The order of the tests is Basic.lean
    (`tokenFnAux`), after `whitespace` at every token boundary."""
    if level > _MAX_INTERPOLATION_NESTING:
        raise LexError("interpolated strings nested too deeply to read")
    stop_at_brace = level > 0
    n = len(text)
    depth = 0
    append = out.append
    ident = _IDENT.match
    symbol = _SYMBOL.match
    while i < n:
        c = text[i]
        if c in _WS_CHARS:
            m = _WS.match(text, i)
            assert m is not None
            i = m.end()
            continue
        start = i
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "-" and nxt == "-":  # `whitespace`: `--` to the end of the line
            j = text.find("\n", i)
            i = n if j < 0 else j
            append(Token(TokenKind.COMMENT, text[start:i], start, i))
            continue
        if c == "/" and nxt == "-":  # `whitespace`, `/-` branch
            if i + 2 < n and text[i + 2] in "-!":
                i = _doc_comment_end(text, i)
                append(Token(TokenKind.DOC_COMMENT, text[start:i], start, i))
            else:
                i = _block_comment_end(text, i)
                append(Token(TokenKind.COMMENT, text[start:i], start, i))
            continue
        if c == '"':
            prev = _last_code(out)
            if (
                prev is not None
                and prev.kind is TokenKind.IDENT
                and prev.text in INTERPOLATION_TOKENS
            ):
                i = _interpolated_end(text, i, out, level)
                continue
            i = _string_end(text, i)
            append(Token(TokenKind.STRING, text[start:i], start, i))
            continue
        if c == "'":
            end = _char_literal_end(text, i)
            if end is not None:
                append(Token(TokenKind.CHAR, text[start:end], start, end))
                i = end
                continue
        elif "0" <= c <= "9":
            m = _NUMBER.match(text, i)
            assert m is not None
            i = m.end()
            append(Token(TokenKind.NUMBER, text[start:i], start, i))
            continue
        elif c == "`" and (is_id_first(nxt) or nxt == "«"):
            # Basic.lean (`tokenFnAux`): a backtick before an identifier start is a name
            # literal (`nameLitAux` reads the identifier with `identFnAux`), tested before raw
            # strings, so `` `r"" `` is the name `r` then a string. The backtick stays its own
            # symbol so that the screen sees the name it quotes.
            m = ident(text, i + 1)
            if m is None:
                raise UnterminatedError("unterminated «name»")
            append(Token(TokenKind.SYMBOL, "`", i, i + 1))
            append(Token(TokenKind.IDENT, text[i + 1 : m.end()], i + 1, m.end()))
            i = m.end()
            continue
        elif c == "r" and (nxt == '"' or nxt == "#"):
            end = _raw_string_end(text, i)
            if end is not None:
                append(Token(TokenKind.STRING, text[start:end], start, end))
                i = end
                continue
        elif c == "#" and nxt.isascii() and nxt.isalpha():
            # `#eval`, `#exit`, …: kept whole so that the screen sees the command. `#r"…"` is
            # `#` then a raw string in Lean's own table (there is no `#r` token), so the word
            # stops before a raw string's opening.
            j = i + 1
            while j < n and is_id_rest(text[j]):
                j += 1
            if not (j == i + 2 and nxt == "r" and j < n and text[j] in '"#'):
                append(Token(TokenKind.SYMBOL, text[start:j], start, j))
                i = j
                continue
        m = ident(text, i)
        if m is not None:
            i = m.end()
            append(Token(TokenKind.IDENT, text[start:i], start, i))
            continue
        if c == "«":
            raise UnterminatedError("unterminated «name»")
        if stop_at_brace and c == "}" and depth == 0:
            return i + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        m = symbol(text, i)
        i = m.end() if m is not None else i + 1
        append(Token(TokenKind.SYMBOL, text[start:i], start, i))
    if stop_at_brace:
        raise UnterminatedError("unterminated string interpolation")
    return i


def _last_code(out: list[Token]) -> Token | None:
    for t in reversed(out):
        if t.is_code:
            return t
    return None


# --- where the token table decides -------------------------------------------------------------

_ESCAPED_CHAR = re.compile(r"\\.", re.S)


def ambiguities(text: str, tokens: list[Token] | None = None) -> list[tuple[int, str]]:
    """Every place where Lean's reading of ``text`` depends on something the scanner cannot
    know: the token table (open-ended: Mathlib and user notation add tokens) or the grammar.

    Lean reads a comment, string, character or `«name»` only at a token boundary, and at a
    boundary it reads them whatever the table holds (Basic.lean `whitespace` runs before any
    token, `tokenFnAux` tests `"`, `'`, digits, `` ` `` and `r"` before the table). A
    boundary is certain after whitespace, a comment, a string, a character or a number that ends
    in a digit. After a symbol or an identifier it is not: a longer token could run on. So each
    `--`, `/-`, `-/`, `"`, `r"`, `'x'` or `«` right after a symbol or identifier is listed, and so
    is one inside a symbol the scanner's table made long. A string holding `{` that does not
    follow `s!`/`m!`/`f!` is listed too: other syntax may read it as interpolated.

    Raises `UnterminatedError` where `tokenize` does."""
    if tokens is None:
        tokens = tokenize(text)
    found: list[tuple[int, str]] = []
    prev: Token | None = None
    prev_code: Token | None = None
    holes = 0  # how many `s!"…{` are open around this token
    open_end = prev_uncertain = False
    for tok in tokens:
        start = tok.start
        if tok.kind is TokenKind.STRING:
            holes -= tok.text.startswith("}")
            holes += tok.text.endswith("{")
        elif holes and tok.kind is TokenKind.SYMBOL and ("{" in tok.text or "}" in tok.text):
            found.append(
                (
                    start,
                    "a brace inside the `{…}` of an interpolated string: where the hole ends "
                    "depends on how Lean's grammar reads the term",
                )
            )
        uncertain = (
            prev is not None
            and prev.end == start
            and open_end
            # after a name literal's backtick Lean reads the name, never the table (`tokenFnAux`)
            and not (tok.kind is TokenKind.IDENT and prev.text == "`" and not prev_uncertain)
        )
        if uncertain:
            assert prev is not None
            why = _starter(tok, text, prev, prev_solid=not prev_uncertain)
            if why is not None:
                found.append((start, f"{why} directly after `{prev.text}`: {_TABLE_NOTE}"))
        # Inside a symbol the scanner's table made long, or inside an identifier or number that a
        # token running on from before could cut short, a boundary may fall anywhere.
        if len(tok.text) > 1 and (
            tok.kind is TokenKind.SYMBOL
            or (uncertain and tok.kind in (TokenKind.IDENT, TokenKind.NUMBER))
        ):
            for k in range(1, len(tok.text)):
                why = _starter_at(text, start + k)
                if why is not None:
                    found.append((start + k, f"{why} inside `{tok.text}`: {_TABLE_NOTE}"))
        # Whether a token from the table could run on past this one's end: after a symbol or an
        # identifier, after `2.` (after `h.` the parser reads a field index, digits only), and
        # after a number that itself began where a token could have run on.
        open_end = tok.kind in (TokenKind.SYMBOL, TokenKind.IDENT) or (
            tok.kind is TokenKind.NUMBER and (uncertain or tok.text.endswith("."))
        )
        prev_uncertain = uncertain
        if (
            tok.kind is TokenKind.STRING
            and tok.text.startswith('"')
            and tok.text.endswith('"')
            and "{" in tok.text
            and "{" in _ESCAPED_CHAR.sub("", tok.text)
        ):
            found.append(
                (
                    start,
                    "a string literal holding `{`: syntax other than `s!` may read it as an "
                    "interpolated string, whose `{…}` is code",
                )
            )
        if (
            tok.kind is TokenKind.STRING
            and tok.text.startswith('"')
            and tok.text.endswith("{")
            and (prev_code is None or prev_code.text not in CERTAIN_INTERPOLATION_TOKENS)
        ):
            found.append(
                (
                    start,
                    f"a string read as interpolated after `{prev_code.text if prev_code else ''}`"
                    ": whether Lean does depends on the syntax in scope",
                )
            )
        prev = tok
        if tok.is_code:
            prev_code = tok
    return found


_TABLE_NOTE = "Lean's reading here depends on which notation tokens are in scope"


def _starter(tok: Token, text: str, prev: Token, *, prev_solid: bool) -> str | None:
    """What ``tok`` starts that a token running on from ``prev`` could swallow. ``prev_solid``:
    ``prev`` itself began at a certain boundary (so it is the name literal's backtick, or the
    interpolation token, that the scanner takes it for)."""
    if tok.kind is TokenKind.IDENT:
        if tok.text.startswith("«") and not (prev_solid and prev.text == "`"):
            return "a `«` name"
        return None
    if tok.kind is TokenKind.STRING and tok.text.startswith("}"):
        return None  # the rest of an interpolated string, after its `}`
    if prev_solid and tok.kind is TokenKind.STRING and prev.text in INTERPOLATION_TOKENS:
        return None
    return _starter_at(text, tok.start)


def _starter_at(text: str, i: int) -> str | None:
    """What Lean would start reading at ``i`` if a token boundary fell there."""
    if text.startswith("--", i):
        return "a line comment `--`"
    if text.startswith("/-", i):
        return "a block comment `/-`"
    if text.startswith("-/", i):
        return "a comment end `-/`"
    c = text[i]
    if c == '"':
        return "a string literal"
    if c == "«":
        return "a `«` name"
    if c == "'" and _char_literal_end(text, i) is not None:
        return "a character literal"
    if c == "r" and _raw_string_end_quiet(text, i):
        return "a raw string literal"
    return None


def _raw_string_end_quiet(text: str, i: int) -> bool:
    try:
        return _raw_string_end(text, i) is not None
    except UnterminatedError:
        return True
