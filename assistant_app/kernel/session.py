"""Assembles a chat session for the CLI or the app: model, assistant profile, tools, memory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from assistant_app.core.config import Config, data_dir
from assistant_app.core.engines import ChatModel
from assistant_app.kernel.attachments import image_reader
from assistant_app.kernel.chat import Ask, ChatSession, OnTool, ThinkSettings, refuse
from assistant_app.kernel.context import ContextWindow, model_summary
from assistant_app.kernel.memory import Memory
from assistant_app.kernel.tables import TableFiles
from assistant_app.security.audit import AUDIT_NAME, AuditLog
from assistant_app.storage.history_db import DB_NAME, ConversationStore
from assistant_app.storage.profiles import Profile
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import Tool, ToolBox

Progress = Callable[[int, int, str], None]


def toolbox_for(
    profile: Profile,
    allow: tuple[str, ...] = (),
    extra: tuple[Tool, ...] = (),
    keep_dir: Path | None = None,
    tables: TableFiles | None = None,
    drawing: bool = False,
) -> ToolBox:
    """The built-in tools (and `extra` ones) with the profile's permissions; `allow` wins.
    `drawing`: an image model is installed, so generate_image is offered."""

    def rule(t: Tool) -> Tool:
        permission = "allow" if t.name in allow else profile.permission(t.name, t.permission)
        return t.with_permission(permission)

    from assistant_app.storage.image_history import FOLDER as IMAGES
    from assistant_app.tools.builtin import configured_image_generator, image_tool

    # keep_dir is the data dir's attachments folder; pictures go to the images folder beside
    # it, shared with `assistant imagine`. The image model loads on the tool's first call.
    images = ()
    if keep_dir is not None and drawing:
        images = (image_tool(configured_image_generator, keep_dir.parent / IMAGES),)
    return ToolBox(rule(t) for t in (*default_tools(keep_dir, tables), *images, *extra))


NO_DRAWING = (
    "You cannot draw or generate pictures here: no image model is installed. If asked for a "
    "picture, say so and that `assistant models pull sd-turbo` (when online) installs one. "
    "Charts and plots are made with the python tool."
)


def image_model_ready(config: Config) -> bool:
    """Whether the [image] model is installed (checked without loading or downloading)."""
    from assistant_app.core.errors import AssistantError
    from models.diffusion import check_image_model
    from models.store import open_store

    try:
        check_image_model(config, open_store(config))
    except AssistantError:
        return False
    return True


def knowledge_index(config: Config, profile: Profile, progress: Progress | None = None):  # noqa: ANN201
    """The profile's knowledge folders, indexed (incrementally) now; None without folders."""
    if not profile.knowledge_folders:
        return None
    from assistant_app.storage.knowledge import KnowledgeIndex
    from models.embed import create_embedder
    from models.store import open_store

    safe = re.sub(r"[^a-z0-9_.-]", "_", profile.name.lower())
    index = KnowledgeIndex(
        data_dir(config) / f"knowledge-{safe}.sqlite3",
        create_embedder(config.embed, open_store(config)),
    )
    for folder in profile.knowledge_folders:
        index.add_folder(Path(folder))
    index.refresh(progress)
    return index


class Retriever:
    """The top passages relevant to a message, each with its citation. A message that is about
    something else gets none, so it carries no outside text (and allowed tools run unasked)."""

    def __init__(self, index, relevance: float, k: int = 3) -> None:  # noqa: ANN001
        self.index, self.relevance, self.k = index, relevance, k  # a KnowledgeIndex

    def __call__(self, text: str) -> list[tuple[str, str]]:
        from assistant_app.storage.knowledge import citation

        if not self.index.refreshing:
            self.index.refresh()  # cheap: stats files, re-reads only what changed
        hits = self.index.search(text, self.k)
        return [(citation(h), h.text[:700]) for h in hits
                if h.similarity >= self.relevance or h.every_term]  # fmt: skip


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
    knowledge=None,  # noqa: ANN001 - a KnowledgeIndex (imported lazily: it pulls torch)
) -> ChatSession:
    """A session whose system prompt carries the profile's instructions, saved as it goes: a
    new conversation, or the one with id `resume`."""
    system = config.llm.system_prompt
    drawing = image_model_ready(config)
    if not drawing:
        # Small models reach for a drawing tool even for charts, so none is offered without
        # an image model; asked for a picture, the assistant can still say why not.
        system += f"\n\n{NO_DRAWING}"
    if profile.instructions:
        system += f"\n\nInstructions for this assistant ({profile.name}): {profile.instructions}"
    tables = TableFiles()
    keep_dir = data_dir(config) / "attachments"
    toolbox = (
        toolbox_for(profile, allow, _search_tools(knowledge), keep_dir, tables, drawing)
        if tools or profile.tools
        else None
    )
    count = getattr(model, "count_tokens", lambda t: len(t) // 3 + 1)
    # The tools' descriptions ride in the prompt too (with the template's ~150 tokens of
    # instructions about them): the conversation gets what is left.
    listed = count(json.dumps(toolbox.specs())) + 150 if toolbox is not None else 0
    window = ContextWindow(
        count,
        config.llm.context_tokens - config.llm.max_reply_tokens - 64 - listed,
        model_summary(model),
    )
    session = ChatSession(
        model,
        system,
        toolbox,
        ask=ask,
        on_tool=on_tool,
        window=window,
        memory=Memory(data_dir(config) / "memory.sqlite3"),
        think=think,
        retrieve=Retriever(knowledge, config.embed.relevance) if knowledge is not None else None,
        tables=tables,
        read_image=image_reader(config),
    )
    audit = AuditLog(data_dir(config) / AUDIT_NAME)
    session.on_audit = lambda use: audit.record(
        use, conversation=session.conversation_id, assistant=profile.name
    )
    if persist:
        store = conversations(config)

        def bind(conversation: int) -> None:
            session.conversation_id = conversation
            session.on_record = lambda message: store.append(conversation, message)

        bind(store.create(assistant=profile.name) if resume is None else resume)
        session.history = store.messages(session.conversation_id)
        for message in session.history:
            if message.role == "user":
                tables.add_from(message.content)
        session.on_reset = lambda: bind(store.create(assistant=profile.name))
    return session


def _search_tools(index) -> tuple[Tool, ...]:  # noqa: ANN001
    if index is None:
        return ()
    from assistant_app.storage.knowledge import search_files_tool

    return (search_files_tool(index),)


def conversations(config: Config) -> ConversationStore:
    """The conversation history database in the data dir."""
    return ConversationStore(data_dir(config) / DB_NAME)
