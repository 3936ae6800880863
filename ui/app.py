"""Starts the desktop app: the window first, then the models load behind it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from assistant_app.chat import ChatSession, ThinkSettings
from assistant_app.cli_assistants import profiles_for
from assistant_app.config import Config
from assistant_app.engines import ChatModel
from assistant_app.errors import AssistantError
from assistant_app.profiles import Profile
from assistant_app.session import build_session, knowledge_index
from models.store import Progress
from ui.bridge import Bridge
from ui.main_window import MainWindow, run_in_thread

log = logging.getLogger(__name__)
ModelLoader = Callable[[Callable[[str], None]], ChatModel]
# (profile, status report) -> a KnowledgeIndex or None; runs in the loading worker.
Indexer = Callable[[Profile, Callable[[str], None]], object]


def default_loader(config: Config) -> ModelLoader:
    """Loads the configured chat model, reporting store progress as status text."""
    import models.llm  # heavy native import at start-up, never first inside a worker
    from models.store import open_store

    def load(report: Callable[[str], None]) -> ChatModel:
        store = open_store(config)

        def progress(event: Progress) -> None:
            if event.total and event.stage != "ok":
                report(f"{event.stage} {event.model}: {100 * event.done // event.total}%")

        if config.llm.engine == "llama-cpp":  # a server's model is the server's business
            store.path(config.llm.model, progress)
        report(f"Loading {config.llm.model}...")
        return models.llm.create_chat_model(config.llm, store)

    return load


def default_indexer(config: Config) -> Indexer:
    """The current assistant's knowledge folders, indexed like `assistant chat` does."""

    def index(profile: Profile, report: Callable[[str], None]) -> object:
        def progress(done: int, total: int, path: str) -> None:
            report(f"Indexing knowledge folders: {done} of {total} files")

        return knowledge_index(config, profile, progress)

    return index


def open_session(
    config: Config,
    model: ChatModel,
    bridge: Bridge,
    indexer: Indexer | None = None,
    *,
    resume: int | None = None,
) -> ChatSession:
    """A session like `assistant chat --tools` builds: the current assistant, tools (asking
    through the window), memory and a new saved conversation (or saved one `resume`)."""
    profiles = profiles_for(config)
    profile = profiles.load(profiles.current())
    report = bridge.status_changed.emit

    def thinking(attempt: int, total: int, answer: str) -> None:
        report(f"Thinking longer: attempt {attempt} of up to {total} says {answer or '?'}")

    return build_session(
        config,
        model,
        profile,
        tools=True,
        ask=bridge.ask_permission,
        on_tool=bridge.report_tool,
        think=ThinkSettings(False, config.llm.think_samples, config.llm.think_budget_s, thinking),
        knowledge=indexer(profile, report) if indexer is not None else None,
        resume=resume,
    )


def start(
    window: MainWindow, loader: ModelLoader, config: Config, indexer: Indexer | None = None
) -> None:
    """Loads the chat model and opens the session off the GUI thread; attaches it when ready."""
    bridge = window.bridge

    def work() -> None:
        try:
            model = loader(bridge.status_changed.emit)
            session = open_session(config, model, bridge, indexer)
        except AssistantError as exc:
            bridge.error_raised.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the window must say why it cannot chat
            log.exception("opening the chat session failed")
            bridge.error_raised.emit(
                f"The assistant could not start ({type(exc).__name__}: {exc})."
            )
            return
        bridge.session_ready.emit(session)

    run_in_thread(work)


def run_app(config: Config) -> int:
    """The `assistant` / `assistant app` entry point."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(Bridge(), config=config)
    window.show()
    profiles = profiles_for(config)
    try:
        if profiles.load(profiles.current()).knowledge_folders:
            import models.embed  # noqa: F401 - torch at start-up, not first inside the worker
    except AssistantError:
        pass  # a damaged profile is reported by the loading worker, in the window
    start(window, default_loader(config), config, default_indexer(config))
    return app.exec()
