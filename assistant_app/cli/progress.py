"""A terminal progress bar for slow store work (assembling, downloading, verifying models)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from models.store import Progress

VERBS = {"download": "downloading", "assemble": "assembling", "verify": "verifying"}


class ProgressBar:
    """Redraws one line on a terminal; on a pipe prints a line per file and stage."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last: tuple[str, str, str] | None = None
        self._drawn = 0.0

    def __call__(self, event: Progress) -> None:
        key = (event.model, event.file, event.stage)
        if event.stage == "ok":
            if self._last and self._last[:2] == key[:2] and self._tty:
                self._stream.write("\n")
            self._last = None
            return
        new = key != self._last
        self._last = key
        verb = VERBS.get(event.stage, event.stage)
        if not self._tty:
            if new:
                self._stream.write(
                    f"{verb} {event.model}/{event.file} ({event.total / 1e6:.1f} MB)\n"
                )
                self._stream.flush()
            return
        now = time.monotonic()
        if not new and now - self._drawn < 0.1 and event.done < event.total:
            return
        self._drawn = now
        frac = event.done / event.total if event.total else 1.0
        bar = "#" * int(frac * 30)
        self._stream.write(
            f"\r{verb:>11} {event.model}/{event.file} [{bar:<30}] "
            f"{frac * 100:5.1f}% of {event.total / 1e6:.0f} MB"
        )
        self._stream.flush()
