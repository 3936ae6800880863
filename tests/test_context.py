"""The context window pages old turns out into a summary; remembered facts always stay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant_app.cli.repl import run_repl
from assistant_app.core.messages import ChatMessage
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.context import ContextWindow, model_summary, split_turns
from assistant_app.kernel.memory import Memory
from tests.fakes import FakeChatModel


def tokens(text: str) -> int:
    return len(text) // 4 + 1


def prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(tokens(m.content) + 4 for m in messages)


def test_sixty_long_turns_never_overflow_and_turn_one_is_recalled(tmp_path: Path) -> None:
    filler = "and then we talked about the weather in great detail " * 12  # ~160 tokens
    replies = [f"Noted. {filler}"] * 61
    model = FakeChatModel(replies)
    window = ContextWindow(tokens, budget_tokens=1500)
    memory = Memory(tmp_path / "memory.sqlite3")
    session = ChatSession(model, "Be helpful.", window=window, memory=memory)
    "".join(session.stream("Remember that my sister's name is Ann."))
    for n in range(59):
        "".join(session.stream(f"Turn {n}: {filler}"))
    "".join(session.stream("What is my sister's name?"))
    assert max(prompt_tokens(r) for r in model.requests) <= 1500
    last = model.requests[-1]
    context = [m.content for m in last if m.role == "system"]
    assert "sister's name is Ann" in context[-1]  # the fact rides in a system message
    assert last[-2] == ChatMessage("system", context[-1])  # just before the question
    assert "sister's name" not in last[0].content  # the shared start stays the same
    assert window.paged_out > 40 and window.last.turns_paged_out == window.paged_out
    assert "Summary of the earlier conversation" in last[0].content


def test_the_model_folds_paged_out_turns_into_its_own_summary() -> None:
    summarizer = FakeChatModel(["The user likes tea and lives in Lyon."])
    fold = model_summary(summarizer)
    turn = [
        ChatMessage("user", "I live in Lyon and I like tea."),
        ChatMessage("assistant", "Nice."),
    ]
    assert fold("", turn) == "The user likes tea and lives in Lyon."
    asked = summarizer.requests[0]
    assert "Summarise" in asked[0].content and "Lyon" in asked[1].content


def test_a_failing_summary_falls_back_to_keeping_the_words() -> None:
    class Broken:
        name, context_tokens = "broken", 10

        def stream_reply(self, messages, tools, cancel, **_):  # noqa: ANN001, ANN003, ANN201
            raise RuntimeError("model crashed")

    folded = model_summary(Broken())("", [ChatMessage("user", "My code is QX7-22B.")])
    assert "QX7-22B" in folded


def test_whole_turns_are_paged_out_never_half_a_tool_exchange() -> None:
    history = [
        ChatMessage("user", "a" * 400),
        ChatMessage("assistant", "", tool_calls=()),
        ChatMessage("tool", "b" * 400),
        ChatMessage("assistant", "c"),
        ChatMessage("user", "d"),
        ChatMessage("assistant", "e"),
    ]
    window = ContextWindow(tokens, budget_tokens=60)
    fitted = window.fit(ChatMessage("system", "s"), [], history, [ChatMessage("user", "f")])
    assert [m.content for m in fitted[1:]] == ["d", "e", "f"]
    assert len(split_turns(history)) == 1 and window.paged_out == 1


def test_memory_persists_and_can_be_forgotten(tmp_path: Path) -> None:
    memory = Memory(tmp_path / "m.sqlite3")
    assert (
        memory.capture("please remember: I am allergic to nuts") == "the user is allergic to nuts"
    )
    assert memory.capture("What is the weather?") is None
    again = Memory(tmp_path / "m.sqlite3")  # a new session
    assert again.recall("food") == ["the user is allergic to nuts"]
    ((fact_id, _),) = again.facts()
    assert again.forget(fact_id) and again.recall("food") == []


def test_many_facts_are_recalled_by_relevance(tmp_path: Path) -> None:
    memory = Memory(tmp_path / "m.sqlite3", recall_limit=3)
    for n in range(10):
        memory.capture(f"remember that locker {n} holds item {n}")
    memory.capture("remember that the dentist appointment is on Friday")
    assert "dentist" in memory.recall("When is my dentist appointment?")[0]


@pytest.mark.parametrize("command", ["/context", "/forget 1"])
def test_repl_commands_show_and_edit_memory(tmp_path: Path, command: str) -> None:
    class Pipe(io.StringIO):
        def isatty(self) -> bool:
            return False

    memory = Memory(tmp_path / "m.sqlite3")
    session = ChatSession(
        FakeChatModel(["Noted."]), "s", memory=memory, window=ContextWindow(tokens, 1000)
    )
    out = io.StringIO()
    run_repl(session, Pipe(f"Remember that the car is blue.\n{command}\n/context\n"), out)
    text = out.getvalue()
    if command == "/context":
        assert "window:" in text and "#1 the car is blue" in text
    else:
        assert "Forgot fact #1." in text and "remembered facts: 0" in text
