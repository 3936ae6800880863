"""Benchmark: tokens/s and time to first token, our LlamaChatModel against raw llama-cpp-python.

Run from the repo root: `.venv/bin/python bench/llm.py [--model NAME] [--threads N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

if TYPE_CHECKING:
    from llama_cpp import Llama

# A realistic system prompt (~300 tokens): persona, speaking rules and the tools the app offers.
SYSTEM_PROMPT = """\
You are Aria, a helpful and concise voice assistant that runs entirely offline on the user's \
computer. Everything you write is read aloud by a speech synthesizer, so follow these rules:
1. Answer in one to three short sentences unless the user asks for more detail.
2. Do not use Markdown, bullet points, tables, code blocks or emoji; write plain spoken English.
3. Spell out symbols that sound odd when read aloud, and round long numbers sensibly.
4. If you are not sure of a fact, say so briefly instead of guessing.
5. Never claim to have browsed the internet: you have no network access.
6. Keep a friendly, calm tone, and address the user directly.
You can call these tools when they help; call at most one tool per turn and wait for its result:
- calculator(expression: string): evaluates an arithmetic expression such as "17 * 24" exactly.
  Use it for any multiplication, division or percentage with more than two digits.
- set_reminder(text: string, when: string): schedules a spoken reminder; "when" is a date and time
  in ISO 8601 format in the user's local time zone.
