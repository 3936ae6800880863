"""Is the thought finished? A small chat model's probability that the user's message ends
after the words heard so far: one short forward pass over the words, the prompt's start kept
evaluated between calls."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant_app.core.errors import ModelUnavailable

# Chosen on 29 hand-written texts: fragments scored <= 0.0009, whole requests >= 0.03;
# bench/turns.py measures it on fresh clips.
FINISHED_AT = 0.01
# Below that but not plainly cut off ("Can you recommend a good book" ~0.004 where "Can you
# add 45 and" is ~0.00002): the turn ends after MAYBE_WAIT_S of silence, not the cap.
MAYBE_AT = 0.001
MAYBE_WAIT_S = 1.0
SYSTEM = "You are a helpful voice assistant. The user speaks; their words are transcribed."
# What the model may write next when the message is complete: the end of the turn, or a mark
# that closes a sentence (the transcript's own last mark is taken off first).
CLOSERS = ("<|im_end|>", ".", "?", "!", "?\n", ".\n")
FILLERS = {"um", "uh", "er", "erm", "hmm", "mm", "uhm", "ah"}  # not "so": "I think so."
TRAILING = re.compile(r"[\s.,!?;:\u2026-]+$")


@dataclass(frozen=True)
class Verdict:
    """The probability that the words so far are a finished message, and its cost."""

    probability: float
    seconds: float

    def finished(self, threshold: float) -> bool:
        return self.probability >= threshold

    def wait_s(self, threshold: float = FINISHED_AT) -> float | None:
        """The silence after the speech that ends the turn: none for a finished thought,
        MAYBE_WAIT_S for one that may be; None leaves it to the cap."""
        if self.finished(threshold):
            return 0.0
        return MAYBE_WAIT_S if self.probability >= MAYBE_AT else None


def ends_on_a_filler(text: str) -> bool:
    """ "Can you add nineteen and, um," — the thought goes on."""
    words = re.findall(r"[a-z']+", text.lower())
    return bool(words) and words[-1] in FILLERS


def only_fillers(text: str) -> bool:
    """ "Um." or "Hmm, uh." — nothing said yet."""
    words = re.findall(r"[a-z']+", text.lower())
    return bool(words) and all(w in FILLERS for w in words)


class TextTurnJudge:
    """P(finished) from a ChatML chat model (SmolLM2-135M by default: ~18 ms a pause here,
    bench/turns.py). On one thread by default: it judges on the ears' thread while the chat
    model reads ahead on its own, and one thread keeps llama.cpp's OpenMP workers to the chat
    model's (models/compute.py): 88 ms a pause beside a read-ahead against 98 ms on two, 47
    ms alone against 30 (bench/llama_threads.py)."""

    def __init__(self, gguf: Path, *, threads: int = 1) -> None:
        from llama_cpp import Llama

        try:
            self._llm = Llama(
                model_path=str(gguf), n_ctx=512, n_threads=threads, n_threads_batch=threads,
                verbose=False,
            )  # fmt: skip
        except ValueError as exc:
            raise ModelUnavailable(gguf.stem, f"llama.cpp could not load it ({exc})") from None
        self._lock = threading.Lock()
        head = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
        self._head = self._tokens(head, bos=True)
        closers = {self._tokens(c)[0] for c in CLOSERS if self._tokens(c)}
        self._closers = sorted(closers)
        self._evaluated: list[int] = []
        self._logits_after(self._head)  # read once now: the first pause is judged as fast

    def _tokens(self, text: str, bos: bool = False) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=bos, special=True)

    def judge(self, text: str) -> Verdict:
        """How likely `text` (a transcript) is the whole message."""
        start = time.perf_counter()
        words = TRAILING.sub("", text.strip())
        if not words:
            return Verdict(0.0, time.perf_counter() - start)
        if ends_on_a_filler(words):
            return Verdict(0.0, time.perf_counter() - start)
        tokens = self._head + self._tokens(words)
        with self._lock:
            logits = self._logits_after(tokens)
        top = float(np.max(logits))
        weights = np.exp(logits - top)
        probability = float(np.sum(weights[self._closers]) / np.sum(weights))
        return Verdict(probability, time.perf_counter() - start)

    def _logits_after(self, tokens: list[int]) -> np.ndarray:
        """The next-token logits after `tokens`, evaluating only what differs from last time."""
        same = 0
        for a, b in zip(self._evaluated, tokens, strict=False):
            if a != b:
                break
            same += 1
        same = min(same, len(tokens) - 1)  # at least one token is evaluated, for its logits
        import llama_cpp

        self._llm.n_tokens = same
        self._llm.eval(tokens[same:])
        self._evaluated = list(tokens)
        # eval keeps no scores unless every position's logits are kept: read the last row.
        row = llama_cpp.llama_get_logits_ith(self._llm.ctx, -1)
        return np.ctypeslib.as_array(row, shape=(self._llm.n_vocab(),)).astype(np.float64)


def create_turn_judge(config, store) -> TextTurnJudge | None:  # noqa: ANN001 - VadConfig, ModelStore
    """The judge [vad] end_of_turn asks for: None when silence alone ends a turn."""
    if config.end_of_turn == "silence":
        return None
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            config.end_of_turn_model, f"llama-cpp-python is missing ({exc})",
            fix="run scripts/setup, or set [vad] end_of_turn = \"silence\".",
        ) from None  # fmt: skip
    return TextTurnJudge(store.file_path(config.end_of_turn_model))
