"""The declarations of one Lean file, read with the project's scanner, as premise records.

`LeanDocument` reads a file for proving: every command, every `sorry`, the category of every
hole. Indexing Mathlib needs much less (each declaration's name, statement and docstring) and
must read 100 MB in a minute and a half, so this module splits the scanner's tokens into commands
with the same layout rule as `leanloop.source.document` (a command keyword first on its line, no
deeper than the command before it) and reads only the heads of declarations. A misread head
costs a search hit, never a proof: nothing here is used by the gate."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from leanloop.premises.terms import TermCache, Terms, declaration_terms
from leanloop.source import Token, TokenKind, UnterminatedError, tokenize
from leanloop.source.document import (
    COMMAND_KEYWORDS,
    COMMAND_PREFIXES,
    DECL_KINDS,
    FLAT_COMMANDS,
    IN_PREFIXES,
    MODIFIERS,
)
from leanloop.source.scanner import column_of

# What a premise can be: `example`s have no name, an unnamed `instance` cannot be referred to.
_KINDS = DECL_KINDS - {"example"}
_SIGNATURE_CHARS = 2000  # a statement longer than this is cut for display (never for search)
_DOC_CHARS = 2000
_OPEN = frozenset(["(", "[", "{", "⟨", "⦃", "@["])
_CLOSE = frozenset([")", "]", "}", "⟩", "⦄"])
_LOCAL_BINDERS = frozenset({"let", "have", "haveI", "letI", "let_fun", "let_delayed"})
_ALT_OWNERS = frozenset({"match", "fun", "λ", "nomatch", "nofun", "intro", "with"})


@dataclass(frozen=True, slots=True)
class Extracted:
    """One declaration as the index stores it."""

    full_name: str
    kind: str
    signature: str  # the statement as written: binders and type, whitespace collapsed
    docstring: str
    line: int  # of the declaration's keyword, 1-based
    private: bool
    terms: Terms


def extract_declarations(text: str) -> list[Extracted]:
    """Every named declaration of ``text``. A file the scanner cannot read (an unterminated
    comment) gives nothing: Lean would not compile it either."""
    try:
        tokens = [t for t in tokenize(text) if t.kind is not TokenKind.COMMENT]
    except UnterminatedError:
        return []
    out: list[Extracted] = []
    scopes: list[tuple[str, str]] = []  # (namespace | section | mutual, name)
    starts = _command_starts(text, tokens)
    cache = TermCache()
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(tokens)
        _read_command(text, tokens, start, end, scopes, out, cache)
    return out


# The first character of each line after spaces: the only places a command can start (the
# layout rule of `leanloop.source.document`: a command keyword first on its line).
_LINE_START = re.compile(r"^[ \t\r]*(?=[^ \t\r\n])", re.MULTILINE)


def _command_starts(text: str, tokens: list[Token]) -> list[int]:
    """The index of each command's first token (comments are not in ``tokens``): a command
    keyword (or `#cmd`, or a doc comment) first on its line and no deeper than the current
    command (at any column after a `namespace`, `section`, `open`, … that holds none),
    unless that command is still only a doc comment, attributes and modifiers, or ends in
    `in` (`open Foo in`)."""
    if not tokens:
        return []
    offsets = [t.start for t in tokens]
    starts = [0]
    cur_col = column_of(text, tokens[0].start)
    settled = False  # the current command is known to be more than a prefix
    for m in _LINE_START.finditer(text):
        pos = m.end()
        i = bisect.bisect_left(offsets, pos)
        if i >= len(tokens) or offsets[i] != pos or i == starts[-1]:
            continue  # inside a comment or string, or not a token start
        tok = tokens[i]
        x = tok.text
        if not (
            tok.kind is TokenKind.DOC_COMMENT
            or (
                (tok.kind is TokenKind.IDENT or tok.kind is TokenKind.SYMBOL)
                and (x in COMMAND_KEYWORDS or x.startswith(COMMAND_PREFIXES))
            )
        ):
            continue
        col = pos - m.start()
        if col > cur_col:
            head = _skip_in_prefixes(tokens, starts[-1], i)
            if head >= i or tokens[head].text not in FLAT_COMMANDS:
                continue  # a `namespace`, `section`, … holds no declaration: split at any column
        if not settled:
            # `open Foo in` and a doc comment, attributes, modifiers: still one command.
            settled = not _prefix_only(tokens, _skip_in_prefixes(tokens, starts[-1], i), i)
            if not settled:
                continue
        starts.append(i)
        cur_col, settled = col, False
    return starts


def _prefix_only(tokens: list[Token], start: int, end: int) -> bool:
    """Whether ``tokens[start:end]`` is a doc comment, attributes and modifiers only: the
    declaration they belong to is still to come."""
    attr = 0
    for k in range(start, end):
        t = tokens[k]
        x = t.text
        if t.kind is TokenKind.DOC_COMMENT:
            continue
        if x == "@[":
            attr += 1
        elif attr:
            attr -= x == "]"
        elif x not in MODIFIERS:
            return False
    return True


def _skip_in_prefixes(tokens: list[Token], i: int, end: int) -> int:
    """The index after leading `open X in` / `set_option o v in` prefixes."""
    while i < end and tokens[i].text in IN_PREFIXES:
        depth = 0
        j = i + 1
        while j < end:
            t = tokens[j].text
            if t in _OPEN:
                depth += 1
            elif t in _CLOSE:
                depth = max(depth - 1, 0)
            elif depth == 0 and t == "in":
                break
            elif depth == 0 and (t in DECL_KINDS or t == "@["):
                return i
            j += 1
        if j >= end:
            return i
        i = j + 1
    return i


def _read_command(
    text: str,
    tokens: list[Token],
    start: int,
    end: int,
    scopes: list[tuple[str, str]],
    out: list[Extracted],
    cache: TermCache,
) -> None:
    first = _skip_in_prefixes(tokens, start, end)
    depth = 0
    ki: int | None = None
    private = False
    docstring = ""
    for i in range(first, end):
        t = tokens[i]
        if t.kind is TokenKind.DOC_COMMENT:
            if t.text.startswith("/--") and not docstring:
                docstring = " ".join(t.text[3:].removesuffix("-/").split())
            continue
        if t.text == "@[":
            depth += 1
        elif depth and t.text == "]":
            depth -= 1
        elif depth:
            continue
        elif t.text in MODIFIERS:
            private = private or t.text == "private"
        else:
            ki = i
            break
    if ki is None:
        return
    keyword = tokens[ki]
    kw = keyword.text
    nxt = ki + 1
    while nxt < end and tokens[nxt].kind is TokenKind.DOC_COMMENT:
        nxt += 1
    after = tokens[nxt] if nxt < end else None
    if kw == "namespace":
        if after is not None:
            scopes.append(("namespace", after.text))
        return
    if kw in ("section", "mutual"):
        same_line = after is not None and "\n" not in text[keyword.end : after.start]
        name = after.text if kw == "section" and same_line and after is not None else ""
        scopes.append((kw, name))
        return
    if kw == "end":
        if scopes:
            scopes.pop()
        return
    if kw not in _KINDS or after is None:
        return
    name_at = _name_index(kw, tokens, nxt, end)
    if name_at is None:
        return
    name = tokens[name_at].text
    namespace = ".".join(n for k, n in scopes if k == "namespace" and n)
    if name.startswith("_root_."):
        full = name[len("_root_.") :]
    else:
        full = f"{namespace}.{name}" if namespace else name
    stop = _statement_end(tokens, name_at + 1, end)
    sig_tokens = [t for t in tokens[name_at + 1 : stop] if t.kind is not TokenKind.DOC_COMMENT]
    sig_start = tokens[name_at].end
    if stop < end:
        sig_end = tokens[stop].start
    else:
        sig_end = tokens[end - 1].end
        if kw in ("structure", "class", "inductive"):
            newline = text.find("\n", sig_start, sig_end)
            sig_end = sig_end if newline < 0 else newline
    signature = " ".join(text[sig_start:sig_end].split())
    out.append(
        Extracted(
            full_name=full.replace("«", "").replace("»", ""),
            kind=kw,
            signature=signature[:_SIGNATURE_CHARS],
            docstring=docstring[:_DOC_CHARS],
            line=text.count("\n", 0, keyword.start) + 1,
            private=private,
            terms=declaration_terms(full, sig_tokens, docstring, cache),
        )
    )


def _name_index(kw: str, tokens: list[Token], i: int, end: int) -> int | None:
    """Where the declared name is after the keyword (at ``i``); None if it has none."""
    if kw != "instance":
        return i if tokens[i].kind is TokenKind.IDENT else None
    if tokens[i].text == "(":  # `instance (priority := low) name : …`
        depth = 0
        while i < end:
            depth += tokens[i].text in _OPEN
            depth -= tokens[i].text in _CLOSE
            i += 1
            if depth == 0:
                break
    if (
        i + 1 < end
        and tokens[i].kind is TokenKind.IDENT
        and tokens[i + 1].text in (":", "(", "{", "[", "⦃")
    ):
        return i
    return None


def _statement_end(tokens: list[Token], i: int, end: int) -> int:
    """The index of the token that ends the statement: its `:=`, the `|` of its first
    pattern-matching arm, or `where` (Lean's `declSig` then `declVal`; a `let`'s `:=` and the
    `|` of a `match` in the type belong to the statement)."""
    depth = 0
    pending = 0
    alt_owner = False
    for k in range(i, end):
        t = tokens[k]
        x = t.text
        if x in _OPEN:
            depth += 1
        elif x in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth:
            continue
        elif x in _LOCAL_BINDERS:
            pending += 1
        elif x == ":=":
            if pending:
                pending -= 1
                continue
            return k
        elif x in _ALT_OWNERS:
            alt_owner = True
        elif (x == "|" and not alt_owner and _arm_follows(tokens, k + 1, end)) or (
            x in ("where", "extends") and t.kind is TokenKind.IDENT
        ):
            return k
    return end


def _arm_follows(tokens: list[Token], i: int, end: int) -> bool:
    depth = 0
    while i < end:
        x = tokens[i].text
        if x in _OPEN:
            depth += 1
        elif x in _CLOSE:
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0 and x == "=>":
            return True
        elif depth == 0 and x in ("|", ":="):
            return False
        i += 1
    return False
