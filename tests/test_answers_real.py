"""Right answers on the real default model, as a user gets them: `assistant chat` with a notes
folder attached to the assistant and python allowed. bench/answers.py measures the same on
fresh requests; these are the cases a user meets first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_cli import assistant

pytestmark = pytest.mark.models


def chat_with_notes(
    data: Path,
    store,
    stdin: str,
    *allow: str,
    timeout: float = 300,  # noqa: ANN001
) -> subprocess.CompletedProcess[str]:
    """`assistant chat --allow …` (greedy) for an assistant with a knowledge folder of three
    notes, as anyone using "knowledge" has."""
    notes = data / "notes"
    notes.mkdir(exist_ok=True)
    (notes / "garden.md").write_text("# Garden\n\nThe tomatoes need water every Tuesday.\n")
    (notes / "people.md").write_text("# People\n\nMarta is my neighbour; she likes lemon cake.\n")
    (notes / "budget.md").write_text(
        "# Budget\n\nMy monthly budget: rent 950, food 420, transport 130, fun 200.\n"
    )
    config = data / "config.toml"
    config.write_text(f'[models]\ndir = "{store.root}"\n[llm]\ntemperature = 0.0\n')
    env = {"ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(data)}
    made = assistant("assistants", "create", "Home", "--folder", str(notes), env=env)
    assert made.returncode == 0, made.stderr
    flags = [a for tool in allow for a in ("--allow", tool)]
    return assistant(
        "chat", "--assistant", "Home", *flags, stdin=stdin, env=env, timeout=timeout
    )  # fmt: skip


def attached_pngs(stdout: str) -> list[Path]:
    if "(attached: " not in stdout:
        return []
    named = stdout.split("(attached: ")[1].split(")")[0].split(", ")
    return [Path(n.strip()) for n in named if n.strip().endswith(".png")]


def test_a_formula_question_is_answered_with_the_number(tmp_path: Path, real_store) -> None:
    done = chat_with_notes(tmp_path, real_store, "What is 30 degrees Celsius in Fahrenheit?\n")
    assert done.returncode == 0, done.stderr
    assert "(calculator(" in done.stderr or "(python(" in done.stderr
    assert "86" in done.stdout, done.stdout


def test_python_runs_when_allowed_with_a_knowledge_folder_attached(
    tmp_path: Path, real_store
) -> None:
    # The passage from budget.md joins the message (outside text, fenced); python is allowed
    # and the user's own notes hold no instruction, so the call runs unasked.
    ask = "Use python to add up the amounts of my monthly budget.\n"
    done = chat_with_notes(tmp_path, real_store, ask, "python")
    assert done.returncode == 0, done.stderr
    assert "(python(" in done.stderr and "did not allow" not in done.stderr
    assert "1700" in done.stdout.replace(",", ""), done.stdout + done.stderr
    assert "(Source: notes/budget.md" in done.stdout


def test_a_chart_without_an_image_model_is_a_plot(tmp_path: Path, real_store) -> None:
    ask = "Make a bar chart of these sales: Mon 12, Tue 19, Wed 7, Thu 15.\n"
    done = chat_with_notes(tmp_path, real_store, ask, "python")
    assert done.returncode == 0, done.stderr
    pngs = attached_pngs(done.stdout)
    assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs), done.stdout


def test_a_picture_without_an_image_model_gets_the_pull_command(tmp_path: Path, real_store) -> None:
    done = chat_with_notes(tmp_path, real_store, "Draw me a picture of a horse.\n", "python")
    assert done.returncode == 0, done.stderr
    assert "assistant models pull sd-turbo" in done.stdout
    assert "(python(" not in done.stderr


def test_a_long_story_is_written_and_does_not_loop(tmp_path: Path, real_store) -> None:
    import re

    config = tmp_path / "config.toml"
    config.write_text(f'[models]\ndir = "{real_store.root}"\n[llm]\ntemperature = 0.0\n')
    env = {"ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(tmp_path)}
    done = assistant(
        "chat", stdin="Write a long story about a lighthouse keeper\n", env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    story = done.stdout
    assert len(story.split()) > 120 and "sorry" not in story.lower(), story  # not refused
    sentences = [s.lower() for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 6]
    assert len(sentences) == len(set(sentences)), story  # no sentence said twice


def test_what_it_cannot_do_offline_is_said_with_why(tmp_path: Path, real_store) -> None:
    from bench.answer_cannot import honest

    asked = "Set an alarm for 7 tomorrow morning."
    done = chat_with_notes(tmp_path, real_store, f"{asked}\n")
    assert done.returncode == 0, done.stderr
    assert honest(asked, done.stdout), done.stdout  # "I can't … : I run offline, …"; no "Done!"
