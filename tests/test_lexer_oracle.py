"""An independent model of Lean 4's lexer, for testing the scanner against Lean's own rules.

A line-by-line Python transliteration of the lexical functions in leanprover/lean4
`src/Lean/Parser/Basic.lean` at commit 00c1b82722b5 (and `interpolatedStrFn` from
`src/Lean/Parser/StrInterpolation.lean`, `isIdFirst`/`isIdRest` from `src/Init/Meta/Defs.lean`).
Each function quotes the Lean lines it copies. It shares no code with `leanloop.source.scanner`.

Lean has no lexer: its parser asks for a token where the grammar wants one. The driver below
stands in for the grammar the way a stream of tokens would be read: `whitespace` after every
token (`mkNodeToken`, `mkTokenAndFixPos`), a doc comment body after the tokens `/--` and `/-!`
(`docComment := "/--" >> commentBody`), an interpolated string after the interpolation tokens,
and a term inside `{…}` read as tokens up to the `}` that balances it.

`classes()` gives one letter per character: `w` whitespace, `c` comment (doc comments too), `s`
inside a string or character literal, `k` any other token. A Lean lexical error raises
`OracleError`.
"""

from __future__ import annotations

from collections.abc import Iterable


class OracleError(Exception):
    """Lean's lexer reports an error here."""


# Init/Meta/Defs.lean


def is_letter_like(c: str) -> bool:
    # def isLetterLike (c : Char) : Bool :=
    v = ord(c)
    return (
        (0x3B1 <= v <= 0x3C9 and v != 0x3BB)  # Lower greek, but lambda
        or (0x391 <= v <= 0x3A9 and v != 0x3A0 and v != 0x3A3)  # Upper greek, but Pi and Sigma
        or (0x3CA <= v <= 0x3FB)  # Coptic letters
        or (0x1F00 <= v <= 0x1FFE)  # Polytonic Greek Extended Character Set
        or (0x2100 <= v <= 0x214F)  # Letter like block
        or (0x1D49C <= v <= 0x1D59F)  # Latin letters, Script, Double-struck, Fractur
        or (0x00C0 <= v <= 0x00FF and v != 0x00D7 and v != 0x00F7)  # Latin-1 but × and ÷
        or (0x0100 <= v <= 0x017F)  # Latin Extended-A
    )


def is_sub_script_alnum(c: str) -> bool:
    v = ord(c)
    # isNumericSubscript c || (0x2090 ≤ c.val && c.val ≤ 0x209c) || (0x1d62 ≤ …0x1d6a) || 0x2c7c
    return 0x2080 <= v <= 0x2089 or 0x2090 <= v <= 0x209C or 0x1D62 <= v <= 0x1D6A or v == 0x2C7C


def _is_alpha(c: str) -> bool:  # Char.isAlpha: ASCII letters only
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_digit(c: str) -> bool:  # Char.isDigit: ASCII digits only
    return "0" <= c <= "9"


def is_id_first(c: str) -> bool:
    # c.isAlpha || c = '_' || isLetterLike c
    return _is_alpha(c) or c == "_" or is_letter_like(c)


def is_id_rest(c: str) -> bool:
    # c.isAlphanum || c = '_' || c = '\'' || c == '!' || c == '?' || isLetterLike c
    #   || isSubScriptAlnum c
    return (
        _is_alpha(c) or _is_digit(c) or c in "_'!?" or is_letter_like(c) or is_sub_script_alnum(c)
    )


def _is_whitespace(c: str) -> bool:  # Char.isWhitespace
    return c in " \t\r\n"


def is_quotable_char_default(c: str) -> bool:
    # c == '\\' || c == '\"' || c == '\'' || c == 'r' || c == 'n' || c == 't'
    return c in "\\\"'rnt"


def is_quotable_char_for_str_interpolant(c: str) -> bool:
    # c == '{' || isQuotableCharDefault c
    return c == "{" or is_quotable_char_default(c)


DOC_TOKENS = ("/--", "/-!")


