"""Speech in the window: the voice panel drives a VoiceController; its events (from stage
threads, through the bridge) become turns in the conversation view."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

from assistant_app.core.errors import AssistantError
from assistant_app.voice.control import Devices, VoiceController
from ui.voice_panel import VoicePanel

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class VoiceWiring(QObject):
    """Owned by the window. Holding Space in the empty text box talks, like the mic button."""

    def __init__(self, window: MainWindow, devices: Devices | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.panel = VoicePanel()
        self.devices = devices
        self.controller: VoiceController | None = None
        self._replying = False  # a spoken reply is being written into the view
        self._answering = False  # a question was asked aloud: the next words answer it
        bridge = window.bridge
        bridge.voice_ready.connect(self.attach)
        bridge.voice_failed.connect(lambda why: self.panel.set_available(False, why))
        bridge.voice_event.connect(self._event)
        bridge.mic_level.connect(self.panel.show_level)
        self.panel.talk_pressed.connect(lambda: self._talk(True))
        self.panel.talk_released.connect(lambda: self._talk(False))
        self.panel.hands_free_toggled.connect(self._hands_free)
        window.input.installEventFilter(self)

    def attach(self, engines) -> None:  # noqa: ANN001 - VoiceEngines, loaded in a worker
        bridge, session = self.window.bridge, self.window.session
        if session is None:  # speech loads after the session: never the other way round
            return
        self.controller = VoiceController(
            self.window.config_or_default(),
            engines,
            session,
            bridge.voice_event.emit,
            bridge.mic_level.emit,
            self.devices,
            on_permission=bridge.offer_permission,
        )
        self.controller.set_speaker_muted(self.window.muted)
        self.panel.set_available(True)

    def use_session(self, session) -> None:  # noqa: ANN001 - a ChatSession
        """Spoken turns continue the conversation on screen (a new or reopened one)."""
        if self.controller is not None:
            self.controller.use_session(session)

    def apply_listening(self, config) -> None:  # noqa: ANN001 - a Config
        if self.controller is not None:
            self.controller.apply_listening(config)

    def set_muted(self, muted: bool) -> None:
        if self.controller is not None:
            self.controller.set_speaker_muted(muted)

    def interrupt(self) -> None:
        """Stop: speech and the spoken reply's generation end now."""
        if self.controller is not None:
            self.controller.interrupt()

    def close(self) -> None:
        if self.controller is not None:
            self.controller.close()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Space held in the empty text box is push-to-talk; typing a space is unchanged."""
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() == Qt.Key.Key_Space and not self.window.input.text():
                if not key_event.isAutoRepeat():
                    if event.type() == QEvent.Type.KeyPress:
                        self.panel.press_talk()
                    else:
                        self.panel.release_talk()
                return self.panel.mic_button.isEnabled()
        return super().eventFilter(watched, event)

    def _open(self) -> bool:
        """Opens the microphone on first use; says why when it cannot."""
        if self.controller is None:
            return False
        try:
            self.controller.open()
        except AssistantError as exc:
            self.panel.release_talk()
            self.panel.set_hands_free(False)
            self.window.show_notice(str(exc))
            return False
        return True

    def _talk(self, pressed: bool) -> None:
        if pressed and self.window.busy:
            self.window.stop()  # speaking over a typed reply stops it, as it stops speech
        if self._open():
            self.controller.push_to_talk(pressed)  # type: ignore[union-attr]

    def _hands_free(self, on: bool) -> None:
        if (not on or self._open()) and self.controller is not None:
            self.controller.set_hands_free(on)
        self.window.status.setText(
            "Listening hands-free: just speak." if on else "Hands-free listening is off."
        )

    def _event(self, event) -> None:  # noqa: ANN001 - a VoiceEvent
        self.panel.show_event(event.kind)
        view = self.window.view
        if event.kind == "transcript" and not self._answering:
            self._end_reply()
            view.add_user(event.text)
            view.begin_reply()
            self._replying = True
        elif event.kind == "transcript":  # the answer to a question asked aloud
            self.window.status.setText(f"You said: {event.text}")
        elif event.kind == "text" and self._replying:
            view.append_delta(event.text)  # the reply as written, code and plots included
        elif event.kind == "permission":
            self._answering = True
            self.window.status.setText(f"Asked aloud: {event.text}")
        elif event.kind == "permission_answered":
            self._answering = False
            self.window.dismiss_permission()
        elif event.kind == "barge_in" and self._replying:
            view.append_delta("— (interrupted)")
            self._end_reply()
        elif event.kind in ("reply_done", "dropped"):
            self._end_reply()
        elif event.kind in ("error", "mic_silent"):
            self._end_reply()
            self.window.show_notice(event.text)

    def _end_reply(self) -> None:
        self._answering = False
        if self._replying:
            self._replying = False
            self.window.view.finish_reply()
            self.window.spoken_turn_done()
