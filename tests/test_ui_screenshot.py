"""The real app under Xvfb: it loads the real model, answers, and leaves a screenshot in docs/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / "docs" / "screenshots" / "main.png"


@pytest.mark.models
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (scripts/setup)")
def test_the_real_app_answers_under_xvfb_and_is_photographed(tmp_path: Path, real_store) -> None:  # noqa: ANN001
    config = tmp_path / "config.toml"
    config.write_text(
        f'[models]\ndir = "{real_store.root}"\n'
        '[llm]\nmodel = "qwen2.5-coder-0.5b-instruct"\ntemperature = 0.0\n'
    )
    env = {**os.environ, "ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)  # a real X server this time, not offscreen
    shot = tmp_path / "main.png"
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable,
         str(ROOT / "tests" / "app_screenshot.py"), str(shot), "What is 1234 times 5678?"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "7006652" in done.stdout.replace(",", "")  # the calculator answered, on screen
    assert shot.read_bytes()[:4] == b"\x89PNG"
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOT)
