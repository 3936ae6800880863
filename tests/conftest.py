"""Shared fixtures: paths, the real model store, fakes and a guard against network access."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ["tests.voice_harness"]  # `make`: a voice loop on fake engines
FIXTURES = Path(__file__).parent / "fixtures"
LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def real_store():
    """The store the app itself uses, with the default models scripts/setup assembled."""
    from assistant_app.core.config import load_config
    from models.store import open_store

    return open_store(load_config())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails any connection to a non-loopback address; yields the attempts it blocked."""
    blocked: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self_is_unix(address) or str(host).startswith(LOOPBACK):
            return
        blocked.append(str(host))
        raise OSError(f"test guard: outbound connection to {host} blocked")

    def self_is_unix(address: object) -> bool:
        return isinstance(address, (str, bytes))

    def connect(sock: socket.socket, address: object) -> None:
        check(address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield blocked
