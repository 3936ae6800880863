"""download_from_hub against a local stand-in for the Hugging Face hub; nothing leaves the host."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent

from assistant_app.core.errors import ModelUnavailable
from models.hub import download_from_hub
from tests.hub_standin import HubStandin

REPO = "acme/tiny-model"
WEIGHTS = random.Random(7).randbytes(300_000)  # described as an LFS file
CONFIG = b'{"hidden_size": 8}\n'  # described as a git blob
FILES = {"model.bin": WEIGHTS, "onnx/config.json": CONFIG}
ROOT = Path(__file__).resolve().parents[1]


def _is_local(host: object) -> bool:
    if host in (None, "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse, and fail the test for, any lookup or connect that is not to the loopback host.

    Recorded as well as refused: libraries swallow errors of best-effort calls.
    """
    blocked: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):  # type: ignore[index]
            blocked.append(f"connect {address}")
            raise ConnectionRefusedError(f"test socket guard: no connect to {address}")

    def connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if not _is_local(host):
            blocked.append(f"lookup {host}")
            raise socket.gaierror(f"test socket guard: no lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield blocked
    assert blocked == [], f"something tried to leave the machine: {blocked}"


@pytest.fixture(autouse=True)
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As the app runs: HF_HUB_OFFLINE=1 already read at import; no stored token is sent."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    # huggingface_hub remembers its agent registry per process: forget it, so a fetch that a
    # download would trigger happens here, in front of the socket guard.
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "no-registry"))
    monkeypatch.setattr(_detect_agent, "_registry", None)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)  # several progress reports


@pytest.fixture
def hub() -> HubStandin:
    return HubStandin(REPO, FILES)


@pytest.mark.parametrize("offline_at_import", [True, False])
def test_downloads_a_file_to_dest(hub: HubStandin, tmp_path: Path, offline_at_import: bool) -> None:
    constants.HF_HUB_OFFLINE = offline_at_import  # restored by hub_env's monkeypatch
    reports: list[tuple[int, int]] = []
    dest = tmp_path / "store" / "tiny.bin"
    with hub as endpoint:
        path = download_from_hub(
            REPO,
            "model.bin",
            "main",
            dest,
            endpoint=endpoint,
            progress=lambda *r: reports.append(r),
        )
    assert path == dest
    assert dest.read_bytes() == WEIGHTS
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == hub.etag("model.bin")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["tiny.bin"]  # no staging left
    assert reports[0] == (0, len(WEIGHTS)) and reports[-1] == (len(WEIGHTS), len(WEIGHTS))
    assert len(reports) > 3 and [done for done, _ in reports] == sorted(d for d, _ in reports)
    assert constants.is_offline_mode() is offline_at_import  # still offline for everyone else


def test_downloads_a_small_file_from_a_subfolder(hub: HubStandin, tmp_path: Path) -> None:
    dest = tmp_path / "config.json"
    with hub as endpoint:
        download_from_hub(REPO, "onnx/config.json", "main", dest, endpoint=endpoint)
    assert dest.read_bytes() == CONFIG
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("no-")) == [
        "config.json"
    ]


def test_a_matching_file_is_not_downloaded_again(hub: HubStandin, tmp_path: Path) -> None:
    dest = tmp_path / "model.bin"
    reports: list[tuple[int, int]] = []
    with hub as endpoint:
        download_from_hub(REPO, "model.bin", "main", dest, endpoint=endpoint)
        gets = hub.count("GET")
        download_from_hub(
            REPO,
            "model.bin",
            "main",
            dest,
            endpoint=endpoint,
            progress=lambda *r: reports.append(r),
        )
    assert hub.count("GET") == gets
    assert reports == [(len(WEIGHTS), len(WEIGHTS))]


def test_a_stale_file_is_replaced(hub: HubStandin, tmp_path: Path) -> None:
    dest = tmp_path / "model.bin"
    dest.write_bytes(b"an older, different file")
    with hub as endpoint:
        download_from_hub(REPO, "model.bin", "main", dest, endpoint=endpoint)
    assert dest.read_bytes() == WEIGHTS


