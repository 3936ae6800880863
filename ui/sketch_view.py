"""The sketch dialog: progress of a sketch becoming a page, then its preview, score and file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)


class SketchDialog(QDialog):
    """Shows one run at a time; `on_cancel` stops it (the window owns the work, not the dialog)."""

    def __init__(self, parent, on_cancel: Callable[[], None]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sketch to page")
        self.resize(820, 680)
        self._on_cancel = on_cancel
        self.running = False
        self.html_path: Path | None = None
        self.progress = QPlainTextEdit(readOnly=True)
        self.progress.setMaximumHeight(110)
        self.preview = QLabel("The page appears here once it is written and checked.")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.preview)
        scroll.setWidgetResizable(True)
        self.summary = QLabel(wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open in browser")
        self.save_button = QPushButton("Save as…")
        row = QHBoxLayout()
        row.addStretch()
        for button in (self.cancel_button, self.open_button, self.save_button):
            row.addWidget(button)
        column = QVBoxLayout(self)
        column.addWidget(self.progress)
        column.addWidget(scroll, stretch=1)
        column.addWidget(self.summary)
        column.addLayout(row)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_in_browser)
        self.save_button.clicked.connect(self.save_as)
        self._set_running(False)

    def start(self, image: Path) -> None:
        """Clears the last run and shows that `image` is being turned into a page."""
        self.begin(
            f"Sketch to page: {image.name}",
            f"Turning {image.name} into a page (this takes a minute or two)",
        )

    def begin(self, title: str, first_step: str) -> None:
        """Clears the last run; a new one (a sketch, or a page from a reply) starts."""
        self.html_path = None
        self.progress.clear()
        self.preview.clear()
        self.preview.setText("The page appears here once it is ready.")
        self.summary.clear()
        self.setWindowTitle(title)
        self.add_progress(first_step)
        self._set_running(True)

    def add_progress(self, step: str) -> None:
        """One line of progress from the pipeline."""
        self.progress.appendPlainText(step)

    def show_result(self, result) -> None:
        """`result` is a vision.sketch.SketchResult (or anything shaped like it)."""
        self._set_running(False)
        self.html_path = Path(result.html_path)
        pixmap = QPixmap(str(result.screenshot_path))
        if pixmap.isNull():
            self.preview.setText(f"No preview: {result.screenshot_path} could not be read.")
        else:
            self.preview.setPixmap(pixmap)
            self.preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.summary.setText(f"{result.summary()}\nSaved as {self.html_path}")
        self.add_progress(f"Done: {self.html_path.name}")
        self._set_open_save(True)

    def show_error(self, message: str) -> None:
        """The run failed or was stopped; `message` says why and what to do."""
        self._set_running(False)
        self.add_progress(message)
        self.summary.setText(message)

    def cancel(self) -> None:
        """Asks the run to stop; the failure message arrives when it has."""
        if self.running:
            self.add_progress("Stopping...")
            self.cancel_button.setEnabled(False)
            self._on_cancel()

    def open_in_browser(self) -> None:
        """Hands the page to the desktop's browser."""
        if self.html_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.html_path.resolve())))

    def save_as(self) -> None:
        """Copies the page to a chosen path; the original stays where it is."""
        if self.html_path is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the page as", str(self.html_path), "Web page (*.html *.htm)"
        )
        if not chosen:
            return
        target = Path(chosen)
        if target.suffix.lower() not in (".html", ".htm"):
            target = target.with_name(target.name + ".html")
        try:
            if target.resolve() != self.html_path.resolve():
                shutil.copyfile(self.html_path, target)
        except OSError as exc:
            self.summary.setText(f"Could not save to {target}: {exc.strerror or exc}")
            return
        self.add_progress(f"Saved a copy as {target}")

    def reject(self) -> None:
        """Closing the dialog (Esc, the title bar) stops a run: its preview would be hidden."""
        self.cancel()
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.cancel_button.setEnabled(running)
        self._set_open_save(False)

    def _set_open_save(self, enabled: bool) -> None:
        self.open_button.setEnabled(enabled)
        self.save_button.setEnabled(enabled)
