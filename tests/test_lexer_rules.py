"""The scanner's tokens on the cases that once fooled it, and `ambiguities`.

Each expectation is what Lean's lexer (src/Lean/Parser/Basic.lean, see `test_lexer_oracle.py`
for the transliteration) reads; the oracle is asked too, so that a case here cannot drift from
Lean's rules.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import pytest
from test_lexer_oracle import BASE_TABLE, lean_classes, scanner_classes

from leanloop.source.scanner import (
    LexError,
    TokenKind,
    UnterminatedError,
    ambiguities,
    code_tokens,
    is_id_first,
    is_id_rest,
    tokenize,
)

sys.path.insert(0, str(Path(__file__).parent / "adversarial"))
from honest import HONEST


def code_words(text: str) -> list[str]:
    return [t.text for t in code_tokens(text)]


def check_lean(text: str) -> None:
    assert scanner_classes(text) == lean_classes(text, BASE_TABLE)


def test_a_comment_opener_right_after_slash_dash_does_not_nest() -> None:
    # Basic.lean `whitespace`: after `/-` the next character is skipped unseen, so `/-/- -/` is
    # one closed comment and what follows is code that turns the kernel check off.
    text = "/-/- -/ set_option debug.skipKernelTC true in\ntheorem x : False := sorry"
    check_lean(text)
    [comment, *code] = tokenize(text)
    assert comment.kind is TokenKind.COMMENT and comment.text == "/-/- -/"
    assert [t.text for t in code][:3] == ["set_option", "debug.skipKernelTC", "true"]
    assert "sorry" in code_words(text)


def test_doc_comment_bodies_start_right_after_the_token() -> None:
    assert [(t.kind, t.text) for t in tokenize("/---/ x")] == [
        (TokenKind.DOC_COMMENT, "/---/"),
        (TokenKind.IDENT, "x"),
    ]
    assert code_words("/-- -/-/") == ["-", "/"]
    assert [t.text for t in tokenize("/--/ sorry -/ x")] == ["/--/ sorry -/", "x"]
    with pytest.raises(UnterminatedError):
        tokenize("/--/")
    for text in ("/---/ x", "/-- -/-/", "/--/ sorry -/ x"):
        check_lean(text)


def test_whitespace_after_the_doc_token_hides_a_closer() -> None:
    # The token `/--` is followed by `whitespace`, which reads `/-/- -/` as a plain comment
    # (skipping its third character), so the body starts at the second `-/`, and `sorry` is code.
    text = "/-- /-/- -/ -/ sorry -/ -/"
    check_lean(text)
    assert code_words(text) == ["sorry", "-", "/", "-", "/"]
    # A `--` right after `/--` runs to the end of the line before the body starts.
    text = "/-- -- -/\nsorry -/ x"
    check_lean(text)
    assert code_words(text) == ["x"]


def test_nested_comments() -> None:
    text = "/- /- -/ -/ x /- a /- b -/ c -/ y"
    check_lean(text)
    assert code_words(text) == ["x", "y"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x //-- y\n#exit", ["x", "//", "#exit"]),
        ("a \\/-- b\n#exit", ["a", "\\/", "#exit"]),
        ("a /\\-- b\n#exit", ["a", "/\\", "#exit"]),
        ("h <-- b", ["h", "<-", "-", "b"]),
    ],
)
def test_a_symbol_is_read_by_longest_match_before_a_comment(text: str, words: list[str]) -> None:
    check_lean(text)
    assert code_words(text) == words
    assert ambiguities(text), "the reading depends on the token table"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ('"a\\"b" x', [TokenKind.STRING, TokenKind.IDENT]),
        ("'\\'' x", [TokenKind.CHAR, TokenKind.IDENT]),
        ('\'"\' "x"', [TokenKind.CHAR, TokenKind.STRING]),
        ("'\n' x", [TokenKind.CHAR, TokenKind.IDENT]),
        ('r#"a "sorry" b"# x', [TokenKind.STRING, TokenKind.IDENT]),
        ('r##"a"#"## x', [TokenKind.STRING, TokenKind.IDENT]),
        ('r#"a"# sorry "#"', [TokenKind.STRING, TokenKind.IDENT, TokenKind.STRING]),
        ('"a\\\n   b" x', [TokenKind.STRING, TokenKind.IDENT]),
        ("f '' s", [TokenKind.IDENT, TokenKind.SYMBOL, TokenKind.IDENT]),
        ("f ⁻¹' s", [TokenKind.IDENT, TokenKind.SYMBOL, TokenKind.IDENT]),
    ],
)
def test_strings_and_characters(text: str, kinds: list[TokenKind]) -> None:
    check_lean(text)
    assert [t.kind for t in tokenize(text)] == kinds


def test_interpolation_nests_and_its_holes_are_code() -> None:
    text = 's!"{s!"{sorry}"}" x'
    check_lean(text)
    assert code_words(text) == ["s!", '"{', "s!", '"{', "sorry", '}"', '}"', "x"]
    assert ambiguities(text) == []


def test_a_plain_string_holding_a_brace_is_ambiguous() -> None:
    # `throwError "{x}"` or user syntax may read it as interpolated: then `x` is code.
    [(offset, why)] = ambiguities('foo "{sorry}"')
    assert offset == 4 and "interpolated" in why
    assert ambiguities('foo "\\{x}"') == []


def test_strings_read_as_interpolated_after_a_token_that_needs_imports_are_ambiguous() -> None:
    assert [t.kind for t in tokenize('m!"{x}"')][1] is TokenKind.STRING
    assert ambiguities('m!"{x}"')
    assert ambiguities('m!"x"') == []


@pytest.mark.parametrize(
    "text", ['"a\\qb"', '"\\x4g"', '"\\u12"', '"a\\\n\n b"', '"\\ \n"', '"a\\ b"']
)
def test_an_invalid_escape_is_a_lex_error(text: str) -> None:
    with pytest.raises(LexError, match=r"escape|newline"):
        tokenize(text)


def test_name_literals_keep_the_name_visible() -> None:
    # `` `sorryAx `` names a constant for metaprogramming (`mkConst ``sorryAx`): the screen
    # should see the name, so the backtick is a symbol and the name an identifier.
    assert code_words("mkConst ``sorryAx") == ["mkConst", "`", "`", "sorryAx"]
    assert code_words("`«a -- b» x") == ["`", "«a -- b»", "x"]
    assert ambiguities("`«a -- b» x") == []


def test_identifiers_and_numbers() -> None:
    assert code_words("h.1 x.«y -- z».w α₁ é 2. 0x1F 1_000 2.5e-3") == [
        "h", ".", "1", "x.«y -- z».w", "α₁", "é", "2.", "0x1F", "1_000", "2.5e-3",
    ]  # fmt: skip
    assert is_id_first("é") and is_id_first("α") and not is_id_first("λ")
    assert is_id_rest("₁") and is_id_rest("'") and not is_id_rest("-")


@pytest.mark.parametrize(
    "text",
    [
        "a +-- b",
        "x*/- c -/",
        '("a")',
        "⁻¹'x'",
        "h--c",
        "a «b»",
        "x.«y»",
        "f (h)'a'",
        '(r"a")',
        "2.--c",
        "a*-/",
        '#[s!"{x}"]',
    ],
)
def test_a_starter_right_after_a_symbol_or_name_is_ambiguous(text: str) -> None:
    if text in ("a «b»", "x.«y»"):
        assert ambiguities(text) == []  # after a space, and inside one name: certain
    else:
        assert ambiguities(text), text


def test_certain_boundaries_are_not_ambiguous() -> None:
    for text in (
        "x -- c",
        "x /- c -/ y",
        '"a"--c',
        "'a'--c",
        "2--c",
        "(x) -- c",
        "exact h -- done",
        "/- a -/-- b",
        's!"{x}"',
        "f ⁻¹' s",
        "f '' s",
        "simp [h₁, h₂] at h' ⊢",
    ):
        assert ambiguities(text) == [], text


def test_no_honest_proof_is_ambiguous() -> None:
    flagged = {
        c.id: [
            a for p in ([c.proof] if isinstance(c.proof, str) else c.proof) for a in ambiguities(p)
        ]
        for c in HONEST
    }
    assert {k: v for k, v in flagged.items() if v} == {}
    for c in HONEST:
        assert ambiguities(c.file) == [], c.id


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("a +-- b\nsorry", {"+-"}),  # a file's own `notation "+-"`: the `--` is code
        ("x */- c -/ sorry", {"*/"}),
        ("p (\" '\"'x'", {'("'}),
        ("f ''a' b", {"-''"}),  # without Mathlib's `''` the `'a'` is a character literal
    ],
)
def test_a_token_from_notation_moves_a_boundary_and_is_flagged(text: str, table: set[str]) -> None:
    other = (BASE_TABLE | table) - {"''"} if "-''" in table else BASE_TABLE | table
    assert lean_classes(text, other) != lean_classes(text, BASE_TABLE)
    assert ambiguities(text), "the scanner alone cannot know which reading Lean takes"


@pytest.mark.parametrize(
    "text",
    [
        "/-" * 20000 + "-/" * 20000,
        '"' + "\\n" * 40000 + '"',
        '"' + "\\n" * 40000,
        's!"{' * 2000 + "x" + '}"' * 2000,  # refused: nested too deeply
        "a.«" + "b" * 80000,
        "+-" * 40000,
        "(h)'a'" * 10000,
    ],
)
def test_the_scanner_stays_linear_on_hostile_text(text: str) -> None:
    start = time.process_time()
    with contextlib.suppress(UnterminatedError):
        ambiguities(text)
    assert time.process_time() - start < 2.0


def test_hash_before_a_raw_string_is_not_a_command_word() -> None:
    # Found by the generated-text oracle: Lean's table has no `#r` token, so `#r"…"` is `#`
    # followed by a raw string, and the string's content is not code.
    from leanloop.source.scanner import TokenKind, tokenize

    kinds = [(t.kind, t.text) for t in tokenize('#r"#exit"')]
    assert kinds == [(TokenKind.SYMBOL, "#"), (TokenKind.STRING, 'r"#exit"')]
