"""Engine work off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_thread(work: Callable[[], None]) -> threading.Thread:
    """Engine work never runs on the GUI thread."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread
