"""A SafeVerify double, and a `lean -o` that writes `.olean` files it can read (stdlib only).

SafeVerify (github.com/GasStationManager/SafeVerify) reads two `.olean` files, replays each
through the kernel and compares their declarations. This double follows its `Main.lean` as read
through the code index (no run of the real tool is recorded here):

* ``newest`` (default; the 2026 `module` version with the import-superset check): all progress on
  stderr; disallowed axioms are listed as ``NAME used disallowed axioms. #[...]``; each failing
  target declaration gives ``Found a problem in SUB with declaration NAME: WHY`` where WHY is the
  `ToString CheckFailure` text (``declaration not found in submission``, ``theorem type
  mismatch``, ``definition type or value mismatch``, ``kind mismatch (expected K1, got K2)``,
  ``uses disallowed axioms``); then ``throw (IO.userError "SafeVerify check failed. …")``.
  Success prints ``SafeVerify check passed.`` and exits 0. ``unsafe constant N detected`` and
  (with ``--disallow-partial``) ``partial constant N detected`` are thrown while replaying.
* ``exit0``: an intermediate version (2025) that printed ``SafeVerify check failed.`` and still
  returned 0, and had no import check.
* ``2024``: the first version: no flags, progress on stdout, throws on the first problem
  (``theorem N does not have the same type as the requirement``, ``N not found in submission``,
  …), ``Finished with no errors.`` on success; it did not refuse unsafe constants.

A thrown `IO.userError` reaches Lean's runtime, which prints ``uncaught exception: MSG`` to stderr
and exits 1 (`lean_io_result_show_error` in lean4 src/runtime/io.cpp; lean4checker's CI test
expects exactly that form, e.g. ``uncaught exception: (kernel) declaration type mismatch, 'false'
has type``).

The fake "olean" is JSON: the module's imports and, per declaration, name, kind, type text, value
text, safety, axioms (from fake_lean's analysis) and whether the kernel checked it. The fake Lean
writes it only when it reported no error, as real Lean does (`runFrontend` returns before
`writeModule` when there are errors). A declaration elaborated under
``set_option debug.skipKernelTC true`` was never seen by the kernel; the double's replay refuses
it (conservatively: real replay refuses it only when the proof is wrong).

Environment: ``FAKE_SAFE_VERIFY_VARIANT`` (above), ``FAKE_SAFE_VERIFY_LEAN`` (the Lean version it
was "built with", default 4.22.0), ``FAKE_SAFE_VERIFY_SLEEP`` (seconds, before anything),
``FAKE_SAFE_VERIFY_CRASH`` (abort like a stack overflow), ``FAKE_SAFE_VERIFY_LOG`` (a JSON line
per run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_LEAN = "4.22.0"
ALLOWED_AXIOMS = ("propext", "Quot.sound", "Classical.choice")
SEP = "------------------"
_KINDS = {"theorem": "theorem", "lemma": "theorem", "def": "def", "abbrev": "def"}
_SKIP_KERNEL_IN = re.compile(r"set_option\s+debug\.skipKernelTC\s+true\s+in\s*$")
_SKIP_KERNEL = re.compile(r"^set_option\s+debug\.skipKernelTC\s+true\s*$", re.MULTILINE)
_IMPORT = re.compile(r"^import\s+(.+)$")


def _fake_lean() -> ModuleType:
    """fake_lean.py from this directory, however this file was loaded (import or runpy)."""
    name = "fake_lean_for_safe_verify"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fake_lean.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------
# `lean -o`: the module data


def _norm(text: str) -> str:
    return " ".join(text.split())


def _top_level_assign(text: str) -> int:
    """Offset of the `:=` that starts the body (not inside brackets), or -1."""
    depth = 0
    for i, c in enumerate(text):
        if c in "([{⦃⟨":
            depth += 1
        elif c in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
    return -1


def module_data(source: str) -> dict[str, Any]:
    """What a compiled module holds, as far as SafeVerify looks at it."""
    fl = _fake_lean()
    masked = fl.mask_comments_and_strings(source)
    lines = masked.splitlines()
    imports: list[str] = []
    prelude = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == "prelude":
            prelude = True
        elif m := _IMPORT.match(stripped):
            imports.extend(m.group(1).split())
        else:
            break
    if not prelude:
        imports.insert(0, "Init")
    constants: list[dict[str, Any]] = []
    for decl in fl.analyse(source).decls:
        if decl.full_name is None or decl.kind == "example":
            continue
        text = masked[decl.token_end : decl.end]
        if decl.kind == "axiom":
            kind, type_text, value = "axiom", text, ""
        else:
            kind = _KINDS[decl.kind]
            at = _top_level_assign(text)
            type_text, value = (text, "") if at < 0 else (text[:at], text[at + 2 :])
        modifiers = masked[decl.start : decl.token_start]
        safety = (
            "unsafe"
            if re.search(r"\bunsafe\b", modifiers)
            else "partial"
            if re.search(r"\bpartial\b", modifiers)
            else "safe"
        )
        before = masked[: decl.start].rstrip().splitlines()
        skip_kernel = bool(before and _SKIP_KERNEL_IN.search(before[-1])) or bool(
            _SKIP_KERNEL.search(masked[: decl.start])
        )
        constants.append(
            {
                "name": decl.full_name,
                "kind": kind,
                "type": _norm(type_text.strip().removeprefix(":").strip()),
                "value": _norm(value),
                "safety": safety,
                "axioms": list(decl.axioms),
                "kernel_checked": not skip_kernel,
            }
        )
    # Real .olean headers carry the Lean version and githash of the Lean that wrote them.
    m = re.search(r"version (\S+?),", fl.LEAN_VERSION)
    written_by = m.group(1) if m else "unknown"
    return {
        "fake_olean": 1,
        "lean_version": written_by,
        "imports": imports,
        "constants": constants,
    }


def lean_main(prog: str, args: Sequence[str]) -> int:
    """`lean`/`lake` as fake_lean answers, plus `-o FILE.olean` when Lean reported no error."""
    fl = _fake_lean()
    args = list(args)
    code: int = fl.main(prog, args)
    lean_args = args if prog == "lean" else args[2:] if args[:2] == ["env", "lean"] else None
    if code != 0 or lean_args is None or "-o" not in lean_args:
        return code
    olean = lean_args[lean_args.index("-o") + 1]
    parsed = fl.parse_lean_args(lean_args)
    if parsed.file is None:
        return code
    source = Path(parsed.file).read_text(encoding="utf-8")
    Path(olean).write_text(json.dumps(module_data(source)), encoding="utf-8")
    return code


# --------------------------------------------------------------------------------------------
# safe_verify


class Thrown(Exception):
    """An `IO.userError` thrown inside SafeVerify."""


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _read(path: str) -> dict[str, Any]:
    if not os.path.exists(path):
        raise Thrown(f"object file '{path}' does not exist")
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    # lean4 src/library/module.cpp refuses an .olean written by another Lean build.
    if data.get("lean_version") != os.environ.get("FAKE_SAFE_VERIFY_LEAN", DEFAULT_LEAN):
        raise Thrown(f"failed to read file '{path}', incompatible header")
    return data


def _array(names: Sequence[str]) -> str:
    return "#[" + ", ".join(names) + "]"


def _replay(
    path: str, disallow_partial: bool, say: Any, *, check_unsafe: bool = True
) -> dict[str, dict[str, Any]]:
    say(f"Replaying {path}")
    data = _read(path)
    say("Finished setting up the environment.")
    constants = data["constants"]
    for c in constants:
        if check_unsafe and c["safety"] == "unsafe":
            raise Thrown(f"unsafe constant {c['name']} detected")
        if check_unsafe and disallow_partial and c["safety"] == "partial":
            raise Thrown(f"partial constant {c['name']} detected")
    for c in constants:
        # `Environment.replay` skips unsafe and partial constants.
        if c["safety"] == "safe" and not c["kernel_checked"]:
            raise Thrown(
                f"(kernel) declaration type mismatch, '{c['name']}' has type\n  False\n"
                f"but it is expected to have type\n  {c['type']}"
            )
    say(f"Finished replay. Found {len(constants)} declarations.")
    return {c["name"]: c for c in constants if c["kind"] in ("theorem", "def", "opaque")}


def _failure(target: dict[str, Any], sub: dict[str, Any] | None) -> str | None:
    if sub is None:
        return "declaration not found in submission"
    if target["kind"] != sub["kind"]:
        return f"kind mismatch (expected {target['kind']}, got {sub['kind']})"
    if sub["kind"] == "theorem" and target["type"] != sub["type"]:
        return "theorem type mismatch"
    if sub["kind"] == "def":
        check_value = "sorryAx" not in target["axioms"]
        if (
            target["type"] != sub["type"]
            or target["safety"] != sub["safety"]
            or (check_value and target["value"] != sub["value"])
        ):
            return "definition type or value mismatch"
    if any(a not in ALLOWED_AXIOMS for a in sub["axioms"]):
        return "uses disallowed axioms"
    return None


def _newest(args: list[str], variant: str, lean_version: str) -> int:
    flags = {a for a in args if a.startswith("-")}
    positional = [a for a in args if not a.startswith("-")]
    disallow_partial = "--disallow-partial" in flags
    verbose = bool(flags & {"-v", "--verbose"})
    if len(positional) != 2:
        # Text of lean4-cli's argument errors is not known here; only the exit status matters.
        _err("error: expected <target> <submission>")
        return 1
    target, submission = positional
    _err(f"Currently running on Lean v{lean_version}")
    _err(f"Running SafeVerify on target file: {target} and submission file: {submission}.")
    if variant == "newest":
        t_imports = _read(target)["imports"]
        s_imports = _read(submission)["imports"]
        if "Init" not in t_imports:
            raise Thrown(
                f"Target '{target}' does not import Init. Refusing to verify against a "
                "prelude-based target."
            )
        if not s_imports:
            raise Thrown(
                f"'{submission}' has no imports (possible prelude file). Submissions must import "
                "Init to prevent kernel type redefinition."
            )
        missing = [m for m in t_imports if m not in s_imports]
        if missing:
            raise Thrown(
                f"Submission '{submission}' is missing {len(missing)} transitive imports required "
                f"by target: {_array(missing)}. Submissions must transitively import at least "
                "everything the target imports to prevent type redefinition attacks."
            )
    _err(SEP)
    targets = _replay(target, disallow_partial, _err)
    _err(SEP)
    subs = _replay(submission, disallow_partial, _err)
    _err(SEP)
    violations = False
    for name, info in subs.items():
        if any(a not in ALLOWED_AXIOMS for a in info["axioms"]):
            violations = True
            _err(f"{name} used disallowed axioms. {_array(info['axioms'])}")
    _err(SEP)
    failures = False
    for name, info in targets.items():
        why = _failure(info, subs.get(name))
        if why is None:
            continue
        failures = True
        _err(f"Found a problem in {submission} with declaration {name}: {why}")
        if verbose and why == "theorem type mismatch":
            _err(f"  Expected type: {info['type']}")
            _err(f"  Got type:      {subs[name]['type']}")
    _err(SEP)
    if failures or violations:
        hint = (
            ""
            if verbose
            else " For more diagnostic information about failures, run safe_verify with the -v "
            "(or --verbose) flag."
        )
        if variant == "exit0":
            _err("SafeVerify check failed.")
            if not verbose:
                _err(hint.strip())
            return 0
        raise Thrown(f"SafeVerify check failed.{hint}")
    _err("SafeVerify check passed.")
    return 0


def _oldest(args: list[str]) -> int:
    if len(args) < 2:
        raise Thrown("not enough arguments")
    target, submission = args[0], args[1]
    targets = _replay(target, False, _out, check_unsafe=False)
    subs = _replay(submission, False, _out, check_unsafe=False)
    for name, info in targets.items():
        sub = subs.get(name)
        if sub is None:
            raise Thrown(f"{name} not found in submission")
        if info["kind"] != sub["kind"]:
            raise Thrown(
                f"{sub['kind']} {name} is not the same kind as the requirement {info['kind']} "
                f"{name}"
            )
        if sub["kind"] == "theorem" and info["type"] != sub["type"]:
            raise Thrown(f"theorem {name} does not have the same type as the requirement")
        if sub["kind"] == "def" and _failure(info, sub) == "definition type or value mismatch":
            raise Thrown(f"definition {name} does not match the requirement")
        for a in sub["axioms"]:
            if a not in ALLOWED_AXIOMS:
                raise Thrown(f"{a} is not in the allowed set of standard axioms")
    _out("Finished with no errors.")
    return 0


def safe_verify_main(args: Sequence[str]) -> int:
    args = list(args)
    log = os.environ.get("FAKE_SAFE_VERIFY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"argv": args, "cwd": os.getcwd()}) + "\n")
    if sleep := os.environ.get("FAKE_SAFE_VERIFY_SLEEP"):
        time.sleep(float(sleep))
    if os.environ.get("FAKE_SAFE_VERIFY_CRASH"):
        _err("Stack overflow detected. Aborting.")
        return 134
    variant = os.environ.get("FAKE_SAFE_VERIFY_VARIANT", "newest")
    lean_version = os.environ.get("FAKE_SAFE_VERIFY_LEAN", DEFAULT_LEAN)
    try:
        if variant == "2024":
            return _oldest(args)
        return _newest(args, variant, lean_version)
    except Thrown as e:
        _err(f"uncaught exception: {e}")
        return 1


# --------------------------------------------------------------------------------------------
# Installing the doubles

_WRAPPER = """#!{python}
import runpy
import sys

