"""The end of a spoken turn decided by meaning (fakes): a finished thought is answered at
once, an unfinished one waits through the pause and is answered whole, fillers alone are no
turn; and the detector's side of it."""

from __future__ import annotations

import time

import numpy as np

from assistant_app.core.messages import Utterance
from assistant_app.voice.stages import nothing_to_judge
from audio.echo import PassthroughEchoCanceller
from audio.endpoint import TurnDetector
from models.end_of_turn import MAYBE_WAIT_S, Verdict, ends_on_a_filler, only_fillers
from tests.voice_harness import QUIET, SPEECH


class FakeJudge:
    """Finished unless the words end on "and", "of" or a filler; records what it judged."""

    def __init__(self) -> None:
        self.judged: list[str] = []

    def judge(self, text: str) -> Verdict:
        self.judged.append(text)
        last = text.rstrip(".?!, ").split()[-1].lower()
        unfinished = last in ("and", "of") or ends_on_a_filler(text)
        return Verdict(0.0 if unfinished else 0.6, 0.001)


def test_a_finished_thought_is_answered_without_waiting_for_the_cap(make) -> None:
    judge = FakeJudge()
    h = make(["Paris."], ["What is the capital of France?"], judge=judge)
    h.say(30, then_quiet=10)  # 320 ms of silence, far below the 2.5 s cap; then nothing more
    h.play_until("reply_done")
    assert judge.judged == ["What is the capital of France?"]
    assert [m.content for m in h.session.history] == ["What is the capital of France?", "Paris."]


def test_an_unfinished_thought_waits_through_the_pause(make) -> None:
    judge = FakeJudge()
    first, whole = "Can you add nineteen and", "Can you add nineteen and twenty-three?"
    h = make(["42."], [first, whole], judge=judge)
    h.say(25, then_quiet=25)  # an 800 ms pause mid-sentence
    deadline = time.monotonic() + 5
    while not judge.judged and time.monotonic() < deadline:
        time.sleep(0.01)
    assert judge.judged == [first] and not h.kinds("end_of_speech")  # still listening
    h.say(15, then_quiet=10)
    h.play_until("reply_done")
    assert [e.text for e in h.kinds("transcript")] == [whole]  # one turn, all of it
    assert [m.content for m in h.session.history] == [whole, "42."]


class MaybeJudge:
    """Every thought may be finished, as "Can you recommend a good book" is judged."""

    def judge(self, text: str) -> Verdict:
        return Verdict(0.004, 0.001)


def test_a_thought_that_may_be_finished_ends_after_a_shorter_silence(make) -> None:
    h = make(["Try Dune."], ["Can you recommend a good book?"], judge=MaybeJudge())
    h.say(25, then_quiet=20)  # 0.64 s of silence: not yet
    time.sleep(0.3)
    assert not h.kinds("end_of_speech")
    h.say(0, then_quiet=20)  # 1.28 s in all: more than MAYBE_WAIT_S, less than the 2.5 s cap
    h.play_until("reply_done")
    assert [m.content for m in h.session.history] == ["Can you recommend a good book?", "Try Dune."]


def test_verdicts_say_how_long_the_silence_must_be() -> None:
    assert Verdict(0.6, 0.0).wait_s() == 0.0
    assert Verdict(0.004, 0.0).wait_s() == MAYBE_WAIT_S
    assert Verdict(0.00002, 0.0).wait_s() is None


def test_think_carefully_waits_for_the_question(make) -> None:
    # "Think carefully." is a whole sentence the judge would call finished, but the question
    # comes after it: answered alone, its spoken "Let me think…" covered the question.
    judge = FakeJudge()
    first, whole = "Think carefully.", "Think carefully. What is 22 times 24?"
    h = make(["528."], [first, whole], judge=judge)
    h.say(25, then_quiet=25)
    deadline = time.monotonic() + 5
    while len(h.stt.heard) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert judge.judged == [] and not h.kinds("end_of_speech")  # still listening
    h.say(15, then_quiet=10)
    h.play_until("reply_done")
    assert [e.text for e in h.kinds("transcript")] == [whole]


