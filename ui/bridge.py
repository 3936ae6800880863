"""The one bridge from kernel threads to widgets: kernel events become queued Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Bridge(QObject):
    """Lives in the GUI thread; worker threads emit, Qt queues the call into the GUI thread."""

    status_changed = Signal(str)  # loading progress, "ready", ...
    session_ready = Signal(object)  # a ChatSession on the loaded model
    reply_delta = Signal(str)  # a piece of the streaming reply
    reply_finished = Signal()
    error_raised = Signal(str)  # a readable message with the fix
    sketch_progress = Signal(str)  # a step of the sketch-to-page pipeline
    sketch_finished = Signal(object)  # a vision.sketch.SketchResult
    sketch_failed = Signal(str)  # why no page came out (or "Stopped: ...")
