"""Speech-shaped words: replies for the ear, progress lines while tools run, yes and no."""

from __future__ import annotations

import re

from assistant_app.core.config import VoiceConfig

STYLE = VoiceConfig().system_prompt  # the default way to answer for the ear

# A few fixed lines per tool, said at once while the tool runs (their audio is made once).
PROGRESS = {
    "calculate": ("Let me work that out.", "One moment, I'm calculating."),
    "calculator": ("Let me work that out.", "One moment, I'm calculating."),
    "python": ("Let me run that.", "Running it now."),
    "search_files": ("Let me check your notes.", "Looking through your files."),
    "generate_image": ("I'll draw that now. It takes a little while.",),
    "think": ("Let me think about that carefully.",),
}
OTHER_TOOL = ("One moment.",)
UNCLEAR = "I didn't hear a clear yes, so I won't run it."
# Read by the model right after the words on a turn the ears were unsure of: without it the
# model answered misheard requests as if they made sense ("How far is man revamped?" -> "100
# kilometers"). After the words, not before them: what was read ahead as the user spoke stays,
# and the 1.5B model heeds it more (8 misheard transcripts: 6 asked to hear them again against
# 0 with the note before; 6 sensible ones flagged unsure were all answered). Wordings that
# told it what to say ("say you did not catch that") made it ask on sensible ones too.
UNSURE = (
    "The speech recogniser was unsure of these words: if they make no sense, say so and ask "
    "the user to say it again."
)

_NOTE = re.compile(r"^\s*\((Source|Sources|attached|ran it):?\s*(.*)\)\s*$", re.I | re.S)
_URL = re.compile(r"https?://\S+")
_PATH = re.compile(r"(?:~|/)[\w.-]*(?:/[\w.-]+)+")
_SIGNS = [
    (re.compile(rf"(?<=\d)\s*{sign}\s*(?=[\d(])"), f" {words} ")
    for sign, words in (
        (r"\*", "times"), ("×", "times"), (r"\^", "to the power of"),
        ("=", "is"), (r"\+", "plus"),
    )
]  # fmt: skip
_YES = re.compile(
    r"\b(yes|yeah|yep|yup|sure|okay|ok|go ahead|do it|please do|allow|run it|of course)\b", re.I
)
_NO = re.compile(r"\b(no|nope|don'?t|do not|stop|cancel|deny|never|wait)\b", re.I)


def progress_lines() -> list[str]:
    """Every progress line, to synthesise once at start-up."""
    return [line for lines in (*PROGRESS.values(), OTHER_TOOL) for line in lines]


def progress_line(step: str, count: int) -> str:
    """What to say as `step` (a tool's name, or "think") starts; `count` rotates the wording."""
    lines = PROGRESS.get(step, OTHER_TOOL)
    return lines[count % len(lines)]


def for_the_ear(sentence: str) -> str:
    """A sentence of the written reply as it should be spoken: the kernel's notes become short
    spoken ones (sources are not read out), links and file paths are not spelled out."""
    note = _NOTE.match(sentence)
    if note is not None:
        kind, body = note.group(1).lower(), note.group(2).strip()
        if kind == "attached":
            return "I've put it in the window."
        if kind == "ran it":
            short = len(body) <= 80 and "\n" not in body and "Error" not in body
            return f"It gives {body}." if short and body else "The output is in the window."
        return ""
    sentence = _URL.sub("the link in the window", sentence)
    sentence = _PATH.sub("the file in the window", sentence)
    for sign, words in _SIGNS:  # "95*18 = 1710" is read "95 times 18 is 1710"
        sentence = sign.sub(words, sentence)
    return sentence.strip()


def answer(text: str) -> bool | None:
    """A spoken reply to "shall I?": True for a clear yes, False for a clear no, None when
    unclear (which counts as no: nothing sensitive runs on an unclear answer)."""
    yes, no = bool(_YES.search(text)), bool(_NO.search(text))
    if yes == no:
        return None
    return yes


def question(tool: str) -> str:
    """The permission question, aloud: what would run, in words, and how to answer."""
    if tool == "python":
        what = "run some Python code for this"
    elif tool == "generate_image":
        what = "draw a picture for this"
    else:
        what = f"use the {tool.replace('_', ' ')} tool"
    return f"I'd like to {what}. Shall I? Say yes or no."
