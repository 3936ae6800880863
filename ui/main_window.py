"""The main window: conversation view, text box, send and stop; a dropped sketch becomes a page."""

from __future__ import annotations

import html
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant_app.cancel import CancelToken
from assistant_app.chat import ChatSession
from assistant_app.config import Config, data_dir
from assistant_app.errors import AssistantError, UserVisibleError
from ui.bridge import Bridge
from ui.sketch_view import SketchDialog

log = logging.getLogger(__name__)
# (sketch, output HTML, cancel token, progress) -> a vision.sketch.SketchResult; runs in a worker.
SketchRunner = Callable[[Path, Path, CancelToken, Callable[[str], None]], object]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
KINDS = "PNG, JPEG, WebP, GIF or BMP"


class MainWindow(QMainWindow):
    """Opens at once; the chat model loads in the background and the status line says so."""

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
        self.config = config
        self.sketch_runner = sketch_runner or default_sketch_runner(config)
        self.sketch_view = SketchDialog(self, self.cancel_sketch)
        self._sketch_token: CancelToken | None = None
        self._sketch_worker: threading.Thread | None = None
        self.setAcceptDrops(True)
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)  # nothing is fetched or opened on its own
        self.input = QLineEdit(placeholderText="Type a message and press Enter")
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.sketch_button = QPushButton("Open sketch…")
        self.sketch_button.setToolTip("Turn a drawing of a web page into a working page")
        self.input.setAcceptDrops(False)  # a file dropped on the text box goes to the window
        self.status = QLabel("Starting...")
        row = QHBoxLayout()
        for widget in (self.input, self.send_button, self.stop_button, self.sketch_button):
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
        self.sketch_button.clicked.connect(self.choose_sketch)
        QShortcut(QKeySequence("Esc"), self, activated=self.stop)
        QShortcut(QKeySequence.StandardKey.Open, self, activated=self.choose_sketch)
        bridge.status_changed.connect(self.status.setText)
        bridge.reply_delta.connect(self._append_delta)
        bridge.reply_finished.connect(self._finish_reply)
        bridge.error_raised.connect(self._show_error)
        bridge.session_ready.connect(self.attach)
        bridge.sketch_progress.connect(self._sketch_progress)
        bridge.sketch_finished.connect(self._sketch_finished)
        bridge.sketch_failed.connect(self._sketch_failed)
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
            self, "Open a sketch of a web page", "", f"Images ({_patterns()});;All files (*)"
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
            self._show_error(problem)
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
        self._show_error(message)

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


def default_sketch_runner(config: Config | None = None) -> SketchRunner:
    """The real pipeline, built inside the worker that runs it: the browser is bound to its
    thread (Playwright's rule). Without `config` the config file is read when a sketch comes."""

    def run(
        image: Path, out_html: Path, cancel: CancelToken, progress: Callable[[str], None]
    ) -> object:
        from assistant_app.config import load_config
        from vision.render import PageRenderer
        from vision.sketch import create_sketch_to_page

        progress("loading the models and the browser")
        with PageRenderer() as renderer:
            pipeline = create_sketch_to_page(config or load_config(), renderer)
            return pipeline.run(image, out_html, cancel=cancel, progress=progress)

    return run


def sketch_output_path(image: Path, fallback_dir: Path) -> Path:
    """Next to the sketch, never overwriting; in `fallback_dir` if that folder is read-only."""
    from vision.sketch import free_path

    folder = image.parent if os.access(image.parent, os.W_OK) else fallback_dir
    return free_path(folder / f"{image.stem}.html")


def sketch_problem(paths: list[Path | None]) -> str:
    """Why `paths` (None for a non-file URL) is not one sketch image; "" when it is."""
    if not paths or None in paths:
        return f"Only image files can be dropped here: a sketch of a web page as {KINDS}."
    if len(paths) > 1:
        return f"Drop one sketch at a time ({len(paths)} files were dropped)."
    path = paths[0]
    if path.is_dir():
        return f"{path.name} is a folder: drop one sketch image ({KINDS})."
    if not path.is_file():
        return f"{path} was not found."
    if _is_image(path):
        return ""
    hint = " Export the drawing as a PNG first." if path.suffix.lower() == ".pdf" else ""
    return (
        f"{path.name} is not an image, so it cannot be read as a sketch: drop a drawing of a "
        f"web page as {KINDS}.{hint}"
    )


def _is_image(path: Path) -> bool:
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True  # a broken one is reported by the pipeline, with the reason
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.format in IMAGE_FORMATS
    except (OSError, ValueError):
        return False


def _patterns() -> str:
    return " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
