"""A tiny pretend-Lean used as a test double for ``lean`` and ``lake`` (stdlib only).

The ``fake_lean`` pytest fixture installs wrapper executables named ``lean`` and ``lake`` that
load this file and call :func:`main` with the tool name.  It can also be run directly:
``python fake_lean.py lean --json FILE`` or ``python fake_lean.py lake env lean FILE``.

Output formats follow /work/shared/lean-reference/README.md:

* ``--json``: one compact JSON object per message per line, keys ``severity``, ``pos``,
  ``endPos`` (may be ``null``), ``fileName``, ``data``, ``caption``, ``keepFullRange``,
  ``isSilent``, ``kind``.  Key order alternates between two orders so that parsers cannot
  depend on it.  Lines are 1-based, columns 0-based Unicode code points.
* plain: ``FILE:L:C: severity: text`` (``FILE:L:C-EL:EC: …`` with
  ``-DprintMessageEndPos=true``); information messages are printed bare.
* exit code 1 when an error-severity message was printed, else 0.

Default semantics (no scenario): declarations (``theorem``/``lemma``/``def``/``abbrev``/
``instance``/``structure``/``example``/``axiom``/…) are found line by line,
``namespace``/``section``/``end`` are tracked, comments and string literals are blanked out,
``sorry``/``admit`` give the ``declaration uses `sorry` `` warning and axiom ``sorryAx``,
``native_decide`` gives axiom ``NAME._native.native_decide.ax_1_1``, and ``#print axioms NAME``
answers with an information message.  ``FAKE_LEAN_SCENARIO`` (a JSON file
``{"rules": [...]}``) adds scripted errors, axioms, hangs, crashes, junk output and
missing-olean failures.  Every invocation appends one JSON line to ``$FAKE_LEAN_LOG`` when
that variable is set.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LEAN_VERSION = (
    "Lean (version 4.22.0, x86_64-unknown-linux-gnu, "
    "commit 0000000000000000000000000000000000000000, Release)"
)
LAKE_VERSION = "Lake version 5.0.0-fake (Lean version 4.22.0)"
SORRY_WARNING = "declaration uses `sorry`"
DEFAULT_CRASH_STDERR = "Stack overflow detected. Aborting."

# Options of `lean` that take a separate value argument.
_VALUE_OPTIONS = frozenset(
    {
        "-o",
        "-i",
        "-c",
        "-b",
        "-R",
        "-D",
        "-j",
        "-M",
        "-T",
        "-s",
        "--root",
        "--plugin",
        "--load-dynlib",
        "--setup",
    }
)

_MODIFIERS = r"(?:(?:private|protected|noncomputable|partial|unsafe|nonrec)\s+)*"
_ATTRIBUTES = r"(?:@\[[^\]]*\]\s*)*"
_NAME = r"(?:«[^»]*»|[^\s(){}\[\]:,@«.]+)(?:\.(?:«[^»]*»|[^\s(){}\[\]:,@«.]+))*"
_DECL_RE = re.compile(
    r"^\s*"
    + _ATTRIBUTES
    + _MODIFIERS
    # Every declaration kind gets Lean's `declaration uses 'sorry'` warning. Where an unnamed
    # one (`instance : C`, `example`) has it: at its keyword, as recorded for `example`
    # (lean-reference linterUnusedVariables, 246:0-246:7); for `instance` that is a guess.
    + r"(?P<kw>theorem|lemma|def|abbrev|axiom|example|instance|opaque|structure|class"
    r"|inductive)(?![\w'!?])" + r"(?:[ \t]+(?P<name>" + _NAME + r"))?"
)
_NAMESPACE_RE = re.compile(r"^\s*namespace\s+(?P<name>" + _NAME + r")")
_SECTION_RE = re.compile(r"^\s*(?:noncomputable\s+)?section(?![\w'])")
_MUTUAL_RE = re.compile(r"^\s*mutual(?![\w'])")
_END_RE = re.compile(r"^\s*end(?![\w'])")
_HASH_CMD_RE = re.compile(r"^\s*#")
# `#print axioms X`, possibly behind `set_option NAME VALUE in` prefixes on the same line. The
# answer is logged at the `#print` token (`withRef tk` in src/Lean/Elab/Print.lean).
_PRINT_AXIOMS_RE = re.compile(
    r"^(?P<indent>\s*)(?P<opts>(?:set_option\s+\S+\s+\S+\s+in\s+)*)"
    r"#print\s+axioms\s+(?P<name>" + _NAME + r")"
)
_OPEN_RE = re.compile(r"^open\s+(?P<names>[^\n]*)$")
# `decide` evaluates a closed proposition; with free variables (binders in the statement) real
# Lean's `decide` fails. Conservative: any binder or quantifier in the statement counts.
_DECIDE_RE = re.compile(r"(?<![\w'.!?])decide(?![\w'!?])")
# Proofs through classical logic depend on the three standard axioms in real Lean
# (`Classical.em` is proved from `Classical.choice`, `propext` and `Quot.sound`).
_CLASSICAL_RE = re.compile(r"(?<![\w'!?])(?:Classical\.\w+|by_contra|by_cases|tauto|em\b)")
# Top-level commands that end the text of the preceding declaration (only at column 0).
_OTHER_CMD_RE = re.compile(
    r"^(?:open|variable|universe|set_option|attribute|instance|structure|inductive|class|"
    r"import|opaque|macro|syntax|elab|notation|infix|infixl|infixr|prefix|postfix)(?![\w'])"
)


def _word_re(word: str) -> re.Pattern[str]:
    """Whole-word match for a Lean identifier (identifier characters do not touch it)."""
    return re.compile(r"(?<![\w'.!?])" + re.escape(word) + r"(?![\w'!?])")


_CHAR_LIT_RE = re.compile(r"'(?:\\.|[^\\'\n])'")
_SORRY_RE = re.compile(r"(?<![\w'.!?])(?:sorry|admit)(?![\w'!?])")
_NATIVE_DECIDE_RE = _word_re("native_decide")


# --------------------------------------------------------------------------------------------
# Source analysis


def mask_comments_and_strings(text: str) -> str:
    """Return ``text`` with comments, string literals and char literals replaced by spaces.

    Newlines are kept, so offsets, lines and columns are identical in the result.
    Block comments ``/- … -/`` nest; ``--`` comments run to the end of the line.
    """
    out = list(text)
    n = len(text)
    i = 0

    def blank(start: int, stop: int) -> None:
        for k in range(start, min(stop, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/-", i):
            depth = 0
            j = i
            while j < n:
                if text.startswith("/-", j):
                    depth += 1
                    j += 2
                elif text.startswith("-/", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            blank(i, j)
            i = j
        elif c == "'" and (i == 0 or not _is_ident_char(text[i - 1])):
            m = _CHAR_LIT_RE.match(text, i)
            if m:
                blank(i, m.end())
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_'!?.₀₁₂₃₄₅₆₇₈₉"


def offset_to_pos(text: str, offset: int) -> dict[str, int]:
    """Lean position of a string offset: 1-based line, 0-based code-point column."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return {"line": line, "column": column}