class Oracle:
    def __init__(
        self, text: str, tokens: Iterable[str], interpolation: Iterable[str] = ("s!",)
    ) -> None:
        self.input = text
        self.n = len(text)
        self.tokens = frozenset(tokens) | set(DOC_TOKENS)
        self.interpolation = frozenset(interpolation)
        self.cls = ["?"] * self.n

    # --- String primitives: `get` past the end is `default` ('A'), `next` past the end is +1.
    def at_end(self, i: int) -> bool:
        return i >= self.n

    def get(self, i: int) -> str:
        return self.input[i] if i < self.n else "A"

    def get_next(self, i: int) -> str:
        return self.get(i + 1)

    def mark(self, start: int, end: int, cls: str) -> None:
        for j in range(start, min(end, self.n)):
            self.cls[j] = cls

    # --- Basic.lean ---------------------------------------------------------------------------

    def take_until(self, p: object, i: int) -> int:
        # partial def takeUntilFn (p : Char → Bool) : ParserFn := fun c s =>
        #   if h : c.input.atEnd i then s
        #   else if p (c.input.get' i h) then s
        #   else takeUntilFn p c (s.next' c.input i h)
        while not self.at_end(i) and not p(self.input[i]):  # type: ignore[operator]
            i += 1
        return i

    def finish_comment_block(self, nesting: int, i: int) -> int:
        # partial def finishCommentBlock (nesting : Nat) : ParserFn := fun c s =>
        while True:
            if self.at_end(i):  # if h : input.atEnd i then eoi s
                raise OracleError("unterminated comment")
            curr = self.input[i]  # let curr := input.get' i h
            i = i + 1  # let i := input.next' i h
            if curr == "-":
                if self.at_end(i):
                    raise OracleError("unterminated comment")
                curr = self.input[i]
                if curr == "/":  # "-/" end of comment
                    if nesting == 1:
                        return i + 1  # s.next' input i h
                    nesting, i = nesting - 1, i + 1
                # else finishCommentBlock nesting c (s.setPos i)
            elif curr == "/":
                if self.at_end(i):
                    raise OracleError("unterminated comment")
                curr = self.input[i]
                if curr == "-":
                    nesting, i = nesting + 1, i + 1  # finishCommentBlock (nesting+1) (s.next' …)
                # else finishCommentBlock nesting c (s.setPos i)
            # else finishCommentBlock nesting c (s.setPos i)

    def whitespace(self, i: int) -> int:
        # partial def whitespace : ParserFn := fun c s =>
        while True:
            if self.at_end(i):  # if h : input.atEnd i then s
                return i
            curr = self.input[i]
            if curr == "\t":
                raise OracleError("tabs are not allowed")
            if curr == "\r":
                raise OracleError("isolated carriage returns are not allowed")
            if _is_whitespace(curr):  # whitespace c (s.next' input i h)
                self.mark(i, i + 1, "w")
                i += 1
            elif curr == "-":
                j = i + 1  # let i := input.next' i h
                if self.get(j) == "-":  # if curr == '-' then
                    # andthenFn (takeUntilFn (fun c => c = '\n')) whitespace c (s.next input i)
                    end = self.take_until(lambda c: c == "\n", j + 1)
                    self.mark(i, end, "c")
                    i = end
                else:
                    return i
            elif curr == "/":
                j = i + 1  # let i := input.next' i h
                if self.get(j) == "-":
                    j = j + 1  # let i := input.next i
                    if self.get(j) in "-!":  # "/--" and "/-!" doc comment are actual tokens
                        return i
                    # andthenFn (finishCommentBlock 1) whitespace c (s.next input i)
                    end = self.finish_comment_block(1, j + 1)
                    self.mark(i, end, "c")
                    i = end
                else:
                    return i
            else:
                return i

    def hex_digit(self, i: int) -> int:
        # def hexDigitFn : ParserFn
        if self.at_end(i):
            raise OracleError("eoi")
        curr = self.input[i]
        # if curr.isDigit || ('a' <= curr && curr <= 'f') || ('A' <= curr && curr <= 'F')
        if _is_digit(curr) or "a" <= curr <= "f" or "A" <= curr <= "F":
            return i + 1
        raise OracleError("invalid hexadecimal numeral")

    def string_gap(self, seen_newline: bool, i: int) -> int:
        # partial def stringGapFn (seenNewline : Bool) : ParserFn := fun c s =>
        while True:
            if self.at_end(i):
                return i  # let strLitFnAux handle the EOI error if !seenNewline
            curr = self.input[i]
            if curr == "\n":
                if seen_newline:
                    raise OracleError("unexpected additional newline in string gap")
                seen_newline, i = True, i + 1
            elif _is_whitespace(curr):
                i += 1
            elif seen_newline:
                return i
            else:
                raise OracleError("expecting newline in string gap")

    def quoted_char_core(self, is_quotable: object, in_string: bool, i: int) -> int:
        # def quotedCharCoreFn (isQuotable : Char → Bool) (inString : Bool) : ParserFn
        if self.at_end(i):
            raise OracleError("eoi")
        curr = self.input[i]
        if is_quotable(curr):  # type: ignore[operator]
            return i + 1
        if curr == "x":  # andthenFn hexDigitFn hexDigitFn c (s.next' input i h)
            return self.hex_digit(self.hex_digit(i + 1))
        if curr == "u":
            j = i + 1
            for _ in range(4):
                j = self.hex_digit(j)
            return j
        if in_string and curr == "\n":  # stringGapFn false c s
            return self.string_gap(False, i)
        raise OracleError("invalid escape sequence")

    def mk_node_token(self, start: int, i: int, cls: str) -> int:
        # def mkNodeToken …: the literal, then `let s := whitespace c s`
        self.mark(start, i, cls)
        return self.whitespace(i)

    def char_lit_aux(self, start: int, i: int) -> int:
        # def charLitFnAux (startPos : String.Pos) : ParserFn
        if self.at_end(i):
            raise OracleError("eoi")
        curr = self.input[i]
        i = i + 1  # let s := s.setPos (input.next' i h)
        if curr == "\\":  # quotedCharFn = quotedCharCoreFn isQuotableCharDefault false
            i = self.quoted_char_core(is_quotable_char_default, False, i)
        curr = self.get(i)
        i = i + 1
        if curr == "'":
            return self.mk_node_token(start, i, "s")
        raise OracleError("missing end of character literal")

    def str_lit_aux(self, start: int, i: int) -> int:
        # partial def strLitFnAux (startPos : String.Pos) : ParserFn
        while True:
            if self.at_end(i):
                raise OracleError("unterminated string literal")
            curr = self.input[i]
            i = i + 1
            if curr == '"':
                return self.mk_node_token(start, i, "s")
            if curr == "\\":  # andthenFn quotedStringFn (strLitFnAux startPos)
                i = self.quoted_char_core(is_quotable_char_default, True, i)

    def is_raw_str_lit_start(self, i: int) -> bool:
        # partial def isRawStrLitStart (input : String) (i : String.Pos) : Bool
        while not self.at_end(i):
            if self.input[i] == "#":
                i += 1
            else:
                return self.input[i] == '"'
        return False

    def raw_str_lit_aux(self, start: int, i: int) -> int:
        # partial def rawStrLitFnAux (startPos : String.Pos) : ParserFn := initState 0
        num = 0
        while True:  # initState
            if self.at_end(i):
                raise OracleError("unterminated raw string literal")
            curr = self.input[i]
            i += 1
            if curr == "#":
                num += 1
            elif curr == '"':
                break
            else:
                raise OracleError("unterminated raw string literal")
        state, closing = "normal", 0
        while True:
            if self.at_end(i):
                raise OracleError("unterminated raw string literal")
            curr = self.input[i]
            i += 1
            if state == "normal":
                if curr == '"':
                    if num == 0:
                        return self.mk_node_token(start, i, "s")
                    state, closing = "closing", 0
            elif curr == "#":  # closingState
                if closing + 1 == num:
                    return self.mk_node_token(start, i, "s")
                closing += 1
            elif curr == '"':
                closing = 0
            else:
                state = "normal"

    def take_digits(self, is_digit: object, need_digit: bool, i: int) -> int:
        # partial def takeDigitsFn (isDigit : Char → Bool) (expecting : String) (needDigit : Bool)
        while True:
            if self.at_end(i):
                if need_digit:
                    raise OracleError("expected digit")
                return i
            curr = self.input[i]
            if curr == "_":
                need_digit, i = True, i + 1
            elif is_digit(curr):  # type: ignore[operator]
                need_digit, i = False, i + 1
            elif need_digit:
                raise OracleError("unexpected character")
            else:
                return i

    def decimal_number(self, start: int, i: int) -> int:
        # def decimalNumberFn (startPos : String.Pos) (c : ParserContext)
        i = self.take_digits(_is_digit, False, i)
        if self.at_end(i):
            return self.mk_node_token(start, i, "k")
        curr = self.input[i]
        if curr in ".eE":  # parseScientific: parseOptDot, then parseOptExp
            if self.get(i) == ".":
                i = i + 1
                if _is_digit(self.get(i)):
                    i = self.take_digits(_is_digit, False, i)
            if self.get(i) in "eE":
                i = i + 1
                if self.get(i) in "-+":
                    i = i + 1
                if _is_digit(self.get(i)):
                    i = self.take_digits(_is_digit, False, i)
                else:
                    raise OracleError("missing exponent digits in scientific literal")
        return self.mk_node_token(start, i, "k")

    def number_aux(self, start: int) -> int:
        # def numberFnAux : ParserFn
        curr = self.input[start]
        if curr == "0":
            i = start + 1
            curr = self.get(i)
            if curr in "bB":
                return self.mk_node_token(
                    start, self.take_digits(lambda c: c in "01", True, i + 1), "k"
                )
            if curr in "oO":
                j = self.take_digits(lambda c: "0" <= c <= "7", True, i + 1)
                return self.mk_node_token(start, j, "k")
            if curr in "xX":
                j = self.take_digits(lambda c: c in "0123456789abcdefABCDEF", True, i + 1)
                return self.mk_node_token(start, j, "k")
            return self.decimal_number(start, i)
        return self.decimal_number(start, start + 1)

    def is_id_cont(self, i: int) -> bool:
        # def isIdCont : String → ParserState → Bool
        if self.get(i) == ".":
            i = i + 1
            if self.at_end(i):
                return False
            curr = self.input[i]
            return is_id_first(curr) or curr == "«"
        return False

    def match_prefix(self, i: int) -> str | None:
        # c.tokens.matchPrefix input i: the longest token that starts at i
        best = None
        for tk in self.tokens:
            if self.input.startswith(tk, i) and (best is None or len(tk) > len(best)):
                best = tk
        return best

    def mk_token_and_fix_pos(self, start: int, tk: str | None) -> tuple[int, str]:
        if tk is None:
            raise OracleError("expected token")
        return start + len(tk), tk

    def ident_aux(self, start: int, tk: str | None, i: int) -> tuple[int, str | None]:
        # partial def identFnAux (startPos : String.Pos) (tk : Option Token) (r : Name)
        # Returns the end and the atom's text (None for an identifier).
        while True:
            if self.at_end(i):
                raise OracleError("eoi")
            curr = self.input[i]
            if curr == "«":  # isIdBeginEscape curr
                j = self.take_until(lambda c: c == "»", i + 1)
                if self.at_end(j):
                    raise OracleError("unterminated identifier escape")
                i = j + 1
            elif is_id_first(curr):
                i = self.take_until(lambda c: not is_id_rest(c), i + 1)
            else:
                return self.mk_token_and_fix_pos(start, tk)
            if self.is_id_cont(i):
                i = i + 1
                continue
            # mkIdResult: isToken — `tk.endPos ≥ idStopPos - idStartPos`
            if tk is not None and len(tk) >= i - start:
                return self.mk_token_and_fix_pos(start, tk)
            return i, None

    def token(self, i: int) -> tuple[int, str | None, str | None]:
        """private def tokenFnAux: (end after trailing whitespace, atom or None, the text of an
        identifier or atom, None for a literal)."""
        curr = self.get(i)
        if curr == '"':
            return self.str_lit_aux(i, i + 1), None, None
        if curr == "'" and self.get_next(i) != "'":
            return self.char_lit_aux(i, i + 1), None, None
        if _is_digit(curr):
            return self.number_aux(i), None, None
        if curr == "`" and (is_id_first(self.get_next(i)) or self.get_next(i) == "«"):
            end, _ = self.ident_aux(i, None, i + 1)  # nameLitAux
            return self.mk_node_token(i, end, "k"), None, None
        if curr == "r" and self.is_raw_str_lit_start(i + 1):
            return self.raw_str_lit_aux(i, i + 1), None, None
        end, atom = self.ident_aux(i, self.match_prefix(i), i)
        self.mark(i, end, "k")
        return self.whitespace(end), atom, self.input[i:end]

    # --- StrInterpolation.lean ----------------------------------------------------------------

    def interpolated_str(self, i: int) -> int:
        # partial def interpolatedStrFn (p : ParserFn) : ParserFn
        start = i
        i = i + 1  # let s := s.next input startPos
        while True:
            if self.at_end(i):
                raise OracleError("unterminated string literal")
            curr = self.input[i]
            i = i + 1
            if curr == '"':
                return self.mk_node_token(start, i, "s")
            if curr == "\\":
                i = self.quoted_char_core(is_quotable_char_for_str_interpolant, True, i)
            elif curr == "{":
                i = self.mk_node_token(start, i, "s")
                i = self.items(i, stop_at_brace=True)  # let s := p c s
                if self.get(i) == "}":
                    start, i = i, i + 1  # parse i c (s.setPos (input.next i))
                else:
                    raise OracleError("'}'")

    # --- the driver -----------------------------------------------------------------------------

    def items(self, i: int, *, stop_at_brace: bool) -> int:
        depth = 0
        while not self.at_end(i):
            if stop_at_brace and depth == 0 and self.input[i] == "}":
                return i
            start = i
            i, atom, word = self.token(i)
            if atom == "{":
                depth += 1
            elif atom == "}":
                depth -= 1
            if atom in DOC_TOKENS:
                # docComment := "/--" >> ppSpace >> commentBody; commentBody is
                # rawFn (finishCommentBlock 1) (trailingWs := true)
                end = self.finish_comment_block(1, i)
                self.mark(start, end, "c")
                i = self.whitespace(end)
            elif word in self.interpolation and self.get(i) == '"':
                i = self.interpolated_str(i)
        if stop_at_brace:
            raise OracleError("unterminated interpolation")
        return i

    def classes(self) -> str:
        self.items(self.whitespace(0), stop_at_brace=False)
        return "".join(self.cls)


