"""Benchmark: our default STT (faster-whisper int8) against openai-whisper on the same clips.

Run from the repo root: `.venv/bin/python bench/stt.py [--runs 3] [--beam 1 5] [--language en]`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table, word_edits  # noqa: E402

if TYPE_CHECKING:
    from assistant_app.core.config import Config
    from audio.stt import FasterWhisperSpeechToText, OpenAIWhisperSpeechToText
    from models.store import ModelStore

    Engine = FasterWhisperSpeechToText | OpenAIWhisperSpeechToText

PARAGRAPH = (
    "The weather today will be mostly sunny with a light breeze from the west. "
    "In the afternoon the clouds may gather near the coast, and there is a small chance of rain. "
    "Remember to bring a warm jacket if you plan to stay outside after sunset."
)
FIXTURES = (
    ("capital_of_france", "What is the capital of France?"),
    ("remind_me", "Please remind me to water the plants tomorrow morning."),
)
ENGINES = ("faster-whisper", "openai-whisper")
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


@dataclass(frozen=True)
class Clip:
    """A 16 kHz mono clip and what it says."""

    name: str
    text: str
    audio: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.audio) / 16000


def _number_words(token: str) -> str:
    n = int(token)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    return token


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation; numbers under 100 become words ("20" -> "twenty")."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(_number_words(w) if w.isdigit() else w for w in words).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference word count) after `normalise`."""
    ref = normalise(reference)
    return word_edits(ref, normalise(hypothesis)), len(ref)


def make_clips(config: Config, store: ModelStore, tmp: Path) -> list[Clip]:
    """The hibari paragraph (synthesized now, written and read back as a WAV) plus the fixtures."""
    from assistant_app.core.cancel import CancelToken
    from audio.tts import create_text_to_speech
    from audio.wav import read_audio, write_wav

    tts = create_text_to_speech(config.tts, store)
    speech = np.concatenate(list(tts.synthesize(PARAGRAPH, CancelToken.never())))
    write_wav(tmp / "paragraph.wav", speech, tts.sample_rate_hz)
    clips = [Clip("hibari_paragraph", PARAGRAPH, read_audio(tmp / "paragraph.wav"))]
    for name, text in FIXTURES:
        clips.append(Clip(name, text, read_audio(REPO_ROOT / "tests" / "fixtures" / f"{name}.wav")))
    return clips


def load_engines(
    config: Config, store: ModelStore, beam: int, openai_threads: int
) -> dict[str, tuple[Engine, float]]:
    """Both engines at the same beam width, each with its load time in seconds."""
    from audio.stt import OpenAIWhisperSpeechToText, create_speech_to_text, openai_checkpoint

    stt = config.replace("stt", beam_size=beam).stt
    checkpoint = openai_checkpoint(store, stt.model)  # converted once; not part of load time
    loaded: dict[str, tuple[Engine, float]] = {}
    start = time.perf_counter()
    ours = create_speech_to_text(stt, store)
    loaded["faster-whisper"] = (ours, time.perf_counter() - start)
    start = time.perf_counter()
    ref = OpenAIWhisperSpeechToText(
        checkpoint, threads=openai_threads, beam_size=beam, language=stt.language
    )
    loaded["openai-whisper"] = (ref, time.perf_counter() - start)
    return loaded


def bench_beam(
    config: Config, store: ModelStore, clips: list[Clip], beam: int, args: argparse.Namespace
) -> None:
    """Loads both engines, warms each up, then times interleaved runs and prints the tables."""
    stt = config.stt
    print(
        f"\n## beam {beam} (model {stt.model}; faster-whisper int8, {stt.threads} threads; "
        f"openai-whisper fp32, {args.openai_threads} torch thread(s); language "
        f"{stt.language or 'detected'})"
    )
    engines = load_engines(config, store, beam, args.openai_threads)
    first: dict[str, float] = {}
    for name, (engine, _) in engines.items():
        start = time.perf_counter()
        engine.transcribe(clips[-1].audio)  # first call pays one-off set-up costs
        first[name] = time.perf_counter() - start
    times: dict[tuple[str, str], list[float]] = {(e, c.name): [] for e in ENGINES for c in clips}
    texts: dict[tuple[str, str], set[str]] = {(e, c.name): set() for e in ENGINES for c in clips}
    for run in range(args.runs):
        order = ENGINES if run % 2 == 0 else ENGINES[::-1]  # A B, then B A: cancels drift
        for name in order:
            engine = engines[name][0]
            for clip in clips:
                start = time.perf_counter()
                text = engine.transcribe(clip.audio).text
                times[name, clip.name].append(time.perf_counter() - start)
                texts[name, clip.name].add(text)
    _report(engines, first, clips, times, texts)


def _report(
    engines: dict[str, tuple[Engine, float]],
    first: dict[str, float],
    clips: list[Clip],
    times: dict[tuple[str, str], list[float]],
    texts: dict[tuple[str, str], set[str]],
) -> None:
    rows = [
        [name, engines[name][1], first[name], sum(median(times[name, c.name]) for c in clips)]
        for name in ENGINES
    ]
    print_table(["engine", "load s", "first call s", "sum of medians s"], rows)
    print()
    rows, totals = [], {e: [0.0, 0, 0] for e in ENGINES}
    for clip in clips:
        row: list[object] = [clip.name, round(clip.seconds, 1)]
        for name in ENGINES:
            seconds = median(times[name, clip.name])
            errors, words = word_errors(clip.text, sorted(texts[name, clip.name])[0])
            totals[name][0] += seconds
            totals[name][1] += errors
            totals[name][2] += words
            row += [seconds, f"{errors / words:.1%}"]
        rows.append(row + [f"{row[4] / row[2]:.2f}x"])
    ours, ref = totals["faster-whisper"], totals["openai-whisper"]
    rows.append(
        ["all clips", round(sum(c.seconds for c in clips), 1), ours[0], f"{ours[1] / ours[2]:.1%}"]
        + [ref[0], f"{ref[1] / ref[2]:.1%}", f"{ref[0] / ours[0]:.2f}x"]
    )
    headers = ["clip", "audio s", "ours s", "ours WER", "openai s", "openai WER", "openai/ours"]
    print_table(headers, rows)
    print("\nTranscripts (a clip with several distinct transcripts across runs shows them all):")
    for clip in clips:
        for name in ENGINES:
            print(f"  {clip.name:18} {name:15} {' | '.join(sorted(texts[name, clip.name]))}")


def main(argv: list[str] | None = None) -> None:
    """Parses flags, makes the clips, and benchmarks each requested beam width."""
    from assistant_app.core.config import load_config
    from models.store import open_store

    config = load_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine (median)")
    parser.add_argument(
        "--beam",
        type=int,
        nargs="+",
        default=[config.stt.beam_size],
        help="beam width(s), the same for both engines (default: the config's)",
    )
    parser.add_argument(
        "--openai-threads",
        type=int,
        default=1,
        help="torch threads for openai-whisper (1, as the app's factory uses)",
    )
    parser.add_argument(
        "--threads", type=int, default=config.stt.threads, help="faster-whisper CPU threads"
    )
    parser.add_argument(
        "--language",
        default=config.stt.language,
        help="language code for both engines; empty (the default config) detects it",
    )
    args = parser.parse_args(argv)
    config = config.replace("stt", threads=args.threads, language=args.language)
    store = open_store(config)
    print(f"# STT benchmark, {args.runs} runs\n{machine_line()}")
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(config, store, Path(tmp))
    for beam in args.beam:
        bench_beam(config, store, clips, beam, args)
    print(f"\nfinished {machine_line()}")


if __name__ == "__main__":
    main()
