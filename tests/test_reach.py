"""What the assistant cannot reach (messages, calls, media, devices, alarms, live data): told
to the model as a hint for that turn only, with no tools offered, so it says why it cannot
instead of "I can't assist with that" or "I will remind you at 7"; a bare "I can't" gets the
reason from the kernel. A bare no to anything else is held and asked again with no tools."""

from __future__ import annotations

import pytest

from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.reach import out_of_reach
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import ToolBox
from tests.fakes import FakeChatModel


@pytest.mark.parametrize(
    "text",
    ["Could you text my brother that dinner is at 8?", "Ring Dad.", "Put on some jazz.",
     "Dim the bedroom lights.", "Wake me up at 6.", "Is it going to rain in Oslo tomorrow?",
     "What are today's headlines?", "Check my calendar for tomorrow.", "Mute the TV.",
     "Please send an email to my boss saying I'm sick.", "Hey, turn the volume down a bit.",
     "Set a timer for 5 minutes.", "Remind me at noon to stretch.", "Open my inbox.",
     "What's the weather like in Rome?", "Buy two tickets for the concert."],
)  # fmt: skip
def test_an_order_to_act_outside_the_computer_is_out_of_reach(text: str) -> None:
    assert out_of_reach(text).endswith(".")  # why, as a sentence


@pytest.mark.parametrize(
    "text",
    ["What do you call a baby kangaroo?", "Write a text to Bob saying I'm late.",
     "Help me write an email to my landlord.", "How do I set an alarm on my iPhone?",
     "Should I bring an umbrella if the forecast says 80% chance of rain?",
     "Play a word game with me.", "Remind me what the capital of Peru is.",
     "Order these numbers from smallest to largest: 5, 2, 9.", "Read my notes about the garden.",
     "Draft an email to Bob asking to move the meeting to Friday.", "What is 40 percent of 80?",
     "Call the function with 3 and 4 in Python.", "Open the file sales.csv and plot the totals."],
)  # fmt: skip
def test_a_question_a_draft_or_a_task_here_is_not(text: str) -> None:
    assert not out_of_reach(text)


class _Recording(FakeChatModel):
    """Records the tool choice and the number of tools offered with each request as well."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.choices: list[str] = []
        self.offered: list[int] = []

    def stream_reply(self, messages, tools, cancel, **kw):  # noqa: ANN001, ANN003, ANN201
        if kw.get("max_tokens") != 1:  # not a warm-up
            self.choices.append(kw.get("tool_choice", "auto"))
            self.offered.append(len(tools))
        return super().stream_reply(messages, tools, cancel, **kw)


@pytest.mark.parametrize(
    ("text", "hinted"),
    [("Text Omar that I'm late.", True), ("Send a text to Omar saying I'm late.", True),
     ("Write a short text to Omar saying I'm late.", False), ("What is 12 times 13?", False)],
)  # fmt: skip
def test_the_hint_rides_with_that_turn_only_and_no_tool_is_offered(text: str, hinted: bool) -> None:
    model = _Recording(["I can't set reminders: I run offline.", "Fine."])
    session = ChatSession(model, "instructions", ToolBox(default_tools()))
    "".join(session.stream(text))
    turn_context = [m.content for m in model.requests[0] if m.role == "system"][-1]
    assert ("cannot do here" in turn_context) is hinted
    assert "cannot do here" not in model.requests[0][0].content  # never in the instructions
    assert ("no access to your phone, messages" in turn_context) is hinted  # and why
    if hinted:
        assert model.choices[0] == "none"


@pytest.mark.parametrize(
    ("text", "reply", "added"),
    [("What's the weather in Lagos tomorrow?", "Sorry, but I can't assist with that.", True),
     ("Email Marta about the meeting.", "I cannot send emails.", True),
     ("Play some jazz.", "I can't play music: I have no access to your apps.", False)],
)  # fmt: skip
def test_a_bare_no_to_what_is_out_of_reach_gets_the_reason(
    text: str, reply: str, added: bool
) -> None:
    session = ChatSession(FakeChatModel([reply]), "instructions", ToolBox(default_tools()))
    answer = "".join(session.stream(text))
    assert answer.startswith(reply)
    why = out_of_reach(text)
    assert answer == (f"{reply} {why}" if added else reply)
    assert session.history[-1].content == answer  # kept as shown


@pytest.mark.parametrize(
    ("replies", "shown", "offered"),
    [(["I'm sorry, but I can't assist with that.", "Hi Bob, running late!"],
      "Hi Bob, running late!", 2),
     (["I'm sorry, but I can't assist with that."] * 2, "I'm sorry, but I can't assist with that.",
      2),
     (["Hi Bob, running late!"], "Hi Bob, running late!", 1)],
)  # fmt: skip
def test_a_bare_no_is_asked_again_with_no_tools_in_the_prompt(
    replies: list[str], shown: str, offered: int
) -> None:
    model = _Recording([*replies, "never asked"])
    session = ChatSession(model, "instructions", ToolBox(default_tools()))
    answer = "".join(session.stream("Write a short text to Bob saying I'm running late."))
    assert answer == shown  # the held no is never shown; a second one is (no third request)
    assert len(model.offered) == offered
    assert model.offered[0] > 0 and (offered == 1 or model.offered[1] == 0)  # then none
    assert session.history[-1].content == shown


def test_a_no_with_a_reason_or_anything_longer_is_shown_as_it_streams() -> None:
    from assistant_app.kernel.reach import HeldNo

    for reply, held in [
        ("I can't do that: I run offline.", 6),
        ("I think so.", 1),
        ("I'm sorry to hear that. Rest well.", 4),
        ("Sorry!", 0),
        ("I'm sorry, I can't understand that. Could you say it again?", 10),
    ]:
        # (the last asks the user back, as on a misheard turn: no bare no)
        no, shown = HeldNo(), []
        for i, word in enumerate(reply.split(" ")):
            shown.append(no.push(word if i == 0 else " " + word))
        assert "".join(shown) + no.rest() == reply and not no.bare
        assert shown.count("") == held  # held only while it could still be a bare no
    no = HeldNo()
    assert no.push("I'm sorry, but I can't help with that.") == "" and no.bare and no.rest() == ""
