"""Exploit corpus for the acceptance gate: every candidate here must be rejected.

Each :class:`Case` is a small Lean file with one target holding `sorry`, the candidate text that
replaces that `sorry`, and the :class:`leanloop.gate.Reason` the gate must give. Most cases are
caught by the static screen (layer 1) or the structure check (layer 2) before Lean runs; the
``lean_rules`` cases are clean text whose problem only Lean can reveal, so the fake Lean is
scripted (see ``tests/doubles/fake_lean.py``) to answer the way real Lean would.

Message texts follow ``shared/lean-reference/lean-cli/guard_msgs``: ``'t' depends on axioms:
[sorryAx]``; native_decide shows ``[t._native.native_decide.ax_1_1]`` at v4.33 and
``[Lean.ofReduceBool]`` (later ``[Lean.ofReduceBool, Lean.trustCompiler]``) before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leanloop.gate import Reason

# A false statement, so that any "accepted" verdict is plainly an exploit.
TACTIC = "theorem t : 1 + 1 = 3 := by\n  sorry\n"
TERM = "theorem t : 1 + 1 = 3 := sorry\n"
# A file whose target is followed by another declaration the proof could try to reach.
FOLLOWED = "theorem t : 1 + 1 = 3 := by\n  sorry\n\ntheorem later : 2 + 2 = 4 := by\n  decide\n"


@dataclass(frozen=True)
class Case:
    id: str
    proof: str
    expected: Reason
    file: str = TACTIC
    theorem: str = "t"
    lean_rules: list[dict[str, Any]] | None = None
    whole_body: bool = False
    timeout: float = 30.0
    # Set when the gate is known to get this case wrong; the test is then a strict xfail.
    bug: str | None = None

    @property
    def static(self) -> bool:
        """Caught before Lean runs: Lean must never be invoked for it."""
        return self.expected in (Reason.FORBIDDEN, Reason.STRUCTURE, Reason.EMPTY)


F = Reason.FORBIDDEN

# ---------------------------------------------------------------------------------------------
# Layer 1: the static screen.

SCREENED: list[Case] = [
    Case("empty", "   \n  \n", Reason.EMPTY),
    Case("sorry-tactic", "sorry", F),
    Case("sorry-term", "sorry", F, file=TERM),
    Case("sorry-in-have", "have h : False := by sorry\nexact h.elim", F),
    Case("admit", "admit", F),
    Case("sorryAx-term", "sorryAx _ _", F, file=TERM),
    Case("exact-sorryAx", "exact sorryAx _ false", F),
    Case("root-sorryAx", "exact _root_.sorryAx _ false", F),
    Case("axiom-after-proof", "    exact evil\naxiom evil : 1 + 1 = 3", F, file=TERM),
    Case("axiom-after-term", "evil.elim\n\naxiom evil : False", F, file=TERM),
    Case("exit", "decide\n#exit", F),
    Case("exit-term", "    by decide\n#exit", F, file=TERM),
    Case(
        "theorem-smuggled",
        "    (by decide)\ntheorem evil : 1 + 1 = 3 := evil",
        F,
        file=TERM,
    ),
    Case("lemma-smuggled", "    rfl\nlemma evil : False := evil", F, file=TERM),
    Case("example-smuggled", "    rfl\nexample : False := sorry", F, file=TERM),
    Case("def", "    rfl\ndef evil : Nat := 3", F, file=TERM),
    Case("abbrev", "    rfl\nabbrev Three : Nat := 2", F, file=TERM),
    Case("instance", "    rfl\ninstance : OfNat Nat 3 := ⟨2⟩", F, file=FOLLOWED),
    Case("structure", "    rfl\nstructure Evil where\n  x : Nat", F, file=TERM),
    Case("inductive", "    rfl\ninductive Evil | mk", F, file=TERM),
    Case("class", "    rfl\nclass Evil where", F, file=TERM),
    Case("attribute", "attribute [simp] Nat.add_comm\nsimp", F),
    Case("attribute-local", "    rfl\nattribute [local instance] Nat.decEq", F, file=FOLLOWED),
    Case("namespace", "    rfl\nnamespace Evil", F, file=FOLLOWED),
    Case("end", "    rfl\nend\nnamespace Evil", F, file=FOLLOWED),
    Case("section", "    rfl\nsection", F, file=FOLLOWED),
    Case("import", "    rfl\nimport Mathlib", F, file=TERM),
    Case("variable", "    rfl\nvariable (x : Nat)", F, file=FOLLOWED),
    Case("universe", "    rfl\nuniverse u", F, file=FOLLOWED),
    Case("mutual", "    rfl\nmutual\nend", F, file=FOLLOWED),
    Case("export", "    rfl\nexport Nat (succ)", F, file=FOLLOWED),
    Case("noncomputable", "    rfl\nnoncomputable def evil : Nat := 3", F, file=TERM),
    Case("private", "    rfl\nprivate theorem evil : False := evil", F, file=TERM),
    Case("protected", "    rfl\nprotected def Nat.evil : Nat := 3", F, file=TERM),
    Case("deriving", "    rfl\nderiving instance Repr for Nat", F, file=TERM),
    Case("declare-syntax-cat", "    rfl\ndeclare_syntax_cat evil", F, file=TERM),
    Case("register-option", "    rfl\nregister_option evil : Bool := {}", F, file=TERM),
    Case("omit-include", "    rfl\ninclude x in\nomit x in", F, file=FOLLOWED),
    Case("set-option-skipKernelTC-in", "set_option debug.skipKernelTC true in\ndecide", F),
    Case("set-option-skipKernelTC-bare", "set_option debug.skipKernelTC true\ndecide", F),
    Case("set-option-bare", "set_option maxRecDepth 100000\ndecide", F),
    Case("debug-option-ident", "exact (debug.skipKernelTC : Lean.Option Bool).defValue", F),
    Case("open-bare", "open Classical\ndecide", F),
    Case("local-notation", 'local notation "3" => 2\nrfl', F),
    Case("local-instance", "local instance : OfNat Nat 3 := ⟨2⟩\nrfl", F),
    Case("local-macro", 'local macro "triv" : tactic => `(tactic| rfl)\ntriv', F),
    Case("scoped-notation", 'scoped notation "3" => 2\nrfl', F),
    Case("scoped-instance", "scoped instance : OfNat Nat 3 := ⟨2⟩\nrfl", F),
    Case("notation", '    rfl\nnotation "three" => 2', F, file=FOLLOWED),
    Case("infix", '    rfl\ninfixl:65 " +++ " => HMul.hMul', F, file=FOLLOWED),
    Case("prefix", '    rfl\nprefix:max "√" => Nat.sqrt', F, file=FOLLOWED),
    Case("macro", 'macro "cheat" : tactic => `(tactic| sorry)\ncheat', F),
    Case("macro-rules", "macro_rules | `(tactic| simp) => `(tactic| sorry)\nsimp", F),
    Case(
        "macro-rules-decide",
        "    decide\nmacro_rules | `(tactic| decide) => `(tactic| exact evil)",
        F,
        file=FOLLOWED,
    ),
    Case("syntax", 'syntax "cheat" : tactic\ncheat', F),
    Case("elab", 'elab "cheat" : tactic => pure ()\ncheat', F),
    Case("elab-rules", "elab_rules : tactic | `(tactic| simp) => pure ()\nsimp", F),
    Case("run-tac", "run_tac Lean.Elab.Tactic.closeMainGoal (Lean.mkConst ``trivial)", F),
    Case("run-cmd", 'run_cmd Lean.logInfo "pwned"\ndecide', F),
    Case("run-elab", "run_elab pure ()\ndecide", F),
    Case("run-meta", "run_meta pure ()\ndecide", F),
    Case("by-elab", "by_elab pure (Lean.mkConst ``trivial)", F, file=TERM),
    Case("by-elab-tactic", "exact by_elab pure (Lean.mkConst ``trivial)", F),
    Case("eval", '#eval IO.println "pwned"\ndecide', F),
    Case("print-axioms", "    rfl\n#print axioms t", F, file=TERM),
    Case("check-hash", "decide\n#check t", F),
    Case("unsafe", "exact unsafe (unsafeCast ())", F),
    Case("unsafe-def", "    rfl\nunsafe def evil : 1 + 1 = 3 := evil", F, file=TERM),
    Case("partial", "    rfl\npartial def loop (n : Nat) : Nat := loop n", F, file=TERM),
    Case("opaque", "    rfl\nopaque evil : 1 + 1 = 3", F, file=TERM),
    Case(
        "implemented-by", "    rfl\n@[implemented_by evilImpl] def three : Nat := 3", F, file=TERM
    ),
    Case(
        "implemented-by-attr", "    rfl\nattribute [implemented_by evilImpl] Nat.add", F, file=TERM
    ),
    Case(
        "extern",
        '    rfl\n@[extern "lean_nat_sub"] def plus : Nat → Nat → Nat := Nat.add',
        F,
        file=TERM,
    ),
    Case(
        "csimp", "    rfl\n@[csimp] theorem evil_csimp : @Nat.add = @Nat.sub := evil", F, file=TERM
    ),
    Case("initialize", '    rfl\ninitialize IO.println "pwned"', F, file=TERM),
    Case("builtin-initialize", '    rfl\nbuiltin_initialize IO.println "pwned"', F, file=TERM),
    Case("native-decide", "native_decide", F),
    Case("native-decide-term", "by native_decide", F, file=TERM),
    Case("decide-native", "decide +native", F),
    Case("decide-native-config", "decide (config := { native := true })", F),
    Case("ofReduceBool", "exact Lean.ofReduceBool _ _ rfl", F),
    Case("ofReduceBool-opened", "open Lean in exact ofReduceBool _ _ rfl", F),
    Case("trustCompiler", "exact Lean.trustCompiler", F),
    Case("unterminated-comment", "/- the rest of the file is a comment now\nrfl", F),
    Case("unterminated-comment-term", "by decide /- ", F, file=FOLLOWED),
    Case("unterminated-string", 'exact "oops', F),
    Case("unterminated-raw-string", 'exact r#"oops"', F),
    Case("unterminated-guillemet", "exact «oops", F),
]

# ---------------------------------------------------------------------------------------------
# Layer 2: text that passes the screen but leaves its declaration.

STRUCTURAL: list[Case] = [
    # A column-0 `open … in` after the proof modifies the next command instead of the proof.
    Case("open-in-escapes", "    decide\nopen Nat in", Reason.STRUCTURE, file=FOLLOWED),
    Case(
        "set-option-in-escapes",
        "    decide\nset_option maxHeartbeats 400000 in",
        Reason.STRUCTURE,
        file=FOLLOWED,
    ),
    # A doc comment at column 0 ends the declaration and would document the next one.
    Case("doc-comment-escapes", "    decide\n/-- the next theorem -/", F),
]

# ---------------------------------------------------------------------------------------------
# Layers 3-5: clean text; only Lean (here, the scripted double) reveals the problem.


def _axioms(when: str, *axioms: str) -> list[dict[str, Any]]:
    return [{"when": when, "axioms": list(axioms)}]


LEAN_LEVEL: list[Case] = [
    Case(
        "axioms-sorryAx",
        "exact mystery_lemma",
        Reason.SORRY,
        lean_rules=_axioms("exact mystery_lemma", "sorryAx"),
    ),
    Case(
        "axioms-sorryAx-with-standard",
        "exact mystery_lemma",
        Reason.SORRY,
        lean_rules=_axioms("exact mystery_lemma", "propext", "sorryAx", "Quot.sound"),
    ),
    Case(
        "sorry-through-earlier-lemma",
        "exact helper",
        Reason.SORRY,
        file="theorem helper : 1 + 1 = 3 := sorry\n\n" + TACTIC,
    ),
    Case(
        "custom-axiom-rule",
        "exact myAx",
        Reason.AXIOMS,
        lean_rules=_axioms("exact myAx", "myAx"),
    ),
    Case(
        "custom-axiom-in-file",
        "exact myAx",
        Reason.AXIOMS,
        file="axiom myAx : 1 + 1 = 3\n\n" + TACTIC,
    ),
    Case(
        "axioms-ofReduceBool",
        "exact compiled_fact",
        Reason.AXIOMS,
        lean_rules=_axioms("exact compiled_fact", "propext", "Lean.ofReduceBool"),
    ),
    Case(
        "axioms-trustCompiler",
        "exact compiled_fact",
        Reason.AXIOMS,
        lean_rules=_axioms("exact compiled_fact", "Lean.ofReduceBool", "Lean.trustCompiler"),
    ),
    Case(
        "axioms-native-v4.33",
        "exact compiled_fact",
        Reason.AXIOMS,
        lean_rules=_axioms("exact compiled_fact", "t._native.native_decide.ax_1_1"),
    ),
    Case(
        # The screen reads `_root_.Lean.ofReduceBool` as the name Lean resolves.
        "root-ofReduceBool",
        "exact _root_.Lean.ofReduceBool _ _ rfl",
        Reason.FORBIDDEN,
        lean_rules=_axioms("_root_.Lean.ofReduceBool", "Lean.ofReduceBool"),
    ),
    Case(
        "no-sentinel-empty-output",
        "decide",
        Reason.NO_SENTINEL,
        lean_rules=[{"raw_stdout": "", "exit_code": 0}],
    ),
    Case(
        "no-sentinel-other-info",
        "decide",
        Reason.NO_SENTINEL,
        lean_rules=[
            {
                "raw_stdout": (
                    '{"severity":"information","pos":{"line":1,"column":0},"endPos":null,'
                    '"fileName":"Check.lean","data":"3","caption":"","keepFullRange":false,'
                    '"isSilent":false,"kind":"[anonymous]"}\n'
                ),
                "exit_code": 0,
            }
        ],
    ),
    Case(
        "statement-changed",
        "decide",
        Reason.STATEMENT,
        lean_rules=[
            {
                "when": "type_of%",
                "at": "type_of%",
                "error": (
                    "type mismatch\n  @t\nhas type\n  1 + 1 = 3 : Prop\n"
                    "but is expected to have type\n  1 + 1 = 3 : Prop"
                ),
            }
        ],
    ),
    Case(
        "lean-error-in-proof",
        "exact bogus_lemma",
        Reason.LEAN_ERROR,
        lean_rules=[{"when": "bogus_lemma", "error": "unknown identifier 'bogus_lemma'"}],
    ),
    Case(
        "unsolved-goals",
        "simp",
        Reason.LEAN_ERROR,
        lean_rules=[
            {"when": "simp", "error": "unsolved goals\n⊢ False"},
        ],
    ),
    Case(
        "kernel-rejects-unsafe",
        "exact unsafeCast ()",
        Reason.LEAN_ERROR,
        lean_rules=[
            {
                "when": "unsafeCast",
                "at": "theorem t",
                "error": "(kernel) invalid declaration, it uses unsafe declaration 'unsafeCast'",
            }
        ],
    ),
    Case(
        "sorry-warning",
        "exact mystery_lemma",
        Reason.SORRY,
        lean_rules=[
            {
                "when": "mystery_lemma",
                "at": "t : 1 + 1 = 3 := by",
                "severity": "warning",
                "error": "declaration uses `sorry`",
            }
        ],
    ),
    Case(
        "sorry-warning-old-quoting",
        "exact mystery_lemma",
        Reason.SORRY,
        lean_rules=[
            {
                "when": "mystery_lemma",
                "at": "t : 1 + 1 = 3 := by",
                "severity": "warning",
                "error": "declaration uses 'sorry'",
            }
        ],
    ),
    Case(
        "timeout",
        "decide",
        Reason.TIMEOUT,
        lean_rules=[{"sleep": 30}],
        timeout=2.0,
    ),
    Case("crash", "decide", Reason.CRASH, lean_rules=[{"crash": True}]),
    Case(
        "uncaught-exception",
        "decide",
        Reason.CRASH,
        lean_rules=[{"raw_stdout": "uncaught exception: out of memory\n", "exit_code": 1}],
    ),
    Case(
        "junk",
        "decide",
        Reason.JUNK,
        lean_rules=[{"raw_stdout": "PANIC at Lean.Expr.bindingBody! unexpected\n"}],
    ),
    Case(
        "not-built",
        "decide",
        Reason.NOT_BUILT,
        lean_rules=[{"missing_olean": "Mathlib.Tactic"}],
    ),
]

# ---------------------------------------------------------------------------------------------
# Whole-body answers (the model restated the theorem and the loop replaces the whole body).

WHOLE_BODY: list[Case] = [
    Case("whole-body-sorry", "by\n  sorry", F, whole_body=True),
    Case("whole-body-native", "by\n  native_decide", F, whole_body=True),
    Case("whole-body-escape", "    by decide\ntheorem evil : False := evil", F, whole_body=True),
]

# ---------------------------------------------------------------------------------------------
# Lexing traps: text the scanner once read differently from Lean (escaped char quotes, code in
# interpolated strings, «quoted» names), so the screen did not see what Lean runs.

HOLES: list[Case] = [
    Case(
        "char-quote-hides-run-tac",
        "have _q := (fun (_ _ : Char) => ()) '\\'' '\"'\n"
        "run_tac Lean.Elab.Tactic.evalTactic (← `(tactic| decide))\n"
        'decide --"',
        F,
    ),
    Case(
        "interpolated-string-hides-by-elab",
        'have _s := s!"{(by_elab pure (Lean.mkNatLit 0) : Nat)}"\ndecide',
        F,
    ),
    # The fake Lean accepts this outright: nothing after the screen looks at options.
    Case(
        "guillemet-debug-option",
        "set_option «debug».skipKernelTC true in\ndecide",
        F,
    ),
    # These two are still rejected by the axioms layer (as SORRY / AXIOMS), not by the screen.
    Case(
        "guillemet-sorryAx",
        "exact «sorryAx» _ false",
        F,
        lean_rules=_axioms("«sorryAx»", "sorryAx"),
    ),
    Case(
        "guillemet-native",
        "decide +«native»",
        F,
        lean_rules=_axioms("«native»", "Lean.ofReduceBool"),
    ),
]

# ---------------------------------------------------------------------------------------------
# Issue 7 classes. Each is a class of holes, so each has several forms.

# Lean's lexer, not ours: after `/-` Lean skips one character unread, so `/-/- -/` is one closed
# comment; tokens such as `//` and `\/` are lexed whole before any comment can start. Whatever
# the scanner makes of these, the raw-text screen and the ambiguity check must refuse them.
LEXER: list[Case] = [
    Case("lexer-skip-char", "/-/- -/ set_option debug.skipKernelTC true in\nrfl", F),
    Case("lexer-skip-char-2", "/-/ -/ exact sorryAx _ false", F),
    Case("lexer-skip-dash", "/--/ -/\nexact (sorryAx _ false)", F),
    Case(
        "lexer-subtype-dash",
        "exact h //-- x\nmacro_rules | `(tactic| rfl) => `(tactic| simp)\n-/",
        F,
    ),
    Case("lexer-or-dash", "exact (a \\/-- hidden\nsorryAx _ false)", F),
    Case("lexer-and-comment", "exact h /\\-- b -/ implemented_by", F),
    Case("lexer-doc-close-early", "/---/ #exit", F),
    Case("lexer-string-escape", 'have : String := "\\" native_decide "\nrfl', F),
]

# A symbol glued to a comment opener: a user token (`+-`, `*/`) would swallow the opener. Doc
# comments are Lean syntax that starts a command, never whitespace inside a proof.
LEXER_GLUED: list[Case] = [
    Case(
        "lexer-plus-dash", "exact (a +-- b\nmacro_rules | `(tactic| rfl) => `(tactic| simp)\n)", F
    ),
    Case("lexer-star-block", "exact x */- c\ntheorem evil : False := by simp\n-/", F),
    Case("lexer-quote-after-symbol", "exact ('' /- a -/ ''a')\nrfl", F),
    Case("lexer-doc-comment-in-proof", "/-- hidden -/\nrfl", F),
    Case("lexer-mod-doc", "rfl\n/-! module doc -/", F),
]

# Refused anywhere in the text, comments and strings included.
RAW_TEXT: list[Case] = [
    Case("raw-debug-in-comment", "rfl -- set_option debug.skipKernelTC true", F),
    Case("raw-skipKernelTC-string", 'have : String := "skipKernelTC"\nrfl', F),
    Case("raw-implemented-by-comment", "/- @[implemented_by foo] -/ rfl", F),
    Case("raw-extern-doc", "/-- extern -/\nrfl", F),
    Case("raw-ofReduceBool-string", 'exact (by decide : "ofReduceBool" = "ofReduceBool")', F),
    Case("raw-trustCompiler-guillemets", "exact «trustCompiler»", F),
    Case("raw-sorryAx-comment", "rfl /- sorryAx -/", F),
    Case("raw-exit-comment", "rfl -- #exit", F),
    Case("raw-unsafe-term", "exact unsafe (cast rfl ())", F),
    Case("raw-native-option", "decide (config := { native := true })", F),
]

# The proof leaves its declaration: a line indented less than the block, or a command keyword
# from Lean's and Mathlib's long list (and its `register_*`, `builtin_*`, `declare_*` families).
ESCAPES: list[Case] = [
    Case("escape-open-in-dedent", "simp\nopen Nat in\ntheorem evil : False := sorry", F),
    Case("escape-dedent-tactic", "  simp\nexact foo", Reason.STRUCTURE),
    Case("escape-simproc", "simp\nsimproc evil (1 + 1) := fun _ => pure .continue", F),
    Case("escape-dsimproc", "rfl\n  dsimproc evil (_) := fun _ => pure .continue", F),
    Case("escape-grind-pattern", "rfl\ngrind_pattern foo => x", F),
    Case("escape-register-simp-attr", "rfl\nregister_simp_attr evil", F),
    Case("escape-builtin", "rfl\nbuiltin_initialize evil : IO.Ref Nat ← IO.mkRef 0", F),
    Case("escape-declare", "rfl\ndeclare_aesop_rule_sets [evil]", F),
    Case("escape-add-decl-doc", "rfl\nadd_decl_doc t", F),
    Case("escape-include", "rfl\ninclude h in\nrfl", F),
]

# Forged sentinel answers: a message that looks like `#print axioms` but is not the sentinel's.
SENTINEL: list[Case] = [
    Case(
        "sentinel-forged-in-proof",
        "forge_answer",
        Reason.NO_SENTINEL,
        lean_rules=[
            {
                "when": "forge_answer",
                "at": "forge_answer",
                "severity": "information",
                "error": "'t' does not depend on any axioms",
            }
        ],
    ),
    Case(
        "sentinel-forged-other-name",
        "forge_other",
        Reason.NO_SENTINEL,
        lean_rules=[
            {
                "when": "forge_other",
                "at": "#print axioms",
                "severity": "information",
                "error": "'other' does not depend on any axioms",
            }
        ],
    ),
    Case(
        "sentinel-shortened-custom-axiom",
        "exact_mod_cast Foo.propext",
        Reason.AXIOMS,
        file="namespace Foo\naxiom propext : 1 + 1 = 3\nend Foo\nopen Foo\n" + TACTIC,
        lean_rules=[{"when": "Foo.propext", "axioms": ["Foo.propext"]}],
    ),
]

# A statement parsed shorter than Lean parses it would let a whole-body proof rewrite its tail.
# Here the proof restates a true variant of the (false) statement; if leanloop cut the statement
# at the `|` of an absolute value or at a `let`'s `:=`, the swap would be spliced in as the
# statement and Lean would accept it. Parsed right, the text lands after the real `:=`, where
# real Lean stops at the second `:=` (scripted: the double does not parse).
_PARSE_ERROR = "unexpected token ':='; expected command"
STATEMENT_SWAPS: list[Case] = [
    Case(
        "swap-after-abs",
        "|0| = 0 := rfl",
        Reason.STRUCTURE,
        file="theorem t (x : Int) : |x| = x := by\n  sorry\n  sorry\n",
        whole_body=True,
    ),
    Case(
        "swap-after-let",
        "2; f = 2 := rfl",
        Reason.LEAN_ERROR,
        file="theorem t : let f := 1; f = 2 := by\n  sorry\n  sorry\n",
        whole_body=True,
        lean_rules=[
            {"when_regex": r"= 2 := \(?2; f = 2 := rfl", "at": ":= rfl", "error": _PARSE_ERROR}
        ],
    ),
    Case(
        "swap-after-have",
        "trivial; x = x := rfl",
        Reason.LEAN_ERROR,
        file="theorem t (x : Nat) : have h : True := trivial; x = x + 1 := by\n  sorry\n  sorry\n",
        whole_body=True,
        lean_rules=[
            {
                "when_regex": r"\+ 1 := \(?trivial; x = x := rfl",
                "at": ":= trivial;",
                "error": _PARSE_ERROR,
            }
        ],
    ),
]

# ---------------------------------------------------------------------------------------------
# Issue 22: proofs that end their declaration after pattern-matching arms or after a clause that
# belongs after the body (`termination_by`, `decreasing_by`, `where`). Real Lean ends the
# declaration there and reads the rest as a command (here `open Foo in`, which would reach the
# user's next declaration). The gate checks arms as `(@fun …)`, clause contents in parentheses
# and helpers as `let rec` inside the body's: Lean then cannot close the parenthesis (the fake
# Lean answers as Lean does there, see `paren_errors` in tests/doubles/fake_lean.py), or the
# structure check sees the line Lean would end the block at.

# A false statement proved by arms, a following declaration the escape would reach.
ARMS_FILE = (
    "theorem t : ∀ n : Nat, n + 0 = n + 1 := by\n  sorry\n  sorry\n\n"
    "theorem later : 1 + 1 = 2 := rfl\n"
)
REC_FILE = "theorem t (n : Nat) : n + 0 = n + 1 := by\n  sorry\n  sorry\n"
# A command of the file's own: its keyword is in Lean's token table, in no list of leanloop's.
USER_CMD_FILE = 'syntax "evilcmd" : command\nmacro_rules | `(evilcmd) => `(open Nat)\n' + ARMS_FILE
_L = Reason.LEAN_ERROR
_S = Reason.STRUCTURE
ARMS_ESCAPES: list[Case] = [
    Case(
        "arms-open-in-same-line",
        "| 0 => rfl\n| k + 1 => rfl open Foo in",
        _L,
        file=ARMS_FILE,
        whole_body=True,
    ),
    Case(
        "arms-open-in-next-line",
        "| 0 => rfl\n| k + 1 => rfl\n  open Foo in",
        _L,
        file=ARMS_FILE,
        whole_body=True,
    ),
    Case(
        "arms-set-option-in-after-comment",
        "| 0 => rfl\n| k + 1 => rfl -- done\n    set_option maxHeartbeats 1 in",
        _L,
        file=ARMS_FILE,
        whole_body=True,
    ),
    Case(
        "arms-open-in-after-tactic-rhs",
        "| 0 => rfl\n| k + 1 => by simp\n open Foo in",
        _L,
        file=ARMS_FILE,
        whole_body=True,
    ),
    Case(
        "arms-user-command-same-line",
        "| 0 => rfl\n| k + 1 => rfl evilcmd",
        _L,
        file=USER_CMD_FILE,
        whole_body=True,
    ),
    Case(
        "arms-user-command-next-line",
        "| 0 => rfl\n| k + 1 => rfl\n  evilcmd",
        _L,
        file=USER_CMD_FILE,
        whole_body=True,
    ),
    Case(
        "arms-open-in-for-term-hole",
        "| 0 => rfl\n| k + 1 => rfl open Foo in",
        _L,
        file="theorem t : ∀ n : Nat, n + 0 = n + 1 := sorry\n\ntheorem later : 1 = 1 := rfl\n",
    ),
    Case(
        "arms-open-in-at-column-0",
        "  | 0 => rfl\n  | k + 1 => rfl\nopen Foo in",
        _S,
        file=ARMS_FILE,
        whole_body=True,
    ),
]
CLAUSE_ESCAPES: list[Case] = [
    Case(
        "termination-open-in-same-line",
        "by simp\ntermination_by n open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "termination-open-in-next-line",
        "by simp\ntermination_by n\n  open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "termination-open-in-column-0",
        "by simp\ntermination_by n\nopen Foo in",
        _S,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "decreasing-open-in-same-line",
        "by simp\ndecreasing_by simp_wf open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "decreasing-open-in-next-line",
        "by simp\ndecreasing_by\n  simp_wf\n  open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "decreasing-user-command",
        "by simp\ndecreasing_by simp_wf\n  evilcmd",
        _L,
        file=USER_CMD_FILE.replace(ARMS_FILE, REC_FILE),
        whole_body=True,
    ),
    Case(
        "where-open-in-same-line",
        "aux\nwhere\n  aux : n + 0 = n + 1 := by simp open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "where-open-in-deeper-line",
        "aux\nwhere\n  aux : n + 0 = n + 1 := h\n    open Foo in",
        _L,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "where-open-in-helper-column",
        "aux\nwhere\n  aux : n + 0 = n + 1 := h\n  open Foo in",
        _S,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "where-open-in-left-of-helpers",
        "aux\nwhere\n  aux : n + 0 = n + 1 := h\n open Foo in",
        _S,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "where-user-command-as-helper",
        "aux\nwhere\n  aux : n + 0 = n + 1 := h\n  evilcmd",
        _L,
        file=USER_CMD_FILE.replace(ARMS_FILE, REC_FILE),
        whole_body=True,
    ),
    Case(
        "where-doc-comment-not-on-a-helper",
        "aux\nwhere\n  aux : n + 0 = n + 1 := h /-- doc -/",
        F,
        file=REC_FILE,
        whole_body=True,
    ),
    Case(
        "clause-before-more-of-the-declaration",
        "simp\ntermination_by n",
        _S,
        file="theorem t (n : Nat) : n + 0 = n + 1 := by\n  sorry\n  rfl\n",
    ),
    Case(
        "clauses-out-of-order",
        "by simp\ndecreasing_by simp_wf\ntermination_by n",
        _S,
        file=REC_FILE,
        whole_body=True,
    ),
    # `termination_by x y => …` binder names are the one part of a proof outside parentheses:
    # a name that is a command keyword of the file is refused where Lean reads it.
    Case(
        "termination-binder-is-a-user-command",
        "by simp\ntermination_by x evilcmd => x",
        _L,
        file=USER_CMD_FILE.replace(ARMS_FILE, REC_FILE),
        whole_body=True,
    ),
    # A proof that closes the gate's own parenthesis and opens another.
    Case(
        "unbalanced-paren-closes-the-gates",
        "| 0 => rfl\n| k + 1 => rfl) open Foo in (rfl",
        _S,
        file=ARMS_FILE,
        whole_body=True,
    ),
]


# A target indented under `namespace` (Lean reads commands at any column): the proof's lines
# stand at the hole's column, inside parentheses, so nothing in them ends the declaration.
INDENTED_FILE = (
    "namespace N\n  theorem t : 1 + 1 = 3 := by\n    sorry\n\n  theorem later : 2 + 2 = 4 := by\n"
    "    decide\nend N\n"
)
INDENTED_TERM = "namespace N\n  theorem t : 1 + 1 = 3 := sorry\nend N\n"
LAYOUT_ESCAPES: list[Case] = [
    Case("indented-end-namespace", "rfl\nend N", F, file=INDENTED_FILE, theorem="N.t"),
    Case("indented-open-in", "rfl open Foo in", _L, file=INDENTED_FILE, theorem="N.t"),
    Case(
        "indented-new-theorem",
        "rfl\ntheorem t' : 1 + 1 = 3 := by\n  sorry",
        F,
        file=INDENTED_FILE,
        theorem="N.t",
    ),
    Case("indented-term-unbalanced", "rfl)\n(rfl", _S, file=INDENTED_TERM, theorem="N.t"),
    Case(
        "own-command-keyword-in-term",
        "evilcmd",
        _L,
        file=USER_CMD_FILE.replace(ARMS_FILE, TERM),
    ),
]


CASES: list[Case] = [
    *SCREENED,
    *STATEMENT_SWAPS,
    *STRUCTURAL,
    *LEAN_LEVEL,
    *WHOLE_BODY,
    *HOLES,
    *LEXER,
    *LEXER_GLUED,
    *RAW_TEXT,
    *ESCAPES,
    *SENTINEL,
    *ARMS_ESCAPES,
    *CLAUSE_ESCAPES,
    *LAYOUT_ESCAPES,
]

# The exploits the issue names, each with the case ids that exercise it.
ISSUE_EXPLOITS: dict[str, list[str]] = {
    "sorry": ["sorry-tactic", "sorry-term"],
    "admit": ["admit"],
    "sorry in disguise": ["sorryAx-term", "exact-sorryAx", "root-sorryAx"],
    "axiom": ["axiom-after-proof", "custom-axiom-in-file", "custom-axiom-rule"],
    "#exit": ["exit"],
    "commands": ["theorem-smuggled", "def", "instance", "attribute", "namespace", "end"],
    "import/variable/universe": ["import", "variable", "universe"],
    "set_option as a command": ["set-option-bare"],
    "debug. options": ["set-option-skipKernelTC-in", "set-option-skipKernelTC-bare"],
    "local/scoped notation, instances": ["local-notation", "local-instance", "scoped-notation"],
    "notation": ["notation"],
    "macro": ["macro"],
    "macro_rules": ["macro-rules"],
    "syntax": ["syntax"],
    "elab": ["elab"],
    "elab_rules": ["elab-rules"],
    "run_tac": ["run-tac"],
    "run_cmd": ["run-cmd"],
    "run_elab": ["run-elab"],
    "by_elab": ["by-elab"],
    "#eval": ["eval"],
    "unsafe": ["unsafe"],
    "partial": ["partial"],
    "opaque": ["opaque"],
    "implemented_by": ["implemented-by"],
    "extern": ["extern"],
    "csimp": ["csimp"],
    "initialize": ["initialize", "builtin-initialize"],
    "native_decide": ["native-decide", "decide-native", "ofReduceBool"],
    "body escapes": ["theorem-smuggled", "open-in-escapes", "doc-comment-escapes"],
    "escape after the last arm": [
        "arms-open-in-same-line",
        "arms-open-in-next-line",
        "arms-set-option-in-after-comment",
        "arms-user-command-same-line",
    ],
    "escape after a clause": [
        "termination-open-in-same-line",
        "decreasing-open-in-next-line",
        "where-open-in-deeper-line",
        "where-user-command-as-helper",
    ],
    "sorryAx axiom": ["axioms-sorryAx"],
    "other axioms": ["axioms-ofReduceBool", "axioms-trustCompiler", "axioms-native-v4.33"],
    "sentinel": ["no-sentinel-empty-output"],
    "statement identity": ["statement-changed"],
    "lean error": ["lean-error-in-proof"],
    "sorry warning": ["sorry-warning"],
    "timeout": ["timeout"],
    "crash": ["crash"],
    "junk": ["junk"],
}
