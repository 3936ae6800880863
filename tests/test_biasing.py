"""Words the ears expect: phrases taken from a prompt, the decoder nudged toward them, the
phrases a session expects, and the real Moonshine hearing "Use Python" it missed without."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from assistant_app.core.config import Config
from assistant_app.kernel.expected import UNITS, expected_words, names_in
from audio.biasing import GO_ON_BONUS, START_BONUS, PhraseBias, phrases_of

W = "\u2581"
VOCAB = [t.encode() for t in ["<unk>", "<s>", "</s>", f"{W}P", f"{W}Py", "thon", f"{W}the",
                              f"{W}pie", f"{W}Python", "s", f"{W}"]]  # fmt: skip


def test_a_prompt_gives_short_phrases_and_words() -> None:
    assert phrases_of("Use Python, kilograms, my notes; Dr Keller") == [
        "Use Python", "kilograms", "notes", "Keller"
    ]  # fmt: skip
    # A longer part, like a sentence of names, is taken word by word.
    assert phrases_of("Tools. Priya Marcus Ingrid Osaka") == ["Tools", "Priya", "Marcus", "Ingrid",
                                                              "Osaka"]  # fmt: skip
    assert phrases_of("") == []


def test_a_phrase_is_begun_by_two_letters_and_carried_on() -> None:
    bias = PhraseBias(VOCAB, ["python"])
    assert bias
    bias.begin()
    plain = np.zeros(len(VOCAB))
    nudged = bias.bonus(plain)
    # "▁Py" and "▁Python" begin it; a lone "▁P" or a bare space would split words apart.
    assert nudged[VOCAB.index(f"{W}Py".encode())] == START_BONUS
    assert nudged[VOCAB.index(f"{W}Python".encode())] == START_BONUS
    assert nudged[VOCAB.index(f"{W}P".encode())] == 0 and nudged[VOCAB.index(f"{W}".encode())] == 0
    assert nudged[VOCAB.index(b"thon")] == 0  # not before the phrase has begun
    bias.chose(VOCAB.index(f"{W}Py".encode()))
    assert bias.bonus(plain)[VOCAB.index(b"thon")] == GO_ON_BONUS
    bias.chose(VOCAB.index(f"{W}the".encode()))  # left the phrase: no more help for it
    assert bias.bonus(plain)[VOCAB.index(b"thon")] == 0
    assert not PhraseBias(VOCAB, [])


def test_a_reading_is_credited_for_each_phrase_it_says() -> None:
    bias = PhraseBias(VOCAB, phrases_of("Use Python, kilogram"))
    assert bias.count("use python to turn 3 Kilograms into pounds") == 2
    assert bias.count("you spy them to add") == 0


def test_names_are_the_words_never_written_in_lower_case() -> None:
    notes = ["# People\n\nMarta is my neighbour. The spare key: ask Marta or Keller.", "the end"]
    assert names_in(notes) == ["Marta", "People", "Keller"]
    assert names_in(notes, limit=1) == ["Marta"]


def test_a_session_expects_its_tools_units_and_the_names_in_its_notes(
    tmp_path, monkeypatch
) -> None:
    from assistant_app.kernel.session import build_session
    from assistant_app.storage.knowledge import KnowledgeIndex
    from assistant_app.storage.profiles import Profile
    from tests.fakes import FakeChatModel
    from tests.test_knowledge import HashEmbedder

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "people.md").write_text("# People\n\nOskar is my neighbour; his dish is soup.\n")
    index = KnowledgeIndex(tmp_path / "k.sqlite", HashEmbedder())
    index.add_folder(notes)
    index.refresh()
    session = build_session(
        Config(), FakeChatModel([]), Profile("Test"), tools=True, knowledge=index
    )
    words = expected_words(session).split(", ")
    assert words[:3] == ["Use Python", "Python", "plot"] and "notes" in words
    assert set(UNITS) <= set(words) and "kilogram" in words and "fahrenheit" in words
    assert "Oskar" in words and "People" in words and "neighbour" not in words
    assert index.texts() is index.texts()  # unchanged notes are read once, not every turn
    (notes / "more.md").write_text("Ask Priya about the garden.\n")
    index.refresh()
    assert "Priya" in expected_words(session).split(", ")
    session.memory.capture("Remember that my sister Ingrid lives in Bergen.")
    assert {"Ingrid", "Bergen"} <= set(expected_words(session).split(", "))
    plain = build_session(Config(), FakeChatModel([]), Profile("Test"), tools=False)
    assert "Python" not in expected_words(plain) and "kilogram" not in expected_words(plain)


# -- with the real model --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moonshine(real_store):
    from audio.stt import create_speech_to_text

    config = Config().replace("stt", model="moonshine-base-en", language="en", beam_size=1)
    return create_speech_to_text(config.stt, real_store)  # greedy, as voice turns hear


def espeak(text: str, voice: str, wpm: int, tmp_path) -> np.ndarray:  # noqa: ANN001
    from audio.wav import read_audio

    assert shutil.which("espeak-ng"), "scripts/setup installs espeak-ng"
    path = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
    return read_audio(path)


@pytest.mark.models
@pytest.mark.parametrize(
    ("voice", "wpm", "said", "missed", "expected"),
    [
        ("en-gb", 156, "How many kilograms is 47 pounds?", "kilograms", "kilogram"),
        ("en-029", 190, "Use Python to find the average of 28, 49 and 10.", "python",
         "Use Python"),
    ],
)  # fmt: skip
def test_moonshine_hears_an_expected_word_it_missed(
    moonshine, tmp_path, voice, wpm, said, missed, expected
) -> None:
    audio = espeak(said, voice, wpm, tmp_path)
    assert missed not in moonshine.transcribe(audio).text.lower()  # a robotic voice, misheard
    vocabulary = f"{expected}, Python, plot, {', '.join(UNITS)}, Marta, Keller"
    assert moonshine.transcribe(audio, None, vocabulary).text.rstrip(".?") == said.rstrip(".?")


@pytest.mark.models
@pytest.mark.parametrize(
    "said",
    ["What is the capital of Australia?", "Set a timer for 14 minutes and tell me when it ends."],
)
def test_expected_words_are_not_written_into_speech_without_them(moonshine, tmp_path, said) -> None:
    audio = espeak(said, "en-us", 169, tmp_path)
    vocabulary = f"Use Python, Python, plot, notes, {', '.join(UNITS)}, Marta, Keller, Austin"
    assert moonshine.transcribe(audio, None, vocabulary).text == moonshine.transcribe(audio).text
    assert moonshine.transcribe(audio).text == said
