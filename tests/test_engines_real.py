"""The real default models through our engines: hearing, speaking, VAD, chat, embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config
from assistant_app.core.engines import ChatModel, Embedder, SpeechToText, TextToSpeech
from assistant_app.core.messages import ChatMessage
from audio.stt import create_speech_to_text
from audio.tts import create_text_to_speech
from audio.vad import create_voice_activity_detector
from audio.wav import read_audio, resample

pytestmark = pytest.mark.models
CONFIG = Config()


def words(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split()}


@pytest.fixture(scope="module")
def stt(real_store):
    return create_speech_to_text(CONFIG.stt, real_store)


@pytest.fixture(scope="module")
def tts(real_store):
    return create_text_to_speech(CONFIG.tts, real_store)


@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_both_stt_engines_hear_the_question(real_store, fixtures, engine: str) -> None:
    stt = create_speech_to_text(CONFIG.stt.__class__(engine=engine), real_store)
    assert isinstance(stt, SpeechToText)
    transcript = stt.transcribe(read_audio(fixtures / "capital_of_france.wav"))
    assert {"capital", "france"} <= words(transcript.text)
    assert transcript.language == "en"


def test_tiny_en_hears_key_words(real_store, fixtures) -> None:
    stt = create_speech_to_text(CONFIG.stt.__class__(model="whisper-tiny.en"), real_store)
    text = stt.transcribe(read_audio(fixtures / "remind_me.wav")).text
    assert {"remind", "tomorrow", "morning"} <= words(text)


@pytest.mark.parametrize("engine", ["hibari", "piper", "espeak-ng"])
def test_speech_round_trip(stt, real_store, engine: str) -> None:
    tts = create_text_to_speech(CONFIG.tts.__class__(engine=engine), real_store)
    assert isinstance(tts, TextToSpeech)
    chunks = list(
        tts.synthesize("Turn left at the bakery. Then walk two blocks.", CancelToken.never())
    )
    if engine != "espeak-ng":  # one chunk per sentence, so playback can start on the first
        assert len(chunks) == 2
    audio = resample(np.concatenate(chunks), tts.sample_rate_hz, 16000)
    heard = words(stt.transcribe(audio, language="en").text)
    # Meaning, not an exact string: four of the five key words must come back.
    assert len({"turn", "left", "bakery", "walk", "blocks"} & heard) >= 4, heard


def test_cancelled_synthesis_stops_between_sentences(tts) -> None:
    token = CancelToken.never()
    chunks = []
    for chunk in tts.synthesize("One. Two. Three. Four.", token):
        chunks.append(chunk)
        token.cancel()
    assert len(chunks) == 1


def test_vad_tells_speech_from_silence_and_noise(real_store, fixtures) -> None:
    vad = create_voice_activity_detector(CONFIG.vad, real_store)
    speech = read_audio(fixtures / "capital_of_france.wav")
    noise = np.random.default_rng(0).normal(0, 0.05, 16000 * 3).astype(np.float32)
    assert vad.speech_ratio(speech) > 0.3
    assert vad.speech_ratio(np.zeros(16000, np.float32)) == 0.0
    assert vad.speech_ratio(noise) < 0.05


def test_chat_model_streams_a_correct_answer(real_store) -> None:
    from models.llm import create_chat_model

    model = create_chat_model(
        CONFIG.llm.__class__(model="qwen2.5-coder-0.5b-instruct", temperature=0.0), real_store
    )
    assert isinstance(model, ChatModel)
    deltas = list(
        model.stream_reply(
            [
                ChatMessage("system", "Answer in one short sentence."),
                ChatMessage("user", "What is the capital of France?"),
            ],
            [],
            CancelToken.never(),
        )
    )
    assert deltas[-1].finished
    assert len([d for d in deltas if d.text]) > 1  # streamed, not one block
    assert "paris" in "".join(d.text for d in deltas).lower()


def test_chat_model_stops_when_cancelled(real_store) -> None:
    from models.llm import create_chat_model

    model = create_chat_model(CONFIG.llm.__class__(model="smollm2-135m-instruct"), real_store)
    token = CancelToken.never()
    texts = []
    for delta in model.stream_reply([ChatMessage("user", "Count from 1 to 100.")], [], token):
        texts.append(delta.text)
        if len(texts) == 3:
            token.cancel()
    assert len(texts) <= 5


def test_embeddings_rank_related_text_first(real_store) -> None:
    from models.embed import create_embedder

    embedder = create_embedder(CONFIG.embed, real_store)
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed(
        ["How do I bake bread?", "A recipe for sourdough loaves.", "The stock market fell today."]
    )
    assert vectors.shape == (3, embedder.dimensions)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
