"""Files dropped on the window (or picked with Attach…): sketches start a page, pictures wait
for the next message, documents join the current assistant's knowledge, the rest is refused
with a reason."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from assistant_app.core.errors import AssistantError
from ui.drop_routing import ATTACH, LEARN, REFUSE, SKETCH, route
from ui.sketch_files import image_patterns
from ui.workers import run_in_thread

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)
DOCUMENTS = "*.txt *.md *.markdown *.rst *.pdf *.html *.htm *.csv *.json"


class FileDrops(QObject):
    """Owned by the window. `pending` are the pictures the next message carries."""

    learned = Signal(str)  # a file joined the assistant's knowledge: the notice to show
    learn_failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.pending: list[Path] = []
        self.bar = QWidget()
        self.label = QLabel()
        self.clear_button = QPushButton("Remove")
        self.clear_button.setToolTip("Do not send these pictures")
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.clear_button)
        self.bar.hide()
        self.clear_button.clicked.connect(self.clear)
        self.learned.connect(self._learned)
        self.learn_failed.connect(window.show_notice)

    def choose(self) -> None:
        """The Attach… button: the same as dropping the chosen files."""
        chosen, _ = QFileDialog.getOpenFileNames(
            self.window,
            "Attach a picture, or add a document to the assistant's knowledge",
            "",
            f"Pictures and documents ({image_patterns()} {DOCUMENTS});;All files (*)",
        )
        if chosen:
            self.handle([Path(c) for c in chosen])

    def handle(self, paths: list[Path | None]) -> None:
        for drop in route(paths):
            if drop.action == REFUSE:
                self.window.show_notice(drop.reason)
            elif drop.action == SKETCH:
                self.window.open_sketch_files([drop.path])
            elif drop.action == ATTACH:
                self.attach(drop.path)
            elif drop.action == LEARN:
                self.learn(drop.path)

    def attach(self, path: Path) -> None:
        if path not in self.pending:
            self.pending.append(path)
        names = ", ".join(p.name for p in self.pending)
        self.label.setText(f"Attached to your next message: {names}")
        self.bar.show()
        self.window.status.setText("Type your question about the picture and press Enter.")

    def take(self) -> list[Path]:
        """The pictures for the message being sent; the bar empties."""
        taken, self.pending = self.pending, []
        self.bar.hide()
        return taken

    def clear(self) -> None:
        self.take()
        self.window.status.setText("Attachments removed.")

    def learn(self, path: Path) -> None:
        """Copies the document into the assistant's knowledge (a worker), then the session is
        reopened so the new file is indexed and searched from the next message."""
        from assistant_app.storage.knowledge_files import add_file
        from assistant_app.storage.profiles import profiles_for

        config = self.window.config_or_default()
        self.window.status.setText(f"Adding {path.name} to the assistant's knowledge...")

        def work() -> None:
            try:
                profiles = profiles_for(config)
                name = profiles.current()
                add_file(config, profiles, name, path)
            except AssistantError as exc:
                self.learn_failed.emit(str(exc))
            except Exception as exc:  # noqa: BLE001 - a readable line, never a traceback
                log.exception("adding %s to knowledge failed", path)
                self.learn_failed.emit(f"{path.name} could not be added ({exc}).")
            else:
                self.learned.emit(f"Added {path.name} to {name}'s knowledge.")

        run_in_thread(work)

    def _learned(self, notice: str) -> None:
        self.window.status.setText(notice)
        self.window.reindex(notice)
