"""One brain: spoken turns are turns of the kernel's session, tools, permissions and all."""

from __future__ import annotations

import threading

import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ReplyDelta, ToolCall
from assistant_app.security.audit import ToolUse
from assistant_app.tools.builtin import default_tools
from assistant_app.tools.toolbox import ToolBox, tool
from assistant_app.voice import spoken
from audio.echo import PassthroughEchoCanceller
from tests.test_tools import ScriptedToolModel
from tests.voice_harness import Harness


def test_a_spoken_sum_is_answered_at_once_in_the_kernels_words(make) -> None:  # noqa: F811
    # The question spells the sum out: the kernel makes the call and says the result itself,
    # with no progress line and no wait for the model.
    model = ScriptedToolModel([])
    h: Harness = make([], ["What is 1234 times 5678?"], model=model, tools=ToolBox(default_tools()))
    phrases: list[str] = []  # progress lines and questions said before the reply
    h.loop._say = lambda phrase, turn: phrases.append(phrase)
    h.say(30)
    h.play_until("reply_done")
    said = [e.text for e in h.kinds("sentence")]
    assert said == ["1,234 times 5,678 is 7,006,652."] and phrases == []
    assert [m.role for m in h.session.history] == ["user", "assistant", "tool", "assistant"]
    assert h.session.history[2].content == "1234 * 5678 = 7006652"
    assert h.session.history[-1].content == "1,234 times 5,678 is 7,006,652."
    assert model.seen == []  # the model was not asked
    # Typed, the same question is answered by the model, from the same result.
    model.steps.append([ReplyDelta(text="It is 7,006,652.")])
    assert "".join(h.session.stream("What is 1234 times 5678?")) == "It is 7,006,652."


def test_a_spoken_sum_the_model_calls_comes_after_a_progress_line(make) -> None:  # noqa: F811
    call = ReplyDelta(tool_call=ToolCall("calculator", {"expression": "85 * 0.19"}))
    model = ScriptedToolModel([[call], [ReplyDelta(text="The VAT is 16.15 euros.")]])
    vat = "What is 19% VAT on 85 euros?"
    h: Harness = make([], [vat], model=model, tools=ToolBox(default_tools()))
    h.say(30)
    h.play_until("reply_done")
    kinds = [e.kind for e in h.events]
    assert kinds.index("first_audio") < kinds.index("answer_audio")  # the progress line first
    assert [m.role for m in h.session.history] == ["user", "assistant", "tool", "assistant"]
    assert h.session.history[2].content == "85 * 0.19 = 16.15"
    assert h.kinds("reply_done")[0].text == "The VAT is 16.15 euros."
    asked = model.seen[0]
    assert asked[-1].role == "user" and asked[-1].prompt == vat
    # Written for the ear: the turn's own system message opens with the style.
    assert asked[-2].role == "system" and asked[-2].content.startswith(spoken.STYLE)
    assert spoken.STYLE not in model.seen[0][0].content  # the instructions are shared with typing
    assert model.warmed == 1  # the prompt's fixed start was evaluated before the first turn


def test_a_spoken_notes_question_says_so_while_the_passages_are_read(make) -> None:  # noqa: F811
    model = ScriptedToolModel([[ReplyDelta(text="On Friday at 08:15.")]])
    h: Harness = make([], ["When is the dentist?"], model=model)
    h.session.retrieve = lambda text: [("notes/dentist.md:1", "Dentist: Friday 08:15, RT-901.")]
    phrases: list[str] = []
    h.loop._say = lambda phrase, turn: phrases.append(phrase)
    h.say(30)
    h.play_until("reply_done")
    assert len(phrases) == 1 and phrases[0] in spoken.PROGRESS["search_files"]
    assert "".join(e.text for e in h.kinds("text")).endswith("(Source: notes/dentist.md:1)")
    assert [e.text for e in h.kinds("sentence")] == ["On Friday at 08:15."]  # not read out


