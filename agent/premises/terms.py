"""The words a declaration is found by: name parts, statement tokens and statement shapes.

One function turns a declaration and one turns a query into terms, so that both sides read Lean
text the same way: with the project's own scanner (`leanloop.source`).

* **Name parts.** `Nat.add_comm` gives `nat`, `add`, `comm` and the whole `add_comm`; camel case
  is split too (`foldlM` gives `foldl` and `m`).
* **Statement tokens.** The constants and operators of the statement (`Nat`, `List.map`, `+`,
  `≤`), each a term.
* **Statement shapes.** Variables carry no meaning in their names (`a + b = b + a` is
  `n + m = m + n`), so in the statement's conclusion each variable becomes a placeholder
  numbered by first appearance, and runs of two and three tokens of that stream are terms:
  `?1 + ?2 = ?2 + ?1` matches however the variables are called.

Terms are stored for SQLite's FTS5, whose tokenizer splits on anything but letters and digits:
words are kept readable (`wadd`), everything else is hashed (`s` and 12 hex digits)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from leanloop.source import Token, TokenKind

# Tokens that only group or separate: they say nothing about what a statement is about.
_PUNCTUATION = frozenset("( ) [ ] { } ⦃ ⦄ ⟨ ⟩ , : @[ @ .".split())
_BINDERS = frozenset({"∀", "∃", "∃!", "Π", "Σ", "fun", "λ", "forall", "exists"})
# Mathlib's notation for the number systems is a name of one letter, and no variable.
_NUMBER_SETS = frozenset("ℕ ℤ ℚ ℝ ℂ".split())
_SUBSCRIPTS_PRIMES = re.compile(r"[0-9'₀-₉ᵢ-ᵪₐ-ₜ!?]+$")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W\d_]+", re.UNICODE)
_WORD = re.compile(r"[a-z0-9]+")
_DOC_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an and are as at be by for from if in is it its of on or that the then this to with
    we which when where whose there these those such any all every some not no can
    may must has have""".split()
)


def _is_variable(name: str, bound: frozenset[str]) -> bool:
    """A name that stands for something the statement quantifies over: bound in its binders,
    or short (`a`, `x₁`, `hab`, `α'`) with no namespace."""
    if name in bound:
        return True
    if "." in name or name in _NUMBER_SETS:
        return False
    stem = _SUBSCRIPTS_PRIMES.sub("", name)
    return len(stem) <= 2


def name_words(name: str) -> list[str]:
    """The searchable parts of a (possibly dotted) Lean name, lowercased."""
    out: list[str] = []
    for component in name.replace("«", "").replace("»", "").split("."):
        pieces = [p for p in component.split("_") if p]
        parts = [w.lower() for p in pieces for w in _CAMEL.findall(p)]
        out.extend(parts)
        whole = component.lower()
        if len(parts) > 1 and whole not in out:
            out.append(whole)
    return [w for w in out if w]


def doc_words(text: str) -> list[str]:
    return [
        w
        for w in (m.group().lower() for m in _DOC_WORD.finditer(text))
        if len(w) > 1 and w not in _STOPWORDS
    ]


def encode(term: str) -> str:
    """A term as one FTS5 token: readable for plain words, a hash for everything else."""
    if _WORD.fullmatch(term):
        return "w" + term
    return "s" + hashlib.blake2b(term.encode("utf-8"), digest_size=6).hexdigest()


