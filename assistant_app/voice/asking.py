"""Permission asked aloud: the next words heard (or the window's buttons) answer; silence is no."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ToolCall
from assistant_app.security.permission import PermissionRequest
from assistant_app.tools.toolbox import Tool
from assistant_app.voice import spoken
from assistant_app.voice.stages import Emit, VoiceEvent

# Also shown in the window (which may answer it at once: "Always allow" said earlier).
OnPermission = Callable[[PermissionRequest], None]
OUTSIDE_REASON = "Asked because text from outside came into this conversation just now."


class Speaker(Protocol):
    @property
    def playing(self) -> bool: ...


class AskAloud:
    """One question at a time, from the chat stage's thread (inside a tool call), while the
    listening stage routes what the user says next here instead of starting a new turn."""

    def __init__(
        self,
        say: Callable[[str, int], None],
        emit: Emit,
        speaker: Speaker,
        on_permission: OnPermission | None = None,
        silence_s: float = 8.0,
    ) -> None:
        self._say, self._emit, self._speaker = say, emit, speaker
        self.on_permission = on_permission
        self.silence_s = silence_s
        self._request: PermissionRequest | None = None
        self._turn = 0
        self._deadline = 0.0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> bool:
        return self._request is not None

    def ask(self, tool: Tool, call: ToolCall, turn: int, token: CancelToken) -> bool:
        """Asks aloud whether `call` may run; blocks until a clear answer, Stop or barge-in
        (no), or `silence_s` of silence after the question was spoken (no)."""
        reason = OUTSIDE_REASON if tool.permission == "allow" else ""
        request = PermissionRequest(tool.name, call.arguments, reason)
        question = spoken.question(tool.name)
        self._emit(VoiceEvent("permission", turn, time.monotonic(), question))
        if self.on_permission is not None:
            self.on_permission(request)
        with self._lock:
            self._request, self._turn = request, turn
            self._deadline = time.monotonic() + self.silence_s
        if not request.answered:
            self._say(question, turn)
        try:
            while not request.answered:
                now = time.monotonic()
                if token.cancelled:
                    request.answer(False)
                elif self._speaker.playing:
                    self.listening()  # the question is still being spoken: the wait starts after
                elif now >= self._deadline:
                    request.answer(False)
                time.sleep(0.02)
        finally:
            with self._lock:
                self._request = None
        said = "yes" if request.allowed else "no"
        self._emit(VoiceEvent("permission_answered", turn, time.monotonic(), said))
        return request.allowed

    def listening(self) -> None:
        """The user is speaking (or the question still playing): the silence starts later."""
        with self._lock:
            self._deadline = time.monotonic() + self.silence_s

    def heard(self, text: str) -> None:
        """What the user said after the question (from the speech-to-text stage)."""
        with self._lock:
            request, turn = self._request, self._turn
        if request is None or not text.strip():
            return
        verdict = spoken.answer(text)
        if verdict is None and not request.answered:
            self._say(spoken.UNCLEAR, turn)
        request.answer(bool(verdict))

    def answer(self, allowed: bool) -> None:
        """The window's buttons."""
        with self._lock:
            request = self._request
        if request is not None:
            request.answer(allowed)
