"""The text Lean checks for a spliced proof: every free-form part of the proof inside
parentheses that Lean's parser must close exactly where leanloop put them.

A term or tactic sequence in `( … )` (Term.lean `paren`, Tactic `paren`) must be read whole
before the `)`. So a proof that would end its declaration early (a dedented line, a command
keyword no list here knows, `open X in` after the last term) is a parse error in the checked
text instead of a new command in the user's file. Each part keeps its columns: a part that spans
several lines is opened with `(` and a line break, so its first line stays where it was, and Lean's
layout rules (`checkColGe`, `checkColGt`, `withPosition`) read it as in the user's file.

The parts, by :mod:`leanloop.source.clauses`:

* the body, in parentheses of the hole's category; a body of pattern-matching alternatives as
  `:= (@fun | … => …)`: `@fun` + `matchAlts` expands exactly as a declaration's `declValEqns`
  does (`expandMatchAltsIntoMatch (useExplicit := true)` versus `expandMatchAltsWhereDecls` in
  src/Lean/Elab/BuiltinNotation.lean / Binders.lean: `@fun x => match @x with …`);
* the term of `termination_by` and the tactics of `decreasing_by`, each in parentheses, the
  keywords (and `structural`, and the `x y =>` binders) left outside;
* `where` helpers as `let rec` inside the body's parentheses: `whereDecls` expands to
  `let rec helpers; body` (`expandWhereDeclsOpt`), and `letrec` sets its position at `let`, which
  stands in the helpers' column, so the helpers are read as in the `where` block (whose position
  is its first helper). Each helper is followed by `,` and one more helper of leanloop's own:
  anything Lean would not read as part of a helper (a line a `where` block would end at, a
  command keyword from a table leanloop cannot see) is then a parse error, not a command.

Nothing of the proof is left outside parentheses but clause keywords and binder names."""

from __future__ import annotations

from leanloop.source.clauses import Shape
from leanloop.source.document import LeanDocument
from leanloop.source.scanner import TokenKind, column_of, tokenize
from leanloop.source.targets import Spliced, Target, newline_of
from leanloop.source.textmap import Assembled, Builder

PROBE_HELPER = "leanloop_probe_end"


def _first_code(text: str, start: int, end: int) -> int | None:
    for t in tokenize(text[start:end]):
        if t.kind is not TokenKind.COMMENT:
            return start + t.start
    return None


def probe(
    doc: LeanDocument,
    target: Target,
    spliced: Spliced,
    shapes: tuple[Shape, ...],
    *,
    rename: str | None = None,
) -> Assembled:
    """The target's declaration (``spliced.text[decl.start : spliced.decl_end]``) as Lean
    checks it, mapped back to offsets in ``spliced.text``. ``rename`` replaces the `example`
    keyword (a checked copy needs a name for `#print axioms`). ``shapes`` has one shape per
    proof (``spliced.parts``), with offsets into ``spliced.text`` as
    :func:`leanloop.source.clauses.shape` gives them; only the last may have clauses."""
    text = spliced.text
    d = target.decl
    nl = newline_of(doc.text)
    b = Builder(text)
    pos = d.start
    if rename is not None:
        b.copy(d.start, d.keyword)
        b.insert(rename, anchor=d.keyword)
        pos = d.keyword + len("example")
    shape = shapes[-1]

    def wrap(start: int, end: int, opener: str = "(") -> None:
        # Several lines: `(` and a line break, so the part's first line keeps its column.
        if "\n" in text[start:end]:
            b.insert(opener + nl + " " * column_of(text, start))
        else:
            b.insert(opener)
        b.copy(start, end)
        b.insert(")")

    proof_arms = spliced.arms and shape.arms
    main_end = shape.main[1]

    def body(frm: int, wrapped: bool = False) -> None:
        """From ``frm`` (the value's first token) through the last proof's body, each body
        wrapped (``wrapped``: the value is in parentheses already)."""
        at = frm
        for k, sh in enumerate(shapes):
            s0, s1 = sh.main
            b.copy(at, s0)
            alone = len(shapes) == 1 and wrapped and frm == s0
            if (proof_arms and k == len(shapes) - 1) or alone:
                b.copy(s0, s1)  # already inside the value's parentheses, or `(@fun …)`
            else:
                wrap(s0, s1)
            at = s1

    def suffix() -> int:
        at = main_end
        for clause in shape.suffix:
            if shape.where is not None:
                b.insert(nl + " " * column_of(text, clause.keyword.start))
                at = clause.keyword.start
            if clause.content is None:
                b.copy(at, clause.keyword.end)
                at = clause.keyword.end
                continue
            c0, c1 = clause.content
            b.copy(at, c0)
            if text[c0:c1] == "tailrecursion":  # `termination_by tailrecursion`: a keyword
                b.copy(c0, c1)
            else:
                wrap(c0, c1)
            at = c1
        return at

    if shape.where is None:
        if proof_arms:
            b.copy(pos, spliced.parts[-1].start)
            b.insert(" := (@fun")
            b.copy(spliced.parts[-1].start, main_end)
            b.insert(")")
        else:
            body(pos)
        at = suffix()
        b.copy(at, spliced.decl_end)
        return b.build()

    # With `where`: `:= (let rec <helpers>` then the value in parentheses, then `)`.
    region = LeanDocument(text[d.start : spliced.decl_end])
    [new] = region.declarations
    arms_at = None if new.arms is None else d.start + new.arms
    if new.assign is not None:
        b.copy(pos, d.start + new.assign + 2)
        first = _first_code(text, d.start + new.assign + 2, main_end)
        assert first is not None
    else:
        assert arms_at is not None, "the structure check refuses `where` after a structure"
        b.copy(pos, len(text[:arms_at].rstrip()))
        b.insert(" :=")
        first = arms_at
    column = shape.helper_column
    assert column is not None and shape.helpers
    b.insert(nl + " " * max(column - 1, 0) + "(let rec" + nl + " " * column)
    prev: int | None = None
    for h in shape.helpers:
        if prev is not None:
            b.insert(",")
            b.copy(prev, h.start)
        b.copy(h.start, h.end)
        prev = h.end
    # A last helper of leanloop's own, so that nothing Lean leaves unread after the model's last
    # helper can become the start of `let rec`'s body: it must be followed by `,` there, and a
    # term never is (a parse error). Not seen against real Lean (tests/test_real_gate.py).
    b.insert("," + nl + " " * column + f"{PROBE_HELPER} : True := trivial")
    # A `(` at column 0 ends the helpers (left of their column) and starts the value.
    b.insert(nl + ("(@fun" if arms_at is not None else "(") + nl + " " * column_of(text, first))
    body(first, wrapped=True)
    b.insert("))")
    suffix()
    return b.build()
