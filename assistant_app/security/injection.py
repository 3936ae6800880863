"""Finds instructions hidden in outside text (prompt injection) by fast heuristics; cuts them."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

from assistant_app.security.injection_patterns import SQUEEZED, STRONG, WEAK

PLACEHOLDER = "[removed: instructions hidden in this content]"

_PATTERNS = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in STRONG)
_BASE64 = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/_-]{16,}={0,2}(?:\n[A-Za-z0-9+/_-]{8,}={0,2})*")
_HEX = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:0x)?[0-9A-Fa-f]{2}[ :,-]?){12,}(?![0-9A-Za-z])"
    r"|(?:\\x[0-9A-Fa-f]{2}){8,}"
)
_PERCENT = re.compile(r"(?:[\w.~-]*%[0-9A-Fa-f]{2}){4,}[\w.~-]*")
_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad")
_LOOKALIKES = str.maketrans(
    "асеіјорѕхуԁɡοινΑВСЕНІЈКМОРЅТХ", "aceijopsxydgoivABCEHIJKMOPSTX"
)  # Cyrillic and Greek letters that look Latin: "іgnore" must read as "ignore"
# "the", "and", "you", "ignore", "previous", "instructions", "assistant", "system" in rot13:
# English text has none of them, so only text that has one is read as rot13 too.
_ROT13_WORDS = re.compile(
    r"\b(?:gur|naq|lbh|vtaber|cerivbhf|vafgehpgvbaf|nffvfgnag|flfgrz)\b", re.I
)
MAX_DEPTH = 2  # encodings inside encodings: base64 of hex of the text, and no further


@dataclass(frozen=True)
class Finding:
    """Hidden instructions: where they are in the text (start, end), what kind, and the words
    that gave them away (decoded, for an encoded payload)."""

    span: tuple[int, int]
    kind: str
    excerpt: str


def scan(text: str) -> list[Finding]:
    """Instructions addressed to the assistant in `text`, as whole sentences, in order.

    Looks for overrides ("ignore previous instructions"), role switches and chat-template
    tokens, imperatives addressed to the AI, requests to call tools, send data or keep secrets
    from the user, the same decoded from base64, hex, percent-encoding, rot13 and invisible
    Unicode tag characters. Ordinary documents (recipes, READMEs, notes) give no findings."""
    return _scan(text, 0)


def neutralise(text: str, findings: list[Finding]) -> str:
    """`text` with each flagged span replaced by a visible placeholder (one for neighbours)."""
    out, end = [], 0
    for start, stop in _merged([f.span for f in findings]):
        if out and not text[end:start].strip():
            end = stop  # only blank between this span and the last: one placeholder for both
            continue
        out += [text[end:start], PLACEHOLDER]
        end = stop
    out.append(text[end:])
    return "".join(out)


def _scan(text: str, depth: int) -> list[Finding]:
    plain, where = _normalised(text)
    hits = _matches(plain) + _squeezed(plain)
    if _ROT13_WORDS.search(plain):
        rot13 = codecs.encode(plain, "rot13")
        hits += [(s, e, "encoded-rot13", x) for s, e, _, x in _matches(rot13)]
    if depth < MAX_DEPTH:
        hits += _encoded(plain, depth)
    if not hits:
        return _hidden_runs(text)
    sentences = _sentences(plain)
    spans: dict[tuple[int, int], tuple[str, str]] = {}
    for start, end, kind, excerpt in sorted(hits):
        first, last = _widened(plain, sentences, start, end)
        span = (where[first], where[max(first, last - 1)] + 1)
        spans.setdefault(span, (kind, " ".join(excerpt.split())[:160]))
    merged = []
    for span in _merged(list(spans)):
        kind, excerpt = next(v for s, v in spans.items() if span[0] <= s[0] < span[1])
        merged.append(Finding(span, kind, excerpt))
    return merged + [f for f in _hidden_runs(text) if not _covered(f.span, merged)]


def _matches(text: str) -> list[tuple[int, int, str, str]]:
    return [(m.start(), m.end(), k, m.group()) for k, p in _PATTERNS for m in p.finditer(text)]


def _squeezed(text: str) -> list[tuple[int, int, str, str]]:
    """The commonest injections with the spaces gone, as OCR often reads a line of small text
    ("Ignoreallpreviousinstructions"); only where words really run together."""
    kept = [i for i, c in enumerate(text) if not c.isspace()]
    squeezed = "".join(text[i] for i in kept).lower()
    found = []
    for m in SQUEEZED.finditer(squeezed):
        start, end = kept[m.start()], kept[m.end() - 1] + 1
        if re.search(r"[^\W\d_]{14,}", text[start:end]):
            found.append((start, end, "squeezed", text[start:end]))
    return found


def _encoded(text: str, depth: int) -> list[tuple[int, int, str, str]]:
    """Payloads in base64, hex or percent-encoding whose decoded text holds instructions."""
    found = []
    for name, pattern, decode in (
        ("base64", _BASE64, _from_base64),
        ("hex", _HEX, _from_hex),
        ("percent", _PERCENT, lambda s: urllib.parse.unquote(s, errors="strict")),
    ):
        for m in pattern.finditer(text):
            if name == "base64" and (m.group().islower() or m.group().isupper()):
                continue  # plain words and hex digests, not base64
            try:
                decoded = decode(m.group())
            except (ValueError, UnicodeDecodeError, binascii.Error):
                continue
            readable = _is_text(decoded) or _HEX.fullmatch(decoded.strip())
            if readable and (inner := _scan(decoded, depth + 1)):
                found.append((m.start(), m.end(), f"encoded-{name}", inner[0].excerpt))
    return found


def _from_base64(run: str) -> str:
    run = re.sub(r"\s", "", run).rstrip("=")
    run = run[: len(run) - len(run) % 4] if len(run) % 4 == 1 else run
    padded = run + "=" * (-len(run) % 4)
    raw = base64.urlsafe_b64decode(padded) if re.search("[-_]", run) else base64.b64decode(padded)
    return raw.decode("utf-8")


def _from_hex(run: str) -> str:
    digits = re.sub(r"\\x|0x|[ :,-]", "", run)
    return bytes.fromhex(digits[: len(digits) // 2 * 2]).decode("utf-8")


def _is_text(decoded: str) -> bool:
    if len(decoded) < 8:
        return False
    printable = sum(c.isprintable() or c in "\n\t" for c in decoded)
    letters = sum(c.isalpha() or c == " " for c in decoded)
    return printable >= 0.95 * len(decoded) and letters >= 0.6 * len(decoded)


def _hidden_runs(text: str) -> list[Finding]:
    """Runs of Unicode tag characters: invisible on screen, read as ASCII by some models."""
    found = []
    for m in re.finditer("[\U000e0000-\U000e007f]{16,}", text):
        shown = "".join(chr(ord(c) - 0xE0000) for c in m.group() if ord(c) >= 0xE0020)
        found.append(Finding(m.span(), "hidden-characters", shown[:160]))
    return found


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text as a reader sees it (compatibility forms folded, invisible characters dropped,
    tag characters and look-alike letters made ASCII), and where each character came from."""
    if text.isascii():
        return text, list(range(len(text) + 1))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        code = ord(ch)
        if 0xE0020 <= code <= 0xE007E:
            folded = chr(code - 0xE0000)
        elif code > 127:
            folded = unicodedata.normalize("NFKC", ch).translate(_LOOKALIKES)
        else:
            folded = ch
        out.append(folded)
        where += [i] * len(folded)
    where.append(len(text))
    return "".join(out), where


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _BREAK.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _widened(text: str, sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The match grown to whole sentences, then to the neighbours in its paragraph that carry
    on with it (imperatives, "you must", links)."""
    inside = [i for i, (s, e) in enumerate(sentences) if s < end and e > start]
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    while first > 0 and _continues(text, sentences[first - 1], sentences[first][0]):
        first -= 1
    while last + 1 < len(sentences) and _continues(text, sentences[last + 1], sentences[last][1]):
        last += 1
    return min(start, sentences[first][0]), max(end, sentences[last][1])


def _continues(text: str, outer: tuple[int, int], edge: int) -> bool:
    """Whether the sentence `outer`, beside a flagged one ending or starting at `edge`, is part
    of the same instruction: in the same paragraph, and reading like one."""
    gap = (outer[1], edge) if outer[1] <= edge else (edge, outer[0])
    if _PARAGRAPH.search(text[gap[0] : gap[1]]):
        return False
    return bool(WEAK.search(text[outer[0] : outer[1]].strip()))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _covered(span: tuple[int, int], findings: list[Finding]) -> bool:
    return any(f.span[0] <= span[0] and span[1] <= f.span[1] for f in findings)
