"""Splits a streaming reply into speakable sentences, so speech can start on the first one."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Dots that do not end a sentence: abbreviations and initials.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "fig"}
_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")
_MARKUP = re.compile(r"```.*?```|`|\*\*|__|^#+\s*|^\s*[-*]\s+", re.DOTALL | re.MULTILINE)
MAX_CHARS = 220  # a very long sentence is cut at a comma so the first audio is not delayed
# The first words of a reply may go out at the end of a clause: a colon or semicolon, or a
# comma after this many characters ("Sure, here's a fun fact about octopuses: …").
_CLAUSE = re.compile(r"[:;,](?=\s)")
FIRST_CLAUSE_CHARS = 24
# With no such mark, before a word that starts a phrase, once there are this many characters:
# "Octopuses are known for their ability | to manipulate objects with their tentacles." took
# 1.6-2.6 s to write whole (bench/voice_tasks.py), "A good name for a black cat | could be…"
# 1.3-1.7 s. Not after a number ("from 1 to 10"). Not before "in", "at", "on" either: "Once
# upon a time a small fox lived | at the edge…" let the speex echo canceller hear the
# assistant's own voice (tests/test_voice_echo.py, 2 runs of 3).
_PHRASE = re.compile(
    r"(?<=[^\W\d])\s+(?=(?:to|that|which|who|with|because|and|but|or|so|could|when|where"
    r"|while|if)\s)"
)
FIRST_PHRASE_CHARS = 22


class SentenceSplitter:
    """Feed text deltas with `push`; complete sentences come out; `flush` gives the rest.
    `first_clause`: the first piece may be a clause or a phrase, so that speech starts
    sooner."""

    def __init__(self, *, first_clause: bool = False) -> None:
        self._buffer = ""
        self.pushed = False  # whether any text has arrived yet
        self._clause = first_clause  # until the first piece is out

    def push(self, text: str) -> Iterator[str]:
        self.pushed = self.pushed or bool(text)
        self._buffer += text
        while True:
            cut = self._find_cut()
            if cut is None:
                return
            sentence, self._buffer = self._buffer[:cut], self._buffer[cut:]
            if speakable := clean_for_speech(sentence):
                self._clause = False
                yield speakable

    def flush(self) -> Iterator[str]:
        rest, self._buffer = self._buffer, ""
        if speakable := clean_for_speech(rest):
            yield speakable

    def _find_cut(self) -> int | None:
        for match in _END.finditer(self._buffer):
            before = self._buffer[: match.start()]
            if before.count("```") % 2:
                continue  # inside a code block: it is dropped whole once it closes
            word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
            if match.group().startswith(".") and (
                word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
            ):
                continue
            if before.strip():
                return match.end()
        if self._clause and self._buffer.count("```") % 2 == 0:
            for match in _CLAUSE.finditer(self._buffer):
                said = self._buffer[: match.start()].strip()
                if said and (match.group() != "," or len(said) >= FIRST_CLAUSE_CHARS):
                    return match.end()
            for match in _PHRASE.finditer(self._buffer):
                said = self._buffer[: match.start()]
                quoting = said.count('"') % 2 or said.count("\u201c") > said.count("\u201d")
                if len(said.strip()) >= FIRST_PHRASE_CHARS and not quoting:
                    return match.start()
        if len(self._buffer) > MAX_CHARS:
            comma = self._buffer.rfind(", ", 0, MAX_CHARS)
            if comma > 40:
                return comma + 1
        return None


def clean_for_speech(text: str) -> str:
    """Drops Markdown markup and code blocks, which read badly aloud."""
    return " ".join(_MARKUP.sub(" ", text).split())
