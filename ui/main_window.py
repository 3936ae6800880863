"""The main window: conversation, text box, voice, send, stop, mute; a dropped sketch becomes a
page."""

from __future__ import annotations

import dataclasses
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
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.config import Config, data_dir
from assistant_app.core.errors import AssistantError
from assistant_app.kernel.chat import ChatSession
from assistant_app.security.untrusted import as_typed
from assistant_app.tools.builtin import image_events
from assistant_app.voice.control import Devices
from ui.bridge import Bridge, PermissionRequest
from ui.chat_view import ChatView
from ui.file_drops import FileDrops
from ui.permission_dialog import ALWAYS, DENY, PermissionDialog
from ui.readiness import ReadinessLine
from ui.session_setup import open_session
from ui.settings_dialog import SettingsDialog
from ui.sidebar import Sidebar
from ui.sketch_files import SketchRunner, default_sketch_runner, image_patterns
from ui.sketch_flow import SketchFlow
from ui.voice_wiring import VoiceWiring
from ui.workers import run_in_thread

log = logging.getLogger(__name__)
# (sketch, output HTML, cancel token, progress) -> a vision.sketch.SketchResult; runs in a worker.


class MainWindow(QMainWindow):
    """Opens at once; the chat model loads in the background and the status line says so.

    Esc stops a reply and speech, Ctrl+N starts a new conversation, holding Space in the empty
    text box (or the Talk button) talks. Mute silences spoken replies; they are still shown.
    """

    def __init__(
        self,
        bridge: Bridge,
        sketch_runner: SketchRunner | None = None,
        config: Config | None = None,
        voice_devices: Devices | None = None,
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
        self.sketches = SketchFlow(self, sketch_runner or default_sketch_runner(config))
        self.sketches.uses_default_runner = sketch_runner is None
        self.sketch_view = self.sketches.view
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
        self.drops = FileDrops(self)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setToolTip(
            "Attach a picture to your next message, or add a text, Markdown or PDF file to the "
            "assistant's knowledge (or drop files on the window)"
        )
        self.input.setAcceptDrops(False)  # a file dropped on the text box goes to the window
        self.status = QLabel("Starting...")
        self.readiness = ReadinessLine()
        self.progress = QProgressBar()  # steps of something slow in a reply (a picture)
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.voice = VoiceWiring(self, voice_devices)
        row = QHBoxLayout()
        buttons = (
            self.send_button,
            self.stop_button,
            self.mute_button,
            self.sketch_button,
            self.attach_button,
        )
        for widget in (self.input, *buttons):
            row.addWidget(widget)
        column = QVBoxLayout()
        column.addWidget(self.view)
        column.addWidget(self.drops.bar)
        column.addLayout(row)
        column.addWidget(self.voice.panel)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.progress)
        column.addLayout(status_row)
        column.addWidget(self.readiness)
        body = QWidget()
        body.setLayout(column)
        self.setCentralWidget(body)
        self.input.returnPressed.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.mute_button.toggled.connect(self.set_muted)
        self.sketch_button.clicked.connect(self.choose_sketch)
        self.attach_button.clicked.connect(self.drops.choose)
        self.view.notice.connect(self.status.setText)
        self.view.page_requested.connect(self.sketches.preview_html)
        QShortcut(QKeySequence("Esc"), self, activated=self.stop)
        QShortcut(QKeySequence.StandardKey.New, self, activated=self.new_conversation)
        QShortcut(QKeySequence.StandardKey.Open, self, activated=self.choose_sketch)
        bridge.status_changed.connect(self.status.setText)
        bridge.reply_delta.connect(self.view.append_delta)
        bridge.reply_finished.connect(self._finish_reply)
        bridge.error_raised.connect(self._show_error)
        bridge.session_ready.connect(self.attach)
        bridge.model_state.connect(self.readiness.set_state)
        bridge.image_progress.connect(self._image_progress)
        bridge.permission_requested.connect(self._ask_permission)
        bridge.tool_finished.connect(self.view.add_tool_result)
        self.sidebar: Sidebar | None = None
        self.indexer = None  # set by ui.app.start: how the assistant's knowledge is indexed
        self._notice_when_ready = ""
        self._reindex_after_reply = False
        if config is not None:
            self._add_sidebar(config)
        self._set_busy(True)

    def _add_sidebar(self, config: Config) -> None:
        """Conversations and assistants on the left; Ctrl+, opens the settings."""
        from assistant_app.kernel.session import conversations
        from assistant_app.storage.profiles import profiles_for

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
        model, config, bridge, indexer = self.session.model, self.config, self.bridge, self.indexer
        self._set_busy(True)

        def work() -> None:
            try:
                session = open_session(config, model, bridge, indexer, resume=conversation)
            except AssistantError as exc:
                bridge.error_raised.emit(str(exc))
            else:
                bridge.session_ready.emit(session)

        run_in_thread(work)

    def reindex(self, notice: str) -> None:
        """The assistant's knowledge changed: the conversation reopens on the new index (after
        the reply in progress, if any) and `notice` is shown once it is ready."""
        self._notice_when_ready = notice
        if self.busy:
            self._reindex_after_reply = True
        elif self.session is not None and self.config is not None:
            self.reopen(self.session.conversation_id)

    def open_settings(self) -> None:
        from assistant_app.storage.profiles import profiles_for

        try:
            dialog = SettingsDialog(profiles_for(self.config or Config()), parent=self)
        except AssistantError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        dialog.settings_saved.connect(self._settings_saved)
        dialog.exec()

    def _settings_saved(self, config: Config) -> None:
        """Listening, thinking longer and tool rules apply at once (tool rules by reopening
        this conversation); models and voices need a restart, and the status line says which."""
        from assistant_app.storage.settings import needs_restart

        old, self.config = self.config_or_default(), config
        self.voice.apply_listening(config)
        if self.session is not None:
            self.session.think = dataclasses.replace(
                self.session.think,
                samples=config.llm.think_samples,
                budget_s=config.llm.think_budget_s,
            )
        if self.sketches.uses_default_runner:
            self.sketches.runner = default_sketch_runner(config)
        later = needs_restart(old, config)
        notice = "Settings saved and applied." + (
            f" Restart the app to use the new {', '.join(later)}." if later else ""
        )
        self.status.setText(notice)
        if self.session is not None:
            self.reindex(notice)  # the assistant's tool rules and knowledge, read again

    def config_or_default(self) -> Config:
        return self.config or Config()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def attach(self, session: ChatSession) -> None:
        """Called (in the GUI thread) once a session is ready; a resumed one is shown."""
        self.session = session
        self.bridge.outside_text = lambda: session.untrusted_in_context
        if (events := image_events(session.toolbox)) is not None:
            events.on_status = self.bridge.status_changed.emit
            events.on_progress = self.bridge.image_progress.emit
        self.view.clear_conversation()
        for message in session.history:
            if message.role == "user":
                self.view.add_user(as_typed(message.content))
            elif message.role == "assistant" and message.content:
                self.view.begin_reply()
                self.view.append_delta(message.content)
                self.view.finish_reply()
        self.status.setText(self._notice_when_ready or f"Ready: {session.model.name}")
        self._notice_when_ready = ""
        self._set_busy(False)
        self.voice.use_session(session)

    def send(self) -> None:
        text = self.input.text().strip()
        if not text or self.session is None or not self.send_button.isEnabled():
            return
        self.input.clear()
        self.voice.interrupt()  # typing over a spoken reply stops it
        pictures = self.drops.take()
        shown = f"{text}  [pictures: {', '.join(p.name for p in pictures)}]" if pictures else text
        self.view.add_user(shown)
        self.view.begin_reply()
        self.status.setText("Reading the pictures..." if pictures else "Thinking...")
        self._set_busy(True)
        self.bridge.begin_turn()
        self._worker = run_in_thread(self._reply_worker(text, pictures))

    def stop(self) -> None:
        """Stops the reply and speech; a permission question still open is answered "deny"."""
        self.voice.interrupt()
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
        """Spoken replies go silent (and are still shown); the button shows the state."""
        self.muted = muted
        self.voice.set_muted(muted)
        self.mute_button.setText("Muted" if muted else "Mute")
        self.status.setText(
            "Spoken replies are muted (still shown here)." if muted else "Spoken replies are on."
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Stops a reply in progress and lets its thread leave native code before exit."""
        self.stop()
        self.cancel_sketch()
        self.voice.close()
        if self._worker is not None:
            self._worker.join(timeout=5)
        if self.sketches.worker is not None:
            # OCR and the browser do not check the token: do not wait for them at exit.
            self.sketches.worker.join(timeout=2)
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        """Any file is welcome here; the drop says what is wrong with one that cannot be used."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        """A sketch starts a page, a picture waits for the next message, a document joins the
        assistant's knowledge; anything else gets a one-line reason (ui.drop_routing)."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        event.acceptProposedAction()
        self.drops.handle([Path(u.toLocalFile()) if u.isLocalFile() else None for u in urls])

    def choose_sketch(self) -> None:
        """The "Open sketch…" button: pick a drawing of a web page."""
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open a sketch of a web page", "", f"Images ({image_patterns()});;All files (*)"
        )
        if chosen:
            self.open_sketch_files([Path(chosen)])

    def open_sketch_files(self, paths: list[Path | None]) -> bool:
        """Starts turning the one image in `paths` into a page; says why not otherwise."""
        return self.sketches.open_files(paths)

    def cancel_sketch(self) -> None:
        self.sketches.cancel()

    def _reply_worker(self, text: str, pictures: list[Path]) -> Callable[[], None]:
        session, bridge = self.session, self.bridge

        def work() -> None:
            try:
                for picture in pictures:  # read (OCR) here, off the GUI thread
                    session.attach_image(picture)
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
        dialog = self.permission_dialog = PermissionDialog(
            self, request.tool, request.arguments, request.reason
        )
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

    def dismiss_permission(self) -> None:
        """A question answered aloud: its dialog goes, unanswered by the window."""
        dialog, self.permission_dialog = self.permission_dialog, None
        if dialog is not None:
            dialog.answered.disconnect()
            dialog.deny()
            dialog.deleteLater()

    def spoken_turn_done(self) -> None:
        """A spoken turn joined the saved conversation: the sidebar shows it."""
        if self.sidebar is not None:
            self.sidebar.refresh_conversations()

    def _image_progress(self, step: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        self.progress.setFormat(f"Drawing: step {step} of {total}")
        self.progress.show()
        if step >= total:
            self.status.setText("Drawing: decoding the picture...")

    def _finish_reply(self) -> None:
        self.progress.hide()
        self.view.finish_reply()
        self._worker = None
        self._set_busy(False)
        if self.session is not None and not self._reply_failed:
            self.status.setText(f"Ready: {self.session.model.name}")
        self._reply_failed = False
        if self.sidebar is not None:
            self.sidebar.refresh_conversations()
        if self._reindex_after_reply:
            self._reindex_after_reply = False
            self.reindex(self._notice_when_ready)
        if self._reset_after_reply:
            self._reset_after_reply = False
            self.new_conversation()

    def _show_error(self, message: str) -> None:
        self._reply_failed = self._worker is not None
        self.status.setText(message)
        self.view.show_error(message)

    def show_notice(self, message: str) -> None:
        """A message from outside the chat (sketches, the microphone): never cuts into a
        streaming reply."""
        self.status.setText(message)
        if not self.view.streaming:
            self.view.show_error(message)

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy and self.session is not None)
        self.stop_button.setEnabled(busy and self.session is not None)
