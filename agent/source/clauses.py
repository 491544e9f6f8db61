"""The shape of a proof: its body, then the clauses Lean accepts only after a declaration's body.

src/Lean/Parser/Command.lean: `declValSimple := " :=" declBody Termination.suffix
(optional Term.whereDecls)` and `declValEqns := Term.matchAltsWhereDecls`, where
`matchAltsWhereDecls := matchAlts Termination.suffix (optional whereDecls)`. In
src/Lean/Parser/Term.lean, `Termination.suffix := optional (terminationBy? <|> terminationBy)
>> optional decreasingBy`, `terminationBy := "termination_by " optional "structural "
(optional (atomic (many binderIdent >> " => "))) termParser`, `decreasingBy := "decreasing_by "
Tactic.tacticSeqIndentGt`, and `whereDecls := "where" sepBy1Indent letRecDecl "; "`:
the helpers stand in a column of their own (`withPosition` at the first one; each next one on a
new line at exactly that column, `checkColEq`), each `letRecDecl := docComment? attributes?
letDecl Termination.suffix`.

The gate puts each free-form part of a proof inside parentheses that Lean must close where
leanloop put them (see :mod:`leanloop.source.probe`); this module finds those parts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leanloop.source.document import IN_PREFIXES, is_command_keyword
from leanloop.source.scanner import (
    Token,
    TokenKind,
    UnterminatedError,
    column_of,
    first_on_line,
    tokenize,
)

SUFFIX_KEYWORDS = frozenset({"termination_by", "termination_by?", "decreasing_by"})
CLAUSE_KEYWORDS = SUFFIX_KEYWORDS | {"where"}
_OPEN = frozenset(["(", "[", "{", "⟨", "⦃", "@["])
_CLOSE = frozenset([")", "]", "}", "⟩", "⦄"])
# Words that look like identifiers to the scanner but are keywords to Lean, so they are no
# `binderIdent` in `termination_by x y => …` (`fun x => e` is a term there).
_NOT_BINDERS = frozenset({"fun", "λ", "match", "let", "have", "show", "by", "if", "do"})


# Keywords that begin terms or tactics, never a helper's name.
_NOT_HELPERS = (
    _NOT_BINDERS
    | IN_PREFIXES
    | CLAUSE_KEYWORDS
    | {"at", "in", "with", "then", "else", "from", "calc"}
)


class ShapeError(ValueError):
    """A proof whose clauses Lean would not read as leanloop does. ``str(e)`` is one sentence
    for the person and the model."""


@dataclass(frozen=True, slots=True)
class Clause:
    keyword: Token
    content: tuple[int, int] | None  # first content token's start, last code token's end
    binders: tuple[str, ...] = ()  # `termination_by x y => …`: the names, left outside


@dataclass(frozen=True, slots=True)
class Helper:
    start: int  # its first token: a doc comment or its name
    end: int  # end of its last code token


@dataclass(frozen=True, slots=True)
class Shape:
    """Offsets are into the text given to :func:`shape`."""

    main: tuple[int, int]  # the body: first token's start, last code token's end
    arms: bool  # the body is pattern-matching alternatives `| … => …`
    termination: Clause | None = None
    decreasing: Clause | None = None
    where: Token | None = None
    helpers: tuple[Helper, ...] = ()
    helper_column: int | None = None

    @property
    def has_clauses(self) -> bool:
        return self.termination is not None or self.decreasing is not None or bool(self.where)

    @property
    def suffix(self) -> tuple[Clause, ...]:
        return tuple(c for c in (self.termination, self.decreasing) if c is not None)


_CLAUSE_LINE = re.compile(r"(?:termination_by\??|decreasing_by|where)(?![A-Za-z0-9_'!?])")


def starts_clause(line: str) -> bool:
    """Whether ``line`` (without its indentation) starts with a clause keyword."""
    return _CLAUSE_LINE.match(line) is not None


def _tokens(text: str, start: int, end: int) -> list[Token]:
    return [
        Token(t.kind, t.text, t.start + start, t.end + start)
        for t in tokenize(text[start:end])
        if t.kind is not TokenKind.COMMENT
    ]


def clause_keywords(tokens: list[Token]) -> list[int]:
    """Indices of the clause keywords that belong to the declaration itself: those outside
    brackets before the first `where`, and that `where`. (After `where`, `termination_by` and
    `decreasing_by` belong to the helpers.)"""
    found: list[int] = []
    depth = 0
    for i, t in enumerate(tokens):
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0 and t.kind is TokenKind.IDENT and t.text in CLAUSE_KEYWORDS:
            found.append(i)
            if t.text == "where":
                break
    return found


def clause_offsets(text: str) -> list[int]:
    """Where the declaration-level clauses of ``text`` start; empty when it cannot be read."""
    try:
        tokens = _tokens(text, 0, len(text))
    except UnterminatedError:
        return []
    return [tokens[i].start for i in clause_keywords(tokens)]


def shape(text: str, start: int = 0, end: int | None = None) -> Shape:
    """The shape of the proof ``text[start:end]``. Raises :class:`ShapeError` where Lean would
    end the declaration elsewhere than leanloop, or reject the clauses outright; and
    `UnterminatedError` where the text cannot be lexed."""
    end = len(text) if end is None else end
    tokens = _tokens(text, start, end)
    code = [t for t in tokens if t.kind is not TokenKind.DOC_COMMENT]
    if not code:
        raise ShapeError("The proof is empty.")
    _balanced(code)
    kws = clause_keywords(tokens)
    first_kw = tokens[kws[0]] if kws else None
    main = [t for t in code if first_kw is None or t.start < first_kw.start]
    if not main:
        assert first_kw is not None
        raise ShapeError(f"The proof has no body before its `{first_kw.text}`.")
    termination = decreasing = None
    where: Token | None = None
    seen: list[str] = []
    for n, k in enumerate(kws):
        kw = tokens[k]
        if kw.text == "where":
            where = kw
            break
        stop = tokens[kws[n + 1]].start if n + 1 < len(kws) else end
        content = [t for t in code if kw.end <= t.start < stop]
        name = "termination_by" if kw.text.startswith("termination_by") else kw.text
        if name in seen or (name == "termination_by" and "decreasing_by" in seen):
            raise ShapeError(
                f"The proof has `{kw.text}` after `{seen[-1]}`: a declaration takes at most one "
                "`termination_by`, then at most one `decreasing_by`, then `where`."
            )
        seen.append(name)
        if kw.text == "termination_by?":
            if content:
                raise ShapeError("`termination_by?` takes nothing after it.")
            termination = Clause(kw, None)
            continue
        binders: tuple[str, ...] = ()
        if kw.text == "termination_by":
            content, binders = _after_binders(content)
        if not content:
            raise ShapeError(f"The proof's `{kw.text}` has nothing after it.")
        clause = Clause(kw, (content[0].start, content[-1].end), binders)
        if name == "termination_by":
            termination = clause
        else:
            decreasing = clause
    helpers: tuple[Helper, ...] = ()
    column: int | None = None
    if where is not None:
        helpers, column = _helpers(text, tokens, where, end)
    return Shape(
        main=(main[0].start, main[-1].end),
        arms=main[0].text == "|",
        termination=termination,
        decreasing=decreasing,
        where=where,
        helpers=helpers,
        helper_column=column,
    )


_PAIRS = {")": "(", "]": "[", "}": "{", "⟩": "⟨", "⦄": "⦃"}


def _balanced(code: list[Token]) -> None:
    """A proof closes exactly the brackets it opens: the gate's own parentheses around it must
    be the ones Lean closes."""
    stack: list[str] = []
    for t in code:
        if t.text in _OPEN:
            stack.append("[" if t.text == "@[" else t.text)
        elif t.text in _PAIRS:
            if not stack or stack[-1] != _PAIRS[t.text]:
                raise ShapeError(f"The proof closes a `{t.text}` it did not open.")
            stack.pop()
    if stack:
        raise ShapeError(f"The proof leaves a `{stack[-1]}` open.")


def _after_binders(content: list[Token]) -> tuple[list[Token], tuple[str, ...]]:
    """`termination_by` content without `structural` and the `x y =>` binders: the term, and
    the binder names."""
    i = 0
    if content and content[0].text == "structural":
        i = 1
    j = i
    while j < len(content) and (
        content[j].text == "_"
        or (content[j].kind is TokenKind.IDENT and content[j].text not in _NOT_BINDERS)
    ):
        j += 1
    if j < len(content) and content[j].text == "=>":
        return content[j + 1 :], tuple(t.text for t in content[i:j])
    return content[i:], ()


def _helpers(
    text: str, tokens: list[Token], where: Token, end: int
) -> tuple[tuple[Helper, ...], int]:
    after = [t for t in tokens if t.start >= where.end]
    if not after:
        raise ShapeError("The proof's `where` has no helper after it.")
    column = column_of(text, after[0].start)
    starts: list[int] = [0]
    depth = 0
    for i, t in enumerate(after):
        if i and depth == 0 and first_on_line(text, t.start):
            col = column_of(text, t.start)
            if t.text in SUFFIX_KEYWORDS:
                pass  # a helper's own `termination_by`/`decreasing_by`, at any column
            elif col == column:
                if after[i - 1].kind is not TokenKind.DOC_COMMENT:  # else it is documented
                    starts.append(i)
            elif col < column:
                raise ShapeError(
                    f"A line of the proof's `where` block starts left of its first helper "
                    f"(column {column}), so Lean would end the declaration there."
                )
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth = max(depth - 1, 0)
    helpers: list[Helper] = []
    for n, s in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(after)
        part = after[s:stop]
        code = [t for t in part if t.kind is not TokenKind.DOC_COMMENT]
        if not code:
            raise ShapeError("A doc comment in the proof's `where` block documents no helper.")
        head = code[0]
        if (
            head.kind is not TokenKind.IDENT
            or head.text in _NOT_HELPERS
            or (is_command_keyword(head.text))
        ):
            # Lean reads a helper only from a name (`letIdDecl`); anything else ends the
            # `where` block there, and the rest of the line is read as a command.
            raise ShapeError(
                f"A line of the proof's `where` block starts with `{head.text}`, not with a "
                "helper's name, so Lean would end the declaration there."
            )
        helpers.append(Helper(part[0].start, code[-1].end))
    return tuple(helpers), column
