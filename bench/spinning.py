"""Benchmark: onnxruntime's idle worker threads spinning or sleeping, and what runs beside them.

Run from the repo root: `.venv/bin/python bench/spinning.py [--rounds 18]`. Two measurements,
each with the sessions built spinning (onnxruntime's default) and sleeping (the assistant's
setting), in the same process:

- the end-of-turn judge right after a Moonshine transcription of a 3 s espeak-ng clip (the
  order of the live loop), and the transcription's own time;
- the chat model's tokens a second alone and while the Piper voice synthesizes sentence after
  sentence in another thread (a spoken reply: the next sentence is written while one is said).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

SENTENCE = "The lighthouse keeper climbed the stairs every evening and lit the lamp."
TURNS = ["Can you add nineteen and", "What is the capital of France?", "Tell me a story about"]


@contextlib.contextmanager
def spinning(on: bool):
    """Sessions built inside spin (`on`) or sleep, whatever their code asks for."""
    import onnxruntime as ort

    real = ort.SessionOptions.add_session_config_entry

    def entry(self, key: str, value: str) -> None:  # noqa: ANN001
        real(self, key, ("1" if on else "0") if key.endswith("allow_spinning") else value)

    ort.SessionOptions.add_session_config_entry = entry
    try:
        yield
    finally:
        ort.SessionOptions.add_session_config_entry = real


def clip() -> np.ndarray:
    from audio.wav import read_audio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        text = "Can you add nineteen and twenty three for me please"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
        return read_audio(path)  # 16 kHz


def ears_then_judge(config, store, rounds: int, on: bool) -> tuple[float, float]:  # noqa: ANN001
    from audio.stt import create_speech_to_text
    from models.end_of_turn import create_turn_judge

    with spinning(on):
        ears = config.replace("stt", model=config.voice.stt_model or config.stt.model)
        stt = create_speech_to_text(ears.stt, store)
    judge = create_turn_judge(config.replace("vad", end_of_turn="meaning").vad, store)
    audio = clip()
    stt.transcribe(audio, "en")
    heard, judged = [], []
    for i in range(rounds):
        start = time.perf_counter()
        stt.transcribe(audio, "en")
        heard.append(time.perf_counter() - start)
        judged.append(judge.judge(TURNS[i % len(TURNS)]).seconds)
        judge.judge("x y z")  # the next one starts from the prompt's head again
    return median(heard), median(judged)


def writing_beside_a_voice(config, store, on: bool) -> tuple[float, float]:  # noqa: ANN001
    from llama_cpp import Llama

    from assistant_app.core.cancel import CancelToken
    from audio.tts import PiperTextToSpeech

    with spinning(on):
        voice = PiperTextToSpeech(str(store.file_path("piper-joe-medium")))
    llm = Llama(model_path=str(store.file_path(config.llm.model)), n_ctx=512, n_threads=2,
                verbose=False)  # fmt: skip

    def rate() -> float:
        start, n = time.perf_counter(), 0
        prompt = "Write a long story about a lighthouse keeper."
        for _ in llm.create_completion(prompt, max_tokens=60, stream=True, temperature=0):
            n += 1
        return n / (time.perf_counter() - start)

    rate()
    alone = rate()
    stop = threading.Event()

    def speak() -> None:
        while not stop.is_set():
            for _ in voice.synthesize(SENTENCE, CancelToken.never()):
                pass

    speaker = threading.Thread(target=speak)
    speaker.start()
    time.sleep(0.5)
    try:
        beside = rate()
    finally:
        stop.set()
        speaker.join()
    return alone, beside


def main(argv: list[str] | None = None) -> None:
    from assistant_app.core.config import load_config
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=18)
    args = parser.parse_args(argv)
    config = load_config()
    store = open_store(config)
    print(f"# onnxruntime workers spinning or sleeping\n\n{machine_line()}\n")
    rows = []
    for on in (True, False):
        heard, judged = ears_then_judge(config, store, args.rounds, on)
        alone, beside = writing_beside_a_voice(config, store, on)
        rows.append(("spinning" if on else "sleeping", f"{1000 * heard:.0f}",
                     f"{1000 * judged:.1f}", f"{alone:.1f}", f"{beside:.1f}"))  # fmt: skip
    print_table(["idle workers", "Moonshine transcript ms", "judge right after ms",
                 "chat tokens/s alone", "chat tokens/s beside Piper"], rows)  # fmt: skip
    spin, sleep = rows
    print(f"\njudge after the ears: x{float(sleep[2]) / float(spin[2]):.2f}; chat beside Piper: "
          f"x{float(sleep[4]) / float(spin[4]):.2f} (sleeping / spinning)")  # fmt: skip


if __name__ == "__main__":
    main()
