"""Misread words put right by what the recogniser saw: a word no dictionary knows ("Jo6s",
"Hame", "Iten") is replaced by a usual word a letter or two away when the recogniser's own
letter probabilities, frame by frame, give that word nearly as much belief as the misreading.
The same check puts back a price's "$" read as a digit ("849" -> "$49"), a letter read as signs
("[lenu" -> "Menu") and a button's first verb ("Cet" -> "Get").

The recogniser is a CTC model: for each column of the line image it gives a probability for
every letter and for "no letter here". The chance of a word over the columns it covers is the
sum over every way its letters can sit in those columns (the CTC forward pass), so a word
whose letters were the runner-up in the right columns scores close to the read one, and a
word that merely looks alike in spelling does not."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

import numpy as np

from vision.ocr_words import SHORT_WORDS, edit_distance, near_words, usual, word_costs
from vision.page_roles import ACTION_WORDS

BLANK = 0  # the CTC "no letter" index (RapidOCR puts it first)
# How much less belief a dictionary word may have than the misreading it replaces
# (natural log: the recogniser must give it at least 1/20 of the reading's likelihood).
MARGIN = 3.0
# For a reading no dictionary has at all ("Welsite", "Colden", "Soarch"): it cannot be right
# as it stands, so a word with up to 1/150 of its likelihood replaces it. A rarer word the
# dictionary knows keeps MARGIN: "mugs" read right became "rugs" at 4.5 when every word had 5
# (generated sketches, reading alone: docs/BENCHMARKS.md, 2026-12-07 third session).
UNKNOWN_MARGIN = 5.0
# A word rarer than this (wordninja's cost: the log of its frequency rank) may be half of a
# word split in two ("Road ing"); one word is looked at only when no usual word at all (a
# looser bound changed as many rare words wrongly as rightly on generated sketches).
RARE = 11.5
# A price's hand-drawn "$" is often read as a digit or a look-alike ("849 / month", "#99"):
# such a number is tried with a "$" in its first place.
PRICE_LIKE = re.compile(r"(?<![\w$#.])[89S#]\d{1,4}(?:\.\d\d)?(?![\w.])")
# The verbs a button's label starts with, for a first word misread ("Co" for "Go", "Cet
# started").
FIRST_VERBS = (
    *ACTION_WORDS, "buy", "book", "choose", "contact", "find", "get", "learn", "order", "select",
    "start", "try", "view",
)  # fmt: skip
# A letter the recogniser read as two signs, or as a sign: "[lenu" and "ilenu" for "Menu",
# "©rder" for "Order". A reading with one becomes the usual word it spells with the letter.
LOOK_ALIKES = (("[l", "M"), ("[L", "M"), ("il", "M"), ("Il", "M"), ("©", "O"), ("©", "C"))
# A sign standing alone between words: an "I" ("Can ] pay by card?"), or, after a price, the
# slash of "$55 { year".
LONE_SIGNS = frozenset("[]{}|\\")
LONE_PRICE = re.compile(r"\$?\d+(?:\.\d\d)?")
# Two letters that are no word ("Tc do", "Pay rent ly Saturday") become a two-letter word one
# letter away; these stay as written.
ABBREVIATIONS = frozenset("am pm mr dr st ms km kg cm mm ml ok vs jr tv id".split())


class LineBelief:
    """One recognised line: its per-column probabilities and the text the engine's own
    decoder read from them."""

    def __init__(self, probs: np.ndarray, text: str, index: dict[str, int]) -> None:
        self.probs = probs
        self.text = text
        self.index = index

    @functools.cached_property
    def columns(self) -> np.ndarray:
        """The column where each read character was decided (greedy CTC decoding: the most
        likely letter, a run of one letter once, blanks dropped)."""
        best = self.probs.argmax(axis=1)
        return np.flatnonzero((best != BLANK) & np.r_[True, best[1:] != best[:-1]])

    def corrections(self) -> dict[str, str]:
        """Each misread word of the line mapped to the usual word the recogniser also saw, and
        each word split in two ("Cit y", "Stud lent") to the one word it was."""
        words = [
            (m.start(), m.end(), m.group(0)) for m in re.finditer(r"[^\s.,:;!?()\"']+", self.text)
        ]
        pairs = [
            (first, second)
            for first, second in itertools.pairwise(words)
            if self.text[first[1] : second[0]] == " "
            and (first[2] + second[2]).isalpha()
            and (_part(first[2]) or _part(second[2]))
        ]
        singles = [word for word in words if _worth_a_look(word[2])]
        # A usual or two-letter first word may be a button's verb misread ("Las in", "Co").
        first = words[:1] if words and _may_be_an_action(words[0][2]) else []
        prices = [(m.start(), m.end(), m.group(0)) for m in PRICE_LIKE.finditer(self.text)]
        # Signs cannot be right as read (the margin for readings no dictionary has); two
        # letters may be ("Tc" is no word, but "Ok" and "Hi" are): the usual margin.
        signs = [(s, e, w, alike, UNKNOWN_MARGIN) for s, e, w in words
                 if (alike := _look_alike_words(w))]  # fmt: skip
        signs += [(s, e, w, [x], UNKNOWN_MARGIN) for s, e, w, x in _lone_signs(words)]
        signs += [(s, e, w, two, MARGIN) for s, e, w in words if (two := _two_letter_words(w))]
        out: dict[str, str] = {}
        looked_at = pairs or singles or first or prices or signs
        if not looked_at or len(self.columns) != len(self.text):
            return out  # nothing to look at, or a decoder that reads otherwise than greedily
        split: set[int] = set()
        for (s1, _, a), (s2, e2, b) in pairs:
            if s1 in split:
                continue
            better = self._best(f"{a} {b}", self._span(s1, e2), _candidates(a + b, whole=True))
            if better:
                out[f"{a} {b}"] = better
                split |= {s1, s2}
        for start, end, word in singles:
            if start in split or word in out:
                continue
            margin = MARGIN if _known(word) else UNKNOWN_MARGIN
            better = self._best(word, self._span(start, end), _candidates(word), margin)
            if better:
                out[word] = better
        for start, end, word in first:
            if start not in split and word not in out:
                near = _actions_near(word) + _two_letter_words(word)  # "Tc": "Go" or "To"
                if better := self._best(word, self._span(start, end), near):
                    out[word] = better
        for start, end, word in prices:
            if better := self._best(word, self._span(start, end), ["$" + word[1:]]):
                out[word] = better
        for start, end, word, spelt, margin in signs:
            if word not in out and (
                better := self._best(word, self._span(start, end), spelt, margin)
            ):
                out[word] = better
        return out

    def _span(self, start: int, end: int) -> np.ndarray:
        """The columns of the text's characters start..end: from just after the character
        before them to just before the one after them."""
        lo = self.columns[start - 1] + 1 if start > 0 else 0
        hi = self.columns[end] if end < len(self.columns) else len(self.probs)
        return np.log(np.clip(self.probs[lo:hi], 1e-12, 1.0))

    def _best(
        self, read: str, frames: np.ndarray, candidates: list[str], margin: float = MARGIN
    ) -> str:
        best, best_score = "", self.likelihood(read, frames) - margin
        for candidate in candidates:
            score = self.likelihood(candidate, frames)
            if score > best_score:
                best, best_score = candidate, score
        return best

    def likelihood(self, word: str, frames: np.ndarray) -> float:
        """log P(word | frames): the CTC forward pass over the word's letters."""
        labels = [self.index.get(ch) for ch in word]
        if not labels or None in labels or len(frames) < len(labels):
            return -np.inf
        return ctc_log_likelihood(frames, labels)  # type: ignore[arg-type]  # no None left


def alphabet_index(alphabet: Sequence[str]) -> dict[str, int]:
    """Each letter's column in the recogniser's output (the blank left out)."""
    return {ch: i for i, ch in enumerate(alphabet) if i != BLANK}


def ctc_log_likelihood(log_probs: np.ndarray, labels: Sequence[int]) -> float:
    """log P(labels | frames) under CTC, `log_probs` being per-frame log probabilities."""
    states = [BLANK]
    for label in labels:
        states += [label, BLANK]
    states_arr = np.asarray(states)
    n = len(states)
    # A state may be reached from two back when it is a letter unlike the letter two back.
    skip = np.zeros(n, bool)
    skip[2:] = (states_arr[2:] != BLANK) & (states_arr[2:] != states_arr[:-2])
    alpha = np.full(n, -np.inf)
    alpha[0] = log_probs[0, BLANK]
    alpha[1] = log_probs[0, states[1]]
    for t in range(1, len(log_probs)):
        stay = alpha
        step = np.r_[-np.inf, alpha[:-1]]
        jump = np.where(skip, np.r_[-np.inf, -np.inf, alpha[:-2]], -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + log_probs[t, states_arr]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


def _worth_a_look(word: str) -> bool:
    """A word of three to twelve letters (a digit among them allowed: "Jo6s") that is no usual
    word; numbers and short codes in capitals stay as read."""
    if not 3 <= len(word) <= 12 or not re.fullmatch(r"[A-Za-z0-9]+", word):
        return False
    if word.isdigit() or (word.isupper() and len(word) <= 4) or not re.search(r"[a-z]", word):
        return False
    letters = sum(ch.isalpha() for ch in word)
    return letters >= len(word) - 1 and not usual(word)


def _may_be_an_action(word: str) -> bool:
    """A usual word, or two letters ("Co"), not itself one of the action words."""
    low = word.lower()
    return word.isalpha() and low not in FIRST_VERBS and (len(low) == 2 or usual(low))


def _actions_near(word: str) -> list[str]:
    """The action words two edits or fewer from `word` (one for two letters, or any verb of
    two: "Cc" may be "Go"), in its case."""
    low = word.lower()
    near = [
        a
        for a in FIRST_VERBS
        if edit_distance(low, a) <= (1 if len(low) <= 2 else 2) or len(low) == len(a) == 2
    ]
    if word.isupper():
        return [a.upper() for a in near]
    return [a.capitalize() if word[0].isupper() else a for a in near]


def _look_alike_words(word: str) -> list[str]:
    """The usual words `word` spells with one of its look-alike signs read as the letter."""
    if usual(word):
        return []
    out = []
    for sign, letter in LOOK_ALIKES:
        at = word.find(sign)
        if at < 0:
            continue
        spelt = word[:at] + letter + word[at + len(sign) :]
        if spelt.isalpha() and usual(spelt.lower()):
            out.append(spelt[0] + spelt[1:].lower() if spelt[0].isupper() else spelt.lower())
    return out


def _lone_signs(words: list[tuple[int, int, str]]) -> list[tuple[int, int, str, str]]:
    """Signs standing alone between two words, each with what it stands for: the slash
    after a price, else the word "I" between letters."""
    out = []
    for (_, _, before), (start, end, sign), (_, _, after) in zip(
        words, words[1:], words[2:], strict=False
    ):
        if sign in LONE_SIGNS and after.isalpha():
            if LONE_PRICE.fullmatch(before):
                out.append((start, end, sign, "/"))
            elif before.isalpha():
                out.append((start, end, sign, "I"))
    return out


def _two_letter_words(word: str) -> list[str]:
    """The two-letter words one letter from a two-letter reading that is no word ("Tc" ->
    "To"), written in its case; nothing for words, abbreviations and capitals ("UK")."""
    low = word.lower()
    if len(word) != 2 or not word.isalpha() or word.isupper() or low in SHORT_WORDS | ABBREVIATIONS:
        return []
    near = sorted(w for w in SHORT_WORDS if len(w) == 2 and edit_distance(low, w) == 1)
    return [w.capitalize() if word[0].isupper() else w for w in near]


def _known(word: str) -> bool:
    costs = word_costs()
    return costs is None or word.lower() in costs


def _rare(word: str) -> bool:
    costs = word_costs()
    return costs is not None and costs.get(word.lower(), 99.0) > RARE


def _part(word: str) -> bool:
    """Whether `word` may be half of a word the recogniser split: a rare word ("ing", "Cit"),
    or a letter or two that seldom stand alone ("y")."""
    return _rare(word) or (len(word) <= 2 and word.lower() not in SHORT_WORDS)


def _candidates(word: str, *, whole: bool = False) -> list[str]:
    """Usual words one edit away (two for six letters or more), written as `word` is: its
    first letter's case kept, the rest small; `whole`: `word` itself too if usual."""
    low = word.lower()
    near = {w for w in near_words(low, two_edits=len(low) >= 6) if len(w) >= 3 and w != low}
    if whole:  # a split word: its halves joined, never one half dropped
        near = {w for w in near if len(w) >= len(low) - 1} | ({low} if usual(low) else set())
    first_upper = word[0].isupper()
    return sorted(w.capitalize() if first_upper else w for w in near)
