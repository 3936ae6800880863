"""The voice loop's logic with fake engines: turns, streaming, barge-in, modes, guards."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from audio.echo import PassthroughEchoCanceller
from tests.fakes import FakeChatModel, FakeSpeechToText
from tests.voice_harness import BLOCK


def test_a_spoken_turn_is_answered_sentence_by_sentence(make) -> None:
    h = make(["Paris is the capital. It is lovely."], ["What is the capital of France?"])
    h.say(30)
    h.play_until("reply_done")
    order = [e.kind for e in h.events]
    assert (
        order.index("end_of_speech")
        < order.index("transcript")
        < order.index("first_token")
        < order.index("first_sentence")
        < order.index("first_audio")
        < order.index("reply_done")
    )
    assert h.kinds("first_sentence")[0].text == "Paris is the capital."
    assert [(m.role, m.content) for m in h.session.history] == [
        ("user", "What is the capital of France?"),
        ("assistant", "Paris is the capital. It is lovely."),
    ]
    assert h.loop.wait_idle(1)


def test_barge_in_stops_speech_and_history_keeps_only_what_was_heard(make) -> None:
    reply = "one two three four five six seven eight. Nine ten eleven twelve."
    h = make(
        [reply, "Sure."],
        ["Count for me.", "Stop, that is enough."],
        echo=PassthroughEchoCanceller(),
    )  # a headset
    h.say(30)
    h.play_until("first_audio")  # the read that started the chunk took 480 samples
    h.play(3520)  # 4,000 of the first sentence's 8,000 samples: four of its eight words
    h.say(30)  # the user talks over the assistant
    h.wait_for("barge_in")
    assert not h.loop.playback.playing  # stopped at once, queued speech dropped
    h.wait_for("transcript", count=2)
    h.play_until("reply_done")  # only the second turn finishes: the first was cut off
    assert len(h.kinds("reply_done")) == 1
    history = [(m.role, m.content) for m in h.session.history]
    assert history[0] == ("user", "Count for me.")
    assert history[1][0] == "assistant"
    assert history[1][1].split() == ["one", "two", "three", "four"]  # heard, nothing more
    assert history[2:] == [("user", "Stop, that is enough."), ("assistant", "Sure.")]


def test_half_duplex_ignores_the_microphone_while_speaking(make) -> None:
    h = make(["A long answer with many words in it for a while."], ["Tell me something."])
    h.say(30)
    h.play_until("first_audio")
    h.say(30)  # the assistant's own voice in the microphone, no echo canceller
    h.play_until("reply_done")
    assert h.kinds("barge_in") == [] and len(h.kinds("end_of_speech")) == 1


def test_push_to_talk_records_only_while_pressed(make) -> None:
    h = make(["Yes."], ["Is this on?"])
    h.loop.set_mode("push-to-talk")
    h.say(30)  # ignored: nothing pressed
    h.loop.push_to_talk(True)
    h.say(10, then_quiet=0)
    h.loop.push_to_talk(False)
    h.play_until("reply_done")
    assert len(h.stt.heard) == 1 and h.stt.heard[0] == 10 * BLOCK


def test_muted_microphone_makes_no_turn(make) -> None:
    h = make([], [])
    h.loop.set_muted(True)
    h.say(40)
    h.loop.set_muted(False)
    h.say(0, then_quiet=5)
    h.loop.stop()
    assert h.kinds("speech_started") == [] and h.kinds("end_of_speech") == []


def test_whisper_inventions_on_short_noise_are_dropped(make) -> None:
    h = make([], ["Thank you."])
    h.say(12)
    h.wait_for("dropped")
    h.wait_for("reply_done")
    assert h.chat.requests == []


def test_dead_microphone_gets_the_permission_message(make) -> None:
    h = make([], [])
    for _ in range(70):
        h.t += BLOCK / 16000
        h.loop.hear(np.zeros(BLOCK, np.float32), h.t)
    error = h.wait_for("mic_silent")
    assert "microphone" in error.text.lower() and "permission" in error.text.lower()


def test_the_ears_are_told_the_words_to_expect_when_they_weigh_them(make) -> None:
    from assistant_app.tools.builtin import default_tools
    from assistant_app.tools.toolbox import ToolBox

    h = make(["Sure.", "Fine."], ["Convert 3 pounds to kilograms.", "And now?"],
             tools=ToolBox(default_tools()))  # fmt: skip
    assert h.loop.wait_ready(5)
    h.say(30)
    h.play_until("reply_done")
    assert h.stt.prompts == [""]  # Whisper is not told: it would write the words in
    h.stt.expects_words = True  # Moonshine weighs them (audio/biasing.py)
    h.say(30)
    h.play_until("reply_done", 2)
    assert "kilogram" in h.stt.prompts[1].split(", ")


class Prefilling(FakeChatModel):
    """Records what it was asked to evaluate ahead: (messages, words, whole)."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.prefilled: list[tuple[list, str, bool]] = []

    def prefill(self, messages, tools, words="", whole=False) -> int:  # noqa: ANN001
        self.prefilled.append((list(messages), words, whole))
        return 0


