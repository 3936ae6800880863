"""Sidebar and settings dialog (pytest-qt, offscreen): conversations, assistants, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox  # noqa: E402

from assistant_app.core.config import Config, load_config  # noqa: E402
from assistant_app.core.messages import ChatMessage  # noqa: E402
from assistant_app.kernel.session import conversations  # noqa: E402
from assistant_app.storage.profiles import (
    Profile,  # noqa: E402
    profiles_for,  # noqa: E402
)
from ui import assistant_dialog, settings_dialog, sidebar  # noqa: E402
from ui.assistant_dialog import AssistantDialog  # noqa: E402
from ui.settings_dialog import SettingsDialog  # noqa: E402
from ui.sidebar import Sidebar  # noqa: E402


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "config.toml"))
    # An empty model store, so every model is absent.
    (tmp_path / "config.toml").write_text(f'[models]\ndir = "{tmp_path / "store"}"\n')
    return tmp_path


@pytest.fixture
def store(env: Path):
    with conversations(Config()) as db:
        yield db


@pytest.fixture
def bar(qtbot, store) -> Sidebar:
    widget = Sidebar(store, profiles_for(Config()))
    qtbot.addWidget(widget)
    return widget


def _save(store, *texts: str) -> int:
    cid = store.create()
    for text in texts:
        store.append(cid, ChatMessage("user", text))
    return cid


def _texts(widget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def _select(widget, key) -> None:
    for i in range(widget.count()):
        if widget.item(i).data(sidebar.ID) == key:
            widget.setCurrentRow(i)
            return
    raise AssertionError(f"{key} not listed")


def test_conversations_are_listed_newest_first_and_searched(qtbot, bar, store) -> None:
    assert _texts(bar.conversations) == ["No conversations yet."]
    _save(store, "How tall is the Eiffel tower?")
    _save(store, "Plan a trip to Kyoto")
    bar.refresh()
    texts = _texts(bar.conversations)
    assert texts[0].startswith("Plan a trip to Kyoto\n") and "1 message" in texts[0]
    assert texts[1].startswith("How tall is the Eiffel tower?")
    bar.search.setText("eiffel")
    assert [t.split("\n")[0] for t in _texts(bar.conversations)] == [
        "How tall is the Eiffel tower?"
    ]
    bar.search.setText("zebra")
    assert _texts(bar.conversations) == ["Nothing matches."]


def test_activating_a_conversation_asks_to_resume_it(qtbot, bar, store) -> None:
    cid = _save(store, "hello")
    bar.refresh()
    item = bar.conversations.item(0)
    with qtbot.waitSignal(bar.resume_requested) as signal:
        bar.conversations.itemActivated.emit(item)
    assert signal.args == [cid]


def test_rename_delete_and_export(qtbot, bar, store, env, monkeypatch) -> None:
    cid = _save(store, "first question")
    keep = _save(store, "second question")
    bar.refresh()
    _select(bar.conversations, cid)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Renamed chat", True))
    bar.rename_button.click()
    assert store.info(cid).title == "Renamed chat"
    out = env / "chat.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    _select(bar.conversations, cid)
    bar.export_button.click()
    assert out.read_text().startswith("# Renamed chat") and "first question" in out.read_text()
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    _select(bar.conversations, cid)
    bar.delete_button.click()  # answered No: kept
    assert [c.id for c in store.list()] == [keep, cid]
    bar.delete_button.click()
    assert [c.id for c in store.list()] == [keep]
    assert len(_texts(bar.conversations)) == 1


def test_assistants_are_created_switched_and_deleted(qtbot, bar, monkeypatch) -> None:
    profiles = bar.profiles
    assert _texts(bar.assistants) == ["✓ default"]

    def fill(dialog: AssistantDialog) -> int:
        dialog.name.setText("Tutor")
        dialog.instructions.setPlainText("Explain like a teacher.")
        dialog.tools["python"].setCurrentText("deny")
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(assistant_dialog.AssistantDialog, "exec", fill)
    bar.new_button.click()
    assert profiles.load("Tutor") == Profile(
        "Tutor", "Explain like a teacher.", (), "", {"python": "deny"}
    )
    assert "   Tutor" in _texts(bar.assistants)
    _select(bar.assistants, "Tutor")
    with qtbot.waitSignal(bar.assistant_switched) as signal:
        bar.use_button.click()
    assert signal.args == ["Tutor"] and profiles.current() == "Tutor"
    assert "✓ Tutor" in _texts(bar.assistants)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    _select(bar.assistants, "Tutor")
    with qtbot.waitSignal(bar.assistant_switched) as signal:
        bar.delete_assistant_button.click()
    assert signal.args == ["default"] and profiles.names() == []
    assert _texts(bar.assistants) == ["✓ default"]


def test_an_assistant_with_a_bad_name_is_refused(qtbot, env, monkeypatch) -> None:
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    dialog = AssistantDialog(profiles_for(Config()))
    qtbot.addWidget(dialog)
    dialog.name.setText("bad/name!")
    dialog.accept()
    assert "not a usable name" in warnings[0] and dialog.saved is None


def _dialog(qtbot) -> SettingsDialog:
    dialog = SettingsDialog(profiles_for(Config()))
    qtbot.addWidget(dialog)
    return dialog


def test_settings_survive_a_restart(qtbot, env) -> None:
    dialog = _dialog(qtbot)
    stt = dialog.models[("stt", "model")]
    stt.setCurrentIndex(stt.findData("whisper-tiny.en"))
    dialog.speaking_rate.setValue(1.25)
    dialog.vad_threshold.setValue(0.7)
    dialog.end_of_turn.setValue(650)
    dialog.turn_method.setCurrentText("silence")
    dialog.turn_cap.setValue(3000)
    dialog.echo.setCurrentText("speex")
    dialog.tools["calculator"].setCurrentText("ask")
    dialog.think_samples.setValue(3)
    dialog.think_budget.setValue(45)
    with qtbot.waitSignal(dialog.settings_saved):
        dialog.accept()
    config = load_config()
    assert config.stt.model == "whisper-tiny.en" and config.vad.end_of_turn_silence_ms == 650
    assert config.tts.speaking_rate == 1.25
    again = _dialog(qtbot)  # as after a restart
    assert settings_dialog._value(again.models[("stt", "model")]) == "whisper-tiny.en"
    assert again.speaking_rate.value() == 1.25 and again.vad_threshold.value() == 0.7
    assert again.end_of_turn.value() == 650 and again.echo.currentText() == "speex"
    assert again.turn_method.currentText() == "silence" and again.turn_cap.value() == 3000
    assert again.tools["calculator"].currentText() == "ask"
    assert again.think_samples.value() == 3 and again.think_budget.value() == 45
    assert (env / "config.toml.bak").exists()


def test_the_spoken_language_round_trips(qtbot, env) -> None:
    dialog = _dialog(qtbot)
    assert settings_dialog._value(dialog.language) == ""  # the system's language by default
    assert dialog.language.currentText().startswith("(system language: ")
    dialog.language.setEditText("de")
    with qtbot.waitSignal(dialog.settings_saved):
        dialog.accept()
    assert load_config().stt.language == "de"
    again = _dialog(qtbot)
    again.language.setCurrentIndex(again.language.findData("auto"))
    again.accept()
    assert load_config().stt.language == "auto"
    assert settings_dialog._value(_dialog(qtbot).language) == "auto"


def test_cancel_writes_nothing(qtbot, env) -> None:
    before = (env / "config.toml").read_text()
    dialog = _dialog(qtbot)
    dialog.speaking_rate.setValue(1.5)
    dialog.reject()
    assert (env / "config.toml").read_text() == before


def test_a_refused_value_shows_the_message_and_keeps_the_dialog(qtbot, env, monkeypatch) -> None:
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    before = (env / "config.toml").read_text()
    dialog = _dialog(qtbot)
    dialog.show()
    dialog.models[("llm", "model")].setEditText("no-such-model")
    dialog.accept()
    assert "not a llm model in the catalog" in warnings[0]
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert (env / "config.toml").read_text() == before


def test_models_show_whether_they_are_installed(qtbot, env) -> None:
    dialog = _dialog(qtbot)
    stt = dialog.models[("stt", "model")]
    qtbot.waitUntil(lambda: "absent" in stt.itemText(stt.currentIndex()))
    assert stt.itemText(stt.findData("whisper-base")).startswith("whisper-base — absent, ")
    engine = dialog.tts_engine
    assert "absent" in engine.itemText(engine.findData("hibari"))
    assert engine.itemText(engine.findData("espeak-ng")) == "espeak-ng"


def test_untouched_settings_are_not_rewritten(qtbot, env) -> None:
    path = env / "config.toml"
    path.write_text(path.read_text() + "[vad]\nthreshold = 0.123\n")
    dialog = _dialog(qtbot)  # shows 0.12
    dialog.speaking_rate.setValue(1.1)
    dialog.accept()
    config = load_config()
    assert config.vad.threshold == 0.123 and config.tts.speaking_rate == 1.1
    assert config.vad.end_of_turn_silence_ms == Config().vad.end_of_turn_silence_ms
    assert "end_of_turn_silence_ms" not in path.read_text()  # still follows the default


def test_saved_settings_apply_to_the_running_window(qtbot, env) -> None:
    from tests.fakes import FakeChatModel
    from ui.app import start
    from ui.bridge import Bridge
    from ui.main_window import MainWindow

    window = MainWindow(Bridge(), config=load_config())
    qtbot.addWidget(window)
    start(window, lambda report: FakeChatModel([]), window.config)
    qtbot.waitUntil(lambda: window.send_button.isEnabled())
    conversation = window.session.conversation_id
    assert window.session.toolbox.get("calculator").permission == "allow"
    dialog = _dialog(qtbot)
    dialog.tools["calculator"].setCurrentText("deny")
    dialog.think_budget.setValue(45)
    dialog.vad_threshold.setValue(0.7)
    dialog.speaking_rate.setValue(1.25)
    dialog.settings_saved.connect(window._settings_saved)
    dialog.accept()
    qtbot.waitUntil(lambda: window.session.toolbox.get("calculator").permission == "deny")
    assert window.session.conversation_id == conversation  # the same conversation, reopened
    assert window.session.think.budget_s == 45
    assert "Restart the app to use the new speaking rate." in window.status.text()
    assert "threshold" not in window.status.text()  # listening applies at once
