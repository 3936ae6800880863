"""What the assistant cannot reach: it runs offline, with no phone, messages, other apps,
devices, alarms or live data. Asked for one of those ("Text Bob I'm late", "Play some jazz",
"What's the weather in Oslo tomorrow?"), the 1.5B model answered "I'm sorry, but I can't
assist with that." or, worse, "I will remind you at 7." (bench/answers.py, "cannot"). The turn
then gets a hint that says why it cannot and what it can do instead. Written into the
instructions for every turn, the same words made it refuse its own tools ("I can't run Python
code: I run offline"), so only these turns get it.

A request is an order at the start of the message ("Please text…", "Can you call…"), not a
question about how to do it ("How do I set an alarm?") nor a draft the user will send ("Write
a text to Bob…"); live data is asked for as such ("the weather tomorrow", "the latest news",
"the share price right now"). A bare no to anything else is held and asked again (HeldNo)."""

from __future__ import annotations

import re

_ASKING = r"^\W*(?:(?:hey|ok(?:ay)?|so|please|now)\W+)*(?:(?:can|could|would|will) you\s+)?"
# Each kind of request out of reach, and why, as the reply may say it.
_KINDS = [
    (  # messages and calls; not "Send me a draft", not "Call the function"
        _ASKING + r"(?:send|text|message|e-?mail|whatsapp|call|phone|ring|dial|tweet|post)\b(?!\s+"
        r"(?:me\s+)?(?:a\s+)?(?:draft|template|example)|\s+(?:the|a|this|that)\s+(?:function|"
        r"method|tool|api)\b)",
        "I run offline, with no access to your phone, messages or e-mail.",
    ),
    (  # e-mail, messages and calendars to open or read
        _ASKING + r"(?:open|launch|start|close|check|read)\s+(?:my|the)\s+(?:\w+\s+)?(?:e-?mails?|"
        r"inbox|messages|texts|calendar|notifications|browser|app|voicemail)\b",
        "I run offline, with no access to your e-mail, messages, calendar or other apps.",
    ),
    (  # media and devices; not "Play a word game with me"
        _ASKING + r"(?:(?:play|pause|resume|skip|shuffle|put on)\b(?![^.?!]*\b(?:game|with me)\b)"
        r"|(?:turn|switch|shut)\b[^.?!]{0,30}\b(?:lights?|lamps?|volume|sound|music|tv|"
        r"television|heating|heater|thermostat|fan|radio|wi-?fi|bluetooth|computer|laptop|screen|"
        r"speakers?|oven)\b|(?:dim|brighten|mute|unmute|lock|unlock)\b"
        r"|take\s+a\s+(?:screenshot|photo|picture))",
        "I have no access to your speakers, screen, lights or other devices and apps.",
    ),
    (  # alarms and reminders; not "Remind me what …"
        _ASKING + r"(?:set\s+(?:an?\s+|my\s+)?(?:alarm|timer|reminder)|start\s+an?\s+(?:\w+\s+)?"
        r"timer|remind me\s+(?:to|at|in|on|about|that)\b|wake me\b)",
        "I keep no alarms, timers or reminders: I only answer while we talk.",
    ),
    (  # shopping and bookings; not "Order these numbers"
        _ASKING + r"(?:order|book|buy|reserve)\s+(?:me\s+)?(?:an?|some|two|three|\d+)\s",
        "I run offline, with no access to shops, bookings or payments.",
    ),
    (  # live data, asked for as such
        r"\b(?:what(?:'s| is| will)\s+the\s+weather|weather\s+(?:in|for|like|today|tomorrow|"
        r"tonight|this)|(?:latest|today's|breaking)\s+(?:news|headlines)|news\s+today|"
        r"(?:share|stock)\s+price|price\s+of\s+\w+\s+(?:right\s+)?now|exchange\s+rate\s+"
        r"(?:today|now)|(?:going to|will it)\s+rain)\b",
        "I run offline, with no internet for live news, weather or prices.",
    ),
]
_PATTERNS = [(re.compile(p, re.IGNORECASE), why) for p, why in _KINDS]
OUT_OF_REACH = (
    'This asks for something you cannot do here. Say so and why in one sentence (why: "{why}"), '
    "then offer what you can do instead (for a message, write it for the user to send). Never "
    "say you did it."
)


def out_of_reach(text: str) -> str:
    """Why `text` is out of reach (an order to act outside this computer, or live data), in
    one sentence; "" when it is not."""
    return next((why for pattern, why in _PATTERNS if pattern.search(text)), "")


def reach_hint(text: str) -> str:
    """The hint for a request out of reach, with why; else ""."""
    why = out_of_reach(text)
    return OUT_OF_REACH.format(why=why) if why else ""


# "Sorry, but I can't assist with that.": no reason given (the hint is not always heeded).
_CANT = re.compile(r"\b(?:can(?:no|')t|unable to|not able to)\b", re.IGNORECASE)
_REASON = re.compile(r"\b(?:offline|internet|online|access|abilit\w*|capab\w*)\b", re.IGNORECASE)


def _bare(answer: str) -> bool:
    """A no with no reason and no question back ("Could you say it again?"): twelve words at
    most."""
    short = len(answer.split()) <= 12 and "?" not in answer
    return short and bool(_CANT.search(answer)) and not _REASON.search(answer)


def why_not(asked: str, answer: str) -> str:
    """The reason to add to a bare "I can't" answer to a request out of reach; else ""."""
    why = out_of_reach(asked) if _bare(answer) else ""
    return f" {why}" if why else ""


# How a bare no begins, and the words it may still become ("I" → "I'm" → "I'm sorry").
_NO_OPENS = ("i'm sorry", "i am sorry", "sorry", "i can't", "i cannot", "i'm unable", "i am unable",
             "unfortunately")  # fmt: skip


class HeldNo:
    """Fed a reply as it streams, holds it while it may be a bare no ("I'm sorry, but I can't
    assist with that.": twelve words at most, no reason, no question back); anything else goes
    through at once.
    With tools in its prompt the 1.5B model answers "Write a short text to my sister saying
    I'm running late." that way; with none, it writes the text (ChatSession._steps asks again)."""

    def __init__(self, enabled: bool = True) -> None:
        self.text, self.holding = "", enabled

    def push(self, piece: str) -> str:
        """What of the reply may be shown now."""
        if not self.holding:
            return piece
        self.text += piece
        head = " ".join(self.text.lower().replace("’", "'").split())
        opens = any(o.startswith(head) or head.startswith(o) for o in _NO_OPENS)
        # Not "I'm sorry to hear that.", not "I can't hear you. Could you say it again?"
        said = "?" not in head and (not re.search(r"[.!]", head) or _CANT.search(head))
        if opens and said and len(head.split()) <= 12 and not _REASON.search(head):
            return ""
        self.holding = False
        return self.text

    @property
    def bare(self) -> bool:
        """Whether the reply, ended, was a bare no (none of it shown)."""
        return self.holding and _bare(self.text)

    def rest(self) -> str:
        """What is still held once the reply has ended, unless it is a bare no."""
        if self.bare or not self.holding:
            return ""
        self.holding = False
        return self.text
