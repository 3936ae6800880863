"""Benchmark: does the end of a turn wait for the end of the thought?

Clips are made fresh from a printed seed: requests split at an unfinished point by a 0.5-1.5 s
pause (some with "um" in it), and complete requests, spoken by the voices of bench/ear_clips.py,
some with room noise. Each clip is streamed frame by frame through the real VAD and turn
detector, the real recogniser of the voice loop (told the words the loop expects with the
default tools) and, for "meaning", the real end-of-turn judge (and the loop's rule that a bare
"Think carefully." waits for its question); the time each transcription and judgement takes on
this machine is added to the stream's clock, as in the live loop. The same clips go through
today's silence-only endpointer (400 ms).

Reports: pause clips heard whole as one turn (its audio, the detector's 320 ms pre-roll
included, reaching back to within 0.1 s of the first sound and on to within 0.15 s of the last),
fragments answered (cut-offs), turns never ended,
and for complete clips the time from the end of speech to the end of the turn with its
transcript ready (what the chat then starts from; the rest of the way to the first audio is the
same for both methods), plus the judge's cost per pause. "meaning + repair" applies the live
loop's repair to the judged turns: speech resuming within 2.0 s of the last word, while its
answer cannot be over yet, takes the turn back and joins it. "(finished only)": the judge's
verdict used as until 2026-12-07, a thought that may be finished (P(finished) between 0.001
and 0.01) waiting for the cap like an unfinished one instead of for 1 s of silence.

Run from the repo root: `.venv/bin/python bench/turns.py [--seed N] [--paused 30] [--whole 20]`
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant_app.kernel.expected import expected_for  # noqa: E402
from assistant_app.voice.loop import GOES_ON_S  # noqa: E402
from audio.endpoint import KEPT_SILENCE_FRAMES  # noqa: E402
from bench._common import machine_line, median, print_table  # noqa: E402
from bench.ear_clips import CITIES, NAMES, at_snr, pink, voices  # noqa: E402

RATE, FRAME = 16000, 512
TAIL_S = KEPT_SILENCE_FRAMES * FRAME / RATE  # the silence kept after the speech
ANSWER_S = 1.0  # end of a turn -> its answer's first sound, at the quickest (bench/voice_tasks.py)
SOUND_S = 1.0  # how long the shortest answer sounds (a few words): it is playing until then
EXPECTED = expected_for({"calculator", "python"})  # what the loop's ears expect, default tools
SPLITS = [  # (first part, second part): the first is plainly unfinished
    lambda r: ("How long does it take to boil", "an egg?"),
    lambda r: (f"Can you add {r.randint(11, 99)} and", f"{r.randint(11, 99)}?"),
    lambda r: ("What is the capital of", r.choice(["Australia?", "Canada?", "Kenya?"])),
    lambda r: (f"Convert {r.randint(2, 90)} miles", "to kilometres."),
    lambda r: (f"Remind me to call {r.choice(NAMES)} at", f"{r.randint(1, 11)} tomorrow."),
    lambda r: ("Search my notes for the", r.choice(["garden budget.", "travel plans."])),
    lambda r: ("Tell me a short story about", "a fox who lives by the sea."),
    lambda r: (f"What's {r.choice([10, 15, 20])} percent of", f"{r.randint(60, 900)}?"),
    lambda r: ("Plot the sine of x from zero", f"to {r.randint(3, 20)}."),
    lambda r: (f"How far is {r.choice(CITIES)} from", f"{r.choice(CITIES)}?"),
    lambda r: ("I was wondering if you could", "explain how rainbows form."),
    lambda r: ("Draw me a picture of a", "lighthouse at night."),
]
WHOLE = [
    lambda r: f"What is {r.randint(12, 99)} times {r.randint(3, 40)}?",
    lambda r: "What is the capital of France?",
    lambda r: f"Set a timer for {r.randint(2, 45)} minutes.",
    lambda r: "Tell me a joke.",
    lambda r: f"How far is {r.choice(CITIES)} from {r.choice(CITIES)}?",
    lambda r: "Summarise my travel notes.",
    lambda r: f"Remind me to call {r.choice(NAMES)} tomorrow.",
    lambda r: "Thank you, that was helpful.",
    # Requests that could go on ("... for my dog", "... tonight"): judged maybe finished.
    lambda r: f"Could you suggest a name for my {r.choice(['dog', 'cat', 'boat'])}?",
    lambda r: "Can you give me some ideas for dinner?",
    lambda r: "Do you have any tips for sleeping better?",
]


@dataclass
class Clip:
    name: str
    text: str
    voice: str
    audio: np.ndarray
    speech: tuple[float, float]  # first and last sound of the request, in seconds
    paused: bool
    turns: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)
    costs: list[float] = field(default_factory=list)
    judged: list[tuple[str, float]] = field(default_factory=list)
    # A turn's start (the VAD's) -> where its audio begins: the detector's pre-roll before it.
    reach: dict[float, float] = field(default_factory=dict)


def make_clips(seed: int, paused: int, whole: int, config, store) -> list[Clip]:  # noqa: ANN001
    rng = random.Random(seed)
    g = np.random.default_rng(seed)
    spoken = voices(config, store)
    clips = []
    for i in range(paused + whole):
        name, speak = spoken[i % len(spoken)]
        wpm = rng.randint(140, 190)
        lead = np.zeros(int(0.5 * RATE))
        if i < paused:
            first, second = rng.choice(SPLITS)(rng)
            gap = rng.uniform(0.5, 1.5)
            if rng.random() < 0.3:  # a filler in the pause
                um = speak("um", wpm)
                rest = max(0.0, gap - len(um) / RATE) / 2
                pause = np.concatenate([np.zeros(int(rest * RATE)), um, np.zeros(int(rest * RATE))])
            else:
                pause = np.zeros(int(gap * RATE))
            first_audio, second_audio = speak(first, wpm), speak(second, wpm)
            body = np.concatenate([first_audio, pause, second_audio])
            text = f"{first} {second}"
        else:
            text = rng.choice(WHOLE)(rng)
            body = speak(text, wpm)
        audio = np.concatenate([lead, body, np.zeros(int(3.5 * RATE))])
        start, end = _speech_bounds(body)
        audio = audio + g.normal(size=len(audio)) * 10 ** (-65 / 20)
        if rng.random() < 0.4:  # room noise
            audio = at_snr(audio, pink(len(audio), g), rng.uniform(25, 35))
        clip_name = f"{'p' if i < paused else 'w'}{i:02d}"
        clips.append(Clip(clip_name, text, f"{name} {wpm}wpm", audio.astype(np.float32),
                          (0.5 + start, 0.5 + end), i < paused))  # fmt: skip
    return clips


def _speech_bounds(audio: np.ndarray) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(audio) > 0.02 * np.max(np.abs(audio)))
    return loud[0] / RATE, loud[-1] / RATE


def run(clip: Clip, method: str, stt, vad, judge, config, threshold: float) -> None:  # noqa: ANN001, C901
    """Streams `clip` through the endpointer; records (start, end, ready) of each turn ended."""
    from assistant_app.voice.stages import nothing_to_judge
    from audio.endpoint import detector_for
    from audio.hearing import heard_words

    judged = method.startswith("meaning")
    graded = judged and not method.endswith("(finished only)")
    detector = detector_for(config.vad, judged)
    vad.reset()
    transcripts: dict[bytes, float] = {}  # audio → stream time its transcript was ready
    # (stream time the verdict lands, speech end, the silence that ends the turn)
    pending: tuple[float, float, float] | None = None
    busy_until = 0.0  # the recogniser does one thing at a time
    turns = []
    for i in range(len(clip.audio) // FRAME):
        frame = clip.audio[i * FRAME : (i + 1) * FRAME]
        now = (i + 1) * FRAME / RATE
        events = detector.push(frame, vad.speech_probability(frame), now)
        if pending is not None and now >= pending[0]:
            ended = detector.end_after(pending[1], pending[2])
            pending = None
            if ended is not None:
                events.append(ended)
        for event in events:
            if not hasattr(event, "audio"):
                continue
            key = event.audio.tobytes()
            if event.partial:  # the words so far, read ahead: the recogniser's time only
                start = time.perf_counter()
                stt.transcribe(event.audio, "en", EXPECTED)
                busy_until = max(now, busy_until) + time.perf_counter() - start
                continue
            if event.tentative:
                start = time.perf_counter()
                transcript = stt.transcribe(event.audio, "en", EXPECTED)
                text = heard_words(transcript.segments, len(event.audio) / RATE)
                cost = time.perf_counter() - start
                ready = max(now, busy_until) + cost
                busy_until = transcripts[key] = ready
                if judged and not nothing_to_judge(text):
                    verdict = judge.judge(text)
                    if graded:
                        clip.costs.append(verdict.seconds)
                        clip.judged.append((text, round(verdict.probability, 4)))
                        wait = verdict.wait_s(threshold)
                    else:  # the old rule: finished now, or the cap
                        wait = 0.0 if verdict.finished(threshold) else None
                    if wait is not None:
                        pending = (ready + verdict.seconds, event.end_s, wait)
                continue
            if key in transcripts:
                ready = max(now, transcripts[key])
            else:
                start = time.perf_counter()
                stt.transcribe(event.audio, "en", EXPECTED)
                ready = max(now, busy_until) + time.perf_counter() - start
            turns.append((event.start_s, event.end_s, ready))
            # The audio ends TAIL_S after the speech: what is before is pre-roll.
            clip.reach[event.start_s] = event.end_s + TAIL_S - len(event.audio) / RATE
    clip.turns[method] = turns


def repaired(turns: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """The turns as the live loop ends up with them: speech that resumes within GOES_ON_S of a
    turn's last word, before its answer can be over (ANSWER_S + SOUND_S after the turn was
    ended, its transcript ready), takes that turn back and joins it."""
    out: list[tuple[float, float, float]] = []
    for start, end, ready in turns:
        if not out:
            goes_on = False
        else:
            goes_on = start - out[-1][1] <= GOES_ON_S
            goes_on = goes_on and start <= out[-1][2] + ANSWER_S + SOUND_S
        if goes_on:
            out[-1] = (out[-1][0], end, ready)
        else:
            out.append((start, end, ready))
    return out


def score(clips: list[Clip], method: str) -> tuple:
    paused = [c for c in clips if c.paused]
    whole = [c for c in clips if not c.paused]
    if method.startswith("meaning + repair"):
        judged = method.replace(" + repair", "")
        for c in clips:
            c.turns[method] = repaired(c.turns[judged])

    def one_whole_turn(c: Clip) -> bool:
        turns = c.turns[method]
        return (
            len(turns) == 1
            and c.reach.get(turns[0][0], turns[0][0]) <= c.speech[0] + 0.1
            and turns[0][1] >= c.speech[1] - 0.15
        )

    cut = sum(len(c.turns[method]) > 1 for c in paused)
    never = sum(not c.turns[method] for c in clips)
    delays = [c.turns[method][-1][2] - c.speech[1] for c in whole if c.turns[method]]
    costs = [s for c in clips for s in c.costs] if method.startswith("meaning") else []
    return (method, f"{sum(map(one_whole_turn, paused))}/{len(paused)}", cut,
            f"{sum(map(one_whole_turn, whole))}/{len(whole)}", never, median(delays),
            max(delays, default=float("nan")), 1000 * median(costs) if costs else "-")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    from assistant_app.core.config import load_config
    from audio.stt import create_speech_to_text
    from audio.vad import create_voice_activity_detector
    from models.end_of_turn import FINISHED_AT, create_turn_judge
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--paused", type=int, default=30)
    parser.add_argument("--whole", type=int, default=20)
    parser.add_argument(
        "--threshold", type=float, default=FINISHED_AT, help="P(finished) that ends"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every clip's turns")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(10_000)
    config = load_config()
    store = open_store(config)
    print(f"# Turn-taking benchmark, seed {seed}, threshold {args.threshold}\n\n{machine_line()}\n")
    clips = make_clips(seed, args.paused, args.whole, config, store)
    voice = config.voice
    ears = config.replace("stt", model=voice.stt_model or config.stt.model,
                          beam_size=voice.stt_beam_size)  # fmt: skip
    stt = create_speech_to_text(ears.stt, store)
    vad = create_voice_activity_detector(config.vad, store)
    judge = create_turn_judge(config.replace("vad", end_of_turn="meaning").vad, store)
    stt.transcribe(clips[0].audio[:RATE], "en")
    judge.judge("Hello there")
    for clip in clips:
        for method in ("silence", "meaning (finished only)", "meaning"):
            run(clip, method, stt, vad, judge, config, args.threshold)
        if args.verbose:
            turns = {m: [tuple(round(x, 2) for x in t) for t in ts] for m, ts in clip.turns.items()}
            span = f"speech {clip.speech[0]:.2f}-{clip.speech[1]:.2f}"
            reach = sorted({round(x, 2) for x in clip.reach.values()})
            print(clip.name, clip.voice, repr(clip.text), span, turns, clip.judged,
                  f"audio from {reach}", flush=True)  # fmt: skip
    print()
    print_table(["end of turn by", "pause clips heard whole", "cut at the pause",
                 "complete answered once", "never ended", "end of speech -> turn ready, median s",
                 "max s", "judge ms/pause"],
                [score(clips, m) for m in ("silence", "meaning (finished only)", "meaning",
                                            "meaning + repair (finished only)",
                                            "meaning + repair")])  # fmt: skip
    print(f"\n{machine_line()}")


if __name__ == "__main__":
    main()
