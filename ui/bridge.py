"""The one bridge from kernel threads to widgets: kernel events become queued Qt signals."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from assistant_app.core.messages import ToolCall
from assistant_app.security.permission import PermissionRequest
from assistant_app.tools.toolbox import Tool

UNTRUSTED_REASON = (
    "Asked because text from outside (an attached file or picture, a retrieved passage or a "
    "tool's result) came into this conversation just now and could be steering the assistant."
)


class Bridge(QObject):
    """Lives in the GUI thread; worker threads emit, Qt queues the call into the GUI thread.

    It also answers the chat session's `ask` and `on_tool` callbacks, which run in the worker:
    `ask_permission` blocks the worker until the window answers (Stop or closing the window
    answers "deny"), and tools the user chose "Always allow" for run without asking for as long
    as this bridge (the window) lives.
    """

    status_changed = Signal(str)  # loading progress, "ready", ...
    session_ready = Signal(object)  # a ChatSession on the loaded model
    reply_delta = Signal(str)  # a piece of the streaming reply
    reply_finished = Signal()
    error_raised = Signal(str)  # a readable message with the fix
    permission_requested = Signal(object)  # a PermissionRequest the user must answer
    tool_finished = Signal(str, str)  # tool name, its result (with "attached image: PATH" lines)
    sketch_progress = Signal(str)  # a step of the sketch-to-page pipeline
    sketch_finished = Signal(object)  # a vision.sketch.SketchResult
    sketch_failed = Signal(str)  # why no page came out (or "Stopped: ...")
    image_progress = Signal(int, int)  # a picture is being drawn: step, of total steps
    model_state = Signal(str, str)  # role ("chat", "speech recognition", "voice"), its state
    voice_ready = Signal(object)  # VoiceEngines: speech recognition and the voice are loaded
    voice_failed = Signal(str)  # why speech is unavailable, with the fix
    voice_event = Signal(object)  # a VoiceEvent from the voice loop's stages
    mic_level = Signal(float)  # the microphone's input level, 0..1, about ten a second

    def __init__(self) -> None:
        super().__init__()
        self.always_allowed: set[str] = set()
        # Whether outside text entered the current turn (the window points it at its session).
        self.outside_text: Callable[[], bool] = lambda: False
        self._lock = threading.Lock()
        self._pending: list[PermissionRequest] = []
        self._denying = False  # after Stop, until the next message: every ask is a no

    def ask_permission(self, tool: Tool, call: ToolCall) -> bool:
        """The session's `ask` callback (worker thread): may this call run?"""
        if QThread.currentThread() == self.thread():
            return False  # nobody could answer: waiting here would freeze the window
        # A sensitive call after outside text (a file, a picture, a page) entered this turn may
        # be the text steering the model: it always asks, whatever "Always allow" said.
        steered = tool.permission == "allow" or (tool.sensitive and self.outside_text())
        reason = UNTRUSTED_REASON if steered else ""
        with self._lock:
            if tool.name in self.always_allowed and not reason:
                return True
            if self._denying:
                return False
            request = PermissionRequest(tool.name, call.arguments, reason)
            self._pending.append(request)
        self.permission_requested.emit(request)
        try:
            return request.wait()
        finally:
            with self._lock:
                self._pending.remove(request)

    def offer_permission(self, request: PermissionRequest) -> None:
        """A question the voice asks aloud is shown too (any thread); a tool the user chose
        "Always allow" for is answered at once, unless outside text is why it asks."""
        with self._lock:
            if request.tool in self.always_allowed and not request.reason:
                request.answer(True)
                return
        self.permission_requested.emit(request)

    def report_tool(self, call: ToolCall, result: str) -> None:
        """The session's `on_tool` callback (worker thread)."""
        self.tool_finished.emit(call.name, result)

    def allow_always(self, tool: str) -> None:
        with self._lock:
            self.always_allowed.add(tool)

    def begin_turn(self) -> None:
        """A new message: permission questions may be asked again."""
        with self._lock:
            self._denying = False

    def deny_pending(self) -> None:
        """Stop: every waiting question, and any asked before the next message, is a no."""
        with self._lock:
            self._denying = True
            pending = list(self._pending)
        for request in pending:
            request.answer(False)
