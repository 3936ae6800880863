"""Hints for the turn at hand: calculations go to a tool; pictures without an image model."""

from __future__ import annotations

import pytest

from assistant_app.core.messages import ReplyDelta
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.hints import (
    NO_IMAGE_MODEL,
    calculation_hint,
    must_calculate,
    wants_a_picture,
)
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import ToolBox
from tests.fakes import FakeChatModel
from tests.test_tools import ScriptedToolModel

BOTH = {"calculator", "python"}


@pytest.mark.parametrize(
    "text",
    ["Multiply 53 by 31.", "What is 40% of 250?", "How many kilometres is 35 miles?",
     "I drove 150 km in 3 hours, what was my average speed?", "12 - 5", "What's 2^10?"],
)  # fmt: skip
def test_a_calculation_is_told_to_use_a_tool(text: str) -> None:
    assert "call the calculator or python tool" in calculation_hint(text, BOTH)


@pytest.mark.parametrize(
    "text", ["Hello!", "Tell me about Apollo 11.", "How many legs does a spider have?"]
)
def test_other_messages_get_no_hint(text: str) -> None:
    assert calculation_hint(text, BOTH) == ""


def test_no_hint_without_a_tool_that_calculates() -> None:
    assert calculation_hint("What is 3 times 4?", {"search_files"}) == ""


def test_the_hint_rides_before_the_message_until_a_tool_has_run() -> None:
    from assistant_app.core.messages import ToolCall

    call = ToolCall("calculator", {"expression": "53*31"})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="It is 1643.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("Multiply 53 by 31.")) == "It is 1643."
    first, second = model.seen
    assert "calculation" in first[-2].content and first[-2].role == "system"
    assert not any("calculation" in m.content for m in second)  # the answer step: no nudge
    assert first[0].content == "s"  # the shared start is untouched
    assert model.choices == ["required", "auto"]  # a plain calculation starts with a call


@pytest.mark.parametrize(
    ("text", "plain"),
    [("Multiply 53 by 31.", True), ("What is 5 percent of 80?", True),
     ("How many kilograms is 7 pounds?", True), ("What is 37 degrees Celsius in Fahrenheit?", True),
     ("I drove 150 km in 3 hours. What was my average speed?", True), ("2^10", True),
     ("I ran 5 miles today, any tips?", False), ("How many people live in Paris?", False),
     ("My flight is at 10 in the morning", False),
     ("It was 30 degrees celsius yesterday, what should I wear?", False)],
)  # fmt: skip
def test_a_plain_calculation_must_start_with_a_call(text: str, plain: bool) -> None:
    assert must_calculate(text, BOTH) is plain
    assert not must_calculate(text, {"search_files"})


@pytest.mark.parametrize(
    ("text", "picture"),
    [("Draw me a picture of a dragon.", True), ("Can you paint a lighthouse?", True),
     ("Make an image of a cat", True), ("A picture of a horse, please", True),
     ("Draw up a list of chores", False), ("Plot a sine wave", False),
     ("Draw a bar chart of sales", False), ("What is in this image?", False)],
)  # fmt: skip
def test_picture_requests_are_told_from_charts_and_questions(text: str, picture: bool) -> None:
    assert wants_a_picture(text) is picture


def test_a_picture_without_an_image_model_gets_the_pull_command() -> None:
    model = FakeChatModel([])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    reply = "".join(session.stream("Draw me a picture of a dragon."))
    assert reply == NO_IMAGE_MODEL and "assistant models pull sd-turbo" in reply
    assert model.requests == []  # the kernel answered: no refusal from the model
    assert [m.role for m in session.history] == ["user", "assistant"]


def test_a_calculator_call_for_a_question_without_numbers_is_not_run() -> None:
    from assistant_app.core.messages import ToolCall
    from assistant_app.kernel.hints import misrouted

    wrong = ToolCall("calculator", {"expression": "capital of France"})
    assert misrouted(wrong, "What is the capital of France?")
    assert not misrouted(ToolCall("calculator", {"expression": "pi**2"}), "What is pi squared?")
    assert not misrouted(wrong, "What is 2 plus 2?")  # a number: the error goes back instead
    model = ScriptedToolModel([[ReplyDelta(tool_call=wrong)], [ReplyDelta(text="Paris.")]])
    ran = []
    session = ChatSession(model, "s", ToolBox(default_tools()), on_tool=lambda c, r: ran.append(c))
    assert "".join(session.stream("Find the capital of France.")) == "Paris."
    assert ran == [] and model.choices == ["auto", "none"]
    assert [m.role for m in session.history] == ["user", "assistant"]


@pytest.mark.parametrize(
    ("text", "direct"),
    [("What is the capital of France?", True), ("How are you?", True),
     ("Tell me a fun fact about octopuses.", True), ("Plot a sine wave", False),
     ("Search my notes for the dentist", False), ("What is 2 plus 2?", False),
     ("Use Python to list primes", False), ("| a | b |", False)],
)  # fmt: skip
def test_a_plain_question_is_answered_without_tools(text: str, direct: bool) -> None:
    from assistant_app.kernel.hints import DIRECT, needs_no_tool

    assert needs_no_tool(text) is direct
    model = FakeChatModel(["An answer."])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    "".join(session.stream(text))
    context = [m.content for m in model.requests[0] if m.role == "system"]
    assert (DIRECT in context[-1]) is direct
