"""Custom assistants and saved conversations: profiles apply, conversations resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant_app.core.config import Config
from assistant_app.core.errors import UserVisibleError
from assistant_app.core.messages import ReplyDelta, ToolCall
from assistant_app.kernel.session import build_session, conversations
from assistant_app.storage.profiles import Profile, Profiles
from tests.fakes import FakeChatModel
from tests.test_tools import ScriptedToolModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_profiles_are_saved_listed_switched_and_deleted(tmp_path: Path) -> None:
    profiles = Profiles(tmp_path)
    profiles.save(
        Profile("Tutor", "Explain like a teacher.", ("/notes",), "piper", {"calculator": "ask"})
    )
    assert profiles.names() == ["Tutor"] and profiles.current() == "default"
    assert profiles.load("Tutor").tools == {"calculator": "ask"}
    profiles.use("Tutor")
    assert profiles.current() == "Tutor"
    profiles.delete("Tutor")
    assert profiles.names() == [] and profiles.current() == "default"


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (Profile("../etc"), "not a usable name"),
        (Profile("ok", tools={"calculator": "maybe"}), "allow, ask, deny"),
    ],
)
def test_bad_profiles_are_refused(tmp_path: Path, profile: Profile, message: str) -> None:
    with pytest.raises(UserVisibleError, match=message):
        Profiles(tmp_path).save(profile)


def test_a_damaged_profile_file_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(UserVisibleError, match="damaged.*assistants delete"):
        Profiles(tmp_path).load("x")
    with pytest.raises(UserVisibleError, match="no assistant called 'nobody'"):
        Profiles(tmp_path).load("nobody")


def test_instructions_and_tool_rules_apply(data: Path) -> None:
    profile = Profile("Strict", "Never do arithmetic.", tools={"calculator": "deny"})
    model = ScriptedToolModel(
        [
            [ReplyDelta(tool_call=ToolCall("calculator", {"expression": "2+2"}))],
            [ReplyDelta(text="I may not calculate.")],
        ]
    )
    session = build_session(Config(), model, profile, tools=True)
    assert "".join(session.stream("What is 2+2?")) == "I may not calculate."
    assert "Never do arithmetic." in model.seen[0][0].content
    assert model.offered == [["python"], ["python"]]  # the denied tool is never offered ...
    assert "no tool named 'calculator'" in session.history[2].content  # ... nor run


def test_conversations_are_saved_and_resumed(data: Path) -> None:
    first = build_session(Config(), FakeChatModel(["Hello Ann."]), Profile("default"), tools=False)
    "".join(first.stream("Hi, I am Ann."))
    again = build_session(
        Config(),
        FakeChatModel(["You are Ann."]),
        Profile("default"),
        tools=False,
        resume=first.conversation_id,
    )
    assert [m.content for m in again.history] == ["Hi, I am Ann.", "Hello Ann."]
    "".join(again.stream("Who am I?"))
    store = conversations(Config())
    assert len(store.messages(first.conversation_id)) == 4
    assert "**You:** Who am I?" in store.export_markdown(first.conversation_id)


def test_assistants_and_conversations_commands(data: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant_app.cli", *args],
            cwd=ROOT,
            env={**os.environ, "ASSISTANT_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert (
        run(
            "assistants",
            "create",
            "Cook",
            "--instructions",
            "Talk about food.",
            "--tool",
            "calculator=deny",
        ).returncode
        == 0
    )
    assert run("assistants", "use", "Cook").returncode == 0
    assert "* Cook" in run("assistants", "list").stdout
    assert "calculator=deny" in run("assistants", "show", "Cook").stdout
    bad = run("assistants", "create", "X", "--tool", "calculator")
    assert bad.returncode == 1 and "NAME=allow" in bad.stderr
    assert "No conversations yet." in run("conversations", "list").stdout
    missing = run("conversations", "export", "7")
    assert missing.returncode == 1 and "No conversation 7" in missing.stderr