- get_time(): returns the current local date and time.
When a tool returns an error, explain the problem to the user in plain words and suggest what they
could do next. When the user interrupts you, stop and listen. The user's name is Sam, they live in
Lyon, France, and they prefer metric units and the twenty-four hour clock.
"""
COLD_QUESTION = "What is the capital of France?"
WARM_QUESTION = "How many minutes are there in a day?"
GENERATE_PROMPT = (
    "Explain step by step how a refrigerator keeps food cold, in at least four paragraphs."
)


@dataclass(frozen=True)
class Result:
    """One streamed request: the text, and when each text piece arrived (seconds from the call)."""

    text: str
    times: tuple[float, ...]
    total_s: float

    @property
    def first_s(self) -> float:
        return self.times[0] if self.times else float("nan")

    def rate(self, tokens: int) -> float:
        """Generation tokens/s: tokens after the first over the time from first to last piece."""
        return (tokens - 1) / (self.times[-1] - self.times[0]) if tokens > 1 else float("nan")

    def steady_rate(self) -> float:
        """1 / median gap between pieces: ignores the bursts where other jobs took the CPU."""
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        return 1 / median(gaps) if gaps else float("nan")


Stream = Callable[[list[dict[str, str]], int], Iterator[str]]


def timed(stream: Stream, messages: list[dict[str, str]], max_tokens: int) -> Result:
    """Consumes one streamed reply, noting when each text piece arrived."""
    start = time.perf_counter()
    times: list[float] = []
    parts: list[str] = []
    for piece in stream(messages, max_tokens):
        times.append(time.perf_counter() - start)
        parts.append(piece)
    return Result("".join(parts), tuple(times), time.perf_counter() - start)


def make_sides(args: argparse.Namespace) -> tuple[dict[str, Stream], dict[str, float], Llama]:
    """Loads our ChatModel and one raw `Llama` with identical parameters; returns both streams."""
    from llama_cpp import Llama

    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.config import load_config
    from assistant_app.core.messages import ChatMessage
    from models.llm import create_chat_model
    from models.store import open_store

    config = load_config()
    llm = config.replace("llm", model=args.model, threads=args.threads, temperature=0.0).llm
    store = open_store(config)
    gguf = store.file_path(llm.model)  # verified before timing starts
    start = time.perf_counter()
    ours = create_chat_model(llm, store)
    load = {"ours": time.perf_counter() - start}
    start = time.perf_counter()
    raw = Llama(
        model_path=str(gguf),
        n_ctx=llm.context_tokens,
        n_threads=llm.threads,
        n_threads_batch=llm.threads,
        verbose=False,
    )
    load["raw"] = time.perf_counter() - start

    def ours_stream(messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        chat = [ChatMessage(m["role"], m["content"]) for m in messages]
        for delta in ours.stream_reply(chat, [], CancelToken.never(), max_tokens=max_tokens):
            if delta.text:
                yield delta.text

    def raw_stream(messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        # The same call LlamaChatModel makes: no tools, temperature 0 (greedy), same max_tokens.
        stream = raw.create_chat_completion(
            messages=messages, tools=None, temperature=0.0, max_tokens=max_tokens, stream=True
        )
        for chunk in stream:
            text = chunk["choices"][0]["delta"].get("content") or ""
            if text:
                yield text

    return {"ours": ours_stream, "raw": raw_stream}, load, raw


def first_token_times(sides: dict[str, Stream], runs: int) -> dict[str, dict[str, list[float]]]:
    """TTFT with a new system prompt (cold) and then the same one again (warm prefix cache)."""
    out = {side: {"fresh": [], "cold": [], "warm": []} for side in sides}
    for run in range(runs + 1):
        # Run 0 is the first request on a fresh model; later runs change the system prompt's
        # first words so llama.cpp's prefix cache misses, as with a new conversation.
        system = SYSTEM_PROMPT if run == 0 else f"Conversation {run}. {SYSTEM_PROMPT}"
        order = list(sides) if run % 2 == 0 else list(sides)[::-1]
        for kind, question in (("cold", COLD_QUESTION), ("warm", WARM_QUESTION)):
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": question},
            ]
            for side in order:
                result = timed(sides[side], messages, 4)
                out[side]["fresh" if run == 0 and kind == "cold" else kind].append(result.first_s)
    return out


def generation_rates(
    sides: dict[str, Stream], runs: int, max_tokens: int, count: Callable[[str], int]
) -> dict[str, list[tuple[Result, int]]]:
    """Interleaved (A B, B A, ...) long replies to the same prompt; each with its token count."""
    messages = [
        {"role": "system", "content": "You are a helpful, concise assistant."},
        {"role": "user", "content": GENERATE_PROMPT},
    ]
    out: dict[str, list[tuple[Result, int]]] = {side: [] for side in sides}
    for run in range(runs):
        for side in list(sides) if run % 2 == 0 else list(sides)[::-1]:
            result = timed(sides[side], messages, max_tokens)
            out[side].append((result, count(result.text)))
    return out


def report(
    load: dict[str, float],
    ttft: dict[str, dict[str, list[float]]],
    gen: dict[str, list[tuple[Result, int]]],
) -> None:
    """Prints the per-side table, the per-run rates and the ours ÷ raw ratios."""
    rates = {side: [r.rate(n) for r, n in results] for side, results in gen.items()}
    steady = {side: [r.steady_rate() for r, _ in results] for side, results in gen.items()}
    rows = []
    for side in gen:
        r0, n0 = gen[side][0]
        rows.append(
            [
                side,
                load[side],
                ttft[side]["fresh"][0],
                median(ttft[side]["cold"]),
                median(ttft[side]["warm"]),
                median(rates[side]),
                median(steady[side]),
                median([n / r.total_s for r, n in gen[side]]),
                f"{n0} tokens / {len(r0.times)} pieces",
            ]
        )
    headers = ["side", "load s", "TTFT fresh s", "TTFT cold s", "TTFT warm s", "gen tok/s"]
    print_table(headers + ["steady tok/s", "end-to-end tok/s", "first reply"], rows)
    print()
    for side in gen:
        print(f"{side} gen tok/s per run:    " + ", ".join(f"{x:.2f}" for x in rates[side]))
        print(f"{side} steady tok/s per run: " + ", ".join(f"{x:.2f}" for x in steady[side]))
    ratio = median(rates["ours"]) / median(rates["raw"])
    steady_ratio = median(steady["ours"]) / median(steady["raw"])
    print(f"\nratio ours/raw: gen tok/s {ratio:.3f}, steady tok/s {steady_ratio:.3f} (medians)")
    for side in gen:
        cold = median(ttft[side]["cold"]) / median(ttft[side]["warm"])
        print(f"{side}: cold TTFT / warm TTFT = {cold:.1f}x (prefix cache reuse)")
    _compare_replies(gen)


def _compare_replies(gen: dict[str, list[tuple[Result, int]]]) -> None:
    """Greedy decoding should give one reply everywhere; variants show where it did not."""
    variants = sorted({r.text for results in gen.values() for r, _ in results})
    print(f"distinct replies over both sides and all runs: {len(variants)}")
    for side, results in gen.items():
        print(
            f"  {side} reply variant per run: "
            + " ".join(str(variants.index(r.text)) for r, _ in results)
        )
    if len(variants) > 1:
        same = os.path.commonprefix(variants)
        print(f"  variants agree on their first {len(same)} characters, then differ")
    print(f"reply 0 starts: {variants[0][:160]!r}")


def main(argv: list[str] | None = None) -> None:
    """Parses flags, loads both sides once, and runs the TTFT and throughput benchmarks."""
    from assistant_app.core.config import load_config

    defaults = load_config().llm
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=defaults.model, help="catalog name of the chat model")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="llama.cpp threads")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per side (median)")
    parser.add_argument("--max-tokens", type=int, default=128, help="reply length for tokens/s")
    args = parser.parse_args(argv)
    print(f"# LLM benchmark: {args.model}, {args.threads} threads, {args.runs} runs")
    print(machine_line())
    sides, load, raw = make_sides(args)

    def count(text: str) -> int:
        return len(raw.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    print(f"system prompt for TTFT: {count(SYSTEM_PROMPT)} tokens; max_tokens {args.max_tokens}")
    ttft = first_token_times(sides, args.runs)
    gen = generation_rates(sides, args.runs, args.max_tokens, count)
    report(load, ttft, gen)
    print(f"\nfinished {machine_line()}")


if __name__ == "__main__":
    main()
