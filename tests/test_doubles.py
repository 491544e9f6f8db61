"""The test doubles behave as specified (fake Lean toolchain and scripted OpenAI server)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer


def run(args: list[str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def lean_json(tmp_path: Path, source: str, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "T.lean"
    path.write_text(source, encoding="utf-8")
    proc = run(["lean", *extra, "--json", str(path)], tmp_path)
    messages = [json.loads(line) for line in proc.stdout.splitlines()]
    return proc.returncode, messages


def by_severity(messages: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["severity"] == severity]


# ---------------------------------------------------------------------------------------------
# fake lean / lake


def test_wrappers_are_on_path(fake_lean: FakeLean) -> None:
    assert shutil.which("lean") == str(fake_lean.bin_dir / "lean")
    assert shutil.which("lake") == str(fake_lean.bin_dir / "lake")
    assert (fake_lean.bin_dir / "lean").read_text().startswith("#!")


def test_versions(fake_lean: FakeLean, tmp_path: Path) -> None:
    lean = run(["lean", "--version"], tmp_path)
    assert lean.returncode == 0
    assert lean.stdout == (
        "Lean (version 4.22.0, x86_64-unknown-linux-gnu, "
        "commit 0000000000000000000000000000000000000000, Release)\n"
    )
    lake = run(["lake", "--version"], tmp_path)
    assert (lake.returncode, lake.stdout) == (0, "Lake version 5.0.0-fake (Lean version 4.22.0)\n")


def test_clean_file_prints_nothing_and_exits_zero(fake_lean: FakeLean, tmp_path: Path) -> None:
    rc, messages = lean_json(tmp_path, "theorem t : 1 + 1 = 2 := by decide\n")
    assert (rc, messages) == (0, [])


def test_sorry_warning_json(fake_lean: FakeLean, tmp_path: Path) -> None:
    line2 = "/- α₁ β₂ -/ theorem α₁_target (n : Nat) : n = n := by sorry"
    rc, messages = lean_json(tmp_path, f"-- header\n{line2}\n")
    assert rc == 0  # warnings alone do not fail
    [msg] = messages
    assert msg["severity"] == "warning"
    assert msg["data"] == "declaration uses `sorry`"
    # Which column convention the double uses is checked against leanloop's mapping in
    # tests/test_gate_positions.py, not here.
    assert msg["pos"]["line"] == 2
    assert msg["fileName"] == str(tmp_path / "T.lean")
    assert set(msg) == {
        "severity",
        "pos",
        "endPos",
        "fileName",
        "data",
        "caption",
        "keepFullRange",
        "isSilent",
        "kind",
    }
    assert msg["kind"] == "[anonymous]"


def test_json_lines_are_compact_and_key_order_varies(fake_lean: FakeLean, tmp_path: Path) -> None:
    path = tmp_path / "T.lean"
    path.write_text("theorem a : True := sorry\ntheorem b : True := sorry\n", encoding="utf-8")
    proc = run(["lean", "--json", str(path)], tmp_path)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert all(": " not in line.split('"data"')[0] for line in lines)  # compact separators
    orders = [list(json.loads(line)) for line in lines]
    assert set(orders[0]) == set(orders[1])
    assert orders[0] != orders[1]


def test_example_sorry_is_at_the_keyword(fake_lean: FakeLean, tmp_path: Path) -> None:
    _, messages = lean_json(tmp_path, "example : True := by\n  admit\n")
    [msg] = messages
    assert msg["pos"] == {"line": 1, "column": 0}
    assert msg["endPos"] == {"line": 1, "column": len("example")}


def test_sorry_in_comments_and_strings_is_ignored(fake_lean: FakeLean, tmp_path: Path) -> None:
    source = (
        "-- sorry\n"
        "/- outer /- nested -/ sorry still comment -/\n"
        "theorem t : True := by\n"
        '  have _h : String := "sorry admit"  -- admit\n'
        "  trivial\n"
        "theorem sorry_free : True := trivial\n"
        "#print axioms t\n"
    )
    rc, messages = lean_json(tmp_path, source)
    assert rc == 0
    assert by_severity(messages, "warning") == []
    [info] = messages
    assert info["data"] == "'t' does not depend on any axioms"


def test_print_axioms(fake_lean: FakeLean, tmp_path: Path) -> None:
    source = (
        "theorem s : True := by sorry\n"
        "theorem nd : 2 + 2 = 4 := by native_decide\n"
        "theorem uses_s : True := s\n"
        "theorem ok : True := trivial\n"
        "  #print axioms s\n"
        "#print axioms nd\n"
        "#print axioms uses_s\n"
        "#print axioms ok\n"
    )
    rc, messages = lean_json(tmp_path, source)
    assert rc == 0
    infos = by_severity(messages, "information")
    assert [m["data"] for m in infos] == [
        "'s' depends on axioms: [sorryAx]",
        "'nd' depends on axioms: [nd._native.native_decide.ax_1_1]",
        "'uses_s' depends on axioms: [sorryAx]",
        "'ok' does not depend on any axioms",
    ]
    assert infos[0]["pos"] == {"line": 5, "column": 2}
    assert [m["pos"]["line"] for m in infos] == [5, 6, 7, 8]
    # only the declaration that literally contains `sorry` is warned about
    assert [m["pos"]["line"] for m in by_severity(messages, "warning")] == [1]


def test_namespaces(fake_lean: FakeLean, tmp_path: Path) -> None:
    source = (
        "namespace Foo\n"
        "@[simp] private theorem bar : True := by sorry\n"
        "#print axioms bar\n"
        "end Foo\n"
        "#print axioms Foo.bar\n"
        "#print axioms bar\n"
    )
    rc, messages = lean_json(tmp_path, source)
    assert [m["data"] for m in by_severity(messages, "information")] == [
        "'Foo.bar' depends on axioms: [sorryAx]",
        "'Foo.bar' depends on axioms: [sorryAx]",
    ]
    [unknown] = by_severity(messages, "error")  # `bar` does not resolve outside Foo
    assert unknown["pos"]["line"] == 6
    assert rc == 1


def test_plain_output(fake_lean: FakeLean, tmp_path: Path) -> None:
    (tmp_path / "T.lean").write_text("theorem t : True := sorry\n#print axioms t\n")
    proc = run(["lean", "T.lean"], tmp_path)
    assert proc.stdout == (
        "T.lean:1:8: warning: declaration uses `sorry`\n't' depends on axioms: [sorryAx]\n"
    )
    proc = run(["lean", "-DprintMessageEndPos=true", "T.lean"], tmp_path)
    assert proc.stdout.startswith("T.lean:1:8-1:9: warning: ")


def test_scenario_error_positions(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario(
        [
            {"when": "simp_bad", "error": "unsolved goals\nα₁ : Nat\n⊢ α₁ = α₁", "at": "simp_bad"},
            {"when": "simp_bad", "error": "ignored: first rule per kind wins"},
        ]
    )
    line = "theorem t (α₁ : Nat) : α₁ = α₁ := by simp_bad"
    rc, messages = lean_json(tmp_path, line + "\n#print axioms t\n")
    assert rc == 1
    [err] = by_severity(messages, "error")
    col = line.index("simp_bad")
    assert err["pos"] == {"line": 1, "column": col}
    assert err["endPos"] == {"line": 1, "column": col + len("simp_bad")}
    assert err["data"] == "unsolved goals\nα₁ : Nat\n⊢ α₁ = α₁"
    # a declaration with an error is added with sorryAx, as in real Lean
    [info] = by_severity(messages, "information")
    assert info["data"] == "'t' depends on axioms: [sorryAx]"


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        # What real Lean cannot read inside parentheses: a command keyword, `open … in` after a
        # finished term (same line; or a later line outside a tactic block), `in` then `)`.
        ("(rfl theorem)", "theorem"),
        ("(rfl open Foo in rfl)", "open"),
        ("(@fun\n  | 0 => rfl\n  | _ => rfl\n  open Foo in rfl)", "open"),
        ("(by\n  simp\n  open Foo in)", ")"),
        ("(by simp open Foo in simp)", "open"),
    ],
)
def test_parse_errors_in_parentheses(
    fake_lean: FakeLean, tmp_path: Path, body: str, bad: str
) -> None:
    source = f"theorem t : True := {body}\n"
    rc, messages = lean_json(tmp_path, source)
    assert rc == 1
    [err] = by_severity(messages, "error")
    assert err["data"].startswith(f"unexpected token '{bad}'")
    assert err["endPos"] is None  # parse errors have no end position
    line = source.splitlines()[err["pos"]["line"] - 1]
    assert line[err["pos"]["column"] :].startswith(bad)


@pytest.mark.parametrize(
    "body",
    [
        "(open Foo in rfl)",
        "(by\n  simp\n  open Foo in exact rfl)",
        "(by\n  open Foo in\n  simp)",
        "(exact_mod_cast h)",
        "(let rec\n  aux : True := trivial,\n  b : True := trivial\n(aux))",
    ],
)
def test_what_lean_reads_in_parentheses_is_no_error(
    fake_lean: FakeLean, tmp_path: Path, body: str
) -> None:
    rc, messages = lean_json(tmp_path, f"theorem t : True := {body}\n")
    assert (rc, by_severity(messages, "error")) == (0, [])


def test_a_files_own_command_keyword_is_one(fake_lean: FakeLean, tmp_path: Path) -> None:
    source = 'syntax "mycmd" : command\ntheorem t : True := (trivial mycmd)\n'
    _, messages = lean_json(tmp_path, source)
    [err] = by_severity(messages, "error")
    assert err["data"] == "unexpected token 'mycmd'; expected ')', ',' or ':'"


def test_scenario_null_end_pos_severity_and_regex(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario(
        [
            {"when_regex": r"bad\d+", "error": "unexpected token", "end_pos_null": True},
        ]
    )
    rc, messages = lean_json(tmp_path, "theorem t : True := bad42\n")
    [err] = messages
    assert (rc, err["endPos"], err["pos"]) == (1, None, {"line": 1, "column": 20})

    fake_lean.scenario([{"when": "trivial", "error": "linter says hi", "severity": "warning"}])
    rc, messages = lean_json(tmp_path, "theorem t : True := trivial\n")
    assert rc == 0
    assert [m["severity"] for m in messages] == ["warning"]


def test_scenario_axioms(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario([{"when": "Classical.em", "axioms": ["propext", "Classical.choice"]}])
    source = (
        "theorem a (p : Prop) : p ∨ ¬p := Classical.em p\n"
        "theorem b (p : Prop) : p ∨ ¬p := a p\n"
        "#print axioms a\n#print axioms b\n"
    )
    _, messages = lean_json(tmp_path, source)
    assert [m["data"] for m in messages] == [
        "'a' depends on axioms: [propext, Classical.choice, Quot.sound]",
        "'b' depends on axioms: [propext, Classical.choice, Quot.sound]",
    ]


def test_scenario_sleep_can_be_killed(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario([{"when": "slow_tactic", "sleep": 30}])
    (tmp_path / "T.lean").write_text("theorem t : True := by slow_tactic\n")
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run(["lean", "--json", "T.lean"], tmp_path, timeout=1.0)
    assert time.monotonic() - start < 10
    [inv] = fake_lean.invocations()  # logged before sleeping
    assert inv["file"] == "T.lean"


def test_scenario_crash(fake_lean: FakeLean, tmp_path: Path) -> None:
    partial = '{"severity":"error","pos":{"line":1,"column":6},"kind":"[anonymous]"'
    fake_lean.scenario([{"when": "deep", "crash": True, "stdout": partial}])
    (tmp_path / "T.lean").write_text("theorem deep : True := trivial\n")
    proc = run(["lean", "--json", "T.lean"], tmp_path)
    assert proc.returncode == 134
    assert proc.stdout == partial
    assert proc.stderr == "Stack overflow detected. Aborting."


def test_scenario_raw_stdout(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario([{"raw_stdout": 'not json at all\n{"half": ', "exit_code": 3}])
    (tmp_path / "T.lean").write_text("theorem t : True := trivial\n")
    proc = run(["lean", "--json", "T.lean"], tmp_path)
    assert (proc.returncode, proc.stdout) == (3, 'not json at all\n{"half": ')


def test_scenario_missing_olean(fake_lean: FakeLean, tmp_path: Path) -> None:
    fake_lean.scenario([{"when": "import Mathlib", "missing_olean": "Mathlib.Tactic"}])
    rc, messages = lean_json(tmp_path, "import Mathlib\ntheorem t : True := sorry\n")
    assert rc == 1
    [err] = messages
    assert err["pos"] == {"line": 1, "column": 0}
    assert err["endPos"] is None
    assert err["data"] == (
        "object file '/proj/.lake/build/lib/lean/Mathlib/Tactic.olean' of module "
        "Mathlib.Tactic does not exist"
    )


def test_invocation_log(fake_lean: FakeLean, tmp_path: Path) -> None:
    source = "theorem t : True := trivial -- ünïcode\n"
    (tmp_path / "T.lean").write_text(source, encoding="utf-8")
    run(["lean", "-DmaxHeartbeats=400", "--json", "T.lean"], tmp_path)
    run(["lean", "--version"], tmp_path)
    first, second = fake_lean.invocations()
    assert first["argv"] == ["lean", "-DmaxHeartbeats=400", "--json", "T.lean"]
    assert first["cwd"] == str(tmp_path)
    assert first["file"] == "T.lean"
    assert first["source"] == source
    assert str(fake_lean.bin_dir) in first["env_path"]
    assert (second["file"], second["source"]) == (None, None)
    assert fake_lean.checked_sources() == [source]


def test_lake_env_lean_and_friends(fake_lean: FakeLean, tmp_path: Path) -> None:
    (tmp_path / "T.lean").write_text("lemma l : True := sorry\n")
    proc = run(["lake", "env", "lean", "--json", "T.lean"], tmp_path)
    [msg] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (msg["pos"], msg["fileName"], proc.returncode) == ({"line": 1, "column": 6}, "T.lean", 0)
    assert fake_lean.invocations()[-1]["argv"] == ["lake", "env", "lean", "--json", "T.lean"]
    assert fake_lean.checked_sources() == ["lemma l : True := sorry\n"]

    build = run(["lake", "build"], tmp_path)
    assert (build.returncode, build.stdout) == (0, "Build completed successfully.\n")
    printenv = run(["lake", "env", "printenv", "LEAN_PATH"], tmp_path)
    assert printenv.returncode == 0
    assert printenv.stdout.endswith("\n")


def test_missing_file(fake_lean: FakeLean, tmp_path: Path) -> None:
    proc = run(["lean", "--json", "nope.lean"], tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "nope.lean" in proc.stderr


# ---------------------------------------------------------------------------------------------
# scripted OpenAI server


def client_for(server: ScriptedOpenAIServer, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, **kwargs)


def test_completion_round_trip(openai_server: ScriptedOpenAIServer) -> None:
    assert openai_server.base_url.startswith("http://127.0.0.1:")
    assert openai_server.base_url.endswith("/v1")
    openai_server.push("theorem t : True := trivial")
    client = client_for(openai_server)
    resp = client.chat.completions.create(
        model="labs-leanstral-2603",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "go"}],
    )
    assert resp.object == "chat.completion"
    assert resp.model == "labs-leanstral-2603"
    choice = resp.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "theorem t : True := trivial"
    assert resp.usage is not None
    assert resp.usage.prompt_tokens == 20
    assert resp.usage.completion_tokens == len("theorem t : True := trivial") // 4 + 1
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert openai_server.pending == 0


def test_dict_response_usage_and_model_echo(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push(
        {
            "content": "x",
            "usage": {"prompt_tokens": 7, "completion_tokens": 3},
            "finish_reason": "length",
        }
    )
    resp = client_for(openai_server).chat.completions.create(
        model="other-model", messages=[{"role": "user", "content": "go"}]
    )
    assert resp.model == "other-model"
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (
        7,
        3,
        10,
    )


def test_rate_limit_is_delivered_as_rate_limit_error(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push({"status": 429, "headers": {"Retry-After": "2"}, "content": "slow down"})
    with pytest.raises(openai.RateLimitError) as info:
        client_for(openai_server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "go"}]
        )
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.body == {
        "message": "slow down",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_requests_are_recorded(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push("a", "b")
    client = client_for(openai_server)
    for text in ("first", "second"):
        client.chat.completions.create(
            model="m", temperature=0.2, messages=[{"role": "user", "content": text}]
        )
    assert len(openai_server.requests) == 2
    req = openai_server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer x"
    assert req["json"]["model"] == "m"
    assert req["json"]["temperature"] == 0.2
    assert [r["json"]["messages"][0]["content"] for r in openai_server.requests] == [
        "first",
        "second",
    ]


def test_responder_raw_body_and_empty_queue(openai_server: ScriptedOpenAIServer) -> None:
    client = client_for(openai_server)
    openai_server.push({"status": 503, "body": "upstream down"})
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.InternalServerError) as info:  # queue empty, no responder
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 500
    openai_server.responder = lambda req: f"echo {req['messages'][-1]['content']}"
    resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert resp.choices[0].message.content == "echo hi"


def test_models_endpoint(openai_server: ScriptedOpenAIServer) -> None:
    client = client_for(openai_server)
    assert [m.id for m in client.models.list()] == ["labs-leanstral-2603"]
    openai_server.models_status = 401
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_concurrent_requests_are_served_in_parallel(openai_server: ScriptedOpenAIServer) -> None:
    # Each answer waits until all four requests are being served at once: served one at a
    # time, the barrier breaks and the responder's error comes back as a 500.
    barrier = threading.Barrier(4, timeout=20)
    names = iter(f"r{i}" for i in range(4))
    names_lock = threading.Lock()

    def together(request: dict[str, object]) -> str:
        barrier.wait()
        with names_lock:
            return next(names)

    openai_server.responder = together
    client = client_for(openai_server)
    results: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        resp = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
        with lock:
            results.append(str(resp.choices[0].message.content))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["r0", "r1", "r2", "r3"]


def test_client_timeout_during_delay(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push({"content": "late", "delay": 1.0}, "on time")
    client = client_for(openai_server, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert resp.choices[0].message.content == "on time"


def test_streaming(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push("streamed text")
    stream = client_for(openai_server).chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed text"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len("streamed text") // 4 + 1


@pytest.mark.parametrize(
    ("source", "at"),
    [
        ("instance : Inhabited Nat where\n  default := sorry\n", (1, 0)),
        ("instance foo : Inhabited Nat := ⟨sorry⟩\n", (1, 9)),
        ("structure S where\n  x : Nat := sorry\n", (1, 10)),
        ("lemma wh : True ∧ True where\n  left := trivial\n  right := by sorry\n", (1, 6)),
        ("def d : Nat := sorry\n", (1, 4)),
    ],
)
def test_every_declaration_kind_warns_of_sorry(
    fake_lean: FakeLean, tmp_path: Path, source: str, at: tuple[int, int]
) -> None:
    _, messages = lean_json(tmp_path, source)
    [warning] = by_severity(messages, "warning")
    assert warning["data"] == "declaration uses `sorry`"
    assert (warning["pos"]["line"], warning["pos"]["column"]) == at