def test_a_missing_file_says_which_and_what_to_do(hub: HubStandin, tmp_path: Path) -> None:
    dest = tmp_path / "model.gguf"
    with hub as endpoint, pytest.raises(ModelUnavailable) as raised:
        download_from_hub(REPO, "model.gguf", "main", dest, endpoint=endpoint)
    message = str(raised.value)
    assert "no file 'model.gguf'" in message and "model catalog" in message
    assert f"{endpoint}/{REPO}/resolve/main/model.gguf" in message
    assert raised.value.model == REPO
    assert list(tmp_path.iterdir()) == []


def test_a_missing_repo_or_revision(hub: HubStandin, tmp_path: Path) -> None:
    with hub as endpoint:
        with pytest.raises(ModelUnavailable, match="no repository 'acme/other'.*token"):
            download_from_hub("acme/other", "model.bin", "main", tmp_path / "x", endpoint=endpoint)
        with pytest.raises(ModelUnavailable, match="no revision 'v9'"):
            download_from_hub(REPO, "model.bin", "v9", tmp_path / "x", endpoint=endpoint)


def test_a_gated_repo_needs_a_token(tmp_path: Path) -> None:
    gated = HubStandin(REPO, FILES, token="hf_secret")
    dest = tmp_path / "model.bin"
    with gated as endpoint:
        with pytest.raises(ModelUnavailable, match="gated.*log in with a token"):
            download_from_hub(REPO, "model.bin", "main", dest, endpoint=endpoint)
        download_from_hub(REPO, "model.bin", "main", dest, endpoint=endpoint, token="hf_secret")
    assert dest.read_bytes() == WEIGHTS


def test_a_dead_endpoint_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as raised:
        download_from_hub(
            REPO, "model.bin", "main", tmp_path / "m", endpoint=f"http://127.0.0.1:{port}"
        )
    assert time.monotonic() - started < 3
    assert "cannot reach the hub" in str(raised.value)
    assert "[models] hub_endpoint" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_download_keeps_the_old_file(tmp_path: Path) -> None:
    dest = tmp_path / "model.bin"
    dest.write_bytes(b"old")
    with HubStandin(REPO, FILES, tamper=True) as endpoint:
        with pytest.raises(ModelUnavailable, match="does not match the checksum"):
            download_from_hub(REPO, "model.bin", "main", dest, endpoint=endpoint)
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_a_dropped_connection_resumes_with_a_range_request(tmp_path: Path) -> None:
    hub = HubStandin(REPO, FILES, drop_first_get_after=100_000)
    reports: list[tuple[int, int]] = []
    with hub as endpoint:  # huggingface_hub waits 1 s before resuming
        download_from_hub(
            REPO,
            "model.bin",
            "main",
            tmp_path / "m",
            endpoint=endpoint,
            progress=lambda *r: reports.append(r),
        )
    assert (tmp_path / "m").read_bytes() == WEIGHTS
    assert hub.count("GET") == 2
    assert reports[-1] == (len(WEIGHTS), len(WEIGHTS))


@pytest.mark.parametrize("offline", ["1", ""])
def test_fresh_process_with_hf_hub_offline_set(
    hub: HubStandin, tmp_path: Path, offline: str
) -> None:
    """The app's real set-up: HF_HUB_OFFLINE=1 before import; ~/.cache must stay untouched."""
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import socket, sys\n"
        "local = ('127.0.0.1', 'localhost')\n"
        "real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo\n"
        "def connect(sock, address):\n"
        "    if sock.family == socket.AF_INET and address[0] not in local:\n"
        "        sys.exit(f'blocked connect to {address}')\n"
        "    return real_connect(sock, address)\n"
        "def getaddrinfo(host, *args, **kwargs):\n"
        "    if host not in local:\n"
        "        sys.exit(f'blocked lookup of {host}')\n"
        "    return real_getaddrinfo(host, *args, **kwargs)\n"
        "socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo\n"
        "from pathlib import Path\n"
        "from models.hub import download_from_hub\n"
        "repo, dest, endpoint = sys.argv[1:]\n"
        "download_from_hub(repo, 'model.bin', 'main', Path(dest), endpoint=endpoint)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= {"HOME": str(home), "HF_HUB_OFFLINE": offline, "PYTHONPATH": str(ROOT)}
    with hub as endpoint:
        done = subprocess.run(
            [sys.executable, "-c", script, REPO, str(tmp_path / "m"), endpoint],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m").read_bytes() == WEIGHTS
    assert list(home.iterdir()) == []
