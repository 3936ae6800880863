"""Pictures in the window: generate_image's steps as a progress bar, the picture inline, Stop."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("diffusers")

from PySide6.QtCore import Qt  # noqa: E402

from assistant_app.core.config import Config  # noqa: E402
from assistant_app.core.messages import ReplyDelta, ToolCall  # noqa: E402
from assistant_app.kernel import session  # noqa: E402
from assistant_app.tools import builtin as builtin_tools  # noqa: E402
from models.diffusion import create_image_generator  # noqa: E402
from tests.test_tools import ScriptedToolModel  # noqa: E402
from tests.tiny_diffusion import TINY_MODEL, tiny_store  # noqa: E402
from ui.app import start  # noqa: E402
from ui.bridge import Bridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
SMALL = Config().replace(
    "image", model=TINY_MODEL, size="64x64", steps=3, tiny_decoder=False, threads=1
)


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return create_image_generator(SMALL, tiny_store(tmp_path_factory.mktemp("store")))


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generator) -> MainWindow:  # noqa: ANN001
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    # The session's tool loads "the configured model" on first use: here, the tiny pipeline.
    monkeypatch.setattr(builtin_tools, "configured_image_generator", lambda: generator)
    monkeypatch.setattr(session, "image_model_ready", lambda config: True)
    win = MainWindow(Bridge(), config=Config())
    qtbot.addWidget(win)
    return win


def drawing(*after: list[ReplyDelta]) -> ScriptedToolModel:
    call = ToolCall("generate_image", {"prompt": "a lighthouse, watercolour", "seed": 3})
    return ScriptedToolModel([[ReplyDelta(tool_call=call)], *after])


def test_a_picture_is_drawn_with_progress_and_shown_inline(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    steps: list[tuple[int, int]] = []
    window.bridge.image_progress.connect(lambda done, total: steps.append((done, total)))
    start(window, lambda report: drawing([ReplyDelta(text="Here is your lighthouse.")]), Config())
    qtbot.waitUntil(window.send_button.isEnabled)
    window.input.setText("Paint me a lighthouse")
    window.send()
    qtbot.waitUntil(window.send_button.isEnabled, timeout=60_000)
    assert steps == [(1, 3), (2, 3), (3, 3)]
    pictures = list((tmp_path / "images").glob("*.png"))
    assert len(pictures) == 1
    assert Path(pictures[0]).as_uri().split("://")[1] in window.view.toHtml()  # shown inline
    assert "Here is your lighthouse." in window.view.toPlainText()
    assert window.progress.isHidden()


def test_stop_ends_the_picture_within_a_step(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    # Blocking: the drawing waits until the window has handled Stop, as if pressed at step 1.
    window.bridge.image_progress.connect(
        lambda done, total: window.stop(), Qt.ConnectionType.BlockingQueuedConnection
    )
    start(window, lambda report: drawing([]), Config())
    qtbot.waitUntil(window.send_button.isEnabled)
    window.input.setText("Paint me a lighthouse")
    window.send()
    qtbot.waitUntil(window.send_button.isEnabled, timeout=60_000)
    results = [m.content for m in window.session.history if m.role == "tool"]
    assert results and results[-1].startswith("Stopped after 1 step")
    assert not list((tmp_path / "images").glob("*.png"))