@dataclass
class Decl:
    kind: str
    full_name: str | None  # None for `example`
    declared_name: str | None
    token_start: int  # offset of the name token (or of `example`)
    token_end: int
    start: int  # offset of the declaration line
    end: int = -1  # offset where the declaration's text ends
    axioms: list[str] = field(default_factory=list)
    has_sorry: bool = False


@dataclass
class PrintAxioms:
    name: str
    namespaces: list[str]
    start: int  # offset of '#'
    name_start: int
    name_end: int
    opened: list[str] = field(default_factory=list)  # namespaces opened by `open` so far
    full_names: bool = False  # `set_option pp.fullNames true in`


@dataclass
class Analysis:
    decls: list[Decl]
    prints: list[PrintAxioms]


def _strip_guillemets(name: str) -> str:
    return name.replace("«", "").replace("»", "")


def analyse(text: str) -> Analysis:
    masked = mask_comments_and_strings(text)
    decls: list[Decl] = []
    prints: list[PrintAxioms] = []
    scopes: list[list[str]] = []  # one entry per namespace/section/mutual
    opened: list[str] = []
    current: Decl | None = None
    offset = 0
    for line in masked.splitlines(keepends=True):
        line_start = offset
        offset += len(line)
        decl_m = _DECL_RE.match(line)
        boundary = (
            decl_m is not None
            or _HASH_CMD_RE.match(line) is not None
            or _END_RE.match(line) is not None
            or _NAMESPACE_RE.match(line) is not None
            or _SECTION_RE.match(line) is not None
            or _MUTUAL_RE.match(line) is not None
            or _OTHER_CMD_RE.match(line) is not None
        )
        if boundary and current is not None:
            current.end = line_start
            current = None
        namespaces = [part for scope in scopes for part in scope]
        if decl_m is not None:
            kw = decl_m.group("kw")
            name = decl_m.group("name")
            if kw == "example" or name is None:
                tok_start = line_start + decl_m.start("kw")
                tok_end = line_start + decl_m.end("kw")
                full = declared = None
            else:
                tok_start = line_start + decl_m.start("name")
                tok_end = line_start + decl_m.end("name")
                declared = _strip_guillemets(name)
                if declared.startswith("_root_."):
                    full = declared[len("_root_.") :]
                else:
                    full = ".".join([*namespaces, declared])
            current = Decl(kw, full, declared, tok_start, tok_end, line_start)
            decls.append(current)
            continue
        if m := _NAMESPACE_RE.match(line):
            scopes.append(_strip_guillemets(m.group("name")).split("."))
        elif _SECTION_RE.match(line) or _MUTUAL_RE.match(line):
            scopes.append([])
        elif _END_RE.match(line):
            if scopes:
                scopes.pop()
        elif (m := _OPEN_RE.match(line.rstrip("\n"))) is not None and " in" not in line:
            opened.extend(n for n in m.group("names").split() if n != "scoped")
        elif m := _PRINT_AXIOMS_RE.match(line):
            prints.append(
                PrintAxioms(
                    name=_strip_guillemets(m.group("name")),
                    namespaces=namespaces,
                    start=line_start + m.start("opts") + len(m.group("opts")),
                    name_start=line_start + m.start("name"),
                    name_end=line_start + m.end("name"),
                    opened=list(opened),
                    full_names="pp.fullNames true" in m.group("opts"),
                )
            )
    if current is not None:
        current.end = len(text)

    known: list[Decl] = []
    for decl in decls:
        body = masked[decl.token_end : decl.end]
        if decl.kind == "axiom":
            if decl.full_name:
                decl.axioms.append(decl.full_name)
        else:
            decl.has_sorry = _SORRY_RE.search(body) is not None
            if _NATIVE_DECIDE_RE.search(body) and decl.full_name:
                decl.axioms.append(f"{decl.full_name}._native.native_decide.ax_1_1")
            if _CLASSICAL_RE.search(body):
                _add_axioms(decl, ["propext", "Classical.choice", "Quot.sound"])
            if decl.has_sorry:
                decl.axioms.append("sorryAx")
        for earlier in known:
            names = {earlier.full_name, earlier.declared_name} - {None}
            if any(_word_re(str(nm)).search(body) for nm in names):
                _add_axioms(decl, earlier.axioms)
        if decl.full_name is not None:
            known.append(decl)
    return Analysis(decls, prints)


