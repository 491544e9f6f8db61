"""The report in each output format: text, GitHub workflow commands, SARIF 2.1.0, JUnit XML and
a Markdown summary a bot can post and later replace."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from xml.etree import ElementTree as ET

from leanloop.ci.model import RULE_TEXT, CiFinding, CiReport, Rule

FORMATS = ("text", "github", "sarif", "junit", "markdown", "json")
# Written under --report-dir; text and github go to standard output.
FILE_NAMES = {
    "sarif": "leanloop.sarif",
    "junit": "leanloop-junit.xml",
    "markdown": "leanloop-summary.md",
    "json": "leanloop-ci.json",
}
MARKER = "<!-- leanloop-ci -->"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/leanloop/leanloop"


def _where(f: CiFinding) -> str:
    return f"{f.file}:{f.line}:{f.column}"


def _subject(f: CiFinding) -> str:
    return f"{f.declaration}: {f.message}" if f.declaration else f.message


def _totals(report: CiReport) -> str:
    findings = report.findings
    new = sum(f.new is True for f in findings)
    old = sum(f.new is False for f in findings)
    parts = [f"{len(report.files)} file(s) checked", f"{len(findings)} finding(s)"]
    if report.base_ref is not None:
        parts.append(f"{new} new, {old} pre-existing")
    if report.build is not None:
        parts.append("lake build " + ("passed" if report.build.ok else "FAILED"))
    return ", ".join(parts)


def _verdict(report: CiReport) -> str:
    if report.fired:
        return f"Failed: --fail-on {', '.join(report.fired)} fired."
    return "Passed: no --fail-on rule fired."


def _ratchet_lines(report: CiReport) -> list[str]:
    out = []
    for fr in report.files:
        for r in fr.ratchet:
            bits = []
            if r.sorries_before != r.sorries_after:
                bits.append(f"sorry {r.sorries_before} → {r.sorries_after}")
            if r.axioms_added:
                bits.append("axioms added: " + ", ".join(r.axioms_added))
            if r.axioms_removed:
                bits.append("axioms removed: " + ", ".join(r.axioms_removed))
            out.append(f"{r.file}: {r.declaration}: {'; '.join(bits)}")
    return out


def _fill_lines(report: CiReport) -> list[str]:
    fill = report.fill
    if fill is None:
        return []
    proved = sum(t.status == "proved" for t in fill.targets)
    out = [f"Filling with {fill.model}: {proved}/{len(fill.targets)} proved."]
    out.extend(
        f"  {t.file}:{t.line}: {t.declaration}: {t.status}" + (f" ({t.note})" if t.note else "")
        for t in fill.targets
    )
    if fill.spent_usd is not None:
        budget = "" if fill.budget_usd is None else f" of ${fill.budget_usd:.2f}"
        out.append(f"Spent ${fill.spent_usd:.4f}{budget}.")
    if fill.stopped:
        out.append(f"Stopped: {fill.stopped}")
    if fill.branch:
        out.append(f"Committed the proofs on branch {fill.branch} ({(fill.commit or '')[:12]}).")
    if fill.suggestions:
        out.append(f"{fill.suggestions} suggestion(s) written to suggestions.json.")
    return out


def render_text(report: CiReport) -> str:
    lines = []
    for f in report.findings:
        fires = f" [fails: {', '.join(f.fires)}]" if f.fires else ""
        lines.append(f"{_where(f)}: {f.rule.value} ({f.status}): {_subject(f)}{fires}")
    ratchet = _ratchet_lines(report)
    if ratchet:
        lines += ["", "Changes per declaration:", *(f"  {r}" for r in ratchet)]
    if report.stale_exceptions:
        lines += ["", "Stale exceptions (they match nothing any more):"]
        lines += [f"  {s}" for s in report.stale_exceptions]
    fill = _fill_lines(report)
    if fill:
        lines += ["", *fill]
    lines += ["", *report.notes, f"{_totals(report)}. {_verdict(report)}"]
    return "\n".join(lines).lstrip("\n")


# GitHub workflow commands ----------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped so it stays one command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _level(f: CiFinding) -> str:
    if f.fires:
        return "error"
    return "notice" if f.new is False else "warning"


def render_github(report: CiReport) -> str:
    lines = []
    for f in report.findings:
        title = f"{'new ' if f.new else ''}{f.rule.value}" + (
            f" in {f.declaration}" if f.declaration else ""
        )
        props = (
            f"file={escape_property(f.file)},line={f.line},col={f.column},"
            f"endLine={f.end_line},title={escape_property(title)}"
        )
        lines.append(f"::{_level(f)} {props}::{escape_data(_subject(f))}")
    for s in report.stale_exceptions:
        lines.append(f"::warning title=stale exception::{escape_data(s)} matches nothing")
    for n in report.notes:
        lines.append(f"::warning title=leanloop ci::{escape_data(n)}")
    lines.append(f"{_totals(report)}. {_verdict(report)}")
    return "\n".join(lines)


# SARIF 2.1.0 ------------------------------------------------------------------------------------


def _fingerprint(f: CiFinding, nth: int) -> str:
    # Lines are left out so the same finding keeps its fingerprint when code moves.
    raw = f"{f.rule.value}\0{f.key}\0{nth}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def render_sarif(report: CiReport, version: str) -> str:
    rules = list(Rule)
    results = []
    seen: Counter[tuple[str, str]] = Counter()
    for f in report.findings:
        seen[(f.rule.value, f.key)] += 1
        result = {
            "ruleId": f"leanloop/{f.rule.value}",
            "ruleIndex": rules.index(f.rule),
            "level": "error" if f.fires else ("note" if f.new is False else "warning"),
            "message": {"text": _subject(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_column, f.column),
                        },
                    }
                }
            ],
            "partialFingerprints": {
                "leanloopFinding/v1": _fingerprint(f, seen[(f.rule.value, f.key)])
            },
            "properties": {"reason": f.reason, "declaration": f.declaration},
        }
        if f.new is not None:
            result["baselineState"] = "new" if f.new else "unchanged"
        results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "leanloop",
                "version": version,
                "informationUri": INFO_URI,
                "rules": [
                    {
                        "id": f"leanloop/{r.value}",
                        "name": r.value,
                        "shortDescription": {"text": RULE_TEXT[r]},
                        "defaultConfiguration": {"level": "error"},
                    }
                    for r in rules
                ],
            }
        },
        "automationDetails": {"id": "leanloop-ci/"},
        "results": results,
    }
    if report.head_sha:
        run["properties"] = {"head": report.head_sha, "mergeBase": report.base_sha}
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# JUnit XML --------------------------------------------------------------------------------------


def render_junit(report: CiReport) -> str:
    suites = ET.Element("testsuites", name="leanloop ci")
    total = failures = 0
    for fr in report.files:
        suite = ET.SubElement(suites, "testsuite", name=fr.path)
        by_decl: dict[str, list[CiFinding]] = {}
        for f in fr.findings:
            by_decl.setdefault(f.declaration or "(file)", []).append(f)
        names = [d.name for d in fr.declarations]
        names += [n for n in by_decl if n not in names]
        n_fail = 0
        for name in names:
            case = ET.SubElement(suite, "testcase", classname=fr.path, name=name)
            fired = [f for f in by_decl.get(name, []) if f.fires]
            other = [f for f in by_decl.get(name, []) if not f.fires]
            if fired:
                n_fail += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message="; ".join(f"{f.status} {f.rule.value}: {f.message}" for f in fired),
                    type=",".join(sorted({x for f in fired for x in f.fires})),
                )
                failure.text = "\n".join(f"{_where(f)}: {_subject(f)}" for f in fired)
            if other:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(
                    f"{_where(f)}: {f.rule.value} ({f.status}): {_subject(f)}" for f in other
                )
        suite.set("tests", str(len(names)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        total += len(names)
        failures += n_fail
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


# Markdown ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CiReport) -> str:
    icon = "❌" if report.fired else "✅"
    head = report.head_sha[:12]
    against = f" against `{report.base_ref}` (merge base `{(report.base_sha or '')[:12]}`)"
    lines = [
        MARKER,
        f"## {icon} leanloop ci",
        "",
        f"Checked `{head}`{against if report.base_ref else ''}: {_totals(report)}. "
        f"{_verdict(report)}",
        "",
    ]
    if report.findings:
        lines += ["| | where | kind | declaration | message |", "|---|---|---|---|---|"]
        for f in report.findings:
            mark = "🔴" if f.fires else ("🆕" if f.new else "·")
            lines.append(
                f"| {mark} | `{f.file}:{f.line}` | {f.status} {f.rule.value} | "
                f"{_cell(f.declaration or '')} | {_cell(f.message)} |"
            )
        lines.append("")
    ratchet = _ratchet_lines(report)
    if ratchet:
        lines += ["**Changes per declaration**", "", *(f"- {_cell(r)}" for r in ratchet), ""]
    if report.stale_exceptions:
        lines += ["**Stale exceptions**", "", *(f"- `{s}`" for s in report.stale_exceptions), ""]
    fill = _fill_lines(report)
    if fill:
        lines += ["**Filling**", "", *(f"- {_cell(x.strip())}" for x in fill), ""]
    lines += [f"> {n}" for n in report.notes]
    return "\n".join(lines).rstrip() + "\n"


def render(fmt: str, report: CiReport, version: str) -> str:
    if fmt == "text":
        return render_text(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "sarif":
        return render_sarif(report, version)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "markdown":
        return render_markdown(report)
    return report.model_dump_json(indent=2) + "\n"
