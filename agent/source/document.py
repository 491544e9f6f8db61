"""Declarations, namespaces and `sorry`s of a Lean file, found with the tokenizer."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property

from leanloop.source.scanner import Token, TokenKind, column_of, first_on_line, tokenize

# Tokens that may begin a top-level command. A token only starts a command when it is the first
# token on its line and no deeper than the command before it: Lean itself needs no such layout,
# but every proof body is indented past its declaration, so this separates bodies from commands.
MODIFIERS = frozenset(
    ["private", "protected", "noncomputable", "unsafe", "partial", "nonrec", "public", "meta"]
)
DECL_KINDS = frozenset(
    "theorem lemma def example instance abbrev structure inductive class axiom opaque".split()
)
COMMAND_KEYWORDS = (
    DECL_KINDS
    | MODIFIERS
    | frozenset(
        # Lean core (src/Lean/Parser/Command.lean and the elaborators that register commands)
        # and Mathlib/Batteries/Aesop commands. Families by prefix are in COMMAND_PREFIXES.
        """namespace section end open export variable universe import set_option attribute
        mutual macro macro_rules syntax elab elab_rules notation infix infixl infixr prefix
        postfix initialize deriving run_cmd run_elab run_meta local scoped @[ include omit
        seal unseal add_decl_doc simproc dsimproc simproc_decl dsimproc_decl grind_pattern
        module prelude alias irreducible_def proof_wanted assert_not_exists
        assert_not_imported notation3 library_note initialize_simps_projections
        suppress_compilation unsuppress_compilation compile_inductive compile_def
        mk_iff_of_inductive_prop add_aesop_rules erase_aesop_rules unif_hint recall
        binder_predicate opaque_repr coinductive partial_fixpoint open_locale
        elab_stx_quot extend_docs attribute_hint whatsnew""".split()
    )
)
# Every `register_*`, `builtin_*` and `declare_*` word is a command in Lean or Mathlib
# (register_simp_attr, builtin_initialize, declare_syntax_cat, declare_aesop_rule_sets, …).
COMMAND_PREFIXES = ("register_", "builtin_", "declare_")


def is_command_keyword(word: str) -> bool:
    return word in COMMAND_KEYWORDS or word.startswith(COMMAND_PREFIXES)


# Commands that take a following command with `… in` (the `in` combinator,
# src/Lean/Parser/Command.lean: `command " in " command`), and `#guard_msgs … in`, whose
# syntax ends in `" in" ppLine command` itself (src/Init/Notation.lean, `guardMsgsCmd`).
IN_PREFIXES = frozenset(
    "open set_option include omit variable universe attribute unseal seal local #guard_msgs".split()
)
PROOF_KINDS = frozenset({"theorem", "lemma", "example"})
# The words that leave a hole: the `sorry` term or tactic, and the `admit` tactic.
HOLE_WORDS = frozenset({"sorry", "admit"})
_OPEN = frozenset(["(", "[", "{", "⟨", "⦃", "@["])
_CLOSE = frozenset([")", "]", "}", "⟩", "⦄"])
_TACTIC_LEADERS = frozenset({"by", "·", ".", ";", "<;>"})
# Commands that hold no declaration (names, binders, options): a command keyword first on a
# later line starts the next command at any column, so that what is indented under
# `namespace`, `section` or `mutual` is seen declaration by declaration. The `… in` forms
# (`open X in`) continue into the command they prefix and are not among these.
FLAT_COMMANDS = frozenset(
    """namespace section end mutual universe import export open variable set_option include
    omit prelude module""".split()
)


@dataclass(frozen=True, slots=True)
class Declaration:
    kind: str
    name: str | None
    full_name: str | None
    start: int  # first token of the command (doc comment, attribute or modifier included)
    keyword: int  # offset of the `theorem`/`lemma`/… keyword
    name_start: int | None
    name_end: int | None
    assign: int | None  # offset of the `:=` that starts the body
    end: int  # end of the command's last code token
    sorries: tuple[int, ...]
    first_sorry_tactic: bool = False  # whether the first sorry stands where a tactic goes
    sorry_tactic: tuple[bool, ...] = ()  # for each sorry, whether it stands where a tactic goes
    arms: int | None = None  # offset of the first `|` of a definition by pattern matching
    # offset of the `where` that starts a structure instance as the value (`lemma x : A ∧ B
    # where left := …`, `instance : C where …`) or a structure's fields
    struct_where: int | None = None
    # `sorry`s in the statement (the binders and the type), which no proof can remove
    statement_sorries: tuple[int, ...] = ()
    # Where the declaration proper starts, after `open X in`-style prefixes (== start if none).
    prefix_end: int | None = None
    namespace: str = ""  # the enclosing namespaces, dotted
    # Constructs of the statement leanloop could not place with certainty (shown by `check`).
    unsure: tuple[str, ...] = ()

    @property
    def own_start(self) -> int:
        return self.prefix_end if self.prefix_end is not None else self.start

    @property
    def check_full_name(self) -> str | None:
        """The name Lean knows it by (`_root_`-free); None for an `example`."""
        return self.full_name

    @property
    def header_end(self) -> int | None:
        """Where the statement ends: at `:=`, at the first `|` of pattern-matching arms, or at
        the `where` of a structure instance."""
        if self.assign is not None:
            return self.assign
        return self.arms if self.arms is not None else self.struct_where

    @property
    def body_start(self) -> int | None:
        if self.assign is not None:
            return self.assign + 2
        return self.arms if self.arms is not None else self.struct_where

    @property
    def is_proof(self) -> bool:
        return self.kind in PROOF_KINDS


@dataclass(frozen=True, slots=True)
class Command:
    tokens: tuple[Token, ...]
    column: int

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        code = [t for t in self.tokens if t.kind is not TokenKind.DOC_COMMENT]
        return (code or list(self.tokens))[-1].end


_NEWLINE = re.compile("\n")


@dataclass
class LeanDocument:
    """A parsed view of one Lean source text. Offsets are code-point indices into ``text``."""

    text: str
    tokens: list[Token] = field(init=False)
    commands: list[Command] = field(init=False)
    declarations: list[Declaration] = field(init=False)
    imports: list[str] = field(init=False)
    header_end: int = field(init=False)  # offset just after the last `import` line

    def __post_init__(self) -> None:
        self.tokens = tokenize(self.text)
        own = own_commands(self.text, self.tokens)
        self.commands = _split_commands(self.text, self.tokens, own)
        self.imports, self.header_end = self._imports()
        self.declarations = _declarations(self.text, self.commands)

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(m.end() for m in _NEWLINE.finditer(self.text))]

    def position(self, offset: int) -> tuple[int, int]:
        """Lean's (1-based line, 0-based code-point column) of an offset."""
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line]

    def offset(self, line: int, column: int) -> int:
        """Inverse of :meth:`position`; clamps to the text."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        start = self._line_starts[line - 1]
        nxt = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return min(start + max(column, 0), nxt)

    def line_indent(self, offset: int) -> int:
        line, _ = self.position(offset)
        start = self._line_starts[line - 1]
        i = start
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i - start

    @property
    def proof_targets(self) -> list[Declaration]:
        """Theorems, lemmas and examples with holes in their body and none in their statement
        (no proof can remove a `sorry` from a statement)."""
        return [
            d for d in self.declarations if d.is_proof and d.sorries and not d.statement_sorries
        ]

    def declaration_at_line(self, line: int) -> int | None:
        """The index of the declaration whose lines hold ``line`` (1-based), if any."""
        for i, d in enumerate(self.declarations):
            if self.position(d.start)[0] <= line <= self.position(d.end)[0]:
                return i
        return None

    def find(self, name: str) -> list[Declaration]:
        """Declarations whose full name is ``name`` or ends with ``.name``."""
        return [
            d
            for d in self.declarations
            if d.full_name is not None
            and (d.full_name == name or d.full_name.endswith("." + name) or d.name == name)
        ]

    def _imports(self) -> tuple[list[str], int]:
        names: list[str] = []
        end = 0
        for cmd in self.commands:
            code = [t for t in cmd.tokens if t.is_code]
            if not code or code[0].text != "import":
                if code and code[0].text in ("module", "prelude"):
                    end = cmd.end
                    continue
                break
            names.extend(t.text for t in code[1:] if t.kind is TokenKind.IDENT)
            end = cmd.end
        return names, end


def _first_on_line(text: str, tok: Token) -> bool:
    return first_on_line(text, tok.start)


def _is_prefix_only(tokens: list[Token]) -> bool:
    """Whether a command so far is only a doc comment, attributes and modifiers."""
    depth = 0
    for t in tokens:
        if t.kind is TokenKind.DOC_COMMENT:
            continue
        if t.text == "@[":
            depth += 1
        elif depth and t.text == "]":
            depth -= 1
        elif depth:
            continue
        elif t.text not in MODIFIERS:
            return False
    return True


_SYNTAX_COMMANDS = frozenset({"syntax", "macro", "elab"})
_ATOM = re.compile(r"[A-Za-z_][A-Za-z0-9_!?']*")


def own_commands(text: str, tokens: list[Token]) -> dict[str, int]:
    """Command keywords the file declares itself (`syntax "kw" … : command`, and the same with
    `macro` or `elab`), each with the offset from which it is one. Lean adds a syntax's
    leading atom to the token table when the command is elaborated, so from there on the word
    lexes as a keyword (src/Lean/Parser/Extension.lean, `addParserTokens`); before, it is an
    identifier. Precedences, `(name := …)`/`(priority := …)` and attributes are skipped."""
    code = [t for t in tokens if t.is_code]
    out: dict[str, int] = {}
    for i, t in enumerate(code):
        if t.text not in _SYNTAX_COMMANDS:
            continue
        col = column_of(text, t.start)

        def next_command(tok: Token, col: int = col) -> bool:
            return first_on_line(text, tok.start) and column_of(text, tok.start) <= col

        j = i + 1
        while j < len(code) and code[j].kind is not TokenKind.STRING:
            if code[j].text in ("=>", ":=") or next_command(code[j]):
                break
            j += 1
        if j >= len(code) or code[j].kind is not TokenKind.STRING:
            continue
        word = code[j].text.strip('"').strip()
        if not _ATOM.fullmatch(word) or word in out:
            continue
        # The category: `: command` before a macro's or elab's `=>`, or the syntax's end.
        k = j + 1
        while k + 1 < len(code) and code[k].text != "=>" and not next_command(code[k]):
            if code[k].text == ":" and code[k + 1].text == "command":
                out[word] = code[k + 1].start
                break
            k += 1
    return out


def _split_commands(text: str, tokens: list[Token], own: dict[str, int]) -> list[Command]:
    commands: list[Command] = []
    cur: list[Token] = []
    cur_col = 0
    for tok in tokens:
        if tok.kind is TokenKind.COMMENT:
            continue
        starter = tok.kind is TokenKind.DOC_COMMENT or (
            tok.kind in (TokenKind.IDENT, TokenKind.SYMBOL)
            and (
                is_command_keyword(tok.text)
                or tok.text.startswith("#")
                or own.get(tok.text, len(text)) < tok.start
            )
        )
        if starter and _first_on_line(text, tok):
            col = column_of(text, tok.start)
            if not cur:
                cur, cur_col = [tok], col
                continue
            if (
                (col <= cur_col or _is_flat(cur))
                and not _is_prefix_only(cur)
                and not _ends_in_prefix(cur)
            ):
                commands.append(Command(tuple(cur), cur_col))
                cur, cur_col = [tok], col
                continue
        if not cur:
            cur_col = column_of(text, tok.start)
        cur.append(tok)
    if cur:
        commands.append(Command(tuple(cur), cur_col))
    return commands


def _is_flat(tokens: list[Token]) -> bool:
    """Whether the command so far is one of `FLAT_COMMANDS` (after any `… in` prefixes).
    Cheap on a long proof: the prefix chain ends at its first token unless that is a prefix."""
    end = _prefix_chain_end(tokens)
    return end < len(tokens) and tokens[end].text in FLAT_COMMANDS


def _ends_in_prefix(tokens: list[Token]) -> bool:
    """Whether the command so far is a chain of `open X in`-style prefixes, which the next
    command continues."""
    end = _prefix_chain_end(tokens)
    return end > 0 and _is_prefix_only(tokens[end:])


def _prefix_chain_end(code: list[Token]) -> int:
    """Index of the first token after the leading `… in` prefixes (0 if there are none)."""
    i = 0
    while (
        i < len(code)
        and code[i].kind is not TokenKind.DOC_COMMENT
        and (code[i].text in IN_PREFIXES)
    ):
        depth = 0
        j = i + 1
        while j < len(code):
            t = code[j]
            if t.text in _OPEN:
                depth += 1
            elif t.text in _CLOSE:
                depth = max(depth - 1, 0)
            elif depth == 0 and t.text == "in":
                break
            elif (
                depth == 0
                and t.kind is not TokenKind.DOC_COMMENT
                and (t.text in DECL_KINDS or t.text == "@[")
            ):
                return i
            j += 1
        if j >= len(code):
            return i
        i = j + 1
    return i


def _keyword_index(code: list[Token]) -> int | None:
    depth = 0
    for i, t in enumerate(code):
        if t.text == "@[":
            depth += 1
        elif depth and t.text == "]":
            depth -= 1
        elif depth or t.text in MODIFIERS or t.kind is TokenKind.DOC_COMMENT:
            continue
        else:
            return i
    return None


def _declarations(text: str, commands: list[Command]) -> list[Declaration]:
    scopes: list[tuple[str, str]] = []  # (kind, name) for namespace / section / mutual
    out: list[Declaration] = []
    for cmd in commands:
        code = list(cmd.tokens)
        skip = _prefix_chain_end(code)
        if skip and skip < len(code):
            prefix_end: int | None = code[skip].start
            code = code[skip:]
        else:
            prefix_end = None
        ki = _keyword_index(code)
        if ki is None:
            continue
        kw = code[ki]
        rest = [t for t in code[ki + 1 :] if t.kind is not TokenKind.DOC_COMMENT]
        if kw.text == "namespace" and rest:
            scopes.append(("namespace", rest[0].text))
            continue
        if kw.text == "section":
            scopes.append(
                ("section", rest[0].text if rest and _first_line(text, rest[0], kw) else "")
            )
            continue
        if kw.text == "mutual":
            scopes.append(("mutual", ""))
            continue
        if kw.text == "end":
            if scopes:
                scopes.pop()
            continue
        if kw.text not in DECL_KINDS:
            continue
        out.append(_declaration(text, cmd, kw, rest, scopes, prefix_end))
    return out


def _first_line(text: str, tok: Token, kw: Token) -> bool:
    return "\n" not in text[kw.end : tok.start]


def _declaration(
    text: str,
    cmd: Command,
    kw: Token,
    rest: list[Token],
    scopes: list[tuple[str, str]],
    prefix_end: int | None = None,
) -> Declaration:
    name_tok: Token | None = None
    if kw.text not in ("example", "instance") and rest and rest[0].kind is TokenKind.IDENT:
        name_tok = rest[0]
    elif kw.text == "instance":
        # `instance [(priority := n)] [name] : …`
        idx = 0
        if rest and rest[0].text == "(":
            depth = 0
            for idx, t in enumerate(rest):  # noqa: B007
                depth += t.text in _OPEN
                depth -= t.text in _CLOSE
                if depth == 0:
                    break
            idx += 1
        if (
            idx + 1 < len(rest)
            and rest[idx].kind is TokenKind.IDENT
            and rest[idx + 1].text in (":", "(", "{", "[", "⦃")
        ):
            name_tok = rest[idx]
    name = name_tok.text if name_tok else None
    full_name: str | None = None
    namespace = ".".join(n for k, n in scopes if k == "namespace" and n)
    if name is not None:
        if name.startswith("_root_."):
            full_name = name[len("_root_.") :]
        else:
            full_name = f"{namespace}.{name}" if namespace else name
    assign, arms, struct_where, unsure = _decl_val(rest)
    header_end = next((x for x in (assign, arms, struct_where) if x is not None), None)
    holes = [t for t in rest if t.kind is TokenKind.IDENT and t.text in HOLE_WORDS]
    sorries = tuple(t.start for t in holes if header_end is not None and t.start > header_end)
    statement_sorries = tuple(t.start for t in holes if header_end is None or t.start < header_end)
    code = [t for t in rest if t.is_code]
    where = {t.start: i for i, t in enumerate(code)} if sorries else {}
    tactic = tuple(_is_tactic_position(text, code, where[o], header_end) for o in sorries)
    return Declaration(
        prefix_end=prefix_end,
        namespace=namespace,
        unsure=unsure,
        kind=kw.text,
        name=name,
        full_name=full_name,
        start=cmd.start,
        keyword=kw.start,
        name_start=name_tok.start if name_tok else None,
        name_end=name_tok.end if name_tok else None,
        assign=assign,
        end=cmd.end,
        sorries=sorries,
        first_sorry_tactic=bool(tactic) and tactic[0],
        sorry_tactic=tactic,
        arms=arms,
        struct_where=struct_where,
        statement_sorries=statement_sorries,
    )


# Words whose `:=` belongs to them, not to the declaration: `let x := v; body` and friends in a
# statement (Term.lean: `let`, `have`, `haveI`, `letI`, `let_fun`, `set`… each `letDecl`).
_LOCAL_BINDERS = frozenset({"let", "have", "haveI", "letI", "let_fun", "let_delayed"})
# After these, a `|` belongs to the term (match alternatives, `fun | p => …`).
_ALT_OWNERS = frozenset({"match", "fun", "λ", "nomatch", "nofun", "intro", "with"})


def _decl_val(
    rest: list[Token],
) -> tuple[int | None, int | None, int | None, tuple[str, ...]]:
    """Where the statement (`declSig`) ends and the body (`declVal`) begins.

    src/Lean/Parser/Command.lean: `declSig := many binder >> typeSpec`, then
    `declVal := declValSimple <|> declValEqns <|> whereStructInst`, where `declValSimple` starts
    with `:=` and `declValEqns` with the `|` of `matchAlts`. Inside the statement, a `:=` can
    belong to a `let`/`have` (one each), to a binder's default value or to `Type := …` (both
    in brackets); a `|` can be an absolute value `|x|` (Mathlib: `"|" noWs term noWs "|"`) or an
    alternative of a `match`/`fun` in the type. A top-level `|` starts the equations only when
    what follows it reaches a top-level `=>` before the next `|`.

    `whereStructInst := "where" structInstFields`: a `where` before any of those starts a
    structure instance as the value (and, for `structure`/`class`, the fields).

    Returns (offset of `:=`, offset of the first arm's `|`, offset of that `where`, constructs
    not placed for sure)."""
    depth = 0
    pending_binders = 0
    alt_owner = False
    unsure: list[str] = []
    n = len(rest)
    for i, t in enumerate(rest):
        if t.kind is TokenKind.DOC_COMMENT:
            continue
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth:
            continue
        elif t.text in _LOCAL_BINDERS:
            pending_binders += 1
        elif t.text == ":=":
            if pending_binders:
                pending_binders -= 1
                continue
            return t.start, None, None, tuple(unsure)
        elif t.text in _ALT_OWNERS:
            alt_owner = True
        elif t.text == "|":
            if alt_owner:
                continue
            if _arm_follows(rest, i + 1, n):
                return None, t.start, None, tuple(unsure)
            if i + 1 < n and rest[i + 1].start == t.end:
                continue  # `|x…`: an absolute value opens
            if i > 0 and rest[i - 1].end == t.start:
                continue  # `…x|`: an absolute value closes
            unsure.append(f"a `|` at offset {t.start} in the statement")
        elif t.text == "where":
            return None, None, t.start, tuple(unsure)
    return None, None, None, tuple(unsure)


def _arm_follows(rest: list[Token], i: int, n: int) -> bool:
    depth = 0
    while i < n:
        t = rest[i]
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0 and t.text == "=>":
            return True
        elif depth == 0 and t.text in ("|", ":="):
            return False
        i += 1
    return False


# The token before a hole decides its category (src/Lean/Parser/Term.lean, Tactic.lean).
_TACTIC_BEFORE = frozenset({"by", ";", "<;>"})
# Tactics whose `=>` introduces more tactics: `case h =>`, `next =>`, and the alternatives of
# `induction … with`, `cases … with`, `match` used as a tactic, `rcases`-free forms.
_TACTIC_ARROW_OWNERS = frozenset({"case", "case'", "next", "induction", "cases", "focus"})
_TERM_ARROW_OWNERS = frozenset({"fun", "λ", "nofun"})


def _is_tactic_position(text: str, code: list[Token], idx: int, assign: int | None) -> bool:
    """Whether the hole ``code[idx]`` stands where Lean parses a tactic, not a term."""
    if code[idx].text == "admit":
        return True  # a tactic only
    if idx == 0 or code[idx - 1].start == assign:
        return False
    prev = code[idx - 1]
    if prev.text in _TACTIC_BEFORE:
        return True
    if prev.text in ("·", ".") and _first_on_line(text, prev):
        return True  # the focusing dot `· tac`
    in_by = _innermost_block(code, idx, assign) == "tactic"
    if prev.text == "=>":
        return _arrow_owner(code, idx - 1, in_by) == "tactic"
    if not in_by:
        return False
    # A `sorry` that starts its line in a tactic block is a tactic, unless the line before
    # left a term open (`:=`, `(`, an operator, `exact`, …).
    return _first_on_line(text, code[idx]) and prev.text not in _TERM_OPENERS


# Tokens after which a term must follow, so a `sorry` on the next line is still a term.
_TERM_OPENERS = frozenset(
    """:= ( [ { ⟨ , exact refine refine' apply use exists show from at => ← → ↔ ∧ ∨ = ≠ < > ≤ ≥
    + - * / ∘ ^ <| |> $ calc have let obtain suffices specialize generalize""".split()
)


def _innermost_block(code: list[Token], idx: int, assign: int | None) -> str:
    """`tactic` if the nearest enclosing `by` (within open brackets) is closer than the
    nearest enclosing term bracket, else `term`."""
    depth = 0
    for j in range(idx - 1, -1, -1):
        t = code[j]
        if assign is not None and t.start <= assign:
            break
        if t.text in _CLOSE:
            depth += 1
        elif t.text in _OPEN:
            if depth == 0:
                return "term"
            depth -= 1
        elif depth == 0 and t.text == "by":
            return "tactic"
    return "term"


def _arrow_owner(code: list[Token], arrow: int, in_by: bool) -> str:
    """Whether the `=>` at ``arrow`` leads to tactics (`case … =>`, tactic `induction … with |
    … =>`) or to a term (`fun x =>`, a term-mode `match`)."""
    depth = 0
    for j in range(arrow - 1, -1, -1):
        t = code[j]
        if t.text in _CLOSE:
            depth += 1
        elif t.text in _OPEN:
            if depth == 0:
                return "term"
            depth -= 1
        elif depth:
            continue
        elif t.text in _TERM_ARROW_OWNERS:
            return "term"
        elif t.text in _TACTIC_ARROW_OWNERS:
            return "tactic" if in_by else "term"
        elif t.text == "match":
            # A `match` is a tactic when it starts a tactic (first on its line in a `by`
            # block, or right after `by`/`;`), else a term.
            before = code[j - 1].text if j > 0 else ""
            return "tactic" if in_by and before not in _TERM_OPENERS else "term"
        elif t.text == "by":
            return "tactic"
    return "tactic" if in_by else "term"
