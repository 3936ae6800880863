"""A reply that starts repeating itself is cut before the repeat is shown or kept."""

from __future__ import annotations

import random
import re

import pytest

from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.repeats import LoopGuard
from assistant_app.kernel.turn import ERROR_NOTE, RESULT_NOTE
from tests.fakes import FakeChatModel

STORY = (
    "Elsie kept the lighthouse on the point for forty years. Every night she climbed the "
    "stairs. The lamp turned and the ships passed safely. One winter a storm came. "
)
LOOP = "The waves crashed against the rocks below the tower. "


def streamed(text: str, rng: random.Random, notes: tuple[str, ...] = ()) -> tuple[str, LoopGuard]:
    """`text` pushed in random-sized pieces, as a model streams it; what was shown."""
    guard, shown, i = LoopGuard(notes), "", 0
    while i < len(text) and not guard.looping:
        n = rng.randint(1, 9)
        shown += guard.push(text[i : i + n])
        i += n
    return shown + guard.finish(), guard


@pytest.mark.parametrize("seed", range(5))
def test_a_sentence_said_again_is_never_shown(seed: int) -> None:
    shown, guard = streamed(STORY + LOOP * 6, random.Random(seed))
    assert guard.looping and shown == STORY + LOOP


@pytest.mark.parametrize("seed", range(5))
def test_an_ordinary_reply_streams_whole(seed: int) -> None:
    text = STORY + "He waited. The sea was calm. He waited. Then the ship came home. 1. 2. 1. 2. 1."
    shown, guard = streamed(text, random.Random(seed))
    assert not guard.looping and shown == text


def test_a_short_sentence_may_come_back_once_but_not_twice() -> None:
    shown, guard = streamed(
        "He said no. I asked why. He said no. I left. He said no. More", random.Random(1)
    )
    assert guard.looping and shown == "He said no. I asked why. He said no. I left. "


def test_a_repeat_that_ends_the_reply_is_not_shown() -> None:
    shown, guard = streamed(STORY + LOOP + LOOP.strip(), random.Random(2))
    assert guard.looping and shown == STORY + LOOP


def test_a_held_sentence_that_turns_out_different_is_shown() -> None:
    guard = LoopGuard()
    assert guard.push(LOOP) == LOOP
    assert guard.push("The waves crashed") == ""  # could be the same sentence again: held
    assert guard.push(" into the harbour.") == "The waves crashed into the harbour."
    assert not guard.looping


@pytest.mark.parametrize("seed", range(3))
def test_the_kernels_note_copied_into_a_reply_is_never_shown(seed: int) -> None:
    # Seen in bench/voice_tasks.py: the reply read the note after a failed call out loud, and
    # the next turn, reading it in the history, said it again with no tool called at all.
    apology = "I can't work out the sum of the squares because the tool failed. "
    copied = "If a tool can still help, call it again with a fix; otherwise, answer the user."
    shown, guard = streamed(apology + copied, random.Random(seed), (RESULT_NOTE, ERROR_NOTE))
    assert guard.looping and shown == apology
    # Its words said in a sentence of the reply's own are no copy; nor is "The tool failed."
    own = "The tool failed. If a tool can help you later, just ask me again. Now answer me."
    shown, guard = streamed(own, random.Random(seed), (RESULT_NOTE, ERROR_NOTE))
    assert not guard.looping and shown == own


def test_a_phrase_repeated_back_to_back_is_cut() -> None:
    shown, guard = streamed("Sure: " + "and the tide came in " * 12, random.Random(3))
    assert guard.looping and len(re.findall("tide", shown)) <= MIN_COPIES_SHOWN


MIN_COPIES_SHOWN = 4


def test_tables_and_rules_are_not_loops() -> None:
    text = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 6 + "-" * 80 + "\nDone."
    shown, guard = streamed(text, random.Random(0))
    assert not guard.looping and shown == text


def test_the_kernel_keeps_the_reply_up_to_the_loop() -> None:
    model = FakeChatModel([STORY + LOOP * 8])
    session = ChatSession(model, "s")
    answer = "".join(session.stream("Write a long story about a lighthouse keeper"))
    assert answer.strip() == (STORY + LOOP).strip()
    assert session.history[-1].content == (STORY + LOOP).strip()
