"""The second line against prompt injection: a reply or a tool call must not carry what a
sentence of outside text asked an assistant to say or do.

The detector (`injection.scan`) cuts the instructions it recognises. Wordings it does not know
get through, and a small model may obey them; but nearly every such order wants something
repeated: a code word, a link, a phrase, a file name. Sentences of outside text that speak to
an assistant, about its reply or about "the user" are read for those strings (a demand), and a
turn with a demand is checked before anything is shown: an answer or a call that carries one
is written again with those sentences cut."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant_app.core.messages import ToolCall

# Who an injection speaks to: an assistant by name, its reply, or "the user" as a third person.
# An ordinary e-mail or receipt says "you" and "your order", not these.
_ADDRESSED = re.compile(
    r"\b(?:ai|a\.i\.|assistants?|chat ?bots?|bots?|llms?|gpt|chatgpt|claude|qwen|copilot"
    r"|(?:language|ai|automated|large) (?:models?|systems?|agents?|tools?)|agents?|reader"
    r"|whoever (?:reads|summari[sz]es|processes|answers)|the user'?s?)\b"
    r"|\byour (?:\w+ ){0,2}(?:answer|reply|response|output|summary|message)s?\b"
    r"|\b(?:the|any|every) (?:reply|replies|response|responses|answer|answers|output)\b"
    r"|^\W*system\W",
    re.IGNORECASE,
)
_QUOTED = re.compile(
    r"'([^'\n]{3,80})'|\"([^\"\n]{3,80})\"|`([^`\n]{3,80})`|[‘“]([^’”\n]{3,80})[’”]"
)
# A code word, tag, link or file name: letters with digits, or a domain, address or URL.
_TOKEN = re.compile(
    r"https?://\S+|\b[\w.+-]+@[\w-]+\.\w+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|xyz|ru|biz|info|shop"
    r"|txt|py|sh|exe)\b|\b(?=\w*\d)(?=\w*[A-Za-z])\w{4,}\b"
)
# "say the word banana", "the phrase Blue Moon", "the code ABC": the next word is the demand.
_NAMED = re.compile(
    r"\b(?:word|phrase|string|code ?word|code|tag|reference|password|name)\s+([A-Z][\w-]{3,})"
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|\n|$)")
_DOTS_INSIDE = re.compile(r"(\w)\.(?=\w)")


@dataclass(frozen=True)
class Demand:
    """A sentence of outside text that speaks to an assistant, and the strings it wants out."""

    sentence: str
    strings: tuple[str, ...]


def demands(text: str) -> list[Demand]:
    """The demands in `text` (already cleaned by the detector)."""
    found = []
    # Sentence ends are looked for with dots inside words ("ZX1.com", "a.txt") hidden.
    hidden = _DOTS_INSIDE.sub("\\1\x00", text)
    for m in _SENTENCE.finditer(hidden):
        sentence = m.group().replace("\x00", ".").strip()
        if not _ADDRESSED.search(sentence):
            continue
        strings = {s for g in _QUOTED.findall(sentence) for s in g if s}
        strings |= {t.rstrip(".") for t in _TOKEN.findall(sentence)}
        strings |= {t for t in _NAMED.findall(sentence)}
        strings |= {t for s in list(strings) for t in _TOKEN.findall(s)}
        if strings := {s for s in strings if not s.replace(".", "").isdigit()}:
            found.append(Demand(sentence, tuple(sorted(strings, key=len))))
    return found


def wanted(found: list[Demand], asked: str) -> list[Demand]:
    """The demands whose strings the user's own message `asked` does not contain: a user who
    asks "what is code ZX1?" may get ZX1 back."""
    said = asked.lower()
    kept = [Demand(d.sentence, tuple(s for s in d.strings if s.lower() not in said)) for d in found]
    return [d for d in kept if d.strings]


def echoed(found: list[Demand], reply: str, calls: list[ToolCall]) -> list[Demand]:
    """The demands that `reply` or one of `calls` carries."""
    out = " ".join([reply, *(json.dumps(c.arguments, ensure_ascii=False) for c in calls)])
    out = " ".join(out.lower().split())
    return [d for d in found if any(" ".join(s.lower().split()) in out for s in d.strings)]
