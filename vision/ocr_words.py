"""Putting right what the text recogniser gets wrong in hand-written words: the spaces it drops
between narrowly written words, and letters it misreads in a word no dictionary has.

Both use wordninja's English word costs (the log of a word's frequency rank in Wikipedia); a
word the dictionary knows well, a name, a number or a short code in capitals stays as read."""

from __future__ import annotations

import functools
import logging
import re
import string
from collections.abc import Hashable, Sequence

log = logging.getLogger(__name__)

SURE = 0.97  # lines the recogniser is this sure of are only respaced, never corrected
# Words of one or two letters that may stand alone when a glued run is split.
SHORT_WORDS = frozenset(
    "a i to of in on at by up us me my we no go do be is it an or as so he our".split()
)
COMMON = 13.0  # wordninja's cost (log rank) of a usual word; rarer parts leave a run whole


# The recogniser's alphabet holds Chinese punctuation too: a slash drawn wide reads as "／".
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# A slant stroke may read as the kana "ノ" (no): a slash, in a line with no other kana or kanji.
_KANA_SLASH = {ord("\u30ce"): "/"}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def halfwidth(text: str) -> str:
    """Full-width forms ("$11 ／month", "（", "：") as the ASCII a sketch is written in; a
    lone "ノ" among Latin letters ("$32 ノ year") as the slash it was."""
    text = text.translate(_FULL_WIDTH)
    if "\u30ce" in text and not _CJK.search(text.replace("\u30ce", "")):
        text = text.translate(_KANA_SLASH)
    return text


def respace(text: str) -> str:
    """Puts back the spaces the recogniser drops between narrowly written words: a run of
    letters that is no word but splits into usual ones ("happyreaders"), a word glued to a
    number ("Join25") and words glued at a comma ("Tuesday,sorry"). Known words, names and
    codes stay as read."""
    costs = word_costs()
    if costs is None:
        return text
    # A looped A, O or G read as "@" at a word's start ("@bout", "@UR shop", "@old");
    # "@bakery" stays.
    text = re.sub(r"(?<!\S)@([^\W\d_]{2,})", lambda m: _looped(m.group(1)), text)
    text = re.sub(r"[^\W\d_]+", lambda m: _split_run(m.group(0)), text)
    text = re.sub(
        r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])",
        lambda m: " " if _glued_number(text, m.start()) else "",
        text,
    )
    text = re.sub(r"(?<=[^\W\d_]{2})([,;!?])(?=[^\W\d_]{2})", r"\1 ", text)
    # A slash spaced on one side only was spaced on both ("$41 /year", "$57/ month").
    text = re.sub(r"(?<=\w) /(?=[^\W\d_])|(?<=\w)/ (?=\w)", " / ", text)
    # A letter O among digits is a zero ("2O minutes").
    return re.sub(r"\b(?=[\dO]*\d)[\dO]{2,}\b", lambda m: m.group(0).replace("O", "0"), text)


def _split_run(run: str) -> str:
    """A run of letters that is no word, split into the usual words it is made of; a small
    "l" before a word is the "I" it was glued to ("lagree")."""
    if len(run) < 5 or run.lower() in (word_costs() or {}):
        return run
    if run[0] == "l" and run[1:].islower() and usual(run[1:]):
        return "I " + run[1:]
    import wordninja

    parts = wordninja.split(run)
    return " ".join(parts) if 2 <= len(parts) <= 4 and all(usual(p) for p in parts) else run


def _looped(letters: str) -> str:
    """`letters` after an "@", with the A, O or G it was before them when that makes a usual
    word ("About", "Open", "Gold") or usual words glued ("ORdeRnOW"), the commonest."""
    costs = word_costs() or {}
    made = []
    for letter in "AOG":
        word = letter + letters
        split = _split_run(word).split()
        if usual(word) or (len(split) > 1 and len(split[0]) > 1):  # not "A bakery"
            made.append((costs.get(word.lower(), COMMON), word))
    return min(made)[1] if made else "@" + letters


