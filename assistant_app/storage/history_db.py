"""Conversations in SQLite (WAL): resumable after a restart or a crash, exportable to Markdown."""

from __future__ import annotations

import builtins
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant_app.core.errors import UserVisibleError
from assistant_app.core.messages import ChatMessage, ToolCall

log = logging.getLogger(__name__)

DB_NAME = "conversations.sqlite3"  # the file's name in config.data_dir(config)
TITLE_CHARS = 60
BUSY_TIMEOUT_MS = 5000
UNKNOWN = "No conversation {}; `assistant conversations list` shows them."
LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}

# MIGRATIONS[n] takes the schema from version n to n + 1. Append; never edit a shipped entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
            assistant TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
        """CREATE TABLE messages (
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, name TEXT NOT NULL,
            tool_calls TEXT, created_at REAL NOT NULL, PRIMARY KEY (conversation_id, seq))""",
        "CREATE INDEX conversations_updated ON conversations(updated_at)",
    ),
)

# How a message points at a file: "[image: /path/a.png]" or "[attachment: /path/notes.txt]".
ATTACHMENT = re.compile(r"\[(image|attachment):\s*([^\]\n]+?)\s*\]")


@dataclass(frozen=True)
class ConversationInfo:
    """One row of the conversation list; times are timezone-aware UTC."""

    id: int
    title: str  # the automatic title (from the first user message) when none was set
    assistant: str
    created_at: datetime
    updated_at: datetime  # when the last message was added (a rename does not move it)
    message_count: int


def auto_title(text: str) -> str:
    """The first ~60 characters of a message, cut at a word, on one line."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_CHARS:
        return flat
    cut = flat[:TITLE_CHARS].rsplit(" ", 1)[0] or flat[:TITLE_CHARS]
    return cut.rstrip(" ,.;:") + "…"


class ConversationStore:
    """Conversations and their messages in one SQLite file, usable from any thread.

    One connection behind a lock: the writes are tiny, and one connection avoids busy errors
    between our own threads. Other processes (the CLI beside the GUI) wait up to 5 s for a lock.
    Every write is its own committed transaction, so a crash loses at most the message being
    written; with synchronous=NORMAL a power cut may lose the last commits, never the file.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        self._db.create_function("casefold", 1, lambda t: (t or "").casefold(), deterministic=True)
        try:
            with self._errors():
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode != "wal":  # e.g. on a network file system; still correct, just slower
                    log.warning("%s: journal mode is %s, not wal", self.path, mode)
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        """Closes the connection (the WAL is checkpointed when the last one closes)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self, title: str = "", assistant: str = "default") -> int:
        """Starts a conversation and returns its id."""
        now = time.time()
        with self._transaction("IMMEDIATE") as db:
            cur = db.execute(
                "INSERT INTO conversations VALUES (NULL, ?1, ?2, ?3, ?3)", (title, assistant, now)
            )
            return int(cur.lastrowid or 0)

    def append(self, conversation_id: int, message: ChatMessage) -> None:
        """Adds a message at the end, committed before this returns."""
        calls = _calls_json(message.tool_calls)
        now = time.time()
        with self._transaction("IMMEDIATE") as db:
            touched = db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            if touched.rowcount == 0:
                raise UserVisibleError(UNKNOWN.format(conversation_id))
            db.execute(
                "INSERT INTO messages SELECT ?1, COALESCE(MAX(seq) + 1, 0), ?2, ?3, ?4, ?5, ?6"
                " FROM messages WHERE conversation_id = ?1",
                (conversation_id, message.role, message.content, message.name, calls, now),
            )

    def messages(self, conversation_id: int) -> builtins.list[ChatMessage]:
        """The conversation's messages in order, as they were appended."""
        with self._transaction() as db:
            _check(db, conversation_id)
            rows = db.execute(
                "SELECT role, content, name, tool_calls FROM messages"
                " WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        return [ChatMessage(r[0], r[1], r[2], _calls(r[3])) for r in rows]

    def list(self, limit: int = 50, search: str = "") -> builtins.list[ConversationInfo]:
        """Conversations, most recently active first; `search` matches titles and message text.

        The match ignores case, Unicode included ("ÄRGER" finds "Ärger").
        """
        if not search:
            return self._infos("", (limit,))
        where = (
            "WHERE instr(casefold(c.title), ?1) OR EXISTS (SELECT 1 FROM messages s"
            " WHERE s.conversation_id = c.id AND instr(casefold(s.content), ?1))"
        )
        return self._infos(where, (search.casefold(), limit))

    def info(self, conversation_id: int) -> ConversationInfo:
        """One conversation's list entry."""
        found = self._infos("WHERE c.id = ?1", (conversation_id, 1))
        if not found:
            raise UserVisibleError(UNKNOWN.format(conversation_id))
        return found[0]

    def rename(self, conversation_id: int, title: str) -> None:
        """Sets the title; an empty one means the automatic title."""
        with self._transaction("IMMEDIATE") as db:
            _check(db, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: int) -> None:
        """Deletes the conversation and its messages."""
        with self._transaction("IMMEDIATE") as db:
            _check(db, conversation_id)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def latest(self) -> int | None:
        """The most recently active conversation, to resume; None when there is none."""
        newest = self._infos("", (1,))
        return newest[0].id if newest else None

    def export_markdown(self, conversation_id: int) -> str:
        """A readable Markdown transcript: title, who said what, tool calls and results."""
        info = self.info(conversation_id)
        started = info.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        heading = " ".join(info.title.split()) or f"Conversation {conversation_id}"
        out = [f"# {heading}", ""]
        out += [f"*{started} · assistant: {info.assistant}*", ""]
        for message in self.messages(conversation_id):
            out += _markdown(message)
        return "\n".join(out).rstrip() + "\n"

    def _infos(self, where: str, args: tuple[Any, ...]) -> builtins.list[ConversationInfo]:
        """`args` fills ?1 in `where`, then the limit."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.assistant, c.created_at, c.updated_at,"
                " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),"
                " (SELECT substr(content, 1, 200) FROM messages m"
                "  WHERE m.conversation_id = c.id AND role = 'user' ORDER BY seq LIMIT 1)"
                f" FROM conversations c {where} ORDER BY c.updated_at DESC, c.id DESC"
                f" LIMIT ?{len(args)}",
                args,
            ).fetchall()
        return [
            ConversationInfo(i, t or auto_title(first or ""), a, _utc(c), _utc(u), n)
            for i, t, a, c, u, n, first in rows
        ]

    def _migrate(self) -> None:
        with self._transaction("IMMEDIATE") as db:
            # Inside the write lock, so two processes opening a new file do not both migrate.
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > len(MIGRATIONS):
                newer = f"{self.path} was written by a newer version of the assistant"
                raise UserVisibleError(f"{newer} (schema {version}). Update the assistant.")
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))

    @contextmanager
    def _transaction(self, kind: str = "DEFERRED") -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; IMMEDIATE for writes, so waiting happens up front."""
        with self._lock, self._errors():
            self._db.execute(f"BEGIN {kind}")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns a broken or busy database file into an error the user can act on."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorname", "")
            if code in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
                raise UserVisibleError(
                    f"The conversation database {self.path} is damaged or not a database "
                    f"({exc}). Move it away (rename it, e.g. to {self.path.name}.broken) and "
                    "restart; a new one will be made. Nothing was deleted."
                ) from exc
            if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                msg = f"The conversation database {self.path} is busy (another process writes)."
                raise UserVisibleError(f"{msg} Try again.") from exc
            raise


