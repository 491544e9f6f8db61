"""Declarations, namespaces and `sorry`s of a Lean file, found with the tokenizer."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property

from leanloop.source.scanner import Token, TokenKind, tokenize

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
        """namespace section end open export variable universe import set_option attribute
        mutual macro macro_rules syntax elab elab_rules notation infix infixl infixr prefix
        postfix initialize builtin_initialize deriving declare_syntax_cat register_option
        run_cmd local scoped @[""".split()
    )
)
PROOF_KINDS = frozenset({"theorem", "lemma", "example"})
_OPEN = frozenset(["(", "[", "{", "⟨", "⦃", "@["])
_CLOSE = frozenset([")", "]", "}", "⟩", "⦄"])
_TACTIC_LEADERS = frozenset({"by", "·", ".", ";", "<;>"})


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
    arms: int | None = None  # offset of the first `|` of a definition by pattern matching

    @property
    def header_end(self) -> int | None:
        """Where the statement ends: at `:=`, or at the first `|` of pattern-matching arms."""
        return self.assign if self.assign is not None else self.arms

    @property
    def body_start(self) -> int | None:
        if self.assign is not None:
            return self.assign + 2
        return self.arms

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
        self.commands = _split_commands(self.text, self.tokens)
        self.imports, self.header_end = self._imports()
        self.declarations = _declarations(self.text, self.commands)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(i + 1 for i, c in enumerate(self.text) if c == "\n")
        return starts

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
        return [d for d in self.declarations if d.is_proof and d.sorries]

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
    i = tok.start - 1
    while i >= 0 and text[i] != "\n":
        if not text[i].isspace():
            return False
        i -= 1
    return True


def _column(text: str, offset: int) -> int:
    nl = text.rfind("\n", 0, offset)
    return offset - (nl + 1)


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


def _split_commands(text: str, tokens: list[Token]) -> list[Command]:
    commands: list[Command] = []
    cur: list[Token] = []
    cur_col = 0
    for tok in tokens:
        if tok.kind is TokenKind.COMMENT:
            continue
        starter = tok.kind is TokenKind.DOC_COMMENT or (
            tok.kind in (TokenKind.IDENT, TokenKind.SYMBOL)
            and (tok.text in COMMAND_KEYWORDS or tok.text.startswith("#"))
        )
        if starter and _first_on_line(text, tok):
            col = _column(text, tok.start)
            if not cur:
                cur, cur_col = [tok], col
                continue
            if col <= cur_col and not _is_prefix_only(cur):
                commands.append(Command(tuple(cur), cur_col))
                cur, cur_col = [tok], col
                continue
        if not cur:
            cur_col = _column(text, tok.start)
        cur.append(tok)
    if cur:
        commands.append(Command(tuple(cur), cur_col))
    return commands


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
        out.append(_declaration(text, cmd, kw, rest, scopes))
    return out


def _first_line(text: str, tok: Token, kw: Token) -> bool:
    return "\n" not in text[kw.end : tok.start]


def _declaration(
    text: str, cmd: Command, kw: Token, rest: list[Token], scopes: list[tuple[str, str]]
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
    if name is not None:
        if name.startswith("_root_."):
            full_name = name[len("_root_.") :]
        else:
            prefix = ".".join(n for k, n in scopes if k == "namespace" and n)
            full_name = f"{prefix}.{name}" if prefix else name
    assign: int | None = None
    arms: int | None = None
    depth = 0
    for t in rest:
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth = max(depth - 1, 0)
        elif t.text == ":=" and depth == 0:
            assign = t.start
            break
        elif depth == 0 and t.text == "|":
            arms = t.start
            break
        elif depth == 0 and t.text == "where":
            break
    header_end = assign if assign is not None else arms
    sorries = tuple(
        t.start
        for t in rest
        if header_end is not None
        and t.start > header_end
        and t.kind is TokenKind.IDENT
        and t.text == "sorry"
    )
    first_tactic = False
    if sorries:
        first_tactic = _is_tactic_position(text, rest, sorries[0], header_end)
    return Declaration(
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
        first_sorry_tactic=first_tactic,
        arms=arms,
    )


def _is_tactic_position(text: str, rest: list[Token], sorry: int, assign: int | None) -> bool:
    before = [t for t in rest if t.start < sorry]
    if not before or before[-1].start == assign:
        return False
    prev = before[-1]
    if prev.text in _TACTIC_LEADERS:
        return True
    in_by = any(t.text == "by" for t in before if assign is not None and t.start > assign)
    if prev.text == "=>":
        return in_by
    sorry_tok = next(t for t in rest if t.start == sorry)
    return in_by and _first_on_line(text, sorry_tok)
