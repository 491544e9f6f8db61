"""What a candidate proof may contain. The default is strict; a project can loosen or tighten it
with `allow = [...]` / `forbid = [...]` in its leanloop settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Each entry: token -> why it is refused. Tokens are matched as whole Lean tokens outside
# comments and strings.
DEFAULT_FORBIDDEN: dict[str, str] = {
    "sorry": "it leaves the goal unproved",
    "admit": "it leaves the goal unproved",
    "sorryAx": "it is the `sorry` axiom",
    "axiom": "it adds an axiom",
    # Commands: a proof that contains one has left its declaration.
    **{
        kw: "it is a command, and a proof must stay inside its declaration"
        for kw in [
            "theorem",
            "lemma",
            "def",
            "abbrev",
            "example",
            "instance",
            "structure",
            "inductive",
            "class",
            "opaque",
            "attribute",
            "namespace",
            "section",
            "end",
            "import",
            "variable",
            "universe",
            "mutual",
            "export",
            "omit",
            "include",
            "deriving",
            "declare_syntax_cat",
            "register_option",
            "private",
            "protected",
            "noncomputable",
            # Commands from newer Lean and Mathlib that would also start a new declaration.
            "public",
            "meta",
            "module",
            "prelude",
            "alias",
            "irreducible_def",
            "proof_wanted",
            "add_decl_doc",
            "assert_not_exists",
            "seal",
            "unseal",
        ]
    },
    "#": "it starts a `#` command",
    "@[": "it attaches attributes, which belong to declarations, not proofs",
    "notation": "it changes what the statement's notation means",
    "infix": "it changes what the statement's notation means",
    "infixl": "it changes what the statement's notation means",
    "infixr": "it changes what the statement's notation means",
    "prefix": "it changes what the statement's notation means",
    "postfix": "it changes what the statement's notation means",
    "local": "local notation, instances or attributes can change what the statement means",
    "scoped": "scoped notation, instances or attributes can change what the statement means",
    "macro": "it runs user-defined syntax rewriting",
    "macro_rules": "it can rewrite a tactic into anything, `sorry` included",
    "syntax": "it defines new syntax",
    "elab": "it runs arbitrary elaboration code",
    "elab_rules": "it runs arbitrary elaboration code",
    "run_tac": "it runs arbitrary metaprogram code",
    "run_cmd": "it runs arbitrary metaprogram code",
    "run_elab": "it runs arbitrary metaprogram code",
    "run_meta": "it runs arbitrary metaprogram code",
    "by_elab": "it runs arbitrary elaboration code",
    "unsafe": "unsafe code is not checked by the kernel",
    "partial": "partial definitions are opaque to the kernel",
    "implemented_by": "it swaps in code the kernel never checks",
    "extern": "it swaps in code the kernel never checks",
    "csimp": "it swaps in code the kernel never checks",
    "initialize": "it runs code when the file is loaded",
    "builtin_initialize": "it runs code when the file is loaded",
    "native_decide": "it trusts compiled code instead of the kernel",
    "native": "`decide +native` trusts compiled code instead of the kernel",
    "ofReduceBool": "it trusts compiled code instead of the kernel",
    "Lean.ofReduceBool": "it trusts compiled code instead of the kernel",
    "trustCompiler": "it trusts compiled code instead of the kernel",
    "Lean.trustCompiler": "it trusts compiled code instead of the kernel",
}
NATIVE_TOKENS = frozenset(
    {
        "native_decide",
        "native",
        "ofReduceBool",
        "Lean.ofReduceBool",
        "trustCompiler",
        "Lean.trustCompiler",
    }
)
# `open X in` and `set_option o v in` are proof-local; without `in` they are commands.
SCOPED_BY_IN = frozenset({"open", "set_option"})
# Option names that switch off checking, such as `debug.skipKernelTC`.
FORBIDDEN_OPTION_PREFIXES = ("debug.",)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    forbidden: dict[str, str] = DEFAULT_FORBIDDEN
    allow_native_decide: bool = False
    # Tokens the project allowed explicitly; the screen leaves them alone everywhere.
    allowed: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        allow: list[str] | None = None,
        forbid: list[str] | None = None,
        allow_native_decide: bool = False,
    ) -> Policy:
        forbidden = dict(DEFAULT_FORBIDDEN)
        for tok in forbid or []:
            forbidden[tok] = "the project's policy forbids it"
        for tok in allow or []:
            forbidden.pop(tok, None)
        if allow_native_decide:
            for tok in NATIVE_TOKENS:
                forbidden.pop(tok, None)
        return cls(
            forbidden=forbidden,
            allow_native_decide=allow_native_decide,
            allowed=frozenset(allow or []),
        )
