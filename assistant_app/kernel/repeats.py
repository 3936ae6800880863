"""Telling a reply that has started to loop: small models, asked for something long, may write
one sentence (or one phrase) over and over until the token limit."""

from __future__ import annotations

import re
from collections import Counter

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
LONG_SENTENCE_WORDS = 6  # a sentence this long said twice is a loop, not a refrain
SHORT_SENTENCE_WORDS = 3  # a shorter one may come back once ("He waited."), not twice
TAIL = 400  # characters searched for a phrase repeated back to back
MIN_PERIOD, MIN_REPEATS = 12, 4


class LoopGuard:
    """Fed the reply as it streams, gives back what may be shown now. A sentence that could be
    turning into a repeat (its words so far begin one already said) is held until it turns
    out different; a repeat is never shown: `looping` turns true and nothing more comes.

    `notes`: what the kernel told the model (not the user); a long sentence of them (or its
    start), copied into the reply, is a repeat the first time ("…because the tool failed. If
    a tool can still help, call it again with a fix; otherwise answer the user yourself…")."""

    def __init__(self, notes: tuple[str, ...] = ()) -> None:
        self.text = ""
        self.looping = False
        self._done = 0  # characters of `text` already split into finished sentences
        self._shown = 0
        self._seen: Counter[str] = Counter()
        split = (_words(s) for note in notes for s in SENTENCE_END.split(note))
        self._notes = [" ".join(w) for w in split if len(w) >= LONG_SENTENCE_WORDS]
        self._seen.update(self._notes)  # held while it may be one, as a repeat is

    def push(self, piece: str) -> str:
        """Adds a piece of the reply; returns the part of the reply that may be shown now."""
        if self.looping:
            return ""
        self.text += piece
        for match in SENTENCE_END.finditer(self.text, self._done):
            sentence = self.text[self._done : match.start()]
            start, self._done = self._done, match.end()
            if self._repeats(sentence):
                return self._stop(start)
        if (start := _stutter(self.text)) is not None:
            return self._stop(start)
        held = self._could_repeat(self.text[self._done :])
        return self._show(self._done if held else len(self.text))

    def finish(self) -> str:
        """The rest of the reply once it has ended: its last sentence too, unless that one is
        a repeat."""
        if self.looping:
            return ""
        if self._repeats(self.text[self._done :]):
            return self._stop(self._done)
        return self._show(len(self.text))

    def _show(self, upto: int) -> str:
        out, self._shown = self.text[self._shown : upto], max(self._shown, upto)
        return out

    def _stop(self, start: int) -> str:
        self.looping = True
        return self._show(start)

    def _could_repeat(self, partial: str) -> bool:
        words = _words(partial)
        if not words:
            return False
        head = " ".join(words)
        return any(key.startswith(head) for key in self._seen)

    def _repeats(self, sentence: str) -> bool:
        words = _words(sentence)
        if len(words) < SHORT_SENTENCE_WORDS or not any(w.isalpha() for w in words):
            return False  # "1." of a list, "Yes."
        key = " ".join(words)
        if len(words) >= LONG_SENTENCE_WORDS and any(n.startswith(key) for n in self._notes):
            return True  # the notes, or their start
        self._seen[key] += 1
        limit = 2 if len(words) >= LONG_SENTENCE_WORDS else 3
        return self._seen[key] >= limit


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def _stutter(text: str) -> int | None:
    """Where a phrase repeated back to back at least MIN_REPEATS times at the end of `text`
    starts being repeated (its second copy), else None."""
    tail = text[-TAIL:]
    offset = len(text) - len(tail)
    for period in range(MIN_PERIOD, len(tail) // MIN_REPEATS + 1):
        unit = tail[-period:]
        if not re.search(r"[a-zA-Z]{2}", unit):
            continue  # "-----" or "1 2 3" rules and tables are not loops
        n = 1
        while n * period + period <= len(tail) and tail[-(n + 1) * period : -n * period] == unit:
            n += 1
        if n >= MIN_REPEATS:
            return offset + len(tail) - (n - 1) * period
    return None
