"""A tool call waiting for the user's answer, given by a click, by voice, or by Stop."""

from __future__ import annotations

import threading
from typing import Any


class PermissionRequest:
    """A tool call waiting for the user: the worker blocks in `wait`, the GUI calls `answer`."""

    def __init__(self, tool: str, arguments: dict[str, Any], reason: str = "") -> None:
        self.tool = tool
        self.arguments = dict(arguments)  # exactly what will run
        self.reason = reason  # why a tool that is normally allowed asks this time
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

    def wait(self, timeout_s: float | None = None) -> bool:
        """The answer; no answer within `timeout_s` is a no."""
        if not self._done.wait(timeout_s):
            self.answer(False)
        return self.allowed