def lean_classes(text: str, tokens: Iterable[str], interpolation: Iterable[str] = ("s!",)) -> str:
    return Oracle(text, tokens, interpolation).classes()


# ================================================================================================
# Tests: the scanner's comment / string / code boundaries against the oracle.
# ================================================================================================

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from leanloop.source.scanner import (  # noqa: E402
    SYMBOL_TOKENS,
    TokenKind,
    UnterminatedError,
    ambiguities,
    tokenize,
)

# The table the oracle runs with: the scanner's multi-character symbols, every ASCII punctuation
# character on its own (Lean has most of them as tokens; the rest would be a parse error, which
# does not matter here) and the interpolation token `s!`.
BASE_TABLE = frozenset(SYMBOL_TOKENS) | frozenset("!{}()-/\\'`#.,:+*<>=|[]@$%&^~;?") | {"s!"}


def scanner_classes(text: str) -> str:
    cls = ["w"] * len(text)
    for t in tokenize(text):
        c = "c" if not t.is_code else "s" if t.kind in (TokenKind.STRING, TokenKind.CHAR) else "k"
        cls[t.start : t.end] = c * (t.end - t.start)
    return "".join(cls)


def agree(text: str) -> None:
    """Where Lean lexes ``text`` without error, the scanner reads the same boundaries; where the
    scanner refuses the text, so does Lean."""
    try:
        want = lean_classes(text, BASE_TABLE)
    except OracleError:
        want = None
    try:
        got = scanner_classes(text)
    except UnterminatedError:
        assert want is None, f"scanner refused text Lean lexes: {text!r}"
        return
    if want is not None:
        assert got == want, f"{text!r}\nscanner {got}\nlean    {want}"


