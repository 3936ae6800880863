"""A message that takes itself back ("Tell me a story. Never mind.") is answered "Okay." by
the kernel: the model is not asked, no tool runs, nothing is remembered; the same through both
doors. Requests that only contain such words are requests."""

from __future__ import annotations

import random

import pytest

from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.memory import Memory
from assistant_app.kernel.turn import OKAY, taken_back
from tests.fakes import FakeChatModel

REQUESTS = ["Tell me a story about a fox", "Use Python to sleep for 30 seconds and print done",
            "What is 83 times 65", "Remember that my locker code is 4417", "Draw a red boat",
            "Search my notes for the boiler", "Think carefully about the train times"]  # fmt: skip
LEADS = ["", "oh, ", "actually, ", "no, ", "okay ", "wait, ", "sorry, ", "please ", "no no, "]
CORES = ["never mind", "nevermind", "forget it", "forget about it", "stop", "stop it",
         "cancel that", "scratch that", "that's enough", "don't bother", "no need"]  # fmt: skip
# The same words inside a request: not taken back.
INSIDE = ["How do I make the dog {}?", "What does '{}' mean?", "Tell me when to {}",
          "Why do people say {} so often?", "I can't {} thinking.", "{} the timer?"]  # fmt: skip


@pytest.mark.parametrize("text", ["Stop.", "Stop, never mind.", "Never mind.", "Okay, stop.",
    "What's the weather. Actually, never mind.", "Tell me a story about a fox, never mind.",
    "No, that's enough.", "Wait, never-mind", "Stop it please"])  # fmt: skip
def test_taken_back(text: str) -> None:
    assert taken_back(text)


@pytest.mark.parametrize("text", ["How do I make it stop?", "Don't stop.", "Stop the timer.",
    "Never mind the weather, tell me a joke.", "Is that enough?", "Cancel my meeting at 3.",
    "Remind me to stop at the shop.", "Stop?", "Okay."])  # fmt: skip
def test_not_taken_back(text: str) -> None:
    assert not taken_back(text)


def test_made_up_messages() -> None:
    seed = random.SystemRandom().randrange(1_000_000)
    print("seed", seed)
    rng = random.Random(seed)
    for _ in range(300):
        request, core = rng.choice(REQUESTS), rng.choice(CORES)
        more = rng.choice(["", ", " + rng.choice(CORES)])
        tail = rng.choice(LEADS) + core + more + rng.choice(["", ".", "!", " please."])
        said = f"{request}{rng.choice(['. ', ', ', '! '])}{tail[0].upper()}{tail[1:]}"
        assert taken_back(said), (seed, said)
        assert not taken_back(request + rng.choice(["", ".", "?"])), (seed, request)
        inside = rng.choice(INSIDE).format(core)
        assert not taken_back(inside[0].upper() + inside[1:]), (seed, inside)


def test_the_kernel_says_okay_without_the_model_or_memory(tmp_path) -> None:
    model = FakeChatModel(["Sure."])
    memory = Memory(tmp_path / "memory.db")
    session = ChatSession(model, "Be brief.", memory=memory)
    said = "Remember that my locker code is 4417. Actually, never mind."
    assert "".join(session.stream(said)) == OKAY
    assert not model.requests and not memory.facts()
    assert [(m.role, m.content) for m in session.history] == [("user", said), ("assistant", OKAY)]
    assert "".join(session.stream("How are you?")) == "Sure."  # the next turn as usual