def _add_axioms(decl: Decl, axioms: Sequence[str]) -> None:
    for ax in axioms:
        if ax not in decl.axioms:
            decl.axioms.append(ax)


def _propagate(decls: list[Decl], masked: str) -> None:
    """Recompute transitive axioms after scenario rules added some (in file order)."""
    for i, decl in enumerate(decls):
        body = masked[decl.token_end : decl.end]
        for earlier in decls[:i]:
            names = {earlier.full_name, earlier.declared_name} - {None}
            if names and any(_word_re(str(nm)).search(body) for nm in names):
                _add_axioms(decl, earlier.axioms)


def _decl_at(decls: list[Decl], offset: int) -> Decl | None:
    for decl in decls:
        if decl.start <= offset < decl.end:
            return decl
    return None


# --------------------------------------------------------------------------------------------
# Parentheses: the few parse errors the double reports on its own

# Words that only ever start a command (src/Lean/Parser/Command.lean and friends). Inside
# parentheses real Lean cannot read them: the term or tactic sequence ends before them and `)`
# is expected. `open` and `set_option` are also terms and tactics (`open X in e`), see below.
_COMMAND_ONLY = frozenset(
    """theorem lemma def example instance abbrev structure inductive class axiom opaque
    namespace section end universe variable attribute import mutual export deriving
    noncomputable private protected macro macro_rules syntax elab elab_rules notation infix
    infixl infixr prefix postfix initialize""".split()
)
_IN_PREFIXES = frozenset({"open", "set_option"})
# `syntax "kw" … : command` (and `macro`/`elab`) makes `kw` a command keyword of the file.
_USER_COMMAND_RE = re.compile(
    r'^\s*(?:syntax|macro|elab)\b[^\n"]*"(?P<kw>[A-Za-z_][\w!?]*)[ ]?"[^\n]*:\s*command\b', re.M
)
_DOUBLE_TOKEN_RE = re.compile(
    r"[A-Za-z_\u0370-\u03ff\u1f00-\u1fff][\w'!?.\u0370-\u03ff\u2080-\u209c]*"
    r"|\d+|:=|=>|[()\[\]{}⟨⟩]|#\w+|\S"
)
_OPENERS = {"(": ")", "[": "]", "{": "}", "⟨": "⟩"}
_CLOSERS = frozenset(_OPENERS.values())