def test_fillers_alone_are_no_turn(make) -> None:
    h = make(["Hello."], ["Um.", "Um.", "Hello there."])
    h.say(12)
    h.wait_for("dropped")
    assert not h.kinds("transcript") and h.session.history == []


def test_filler_words() -> None:
    assert ends_on_a_filler("Can you add nineteen and, um,") and not ends_on_a_filler("Add 2.")
    assert only_fillers("Um. Uh, hmm.") and not only_fillers("Um, add two.")
    assert not only_fillers("")
    assert nothing_to_judge("Um, uh.") and nothing_to_judge("") and nothing_to_judge("Think hard.")
    assert not nothing_to_judge("Think carefully. What is 2 times 3?")
    assert not nothing_to_judge("I think so.")


def test_the_detector_ends_a_turn_when_told_in_the_same_pause() -> None:
    detector = TurnDetector(end_silence_ms=2500, start_ms=96)
    t, tentative = 0.0, None
    for block in [SPEECH] * 20 + [QUIET] * 5:
        t += 512 / 16000
        for event in detector.push(block, 1.0 if block is SPEECH else 0.0, t):
            if isinstance(event, Utterance) and event.tentative:
                tentative = event
    assert tentative is not None and detector.in_speech
    ended = detector.end_after(tentative.end_s)
    assert ended is not None and not ended.tentative and not detector.in_speech
    assert np.array_equal(ended.audio, tentative.audio)  # its transcript is reused
    assert detector.end_after(tentative.end_s) is None  # already ended


def test_a_stale_judgement_does_not_end_a_later_pause() -> None:
    detector = TurnDetector(end_silence_ms=2500, start_ms=96)
    t, tentatives = 0.0, []
    for block in [SPEECH] * 20 + [QUIET] * 5 + [SPEECH] * 10 + [QUIET] * 5:
        t += 512 / 16000
        for event in detector.push(block, 1.0 if block is SPEECH else 0.0, t):
            if isinstance(event, Utterance) and event.tentative:
                tentatives.append(event)
    assert len(tentatives) == 2
    assert detector.end_after(tentatives[0].end_s) is None and detector.in_speech
    assert detector.end_after(tentatives[1].end_s) is not None


STORY = "Tell me a story about a fox."


def _story(make, replies: list[str]):
    """The user says "Tell me a story", which sounds finished, and then "about a fox."; full
    duplex (an echo canceller), so the microphone listens while the reply is queued. The pause
    after the rest is heard with the words before it: one transcript serves it and the turn."""
    return make(replies, ["Tell me a story", STORY],
                echo=PassthroughEchoCanceller(), judge=FakeJudge())  # fmt: skip


def _went_on(h, reply: str) -> None:
    """The second part continued the turn: the whole request was answered, once."""
    h.wait_for("continued")
    h.play_until("reply_done")
    assert h.kinds("transcript")[-1].text == STORY
    assert [m.content for m in h.session.history] == [STORY, reply]


def test_a_misjudged_pause_is_repaired(make) -> None:
    h = _story(make, ["Once upon a time.", "Once upon a time."])
    h.say(20, then_quiet=10)
    h.wait_for("end_of_speech")
    h.say(15, then_quiet=10)  # 0.3 s later, before any of the answer was heard
    _went_on(h, "Once upon a time.")
    # Its pause was transcribed with the words before it, and that transcript was the turn's.
    first, both = h.stt.heard
    assert both > first


def test_speech_resumed_over_the_answers_first_words_continues_the_turn(make) -> None:
    # The user had not finished; the answer to the fragment began to play and they talked on
    # over it: it stops, is not kept, and the whole is answered.
    h = _story(make, ["Once upon a time. There was a hare.", "A fox lived by the sea."])
    h.say(20, then_quiet=10)
    h.play_until("answer_audio")  # its first words reach the speaker
    h.say(15, then_quiet=10)  # 0.3 s after the end of the words, the rest of the request
    _went_on(h, "A fox lived by the sea.")


