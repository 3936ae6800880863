"""Sketch to page in the window (pytest-qt, offscreen): drops, refusals, preview, cancel, save."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402

from assistant_app.core.errors import UserVisibleError  # noqa: E402
from ui import (
    sketch_files,  # noqa: E402
    sketch_view,  # noqa: E402
)
from ui.bridge import Bridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.sketch_files import sketch_output_path  # noqa: E402
from vision.layout import SketchLayout  # noqa: E402
from vision.page_check import Interaction, KindCount, PageReport  # noqa: E402
from vision.sketch import SketchResult  # noqa: E402

SKETCHES = Path(__file__).parent / "fixtures" / "sketches"
PAGE = "<!doctype html><html><body><h1>Jokes</h1><button>Reveal</button></body></html>"


def _report() -> PageReport:
    return PageReport(
        failure="",
        external_urls=(),
        blocked_requests=(),
        js_errors=(),
        text_recall=0.9,
        missing_texts=(("Why did the chicken", "Why the chicken"),),
        counts=(KindCount("button", 1, 1),),
        count_accuracy=1.0,
        block_match=0.8,
        position=0.7,
        size=0.6,
        misplaced=(),
        interactions=(Interaction("Reveal", True, True),),
        interaction_success=1.0,
        score=0.83,
    )


class FakeRunner:
    """Writes a small real page and screenshot; can wait for a release or the cancel token."""

    def __init__(self, error: Exception | None = None, wait_for_cancel: bool = False) -> None:
        self.calls: list[tuple[Path, Path]] = []
        self.tokens = []
        self.error = error
        self.wait_for_cancel = wait_for_cancel
        self.started = threading.Event()

    def __call__(self, image: Path, out_html: Path, cancel, progress) -> SketchResult:
        self.calls.append((image, out_html))
        self.tokens.append(cancel)
        self.started.set()
        progress("reading the sketch")
        if self.wait_for_cancel:
            deadline = time.monotonic() + 10
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
            progress("writing the page")  # raises "Stopped" once cancelled
        if self.error is not None:
            raise self.error
        out_html.write_text(PAGE, encoding="utf-8")
        shot = out_html.with_suffix(".png")
        Image.new("RGB", (40, 30), "red").save(shot)
        return SketchResult(out_html, shot, SketchLayout(()), _report(), 1, 3.0, ())


@pytest.fixture
def sketch(tmp_path: Path) -> Path:
    path = tmp_path / "joke_site.png"
    shutil.copyfile(SKETCHES / "joke_site.png", path)
    return path


def _window(qtbot, runner) -> MainWindow:
    win = MainWindow(Bridge(), sketch_runner=runner)
    qtbot.addWidget(win)
    qtbot.addWidget(win.sketch_view)
    return win


def _mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop(window: MainWindow, *paths: Path) -> None:
    mime = _mime(*paths)
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_a_dropped_sketch_is_previewed_with_its_score(qtbot, sketch: Path) -> None:
    runner = FakeRunner()
    window = _window(qtbot, runner)
    mime = _mime(sketch)  # the event does not own it: keep it alive
    enter = QDragEnterEvent(
        window.rect().center(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop(window, sketch)
    qtbot.waitUntil(lambda: window.sketch_view.html_path is not None)
    # joke_site.png is the sketch itself, so the page's screenshot may not take that name
    assert runner.calls == [(sketch, sketch.with_name("joke_site-1.html"))]
    view = window.sketch_view
    assert view.isVisible()
    assert view.preview.pixmap().size().width() == 40
    assert "score 0.83" in view.summary.text()
    assert "reading the sketch" in view.progress.toPlainText()
    assert view.open_button.isEnabled() and view.save_button.isEnabled()
    assert not view.cancel_button.isEnabled()
    assert "joke_site-1.html" in window.status.text()


def test_an_image_without_a_suffix_is_sniffed(qtbot, tmp_path: Path) -> None:
    runner = FakeRunner()
    window = _window(qtbot, runner)
    image = tmp_path / "scan"
    Image.new("L", (64, 48), 255).save(image, format="PNG")
    drop(window, image)
    qtbot.waitUntil(lambda: window.sketch_view.html_path is not None)
    assert runner.calls[0][1] == tmp_path / "scan.html"


def test_a_pdf_that_is_not_a_document_says_to_export_a_png(qtbot, tmp_path: Path) -> None:
    runner = FakeRunner()
    window = _window(qtbot, runner)
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    drop(window, path)
    qtbot.waitUntil(lambda: "export it as a PNG" in window.status.text())
    assert "export it as a PNG" in window.view.toPlainText()
    assert runner.calls == [] and not window.sketch_view.isVisible()


def test_several_files_or_a_web_link_are_refused(qtbot, sketch: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    window = _window(qtbot, runner)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/sketch.png")])
    flags = (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, *flags))
    assert "Only files can be dropped here" in window.status.text()
    drop(window, tmp_path / "gone.png")
    assert "was not found" in window.status.text()
    assert runner.calls == []
    drop(window, sketch, sketch)  # the first becomes a page; the second is refused
    assert "drop one sketch at a time" in window.status.text()
    qtbot.waitUntil(lambda: window.sketch_view.html_path is not None)
    assert len(runner.calls) == 1


def test_a_pipeline_error_is_shown(qtbot, sketch: Path) -> None:
    message = "No page elements were found in joke_site.png: draw boxes and labels."
    window = _window(qtbot, FakeRunner(error=UserVisibleError(message)))
    drop(window, sketch)
    qtbot.waitUntil(lambda: message in window.status.text())
    assert message in window.sketch_view.summary.text()
    assert not window.sketch_view.save_button.isEnabled()
    assert not window.sketch_view.running


def test_cancel_stops_the_run_and_a_second_drop_waits(qtbot, sketch: Path) -> None:
    runner = FakeRunner(wait_for_cancel=True)
    window = _window(qtbot, runner)
    drop(window, sketch)
    assert runner.started.wait(5)
    assert not window.open_sketch_files([sketch])
    assert "already being turned into a page" in window.status.text()
    assert len(runner.calls) == 1
    window.sketch_view.cancel_button.click()
    assert runner.tokens[0].cancelled
    qtbot.waitUntil(lambda: "Stopped" in window.status.text())
    assert not sketch.with_name("joke_site-1.html").exists()
    assert window.open_sketch_files([sketch])  # a new run may start now
    qtbot.waitUntil(lambda: window.sketch_view.running)
    window.cancel_sketch()
    qtbot.waitUntil(lambda: not window.sketch_view.running)


def test_closing_the_window_during_a_run_does_not_hang(qtbot, sketch: Path) -> None:
    runner = FakeRunner(wait_for_cancel=True)
    window = _window(qtbot, runner)
    window.show()
    drop(window, sketch)
    assert runner.started.wait(5)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 3
    assert runner.tokens[0].cancelled


def test_save_as_copies_the_page_and_keeps_the_original(
    qtbot, sketch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, FakeRunner())
    drop(window, sketch)
    qtbot.waitUntil(lambda: window.sketch_view.html_path is not None)
    target = tmp_path / "out" / "my page"
    target.parent.mkdir()
    asked = []

    def fake_dialog(parent, caption, directory, filters):
        asked.append(directory)
        return str(target), filters

    monkeypatch.setattr(sketch_view.QFileDialog, "getSaveFileName", fake_dialog)
    opened = []
    monkeypatch.setattr(sketch_view.QDesktopServices, "openUrl", opened.append)
    window.sketch_view.save_button.click()
    saved = target.with_name("my page.html")
    assert saved.read_text(encoding="utf-8") == PAGE
    page = sketch.with_name("joke_site-1.html")
    assert page.read_text(encoding="utf-8") == PAGE
    assert asked == [str(page)]
    window.sketch_view.open_button.click()
    assert opened and opened[0].toLocalFile() == str(page.resolve())


def test_output_never_overwrites_and_falls_back_to_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "todo.png"
    (tmp_path / "todo.html").write_text("mine")
    assert sketch_output_path(image, tmp_path / "data") == tmp_path / "todo-1.html"
    monkeypatch.setattr(sketch_files.os, "access", lambda path, mode: False)
    assert sketch_output_path(image, tmp_path / "data") == tmp_path / "data" / "todo.html"


@pytest.mark.models
def test_real_sketch_becomes_a_previewed_page(
    qtbot, tmp_path: Path, real_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[models]\ndir = "{real_store.root}"\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    image = tmp_path / "joke_site.png"
    shutil.copyfile(SKETCHES / "joke_site.png", image)
    window = MainWindow(Bridge())
    qtbot.addWidget(window)
    qtbot.addWidget(window.sketch_view)
    failures: list[str] = []
    window.bridge.sketch_failed.connect(failures.append)
    started = time.monotonic()
    steps: list[str] = []
    window.bridge.sketch_progress.connect(
        lambda s: steps.append(f"{time.monotonic() - started:.0f}s {s}")
    )
    drop(window, image)
    assert window.sketch_view.running
    # Two CPU cores: the 1.5B coder writes a page (and maybe a repair) in minutes, not seconds.
    try:
        qtbot.waitUntil(lambda: not window.sketch_view.running, timeout=600_000)
    finally:
        print("\n".join(steps), f"\n{time.monotonic() - started:.0f}s done")
    assert not failures
    page = window.sketch_view.html_path
    assert page.parent == tmp_path and page.exists()
    assert "Reveal" in page.read_text(encoding="utf-8")
    assert not window.sketch_view.preview.pixmap().isNull()
    assert "score" in window.sketch_view.summary.text()
