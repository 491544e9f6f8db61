"""The Lean arguments a Lake build gives a file, read from the project's lakefile.

`lake env lean FILE` runs Lean with the project's search path only: the lakefile's
`leanOptions`, `moreLeanArgs` and `weakLeanArgs` are applied by `lake build` (and `lake lean`),
not by `lake env`. So leanloop reads them here and passes them itself, in Lake's order.

What Lake does (leanprover/lean4, src/lake):
* `LeanOption.asCliArg` is ``s!"-D{o.name}={o.value.asCliFlagValue}"``
  (Lake/Config/LeanConfig.lean, 01a688a4), where `asCliFlagValue` prints a Bool or Nat as is
  and a String inside double quotes (Lean/Util/LeanOptions.lean).
* `LeanLib.leanArgs` is ``pkg.moreLeanArgs ++ lib.leanOptions.map asCliArg ++ lib.moreLeanArgs``
  and `Package.moreLeanArgs` is ``pkg.leanOptions.map asCliArg ++ pkg.moreLeanArgs``
  (Lake/Config/LeanLib.lean and Package.lean at 01a688a4). `weakLeanArgs` (package, then
  library) come before them (LeanConfig.lean: "They come *before* `moreLeanArgs`").
  Newer Lake hands `leanOptions` over in a setup file instead of `-D`; the options are the same.
* A library holds a module when one of its `roots` is a prefix of the module's name or one of its
  `globs` matches it (`LeanLibConfig.isLocalModule`); the library's source directory is the
  package's `srcDir` joined with its own.
* TOML: `leanOptions` is a table (dotted keys nest: `pp.unicode.fun = true`) or an array of
  `{name, value}` (`decodeLeanOptions`, Lake/Load/Toml.lean).

lakefile.lean is a Lean program; leanloop does not run it. It is read as text: literal
`leanOptions := #[⟨`name, value⟩, …]`, `moreLeanArgs := #["…", …]`, `weakLeanArgs`, `srcDir`,
`roots` and `globs` inside `package … where` / `lean_lib … where` (or `{ … }`). That reading
cannot see values computed by code: a `def` used as a value, `++`, `if`, `get_config?`, string
interpolation, options set from a `script` or a custom target. Every such value is named in a
warning instead of being guessed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from leanloop.source.scanner import Token, TokenKind, UnterminatedError, code_tokens, column_of

ARG_FIELDS = ("leanOptions", "moreLeanArgs", "weakLeanArgs")
_LIB_FIELDS = ("srcDir", "roots", "globs")
_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩"}
_CLOSE = set(_OPEN.values())
_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}


class LakeArgs(BaseModel):
    """Arguments for `lean` from the lakefile, and what could not be read."""

    args: list[str] = []
    warnings: list[str] = []
    library: str | None = None  # the `lean_lib` whose settings apply, if one holds the file


class Unreadable(Exception):
    """A lakefile value leanloop cannot read with certainty."""


@dataclass
class _Target:
    """A package or a library: its argument fields and where its modules live."""

    kind: str  # "package" or "lean_lib"
    name: str
    weak: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    src_dir: str = "."
    roots: list[str] = field(default_factory=list)
    globs: list[tuple[str, str]] = field(default_factory=list)  # (kind, module name)
    problems: list[str] = field(default_factory=list)
    unplaced: bool = False  # `srcDir`, `roots` or `globs` could not be read

    def holds(self, module: str) -> bool:
        """`LeanLibConfig.isLocalModule`: a root is a prefix of the name, or a glob matches."""
        if any(_name_prefix(r, module) for r in self.roots):
            return True
        for kind, name in self.globs:
            if kind == "one" and module == name:
                return True
            if kind == "submodules" and module != name and _name_prefix(name, module):
                return True
            if kind == "andSubmodules" and _name_prefix(name, module):
                return True
        return False


def _name_prefix(prefix: str, name: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def option_arg(name: str, value: bool | int | str) -> str:
    """`LeanOption.asCliArg`: Bool and Nat as Lean prints them, a String in double quotes."""
    if isinstance(value, bool):
        return f"-D{name}={'true' if value else 'false'}"
    if isinstance(value, int):
        return f"-D{name}={value}"
    return f'-D{name}="{value}"'


def lake_lean_args(root: Path, file: Path) -> LakeArgs:
    """The `lean` arguments Lake would use for ``file`` (the user's real path) in the package at
    ``root``, with a warning for each part of the lakefile that could not be read."""
    # Lake prefers lakefile.lean when both exist (recalled from Lake's loader; not re-checked).
    lean_file, toml_file = root / "lakefile.lean", root / "lakefile.toml"
    try:
        if lean_file.is_file():
            where = "lakefile.lean"
            package, libs = _read_lean(lean_file.read_text(encoding="utf-8"))
        elif toml_file.is_file():
            where = "lakefile.toml"
            package, libs = _read_toml(toml_file.read_text(encoding="utf-8"))
        else:
            return LakeArgs()
    except (OSError, UnicodeDecodeError) as e:
        return LakeArgs(warnings=[_unread_all(root.name, f"it could not be read ({e})")])
    except Unreadable as e:
        return LakeArgs(warnings=[_unread_all(where, str(e))])
    warnings = [f"{where}: {p}" for p in package.problems]
    lib = None if package.unplaced else _library_of(root, package, libs, file)
    if lib is not None:
        warnings += [f"{where}: {p}" for p in lib.problems]
    for t in libs:
        if t is not lib and (t.unplaced or package.unplaced):
            warnings.append(
                f"{where}: leanloop cannot tell whether `lean_lib {t.name}` holds {file.name}, "
                "so its options were not applied."
            )
    args = [*package.weak, *(lib.weak if lib else [])]
    args += [*package.options, *package.more]
    if lib is not None:
        args += [*lib.options, *lib.more]
    return LakeArgs(args=args, warnings=warnings, library=lib.name if lib else None)


def _unread_all(where: str, why: str) -> str:
    return (
        f"leanloop could not read the Lean options in {where} ({why}); proofs are checked "
        "without them, so pass them with --lean-cmd if the project sets any."
    )


def _library_of(root: Path, package: _Target, libs: list[_Target], file: Path) -> _Target | None:
    """The first library (in lakefile order, as Lake searches) whose modules include ``file``."""
    try:
        real = file.resolve()
    except OSError:
        return None
    for lib in libs:
        if lib.unplaced:
            continue
        src = (root / package.src_dir / lib.src_dir).resolve()
        try:
            rel = real.relative_to(src)
        except ValueError:
            continue
        if rel.suffix != ".lean":
            continue
        module = ".".join(rel.with_suffix("").parts)
        if lib.holds(module):
            return lib
    return None


# ----------------------------------------------------------------------------- lakefile.toml


def _read_toml(text: str) -> tuple[_Target, list[_Target]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise Unreadable(f"it is not valid TOML: {e}") from None
    package = _toml_target("package", str(data.get("name", "")), data)
    libs = []
    raw_libs = data.get("lean_lib", [])
    if not isinstance(raw_libs, list):
        raise Unreadable("`lean_lib` is not an array of tables")
    for entry in raw_libs:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise Unreadable("a `[[lean_lib]]` has no name")
        libs.append(_toml_target("lean_lib", entry["name"], entry))
    return package, libs


def _toml_target(kind: str, name: str, table: dict[str, Any]) -> _Target:
    t = _Target(kind=kind, name=name, roots=[name] if kind == "lean_lib" else [])
    label = f"`{kind} {name}`" if kind == "lean_lib" else "the package"
    for key, dest in (("weakLeanArgs", t.weak), ("moreLeanArgs", t.more)):
        if key in table:
            value = table[key]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                dest.extend(value)
            else:
                t.problems.append(_problem(key, label, "it is not an array of strings"))
    if "leanOptions" in table:
        try:
            t.options = [option_arg(n, v) for n, v in _toml_options(table["leanOptions"])]
        except Unreadable as e:
            t.problems.append(_problem("leanOptions", label, str(e)))
    if "srcDir" in table:
        if isinstance(table["srcDir"], str):
            t.src_dir = table["srcDir"]
        else:
            t.problems.append(_problem("srcDir", label, "it is not a string"))
            t.unplaced = True
    if "roots" in table:
        roots = table["roots"]
        roots = [roots] if isinstance(roots, str) else roots
        if isinstance(roots, list) and all(isinstance(r, str) for r in roots):
            t.roots = list(roots)
        else:
            t.problems.append(_problem("roots", label, "it is not an array of names"))
            t.unplaced = True
    if "globs" in table:
        globs = table["globs"]
        try:
            if not isinstance(globs, list):
                raise Unreadable("not an array")
            t.globs = [_toml_glob(g) for g in globs]
        except Unreadable:
            t.problems.append(_problem("globs", label, "it is not an array of globs"))
            t.unplaced = True
    return t


def _toml_options(value: object) -> list[tuple[str, bool | int | str]]:
    out: list[tuple[str, bool | int | str]] = []
    if isinstance(value, dict):
        _flatten_options(value, "", out)
        return out
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and set(item) == {"name", "value"}:
                name, v = item["name"], item["value"]
            elif isinstance(item, list) and len(item) == 2:
                name, v = item
            else:
                raise Unreadable("an entry is neither {name, value} nor [name, value]")
            if not isinstance(name, str):
                raise Unreadable("an option name is not a string")
            out.append((name, _option_value(v)))
        return out
    raise Unreadable("it is neither a table nor an array")


def _flatten_options(
    table: dict[str, Any], prefix: str, out: list[tuple[str, bool | int | str]]
) -> None:
    # Dotted keys nest in TOML; Lake joins them back into one option name.
    for key, v in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(v, dict):
            _flatten_options(v, name, out)
        else:
            out.append((name, _option_value(v)))


def _option_value(v: object) -> bool | int | str:
    # Lake's `LeanOptionValue` holds a String, a Bool or a Nat, nothing else.
    if isinstance(v, bool | str) or (isinstance(v, int) and v >= 0):
        return v
    raise Unreadable(f"the value {v!r} is not a string, a boolean or a natural number")


def _toml_glob(g: object) -> tuple[str, str]:
    # `Glob.ofString?`: `A` is one module; `A.*` and `A.+` add submodules. Lake versions swapped
    # which suffix includes `A` itself, so both are read as "A and its submodules" here.
    if not isinstance(g, str) or not g:
        raise Unreadable("not a glob")
    if g.endswith((".*", ".+")):
        return ("andSubmodules", g[:-2])
    return ("one", g)


def _problem(key: str, label: str, why: str) -> str:
    return (
        f"leanloop could not read `{key}` of {label} ({why}), so Lean checks proofs without it "
        "and may judge them differently from `lake build`."
    )


# ----------------------------------------------------------------------------- lakefile.lean


def _read_lean(text: str) -> tuple[_Target, list[_Target]]:
    """Read the literal settings of `package` and `lean_lib` declarations (see the module
    docstring for what this textual reading cannot see)."""
    try:
        tokens = code_tokens(text)
    except UnterminatedError as e:
        raise Unreadable(f"it has an {e}") from None
    package: _Target | None = None
    libs: list[_Target] = []
    for command in _commands(text, tokens):
        head = _skip_attributes(command)
        if not head or head[0].kind is not TokenKind.IDENT:
            continue
        if head[0].text == "package":
            if package is not None:
                raise Unreadable("it declares more than one package")
            package = _lean_target("package", head)
        elif head[0].text == "lean_lib":
            libs.append(_lean_target("lean_lib", head))
    if package is None:
        raise Unreadable("no `package` declaration was found")
    return package, libs


def _commands(text: str, tokens: list[Token]) -> list[list[Token]]:
    """Split into commands: a new one starts at a token in column 0 outside any bracket."""
    commands: list[list[Token]] = []
    depth = 0
    for tok in tokens:
        if depth == 0 and column_of(text, tok.start) == 0:
            commands.append([])
        if not commands:
            commands.append([])
        commands[-1].append(tok)
        if tok.kind is TokenKind.SYMBOL:
            if tok.text in _OPEN or tok.text == "@[":
                depth += 1
            elif tok.text in _CLOSE:
                depth = max(depth - 1, 0)
    return commands


def _skip_attributes(command: list[Token]) -> list[Token]:
    i = 0
    while i < len(command) and command[i].text == "@[":
        depth = 1
        i += 1
        while i < len(command) and depth:
            if command[i].text in ("[", "@["):
                depth += 1
            elif command[i].text == "]":
                depth -= 1
            i += 1
    return command[i:]


def _target_name(tok: Token) -> str:
    if tok.kind is TokenKind.STRING:
        return tok.text[1:-1]
    return tok.text.replace("«", "").replace("»", "")


def _lean_target(kind: str, head: list[Token]) -> _Target:
    name = _target_name(head[1]) if len(head) > 1 else ""
    t = _Target(kind=kind, name=name, roots=[name] if kind == "lean_lib" else [])
    label = f"`{kind} {name}`" if kind == "lean_lib" else f"`package {name}`"
    for key, value in _fields(head[2:]).items():
        try:
            if key == "leanOptions":
                t.options = [option_arg(n, v) for n, v in _lean_options(value)]
            elif key == "moreLeanArgs":
                t.more = _lean_strings(value)
            elif key == "weakLeanArgs":
                t.weak = _lean_strings(value)
            elif key == "srcDir":
                t.src_dir = _lean_string(value)
            elif key == "roots":
                t.roots = _lean_names(value)
            elif key == "globs":
                t.globs = _lean_globs(value)
        except Unreadable as e:
            t.problems.append(_problem(key, label, str(e)))
            t.unplaced = t.unplaced or key in _LIB_FIELDS
    return t


_WANTED = (*ARG_FIELDS, *_LIB_FIELDS)


def _fields(body: list[Token]) -> dict[str, list[Token]]:
    """The value tokens of each wanted field of a `where` or `{ … }` configuration. A field
    starts at `name :=` outside brackets (inside the one pair of braces for `{ … }`)."""
    base = 0
    if body and body[0].text == "{":
        base = 1
    elif body and body[0].text == "where":
        body = body[1:]
    starts: list[tuple[int, str]] = []
    depth = 0
    for i, tok in enumerate(body):
        if (
            depth == base
            and tok.kind is TokenKind.IDENT
            and i + 1 < len(body)
            and body[i + 1].text == ":="
        ):
            starts.append((i, tok.text))
        if tok.kind is TokenKind.SYMBOL:
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1
    out: dict[str, list[Token]] = {}
    for k, (i, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(body)
        value = body[i + 2 : end]
        # In `{ a := x, b := y }` the separator and the closing brace are not the value.
        while value and _stray_end(value):
            value = value[:-1]
        if name in _WANTED:
            out[name] = value
    return out


def _stray_end(value: list[Token]) -> bool:
    """Whether the last token is a `,` or a closing bracket left over from the enclosing
    `{ … }` (it closes nothing opened inside the value)."""
    last = value[-1].text
    if last == ",":
        return _balance(value[:-1]) == 0
    if last in _CLOSE:
        return _balance(value) < 0
    return False


def _balance(tokens: list[Token]) -> int:
    depth = 0
    for tok in tokens:
        if tok.kind is TokenKind.SYMBOL:
            depth += 1 if tok.text in _OPEN else -1 if tok.text in _CLOSE else 0
    return depth


def _array_items(value: list[Token]) -> list[list[Token]]:
    """The items of a literal `#[a, b, …]`; anything else (a name, `++`, `if` …) is refused."""
    texts = [t.text for t in value]
    if len(texts) < 3 or texts[0] != "#" or texts[1] != "[" or texts[-1] != "]":
        raise Unreadable("it is not a literal `#[…]` array")
    inner = value[2:-1]
    if _balance(inner) != 0:
        raise Unreadable("its brackets do not match")
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in inner:
        if tok.kind is TokenKind.SYMBOL and tok.text in _OPEN:
            depth += 1
        elif tok.kind is TokenKind.SYMBOL and tok.text in _CLOSE:
            depth -= 1
        if depth == 0 and tok.text == ",":
            items.append([])
            continue
        items[-1].append(tok)
    if items == [[]]:
        return []
    if any(not item for item in items):
        raise Unreadable("it has an empty entry")
    return items


def _string_value(tok: Token) -> str:
    text = tok.text
    if tok.kind is not TokenKind.STRING or not text.startswith('"'):
        raise Unreadable(f"`{text}` is not a plain string literal")
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in _SIMPLE_ESCAPES:
                raise Unreadable(f"the string {text} uses an escape leanloop does not read")
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _lean_string(value: list[Token]) -> str:
    if len(value) != 1:
        raise Unreadable("it is not a single string literal")
    return _string_value(value[0])


def _lean_strings(value: list[Token]) -> list[str]:
    out = []
    for item in _array_items(value):
        if len(item) != 1:
            raise Unreadable("an entry is not a string literal")
        out.append(_string_value(item[0]))
    return out


def _quoted_name(tokens: list[Token]) -> str:
    """`` `Foo.Bar `` as two tokens: the backquote and the name."""
    if len(tokens) != 2 or tokens[0].text != "`" or tokens[1].kind is not TokenKind.IDENT:
        raise Unreadable("a name is not a literal `` `Name ``")
    return tokens[1].text.replace("«", "").replace("»", "")


def _lean_names(value: list[Token]) -> list[str]:
    return [_quoted_name(item) for item in _array_items(value)]


_GLOB_KINDS = {"one": "one", "submodules": "submodules", "andSubmodules": "andSubmodules"}


def _lean_globs(value: list[Token]) -> list[tuple[str, str]]:
    out = []
    for item in _array_items(value):
        texts = [t.text for t in item]
        if len(item) == 4 and texts[0] == "." and texts[1] in _GLOB_KINDS:
            out.append((_GLOB_KINDS[texts[1]], _quoted_name(item[2:])))
        elif len(item) == 3 and re.fullmatch(r"Glob\.(one|submodules|andSubmodules)", texts[0]):
            out.append((texts[0].split(".", 1)[1], _quoted_name(item[1:])))
        elif len(item) == 2:  # a bare `` `Foo `` is coerced to `Glob.one`
            out.append(("one", _quoted_name(item)))
        else:
            raise Unreadable("a glob is not `.one`, `.submodules` or `.andSubmodules` of a name")
    return out


def _lean_options(value: list[Token]) -> list[tuple[str, bool | int | str]]:
    out: list[tuple[str, bool | int | str]] = []
    for item in _array_items(value):
        texts = [t.text for t in item]
        # ⟨`name, value⟩: six tokens, the value being one literal.
        if len(item) != 6 or texts[0] != "⟨" or texts[3] != "," or texts[5] != "⟩":
            raise Unreadable("an entry is not a literal ⟨`name, value⟩")
        name = _quoted_name(item[1:3])
        out.append((name, _lean_literal(item[4])))
    return out


def _lean_literal(tok: Token) -> bool | int | str:
    if tok.kind is TokenKind.IDENT and tok.text in ("true", "false"):
        return tok.text == "true"
    if tok.kind is TokenKind.NUMBER and tok.text.isdigit():
        return int(tok.text)
    if tok.kind is TokenKind.STRING:
        return _string_value(tok)
    raise Unreadable(f"the value `{tok.text}` is not a literal")