def test_a_pause_of_nearly_two_seconds_after_the_words_goes_on(make) -> None:
    # The turn was ended 0.13 s after the words (4 blocks); speech resumes 1.82 s after the
    # words (57 blocks), before the answer was heard: it goes on. (The fragment may or may not
    # have reached the model by then: the same reply either way.)
    h = _story(make, ["A fox lived by the sea."] * 2)
    h.say(20, then_quiet=4)
    h.wait_for("end_of_speech")
    h.say(0, then_quiet=53)
    h.say(15, then_quiet=10)
    _went_on(h, "A fox lived by the sea.")


def test_speech_resumed_more_than_two_seconds_after_the_words_is_a_new_turn(make) -> None:
    # 2.24 s after the words (70 blocks), its answer not yet heard: a request of its own.
    h = _story(make, ["Once upon a time.", "A fox lived by the sea."])
    h.say(20, then_quiet=4)
    h.wait_for("end_of_speech")
    h.say(0, then_quiet=66)
    h.say(15, then_quiet=10)
    h.wait_for("end_of_speech", count=2)
    assert not h.kinds("continued")


def test_never_mind_said_over_the_answers_first_words_takes_the_request_back(make) -> None:
    # "Tell me a story … never mind.": the story stops, and the whole is answered "Okay.",
    # with no model turn for it.
    whole = "Tell me a story, never mind."
    h = make(["Once upon a time. There was a hare."], ["Tell me a story", whole],
             echo=PassthroughEchoCanceller(), judge=FakeJudge())  # fmt: skip
    h.say(20, then_quiet=10)
    h.play_until("answer_audio")
    h.say(15, then_quiet=10)
    h.wait_for("continued")
    h.play_until("reply_done")
    assert [m.content for m in h.session.history] == [whole, "Okay."]
    assert len(h.chat.requests) == 1  # the story's, stopped


def test_speech_after_the_answer_was_heard_is_a_new_turn(make) -> None:
    h = make(["Paris.", "Two."], ["What is the capital of France?", "And Spain?"],
             echo=PassthroughEchoCanceller(), judge=FakeJudge())  # fmt: skip
    h.say(20, then_quiet=10)
    h.play_until("reply_done")
    h.say(15, then_quiet=10)
    h.play_until("reply_done", count=2)
    assert not h.kinds("continued")
    assert [m.content for m in h.session.history][::2] == [
        "What is the capital of France?",
        "And Spain?",
    ]


def test_a_sentence_ending_on_so_or_like_is_not_a_filler() -> None:
    assert not ends_on_a_filler("I think so.") and not ends_on_a_filler("Do you like it like")


class _Mic:
    """A detector fed blocks of speech or quiet, its stream clock kept."""

    def __init__(self) -> None:
        self.detector, self.t = TurnDetector(end_silence_ms=2500, start_ms=96), 0.0

    def feed(self, blocks: list) -> tuple[list[Utterance], list[Utterance]]:
        """(tentative, final) utterances the blocks caused."""
        tentative, final = [], []
        for block in blocks:
            self.t += 512 / 16000
            for event in self.detector.push(block, 1.0 if block is SPEECH else 0.0, self.t):
                if isinstance(event, Utterance):
                    (tentative if event.tentative else final).append(event)
        return tentative, final


def test_a_pause_judged_maybe_finished_ends_after_its_shorter_silence() -> None:
    mic = _Mic()
    (tentative,), _ = mic.feed([SPEECH] * 20 + [QUIET] * 5)
    assert mic.detector.end_after(tentative.end_s, 0.5) is None and mic.detector.in_speech
    _, final = mic.feed([QUIET] * 9)  # 14 frames: 0.45 s of silence
    assert not final and mic.detector.in_speech
    _, final = mic.feed([QUIET] * 2)
    assert len(final) == 1 and np.array_equal(final[0].audio, tentative.audio)
    assert not mic.detector.in_speech


def test_speech_resuming_cancels_the_shorter_silence() -> None:
    mic = _Mic()
    (tentative,), _ = mic.feed([SPEECH] * 20 + [QUIET] * 5)
    assert mic.detector.end_after(tentative.end_s, 0.5) is None
    _, final = mic.feed([SPEECH] * 10 + [QUIET] * 30)  # 0.96 s: the cap's 2.5 s rules
    assert not final and mic.detector.in_speech
