"""The desktop window with pytest-qt (offscreen): typing, streaming, stopping, load errors."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from assistant_app.core.config import Config  # noqa: E402
from assistant_app.core.errors import ModelUnavailable  # noqa: E402
from tests.fakes import FakeChatModel  # noqa: E402
from ui.app import start  # noqa: E402
from ui.bridge import Bridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    win = MainWindow(Bridge())
    qtbot.addWidget(win)
    return win


def test_window_opens_before_the_model_and_then_chats(qtbot, window) -> None:
    release = threading.Event()
    model = FakeChatModel(["Paris is the capital of France."])

    def loader(report):
        report("Loading fake...")
        release.wait(5)
        return model

    start(window, loader, Config())
    qtbot.waitUntil(lambda: window.status.text() == "Loading fake...")
    assert not window.send_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    qtbot.keyClicks(window.input, "What is the capital of France?")
    qtbot.keyClick(window.input, "\r")
    qtbot.waitUntil(lambda: "Paris is the capital of France." in window.view.toPlainText())
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    assert model.requests[0][-1].content == "What is the capital of France?"


def test_stop_cancels_a_streaming_reply(qtbot, window) -> None:
    stopped = threading.Event()

    def slow(i: int) -> None:
        if i == 2:
            stopped.wait(5)

    model = FakeChatModel(["one two three four five six"], on_delta=slow)
    start(window, lambda report: model, Config())
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    window.input.setText("count")
    window.send()
    qtbot.waitUntil(lambda: "one two three" in window.view.toPlainText())
    window.stop_button.click()
    stopped.set()
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    assert "four" not in window.view.toPlainText()
    assert window.session.history[-1].content == "one two three"


def test_a_missing_model_is_shown_with_its_fix(qtbot, window) -> None:
    def loader(report):
        raise ModelUnavailable("qwen", "not installed", fix="run `assistant models pull qwen`.")

    start(window, loader, Config())
    qtbot.waitUntil(lambda: "assistant models pull qwen" in window.status.text())
    assert "assistant models pull qwen" in window.view.toPlainText()
    assert not window.send_button.isEnabled()


def test_the_app_session_is_the_current_assistant_with_tools_and_history(
    qtbot, window, tmp_path
) -> None:
    from assistant_app.kernel.session import conversations
    from assistant_app.storage.profiles import Profile, Profiles

    profiles = Profiles(tmp_path / "assistants")
    profiles.save(Profile("pirate", instructions="Talk like a pirate."))
    profiles.use("pirate")
    model = FakeChatModel(["Arr, hello."])
    start(window, lambda report: model, Config())
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    session = window.session
    assert "Talk like a pirate." in session.system.content
    assert session.toolbox.get("python").permission == "ask"
    window.input.setText("hello")
    window.send()
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    saved = conversations(Config()).messages(session.conversation_id)
    assert [m.content for m in saved] == ["hello", "Arr, hello."]
