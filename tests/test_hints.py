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
KMH, MPH = '"km/h", "km/h"', '"mph", "mph"'


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

    call = ToolCall("calculator", {"expression": "85 * 0.19"})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="It is 16.15.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("What is 19% VAT on 85 euros?")) == "It is 16.15."
    first, second = model.seen
    assert "calculation" in first[-2].content and first[-2].role == "system"
    assert not any("calculation" in m.content for m in second)  # the answer step: no nudge
    assert first[0].content == "s"  # the shared start is untouched
    assert model.choices == ["calculator", "auto"]  # a plain calculation starts with a call


@pytest.mark.parametrize(
    ("text", "plain"),
    [("Multiply 53 by 31.", True), ("What is 5 percent of 80?", True),
     ("How many kilograms is 7 pounds?", True), ("What is 37 degrees Celsius in Fahrenheit?", True),
     ("I drove 150 km in 3 hours. What was my average speed?", True), ("2^10", True),
     ("I ran 5 miles today, any tips?", False), ("How many people live in Paris?", False),
     ("My flight is at 10 in the morning", False),
     ("It was 30 degrees celsius yesterday, what should I wear?", False),
     ("Multitly 69 by 88.", True), ("I have multiple meetings at 3 and 4.", False)],
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
    fact = ToolCall("calculator", {"expression": "8"})  # a fact, through the calculator
    assert misrouted(fact, "How many legs does a spider have?") and misrouted(fact, "Is 8 even?")
    assert not misrouted(ToolCall("calculator", {"expression": "24*60*60"}), "Seconds a day?")
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
     ("Use Python to list primes", False), ("| a | b |", False),
     ("Give me 3 tips for sleeping better.", True), ("Name 5 fruits that are red.", True),
     ("What is 7 squared?", False), ("Is 2028 a leap year? Use python.", False),
     ("Should I bring an umbrella at an 80% chance of rain?", True),
     ("What is 15% of 80?", False), ("What is 15 percent of 80?", False)],
)  # fmt: skip
def test_a_plain_question_is_answered_without_tools(text: str, direct: bool) -> None:
    from assistant_app.kernel.hints import DIRECT, needs_no_tool

    assert needs_no_tool(text) is direct
    model = FakeChatModel(["An answer."])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    "".join(session.stream(text))
    context = [m.content for m in model.requests[0] if m.role == "system"]
    assert (DIRECT in context[-1]) is direct


@pytest.mark.parametrize(
    ("text", "long"),
    [("Write a long story about a lighthouse keeper", True),
     ("Explain photosynthesis in detail.", True),
     ("Write me three paragraphs about autumn.", True),
     ("How long is the Nile?", False),
     ("Tell me a story about a fox.", False)],
)  # fmt: skip
def test_a_message_asking_for_something_long_is_told_to_write_at_length(text, long) -> None:
    from assistant_app.kernel.hints import AT_LENGTH, DIRECT, direct

    hint = direct(text)
    assert hint.startswith(DIRECT) and (AT_LENGTH in hint) is long


ALL = {"calculator", "python", "search_files"}


@pytest.mark.parametrize(
    ("text", "table", "tool"),
    [("Plot y = 2x^2 for x from -5 to 5.", False, "python"),
     ("Make a bar chart of these sales: Mon 3, Tue 5.", False, "python"),
     ("What day of the week was 2020-11-28?", False, "python"),
     ("What date is 99 days after 2021-07-25?", False, "python"),
     ("How many days are there between May 2 2025 and June 9 2026?", False, "python"),
     ("Use python to list the primes below 50.", False, "python"),
     # A series over a range: a loop, not one expression (heard without "Use Python").
     ("You type and turn up the squares of the numbers from 1 to 14.", False, "python"),
     ("What is the sum of odd numbers from 1 to 99?", False, "python"),
     ("I have even more cats from 2 to 3 years old.", False, ""),
     ("What is the total quantity in this table?", True, "python"),
     ("What is the total quantity in this table?", False, ""),
     ("What is 19% VAT on 85 euros?", False, "calculator"),
     ("What is the median of 62, 10, 27, 38?", False, "calculator"),
     ("I weigh 75 kg and I am 1.85 m tall. What is my BMI?", False, "calculator"),
     ("What is 7 times 8?", False, "calculator"),
     ("Give me 3 tips for sleeping better.", False, ""),
     ("In which year did Apollo 11 land on the Moon?", False, ""),
     ("Should I bring an umbrella at an 80% chance of rain?", False, ""),
     ("When is my dentist appointment?", False, "")],
)  # fmt: skip
def test_the_first_step_goes_to_the_tool_it_needs(text: str, table: bool, tool: str) -> None:
    from assistant_app.kernel.hints import route

    assert route(text, ALL, table) == tool
    assert route(text, {"search_files"}, table) == ""  # nothing to compute with


def test_a_picture_goes_to_the_image_tool_when_one_is_offered() -> None:
    from assistant_app.kernel.hints import route

    assert route("Draw me a cat.", {*ALL, "generate_image"}) == "generate_image"
    assert route("Draw a bar chart of sales: a 1, b 2.", {*ALL, "generate_image"}) == "python"


