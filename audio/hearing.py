"""What the ears are told and what is kept of what they hear, the same for the voice loop,
`assistant transcribe` and bench/ears.py: the language spoken (the system's, not guessed per
clip), and Whisper's words without the segments it marks itself as probably not speech or
its favourite inventions on breath and hum.

Nothing is done to the audio first: levelling, trimming to the speech, two noise suppressors
and a telephone-band fix were measured with bench/ears.py and none lowered the error rate
(docs/BENCHMARKS.md, "Ears").
"""

from __future__ import annotations

import locale
import os
from collections.abc import Sequence

from assistant_app.core.messages import Segment

# Whisper's favourite inventions on breath, hum and silence.
HALLUCINATIONS = {"thank you.", "thank you", "thanks for watching!", "you", "bye.", "."}


def spoken_language(setting: str) -> str | None:
    """The language Whisper is told: the setting's code; "auto" detects it per clip (None);
    empty means the system locale's language (English when the locale names none)."""
    setting = setting.strip().lower()
    if setting == "auto":
        return None
    if setting:
        return setting
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name, "")
        if value:
            break
    else:
        value = locale.getlocale()[0] or ""
    code = value.split(":")[0].split("_")[0].split(".")[0].lower()
    return code if code.isalpha() and len(code) in (2, 3) and code not in ("c", "posix") else "en"


# Below this mean token log-probability the recogniser was unsure of the words. Moonshine on
# fresh bench clips (seed 37554): of 12 transcripts below -0.5, 10 had 30% or more of the words
# wrong ("Plot the sylon mix from the eroto ad."); of 51 above, 6.
UNSURE_BELOW = -0.5


def unsure(segments: Sequence[Segment]) -> bool:
    """Whether the recogniser was unsure of some of these words (probably misheard)."""
    return any(s.avg_logprob < UNSURE_BELOW for s in segments)


def kept(segments: Sequence[Segment]) -> list[Segment]:
    """The segments Whisper does not itself mark as probably not speech."""
    return [s for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]


def heard_words(segments: Sequence[Segment], seconds: float) -> str:
    """The text of the kept segments; "" for nothing, or for a stock invention on a short clip."""
    text = " ".join(s.text for s in kept(segments)).strip()
    if text.lower() in HALLUCINATIONS and seconds < 2:
        return ""
    return text
