"""'Think longer': answers are extracted, voted on, and progress is reported."""

from __future__ import annotations

import pytest

from assistant_app.core.messages import ChatMessage
from assistant_app.kernel.chat import ChatSession, ThinkSettings
from assistant_app.kernel.think import extract_answer, think_longer, wants_thinking
from tests.fakes import FakeChatModel


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("3 apples plus 4 apples.\nAnswer: 7", "7"),
        ("So the total is\nAnswer: 1,200 dollars.", "1200"),
        ("Answer: 2.50", "2.5"),
        ("Answer: 12.0", "12"),
        ("The answer is yes.\nAnswer: Tuesday", "tuesday"),
        ("I am not sure what you mean", ""),
        ("Total 5 then 6\nAnswer = 6", "6"),
    ],
)
def test_answers_are_normalised_so_equal_values_agree(text: str, answer: str) -> None:
    assert extract_answer(text) == answer


def test_the_majority_wins_and_stops_once_certain() -> None:
    model = FakeChatModel(["Answer: 41", "Answer: 42", "Answer: 42", "Answer: 42", "Answer: 9"])
    seen = []
    verdict = think_longer(
        model,
        [ChatMessage("user", "q")],
        samples=5,
        progress=lambda n, total, a: seen.append((n, total, a)),
    )
    assert verdict.answer == "42" and verdict.votes == 3
    assert len(verdict.attempts) == 4  # 3 of 5 agree after four: the fifth cannot change it
    assert seen[-1] == (4, 5, "42")
    assert model.temperatures[0] == 0.0 and all(t and t > 0 for t in model.temperatures[1:])
    assert "Answer: <answer>" in model.requests[0][-1].content
    assert verdict.reply().startswith("42\n(3 of 4 independent attempts agreed")


def test_no_answer_at_all_is_said_plainly() -> None:
    verdict = think_longer(FakeChatModel(["hmm"] * 3), [ChatMessage("user", "q")], samples=3)
    assert verdict.answer == "" and "could not settle" in verdict.reply()


def test_the_spoken_trigger_turns_it_on_for_one_message() -> None:
    assert wants_thinking("Think carefully about what 17 times 24 is") == (
        True,
        "what 17 times 24 is",
    )
    assert wants_thinking("What is 17 times 24?") == (False, "What is 17 times 24?")
    # As speech recognition writes it down:
    assert wants_thinking("Think carefully. What is 17 times 24?") == (True, "What is 17 times 24?")
    assert wants_thinking("Please, think hard: why?") == (True, "why?")
    assert not wants_thinking("I think carefully about it")[0]
    model = FakeChatModel(["Answer: 408", "Answer: 408", "Quick reply."])  # 2 of 3 settle it
    session = ChatSession(model, "s", think=ThinkSettings(samples=3))
    assert "".join(session.stream("Think carefully about 17 times 24")).startswith("408")
    assert "".join(session.stream("Thanks!")) == "Quick reply."
    assert [m.role for m in session.history] == ["user", "assistant", "user", "assistant"]


def test_a_calculation_asked_to_think_about_is_worked_out_exactly() -> None:
    from assistant_app.core.messages import ReplyDelta
    from assistant_app.tools.builtin import default_tools
    from assistant_app.tools.toolbox import ToolBox
    from tests.test_tools import ScriptedToolModel

    # Voting on five guesses at 26 x 28 - 44 gave 700; the calculator gives 684.
    model = ScriptedToolModel([[ReplyDelta(text="It is 684.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()), think=ThinkSettings(samples=5))
    assert "".join(session.stream("Think carefully. What is 26 x 28 minus 44?")) == "It is 684."
    assert session.history[2].content == "26 x 28 - 44 = 684" and len(model.seen) == 1
    # Without a calculator, or for a question that is no calculation, it thinks longer.
    voted = FakeChatModel(["Answer: 684"] * 3)
    plain = ChatSession(voted, "s", think=ThinkSettings(samples=3))
    assert "".join(plain.stream("Think carefully. What is 26 x 28 minus 44?")).startswith("684")
    assert len(voted.requests) >= 2


def test_thinking_aloud_is_short_and_said_plainly(monkeypatch) -> None:
    import assistant_app.kernel.chat as chat
    from assistant_app.kernel.turn import SpokenTurn
    from assistant_app.security.untrusted import refuse

    monkeypatch.setattr(chat, "SPOKEN_BUDGET_S", 0.0)  # past the budget after one attempt
    steps, kept = [], []
    spoken = SpokenTurn("Short.", refuse, steps.append, lambda turn, reply: kept.append(reply))
    model = FakeChatModel(["Work.\nAnswer: 408"] * 7)
    session = ChatSession(model, "s", think=ThinkSettings(samples=5, budget_s=120.0))
    reply = "".join(session.stream("Think carefully about 17 times 24", spoken=spoken))
    assert reply == "The answer is 408."  # no reasoning read out
    assert steps == ["think"] and kept == [reply] and len(model.requests) == 1
    typed = "".join(session.stream("Think carefully about 17 times 24"))
    assert typed.startswith("408\n(3 of 3 independent attempts agreed")  # typed: the full budget
    session.history.clear()
    monkeypatch.setattr(chat, "SPOKEN_BUDGET_S", 120.0)
    again = "".join(session.stream("Think carefully about 17 times 24", spoken=spoken))
    assert again == "The answer is 408. 3 of 3 attempts agreed on it."
