"""Shared pytest fixtures: the ``fake_lean`` toolchain double and a scripted OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.fake_lean import FakeLean
from doubles.openai_server import ScriptedOpenAIServer


@pytest.fixture
def fake_lean(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> FakeLean:
    """Put fake ``lean``/``lake`` executables first on PATH and log every invocation.

    Returns a :class:`FakeLean` with ``.bin_dir``, ``.log_path``, ``.scenario(rules)``,
    ``.invocations()`` and ``.checked_sources()``.
    """
    root: Path = tmp_path_factory.mktemp("fake_lean")
    monkeypatch.delenv("FAKE_LEAN_SCENARIO", raising=False)
    return FakeLean(root / "bin", root, monkeypatch.setenv)


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A scripted OpenAI-wire server on 127.0.0.1 (``.base_url`` ends in ``/v1``)."""
    server = ScriptedOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