def usual(word: str) -> bool:
    """Whether `word` is a usual English word: three letters or more, or one of SHORT_WORDS."""
    costs = word_costs()
    w = word.lower()
    return costs is not None and (len(w) > 2 or w in SHORT_WORDS) and costs.get(w, 99.0) <= COMMON


def recase(text: str) -> str:
    """A capital the recogniser put inside a usual word ("PRices", "SatuRday", "ORdeR": it
    reads some hands' r as R) made small again. All capitals ("QTY"), names made of words
    ("YouTube", "McDonald": each part a usual word) and "iPhone" stay as read."""
    costs = word_costs()
    if costs is None:
        return text

    def fix(m: re.Match) -> str:
        word = m.group(0)
        if word.isupper() or word[1:].islower() or re.match(r"[a-z][A-Z]|Ma?c[A-Z]", word):
            return word  # "QTY", "Hello", "iPhone", "McDonald"
        if costs.get(word.lower(), 99.0) > COMMON:
            return word
        parts = re.findall(r"[A-Z][a-z]*|[a-z]+", word)
        if all(len(p) > 2 and costs.get(p.lower(), 99.0) <= COMMON for p in parts):
            return word
        return word[0] + word[1:].lower()

    return re.sub(r"[^\W\d_]{3,}", fix, text)


def _glued_number(text: str, at: int) -> bool:
    """Whether the letters on one side of position `at` (a letter/digit boundary) are a usual
    word of three or more letters: "Join25" is two words, "A4", "10am" and "2nd" are one."""
    before = re.search(r"[^\W\d_]+$", text[:at])
    after = re.match(r"[^\W\d_]+", text[at:])
    letters = (before or after).group(0) if (before or after) else ""
    return len(letters) >= 3 and letters.lower() not in ("st", "nd", "rd", "th") and usual(letters)


@functools.cache
def word_costs() -> dict[str, float] | None:
    """wordninja's English word costs (log frequency rank), or None without the package."""
    try:
        import wordninja
    except ImportError:
        log.info("wordninja is not installed: glued words stay glued")
        return None
    return wordninja.DEFAULT_LANGUAGE_MODEL._wordcost


LIKELY = 12.5  # a correction must be at least this usual (about the 20,000 commonest words)


def correct(text: str) -> str:
    """Each word of five or more letters that the dictionary does not have at all, replaced by
    the most usual word one edit away (two for eight or more letters), keeping its capitals:
    "Subnit" -> "Submit". Shorter words, and words it knows however rare, stay: a frequency
    guess corrupts names and codes more often than it mends them (measured on generated
    sketches)."""
    costs = word_costs()
    if costs is None:
        return text

    def fix(m: re.Match) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 5 or low in costs:
            return word
        best = _nearest(low, costs)
        if not best:
            return word
        if word.isupper():
            return best.upper()
        return best.capitalize() if word[0].isupper() else best

    return re.sub(r"[^\W\d_]+", fix, text)


def _nearest(word: str, costs: dict[str, float]) -> str:
    found = near_words(word) or (near_words(word, two_edits=True) if len(word) >= 8 else set())
    return min(found, key=lambda w: (costs[w], w)) if found else ""


def near_words(word: str, *, two_edits: bool = False) -> set[str]:
    """The usual words (LIKELY or commoner) one edit from `word`, or up to two `two_edits`."""
    costs = word_costs()
    if costs is None:
        return set()
    near = edits(word)
    if two_edits:
        near |= {e2 for e1 in near for e2 in edits(e1)}
    return {w for w in near if costs.get(w, 99.0) <= LIKELY}


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance: the fewest deletions, insertions and replacements from a to b
    (letters of words, or words of sentences)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]


def edits(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away from `word`."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in letters),
        *(a + c + b for a, b in splits for c in letters),
    }