def _ends_term(tok: str) -> bool:
    return (
        tok in _CLOSERS
        or tok[0].isdigit()
        or ((tok[0].isalpha() or tok[0] == "_") and tok not in _KEYWORDS_AFTER_WHICH_A_TERM_GOES)
    )


# Keywords after which a term or tactic still has to come (so `open` there starts it).
_KEYWORDS_AFTER_WHICH_A_TERM_GOES = frozenset(
    "by fun in at with then else do from show have let exact refine apply calc".split()
)


def paren_errors(source: str, masked: str) -> list[tuple[int, str]]:
    """Parse errors real Lean certainly reports in parentheses: a command keyword inside
    them; `open`/`set_option` right after a finished term on the same line, or on a later line
    where no `by` opened a tactic block since the last `(`, `=>` or `:=`; and an `… in` with
    nothing after it before `)`. Wording as recorded in lake logs (lean-reference `lake/`):
    "unexpected token 'match'; expected ')', ',' or ':'"."""
    commands = _COMMAND_ONLY | {m["kw"] for m in _USER_COMMAND_RE.finditer(source)}
    toks = [(m.start(), m.group()) for m in _DOUBLE_TOKEN_RE.finditer(masked)]
    errors: list[tuple[int, str]] = []
    stack: list[int] = []  # token indices of open brackets
    for i, (at, tok) in enumerate(toks):
        if tok in _OPENERS:
            stack.append(i)
            continue
        if tok in _CLOSERS:
            if stack:
                stack.pop()
            continue
        parens = [k for k in stack if toks[k][1] == "("]
        # Inside a syntax quotation (`` `(…) ``, `` `(tactic| …) ``) any command may stand.
        if not parens or masked[toks[parens[-1]][0] - 1 : toks[parens[-1]][0]] == "`":
            continue
        prev = toks[i - 1] if i else None
        same_line = prev is not None and "\n" not in masked[prev[0] : at]
        bad = tok in commands
        if tok in _IN_PREFIXES and prev is not None and _ends_term(prev[1]):
            bad = bad or same_line or not _in_tactic_block(toks, i)
        if tok == "in" and i + 1 < len(toks) and toks[i + 1][1] == ")":
            errors.append((toks[i + 1][0], "unexpected token ')'; expected term"))
            continue
        if bad:
            errors.append((at, f"unexpected token '{tok}'; expected ')', ',' or ':'"))
    return errors


def _in_tactic_block(toks: list[tuple[int, str]], i: int) -> bool:
    """Whether token ``i`` stands in a tactic block: walking back through it and the groups
    around it, a `by` comes before any `=>` or `:=`."""
    depth = 0
    for k in range(i - 1, -1, -1):
        tok = toks[k][1]
        if tok in _CLOSERS:
            depth += 1
        elif tok in _OPENERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and tok in ("=>", ":="):
            return False
        elif depth == 0 and tok == "by":
            return True
    return False


# --------------------------------------------------------------------------------------------
# Messages


@dataclass
class Message:
    severity: str
    pos: dict[str, int]
    end_pos: dict[str, int] | None
    data: str
    order: tuple[int, int, int, int]  # sort key: (command offset, phase, line, column)
    kind: str = "[anonymous]"


def _message(
    text: str,
    severity: str,
    start: int,
    end: int | None,
    data: str,
    command_start: int,
    phase: int = 0,
    kind: str = "[anonymous]",
) -> Message:
    pos = offset_to_pos(text, start)
    end_pos = None if end is None else offset_to_pos(text, end)
    return Message(
        severity, pos, end_pos, data, (command_start, phase, pos["line"], pos["column"]), kind
    )


