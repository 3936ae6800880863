"""Benchmark: how well the ears hear, on clips made fresh from a seed (bench/ear_clips.py).

Each setup is a speech model (Whisper or Moonshine), a beam width, a language and a front end;
every setup hears the same clips. Reports corpus WER (Whisper's English normaliser) overall, by
condition and by voice, seconds per clip, and the words produced on speech-free clips.

Run from the repo root:
    .venv/bin/python bench/ears.py [--seed N] [--speech 63] [--silent 10]
        [--setup NAME=MODEL,BEAM,LANGUAGE,FRONT ...] [--only NAME,NAME]
FRONT is "-" (as heard), or "+"-joined parts: level, trim, and a prompt of either the tool
names ("tools"), the tools and some names the clips use ("prompt"), or the words the voice
loop expects with the default tools plus those names ("vocab"; Moonshine weighs them, see
audio/biasing.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table, word_edits  # noqa: E402
from bench.ear_clips import CITIES, NAMES, Clip, levelled, make_clips  # noqa: E402

TODAY = {  # what the voice loop and `assistant transcribe` did before this benchmark
    "voice before": "whisper-tiny.en,1,en,-",
    "transcribe before": "whisper-base,5,auto,-",
}
CANDIDATES = {
    "base en b1": "whisper-base,1,en,-",
    "base en b5": "whisper-base,5,en,-",
    "base en b5 level+trim": "whisper-base,5,en,level+trim",
    "moonshine": "moonshine-base-en,1,en,-",
    "moonshine level": "moonshine-base-en,1,en,level",
    "moonshine vocab": "moonshine-base-en,1,en,vocab",
}
TOOLS_PROMPT = "Calculator, Python, notes, plot, picture."


@dataclass
class Setup:
    name: str
    model: str
    beam: int
    language: str
    front: set[str]

    @classmethod
    def parse(cls, name: str, spec: str) -> Setup:
        model, beam, language, front = spec.split(",")
        parts = set() if front == "-" else set(front.split("+"))
        return cls(name, model, int(beam), language, parts)


def hear(setup: Setup, clips: list[Clip], config, store, prompt: str) -> list[tuple[str, float]]:  # noqa: ANN001
    """(text kept, seconds) for every clip, through the front end and the no-speech rule."""
    from audio.hearing import heard_words
    from audio.stt import create_speech_to_text
    from audio.vad import create_voice_activity_detector

    stt = create_speech_to_text(
        config.replace("stt", model=setup.model, beam_size=setup.beam, language=setup.language).stt,
        store,
    )
    vad = create_voice_activity_detector(config.vad, store)
    language = None if setup.language == "auto" else setup.language
    stt.transcribe(clips[0].audio[:16000], language)  # the first call pays for set-up
    out = []
    for clip in clips:
        start = time.perf_counter()
        audio = clip.audio
        if vad.speech_ratio(audio, config.vad.threshold) < 0.02:  # both paths gate on the VAD
            out.append(("", time.perf_counter() - start))
            continue
        if "trim" in setup.front:
            audio = vad.speech_only(audio)
        if "level" in setup.front:
            audio = levelled(audio)
        words = (
            prompt if "prompt" in setup.front
            else TOOLS_PROMPT if "tools" in setup.front
            else vocabulary(prompt) if "vocab" in setup.front
            else ""
        )  # fmt: skip
        transcript = stt.transcribe(audio, language, words)
        text = heard_words(transcript.segments, len(audio) / 16000)
        out.append((text, time.perf_counter() - start))
    return out


def vocabulary(prompt: str) -> str:
    """What the voice loop expects with the default tools (assistant_app/kernel/expected.py)
    and, standing in for names from the user's notes, the prompt's names and cities."""
    from assistant_app.kernel.expected import expected_for

    names = prompt.removeprefix(TOOLS_PROMPT).split()
    return ", ".join([expected_for({"calculator", "python"}), *names])


def errors(reference: str, hypothesis: str, normalise) -> tuple[int, int]:  # noqa: ANN001
    """(word edit distance, reference words) after Whisper's English normaliser."""
    ref = normalise(reference).split()
    return word_edits(ref, normalise(hypothesis).split()), len(ref)


