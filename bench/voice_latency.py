"""Benchmark: end of speech → first audio through the whole voice loop, and each part alone.

Run from the repo root: `.venv/bin/python bench/voice_latency.py [--turns 12]
[--llm-model NAME] [--stt-model NAME]`. Questions are spoken by hibari and fed to the loop in
real time through the same file devices `assistant talk --input` uses.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

QUESTIONS = [
    "What is the capital of Italy?",
    "How many days are there in a week?",
    "What color is the sky on a clear day?",
    "Name a fruit that is yellow.",
    "What is two plus two?",
    "Who wrote Romeo and Juliet?",
    "At what temperature does water boil?",
    "How many legs does a spider have?",
    "What is the largest planet in our solar system?",
    "How do you say hello in Spanish?",
    "What day comes after Monday?",
    "What is the opposite of hot?",
]


def p90(values: list[float]) -> float:
    return float(np.percentile(values, 90)) if values else float("nan")


def speak_questions(tts, count: int) -> list[tuple[str, np.ndarray]]:  # noqa: ANN001
    from assistant_app.core.cancel import CancelToken
    from audio.wav import resample

    clips = []
    for text in (QUESTIONS * 3)[:count]:
        audio = np.concatenate(list(tts.synthesize(text, CancelToken.never())))
        clips.append((text, resample(audio, tts.sample_rate_hz, 16000)))
    return clips


def run_pipeline(config, engines, clips):  # noqa: ANN001, ANN201
    """The whole loop in real time; returns the timeline and the conversation."""
    from assistant_app.voice.talk import Timeline, make_loop
    from audio.devices import FileInput, FileOutput

    timeline = Timeline()
    loop = make_loop(config, engines, timeline)
    speaker = FileOutput(loop.playback)
    mic = FileInput([c for _, c in clips], loop.hear, loop.wait_idle)
    loop.start()
    speaker.start()
    mic.start()
    mic.finished.wait()
    loop.wait_idle(120)
    mic.stop()
    speaker.stop()
    loop.stop()
    return timeline, loop.conversation


def endpoint_wait(config, vad, clip: np.ndarray) -> float:  # noqa: ANN001
    """Seconds from the end of speech until the turn detector ends the turn."""
    from audio.endpoint import TurnDetector

    detector = TurnDetector(
        threshold=config.vad.threshold, end_silence_ms=config.vad.end_of_turn_silence_ms
    )
    vad.reset()
    padded = np.concatenate([clip, np.zeros(16000, np.float32)])
    for i in range(len(padded) // 512):
        frame = padded[i * 512 : (i + 1) * 512]
        end_s = (i + 1) * 512 / 16000
        for event in detector.push(frame, vad.speech_probability(frame), end_s):
            if getattr(event, "tentative", True) is False:
                return end_s - event.end_s
    return float("nan")


def parts_alone(config, engines, clips, conversation) -> list[dict[str, float]]:  # noqa: ANN001
    """Each component on the same inputs, one at a time, with nothing else running."""
    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.messages import ChatMessage
    from audio.sentences import SentenceSplitter

    history = conversation.messages()
    rows = []
    for n, (text, clip) in enumerate(clips):
        row = {"endpoint": endpoint_wait(config, engines.vad, clip)}
        start = time.perf_counter()
        engines.stt.transcribe(clip, config.stt.language or None)
        row["stt"] = time.perf_counter() - start
        # The same history the loop had at this turn: system, earlier turns, this question.
        messages = [history[0], *history[1 : 1 + 2 * n], ChatMessage("user", text)]
        splitter, first = SentenceSplitter(), ""
        start = time.perf_counter()
        for delta in engines.chat.stream_reply(messages, [], CancelToken.never()):
            if first := next(iter(splitter.push(delta.text)), ""):
                break
        first = first or next(iter(splitter.flush()), "")
        row["llm"] = time.perf_counter() - start
        start = time.perf_counter()
        next(iter(engines.tts.synthesize(first or "Okay.", CancelToken.never())))
        row["tts"] = time.perf_counter() - start
        rows.append(row)
    return rows


def main() -> None:
    from assistant_app.core.config import load_config
    from assistant_app.voice.talk import load_engines

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--llm-model", help="chat model (default: [voice] llm_model)")
    parser.add_argument("--stt-model", help="Whisper model (default: [voice] stt_model)")
    parser.add_argument("--beam", type=int, help="Whisper beam (default: [voice] stt_beam_size)")
    parser.add_argument("--language", help="spoken language (default: [stt] language)")
    args = parser.parse_args()
    config = load_config()
    stt = dataclasses.replace(
        config.stt, language=config.stt.language if args.language is None else args.language
    )
    config = dataclasses.replace(config, stt=stt)
    voice = dataclasses.replace(
        config.voice,
        llm_model=args.llm_model or config.voice.llm_model,
        stt_model=args.stt_model or config.voice.stt_model,
        stt_beam_size=args.beam or config.voice.stt_beam_size,
    )
    config = dataclasses.replace(config, voice=voice)
    print(machine_line())
    print(
        f"llm {voice.llm_model or config.llm.model}, stt {voice.stt_model or config.stt.model} "
        f"(beam {voice.stt_beam_size}), end of turn {config.vad.end_of_turn_silence_ms} ms, "
        f"{args.turns} turns"
    )
    engines = load_engines(config, echo=False)
    clips = speak_questions(engines.tts, args.turns)
    timeline, conversation = run_pipeline(config, engines, clips)
    turns = [t for t in sorted(timeline.turns) if "first_audio" in timeline.turns[t]]
    steps = [timeline.seconds(t) for t in turns]
    parts = parts_alone(config, engines, clips, conversation)
    rows, totals, sums = [], [], []
    for n, (step, part) in enumerate(zip(steps, parts, strict=False)):
        total = step["first_audio"]
        summed = part["endpoint"] + part["stt"] + part["llm"] + part["tts"]
        totals.append(total)
        sums.append(summed)
        rows.append(
            [
                n + 1,
                step.get("transcript", float("nan")),
                step.get("first_sentence", float("nan")),
                total,
                part["endpoint"],
                part["stt"],
                part["llm"],
                part["tts"],
                summed,
            ]
        )
    print_table(
        [
            "turn",
            "transcript s",
            "first sentence s",
            "first audio s",
            "endpoint s",
            "stt s",
            "llm first sentence s",
            "tts first chunk s",
            "sum of parts s",
        ],
        rows,
    )
    print(f"\nanswered {len(turns)} of {len(clips)} turns")
    print(f"end of speech → first audio: median {median(totals):.3f} s, p90 {p90(totals):.3f} s")
    print(
        f"parts alone (median): endpoint {median([p['endpoint'] for p in parts]):.3f} s, "
        f"stt {median([p['stt'] for p in parts]):.3f} s, "
        f"llm first sentence {median([p['llm'] for p in parts]):.3f} s, "
        f"tts first chunk {median([p['tts'] for p in parts]):.3f} s"
    )
    ratio = median(totals) / median(sums)
    print(f"pipeline ÷ sum of parts (medians): {ratio:.2f}")
    print(
        f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
