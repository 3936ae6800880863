"""The window's chat session: built like `assistant chat --tools`, asking through the bridge."""

from __future__ import annotations

from collections.abc import Callable

from assistant_app.core.config import Config
from assistant_app.core.engines import ChatModel
from assistant_app.kernel.chat import ChatSession, ThinkSettings
from assistant_app.kernel.session import build_session
from assistant_app.storage.profiles import Profile, profiles_for
from ui.bridge import Bridge

# (profile, status report) -> a KnowledgeIndex or None; runs in the loading worker.
Indexer = Callable[[Profile, Callable[[str], None]], object]


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