def _check(db: sqlite3.Connection, cid: int) -> None:
    """Raises the user-facing error for an unknown conversation id."""
    if db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
        raise UserVisibleError(UNKNOWN.format(cid))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _link(match: re.Match[str]) -> str:
    kind, path = match.group(1), match.group(2)
    return f"{'!' if kind == 'image' else ''}[{Path(path).name}](<{path}>)"


def _calls_json(calls: tuple[ToolCall, ...]) -> str | None:
    as_dicts = [{"name": c.name, "arguments": c.arguments, "call_id": c.call_id} for c in calls]
    return json.dumps(as_dicts, ensure_ascii=False) if calls else None


def _calls(text: str | None) -> tuple[ToolCall, ...]:
    found = json.loads(text) if text else []
    return tuple(ToolCall(c["name"], c["arguments"], c["call_id"]) for c in found)


def _fence(body: str, info: str = "") -> list[str]:
    # A fence longer than any backtick run inside, so tool output cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [f"{ticks}{info}", body, ticks, ""]


def _markdown(message: ChatMessage) -> list[str]:
    """The lines of one message in the transcript."""
    if message.role == "tool":
        return [f"**Tool result ({message.name or 'tool'}):**", "", *_fence(message.content)]
    lines = []
    if message.content:
        text = ATTACHMENT.sub(_link, message.content)
        lines += [f"**{LABELS.get(message.role, message.role)}:** {text}", ""]
    for call in message.tool_calls:
        args = json.dumps(call.arguments, ensure_ascii=False, indent=2)
        lines += [f"**Tool call ({call.name}):**", "", *_fence(args, "json")]
    return lines
