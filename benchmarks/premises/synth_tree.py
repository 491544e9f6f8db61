"""A synthetic Lake workspace the size of Mathlib: about 6,000 files and 100 MB of Lean.

Files look like Mathlib's: a module docstring, imports, `namespace`/`variable`/`open`, and
declarations with docstrings, attributes, binders and multi-line tactic proofs with comments.
Names and statements are drawn from a Mathlib-like vocabulary, with a fixed seed. Core's
`Nat.add_comm` (its real statement) is planted in one file, among thousands of look-alikes
(`Int.add_comm`, `add_comm`, `Nat.add_left_comm`, …)."""

from __future__ import annotations

import json
import random
from pathlib import Path

NAMESPACES = (
    "Nat Int Rat Real Complex List Finset Set Multiset Polynomial Matrix Function Filter "
    "MeasureTheory Topology Group Ring Field Module Submodule Ideal Subgroup Equiv Order "
    "Lattice Fin ZMod Prime Cardinal Ordinal"
).split()
OPS = ("add", "mul", "sub", "div", "neg", "inv", "pow", "sup", "inf", "map", "comp", "smul")
PROPS = (
    "comm assoc left_comm right_comm zero one self cancel injective surjective mono "
    "le lt pos nonneg eq_iff ne_zero sum prod card mem subset union inter image preimage "
    "continuous measurable bounded dvd mod gcd lcm succ pred cast coe"
).split()
TYPES = ("ℕ", "ℤ", "ℚ", "ℝ", "α", "β", "G", "R", "M", "Set α", "List α", "Finset α")
VARS = ("a", "b", "c", "x", "y", "z", "n", "m", "k", "s", "t", "f", "g")
SYMS = ("+", "*", "-", "/", "⊔", "⊓", "∘", "•")
RELS = ("=", "≤", "<", "≠", "∣", "⊆", "∈")
TACTICS = (
    "simp only [{a}, {b}]",
    "rw [{a}, ← {b}]",
    "exact {a} _ _",
    "apply {a}",
    "obtain ⟨x, hx⟩ := h",
    "refine ⟨_, _⟩",
    "intro x hx",
    "induction n with\n    | zero => simp\n    | succ n ih => simp [ih, {a}]",
    "rcases h with h | h",
    "linarith [{a}, {b}]",
    "omega",
    "norm_num [{a}]",
    "constructor <;> intro h <;> simp_all",
    "· exact {a}\n  · exact {b}",
    "have h₁ : {v} {s} {w} = {w} {s} {v} := by ring",
    "calc _ = _ := by rw [{a}]\n    _ ≤ _ := {b} _",
)


def _name(rng: random.Random) -> str:
    parts = [rng.choice(OPS)]
    if rng.random() < 0.7:
        parts.append(rng.choice(PROPS))
    if rng.random() < 0.3:
        parts.append(rng.choice(("left", "right", "of", "iff", "eq")))
        parts.append(rng.choice(PROPS))
    return "_".join(parts)


def _term(rng: random.Random, depth: int = 0) -> str:
    if depth > 1 or rng.random() < 0.4:
        return rng.choice(VARS)
    return f"{_term(rng, depth + 1)} {rng.choice(SYMS)} {_term(rng, depth + 1)}"


