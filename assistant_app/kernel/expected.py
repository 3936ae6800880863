"""Words a spoken turn is likely to hold, for the ears: what this assistant can be asked to do
and the names in the user's notes and remembered facts. Moonshine weighs them while it decodes
(audio/biasing.py): "Use Python to add up…" is no longer heard as "You spy them to add up…"."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable

from assistant_app.kernel.chat import ChatSession
from assistant_app.tools.calculator import UNIT_NAMES

# How people ask for each tool, in words a recogniser can miss.
ASKED_FOR = {
    "python": ("Use Python", "Python", "plot"),
    "search_files": ("notes",),
    "generate_image": ("draw", "picture"),
}
# Units spelled out (the calculator converts them); abbreviations and time words are left to
# the ears: they are short or common words that need no help.
_COMMON = {"second", "minute", "hour", "week", "kilo"}
UNITS = sorted(
    u for u in UNIT_NAMES
    if u.isalpha() and len(u) >= 4 and not u.startswith("deg") and u not in _COMMON
)  # fmt: skip
NAMES = 60  # names from the notes and facts, the most frequent first
_WORD = re.compile(r"[^\W\d_]{3,}")


def names_in(texts: Iterable[str], limit: int = NAMES) -> list[str]:
    """Words that are never written in lower case (names, places, headings), the most
    frequent first: "The" is also written "the"; "Marta" and "Keller" never are."""
    counts: Counter[str] = Counter()
    lower: set[str] = set()
    for text in texts:
        for word in _WORD.findall(text):
            if word[0].isupper():
                counts[word] += 1
            else:
                lower.add(word)
    return [w for w, _ in counts.most_common() if w.lower() not in lower][:limit]


def expected_words(session: ChatSession) -> str:
    """The phrases to expect in the next spoken turn, comma-separated."""
    offered = {spec["function"]["name"] for spec in session.toolbox.specs()}
    texts = [fact for _, fact in session.memory.facts()] if session.memory is not None else []
    index = getattr(session.retrieve, "index", None)
    if index is not None:
        texts += index.texts()
    return expected_for(offered, texts)


def expected_for(offered: set[str], texts: Iterable[str] = ()) -> str:
    """The phrases to expect with the tools `offered`, and the names in `texts` (the user's
    notes and remembered facts), comma-separated."""
    phrases = [p for tool in sorted(offered) for p in ASKED_FOR.get(tool, ())]
    if "calculator" in offered:
        phrases += UNITS
    phrases += _names(tuple(texts))
    return ", ".join(dict.fromkeys(phrases))


@functools.lru_cache(maxsize=4)
def _names(texts: tuple[str, ...]) -> list[str]:
    # After every spoken turn the same notes come back (the very same strings, their hashes
    # kept): read once, not once a turn.
    return names_in(texts)
