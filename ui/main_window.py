"""The main window: conversation view, text box, send and stop."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant_app.chat import ChatSession
from assistant_app.errors import AssistantError
from ui.bridge import Bridge


class MainWindow(QMainWindow):
    """Opens at once; the chat model loads in the background and the status line says so."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.setWindowTitle("Assistant")
        self.resize(760, 560)
        self.bridge = bridge
        self.session: ChatSession | None = None
        self._worker: threading.Thread | None = None
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)  # nothing is fetched or opened on its own
        self.input = QLineEdit(placeholderText="Type a message and press Enter")
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.status = QLabel("Starting...")
        row = QHBoxLayout()
        for widget in (self.input, self.send_button, self.stop_button):
            row.addWidget(widget)
        column = QVBoxLayout()
        column.addWidget(self.view)
        column.addLayout(row)
        column.addWidget(self.status)
        body = QWidget()
        body.setLayout(column)
        self.setCentralWidget(body)
        self.input.returnPressed.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        QShortcut(QKeySequence("Esc"), self, activated=self.stop)
        bridge.status_changed.connect(self.status.setText)
        bridge.reply_delta.connect(self._append_delta)
        bridge.reply_finished.connect(self._finish_reply)
        bridge.error_raised.connect(self._show_error)
        bridge.session_ready.connect(self.attach)
        self._set_busy(True)

    def attach(self, session: ChatSession) -> None:
        """Called (in the GUI thread) once the chat model has loaded."""
        self.session = session
        self.status.setText(f"Ready: {session.model.name}")
        self._set_busy(False)

    def send(self) -> None:
        text = self.input.text().strip()
        if not text or self.session is None or not self.send_button.isEnabled():
            return
        self.input.clear()
        self._append_html(f"<p><b>You:</b> {html.escape(text)}</p><p><b>Assistant:</b> ")
        self._set_busy(True)
        self._worker = run_in_thread(self._reply_worker(text))

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Stops a reply in progress and lets its thread leave native code before exit."""
        self.stop()
        if self._worker is not None:
            self._worker.join(timeout=5)
        super().closeEvent(event)

    def _reply_worker(self, text: str) -> Callable[[], None]:
        session, bridge = self.session, self.bridge

        def work() -> None:
            try:
                for piece in session.stream(text):
                    bridge.reply_delta.emit(piece)
            except AssistantError as exc:
                bridge.error_raised.emit(str(exc))
            finally:
                bridge.reply_finished.emit()

        return work

    def _append_delta(self, text: str) -> None:
        self.view.moveCursor(QTextCursor.MoveOperation.End)
        self.view.insertPlainText(text)

    def _append_html(self, markup: str) -> None:
        self.view.moveCursor(QTextCursor.MoveOperation.End)
        self.view.insertHtml(markup)

    def _finish_reply(self) -> None:
        self._append_html("<br>")
        self._set_busy(False)

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self._append_html(f"<p><i>{html.escape(message)}</i></p>")

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy and self.session is not None)
        self.stop_button.setEnabled(busy and self.session is not None)


def run_in_thread(work: Callable[[], None]) -> threading.Thread:
    """Engine work never runs on the GUI thread."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread
