"""Settings: a flag beats a LEANLOOP_* variable, which beats leanloop.toml / [tool.leanloop];
a bad value is one sentence naming the key and where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer

from leanloop.errors import ConfigError
from leanloop.settings import Price, Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings({}, [], env={})
    assert (s.model, s.base_url, s.api_key_env) == (
        "labs-leanstral-2603",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
    )
    assert s.reasoning_effort is None
    assert s.lean_cmd is None
    assert s.prices == {}


def test_flag_beats_env_beats_files(tmp_path: Path) -> None:
    cwd, project = tmp_path / "cwd", tmp_path / "project"
    write(cwd / "pyproject.toml", "[tool.leanloop]\nrounds = 2\nsamples = 2\ntimeout = 20\n")
    write(project / "leanloop.toml", "rounds = 5\nsamples = 6\n")
    dirs = [cwd, project]  # lowest precedence first: the Lean project's file wins

    assert load_settings({}, dirs, env={}).rounds == 5
    assert load_settings({}, dirs, env={}).samples == 6
    assert load_settings({}, dirs, env={}).timeout == 20.0  # only the cwd file sets it
    assert load_settings({}, dirs, env={"LEANLOOP_ROUNDS": "7"}).rounds == 7
    assert load_settings({"rounds": 9}, dirs, env={"LEANLOOP_ROUNDS": "7"}).rounds == 9
    # a flag that was not given (None) does not hide the lower layers
    assert load_settings({"rounds": None}, dirs, env={"LEANLOOP_ROUNDS": "7"}).rounds == 7
    assert load_settings({}, dirs, env={"LEANLOOP_ROUNDS": ""}).rounds == 5


def test_leanloop_toml_beats_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.leanloop]\nrounds = 2\nmodel = 'from-pyproject'\n")
    write(tmp_path / "leanloop.toml", "[leanloop]\nrounds = 4\n")
    s = load_settings({}, [tmp_path], env={})
    assert (s.rounds, s.model) == (4, "from-pyproject")


def test_pyproject_without_a_leanloop_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n[tool.other]\nrounds = 'bad'\n")
    assert load_settings({}, [tmp_path], env={}).rounds == Settings().rounds


def test_dashed_keys_prices_and_env_types(tmp_path: Path) -> None:
    write(
        tmp_path / "leanloop.toml",
        "lean-cmd = 'lean --json'\nallow-native-decide = true\n"
        "[prices.labs-leanstral-2603]\nprompt = 1.0\ncompletion = 3.0\n",
    )
    s = load_settings({}, [tmp_path], env={"LEANLOOP_TIMEOUT": "2.5", "LEANLOOP_SANDBOX": "off"})
    assert s.lean_cmd == "lean --json"
    assert s.allow_native_decide is True
    assert s.prices == {"labs-leanstral-2603": Price(prompt=1.0, completion=3.0)}
    assert (s.timeout, s.sandbox) == (2.5, "off")
    env_prices = '{"m": {"prompt": 0.5, "completion": 2}}'
    s = load_settings({}, [tmp_path], env={"LEANLOOP_PRICES": env_prices})
    assert s.prices == {"m": Price(prompt=0.5, completion=2.0)}


@pytest.mark.parametrize(
    ("flags", "env", "file", "words"),
    [
        ({}, {"LEANLOOP_ROUNDS": "many"}, "", ["`rounds`", "LEANLOOP_ROUNDS"]),
        ({"samples": 0}, {}, "", ["`samples`", "--samples"]),
        ({}, {}, "reasoning_effort = 'medium'\n", ["`reasoning_effort`", "leanloop.toml"]),
        ({}, {}, "colour = 'blue'\n", ["unknown setting `colour`", "leanloop.toml"]),
        ({}, {"LEANLOOP_SANDBOX": "maybe"}, "", ["`sandbox`", "LEANLOOP_SANDBOX"]),
        ({}, {"LEANLOOP_PRICES": "{not json"}, "", ["LEANLOOP_PRICES", "JSON"]),
        ({}, {"LEANLOOP_PRICES": '{"m": {"prompt": -1, "completion": 1}}'}, "", ["`prices`"]),
        ({}, {}, "rounds = [1,\n", ["Cannot read settings from", "leanloop.toml"]),
    ],
)
def test_bad_values_name_the_key_and_source(
    tmp_path: Path, flags: dict[str, object], env: dict[str, str], file: str, words: list[str]
) -> None:
    if file:
        write(tmp_path / "leanloop.toml", file)
    with pytest.raises(ConfigError) as info:
        load_settings(flags, [tmp_path], env=env)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert info.value.exit_code == 2


def test_settings_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "leanloop.toml").write_bytes(b'rounds = "\xff"\n')
    with pytest.raises(ConfigError, match=r"Cannot read settings from .*leanloop\.toml"):
        load_settings({}, [tmp_path], env={})


def test_cli_bad_setting_is_one_line_exit_2(
    fake_lean: FakeLean, run_cli: RunCli, tmp_path: Path
) -> None:
    write(tmp_path / "T.lean", "theorem t : True := sorry\n")
    write(tmp_path / "leanloop.toml", "rounds = 'three'\n")
    proc = run_cli("prove", "T.lean")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "`rounds`" in lines[0] and "leanloop.toml" in lines[0]


def test_cli_layers_take_effect(
    fake_lean: FakeLean, openai_server: ScriptedOpenAIServer, cli: RunCli, tmp_path: Path
) -> None:
    """The Lean project's pyproject.toml is read even when running from elsewhere."""
    fake_lean.scenario([{"when": "nope", "error": "unsolved goals\n⊢ True", "at": "nope"}])
    project = tmp_path / "project"
    write(project / "lakefile.lean", "import Lake\n")
    write(
        project / "pyproject.toml",
        f"[tool.leanloop]\nsamples = 1\nrounds = 2\nbase_url = '{openai_server.base_url}'\n",
    )
    lean = write(project / "T.lean", "theorem t : True := by\n  sorry\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    openai_server.responder = lambda request: "```lean\nnope\n```"
    key = {"MISTRAL_API_KEY": "k"}

    assert cli("prove", lean, cwd=elsewhere, env=key).returncode == 1
    assert len(openai_server.chat_requests) == 2  # rounds = 2 from the project file
    assert cli("prove", lean, cwd=elsewhere, env={**key, "LEANLOOP_ROUNDS": "3"}).returncode == 1
    assert len(openai_server.chat_requests) == 2 + 3
    proc = cli("prove", lean, "--rounds", "1", cwd=elsewhere, env={**key, "LEANLOOP_ROUNDS": "3"})
    assert proc.returncode == 1
    assert len(openai_server.chat_requests) == 2 + 3 + 1
    # the project has a lakefile, so Lean ran through `lake env lean` in the project root
    assert all(inv["argv"][:3] == ["lake", "env", "lean"] for inv in fake_lean.invocations())
    assert {inv["cwd"] for inv in fake_lean.invocations()} == {str(project)}


def test_policy_lists_come_from_settings(tmp_path: Path) -> None:
    from leanloop.session import make_policy
    from leanloop.settings import load_settings

    (tmp_path / "leanloop.toml").write_text('allow = ["decide"]\nforbid = ["omega"]\n')
    settings = load_settings({}, [tmp_path], env={"LEANLOOP_FORBID": "omega, aesop"})
    policy = make_policy(settings)
    assert "omega" in policy.forbidden and "aesop" in policy.forbidden
    assert settings.allow == ["decide"]
