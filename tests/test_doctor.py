"""`assistant doctor` on a machine without a sound card, and with a silent sound server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_env import missing_packages, pulse_null_sink

ROOT = Path(__file__).resolve().parents[1]


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant_app.cli", "doctor"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_sound_card_is_reported_with_fixes(tmp_path: Path, real_store) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\n")  # no usable device
    done = doctor(
        {
            "HOME": str(home),
            "ASSISTANT_DATA_DIR": str(real_store.root),
            "PULSE_SERVER": "unix:/nonexistent",
        }
    )
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok   model whisper-base") for line in lines)
    assert any(line.startswith("ok   disk") for line in lines)
    for line in lines:
        if line.startswith("FIX "):
            assert "." in line.split(":", 1)[1]  # every problem comes with a sentence of fix


@pytest.mark.audio
def test_a_microphone_of_pure_zeros_gets_the_permission_hint(tmp_path: Path, real_store) -> None:
    if missing := missing_packages(pulse=True):
        pytest.skip(f"needs Debian packages: apt-get install {' '.join(missing)}")
    with pulse_null_sink(tmp_path / "pulse") as device:
        done = doctor({**device.env, "ASSISTANT_DATA_DIR": str(real_store.root)})
    assert "ok   speaker" in done.stdout and "ok   microphone" in done.stdout
    assert "FIX  microphone signal: pure digital silence" in done.stdout


def test_a_missing_browser_is_reported_with_the_install_command(monkeypatch) -> None:  # noqa: ANN001
    from assistant_app.cli.doctor import _browser

    assert _browser()[1] is True  # CI and setup install Debian's chromium
    monkeypatch.setenv("PATH", "/nonexistent")
    what, ok, detail = _browser()
    assert (what, ok) == ("browser", False) and "apt-get install chromium" in detail
