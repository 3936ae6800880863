"""Each prompt starts exactly as the last one did, reply included: the model evaluates only
what is new (the turn's hints, a spoken turn's style note, which opens the turn's own system
message, and the note after a tool result are kept with the history for the model, never shown
or saved)."""

from __future__ import annotations

import logging
import re

import pytest

from assistant_app.core.messages import ChatMessage, ReplyDelta, ToolCall, unfolded
from assistant_app.kernel.chat import ChatSession, SpokenTurn
from assistant_app.kernel.context import KEPT_CONTEXT_CHARS
from assistant_app.security.untrusted import refuse
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import ToolBox
from tests.test_tools import ScriptedToolModel

STYLE = "Spoken reply: short."


def spoken(session: ChatSession) -> SpokenTurn:
    """A spoken turn as the voice loop makes one, heard to the end."""

    def keep(turn: list[ChatMessage], reply: str) -> None:
        session.record_turn([*turn, ChatMessage("assistant", reply)])

    return SpokenTurn(STYLE, refuse, lambda step: None, keep)


def extends(later: list[ChatMessage], earlier: list[ChatMessage], reply: str) -> bool:
    """Whether the later prompt starts with the earlier one and its reply, as the model reads
    them (the chat template's messages)."""
    start = [*unfolded(earlier), {"role": "assistant", "content": reply}]
    return unfolded(later)[: len(start)] == start


def test_typed_spoken_and_tool_turns_each_extend_the_last_prompt() -> None:
    call = ReplyDelta(tool_call=ToolCall("calculator", {"expression": "85 * 0.19"}))
    model = ScriptedToolModel([
        [ReplyDelta(text="Why did the cat sit on the computer?")],
        [call], [ReplyDelta(text="It is 16.15.")],
        [ReplyDelta(text="You are welcome.")],
    ])  # fmt: skip
    saved: list[ChatMessage] = []
    session = ChatSession(model, "Be brief.", ToolBox(default_tools()), on_record=saved.append)
    "".join(session.stream("Tell me a joke.", spoken=spoken(session)))  # hint: no tool
    vat = "What is 19% VAT on 85 euros?"
    "".join(session.stream(vat))  # a calculation hint, then the result note
    "".join(session.stream("Thanks!", spoken=spoken(session)))
    first, call_step, result_step, last = model.seen
    # The spoken turn's own system message opens with the style, then the hint.
    assert unfolded(first)[-1]["content"] == "Tell me a joke."
    assert unfolded(first)[-2]["role"] == "system"
    assert unfolded(first)[-2]["content"].startswith(f"{STYLE}\n\n")
    assert extends(call_step, first, "Why did the cat sit on the computer?")
    assert unfolded(result_step)[-1]["content"].endswith("do not call the same tool again.)")
    assert extends(last, result_step, "It is 16.15.")
    # What is shown and saved is what was said: no style note, hint or note after a result.
    assert [(m.role, m.content) for m in saved if m.role != "tool"] == [
        ("user", "Tell me a joke."), ("assistant", "Why did the cat sit on the computer?"),
        ("user", vat), ("assistant", ""), ("assistant", "It is 16.15."),
        ("user", "Thanks!"), ("assistant", "You are welcome."),
    ]  # fmt: skip
    assert [m.content for m in saved if m.role == "tool"] == ["85 * 0.19 = 16.15"]


def test_retrieved_passages_are_not_kept_and_the_next_prompt_reads_on_from_there() -> None:
    passage = "The dentist is on Friday at 08:15 in room RT-901. " * 20
    model = ScriptedToolModel([[ReplyDelta(text="Friday at 08:15.")], [ReplyDelta(text="Ok.")]])
    found = [("notes/dentist.md:1", passage)]
    session = ChatSession(model, "Be brief.", retrieve=lambda text: found * ("dentist" in text))
    "".join(session.stream("When is the dentist?"))
    "".join(session.stream("Thanks, bye."))
    first, second = model.seen
    assert len(passage) > KEPT_CONTEXT_CHARS and passage[:40] in unfolded(first)[-2]["content"]
    assert not any(passage[:40] in m["content"] for m in unfolded(second))  # not kept
    assert unfolded(second)[:2] == [unfolded(first)[0], unfolded(first)[-1]]  # the question


def test_the_sources_noted_under_an_answer_are_shown_but_not_read_again() -> None:
    # Read with them, the model wrote such notes itself, naming files it never saw.
    model = ScriptedToolModel([[ReplyDelta(text="Friday at 08:15.")], [ReplyDelta(text="Ok.")]])
    found = [("notes/dentist.md:1", "The dentist is on Friday at 08:15.")]
    session = ChatSession(model, "Be brief.", retrieve=lambda text: found * ("dentist" in text))
    shown = "".join(session.stream("When is the dentist?"))
    "".join(session.stream("Which room is the gym in?"))
    assert shown.endswith("(Source: notes/dentist.md:1)")
    assert session.history[1].content == shown  # shown and saved as it was
    replies = [m["content"] for m in unfolded(model.seen[1]) if m["role"] == "assistant"]
    assert replies == ["Friday at 08:15."]


@pytest.mark.models
def test_the_real_model_evaluates_only_the_new_turn(real_store, caplog) -> None:
    from models.llm import LlamaChatModel

    model = LlamaChatModel(real_store.file_path("qwen2.5-coder-0.5b-instruct"), max_reply_tokens=24)
    session = ChatSession(model, "You are a kind assistant.", ToolBox(default_tools()))
    caplog.set_level(logging.DEBUG, logger="models.llm")
    "".join(session.stream("Tell me a joke.", spoken=spoken(session)))
    "".join(session.stream("Tell me another one.", spoken=spoken(session)))
    sizes = [
        tuple(map(int, m.groups()))
        for r in caplog.records
        if (m := re.match(r"prompt: (\d+) tokens, (\d+) of them already evaluated", r.message))
    ]
    (first, _), (second, evaluated) = sizes
    # Everything up to the new turn is reused: the first prompt, and its reply.
    assert evaluated > first and second - evaluated < 60, sizes