def _to_json(msg: Message, file_name: str, index: int) -> str:
    fields: dict[str, Any] = {
        "severity": msg.severity,
        "pos": msg.pos,
        "endPos": msg.end_pos,
        "fileName": file_name,
        "data": msg.data,
        "caption": "",
        "keepFullRange": False,
        "isSilent": False,
        "kind": msg.kind,
    }
    if index % 2 == 1:  # real Lean builds have been seen with reverse-alphabetical keys
        fields = {k: fields[k] for k in sorted(fields, reverse=True)}
        fields["pos"] = {"column": msg.pos["column"], "line": msg.pos["line"]}
        if msg.end_pos is not None:
            fields["endPos"] = {"column": msg.end_pos["column"], "line": msg.end_pos["line"]}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def _to_plain(msg: Message, file_name: str, print_end_pos: bool) -> str:
    if msg.severity == "information":
        return msg.data + "\n"
    where = f"{msg.pos['line']}:{msg.pos['column']}"
    if print_end_pos and msg.end_pos is not None:
        where += f"-{msg.end_pos['line']}:{msg.end_pos['column']}"
    return f"{file_name}:{where}: {msg.severity}: {msg.data}\n"


# --------------------------------------------------------------------------------------------
# Scenario rules


def _load_rules() -> list[dict[str, Any]]:
    path = os.environ.get("FAKE_LEAN_SCENARIO")
    if not path:
        return []
    with open(path, encoding="utf-8") as fh:
        scenario = json.load(fh)
    rules = scenario.get("rules", []) if isinstance(scenario, dict) else scenario
    return [r for r in rules if isinstance(r, dict)]


def _rule_match(rule: dict[str, Any], text: str) -> tuple[int, int] | None:
    """Span of the rule's trigger in the raw text, or None when the rule does not apply.

    A rule with neither ``when`` nor ``when_regex`` always applies (span 0..0).
    """
    if "when" in rule:
        idx = text.find(str(rule["when"]))
        if idx < 0:
            return None
        return idx, idx + len(str(rule["when"]))
    if "when_regex" in rule:
        m = re.search(str(rule["when_regex"]), text, re.MULTILINE)
        return None if m is None else (m.start(), m.end())
    return 0, 0


def _first(
    rules: list[tuple[dict[str, Any], tuple[int, int]]], key: str
) -> tuple[dict[str, Any], tuple[int, int]] | None:
    for rule, span in rules:
        if key in rule:
            return rule, span
    return None


# --------------------------------------------------------------------------------------------
# lean


@dataclass
class LeanArgs:
    json: bool = False
    stdin: bool = False
    version: bool = False
    file: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def parse_lean_args(args: Sequence[str]) -> LeanArgs:
    parsed = LeanArgs()
    it = iter(args)
    for arg in it:
        if arg in ("--version", "-v"):
            parsed.version = True
        elif arg == "--json":
            parsed.json = True
        elif arg == "--stdin":
            parsed.stdin = True
        elif arg in _VALUE_OPTIONS:
            value = next(it, "")
            if arg == "-D":
                _add_option(parsed, value)
        elif arg.startswith("-D"):
            _add_option(parsed, arg[2:])
        elif arg.startswith("-") and arg != "-":
            continue  # -R DIR handled above; --root=DIR, -j4, --threads=N etc. are ignored
        elif parsed.file is None:
            parsed.file = arg
    return parsed


def _add_option(parsed: LeanArgs, assignment: str) -> None:
    key, _, value = assignment.partition("=")
    parsed.options[key] = value


def _write(text: str, stream: Any = None) -> None:
    target = sys.stdout if stream is None else stream
    target.flush()
    target.buffer.write(text.encode("utf-8"))
    target.buffer.flush()


