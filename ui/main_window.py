"""The main window: conversation, text box, send, stop, mute; a dropped sketch becomes a page."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.cancel import CancelToken
from assistant_app.chat import ChatSession
from assistant_app.config import Config, data_dir
from assistant_app.errors import AssistantError, UserVisibleError
from ui.bridge import Bridge, PermissionRequest
from ui.chat_view import ChatView
from ui.permission_dialog import ALWAYS, DENY, PermissionDialog
from ui.settings_dialog import SettingsDialog
from ui.sidebar import Sidebar
from ui.sketch_files import (  # noqa: F401 - sketch_output_path is used by tests
    SketchRunner,
    default_sketch_runner,
    image_patterns,
    sketch_output_path,
    sketch_problem,
)
from ui.sketch_view import SketchDialog

log = logging.getLogger(__name__)
# (sketch, output HTML, cancel token, progress) -> a vision.sketch.SketchResult; runs in a worker.


class MainWindow(QMainWindow):
    """Opens at once; the chat model loads in the background and the status line says so.

    Esc stops a reply, Ctrl+N starts a new conversation. `muted` (the Mute button) is read by
    the voice wiring, which is what will speak replies; until it lands the app only shows text.
    """

    def __init__(
        self,
        bridge: Bridge,
        sketch_runner: SketchRunner | None = None,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Assistant")
        self.resize(760, 560)
        self.bridge = bridge
        self.session: ChatSession | None = None
        self._worker: threading.Thread | None = None
        self._reset_after_reply = False
        self._reply_failed = False
        self.muted = False
        self.permission_dialog: PermissionDialog | None = None
        self.config = config
        self.sketch_runner = sketch_runner or default_sketch_runner(config)
        self.sketch_view = SketchDialog(self, self.cancel_sketch)
        self._sketch_token: CancelToken | None = None
        self._sketch_worker: threading.Thread | None = None
        self.setAcceptDrops(True)
        self.view = ChatView(data_dir(config or Config()) / "attachments")
        self.input = QLineEdit(placeholderText="Type a message and press Enter")
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.mute_button = QPushButton("Mute", checkable=True)
        self.mute_button.setToolTip("Do not speak replies aloud")
        self.sketch_button = QPushButton("Open sketch…")
        self.sketch_button.setToolTip("Turn a drawing of a web page into a working page")
        self.input.setAcceptDrops(False)  # a file dropped on the text box goes to the window
        self.status = QLabel("Starting...")
        row = QHBoxLayout()
        buttons = (self.send_button, self.stop_button, self.mute_button, self.sketch_button)
        for widget in (self.input, *buttons):
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
        self.mute_button.toggled.connect(self.set_muted)
        self.sketch_button.clicked.connect(self.choose_sketch)
        self.view.notice.connect(self.status.setText)
        QShortcut(QKeySequence("Esc"), self, activated=self.stop)
        QShortcut(QKeySequence.StandardKey.New, self, activated=self.new_conversation)
        QShortcut(QKeySequence.StandardKey.Open, self, activated=self.choose_sketch)
        bridge.status_changed.connect(self.status.setText)
        bridge.reply_delta.connect(self.view.append_delta)
        bridge.reply_finished.connect(self._finish_reply)
        bridge.error_raised.connect(self._show_error)
        bridge.session_ready.connect(self.attach)
        bridge.permission_requested.connect(self._ask_permission)
        bridge.tool_finished.connect(self.view.add_tool_result)
        bridge.sketch_progress.connect(self._sketch_progress)
        bridge.sketch_finished.connect(self._sketch_finished)
        bridge.sketch_failed.connect(self._sketch_failed)
        self.sidebar: Sidebar | None = None
        if config is not None:
            self._add_sidebar(config)
        self._set_busy(True)

    def _add_sidebar(self, config: Config) -> None:
        """Conversations and assistants on the left; Ctrl+, opens the settings."""
        from assistant_app.cli_assistants import profiles_for
        from assistant_app.session import conversations

        self.sidebar = Sidebar(conversations(config), profiles_for(config))
        dock = QDockWidget("Conversations", self)
        dock.setObjectName("sidebar")
        dock.setWidget(self.sidebar)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.sidebar.resume_requested.connect(self.reopen)
        self.sidebar.assistant_switched.connect(lambda _name: self.reopen(None))
        QShortcut(QKeySequence("Ctrl+,"), self, activated=self.open_settings)

    def reopen(self, conversation: int | None) -> None:
        """A saved conversation (or, for None, a new one as the current assistant) replaces
        the one on screen; the loaded model stays."""
        if self.session is None or self.busy or self.config is None:
            self.status.setText("Wait for the reply to finish (or press Stop) first.")
            return
        from ui.app import open_session

        model, config, bridge = self.session.model, self.config, self.bridge
        self._set_busy(True)

        def work() -> None:
            try:
                bridge.session_ready.emit(open_session(config, model, bridge, resume=conversation))
            except AssistantError as exc:
                bridge.error_raised.emit(str(exc))

        run_in_thread(work)

    def open_settings(self) -> None:
        from assistant_app.cli_assistants import profiles_for

        try:
            dialog = SettingsDialog(profiles_for(self.config or Config()), parent=self)
        except AssistantError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        dialog.settings_saved.connect(self._settings_saved)
        dialog.exec()

    def _settings_saved(self, config: Config) -> None:
        self.config = config
        self.status.setText("Settings saved. New models and voices take effect after a restart.")

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def attach(self, session: ChatSession) -> None:
        """Called (in the GUI thread) once a session is ready; a resumed one is shown."""
        self.session = session
        self.view.clear_conversation()
        for message in session.history:
            if message.role == "user":
                self.view.add_user(message.content)
            elif message.role == "assistant" and message.content:
                self.view.begin_reply()
                self.view.append_delta(message.content)
                self.view.finish_reply()
        self.status.setText(f"Ready: {session.model.name}")
        self._set_busy(False)

    def send(self) -> None:
        text = self.input.text().strip()
        if not text or self.session is None or not self.send_button.isEnabled():
            return
        self.input.clear()
        self.view.add_user(text)
        self.view.begin_reply()
        self.status.setText("Thinking...")
        self._set_busy(True)
        self.bridge.begin_turn()
        self._worker = run_in_thread(self._reply_worker(text))

    def stop(self) -> None:
        """Stops the reply; a permission question still open is answered "deny"."""
        if self.session is not None:
            self.session.stop()  # first: the worker a "deny" wakes must see the turn is over
        self.bridge.deny_pending()
        if self.permission_dialog is not None:
            self.permission_dialog.deny()

    def new_conversation(self) -> None:
        """Ctrl+N: a reply in progress is stopped first; the session starts over."""
        if self.session is None:
            return
        if self.busy:
            self._reset_after_reply = True
            self.stop()
            return
        self.session.reset()
        self.view.clear_conversation()
        self.status.setText("New conversation.")

    def set_muted(self, muted: bool) -> None:
        """Speech output (the voice wiring) reads `muted`; the button shows the state."""
        self.muted = muted
        self.mute_button.setText("Muted" if muted else "Mute")
        self.status.setText("Replies will not be spoken." if muted else "Replies may be spoken.")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Stops a reply in progress and lets its thread leave native code before exit."""
        self.stop()
        self.cancel_sketch()
        if self._worker is not None:
            self._worker.join(timeout=5)
        if self._sketch_worker is not None:
            # OCR and the browser do not check the token: do not wait for them at exit.
            self._sketch_worker.join(timeout=2)
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        """Any file is welcome here; the drop says what is wrong with one that is not a sketch."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        """A dropped image starts the sketch flow; anything else gets a message."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        event.acceptProposedAction()
        self.open_sketch_files([Path(u.toLocalFile()) if u.isLocalFile() else None for u in urls])

    def choose_sketch(self) -> None:
        """The "Open sketch…" button: pick a drawing of a web page."""
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open a sketch of a web page", "", f"Images ({image_patterns()});;All files (*)"
        )
        if chosen:
            self.open_sketch_files([Path(chosen)])

    def open_sketch_files(self, paths: list[Path | None]) -> bool:
        """Starts turning the one image in `paths` into a page; says why not otherwise."""
        problem = sketch_problem(paths)
        if not problem and self.sketch_view.running:
            problem = (
                "A sketch is already being turned into a page: wait for it, or cancel it in the "
                "sketch window, then drop this one again."
            )
        if problem:
            self._show_notice(problem)
            return False
        self.start_sketch(paths[0])
        return True

    def start_sketch(self, image: Path) -> None:
        """Runs the sketch runner on `image` in a worker thread; the dialog shows the way."""
        fallback = data_dir(self.config or Config()) / "sketches"
        out_html = sketch_output_path(image, fallback)
        token = self._sketch_token = CancelToken.never()
        self.sketch_view.start(image)
        self.sketch_view.show()
        self.sketch_view.raise_()
        self.status.setText(f"Turning {image.name} into a page...")
        self._sketch_worker = run_in_thread(self._sketch_work(image, out_html, token))

    def cancel_sketch(self) -> None:
        """Stops the sketch in progress at its next step (model writing stops within a token)."""
        if self._sketch_token is not None:
            self._sketch_token.cancel()

    def _sketch_work(self, image: Path, out_html: Path, token: CancelToken) -> Callable[[], None]:
        runner, bridge = self.sketch_runner, self.bridge

        def progress(step: str) -> None:
            if token.cancelled:  # steps between the model's tokens stop here
                raise UserVisibleError("Stopped: the page was not finished.")
            bridge.sketch_progress.emit(step)

        def work() -> None:
            try:
                result = runner(image, out_html, token, progress)
            except AssistantError as exc:
                bridge.sketch_failed.emit(str(exc))
            except Exception as exc:  # noqa: BLE001 - a stage surfaces every failure readably
                log.exception("sketch to page failed on %s", image)
                bridge.sketch_failed.emit(f"The sketch could not be turned into a page: {exc}")
            else:
                bridge.sketch_finished.emit(result)

        return work

    def _sketch_progress(self, step: str) -> None:
        self.sketch_view.add_progress(step)
        self.status.setText(f"Sketch: {step}")

    def _sketch_finished(self, result: object) -> None:
        self.sketch_view.show_result(result)
        self.status.setText(f"Page ready: {result.html_path}")

    def _sketch_failed(self, message: str) -> None:
        self.sketch_view.show_error(message)
        self._show_notice(message)

    def _reply_worker(self, text: str) -> Callable[[], None]:
        session, bridge = self.session, self.bridge

        def work() -> None:
            try:
                for piece in session.stream(text):
                    bridge.reply_delta.emit(piece)
            except AssistantError as exc:
                bridge.error_raised.emit(str(exc))
            except Exception as exc:  # noqa: BLE001 - a stage surfaces every failure readably
                log.exception("the reply to %r failed", text[:80])
                bridge.error_raised.emit(f"The reply failed ({type(exc).__name__}: {exc}).")
            finally:
                bridge.reply_finished.emit()

        return work

    def _ask_permission(self, request: PermissionRequest) -> None:
        """A worker waits on `request`; the dialog shows exactly what would run."""
        if request.answered:
            return  # stopped before the question reached the window
        dialog = self.permission_dialog = PermissionDialog(self, request.tool, request.arguments)
        self.status.setText(f"Waiting for you to allow or deny {request.tool}...")

        def answered(choice: str) -> None:
            if choice == ALWAYS:
                self.bridge.allow_always(request.tool)
            request.answer(choice != DENY)
            self.status.setText(f"{request.tool}: {'denied' if choice == DENY else 'running'}")
            if self.permission_dialog is dialog:
                self.permission_dialog = None
            dialog.deleteLater()

        dialog.answered.connect(answered)
        dialog.open()

    def _finish_reply(self) -> None:
        self.view.finish_reply()
        self._worker = None
        self._set_busy(False)
        if self.session is not None and not self._reply_failed:
            self.status.setText(f"Ready: {self.session.model.name}")
        self._reply_failed = False
        if self.sidebar is not None:
            self.sidebar.refresh_conversations()
        if self._reset_after_reply:
            self._reset_after_reply = False
            self.new_conversation()

    def _show_error(self, message: str) -> None:
        self._reply_failed = self._worker is not None
        self.status.setText(message)
        self.view.show_error(message)

    def _show_notice(self, message: str) -> None:
        """A message from outside the chat (the sketch flow): never cuts into a streaming reply."""
        self.status.setText(message)
        if not self.view.streaming:
            self.view.show_error(message)

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy and self.session is not None)
        self.stop_button.setEnabled(busy and self.session is not None)


def run_in_thread(work: Callable[[], None]) -> threading.Thread:
    """Engine work never runs on the GUI thread."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread
