"""Words the ears should expect: a greedy decoder nudged toward a list of phrases.

Moonshine takes no prompt, so the conversation's vocabulary (tool names, units, names from the
user's notes) cannot be given to it as Whisper's initial prompt is. Instead, while it decodes,
a token that starts one of the phrases at a word boundary, or continues one already begun, gets
a bonus on its logit ("shallow fusion" with a phrase list, as contextual biasing is done for
streaming recognisers). The bonus only tips close calls, and audio/moonshine.py keeps the
nudged reading only when it sounds nearly as likely as the plain one: a phrase the audio does
not sound like is not written. Phrases are matched on the token texts, so any split of a word
into tokens is followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

WORD = "\u2581"  # SentencePiece's mark for a space before a word
START_BONUS = 2.0  # on the logit of a token that starts a phrase
GO_ON_BONUS = 4.0  # on one that continues a phrase already started
_WORDS = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def phrases_of(prompt: str) -> list[str]:
    """The phrases to expect in a prompt: each comma-separated part of up to three words
    ("Use Python, kilograms, Marta"); the words of a longer part one by one. Words shorter
    than three letters are left out."""
    out: list[str] = []
    for part in re.split(r"[,;\n]|\.\s", prompt):
        words = [w for w in _WORDS.findall(part) if len(w) >= 3]
        out += [" ".join(words)] if 1 < len(words) <= 3 else words
    return list(dict.fromkeys(p for p in out if p))


class PhraseBias:
    """The phrases as token paths, and for one decoding at a time which tokens get a bonus
    next, given the tokens chosen so far (`begin` starts a decoding)."""

    def __init__(self, vocab: Sequence[bytes], phrases: Iterable[str]) -> None:
        phrases = list(phrases)
        self._counted = [
            re.compile(rf"\b{re.escape(p.lower())}s?\b") for p in dict.fromkeys(phrases)
        ]
        self._targets: list[bytes] = []
        for phrase in phrases:
            for form in {phrase, phrase.lower(), phrase[:1].upper() + phrase[1:]}:
                target = (WORD + form.replace(" ", WORD)).encode("utf-8")
                if target not in self._targets:
                    self._targets.append(target)
        ids: dict[bytes, int] = {}
        for token, text in enumerate(vocab):
            ids.setdefault(text, token)
        longest = max((len(t) for t in vocab), default=1)
        mark = len(WORD.encode("utf-8"))
        # For each target and each position in it: the tokens whose text comes next there.
        self._next: list[list[list[tuple[int, int]]]] = []
        for target in self._targets:
            table = []
            for at in range(len(target)):
                # A phrase is begun by a token with two letters or more after the space mark:
                # single letters would split the words around it into pieces.
                shortest = mark + min(2, len(target) - mark) if at == 0 else 1
                here = []
                for size in range(shortest, min(longest, len(target) - at) + 1):
                    token = ids.get(target[at : at + size])
                    if token is not None:
                        here.append((token, at + size))
                table.append(here)
            self._next.append(table)
        self._starts = np.array(sorted({t for table in self._next for t, _ in table[0]}), int)
        self._open: list[tuple[int, int]] = []  # (target, position reached) of phrases begun

    def __bool__(self) -> bool:
        return bool(self._targets)

    def begin(self) -> None:
        self._open = []

    def bonus(self, logits: np.ndarray) -> np.ndarray:
        """`logits` with this step's bonuses added (a copy)."""
        out = logits.copy()
        out[self._starts] += START_BONUS
        going = {t for which, at in self._open for t, _ in self._next[which][at]}
        for token in going:
            out[token] = logits[token] + GO_ON_BONUS
        return out

    def chose(self, token: int) -> None:
        """Moves the begun phrases on by the token chosen (or drops those it leaves)."""
        moved = []
        for which, at in [*self._open, *((w, 0) for w in range(len(self._targets)))]:
            for option, reached in self._next[which][at]:
                if option == token and reached < len(self._targets[which]):
                    moved.append((which, reached))
        self._open = list(dict.fromkeys(moved))

    def count(self, text: str) -> int:
        """How many times `text` says one of the phrases (a plural counts)."""
        lower = text.lower()
        return sum(len(p.findall(lower)) for p in self._counted)