def test_the_next_turn_start_is_evaluated_while_the_user_speaks(make) -> None:
    model = Prefilling(["Hello.", "Fine, thanks."])
    h = make([], ["Hello there.", "How are you?"], model=model)
    assert h.loop.wait_ready(5)
    h.say(30)
    h.play_until("reply_done")
    # Once the reply has been heard, the next turn's start is read while the user thinks.
    deadline = time.monotonic() + 5

    def starts() -> list[list]:
        return [messages for messages, words, _ in model.prefilled if not words]

    def after_reply() -> list[list]:
        return [m for m in starts() if any(x.content == "Hello." for x in m)]

    while not after_reply():
        assert time.monotonic() < deadline, model.prefilled
        time.sleep(0.01)
    h.say(30)
    h.play_until("reply_done", 2)
    # As the first turn began to be spoken (a busy machine may fold that into the next), then
    # after it (and perhaps as the second began, and its words at the pause).
    first, second = starts()[0], after_reply()[0]
    # Up to the user's words: the instructions, the history, then how to answer for the ear.
    assert first[-1].role == "system" and first[-1].content == h.loop.style
    assert [m.content for m in second if m.role in ("user", "assistant")] == [
        "Hello there.", "Hello."
    ]  # fmt: skip
    # The turn's prompt starts exactly so: the model reads only the words after it.
    asked = model.requests[-1]
    assert [(m.role, m.prompt, m.context) for m in asked[: len(second)]] == [
        (m.role, m.prompt, m.context) for m in second
    ]


class SlowPrefilling(Prefilling):
    """Evaluates ahead until told to give way (as a long history read on two cores)."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.reading = threading.Event()
        self.halted = threading.Event()

    def prefill(self, messages, tools, words="", whole=False) -> int:  # noqa: ANN001
        self.reading.set()
        self.halted.wait(30)
        return super().prefill(messages, tools, words, whole)

    def give_way(self) -> None:
        self.halted.set()


def test_stopping_the_voice_does_not_wait_for_a_read_ahead(make) -> None:
    model = SlowPrefilling(["Hello."])
    h = make([], ["Hello there."], model=model)
    assert h.loop.wait_ready(5)
    h.say(30)
    assert model.reading.wait(5)  # the turn's start is being read
    h.loop.stop(timeout=5)
    assert model.halted.is_set()
    assert not any(t.is_alive() for t in (h.loop._readying, *h.loop._stages))


@pytest.mark.parametrize("logprob", [-0.1, -0.9], ids=["sure", "unsure"])
def test_the_words_so_far_are_read_ahead_while_the_user_speaks(make, logprob: float) -> None:
    from assistant_app.core.messages import Segment, Transcript
    from assistant_app.voice.spoken import UNSURE
    from audio.endpoint import TurnDetector

    class Growing(FakeSpeechToText):
        """More words for longer audio, as a recogniser hears more of a sentence."""

        def transcribe(self, audio, language=None, prompt=""):  # noqa: ANN001, ANN201
            self.heard.append(len(audio))
            text = "How are you doing today?" if len(audio) > 20 * 512 else "How are you doing"
            segment = Segment(0.0, len(audio) / 16000, text, 0.0, logprob)
            return Transcript(text, "en", (segment,))

    model = Prefilling(["Fine, thanks."])
    h = make([], [], model=model, stt=Growing([]))
    h.loop.set_detector(TurnDetector(end_silence_ms=320, start_ms=96, read_ahead_ms=320))
    assert h.loop.wait_ready(5)

    def read(words: str, whole: bool) -> list:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = [m for m, w, all_ in model.prefilled if (w, all_) == (words, whole)]
            if found:
                return found[0]
            time.sleep(0.01)
        raise AssertionError(model.prefilled)

    h.say(16, then_quiet=0)  # half a second of speech: the words so far, less the last one
    read("How are you", False)
    h.say(10, then_quiet=4)  # the end of speech, and the start of a pause: all the words
    # Unsure of them, the ears add a word to the model after them: what came before stays.
    words = "How are you doing today?" + (f"\n\n({UNSURE})" if logprob < -0.5 else "")
    ahead = read(words, True)
    h.say(0, then_quiet=12)
    h.play_until("reply_done")
    # The turn's prompt is what was read ahead, then the words: the model reads nothing new.
    asked = model.requests[-1]
    assert [(m.role, m.prompt) for m in asked] == [
        *[(m.role, m.prompt) for m in ahead], ("user", words)
    ]  # fmt: skip
    assert h.session.history[-2].content == "How are you doing today?"  # kept: the words
