"""Starts the desktop app: the window first, then the models load behind it."""

from __future__ import annotations

import sys
from collections.abc import Callable

from assistant_app.chat import ChatSession
from assistant_app.config import Config
from assistant_app.engines import ChatModel
from assistant_app.errors import AssistantError
from models.store import Progress
from ui.bridge import Bridge
from ui.main_window import MainWindow, run_in_thread

ModelLoader = Callable[[Callable[[str], None]], ChatModel]


def default_loader(config: Config) -> ModelLoader:
    """Loads the configured chat model, reporting store progress as status text."""
    import models.llm  # heavy native import at start-up, never first inside a worker
    from models.store import open_store

    def load(report: Callable[[str], None]) -> ChatModel:
        store = open_store(config)

        def progress(event: Progress) -> None:
            if event.total and event.stage != "ok":
                report(f"{event.stage} {event.model}: {100 * event.done // event.total}%")

        store.path(config.llm.model, progress)
        report(f"Loading {config.llm.model}...")
        return models.llm.create_chat_model(config.llm, store)

    return load


def start(window: MainWindow, loader: ModelLoader, system_prompt: str) -> None:
    """Loads the chat model off the GUI thread and attaches it to the window when ready."""
    bridge = window.bridge

    def work() -> None:
        try:
            model = loader(bridge.status_changed.emit)
        except AssistantError as exc:
            bridge.error_raised.emit(str(exc))
            return
        bridge.session_ready.emit(ChatSession(model, system_prompt))

    run_in_thread(work)


def run_app(config: Config) -> int:
    """The `assistant` / `assistant app` entry point."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(Bridge(), config=config)
    window.show()
    start(window, default_loader(config), config.llm.system_prompt)
    return app.exec()
