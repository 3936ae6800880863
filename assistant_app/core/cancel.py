"""Cancellation by generation counter: a token is cancelled once its turn is no longer current."""

from __future__ import annotations

import threading


class TurnCounter:
    """The current turn number. Barge-in or a stop button calls `advance()`; stale tokens die."""

    def __init__(self) -> None:
        self._turn = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> int:
        return self._turn

    def advance(self) -> int:
        """Start a new turn, cancelling every token issued for earlier ones."""
        with self._lock:
            self._turn += 1
            return self._turn

    def token(self) -> CancelToken:
        """A token bound to the current turn."""
        return CancelToken(self, self._turn)


class CancelToken:
    """Checked by engines per token, audio chunk or denoising step. Mandatory: use `never()`."""

    def __init__(self, counter: TurnCounter | None, turn: int) -> None:
        self._counter = counter
        self.turn = turn
        self._event = threading.Event()

    @classmethod
    def never(cls) -> CancelToken:
        """A token that is only cancelled by an explicit `cancel()`."""
        return cls(None, 0)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        return self._counter is not None and self._counter.current != self.turn