# Hand-written cases: each pins one rule of Basic.lean. A case is the text cut into pieces, each
# with its class (c comment, s string, k code, w whitespace), so the oracle is checked too.
C, S, K, W = "c", "s", "k", "w"
RULES: list[list[tuple[str, str]]] = [
    # whitespace: after `/-` Lean steps over one character unseen (`s.next input i`)
    [(C, "/-/- -/"), (W, " "), (K, "x")],
    [(C, "/-/ -/"), (W, " "), (K, "x")],
    # tokenFnAux tests for a name literal before a raw string: `` `r"" `` is `r then ""
    [(K, "`r"), (S, '""')],
    [(K, "`r"), (S, '"x"'), (W, " "), (S, 'r"y"')],
    # doc comments: the token `/--`, then whitespace, then the body from finishCommentBlock
    [(C, "/--/ -/"), (K, "x")],
    [(C, "/---/"), (W, " "), (K, "x")],
    [(C, "/-!-/"), (W, " "), (K, "x")],
    [(C, "/-- -/"), (K, "-/")],
    [(C, "/-- /-/- -/ -/"), (W, " "), (K, "x"), (W, " "), (K, "-/"), (W, " "), (K, "-/")],
    [(C, "/-- -- -/\nx -/"), (W, " "), (K, "y")],
    # finishCommentBlock nests on `/-`, each `-/` closes one level
    [(C, "/- /- -/ -/"), (W, " "), (K, "x")],
    [(C, "/- /-/ -/ -/"), (W, " "), (K, "x")],
    [(C, "/- --/"), (W, " "), (K, "x")],
    # line comments end before the newline
    [(K, "x"), (W, " "), (C, "-- y"), (W, "\n"), (K, "z")],
    # strings: escapes of quotedCharCoreFn, gaps
    [(S, '"a\\"b"'), (W, " "), (K, "x")],
    [(S, '"a\\\n   b"'), (W, " "), (K, "x")],
    [(S, '"\\x41\\u0042"'), (W, " "), (K, "x")],
    # characters: one character or an escape; `''` is never a character literal
    [(S, "'\\''"), (W, " "), (K, "x")],
    [(S, "'\"'"), (W, " "), (S, '"x"')],
    [(S, "'\n'"), (W, " "), (K, "x")],
    [(K, "''"), (S, '"x"')],
    # raw strings: the first `"` followed by as many `#`
    [(S, 'r#"a"b"#'), (W, " "), (K, "x")],
    [(S, 'r"a"'), (W, " "), (K, "x")],
    [(S, 'r##"a"#"##'), (W, " "), (K, "x")],
    [(S, 'r#"a"#'), (K, "#")],
    # interpolation: `{…}` is code, strings nest, a comment may run inside
    [
        (K, "s!"),
        (S, '"{'),
        (K, "s!"),
        (S, '"{'),
        (K, "x"),
        (S, '}"'),
        (S, '}"'),
        (W, " "),
        (K, "y"),
    ],
    [(K, "s!"), (S, '"a\\{b"'), (W, " "), (K, "x")],
    [
        (K, "s!"),
        (S, '"{'),
        (K, "x"),
        (W, " "),
        (C, "-- c}"),
        (W, "\n"),
        (S, '}"'),
        (W, " "),
        (K, "y"),
    ],
    # identifiers: `«…»` may hold anything but `»`
    [(K, "«a -- b»"), (W, " "), (K, "x")],
    [(K, "`«a -/ b»"), (W, " "), (K, "x")],
    [(K, "x.«y /- z».w"), (W, " "), (C, "-- c")],
    # symbols by longest match: `//` and `\/` are tokens, so `--` after them is a comment
    [(K, "x"), (W, " "), (K, "//"), (C, "-- y")],
    [(K, "a"), (W, " "), (K, "\\/"), (C, "-- b")],
    [(K, "a"), (W, " "), (K, "<--"), (W, " "), (K, "b")],
    # numbers: `2.` takes its dot; hex digits
    [(K, "2."), (C, "-- c")],
    [(K, "0x1F"), (C, "--c")],
]


