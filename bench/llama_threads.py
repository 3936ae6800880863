"""Benchmark: llama.cpp evaluations asked for from several threads, or all run on one.

Run from the repo root: `.venv/bin/python bench/llama_threads.py [--tokens 40] [--rounds 3]`.
Each way runs in a fresh process (llama.cpp's OpenMP workers live as long as the threads that
asked for them), on the chat model ([llm] model) and the turn judge ([vad] end_of_turn_model):

- the chat model's tokens a second when one thread asks (the reference), when a second live
  thread has also evaluated (as the voice loop's read-ahead does), and when both go through
  the one evaluating thread of models/compute.py; with the voluntary context switches of the
  process a token (libgomp's barriers sleeping instead of spinning);
- the judge's milliseconds a pause on two threads and on one, alone and while the chat model
  reads ahead in 16-token pieces on its own thread (a pause in the voice loop does both).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper."
PAUSES = ["Can you add nineteen and", "What is the capital of France?", "Tell me a story about",
          "How many kilograms is five pounds?"]  # fmt: skip
WAYS = {
    "one asking thread (reference)": "alone",
    "two asking threads": "two",
    "two asking, one evaluating (models/compute.py)": "one",
}


def switches() -> int:
    """Voluntary context switches of all this process's threads so far."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        total += int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
    return total


def chat_rate(way: str, gguf: str, tokens: int, rounds: int) -> dict[str, float]:
    from llama_cpp import Llama

    from models.compute import evaluate_on_one_thread

    llm = Llama(model_path=gguf, n_ctx=1024, n_threads=2, n_threads_batch=2, verbose=False)
    if way == "one":
        evaluate_on_one_thread(llm)
    keep = threading.Event()
    if way != "alone":  # a live thread that has evaluated once, as the read-ahead is

        def reader() -> None:
            llm.eval(llm.tokenize(b"Hello"))
            keep.wait()

        threading.Thread(target=reader, daemon=True).start()
        time.sleep(1.0)
    rates, per_token = [], []
    for _ in range(rounds + 1):  # the first round only warms
        n, first, before = 0, 0.0, switches()
        for _ in llm.create_completion(PROMPT, max_tokens=tokens, stream=True, temperature=0):
            n += 1
            first = first or time.perf_counter()
        rates.append((n - 1) / (time.perf_counter() - first))
        per_token.append((switches() - before) / n)
    keep.set()
    return {"tokens/s": median(rates[1:]), "switches/token": median(per_token[1:])}


def judge_ms(threads: int, chat_gguf: str, judge_gguf: str) -> dict[str, float]:
    from llama_cpp import Llama

    from models.compute import evaluate_on_one_thread
    from models.end_of_turn import TextTurnJudge

    chat = Llama(model_path=chat_gguf, n_ctx=1024, n_threads=2, n_threads_batch=2, verbose=False)
    evaluate_on_one_thread(chat)
    judge = TextTurnJudge(Path(judge_gguf), threads=threads)
    for text in PAUSES:
        judge.judge(text)
    alone = [judge.judge(text).seconds for text in PAUSES * 3]
    tokens = chat.tokenize(("The keeper lit the lamp every evening. " * 40).encode())
    stop = threading.Event()

    def read_ahead() -> None:
        while not stop.is_set():
            chat.n_tokens = 0
            for start in range(0, 256, 16):
                chat.eval(tokens[start : start + 16])

    reader = threading.Thread(target=read_ahead, daemon=True)
    reader.start()
    time.sleep(1.0)
    beside = []
    for text in PAUSES * 4:
        beside.append(judge.judge(text).seconds)
        time.sleep(0.13)
    stop.set()
    reader.join()
    return {"alone ms": 1000 * median(alone), "beside a read-ahead ms": 1000 * median(beside)}


def in_a_fresh_process(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "chat":
            way, gguf = rest
            print(json.dumps(chat_rate(way, gguf, args.tokens, args.rounds)))
        else:
            threads, chat_gguf, judge_gguf = rest
            print(json.dumps(judge_ms(int(threads), chat_gguf, judge_gguf)))
        return
    from assistant_app.core.config import load_config
    from models.store import open_store

    config = load_config()
    store = open_store(config)
    chat = str(store.file_path(config.llm.model))
    judge = str(store.file_path(config.vad.end_of_turn_model))
    print(f"# llama.cpp evaluations from several threads\n\n{machine_line()}\n")
    print(f"chat model {config.llm.model}, {args.tokens} tokens x {args.rounds} rounds\n")
    rows, reference = [], 0.0
    for label, way in WAYS.items():
        found = in_a_fresh_process("chat", way, chat)
        reference = reference or found["tokens/s"]
        rows.append((label, f"{found['tokens/s']:.1f}", f"{found['tokens/s'] / reference:.2f}",
                     f"{found['switches/token']:.0f}"))  # fmt: skip
    print_table(["who evaluates", "tokens/s", "ratio to reference", "voluntary switches/token"],
                rows)  # fmt: skip
    print(f"\njudge {config.vad.end_of_turn_model} (the chat model on the evaluating thread)\n")
    rows = []
    for threads in (2, 1):
        found = in_a_fresh_process("judge", str(threads), chat, judge)
        rows.append((threads, f"{found['alone ms']:.1f}", f"{found['beside a read-ahead ms']:.1f}"))
    print_table(["judge threads", "ms a pause alone", "ms a pause beside a read-ahead"], rows)


if __name__ == "__main__":
    main()
