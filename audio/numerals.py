"""Numbers as digits in what was heard: Moonshine writes "sixty one times twelve" where Whisper
writes "61 times 12", and the kernel's own calculations read digits.

Conservative by design: a lone "one" to "nine" stays a word ("tell me one joke", "no one")
unless a percentage or a unit of measure follows, or the sentence holds another number or a
range ("from one to seven"); runs with a tens word, a teen, "hundred" or "thousand" always
become digits.
"""

from __future__ import annotations

import re

_UNITS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
VALUES = {
    **{w: i for i, w in enumerate(_UNITS)},
    **{w: 10 + i for i, w in enumerate(_TEENS)},
    **{w: 20 + 10 * i for i, w in enumerate(_TENS)},
}
_WORD = "|".join(sorted([*VALUES, "hundred", "thousand"], key=len, reverse=True))
# A run of number words joined by spaces or hyphens, or by "and" after hundred or thousand
# ("two hundred and five", but "two and three" is two runs).
_JOIN = r"(?:[\s-]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+)"
_RUN = re.compile(rf"\b(?:{_WORD})(?:{_JOIN}(?:{_WORD}))*\b", re.IGNORECASE)
_RANGE = re.compile(
    rf"\b(?:from|between)\s+(?:{_WORD})\s+(?:to|and|through)\s+(?:{_WORD})\b", re.IGNORECASE
)
_PERCENT = re.compile(r"^\s*(?:percent|per cent)\b", re.IGNORECASE)
# ... or a unit of measure ("How many kilograms in six pounds?"): not of time ("one day").
_MEASURE = re.compile(
    r"^\s*(?:pounds?|kilo\w*|grams?|ounces?|miles?|(?:centi|milli)?met(?:er|re)s?|feet|inches|"
    r"lit(?:er|re)s?|gallons?|cups?|degrees?|dollars?|euros?)\b",
    re.IGNORECASE,
)


def value(words: list[str]) -> int | None:
    """The number a run of number words says, or None when it is not one number ("one two")."""
    total, current, last = 0, 0, ""
    for word in words:
        if word == "hundred":
            if not 0 < current < 100:
                return None
            current *= 100
        elif word == "thousand":
            if not 0 < total + current < 1000:
                return None
            total, current = (total + current) * 1000, 0
        else:
            n = VALUES[word]
            if current and not (last in _TENS and n < 10) and last not in ("hundred", "thousand"):
                return None  # "one two" or "twenty thirty": not one number
            current += n
        last = word
    return total + current


def with_digits(text: str) -> str:
    """`text` with its spelled numbers written as digits, and "N percent" as "N%"."""
    runs = [(m, [w for w in re.split(r"[\s-]+", m.group().lower()) if w != "and"])
            for m in _RUN.finditer(text)]  # fmt: skip
    # Another number in the sentence makes a lone "one" a number too ("from one to twelve"),
    # as does a range of two ("from one to seven").
    plain = any(c.isdigit() for c in text) or any(not _lone(w) for _, w in runs)
    plain = plain or bool(_RANGE.search(text))
    out, end = [], 0
    for match, words in runs:
        number = value(words)
        if number is None or (
            _lone(words)
            and not plain
            and not _PERCENT.match(text[match.end() :])
            and not _MEASURE.match(text[match.end() :])
        ):
            continue
        out.append(text[end : match.start()] + str(number))
        end = match.end()
    text = "".join(out) + text[end:]
    return re.sub(r"(\d)\s*(?:percent|per cent)\b", r"\1%", text, flags=re.IGNORECASE)


def _lone(words: list[str]) -> bool:
    return len(words) == 1 and words[0] in _UNITS