class TermCache:
    """Memoised `encode` and `name_words` for one run over a file: its names and symbols
    repeat from one declaration to the next."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}
        self._words: dict[str, list[str]] = {}

    def encode(self, term: str) -> str:
        code = self._codes.get(term)
        if code is None:
            code = self._codes[term] = encode(term)
        return code

    def name_words(self, name: str) -> list[str]:
        words = self._words.get(name)
        if words is None:
            words = self._words[name] = name_words(name)
        return words


@dataclass(frozen=True, slots=True)
class Terms:
    name: list[str]
    statement: list[str]
    doc: list[str]


_OPENERS = frozenset({"(", "{", "[", "⦃", "⟨"})
_CLOSERS = frozenset({")", "}", "]", "⦄", "⟩"})


def _binder_names(tokens: list[Token]) -> frozenset[str]:
    """Names bound by the signature's binders (`(a b : T)`, `{α}`, `[inst : C]`, `⦃x⦄`) and by
    `∀ x y,`, `∃ x,`, `fun x =>` in it. An anonymous instance `[Group G]` binds nothing."""
    names: set[str] = set()
    depth = 0
    opener = ""
    in_type = False
    group: list[str] = []
    after_binder = False
    for t in tokens:
        text = t.text
        if text in _OPENERS:
            depth += 1
            if depth == 1:
                opener, group, in_type = text, [], False
            continue
        if text in _CLOSERS:
            if depth == 1 and not in_type and opener != "[":
                names.update(group)
            depth = max(depth - 1, 0)
            continue
        if depth == 1 and not in_type:
            if text == ":":
                names.update(group)
                in_type = True
            elif t.kind is TokenKind.IDENT:
                group.append(text)
            continue
        if text in _BINDERS:
            after_binder = True
        elif after_binder and t.kind is TokenKind.IDENT:
            names.add(text)
        else:
            after_binder = False
    return frozenset(names)


def _conclusion(tokens: list[Token]) -> list[Token]:
    """The statement after its binders: after the last `:` outside brackets, then after any
    leading `∀ …,` / `∃ …,`."""
    depth = 0
    start = 0
    for i, t in enumerate(tokens):
        if t.text in _OPENERS or t.text == "@[":
            depth += 1
        elif t.text in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and t.text == ":":
            start = i + 1
    rest = tokens[start:]
    while rest and rest[0].text in _BINDERS:
        depth = 0
        for j, t in enumerate(rest):
            if t.text in _OPENERS:
                depth += 1
            elif t.text in _CLOSERS:
                depth = max(depth - 1, 0)
            elif depth == 0 and t.text in (",", "=>"):
                rest = rest[j + 1 :]
                break
        else:
            break
    return rest


def statement_terms(
    tokens: list[Token], bound: frozenset[str] | None = None, cache: TermCache | None = None
) -> list[str]:
    """Unigrams of constants and operators, and two- and three-token shapes of the
    conclusion with variables numbered by first appearance."""
    if bound is None:
        bound = _binder_names(tokens)
    words = cache.name_words if cache is not None else name_words
    terms: list[str] = []
    for t in tokens:
        if not t.is_code or t.text in _PUNCTUATION:
            continue
        if t.kind is TokenKind.IDENT:
            if _is_variable(t.text, bound):
                continue
            terms.extend(words(t.text))
            terms.append(t.text.lower())
        elif t.kind in (TokenKind.SYMBOL, TokenKind.NUMBER):
            terms.append(t.text)
    numbering: dict[str, str] = {}
    stream: list[str] = []
    for t in _conclusion(tokens):
        if not t.is_code or t.text in _PUNCTUATION:
            continue
        if t.kind is TokenKind.IDENT and _is_variable(t.text, bound):
            stream.append(numbering.setdefault(t.text, f"?{len(numbering) + 1}"))
        elif t.kind in (TokenKind.STRING, TokenKind.CHAR):
            stream.append('"')
        else:
            stream.append(t.text)
    for n in (2, 3):
        terms.extend(" ".join(stream[i : i + n]) for i in range(len(stream) - n + 1))
    return terms


def declaration_terms(
    full_name: str, signature: list[Token], docstring: str, cache: TermCache | None = None
) -> Terms:
    cache = cache or TermCache()
    code = cache.encode
    return Terms(
        name=[code(w) for w in cache.name_words(full_name)],
        statement=[code(t) for t in statement_terms(signature, cache=cache)],
        doc=[code(w) for w in doc_words(docstring)],
    )


def query_terms(tokens: list[Token]) -> tuple[list[str], list[str]]:
    """A query's terms, encoded: (the parts of every name in it, the other statement terms of
    the query read as a statement, with no binders: short names are variables)."""
    words: dict[str, None] = {}
    for t in tokens:
        if t.kind is TokenKind.IDENT:
            for w in name_words(t.text):
                if len(w) > 1 or len(tokens) == 1:
                    words.setdefault(encode(w), None)
    rest: dict[str, None] = {}
    for term in statement_terms(tokens, frozenset()):
        code = encode(term)
        if code not in words:
            rest.setdefault(code, None)
    return list(words), list(rest)
