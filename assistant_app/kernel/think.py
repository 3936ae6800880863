"""'Think longer': trade time for accuracy by sampling several solutions and voting."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant_app.core.cancel import CancelToken
from assistant_app.core.engines import ChatModel
from assistant_app.core.messages import ChatMessage

INSTRUCTION = (
    "Think step by step. Check your work. Then give the final answer alone on the last line, "
    "as: Answer: <answer>"
)
TRIGGERS = re.compile(
    # Spoken, it comes back from speech recognition as "Think carefully. What is ...?" too.
    r"^\s*(?:please,?\s+)?think (?:carefully|hard|longer)\b[\s,.:;!-]*(?:about\s+)?",
    re.IGNORECASE,
)
_ANSWER = re.compile(r"answer\s*[:=]\s*(.+)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


# A spoken "think carefully" stops starting attempts after this long (one attempt of the 1.5B
# model takes 10-20 s; the typed budget, 120 s, meant over a minute and a half of silence).
SPOKEN_BUDGET_S = 20.0


@dataclass(frozen=True)
class Attempt:
    text: str
    answer: str  # normalised, "" when the attempt gave none


@dataclass(frozen=True)
class Verdict:
    answer: str
    votes: int
    attempts: tuple[Attempt, ...]
    seconds: float

    def reply(self, spoken: bool = False) -> str:
        """What the user reads: the agreed answer, how sure, and one line of the reasoning;
        spoken, the answer and how sure only."""
        if not self.answer:
            return "I thought about it several times but could not settle on an answer."
        if spoken:
            agreed = f" {self.votes} of {len(self.attempts)} attempts agreed on it."
            return f"The answer is {self.answer}.{agreed if len(self.attempts) > 1 else ''}"
        winner = next(a for a in self.attempts if a.answer == self.answer)
        steps = [ln for ln in winner.text.strip().splitlines() if ln.strip()]
        why = " ".join(steps[:-1])[-400:] if len(steps) > 1 else ""
        return (
            f"{self.answer}\n({self.votes} of {len(self.attempts)} independent attempts "
            f"agreed, {self.seconds:.0f} s.) {why}"
        ).strip()


def wants_thinking(text: str) -> tuple[bool, str]:
    """('think carefully about X' → True, 'X'): the spoken way to ask for this mode."""
    stripped = TRIGGERS.sub("", text, count=1)
    return stripped != text, stripped


def extract_answer(text: str) -> str:
    """The final answer of an attempt, normalised so that '1,200' and '1200.0' agree."""
    found = _ANSWER.findall(text)
    raw = (found[-1] if found else (text.strip().splitlines() or [""])[-1]).strip().rstrip(".")
    numbers = _NUMBER.findall(raw)
    if numbers:
        value = float(numbers[-1].replace(",", "")) if found or len(numbers) == 1 else None
        if value is not None:
            return str(int(value)) if value == int(value) else f"{value:g}"
    # Without the "Answer:" line, a short last line ("Thursday.") is still an answer.
    short_answer = len(raw.split()) <= 3 and raw[:1].isupper()
    return raw.lower() if found or short_answer else ""


def think_longer(
    model: ChatModel,
    messages: Sequence[ChatMessage],
    *,
    samples: int = 5,
    budget_s: float = 120.0,
    temperature: float = 0.7,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Verdict:
    """Up to `samples` independent attempts within `budget_s`; the majority answer wins.

    The first attempt is greedy (what a normal reply would say); the rest sample, so they can
    disagree where the model is unsure. Stops early once a majority is certain.
    """
    cancel = cancel or CancelToken.never()
    request = [*messages[:-1], ChatMessage("user", f"{messages[-1].content}\n\n{INSTRUCTION}")]
    start = time.monotonic()
    attempts: list[Attempt] = []
    for n in range(samples):
        if cancel.cancelled or (attempts and time.monotonic() - start > budget_s):
            break
        text = "".join(
            d.text
            for d in model.stream_reply(
                request, [], cancel, temperature=0.0 if n == 0 else temperature
            )
        )
        attempts.append(Attempt(text, extract_answer(text)))
        if progress is not None:
            progress(n + 1, samples, attempts[-1].answer)
        counts = Counter(a.answer for a in attempts if a.answer)
        if counts and counts.most_common(1)[0][1] > samples // 2:
            break  # the rest cannot outvote this
    counts = Counter(a.answer for a in attempts if a.answer)
    answer, votes = counts.most_common(1)[0] if counts else ("", 0)
    return Verdict(answer, votes, tuple(attempts), time.monotonic() - start)
