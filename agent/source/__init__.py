"""Lean-aware reading of source text: tokens, commands, declarations and `sorry`s."""

from leanloop.source.document import Command, Declaration, LeanDocument
from leanloop.source.scanner import (
    LexError,
    Token,
    TokenKind,
    UnterminatedError,
    ambiguities,
    code_tokens,
    tokenize,
)

__all__ = [
    "Command",
    "Declaration",
    "LeanDocument",
    "LexError",
    "Token",
    "TokenKind",
    "UnterminatedError",
    "ambiguities",
    "code_tokens",
    "tokenize",
]