def _rule_id(case: list[tuple[str, str]]) -> str:
    return "".join(piece for _, piece in case)


@pytest.mark.parametrize("case", RULES, ids=[_rule_id(c) for c in RULES])
def test_rule_in_lean_and_in_the_scanner(case: list[tuple[str, str]]) -> None:
    text = "".join(piece for _, piece in case)
    want = "".join(cls * len(piece) for cls, piece in case)
    assert lean_classes(text, BASE_TABLE) == want, "the oracle misreads Basic.lean"
    assert scanner_classes(text) == want


@pytest.mark.parametrize(
    "text",
    [
        "/-/- -/ set_option debug.skipKernelTC true in\ntheorem x : False := sorry",
        "/-- /-/- -/ -/\nset_option debug.skipKernelTC true in -/ -/",
        "x //-- y\n#exit",
        "a \\/-- b\n#exit",
        '"\\{"',
        '"a\\qb"',
        '"a\\\n\n b"',
        "'ab'",
        "'\\x4'",
        "/-",
        "/-/",
        "/--",
        "/--/",
        '"',
        's!"{',
        "«a",
        'r#"a"',
    ],
)
def test_lean_and_the_scanner_agree_on_examples(text: str) -> None:
    agree(text)


@pytest.mark.parametrize("text", ["/-", "/-x", "/-/", "/--/", '"abc', "'", 's!"{x', "«a"])
def test_both_refuse_what_never_ends(text: str) -> None:
    with pytest.raises(OracleError):
        lean_classes(text, BASE_TABLE)
    if text != "'":  # a lone `'` is a parse error in Lean; the scanner reads a symbol
        with pytest.raises(UnterminatedError):
            tokenize(text)


