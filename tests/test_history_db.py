"""The conversation store on real SQLite files: round trips, restarts, crashes, threads, export."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant_app.core.errors import UserVisibleError
from assistant_app.core.messages import ChatMessage, ToolCall
from assistant_app.storage.history_db import ConversationStore, auto_title

ROOT = Path(__file__).resolve().parent.parent

CALL = ToolCall("get_weather", {"city": "Paris", "days": [1, 2], "units": {"temp": "C"}}, "call_7")
TURN = [
    ChatMessage("user", "What is the weather in Paris?"),
    ChatMessage("assistant", "", tool_calls=(CALL, ToolCall("clock", {}, ""))),
    ChatMessage("tool", "Sunny, 21 °C", name="get_weather"),
    ChatMessage("tool", "10:42", name="clock"),
    ChatMessage("assistant", "It is sunny and 21 °C in Paris."),
]

# Appends forever, printing each seq once its commit has returned; the test kills it.
CHILD = """
import os, sys
from pathlib import Path
from assistant_app.storage.history_db import ConversationStore
from assistant_app.core.messages import ChatMessage, ToolCall
store = ConversationStore(Path(sys.argv[1]))
cid = store.create("crash")
for i in range(int(sys.argv[2])):
    store.append(cid, ChatMessage("user", f"message {i} " + "x" * 500,
                                  tool_calls=(ToolCall("t", {"i": i}, str(i)),)))
    print(i, flush=True)
