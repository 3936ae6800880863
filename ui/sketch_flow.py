"""Pages in the window: a dropped or chosen drawing runs through the sketch pipeline in a
worker, and an HTML block in a reply is rendered for its preview; the sketch dialog shows the
steps, the page, Open in browser, Save as and Cancel."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import data_dir
from assistant_app.core.errors import AssistantError, UserVisibleError
from ui.sketch_files import SketchRunner, sketch_output_path, sketch_problem
from ui.sketch_view import SketchDialog
from ui.workers import run_in_thread

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class SketchFlow(QObject):
    """Owned by the window; one sketch at a time."""

    def __init__(self, window: MainWindow, runner: SketchRunner) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.uses_default_runner = False  # True: rebuilt when the settings change
        self.view = SketchDialog(window, self.cancel)
        self._token: CancelToken | None = None
        self.worker: threading.Thread | None = None
        bridge = window.bridge
        bridge.sketch_progress.connect(self._progress)
        bridge.sketch_finished.connect(self._finished)
        bridge.sketch_failed.connect(self._failed)

    def open_files(self, paths: list[Path | None]) -> bool:
        """Starts turning the one image in `paths` into a page; says why not otherwise."""
        problem = sketch_problem(paths)
        if not problem and self.view.running:
            problem = (
                "A sketch is already being turned into a page: wait for it, or cancel it in the "
                "sketch window, then drop this one again."
            )
        if problem:
            self.window.show_notice(problem)
            return False
        self.start(paths[0])
        return True

    def start(self, image: Path) -> None:
        """Runs the sketch runner on `image` in a worker thread; the dialog shows the way."""
        fallback = data_dir(self.window.config_or_default()) / "sketches"
        out_html = sketch_output_path(image, fallback)
        runner = self.runner
        self.view.start(image)
        self.window.status.setText(f"Turning {image.name} into a page...")
        self._run(
            lambda token, progress: runner(image, out_html, token, progress),
            "The sketch could not be turned into a page",
        )

    def preview_html(self, html: str) -> None:
        """An HTML block from a reply: saved in the data dir, rendered offline, previewed."""
        from vision.preview import preview_page

        if self.view.running:
            self.window.show_notice("Wait for the page in progress (or cancel it) first.")
            return
        folder = data_dir(self.window.config_or_default()) / "pages"
        self.view.begin("Page preview", "Rendering the page offline (no network)")
        self.window.status.setText("Rendering the page...")
        self._run(lambda token, progress: preview_page(html, folder), "The page could not be shown")

    def _run(self, job: Callable[[CancelToken, Callable[[str], None]], object], failed: str):
        token = self._token = CancelToken.never()
        self.view.show()
        self.view.raise_()
        self.worker = run_in_thread(self._work(job, token, failed))

    def cancel(self) -> None:
        """Stops the sketch in progress at its next step (model writing stops within a token)."""
        if self._token is not None:
            self._token.cancel()

    def _work(self, job, token: CancelToken, failed: str) -> Callable[[], None]:  # noqa: ANN001
        bridge = self.window.bridge

        def progress(step: str) -> None:
            if token.cancelled:  # steps between the model's tokens stop here
                raise UserVisibleError("Stopped: the page was not finished.")
            bridge.sketch_progress.emit(step)

        def work() -> None:
            try:
                result = job(token, progress)
            except AssistantError as exc:
                bridge.sketch_failed.emit(str(exc))
            except Exception as exc:  # noqa: BLE001 - a stage surfaces every failure readably
                log.exception("%s", failed)
                bridge.sketch_failed.emit(f"{failed}: {exc}")
            else:
                bridge.sketch_finished.emit(result)

        return work

    def _progress(self, step: str) -> None:
        self.view.add_progress(step)
        self.window.status.setText(f"Sketch: {step}")

    def _finished(self, result: object) -> None:
        self.view.show_result(result)
        self.window.status.setText(f"Page ready: {result.html_path}")

    def _failed(self, message: str) -> None:
        self.view.show_error(message)
        self.window.show_notice(message)