@pytest.mark.parametrize("text", ['"a\\qb"', '"\\x4g"', '"a\\\n\n b"', '"\\ \n"'])
def test_an_invalid_escape_is_refused_as_lean_refuses_it(text: str) -> None:
    with pytest.raises(OracleError):
        lean_classes(text, BASE_TABLE)
    with pytest.raises(UnterminatedError):
        tokenize(text)


ALPHABET = "/-!\"'\\{} \n\n  nrsx#«»`0.e()"
lean_text = st.text(alphabet=ALPHABET, max_size=24)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lean_text)
def test_scanner_agrees_with_lean_on_generated_text(text: str) -> None:
    agree(text)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lean_text, min_size=1, max_size=4))
def test_scanner_agrees_with_lean_on_generated_lines(lines: list[str]) -> None:
    agree("\n".join(lines))


# Text for the table experiments: a few more symbol characters, so that tokens can form.
table_text = st.text(alphabet=ALPHABET + "+*'\"sx", max_size=30)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_text, st.data())
def test_without_ambiguities_no_token_table_moves_a_boundary(
    text: str, data: st.DataObject
) -> None:
    """The promise of `ambiguities`: when it lists nothing, Lean reads the same comments,
    strings and code whatever tokens notation adds (here: pieces of the text itself, the tokens
    most likely to matter), without the Mathlib tokens, and whatever other syntax reads strings
    as interpolated."""
    try:
        base = lean_classes(text, BASE_TABLE)
        found = ambiguities(text)
    except (OracleError, UnterminatedError):
        return
    if found:
        return
    pieces = sorted(
        piece
        for piece in {text[i : i + k] for k in (2, 3, 4) for i in range(len(text) - k + 1)}
        if " " not in piece and "\n" not in piece
    )
    extra = data.draw(st.lists(st.sampled_from(pieces), max_size=3)) if pieces else []
    word = data.draw(st.sampled_from([p for p in pieces if p.endswith("!")] + ["n", "x", "s!"]))
    for table, interpolation in (
        (BASE_TABLE | set(extra), ("s!",)),
        (BASE_TABLE - {"''", "//", "\\/", "<-", "..."}, ("s!",)),
        (BASE_TABLE | {word}, ("s!", word)),
    ):
        try:
            other = lean_classes(text, table, interpolation)
        except OracleError:
            continue  # Lean would refuse the text outright
        assert other == base, f"{text!r} with {sorted(set(table) ^ BASE_TABLE)}: {other} {base}"
