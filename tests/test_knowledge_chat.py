"""Chatting with an assistant that knows a notes folder: answers cite files and follow edits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.models
ROOT = Path(__file__).resolve().parents[1]


def test_notes_are_answered_with_a_citation_and_edits_show(tmp_path: Path, real_store) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "trip.md").write_text(
        "# Trip\n\nThe train to Lyon leaves at 08:15 from platform 4.\nBooking code QX7-22B.\n"
    )
    (notes / "recipes.md").write_text("# Bread\n\nSourdough needs 500 g flour and 350 g water.\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[models]\ndir = "{real_store.root}"\n[llm]\ntemperature = 0.0\n')
    env = {**os.environ, "ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(tmp_path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant_app.cli", *args],
            input=stdin,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert run("assistants", "create", "notes", "--folder", str(notes)).returncode == 0
    first = run("chat", "--assistant", "notes", stdin="When does my train to Lyon leave?\n")
    assert first.returncode == 0, first.stderr
    assert "8:15" in first.stdout and "(Source: notes/trip.md" in first.stdout
    (notes / "trip.md").write_text(
        "# Trip\n\nThe train to Lyon leaves at 09:40 from platform 4.\nBooking code QX7-22B.\n"
    )
    second = run("chat", "--assistant", "notes", stdin="When does my train to Lyon leave?\n")
    assert "9:40" in second.stdout and "8:15" not in second.stdout