def run_lean(args: LeanArgs, source: str | None) -> int:
    if args.version:
        _write(LEAN_VERSION + "\n")
        return 0
    if source is None:
        if args.file is None and not args.stdin:
            _write("fake lean: no input file given\n", sys.stderr)
        else:
            _write(f"no such file or directory (error code: 2)\n  file: {args.file}\n", sys.stderr)
        return 1
    file_name = "<stdin>" if args.stdin else str(args.file)

    rules = _load_rules()
    matched = [(r, span) for r in rules if (span := _rule_match(r, source)) is not None]

    if (hit := _first(matched, "sleep")) is not None:
        time.sleep(float(hit[0]["sleep"]))
    if (hit := _first(matched, "crash")) is not None and hit[0]["crash"]:
        rule = hit[0]
        _write(str(rule.get("stdout", "")))
        _write(str(rule.get("stderr", DEFAULT_CRASH_STDERR)), sys.stderr)
        return int(rule.get("exit_code", 134))
    if (hit := _first(matched, "raw_stdout")) is not None:
        _write(str(hit[0]["raw_stdout"]))
        return int(hit[0].get("exit_code", 0))

    messages: list[Message] = []
    if (hit := _first(matched, "missing_olean")) is not None:
        module = str(hit[0]["missing_olean"])
        # Not copied from a recorded run: header errors are reported at 1:0 without an end
        # position.
        # Quoted path, as `findOLeanParts` in src/Lean/Environment.lean prints it.
        data = (
            f"object file '/proj/.lake/build/lib/lean/{module.replace('.', '/')}.olean' "
            f"of module {module} does not exist"
        )
        messages.append(_message(source, "error", 0, None, data, 0))
    else:
        # Real Lean stops at `#exit` (a command at the start of a line): nothing after it is
        # elaborated or answered.
        exit_at = re.search(r"^#exit\b", mask_comments_and_strings(source), re.MULTILINE)
        elaborated = source if exit_at is None else source[: exit_at.start()]
        messages = _elaborate(elaborated, matched)

    messages.sort(key=lambda m: m.order)
    print_end_pos = args.options.get("printMessageEndPos", "false") == "true"
    out = []
    for i, msg in enumerate(messages):
        if args.json:
            out.append(_to_json(msg, file_name, i) + "\n")
        else:
            out.append(_to_plain(msg, file_name, print_end_pos))
    _write("".join(out))
    return 1 if any(m.severity == "error" for m in messages) else 0


# --------------------------------------------------------------------------------------------
# Goals. The double knows no tactics, so a goal is read off the statement as Lean would print
# it before any tactic ran: binders as hypotheses (`x : Nat`, recorded in the REPL's
# `invalid_tactic`), then `⊢ type`. A scenario rule `{"when": TEXT, "goals": [...]}` scripts
# the goals where TEXT appears (after a tactic, say); `[]` means no goal is left.

# Tactics after which the double takes the goal as closed (real Lean would check them).
CLOSERS = frozenset(
    "rfl trivial simp omega decide exact linarith norm_num assumption simp_all aesop "
    "positivity contradiction tauto ring".split()
)
_DONE_RE = _word_re("done")


def statement_goal(header: str) -> str:
    """The goal of a declaration from its header (the text between its name and `:=`)."""
    hyps: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(header):
        c = header[i]
        if c in "([{⦃" and depth == 0:
            depth, start = 1, i + 1
        elif c in "([{⦃":
            depth += 1
        elif c in ")]}⦄":
            depth -= 1
            if depth == 0:
                group = header[start:i].strip()
                if ":" in group:
                    hyps.append(" ".join(group.split()))
                elif header[start - 1] == "[":
                    hyps.append(f"inst✝ : {group}")
                else:
                    hyps.append(f"{group} : Sort u_1")
        elif c == ":" and depth == 0:
            conclusion = " ".join(header[i + 1 :].split())
            return "\n".join([*hyps, f"⊢ {conclusion}"])
        i += 1
    return "\n".join([*hyps, "⊢ ?"])


def scripted_goals(matched: list[tuple[dict[str, Any], tuple[int, int]]]) -> list[str] | None:
    hit = _first(matched, "goals")
    return None if hit is None else [str(g) for g in hit[0]["goals"]]


def _done_messages(
    source: str,
    masked: str,
    decls: list[Decl],
    matched: list[tuple[dict[str, Any], tuple[int, int]]],
) -> list[Message]:
    """`done` with goals left logs `unsolved goals` and the goals at the `done` token."""
    out: list[Message] = []
    for decl in decls:
        body_start = masked.find(":=", decl.token_end, decl.end)
        if body_start < 0:
            continue
        for m in _DONE_RE.finditer(masked, body_start, decl.end):
            goals = scripted_goals(matched)
            if goals is None:
                before = masked[body_start : m.start()]
                closed = any(_word_re(t).search(before) for t in CLOSERS)
                goals = [] if closed else [statement_goal(masked[decl.token_end : body_start])]
            if not goals:
                continue
            data = "unsolved goals\n" + "\n\n".join(goals)
            out.append(_message(source, "error", m.start(), m.end(), data, decl.start))
            _add_axioms(decl, ["sorryAx"])
    return out