def test_a_tables_sums_go_to_python_or_where_it_cannot_run_to_the_calculator(tmp_path) -> None:  # noqa: ANN001
    from assistant_app.tools.builtin import default_tools

    table = "| part | units |\n|---|---|\n| bolts | 5 |\n| nuts | 7 |"

    def first_step(python: str, attached: bool, text: str) -> tuple[str, list[str]]:
        """The first step's tool choice, and the calculator results the model read."""
        tools = [t.with_permission(python) if t.name == "python" else t
                 for t in default_tools(tmp_path)]  # fmt: skip
        model = ScriptedToolModel([[ReplyDelta(text="It is 12.")]])
        session = ChatSession(model, "s", ToolBox(tools))
        if attached:
            session.attach_text("stock.md", table)
        else:
            text += f"\n\n{table}"
        "".join(session.stream(text))
        results = [m.content for m in model.seen[0] if m.role == "tool"]
        return model.choices[0], results

    most = "Which part has the most units?"
    assert first_step("allow", False, most) == ("python", [])
    # Python would ask (set to ask, or an attachment is outside text) and nobody can answer
    # (piped chat): the calculator must do.
    assert first_step("ask", False, most) == ("calculator", [])
    # A column's total is a sum the kernel makes itself; the model answers from its result.
    for python, attached in (("allow", False), ("ask", False), ("allow", True)):
        choice, results = first_step(python, attached, "What is the total number of units?")
        assert choice == "auto" and len(results) == 1 and results[0].startswith("sum(5, 7) = 12")


@pytest.mark.parametrize(
    ("text", "expression"),
    [("How much is (46 + 85) x 9?", "(46 + 85) x 9"), ("What is 43 times 78?", "43 * 78"),
     ("What is the square root of 1764?", "sqrt(1764)"), ("What is 25% of 120?", "(25/100*120)"),
     ("What is 12,345 + 1,000?", "12345 + 1000"), ("What is 51x88?", "51 x 88"),
     ("It's 212°F outside. What is that in Celsius?", 'convert(212, "f", "celsius")'),
     ("How many metres are 12 feet?", 'convert(12, "feet", "metres")'),
     ("What is 80 km/h in miles per hour?", 'convert(80, "km/h", "miles per hour")'),
     ("I drove 120 km in 2 hours. What was my average speed?", f"convert(120 / 2, {KMH})"),
     ("How fast did I run if I ran 400 metres in 50 seconds?", 'convert(400 / 50, "m/s", "m/s")'),
     ("I cycled 12 miles in 45 minutes, my average speed?", f"convert(12 / (45 / 60), {MPH})"),
     ("I drove 120 km in two hours. What was my average speed?", f"convert(120 / 2, {KMH})"),
     ("I drove 120 km in 2 hours and I'm tired.", ""), ("What is 19% VAT on 85 euros?", ""),
     ("What is the mean of 62, 10, 27?", "mean(62, 10, 27)"), ("Multiply 53 by 31.", "53 * 31"),
     ("Multitly 69 by 88.", "69 * 88"), ("I have multiple meetings at 3 and 4.", ""),
     ("Subtract 19 from 100.", "100 - 19"), ("Divide 144 by 12", "144 / 12"),
     ("Sum these expenses: $19.6, $18.1, $7.1.", "sum(19.6, 18.1, 7.1)"),
     ("What is the sum of 2, 3 and 4 times 5?", ""),
     ("What is 58 time 85?", "58 * 85"), ("What time is it? 5 to 6", "")],
)  # fmt: skip
def test_a_calculation_the_user_wrote_out_is_read_from_the_message(
    text: str, expression: str
) -> None:
    from assistant_app.kernel.hints import written_calculation

    assert written_calculation(text) == expression


def test_the_kernel_makes_a_written_out_calculation_itself() -> None:
    model = ScriptedToolModel([[ReplyDelta(text="It is 1179.")]])
    ran: list[str] = []
    session = ChatSession(model, "s", ToolBox(default_tools()), on_tool=lambda c, r: ran.append(r))
    assert "".join(session.stream("How much is (46 + 85) x 9?")) == "It is 1179."
    assert ran == ["(46 + 85) x 9 = 1179"] and model.choices == ["auto"]


def test_a_failed_call_gets_one_more_try_that_must_be_a_call() -> None:
    from assistant_app.core.messages import ToolCall

    wrong = ReplyDelta(tool_call=ToolCall("calculator", {"expression": "19% VAT of 85"}))
    right = ReplyDelta(tool_call=ToolCall("calculator", {"expression": "85 * 0.19"}))
    model = ScriptedToolModel([[wrong], [right], [ReplyDelta(text="It is 16.15.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("What is 19% VAT on 85 euros?")) == "It is 16.15."
    assert model.choices == ["calculator", "calculator", "auto"]


def test_a_malformed_call_where_none_may_be_made_is_asked_again_without_tools() -> None:
    junk = '{{"name": "calculator", "arguments": {"expression": "max(2.5, 6.9)"}}}}'
    model = ScriptedToolModel([[ReplyDelta(text=junk)], [ReplyDelta(text="The juice.")]])
    session = ChatSession(model, "s", ToolBox(default_tools()))
    assert "".join(session.stream("Which drink cost the most?")) == "The juice."
    assert model.choices == ["none", "auto"] and model.offered[-1] == []
