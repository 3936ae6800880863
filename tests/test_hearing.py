"""The ears: the spoken language, what is kept of Whisper's words; and, with the real models
as the voice loop uses them, a quiet microphone, a telephone line and clips of hum and noise."""

from __future__ import annotations

import numpy as np
import pytest

from assistant_app.core.config import Config
from assistant_app.core.messages import Segment
from audio.hearing import heard_words, spoken_language
from bench.ear_clips import noise, peak_dbfs, telephone

RATE = 16000


@pytest.mark.parametrize(
    ("setting", "env", "expected"),
    [
        ("", {"LANG": "en_GB.UTF-8"}, "en"),
        ("", {"LANG": "de_DE.UTF-8"}, "de"),
        ("", {"LC_ALL": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}, "fr"),
        ("", {"LANG": "C.UTF-8"}, "en"),  # a locale that names no language
        ("", {"LANG": "POSIX"}, "en"),
        ("auto", {"LANG": "de_DE.UTF-8"}, None),  # detected on every clip
        ("DE", {"LANG": "en_US.UTF-8"}, "de"),
    ],
)
def test_the_spoken_language(monkeypatch, setting: str, env: dict, expected) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert spoken_language(setting) == expected


def test_what_is_kept_of_whisper_words() -> None:
    said = Segment(0.0, 1.5, "Add two and three.", 0.1, -0.3)
    invented = Segment(1.5, 2.0, "Thank you.", 0.9, -1.5)  # marked by Whisper as no speech
    assert heard_words([said, invented], 2.0) == "Add two and three."
    assert heard_words([Segment(0, 1, "Thank you.", 0.3, -0.5)], 1.0) == ""  # a stock invention
    assert heard_words([Segment(0, 3, "Thank you.", 0.3, -0.5)], 3.0) == "Thank you."
    assert heard_words([], 1.0) == ""


# -- with the real models -------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["voice loop", "transcribe"])
def ears(real_store, request):
    """What the voice loop's recogniser (Moonshine) or `assistant transcribe`'s (Whisper base)
    hears in what the default voice says."""
    from audio.stt import create_speech_to_text
    from audio.tts import create_text_to_speech
    from audio.wav import resample

    config = Config()
    voice = config.voice
    if request.param == "voice loop":
        config = config.replace(
            "stt", model=voice.stt_model or config.stt.model, beam_size=voice.stt_beam_size
        )
    stt = create_speech_to_text(config.stt, real_store)
    tts = create_text_to_speech(config.tts, real_store)

    def say(text: str) -> np.ndarray:
        from assistant_app.core.cancel import CancelToken

        chunks = list(tts.synthesize(text, CancelToken.never()))
        return resample(np.concatenate(chunks), tts.sample_rate_hz, RATE)

    def hear(audio: np.ndarray) -> str:
        clip = audio.astype(np.float32)
        return heard_words(stt.transcribe(clip, spoken_language("")).segments, len(clip) / RATE)

    return say, hear


def words(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split()}


@pytest.mark.models
def test_a_quiet_microphone_is_heard(ears) -> None:
    say, hear = ears
    quiet = peak_dbfs(say("Please convert twelve miles to kilometres."), -34)
    heard = words(hear(quiet))
    assert {"convert", "12", "miles"} <= heard and heard & {"kilometres", "kilometers"}, heard


@pytest.mark.models
def test_a_telephone_line_is_heard(ears) -> None:
    say, hear = ears
    heard = words(hear(telephone(say("Search my notes for the garden budget."))))
    assert {"search", "notes", "garden", "budget"} <= heard


@pytest.mark.models
@pytest.mark.parametrize("kind", ["hum", "pink noise", "fan", "clicks"])
def test_a_clip_without_speech_gives_no_words(ears, kind: str) -> None:
    _, hear = ears
    assert hear(noise(kind, 3 * RATE, np.random.default_rng(7))) == ""
