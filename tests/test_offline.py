"""Offline by construction: transcribing, chatting and speaking open no outbound connection."""

from __future__ import annotations

import io
import socket
import sys
from pathlib import Path

import pytest

from assistant_app.cli import main as cli


def test_the_guard_itself_blocks_outside_addresses(no_network: list[str]) -> None:
    with pytest.raises(OSError, match="blocked"), socket.socket() as s:
        s.connect(("192.0.2.1", 443))
    assert no_network == ["192.0.2.1"]


@pytest.mark.models
def test_runtime_opens_no_outbound_connection(
    no_network: list[str],
    fixtures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for env in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(env, raising=False)
    assert cli.main(["transcribe", str(fixtures / "capital_of_france.wav")]) == 0
    assert (
        cli.main(
            ["transcribe", str(fixtures / "capital_of_france.wav"), "--engine", "openai-whisper"]
        )
        == 0
    )
    assert cli.main(["say", "Nothing leaves this machine.", "-o", str(tmp_path / "s.wav")]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Say hello.\n"))
    assert cli.main(["chat", "--model", "qwen2.5-coder-0.5b-instruct"]) == 0
    from assistant_app.core.config import Config
    from models.embed import create_embedder
    from models.store import open_store

    create_embedder(Config().embed, open_store(Config())).embed(["offline"])
    out = capsys.readouterr().out
    assert "capital" in out.lower() and str(tmp_path / "s.wav") in out
    assert no_network == []