def _elaborate(source: str, matched: list[tuple[dict[str, Any], tuple[int, int]]]) -> list[Message]:
    analysis = analyse(source)
    decls = analysis.decls
    masked = mask_comments_and_strings(source)
    messages: list[Message] = []
    for at, text in paren_errors(source, masked):
        owner = _decl_at(decls, at)
        # Parse errors have no end position (lean-reference README).
        messages.append(_message(source, "error", at, None, text, owner.start if owner else at))
        if owner is not None:
            _add_axioms(owner, ["sorryAx"])

    if (hit := _first(matched, "error")) is not None:
        rule, (w_start, w_end) = hit
        start, end = w_start, w_end
        if "at" in rule:
            at = str(rule["at"])
            idx = source.find(at)
            if idx >= 0:
                start, end = idx, idx + len(at)
        severity = str(rule.get("severity", "error"))
        owner = _decl_at(decls, start)
        messages.append(
            _message(
                source,
                severity,
                start,
                None if rule.get("end_pos_null") else end,
                str(rule["error"]),
                owner.start if owner else start,
                kind=str(rule.get("kind", "[anonymous]")),
            )
        )
        # Real Lean adds a declaration that failed to elaborate with `sorryAx`.
        if severity == "error" and owner is not None:
            _add_axioms(owner, ["sorryAx"])
    if (hit := _first(matched, "axioms")) is not None:
        owner = _decl_at(decls, hit[1][0])
        if owner is not None:
            extra = [str(a) for a in hit[0]["axioms"]]
            owner.axioms[:] = extra + [a for a in owner.axioms if a not in extra]
    _propagate(decls, masked)

    for decl in decls:
        header, _, body = masked[decl.token_end : decl.end].partition(":=")
        m = _DECIDE_RE.search(body)
        if m is not None and re.search(r"[(\[{⦃]|∀|∃", header):
            at = decl.token_end + len(header) + 2 + m.start()
            # Wording is ours, not recorded; what matters is that `decide` fails here as it
            # does in real Lean.
            messages.append(
                _message(
                    source,
                    "error",
                    at,
                    at + len("decide"),
                    "failed to synthesize\n  Decidable\nsince the proposition has free variables",
                    decl.start,
                )
            )
            _add_axioms(decl, ["sorryAx"])
    messages.extend(_done_messages(source, masked, decls, matched))
    _propagate(decls, masked)
    for decl in decls:
        if decl.has_sorry:
            messages.append(
                _message(
                    source,
                    "warning",
                    decl.token_start,
                    decl.token_end,
                    SORRY_WARNING,
                    decl.start,
                    phase=1,
                )
            )

    for pr in analysis.prints:
        earlier = {d.full_name: d for d in decls if d.full_name and d.start < pr.start}
        candidates = [
            ".".join([*pr.namespaces[:k], pr.name]) for k in range(len(pr.namespaces), -1, -1)
        ]
        if pr.name.startswith("_root_."):
            candidates = [pr.name[len("_root_.") :]]
        target = next((earlier[c] for c in candidates if c in earlier), None)
        if target is None:
            # Wording from memory (not recorded): unknown names in `#print axioms`.
            messages.append(
                _message(
                    source,
                    "error",
                    pr.name_start,
                    pr.name_end,
                    f"unknown constant '{pr.name}'",
                    pr.start,
                )
            )
            continue
        if target.axioms:
            # Real Lean prints each axiom with `MessageData.ofConstName`, shortened by the
            # namespaces the file opened, unless `pp.fullNames` is set.
            shown = [_shorten(a, [] if pr.full_names else pr.opened) for a in target.axioms]
            data = f"'{target.full_name}' depends on axioms: [{', '.join(shown)}]"
        else:
            data = f"'{target.full_name}' does not depend on any axioms"
        messages.append(_message(source, "information", pr.start, pr.name_end, data, pr.start))
    return messages


def _shorten(name: str, opened: list[str]) -> str:
    for ns in opened:
        if name.startswith(ns + ".") and "." not in name[len(ns) + 1 :]:
            return name[len(ns) + 1 :]
    return name


# --------------------------------------------------------------------------------------------
# lake


