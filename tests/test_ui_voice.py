"""Speech in the window (pytest-qt, offscreen): the Talk button, Space, hands-free, mute, the
level meter and readiness, on fake engines and a fake audio device."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from assistant_app.core.config import Config  # noqa: E402
from assistant_app.core.errors import ModelUnavailable, UserVisibleError  # noqa: E402
from assistant_app.voice.loop import VoiceEngines  # noqa: E402
from audio.devices import BLOCK, FileOutput  # noqa: E402
from tests.fakes import (  # noqa: E402
    EnergyVoiceActivityDetector,
    FakeChatModel,
    FakeSpeechToText,
    FakeTextToSpeech,
)
from ui.app import start  # noqa: E402
from ui.bridge import Bridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.voice_panel import HOLD_MS  # noqa: E402


class FakeMicrophone:
    """Stands in for PortAudio's input: the test speaks blocks into the window's callback."""

    def __init__(self, on_block, fail: str = "") -> None:  # noqa: ANN001
        self.on_block, self.fail = on_block, fail
        self.started = self.stopped = False

    def start(self) -> None:
        if self.fail:
            raise UserVisibleError(self.fail)
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def speak(self, seconds: float, loud: bool = True) -> None:
        t = np.arange(int(seconds * 16000) // BLOCK * BLOCK) / 16000
        audio = (0.3 * np.sin(2 * np.pi * 220 * t) if loud else 1e-4 * np.ones_like(t)).astype(
            np.float32
        )
        for i in range(0, len(audio), BLOCK):
            self.on_block(audio[i : i + BLOCK], time.monotonic())


class Devices:
    def __init__(self, fail: str = "") -> None:
        self.fail = fail
        self.mic: FakeMicrophone | None = None
        self.speaker: FileOutput | None = None
        self.buffer = None

    def __call__(self, on_block, buffer):  # noqa: ANN001, ANN204
        self.mic = FakeMicrophone(on_block, self.fail)
        self.buffer = buffer
        self.speaker = FileOutput(buffer, realtime=False)
        return self.mic, self.speaker


def voice_engines(transcripts: list[str], replies: list[str]) -> VoiceEngines:
    return VoiceEngines(  # the replies come from a model of the voice's own
        FakeSpeechToText(transcripts),
        FakeTextToSpeech(),
        EnergyVoiceActivityDetector(),
        chat=FakeChatModel(replies),
    )


@pytest.fixture
def devices() -> Devices:
    return Devices()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, devices):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    win = MainWindow(Bridge(), voice_devices=devices)
    qtbot.addWidget(win)
    yield win
    win.voice.close()


def started(qtbot, window, engines: VoiceEngines, typed: list[str] | None = None) -> None:
    start(window, lambda report: FakeChatModel(typed or []), Config(), None, lambda m, r: engines)
    qtbot.waitUntil(lambda: window.voice.panel.mic_button.isEnabled())


def test_holding_the_talk_button_is_a_spoken_turn_shown_and_saved(qtbot, window, devices):
    started(qtbot, window, voice_engines(["What is the capital of France?"], ["Paris."]))
    assert devices.mic is None  # the microphone is not touched before the user asks
    button = window.voice.panel.mic_button
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: devices.mic is not None and devices.mic.started, timeout=HOLD_MS * 8)
    assert window.voice.panel.talking
    devices.mic.speak(0.5)
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "You: What is the capital of France?" in window.view.toPlainText())
    qtbot.waitUntil(
        lambda: (
            [m.content for m in window.session.history][-2:]
            == ["What is the capital of France?", "Paris."]
        ),
        timeout=5000,
    )
    assert "Paris." in window.view.toPlainText()
    assert not window.voice.panel.talking


def test_a_click_toggles_hands_free_and_speech_alone_starts_a_turn(qtbot, window, devices):
    engines = voice_engines(["Hello there."], ["Hi!"])
    started(qtbot, window, engines)
    qtbot.mouseClick(window.voice.panel.mic_button, Qt.MouseButton.LeftButton)
    assert window.voice.panel.hands_free and window.voice.controller.hands_free
    devices.mic.speak(0.6)
    devices.mic.speak(1.0, loud=False)  # the pause that ends the turn
    qtbot.waitUntil(lambda: "You: Hello there." in window.view.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: "Hi!" in window.view.toPlainText(), timeout=5000)
    qtbot.mouseClick(window.voice.panel.mic_button, Qt.MouseButton.LeftButton)
    assert not window.voice.controller.hands_free


def test_space_held_in_the_empty_text_box_talks_and_a_space_in_text_is_typed(
    qtbot, window, devices
):
    started(qtbot, window, voice_engines(["Good morning."], ["Morning!"]))
    window.input.setFocus()
    qtbot.keyPress(window.input, Qt.Key.Key_Space)
    assert window.voice.panel.talking and window.input.text() == ""
    devices.mic.speak(0.4)
    qtbot.keyRelease(window.input, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "You: Good morning." in window.view.toPlainText(), timeout=5000)
    window.input.setText("two")
    qtbot.keyClick(window.input, Qt.Key.Key_Space)
    assert window.input.text() == "two " and not window.voice.panel.talking


def test_the_level_meter_follows_the_microphone_while_listening(qtbot, window, devices):
    started(qtbot, window, voice_engines(["x"], ["y"]))
    window.voice.panel.press_talk()
    devices.mic.speak(0.3)
    qtbot.waitUntil(lambda: window.voice.panel.meter.value() > 50)
    window.voice.panel.release_talk()
    assert window.voice.panel.meter.value() == 0


def test_mute_silences_the_speaker_but_the_reply_is_still_shown(qtbot, window, devices):
    started(qtbot, window, voice_engines(["Say something."], ["Something long to say."]))
    window.mute_button.click()
    played: list[np.ndarray] = []
    window.voice.panel.press_talk()
    real_read = devices.buffer.read

    def spy(frames: int) -> np.ndarray:
        block = real_read(frames)
        played.append(block)
        return block

    devices.buffer.read = spy
    devices.mic.speak(0.3)
    window.voice.panel.release_talk()
    qtbot.waitUntil(lambda: "Something long to say." in window.view.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: window.voice.controller.loop.wait_idle(0), timeout=5000)
    assert played and max(float(np.abs(b).max()) for b in played) == 0.0
    assert window.session.history[-1].content == "Something long to say."


def test_no_microphone_is_said_with_its_fix_and_nothing_is_left_listening(
    qtbot, tmp_path, monkeypatch
):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    devices = Devices(
        fail="No microphone could be opened. Plug one in, or set [audio] input_device."
    )
    win = MainWindow(Bridge(), voice_devices=devices)
    qtbot.addWidget(win)
    started(qtbot, win, voice_engines([], []))
    win.voice.panel.press_talk()
    qtbot.waitUntil(lambda: "Plug one in" in win.status.text())
    assert not win.voice.panel.talking and not win.voice.controller.opened
    assert "Plug one in" in win.view.toPlainText()


def test_readiness_per_model_and_speech_that_cannot_load(qtbot, window):
    release = threading.Event()

    def voice_loader(model, report):  # noqa: ANN001
        report("speech recognition", "loading")
        release.wait(5)
        raise ModelUnavailable("whisper-tiny.en", "not installed", fix="run `assistant setup`.")

    start(window, lambda report: FakeChatModel([]), Config(), None, voice_loader)
    qtbot.waitUntil(lambda: window.readiness.states["speech recognition"] == "loading")
    qtbot.waitUntil(lambda: window.readiness.states["chat"] == "ready")
    assert window.send_button.isEnabled()  # typing works while speech loads
    release.set()
    qtbot.waitUntil(lambda: "unavailable" in window.readiness.text())
    assert "assistant setup" in window.readiness.toolTip()
    assert not window.voice.panel.mic_button.isEnabled()
    assert "assistant setup" in window.voice.panel.mic_button.toolTip()


def test_stop_silences_a_spoken_reply_and_history_keeps_what_was_heard(qtbot, window, devices):
    long_reply = "One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten."
    engines = voice_engines(["Count to ten."], [long_reply])
    engines.tts.samples_per_word = 12000  # half a second a word
    started(qtbot, window, engines)
    window.voice.panel.press_talk()
    devices.mic.speak(0.3)
    devices.speaker._realtime = True  # play at a real pace, so Stop lands mid-reply
    window.voice.panel.release_talk()
    qtbot.waitUntil(lambda: window.voice.panel.state.text() == "Speaking", timeout=5000)
    qtbot.wait(700)
    window.stop()
    qtbot.waitUntil(lambda: window.voice.controller.loop.wait_idle(0), timeout=5000)
    qtbot.waitUntil(lambda: len(window.session.history) == 2)
    said, heard = (m.content for m in window.session.history)
    assert said == "Count to ten." and heard.startswith("One.")
    assert "Ten." not in heard and "(interrupted)" in window.view.toPlainText()


def test_a_spoken_question_shows_its_tool_use_and_answer_like_a_typed_one(qtbot, window, devices):
    from assistant_app.core.messages import ReplyDelta, ToolCall
    from tests.test_tools import ScriptedToolModel

    call = ToolCall("calculator", {"expression": "17*23"})
    voice_model = ScriptedToolModel(
        [[ReplyDelta(tool_call=call)], [ReplyDelta(text="17 times 23 is 391.")]]
    )
    engines = VoiceEngines(
        FakeSpeechToText(["How many eggs are in 17 boxes of 23?"]),
        FakeTextToSpeech(),
        EnergyVoiceActivityDetector(),
        chat=voice_model,
    )
    started(qtbot, window, engines)
    button = window.voice.panel.mic_button
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: devices.mic is not None and devices.mic.started, timeout=HOLD_MS * 8)
    devices.mic.speak(0.5)
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "17 times 23 is 391." in window.view.toPlainText(), timeout=5000)
    shown = window.view.toPlainText()
    assert "You: How many eggs are in 17 boxes of 23?" in shown
    assert "[calculator: 17*23 = 391]" in shown  # the same tool line a typed turn shows
    qtbot.waitUntil(lambda: [m.role for m in window.session.history][-4:] == [
        "user", "assistant", "tool", "assistant",
    ], timeout=5000)  # fmt: skip