_ns = runpy.run_path({script!r}, run_name="fake_safe_verify_double")
sys.exit(_ns[{func!r}](*{lead}sys.argv[1:]))
"""


def _write_wrapper(path: Path, func: str, lead: str) -> None:
    """A script at ``path`` calling ``func``. The doubles are copied beside it (under its install
    prefix, ``…/bin/x`` -> ``…/share``) so that they are visible wherever the program is, inside
    the cage too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = path.parent.parent if path.parent.name == "bin" else path.parent
    share = prefix / "share" / "leanloop-doubles"
    share.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    for name in ("fake_safe_verify.py", "fake_lean.py"):
        shutil.copyfile(here / name, share / name)
    script = str(share / "fake_safe_verify.py")
    path.write_text(
        _WRAPPER.format(python=sys.executable, script=script, func=func, lead=lead),
        encoding="utf-8",
    )
    path.chmod(0o755)


def install_lean(bin_dir: Path) -> None:
    """`lean` and `lake` in ``bin_dir`` that handle `-o` and otherwise behave as fake_lean (put
    ``bin_dir`` before fake_lean's on PATH)."""
    for prog in ("lean", "lake"):
        _write_wrapper(bin_dir / prog, "lean_main", f"({prog!r},), ")


def install_safe_verify(exe: Path) -> None:
    """A `safe_verify` executable at ``exe`` (e.g. a Lake build directory)."""
    _write_wrapper(exe, "safe_verify_main", "(), ")


# A Lake project that requires SafeVerify, as `lake update` leaves it (for the tests' projects).
LAKEFILE = (
    "import Lake\nopen Lake DSL\n\npackage demo\n\n"
    'require SafeVerify from git "https://github.com/GasStationManager/SafeVerify" @ "main"\n'
    "\n@[default_target]\nlean_lib Demo\n"
)
MANIFEST = {
    "version": "1.1.0",
    "packagesDir": ".lake/packages",
    "packages": [
        {
            "url": "https://github.com/GasStationManager/SafeVerify",
            "type": "git",
            "subDir": None,
            "scope": "",
            "rev": "0123456789abcdef0123456789abcdef01234567",
            "name": "SafeVerify",
            "manifestFile": "lake-manifest.json",
            "inputRev": "main",
            "inherited": False,
            "configFile": "lakefile.lean",
        }
    ],
    "name": "demo",
    "lakeDir": ".lake",
}
