"""The text chat session and REPL, driven with a scripted model."""

from __future__ import annotations

import io

from assistant_app.cli.repl import reply, run_repl
from assistant_app.core.cancel import CancelToken, TurnCounter
from assistant_app.kernel.chat import ChatSession
from tests.fakes import FakeChatModel


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_repl_streams_answers_and_keeps_history() -> None:
    model = FakeChatModel(["Paris is the capital.", "About 2 million people."])
    out = io.StringIO()
    run_repl(
        ChatSession(model, "Be brief."), Pipe("Capital of France?\n\nHow many live there?\n"), out
    )
    assert out.getvalue() == "Paris is the capital.\nAbout 2 million people.\n"
    second = model.requests[1]
    assert [m.role for m in second] == ["system", "user", "assistant", "user"]
    assert second[0].content == "Be brief."
    assert second[2].content == "Paris is the capital."


def test_reset_and_unknown_commands() -> None:
    model = FakeChatModel(["One.", "Two."])
    out = io.StringIO()
    run_repl(ChatSession(model, "s"), Pipe("hi\n/reset\n/frobnicate\nagain\n/quit\nnever\n"), out)
    assert "(conversation cleared)" in out.getvalue()
    assert "Unknown command /frobnicate" in out.getvalue()
    assert [m.role for m in model.requests[1]] == ["system", "user"]
    assert len(model.requests) == 2  # nothing after /quit


def test_stopped_reply_keeps_only_what_was_shown() -> None:
    def interrupt(i: int) -> None:
        if i == 1:
            raise KeyboardInterrupt

    model = FakeChatModel(["one two three four"], on_delta=interrupt)
    session = ChatSession(model, "s")
    out = io.StringIO()
    answer = reply(session, "count", out)
    assert answer == "one two"
    assert out.getvalue() == "one two [stopped]\n"
    assert session.history[-1].content == "one two"


def test_cancel_token_follows_the_turn_counter() -> None:
    turns = TurnCounter()
    token = turns.token()
    assert not token.cancelled
    turns.advance()
    assert token.cancelled and not turns.token().cancelled
    never = CancelToken.never()
    assert not never.cancelled
    never.cancel()
    assert never.cancelled


def test_a_reply_without_a_word_is_never_silence() -> None:
    from assistant_app.kernel.hints import NO_WORDS

    session = ChatSession(FakeChatModel(["", "Fine."]), "Be brief.")
    assert "".join(session.stream("Multitly 69 by 88.")) == NO_WORDS  # it asks to hear it again
    assert session.history[-1].content == NO_WORDS
    assert "".join(session.stream("How are you?")) == "Fine."
