"""The one bridge from kernel threads to widgets: kernel events become queued Qt signals."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from assistant_app.messages import ToolCall
from assistant_app.tools import Tool


class PermissionRequest:
    """A tool call waiting for the user: the worker blocks in `wait`, the GUI calls `answer`."""

    def __init__(self, tool: str, arguments: dict[str, Any]) -> None:
        self.tool = tool
        self.arguments = dict(arguments)  # exactly what will run
        self.allowed = False
        self._done = threading.Event()

    @property
    def answered(self) -> bool:
        return self._done.is_set()

    def answer(self, allowed: bool) -> None:
        """The first answer wins; later ones (a Stop racing a click) are ignored."""
        if not self._done.is_set():
            self.allowed = allowed
            self._done.set()

    def wait(self) -> bool:
        self._done.wait()
        return self.allowed


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

    def __init__(self) -> None:
        super().__init__()
        self.always_allowed: set[str] = set()
        self._lock = threading.Lock()
        self._pending: list[PermissionRequest] = []
        self._denying = False  # after Stop, until the next message: every ask is a no

    def ask_permission(self, tool: Tool, call: ToolCall) -> bool:
        """The session's `ask` callback (worker thread): may this call run?"""
        if QThread.currentThread() == self.thread():
            return False  # nobody could answer: waiting here would freeze the window
        with self._lock:
            if tool.name in self.always_allowed:
                return True
            if self._denying:
                return False
            request = PermissionRequest(tool.name, call.arguments)
            self._pending.append(request)
        self.permission_requested.emit(request)
        try:
            return request.wait()
        finally:
            with self._lock:
                self._pending.remove(request)

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