def report(clips: list[Clip], results: dict[str, list[tuple[str, float]]], verbose: bool) -> None:
    from whisper.normalizers import EnglishTextNormalizer

    normalise = EnglishTextNormalizer()
    speech = [i for i, c in enumerate(clips) if c.text]
    silent = [i for i, c in enumerate(clips) if not c.text]
    rows = []
    by: dict[str, dict[str, list[int]]] = {
        "condition": defaultdict(list),
        "voice": defaultdict(list),
    }
    for i in speech:
        by["condition"][clips[i].condition.split(" ")[0]].append(i)
        by["voice"][clips[i].voice.rsplit(" ", 1)[0]].append(i)

    def wer(name: str, idx: list[int]) -> float:
        pairs = [errors(clips[i].text, results[name][i][0], normalise) for i in idx]
        return sum(e for e, _ in pairs) / max(1, sum(n for _, n in pairs))

    for name, got in results.items():
        short = [got[i][1] for i in speech if clips[i].seconds < 5]
        words = sum(len(got[i][0].split()) for i in silent)
        rows.append((name, wer(name, speech), median([got[i][1] for i in speech]),
                     median(short), f"{words} words, {sum(bool(got[i][0]) for i in silent)}"
                     f"/{len(silent)} clips"))  # fmt: skip
    print("\n## Overall\n")
    print_table(["setup", "corpus WER", "s/clip median", "s/short clip", "speech-free"], rows)
    for key, groups in by.items():
        print(f"\n## WER by {key}\n")
        names = list(results)
        table = [(g, len(idx), *(wer(n, idx) for n in names)) for g, idx in sorted(groups.items())]
        print_table([key, "clips", *names], table)
    if verbose:
        print("\n## Misheard (first setup and last)\n")
        first, last = list(results)[0], list(results)[-1]
        for i, clip in enumerate(clips):
            a, b = results[first][i][0], results[last][i][0]
            if normalise(a) != normalise(clip.text) or normalise(b) != normalise(clip.text):
                print(f"- {clip.name} [{clip.voice}; {clip.condition}] said: {clip.text!r}\n"
                      f"    {first}: {a!r}\n    {last}: {b!r}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    from assistant_app.core.config import load_config
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--speech", type=int, default=63)
    parser.add_argument("--silent", type=int, default=10)
    parser.add_argument("--setup", action="append", default=[], help="NAME=MODEL,BEAM,LANG,FRONT")
    parser.add_argument("--only-today", action="store_true", help="just the two setups of before")
    parser.add_argument("--only", default="", help="comma-separated setup names to run")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misheard clips")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(10_000)
    config = load_config()
    store = open_store(config)
    print(f"# Ears benchmark, seed {seed}\n\n{machine_line()}\n")
    started = time.perf_counter()
    clips = make_clips(seed, args.speech, args.silent, config, store)
    print(f"{len(clips)} clips made in {time.perf_counter() - started:.0f} s "
          f"({sum(c.seconds for c in clips):.0f} s of audio)")  # fmt: skip
    rng = random.Random(seed + 1)
    prompt = " ".join([TOOLS_PROMPT, *rng.sample(NAMES, 4), *rng.sample(CITIES, 4)])
    setups = dict(TODAY) if args.only_today else {**TODAY, **CANDIDATES}
    setups.update(dict(s.split("=", 1) for s in args.setup))
    if args.only:
        setups = {n: setups[n] for n in args.only.split(",")}
    results = {}
    for name, spec in setups.items():
        started = time.perf_counter()
        results[name] = hear(Setup.parse(name, spec), clips, config, store, prompt)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    report(clips, results, args.verbose)


if __name__ == "__main__":
    main()
