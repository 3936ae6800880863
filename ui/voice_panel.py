"""The voice controls: the mic button (hold to talk, click for hands-free), what the assistant
is doing (listening, hearing you, thinking, speaking) and the microphone's input level."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

HOLD_MS = 250  # pressed longer than this: push-to-talk; a shorter click toggles hands-free
STATES = {  # voice event → what the indicator says
    "speech_started": "Hearing you",
    "end_of_speech": "Thinking",
    "transcript": "Thinking",
    "first_audio": "Speaking",
    "barge_in": "Interrupted",
    "dropped": "Didn't catch that",
}


class VoicePanel(QWidget):
    """Emits `talk_pressed`/`talk_released` for push-to-talk and `hands_free_toggled`; the
    window drives the indicator with `show_event` and the meter with `show_level`."""

    talk_pressed = Signal()
    talk_released = Signal()
    hands_free_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mic_button = QPushButton("Talk")
        self.mic_button.setToolTip(
            "Hold to talk (or hold Space in an empty text box); click to listen hands-free"
        )
        self.state = QLabel("Voice: loading")
        self.meter = QProgressBar()
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setMaximumWidth(120)
        self.meter.setMaximumHeight(12)
        self.meter.setToolTip("Microphone input level")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.mic_button, self.state, self.meter):
            row.addWidget(widget)
        row.addStretch(1)
        self.hands_free = False
        self.talking = False
        self._hold = QTimer(self, singleShot=True, interval=HOLD_MS)
        self._hold.timeout.connect(self._start_talking)
        self.mic_button.pressed.connect(self._hold.start)
        self.mic_button.released.connect(self._released)
        self.set_available(False, "Speech is loading…")

    def set_available(self, available: bool, why: str = "") -> None:
        """Speech engines loaded (or not, and why: shown as the button's tooltip)."""
        self.mic_button.setEnabled(available)
        if not available:
            self.state.setText(f"Voice: {why}" if why else "Voice: off")
            self.mic_button.setToolTip(why)
        else:
            self.state.setText("Voice: ready (hold Talk or Space)")
            self.mic_button.setToolTip(
                "Hold to talk (or hold Space in an empty text box); click to listen hands-free"
            )

    def press_talk(self) -> None:
        """Push-to-talk starts now (Space held, or the button held long enough)."""
        if not self.talking and self.mic_button.isEnabled():
            self.talking = True
            self.mic_button.setText("Listening…")
            self.state.setText("Listening (release to send)")
            self.talk_pressed.emit()

    def release_talk(self) -> None:
        if self.talking:
            self.talking = False
            self._show_mode()
            self.talk_released.emit()

    def set_hands_free(self, on: bool) -> None:
        if on != self.hands_free:
            self.hands_free = on
            self._show_mode()
            self.hands_free_toggled.emit(on)

    def show_event(self, kind: str) -> None:
        """A voice event's kind: the indicator follows the turn."""
        if kind in STATES:
            self.state.setText(STATES[kind])
        elif kind in ("reply_done", "error"):
            self._show_mode()

    def show_level(self, value: float) -> None:
        self.meter.setValue(round(100 * value) if self.hands_free or self.talking else 0)

    def _start_talking(self) -> None:
        if self.mic_button.isDown():
            self.press_talk()

    def _released(self) -> None:
        if self._hold.isActive():  # a click, not a hold
            self._hold.stop()
            self.set_hands_free(not self.hands_free)
        else:
            self.release_talk()

    def _show_mode(self) -> None:
        self.mic_button.setText("Hands-free on" if self.hands_free else "Talk")
        self.state.setText("Listening" if self.hands_free else "Voice: ready (hold Talk or Space)")
        if not self.hands_free and not self.talking:
            self.meter.setValue(0)
