"""Starts the desktop app: the window first, then the models load behind it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from assistant_app.core.config import Config
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import AssistantError
from assistant_app.kernel.session import knowledge_index
from assistant_app.storage.profiles import Profile, profiles_for
from models.store import Progress
from ui.bridge import Bridge
from ui.main_window import MainWindow
from ui.session_setup import Indexer, open_session
from ui.workers import run_in_thread

log = logging.getLogger(__name__)
ModelLoader = Callable[[Callable[[str], None]], ChatModel]
# (the loaded chat model, per-role state report) -> VoiceEngines; runs in the loading worker.
VoiceLoader = Callable[[ChatModel, Callable[[str, str], None]], object]


def default_loader(config: Config) -> ModelLoader:
    """Loads the configured chat model, reporting store progress as status text."""
    import models.llm
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


def default_voice_loader(config: Config) -> VoiceLoader:
    """Speech recognition, the voice and voice activity detection, as `assistant talk` loads
    them. Spoken turns go to the window's session; its model answers them too unless [voice]
    llm_model names another one."""
    from assistant_app.voice.talk import load_ears_and_voice
    from models.store import open_store

    def load(chat: ChatModel, report: Callable[[str, str], None]) -> object:
        return load_ears_and_voice(config, open_store(config), chat, echo=True, report=report)

    return load


def import_engines(config: Config) -> None:
    """The engines' native libraries, imported on the GUI thread at start-up: an extension
    module's import holds the GIL while it loads, which inside a worker freezes the window
    (measured: ~200 ms while the speech models load)."""
    import models.llm  # noqa: F401
    from audio.stt import import_backend as import_stt
    from audio.tts import import_backend as import_tts

    import_stt(config.stt)
    import_tts(config.tts)
    import onnxruntime  # noqa: F401 - Silero VAD


def default_indexer(config: Config) -> Indexer:
    """The current assistant's knowledge folders, indexed like `assistant chat` does."""

    def index(profile: Profile, report: Callable[[str], None]) -> object:
        def progress(done: int, total: int, path: str) -> None:
            report(f"Indexing knowledge folders: {done} of {total} files")

        return knowledge_index(config, profile, progress)

    return index


def start(
    window: MainWindow,
    loader: ModelLoader,
    config: Config,
    indexer: Indexer | None = None,
    voice_loader: VoiceLoader | None = None,
) -> None:
    """Loads the chat model and opens the session off the GUI thread, attaches it when ready,
    then loads speech (typing works meanwhile). Each model's state reaches the window."""
    bridge = window.bridge
    window.indexer = indexer

    def work() -> None:
        bridge.model_state.emit("chat", "loading")
        try:
            model = loader(bridge.status_changed.emit)
            session = open_session(config, model, bridge, indexer)
        except Exception as exc:  # noqa: BLE001 - the window must say why it cannot chat
            message = _readable(exc, "The assistant could not start")
            bridge.model_state.emit("chat", message)
            bridge.error_raised.emit(message)
            return
        bridge.model_state.emit("chat", "ready")
        bridge.session_ready.emit(session)
        if voice_loader is None:
            bridge.voice_failed.emit("speech is not set up in this window")
            return
        try:
            engines = voice_loader(model, bridge.model_state.emit)
        except Exception as exc:  # noqa: BLE001 - typing still works: say why speech does not
            message = _readable(exc, "Speech could not start")
            for role in ("speech recognition", "voice"):
                if window.readiness.states.get(role) != "ready":
                    bridge.model_state.emit(role, message)
            bridge.voice_failed.emit(message)
            return
        bridge.voice_ready.emit(engines)

    run_in_thread(work)


def _readable(exc: Exception, what: str) -> str:
    if isinstance(exc, AssistantError):
        return str(exc)
    log.error("%s", what, exc_info=exc)
    return f"{what} ({type(exc).__name__}: {exc})."


def run_app(config: Config) -> int:
    """The `assistant` / `assistant app` entry point."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(Bridge(), config=config)
    window.show()
    app.processEvents()  # the window is drawn before the imports below
    import_engines(config)
    profiles = profiles_for(config)
    try:
        if profiles.load(profiles.current()).knowledge_folders:
            import models.embed  # noqa: F401 - torch at start-up, not first inside the worker
    except AssistantError:
        pass  # a damaged profile is reported by the loading worker, in the window
    start(
        window,
        default_loader(config),
        config,
        default_indexer(config),
        default_voice_loader(config),
    )
    return app.exec()
