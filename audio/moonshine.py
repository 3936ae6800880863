"""Moonshine base-en: English speech recognition on onnxruntime, 3-5x quicker than Whisper
base on a short turn and with fewer words wrong (bench/ears.py, docs/BENCHMARKS.md "Ears").

Runs the graphs models/moonshine_convert.py makes: an encoder over the raw 16 kHz samples, a
decoder's first step (which fills the cross-attention cache from the encoder's output), and
its cached step, greedily from <s> to </s>. Its words are written as Whisper writes them:
numbers in digits (audio/numerals.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant_app.core.messages import Segment, Transcript
from audio.biasing import WORD, PhraseBias, phrases_of
from audio.numerals import with_digits
from audio.vad import SileroVoiceActivityDetector, sleeping_options

log = logging.getLogger(__name__)

BOS, EOS = 1, 2
_WORD = WORD.encode()  # SentencePiece's mark for a space before a word
TOKENS_PER_SECOND = 6.5  # a ceiling on the words speech can hold: a loop stops there
WORD_BONUS = 3.0  # log-probability an expected word may cost the reading that has it
LONGEST_S = 25.0  # trained on up to ~30 s; longer audio is cut at its quietest moments


def read_tokenizer(path: Path) -> list[bytes]:
    """The token texts in id order: each a 7-bit-varint length, then that many bytes."""
    data, vocab, i = path.read_bytes(), [], 0
    while i < len(data):
        size = data[i]
        i += 1
        if size & 0x80:
            size = (size & 0x7F) | (data[i] << 7)
            i += 1
        vocab.append(data[i : i + size])
        i += size
    return vocab


def pieces(audio: np.ndarray, rate: int = 16000, longest_s: float = LONGEST_S) -> list[np.ndarray]:
    """The audio in pieces of at most `longest_s`, each cut at the quietest 0.1 s of the last
    fifth of its stretch, so a cut rarely falls inside a word."""
    longest, frame = int(longest_s * rate), rate // 10
    out, start = [], 0
    while len(audio) - start > longest:
        window = audio[start + longest * 4 // 5 : start + longest]
        frames = window[: len(window) // frame * frame].reshape(-1, frame)
        quiet = int(np.argmin((frames**2).mean(axis=1)))
        cut = start + longest * 4 // 5 + quiet * frame + frame // 2
        out.append(audio[start:cut])
        start = cut
    out.append(audio[start:])
    return out


def once(tokens: list[int], shortest: int = 4) -> list[int]:
    """`tokens` with a stretch said twice or more in a row kept once: a greedy decoder can
    loop, saying a phrase again until its token ceiling. Stretches shorter than `shortest`
    tokens may repeat ("very, very")."""
    i = 0
    while i < len(tokens):
        for size in range(shortest, (len(tokens) - i) // 2 + 1):
            block = tokens[i : i + size]
            if tokens[i + size : i + 2 * size] == block:
                end = i + 2 * size
                while tokens[end : end + size] == block:
                    end += size
                tokens = tokens[: i + size] + tokens[end:]
                break
        else:
            i += 1
    return tokens


class MoonshineSpeechToText:
    """Moonshine on the CPU; English only (the language asked for is not used)."""

    name = "moonshine"
    sample_rate_hz = 16000
    expects_words = True  # a prompt's words are weighed while decoding, not written in

    def __init__(
        self,
        model_dir: Path,
        vad: SileroVoiceActivityDetector,
        *,
        threads: int = 2,
        beam_size: int = 1,
    ) -> None:
        import onnxruntime as ort

        self._vad = vad  # its own: the silence around the speech is cut off first
        self._beam_size = beam_size

        options = sleeping_options()  # or the judge run next waits for its spinning workers
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1

        def session(name: str) -> ort.InferenceSession:
            return ort.InferenceSession(
                str(model_dir / name), options, providers=["CPUExecutionProvider"]
            )

        self._encoder = session("encoder.onnx")
        self._first = session("decoder_first.onnx")
        self._step = session("decoder_step.onnx")
        self._vocab = read_tokenizer(model_dir / "tokenizer.bin")
        self._outputs = [o.name for o in self._step.get_outputs()]
        self._cache = [i.name for i in self._step.get_inputs() if i.name.startswith("past_")]
        self._prompt, self._bias = "", PhraseBias(self._vocab, [])

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, prompt: str = ""
    ) -> Transcript:
        """`prompt`'s words are expected (audio/biasing.py): a reading with them wins when
        it sounds nearly as likely as the plain one."""
        if prompt != self._prompt:
            self._prompt, self._bias = prompt, PhraseBias(self._vocab, phrases_of(prompt))
        segments, start = [], 0.0
        # Moonshine hears nothing at all in a clip with a second or more of silence around the
        # words (bench/ears.py: the "silence" clips' WER 1.0, 0.10 once cut).
        for piece in pieces(self._vad.speech_only(np.asarray(audio, dtype=np.float32))):
            seconds = len(piece) / self.sample_rate_hz
            if seconds >= 0.1:
                text, logprob = self._decode(piece)
                if text:
                    segments.append(Segment(start, start + seconds, text, 0.0, logprob))
            start += seconds
        return Transcript(" ".join(s.text for s in segments), "en", tuple(segments))

    def _decode(self, audio: np.ndarray) -> tuple[str, float]:
        """The text decoded from one piece, and its tokens' mean log-probability."""
        hidden = self._encoder.run(None, {"input_values": audio[None, :]})[0]
        limit = int(len(audio) / self.sample_rate_hz * TOKENS_PER_SECOND) + 10
        plain = self._beam(hidden, limit) if self._beam_size > 1 else None
        if not self._bias:
            return (plain or self._greedy(hidden, limit, None)).heard
        nudged = self._greedy(hidden, limit, self._bias)
        if not nudged.nudged:  # no bonus changed a choice: it is the plain greedy reading
            return (plain or nudged).heard
        plain = plain or self._greedy(hidden, limit, None)
        best = max(plain, nudged, key=lambda r: r.score(self._bias, WORD_BONUS))
        return best.heard

    def _beam(self, hidden: np.ndarray, limit: int) -> Reading:
        """Beam search: the `beam_size` likeliest readings so far go on together, one batched
        decoder step a token; of the finished ones, the best by mean token log-probability
        (the end's included), so a short reading is not preferred for being short."""
        width = self._beam_size
        outputs = self._first.run(
            self._outputs,
            {"input_ids": np.array([[BOS]], np.int64), "encoder_hidden_states": hidden},
        )
        cache = dict(zip(self._cache, outputs[1:], strict=True))
        alive: list[tuple[list[int], list[float]]] = [([], [])]
        totals = [0.0]  # each alive reading's summed log-probability
        done: list[tuple[list[int], list[float], float]] = []
        for _ in range(limit):
            logits = outputs[0][:, -1].astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            logprobs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            options = sorted(
                (
                    (totals[b] + logprobs[b, t], b, int(t))
                    for b in range(len(alive))
                    for t in np.argpartition(-logprobs[b], width)[: width + 1]
                ),
                reverse=True,
            )
            kept, rows, sums = [], [], []
            for total, b, token in options:
                tokens, lps = alive[b]
                if token == EOS:
                    done.append((tokens, lps, float(logprobs[b, token])))
                else:
                    kept.append(([*tokens, token], [*lps, float(logprobs[b, token])]))
                    rows.append(b)
                    sums.append(float(total))
                if len(kept) == width:
                    break
            if len(done) >= width or not kept:
                break
            alive, totals = kept, sums
            for name in self._cache:  # each reading's cache follows it
                cache[name] = cache[name][rows]
            step = np.array([[tokens[-1]] for tokens, _ in alive], np.int64)
            outputs = self._step.run(self._outputs, {"input_ids": step, **cache})
            for name, value in zip(self._cache, outputs[1:], strict=True):
                if ".decoder." in name:  # the cross-attention's stay as made on the first step
                    cache[name] = value
        else:
            log.info("moonshine stopped at its %d-token ceiling (a loop?)", limit)
        ends = done or [(tokens, lps, 0.0) for tokens, lps in alive]
        tokens, lps, end = max(ends, key=lambda r: (sum(r[1]) + r[2]) / (len(r[1]) + 1))
        return Reading(self._text(tokens), lps, end, nudged=False)

    def _greedy(self, hidden: np.ndarray, limit: int, bias: PhraseBias | None) -> Reading:
        """Greedy decoding, each step's choice nudged toward `bias`'s phrases when given."""
        outputs = self._first.run(
            self._outputs,
            {"input_ids": np.array([[BOS]], np.int64), "encoder_hidden_states": hidden},
        )
        if bias is not None:
            bias.begin()
        tokens, logprobs, cache, nudged, end = [], [], {}, False, 0.0
        for step in range(limit):
            logits = outputs[0][0, -1].astype(np.float64)
            token = int(logits.argmax())
            if bias is not None and (chosen := int(bias.bonus(logits).argmax())) != token:
                token, nudged = chosen, True
            logprob = -np.log(np.exp(logits - logits[token]).sum())  # as heard, unnudged
            if token == EOS:
                end = logprob
                break
            logprobs.append(logprob)
            if bias is not None:
                bias.chose(token)
            tokens.append(token)
            for name, value in zip(self._cache, outputs[1:], strict=True):
                # The self-attention cache grows each step; the cross-attention keys and values
                # are made once, on the first step.
                if step == 0 or ".decoder." in name:
                    cache[name] = value
            outputs = self._step.run(
                self._outputs, {"input_ids": np.array([[token]], np.int64), **cache}
            )
        else:
            log.info("moonshine stopped at its %d-token ceiling (a loop?)", limit)
        return Reading(self._text(tokens), logprobs, end, nudged)

    def _text(self, tokens: list[int]) -> str:
        """The words of `tokens`, a stretch said twice in a row kept once, numbers as digits."""
        text = b"".join(self._vocab[t] for t in once(tokens) if 2 < t < len(self._vocab))
        return with_digits(text.replace(_WORD, b" ").decode("utf-8", "replace").strip())


@dataclass(frozen=True)
class Reading:
    """One decoding: its words, each token's log-probability as heard and the end's, and
    whether expected words changed a choice."""

    text: str
    logprobs: list[float]
    end: float
    nudged: bool

    @property
    def heard(self) -> tuple[str, float]:
        """The words and their tokens' mean log-probability."""
        return self.text, float(np.mean(self.logprobs)) if self.logprobs else 0.0

    def score(self, bias: PhraseBias, bonus: float) -> float:
        """How likely it sounds, plus `bonus` for each expected word it has."""
        return float(np.sum(self.logprobs)) + self.end + bonus * bias.count(self.text)