os._exit(0)  # no close(), no checkpoint: the WAL is left as a crash leaves it
"""


@pytest.fixture
def store(tmp_path: Path):
    with ConversationStore(tmp_path / "history.sqlite3") as s:
        yield s


def test_round_trip_keeps_tool_calls_exactly(store: ConversationStore) -> None:
    cid = store.create()
    for message in TURN:
        store.append(cid, message)
    assert store.messages(cid) == TURN
    assert store.messages(cid)[1].tool_calls[0].arguments == CALL.arguments


def test_resume_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with ConversationStore(path) as first:
        cid = first.create(assistant="coder")
        for message in TURN:
            first.append(cid, message)
    with ConversationStore(path) as second:
        assert second.latest() == cid
        assert second.messages(cid) == TURN
        assert second.info(cid).assistant == "coder"


def test_wal_mode_and_schema_version(store: ConversationStore) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    db.close()


@pytest.mark.parametrize("kill_after", [None, 15], ids=["os._exit", "SIGKILL"])
def test_crash_keeps_every_committed_message(tmp_path: Path, kill_after: int | None) -> None:
    path = tmp_path / "history.sqlite3"
    count = 10 if kill_after is None else 100_000
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    committed = []
    for line in child.stdout:
        committed.append(int(line))
        if len(committed) == kill_after:
            child.kill()  # SIGKILL, most likely in the middle of the next append
            break
    child.wait(timeout=30)
    child.stdout.close()
    assert len(committed) == (kill_after or count)
    assert Path(f"{path}-wal").stat().st_size > 0  # the reopen below really recovers a WAL

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with ConversationStore(path) as reopened:
        cid = reopened.latest()
        assert cid is not None
        saved = reopened.messages(cid)
    assert len(saved) >= len(committed)  # the one being written when killed may have landed
    for i, message in enumerate(saved):
        assert message.content.startswith(f"message {i} ")
        assert message.tool_calls == (ToolCall("t", {"i": i}, str(i)),)


def test_list_search_rename_delete(store: ConversationStore) -> None:
    old = store.create()
    store.append(old, ChatMessage("user", "Plan a trip to Kyoto in spring please"))
    store.append(old, ChatMessage("assistant", "Cherry blossoms peak in early April."))
    new = store.create("Äpfel und Birnen", assistant="cook")
    store.append(new, ChatMessage("user", "A pie recipe?"))

    listed = store.list()
    assert [c.id for c in listed] == [new, old]
    assert listed[1].title == "Plan a trip to Kyoto in spring please"
    assert listed[1].message_count == 2 and listed[0].assistant == "cook"
    assert listed[0].created_at <= listed[0].updated_at
    assert [c.id for c in store.list(search="BLOSSOM")] == [old]  # message text, any case
    assert [c.id for c in store.list(search="äPFEL")] == [new]  # title, non-ASCII case
    assert store.list(search="50%_") == []  # no LIKE wildcards
    assert len(store.list(limit=1)) == 1

    store.rename(old, "Kyoto")
    assert store.info(old).title == "Kyoto"
    assert store.latest() == new  # a rename does not count as activity
    store.rename(old, "")
    assert store.info(old).title == "Plan a trip to Kyoto in spring please"

    store.delete(new)
    assert [c.id for c in store.list()] == [old]
    assert store.latest() == old
    store.delete(old)
    assert store.latest() is None and store.list() == []


def test_auto_title_is_short_and_one_line() -> None:
    title = auto_title("Tell me\nabout " + "the history of the Byzantine empire " * 5)
    assert title.startswith("Tell me about the history") and title.endswith("…")
    assert len(title) <= 61 and "\n" not in title
    assert auto_title("  hi  there ") == "hi there"


def test_unknown_conversation_is_a_clear_error(store: ConversationStore) -> None:
    expected = "No conversation 42; `assistant conversations list` shows them."
    for action in (
        lambda: store.messages(42),
        lambda: store.append(42, ChatMessage("user", "hi")),
        lambda: store.rename(42, "x"),
        lambda: store.delete(42),
        lambda: store.export_markdown(42),
    ):
        with pytest.raises(UserVisibleError) as caught:
            action()
        assert str(caught.value) == expected


def test_concurrent_appends_from_threads_all_land(store: ConversationStore) -> None:
    ids = [store.create(f"thread {n}") for n in range(4)]
    errors: list[BaseException] = []

    def write(cid: int) -> None:
        try:
            for i in range(40):
                store.append(cid, ChatMessage("user", f"{cid}:{i}"))
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for cid in ids:
        assert [m.content for m in store.messages(cid)] == [f"{cid}:{i}" for i in range(40)]


def test_two_stores_on_one_file_share_it(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with ConversationStore(path) as gui, ConversationStore(path) as cli:
        cid = gui.create()
        cli.append(cid, ChatMessage("user", "from the CLI"))
        assert gui.messages(cid) == [ChatMessage("user", "from the CLI")]


def test_export_markdown(store: ConversationStore) -> None:
    cid = store.create()
    for message in TURN:
        store.append(cid, message)
    store.append(cid, ChatMessage("user", "Draw it [image: /tmp/my sketch.png] ```"))
    text = store.export_markdown(cid)
    assert text.startswith("# What is the weather in Paris?\n")
    assert "**You:** What is the weather in Paris?" in text
    assert "**Assistant:** It is sunny and 21 °C in Paris." in text
    assert "**Tool call (get_weather):**\n\n```json\n{\n" in text and '"city": "Paris"' in text
    assert "**Tool result (get_weather):**\n\n```\nSunny, 21 °C\n```" in text
    assert "![my sketch.png](</tmp/my sketch.png>)" in text


def test_tool_output_cannot_close_its_fence(store: ConversationStore) -> None:
    cid = store.create("fences")
    store.append(cid, ChatMessage("tool", "a\n```\nb", name="shell"))
    assert "````\na\n```\nb\n````" in store.export_markdown(cid)


def test_corrupt_file_says_which_file_and_to_move_it(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    junk = b"these are not the bytes of an SQLite database\n" * 100
    path.write_bytes(junk)
    with pytest.raises(UserVisibleError) as caught:
        ConversationStore(path)
    message = str(caught.value)
    assert str(path) in message and "Move it away" in message
    assert path.read_bytes() == junk  # user data is never touched


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    ConversationStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(UserVisibleError, match="newer version"):
        ConversationStore(path)