def test_words_the_ears_were_unsure_of_come_with_a_word_to_the_model(make) -> None:  # noqa: F811
    misheard = ("How far is man revamped?", -0.9)
    h: Harness = make(["Sorry, could you say that again?", "Nairobi."], [misheard, "Kenya?"])
    for turn in (1, 2):
        h.say(30)
        h.play_until("reply_done", turn)
    first, second = h.chat.requests
    # After the words: what comes before is the same as on any turn, evaluated while they spoke.
    assert first[-1].prompt == f"How far is man revamped?\n\n({spoken.UNSURE})"
    assert spoken.UNSURE not in first[-2].content and second[-1].prompt == "Kenya?"
    assert first[-2].content.startswith(h.loop.style)  # the turn's own system message
    assert first[-1].content == "How far is man revamped?"  # the history keeps only the words


def test_code_is_shown_in_the_window_but_not_read_aloud(make) -> None:  # noqa: F811
    reply = "Here is the code.\n```python\nprint(42)\n```\nIt prints 42."
    h: Harness = make([reply], ["Show me code that prints 42."])
    h.say(30)
    h.play_until("reply_done")
    said = [e.text for e in h.kinds("sentence")]
    assert said == ["Here is the code.", "It prints 42."]
    assert "".join(e.text for e in h.kinds("text")) == reply  # the window gets it all
    assert h.session.history[-1].content == reply  # played to the end: kept as written


def test_typed_and_spoken_turns_share_one_conversation(make) -> None:  # noqa: F811
    h: Harness = make(["Hello Ada.", "Your name is Ada."], ["What is my name?"])
    assert "".join(h.session.stream("Hi, I am Ada.")) == "Hello Ada."
    h.say(30)
    h.play_until("reply_done")
    assert [(m.role, m.content) for m in h.session.history] == [
        ("user", "Hi, I am Ada."),
        ("assistant", "Hello Ada."),
        ("user", "What is my name?"),
        ("assistant", "Your name is Ada."),
    ]
    spoken_prompt = h.chat.requests[1]
    assert [m.content for m in spoken_prompt[1:3]] == ["Hi, I am Ada.", "Hello Ada."]
    assert spoken_prompt[3].content.startswith(spoken.STYLE)  # how to answer for the ear
    assert spoken_prompt[4].content == "What is my name?"


def test_barge_in_during_a_tool_call_cancels_the_tool(make) -> None:  # noqa: F811
    started, stopped = threading.Event(), threading.Event()

    @tool
    def slow_count(n: int, cancel: CancelToken) -> str:
        """Counts slowly.

        n: how far
        """
        started.set()
        while not cancel.cancelled:
            started.wait(0.01)
        stopped.set()
        return "stopped at 3"

    assert "cancel" not in slow_count.parameters["properties"]  # the model never sees it
    model = ScriptedToolModel([[ReplyDelta(tool_call=ToolCall("slow_count", {"n": 1000}))], []])
    h: Harness = make(
        [],
        ["Count to a thousand.", "Never mind."],
        echo=PassthroughEchoCanceller(),  # a headset
        model=model,
        tools=ToolBox([slow_count]),
    )
    h.say(30)
    assert started.wait(5)
    h.play_until("first_audio")  # "One moment." while the tool runs
    h.say(30)  # the user talks over it
    h.wait_for("barge_in")
    assert stopped.wait(5)  # the tool saw the turn end
    h.play_until("reply_done")
    roles = [(m.role, m.content) for m in h.session.history]
    assert roles[0] == ("user", "Count to a thousand.")
    assert ("tool", "stopped at 3") in roles  # a tool result survives the interruption
    assert roles[-2:] == [("user", "Never mind."), ("assistant", "Okay.")]  # not the model's