def _declaration(rng: random.Random, ns: str, uid: int) -> str:
    name = f"{_name(rng)}_{uid}" if rng.random() < 0.6 else _name(rng)
    vs = rng.sample(VARS[:9], 3)
    ty = rng.choice(TYPES)
    lhs, rhs = _term(rng), _term(rng)
    binders = f"{{{' '.join(vs)} : {ty}}}" if rng.random() < 0.5 else f"({' '.join(vs)} : {ty})"
    if rng.random() < 0.4:
        binders += f" (h : {vs[0]} {rng.choice(RELS)} {vs[1]})"
    doc = ""
    if rng.random() < 0.6:
        doc = (
            f"/-- The `{name}` lemma: {rng.choice(PROPS)} of {rng.choice(OPS)} for "
            f"`{ns}`, stated for {rng.choice(TYPES)}; see also `{_name(rng)}`. -/\n"
        )
    attr = rng.choice(("", "", "@[simp]\n", "@[simp, norm_cast]\n", "@[to_additive]\n"))
    refs = [f"{rng.choice(NAMESPACES)}.{_name(rng)}" for _ in range(6)]
    steps = []
    for _ in range(rng.randint(2, 12)):
        tac = rng.choice(TACTICS).format(
            a=refs[rng.randrange(6)],
            b=refs[rng.randrange(6)],
            v=vs[0],
            w=vs[1],
            s=rng.choice(SYMS),
        )
        steps.append("  " + tac)
        if rng.random() < 0.2:
            steps.append(f"  -- now the {rng.choice(PROPS)} case, using `{refs[0]}`")
    kind = rng.choice(("theorem", "theorem", "theorem", "lemma", "def"))
    if kind == "def":
        return f"{doc}{attr}def {name} {binders} : {ty} :=\n  {lhs}\n\n"
    return f"{doc}{attr}{kind} {name} {binders} :\n    {lhs} {rng.choice(RELS)} {rhs} := by\n" + (
        "\n".join(steps) + "\n\n"
    )


NAT_ADD_COMM = (
    "/-- Addition of natural numbers is commutative. -/\n"
    "protected theorem Nat.add_comm : ∀ (n m : Nat), n + m = m + n\n"
    "  | n, 0 => Eq.symm (Nat.zero_add n)\n"
    "  | n, m+1 => by\n"
    "    have : succ (n + m) = succ (m + n) := by apply congrArg; apply Nat.add_comm\n"
    "    rw [succ_add m n]\n"
    "    apply this\n\n"
)


def generate(root: Path, files: int = 6000, target_bytes: int = 100_000_000, seed: int = 21) -> int:
    """Write the workspace under ``root``; returns the bytes of Lean written."""
    rng = random.Random(seed)
    (root / ".lake" / "packages" / "mathlib" / "Mathlib").mkdir(parents=True, exist_ok=True)
    (root / "lakefile.lean").write_text("import Lake\nopen Lake DSL\npackage bench\n", "utf-8")
    (root / "Bench.lean").write_text("import Mathlib\n", "utf-8")
    manifest = {
        "version": "1.1.0",
        "packagesDir": ".lake/packages",
        "name": "bench",
        "packages": [
            {
                "url": "https://github.com/leanprover-community/mathlib4",
                "type": "git",
                "rev": "0123456789abcdef0123456789abcdef01234567",
                "name": "mathlib",
                "inputRev": "master",
                "inherited": False,
                "subDir": None,
            }
        ],
    }
    (root / "lake-manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    per_file = target_bytes // files
    written = 0
    uid = 0
    for i in range(files):
        area = NAMESPACES[i % len(NAMESPACES)]
        rel = Path("Mathlib") / area / f"File{i:04d}.lean"
        path = root / ".lake" / "packages" / "mathlib" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        ns = area if rng.random() < 0.8 else f"{area}.{rng.choice(NAMESPACES)}"
        parts = [
            "/-\nCopyright (c) 2024. All rights reserved.\n"
            "Released under Apache 2.0 license.\n-/\n",
            "".join(
                f"import Mathlib.{rng.choice(NAMESPACES)}.File{rng.randrange(files):04d}\n"
                for _ in range(rng.randint(2, 8))
            ),
            f"\n/-!\n# {area}, part {i}\n\nThis file proves facts about `{ns}`.\n-/\n\n",
            f"open {rng.choice(NAMESPACES)} {rng.choice(NAMESPACES)}\n\nnamespace {ns}\n\n",
            f"variable {{{rng.choice(VARS)} : {rng.choice(TYPES)}}}\n\n",
        ]
        size = sum(len(p) for p in parts)
        while size < per_file:
            uid += 1
            d = _declaration(rng, ns, uid)
            parts.append(d)
            size += len(d)
        parts.append(f"end {ns}\n")
        if i == files // 2:
            parts.append("\n" + NAT_ADD_COMM)
        text = "".join(parts)
        path.write_text(text, "utf-8")
        written += len(text.encode("utf-8"))
    return written
