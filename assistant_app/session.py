"""Assembles a chat session for the CLI or the app: model, assistant profile, tools, memory."""

from __future__ import annotations

from assistant_app.builtin_tools import default_tools
from assistant_app.chat import Ask, ChatSession, OnTool, ThinkSettings, refuse
from assistant_app.config import Config, data_dir
from assistant_app.context import ContextWindow, model_summary
from assistant_app.engines import ChatModel
from assistant_app.history_db import DB_NAME, ConversationStore
from assistant_app.memory import Memory
from assistant_app.profiles import Profile
from assistant_app.tools import Tool, ToolBox


def toolbox_for(profile: Profile, allow: tuple[str, ...] = ()) -> ToolBox:
    """The built-in tools with the profile's permissions; `allow` (CLI flags) wins."""

    def rule(t: Tool) -> Tool:
        permission = "allow" if t.name in allow else profile.permission(t.name, t.permission)
        return Tool(t.name, t.description, t.parameters, t.function, permission, t.untrusted_output)

    return ToolBox(rule(t) for t in default_tools())


def build_session(
    config: Config,
    model: ChatModel,
    profile: Profile,
    *,
    tools: bool,
    allow: tuple[str, ...] = (),
    ask: Ask = refuse,
    on_tool: OnTool | None = None,
    think: ThinkSettings | None = None,
    resume: int | None = None,
    persist: bool = True,
) -> ChatSession:
    """A session whose system prompt carries the profile's instructions, saved as it goes: a
    new conversation, or the one with id `resume`."""
    system = config.llm.system_prompt
    if profile.instructions:
        system += f"\n\nInstructions for this assistant ({profile.name}): {profile.instructions}"
    window = ContextWindow(
        getattr(model, "count_tokens", lambda t: len(t) // 3 + 1),
        config.llm.context_tokens - config.llm.max_reply_tokens - 64,
        model_summary(model),
    )
    session = ChatSession(
        model,
        system,
        toolbox_for(profile, allow) if tools or profile.tools else None,
        ask=ask,
        on_tool=on_tool,
        window=window,
        memory=Memory(data_dir(config) / "memory.sqlite3"),
        think=think,
    )
    if persist:
        store = conversations(config)
        conversation = store.create(assistant=profile.name) if resume is None else resume
        session.history = store.messages(conversation)
        session.conversation_id = conversation
        session.on_record = lambda message: store.append(conversation, message)
    return session


def conversations(config: Config) -> ConversationStore:
    """The conversation history database in the data dir."""
    return ConversationStore(data_dir(config) / DB_NAME)