@pytest.mark.parametrize("permission", ["allow", "ask"])
def test_a_spoken_python_request_says_so_before_the_code_is_written(make, permission) -> None:  # noqa: F811
    @tool(permission=permission)
    def python(code: str) -> str:
        """Runs code.

        code: the program
        """
        return "stdout:\n285"

    call = ToolCall("python", {"code": "print(sum(i * i for i in range(1, 10)))"})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="It is 285.")]])
    asked = "Use Python to add up the squares of 1 to 9."
    h: Harness = make([], [asked, "No."], model=model, tools=ToolBox([python]))
    phrases: list[str] = []
    h.loop._say = lambda phrase, turn: phrases.append(phrase)
    before_writing: list[list[str]] = []  # what had been said as the model was asked
    write = model.stream_reply
    model.stream_reply = lambda *a, **k: (before_writing.append(list(phrases)), write(*a, **k))[1]
    h.say(30)
    if permission == "ask":  # a yes is asked first: "Let me run that." would come too soon
        h.wait_for("permission")
        assert before_writing[0] == []
        h.say(30)
    h.play_until("reply_done")
    if permission == "allow":  # said at once, not after the ~5 s the code takes to write
        assert len(before_writing[0]) == 1 and before_writing[0][0] in spoken.PROGRESS["python"]
        assert phrases == before_writing[0]  # once a turn


def asking_harness(build, heard: list[str]) -> tuple[Harness, list[str], list[ToolUse]]:  # noqa: ANN001
    ran: list[str] = []

    @tool(permission="ask", sensitive=True)
    def python(code: str) -> str:
        """Runs code.

        code: the program
        """
        ran.append(code)
        return "stdout:\n4"

    call = ToolCall("python", {"code": "print(2+2)"})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="Done.")]])
    h: Harness = build([], heard, model=model, tools=ToolBox([python]))
    audits: list[ToolUse] = []
    h.session.on_audit = audits.append
    return h, ran, audits


@pytest.mark.parametrize(
    ("answer", "runs"), [("No, don't.", False), ("Yes please.", True), ("Hmm, maybe.", False)]
)
def test_a_permission_is_asked_aloud_and_answered_by_voice(make, answer, runs) -> None:  # noqa: F811
    h, ran, audits = asking_harness(make, ["Run the code.", answer])
    h.say(30)
    question = h.wait_for("permission")
    assert question.text == spoken.question("python")
    h.play_until("first_audio")
    while h.loop.playback.playing:  # the question is spoken to the end
        h.play(480)
    h.say(30)  # the answer: part of the same turn, not a new one
    h.play_until("reply_done")
    assert h.kinds("permission_answered")[0].text == ("yes" if runs else "no")
    assert bool(ran) is runs
    assert [a.decision for a in audits] == ["asked-yes" if runs else "asked-no"]
    assert h.kinds("barge_in") == [] and len(h.kinds("end_of_speech")) == 1
    users = [m.content for m in h.session.history if m.role == "user"]
    assert users == ["Run the code."]


def test_silence_after_the_question_means_no(make) -> None:  # noqa: F811
    h, ran, audits = asking_harness(make, ["Run the code."])
    h.loop.asking.silence_s = 0.2
    h.say(30)
    h.play_until("permission_answered", timeout=10)
    h.play_until("reply_done")
    assert ran == [] and [a.decision for a in audits] == ["asked-no"]
    assert "did not allow" in h.session.history[2].content


def test_the_window_buttons_answer_a_spoken_question(make) -> None:  # noqa: F811
    h, ran, _ = asking_harness(make, ["Run the code."])
    shown = []
    h.loop.asking.on_permission = shown.append
    h.say(30)
    h.wait_for("permission")
    h.loop.answer_permission(True)
    h.play_until("reply_done")
    assert ran == ["print(2+2)"] and shown[0].tool == "python"


def test_speech_shaping() -> None:
    assert spoken.for_the_ear("(Source: notes/dentist.md:3-4)") == ""
    assert spoken.for_the_ear("(attached: /home/a/plot.png)") == "I've put it in the window."
    assert spoken.for_the_ear("(ran it: stdout:\n42)") == "The output is in the window."
    assert spoken.for_the_ear("(ran it: 42)") == "It gives 42."
    assert "window" in spoken.for_the_ear("Saved to /tmp/out/plot.png now.")
    assert spoken.for_the_ear("95*18 = 1710") == "95 times 18 is 1710"
    assert spoken.for_the_ear("Due on 3/4, call 555-1234.") == "Due on 3/4, call 555-1234."
    assert spoken.answer("Yes, go ahead.") is True
    assert spoken.answer("No.") is False and spoken.answer("um") is None
    assert spoken.answer("yes no") is None
    assert spoken.progress_line("calculator", 0) != spoken.progress_line("calculator", 1)