def run_lake(args: list[str], lean_args: LeanArgs | None, source: str | None) -> int:
    if not args or args[0] in ("--version", "-V"):
        if args:
            _write(LAKE_VERSION + "\n")
            return 0
        _write("fake lake: no command given\n", sys.stderr)
        return 1
    cmd = args[0]
    if cmd == "build":
        _write("Build completed successfully.\n")
        return 0
    if cmd == "env":
        rest = args[1:]
        if not rest:
            return 0
        if lean_args is not None:
            return run_lean(lean_args, source)
        if rest[0] == "printenv" and rest[1:] == ["LEAN_PATH"]:
            _write(os.environ.get("LEAN_PATH", "") + "\n")
            return 0
        return subprocess.run(rest, check=False).returncode
    _write(f"error: fake lake does not implement '{cmd}'\n", sys.stderr)
    return 1


# --------------------------------------------------------------------------------------------
# controller side (used by the pytest fixture)

_WRAPPER = """#!{python}
import runpy
import sys

_ns = runpy.run_path({script!r}, run_name="fake_lean_double")
sys.exit(_ns["main"]({prog!r}, sys.argv[1:]))
"""


class FakeLean:
    """Handle returned by the ``fake_lean`` fixture.

    ``setenv`` is how environment variables are set (``monkeypatch.setenv`` in the fixture).
    """

    def __init__(
        self,
        bin_dir: str | os.PathLike[str],
        work_dir: str | os.PathLike[str],
        setenv: Callable[[str, str], None],
    ) -> None:
        from pathlib import Path

        self.bin_dir = Path(bin_dir)
        self.log_path = Path(work_dir) / "fake_lean_log.jsonl"
        self.scenario_path = Path(work_dir) / "fake_lean_scenario.json"
        self._setenv = setenv
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        script = os.path.abspath(__file__)
        for prog in ("lean", "lake"):
            exe = self.bin_dir / prog
            exe.write_text(
                _WRAPPER.format(python=sys.executable, script=script, prog=prog), encoding="utf-8"
            )
            exe.chmod(0o755)
        self.log_path.touch()
        setenv("PATH", f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        setenv("FAKE_LEAN_LOG", str(self.log_path))

    def scenario(self, rules: list[dict[str, Any]]) -> None:
        """Write ``{"rules": rules}`` and point ``FAKE_LEAN_SCENARIO`` at it."""
        self.scenario_path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
        self._setenv("FAKE_LEAN_SCENARIO", str(self.scenario_path))

    def invocations(self) -> list[dict[str, Any]]:
        """Every logged invocation, oldest first."""
        text = self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def checked_sources(self) -> list[str]:
        """The source text of every invocation that read a file (or stdin)."""
        return [inv["source"] for inv in self.invocations() if inv.get("source") is not None]


# --------------------------------------------------------------------------------------------
# entry point


def _log(argv: list[str], file: str | None, source: str | None) -> None:
    path = os.environ.get("FAKE_LEAN_LOG")
    if not path:
        return
    record = {
        "argv": argv,
        "cwd": os.getcwd(),
        "file": file,
        "source": source,
        "env_path": os.environ.get("PATH", ""),
        "lean_path": os.environ.get("LEAN_PATH"),
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        os.write(fd, line)
    finally:
        os.close(fd)


def main(prog: str, args: Sequence[str]) -> int:
    """Run as ``prog`` (``"lean"`` or ``"lake"``) with command-line ``args``."""
    args = list(args)
    lean_args: LeanArgs | None = None
    if prog == "lean":
        lean_args = parse_lean_args(args)
    elif prog == "lake" and args[:2] == ["env", "lean"]:
        lean_args = parse_lean_args(args[2:])

    file: str | None = None
    source: str | None = None
    if lean_args is not None and not lean_args.version:
        if lean_args.stdin:
            source = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        elif lean_args.file is not None:
            file = lean_args.file
            try:
                with open(file, encoding="utf-8", errors="replace", newline="") as fh:
                    source = fh.read()
            except OSError:
                source = None
    _log([prog, *args], file, source)

    if prog == "lean":
        assert lean_args is not None
        return run_lean(lean_args, source)
    if prog == "lake":
        return run_lake(args, lean_args, source)
    _write(f"fake_lean: unknown program {prog!r}\n", sys.stderr)
    return 2


if __name__ == "__main__":
    _argv = sys.argv[1:]
    if _argv and _argv[0] in ("lean", "lake"):
        sys.exit(main(_argv[0], _argv[1:]))
    sys.exit(main("lean", _argv))
