"""A sketch's text lines mended before they are classified: a heading the detector cut in two
joined (not across a table's cell border), a checkbox or an underline it boxed with a line's
words taken out, a line of links underlined apart cut into links, labels it missed in empty
boxes read; the lines with a stroke under them (links) found; a letter's outline told from a
drawn shape, a scrawl's guessed glyph from words."""

from __future__ import annotations

import re
import statistics
from collections.abc import Collection

import cv2
import numpy as np

from vision.ocr import OcrLine, TextReader
from vision.ocr_words import usual
from vision.shapes import (
    PixelBox,
    Shape,
    bare_round,
    box_height,
    box_width,
    crossing_strokes,
    inside,
    int_box,
    longest_run,
    overlap_x,
    runs,
)

SECOND_LOOK = 0.75  # how sure the recogniser must be of a word in an empty-looking box
TITLE_RATIO = 1.12  # a line this much taller than body text may be a heading cut in two
# Rows a light underline drawn aslant may spread over, above or below its densest rows, before
# the paper around it ("Terms" in 887123: 0.46, 0.42, 0.34 inked under the stroke, then bare).
SLANT_ROWS = 5


def join_split_lines(
    lines: list[OcrLine], ink: np.ndarray, underlined: Collection[OcrLine] = ()
) -> list[OcrLine]:
    """One line for a big heading the detector cut at a wide word space ("OPENING" "HOURS"):
    heading-sized neighbours on one baseline, about as tall, less than a letter height apart,
    with no stroke between them running past both (a table's cell border), and not each
    `underlined` (links side by side, boxed tall with their strokes). Three pieces or more
    in a row stay apart: a row of words written large (a menu), not a heading cut in two."""
    body = body_height(lines)
    big = [line for line in lines if body > 0 and line.height >= TITLE_RATIO * body]
    merged: list[tuple[OcrLine, list[OcrLine]]] = []  # each joined line and its pieces
    for line in sorted(big, key=lambda line: line.box[0]):
        for k, (left, pieces) in enumerate(merged):
            if (
                _continues(left, line) and not _ruled_between(ink, left, line)
                and not (left in underlined and line in underlined)
            ):  # fmt: skip
                merged[k] = (_joined(left, line, max(left.height, line.height)), [*pieces, line])
                break
        else:
            merged.append((line, [line]))
    kept = [p for joined, pieces in merged for p in (pieces if len(pieces) > 2 else [joined])]
    return _swallow_words([line for line in lines if line not in big] + kept)


def _swallow_words(lines: list[OcrLine]) -> list[OcrLine]:
    """A short word the detector boxed apart, smaller, where another line ends ("Log" and
    "in" overlapping it: one button's "Log in"), joined to that line."""
    out = list(lines)
    for word in sorted(lines, key=lambda line: line.height):
        host = next(
            (
                line for line in out
                if line is not word and word.height < 0.75 * line.height
                and line.box[1] <= (word.box[1] + word.box[3]) / 2 <= line.box[3]
                and line.box[0] + 0.5 * line.width <= word.box[0] <= line.box[2] + 0.3 * word.height
                and word.box[2] > line.box[2] and " " not in word.text.strip()
            ),
            None,
        )  # fmt: skip
        if host is not None and word in out:
            out[out.index(host)] = _joined(host, word, host.glyph_height)
            out.remove(word)
    return out


def _joined(left: OcrLine, right: OcrLine, glyph_height: float) -> OcrLine:
    """`left` and `right` read as one line: both words, the box around both, the lesser
    confidence."""
    box = (left.box[0], min(left.box[1], right.box[1]), right.box[2],
           max(left.box[3], right.box[3]))  # fmt: skip
    text = f"{left.text} {right.text}"
    return OcrLine(text, min(left.confidence, right.confidence), box, glyph_height)


def _continues(left: OcrLine, right: OcrLine) -> bool:
    h = max(left.height, right.height)
    shared = min(left.box[3], right.box[3]) - max(left.box[1], right.box[1])
    gap = right.box[0] - left.box[2]
    return (
        shared >= 0.6 * min(left.box[3] - left.box[1], right.box[3] - right.box[1])
        and min(left.height, right.height) >= 0.75 * h
        and gap <= 0.8 * h
    )


def _ruled_between(ink: np.ndarray, left: OcrLine, right: OcrLine) -> bool:
    x0, x1 = int(left.box[2]), int(right.box[0])
    reach = max(2, int(0.3 * max(left.height, right.height)))
    y0 = max(0, int(min(left.box[1], right.box[1])) - reach)
    y1 = int(max(left.box[3], right.box[3])) + reach
    return x1 > x0 and bool(crossing_strokes(ink[y0:y1, x0:x1] > 0).any())


def unbox_checkboxes(
    pixels: np.ndarray, ink: np.ndarray, shapes: list[Shape], lines: list[OcrLine], ocr: TextReader
) -> list[OcrLine]:
    """`lines` with a checkbox the detector took into its line ("[] I agree" read "IIagree",
    as tall as the box) read again without it: a square about a letter tall at the line's left
    end (nothing written before it), with a space after it (a letter's closed loop has the next
    letter close by), is the box, and the rest of the line is its label. A line that starts
    with a usual word keeps it unless the rest, read again, still holds that word ("[] I AGREE"
    read "AGREE"; "Orders" with a square O reads "rders")."""
    recognise = getattr(ocr, "recognise", None)
    if recognise is None:
        return lines
    out = []
    for line in lines:
        x0, y0, x1, y1 = int_box(line.box)
        box = next(
            (
                s.box for s in shapes
                if s.kind == "rect" and not (s.crossed or s.solid)
                and 0.75 <= s.width / max(s.height, 1) <= 1.33
                and 0.5 * (y1 - y0) <= s.height <= 1.2 * (y1 - y0) and inside(s.box, line.box, 0.8)
                and x1 - s.box[2] >= 1.5 * s.width
                and _bare(ink[y0:y1, x0 : max(x0, s.box[0] - max(3, s.width // 5))])
            ),
            None,
        )  # fmt: skip
        if box and _space_after(ink[y0:y1, box[2] : box[2] + box_width(box) // 2], box):
            start = box[2] + max(2, box_width(box) // 6)
            text, confidence = recognise(pixels[y0:y1, start:x1])
            first = re.match(r"[^\W\d_]+", line.text)
            word = first.group(0).lower() if first else ""
            kept = len(word) > 2 and usual(word) and word not in re.findall(r"\w+", text.lower())
            if is_words(text) and not kept:
                line = OcrLine(text, confidence, (start, y0, x1, y1), box_height(box))
        out.append(line)
    return out


def _bare(strip: np.ndarray) -> bool:
    """Whether nothing is written in `strip` (before a checkbox on its line): no column inked
    over a tenth of its height (a side's overshoot is a row or two)."""
    return not strip.size or float((strip > 0).mean(axis=0).max()) < 0.1


def _space_after(strip: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether `strip` (the ink just right of `box`) has a run of empty columns a sixth of the
    box wide: past the strokes' overshoot, before the label."""
    empty = (strip > 0).mean(axis=0) < 0.01 if strip.size else np.zeros(0, bool)
    return longest_run(empty) >= max(2, box_width(box) // 6)


def trim_underlines(ink: np.ndarray, lines: list[OcrLine]) -> tuple[list[OcrLine], set[OcrLine]]:
    """`lines` with the underlines the detector took into them cut off (PP-OCRv6 boxes a
    footer's "Privacy  Help" with their strokes, twice as tall as the words: a heading), and
    the lines cut (links). An underline: thin ink below the letters, apart from them,
    spanning most of the line."""
    out, cut = [], set()
    for line in lines:
        x0, y0, x1, y1 = int_box(line.box)
        band = ink[max(0, y0) : y1, max(0, x0) : x1] > 0
        h = band.shape[0]
        inked = band.mean(axis=1) >= 0.03 if band.size else np.zeros(0, bool)
        spans = runs(inked)
        letters = next((r for r in spans if r[1] - r[0] >= 0.2 * h), None)
        under = [r for r in spans if letters and r[0] > letters[1] and r[1] - r[0] <= 0.2 * h]
        if under and band[under[0][0] : under[-1][1]].any(axis=0).mean() >= 0.5:
            keep = (letters[1] + under[0][0]) // 2
            box = (line.box[0], line.box[1], line.box[2], float(max(0, y0) + keep))
            line = OcrLine(line.text, line.confidence, box, line.height * keep / h)
            cut.add(line)
        out.append(line)
    return out, cut


def split_underlined(lines: list[OcrLine], shapes: list[Shape]) -> list[OcrLine]:
    """`lines` with a line of words that has two or more separate underlines ("Help
    Careers", a footer's links written close) cut into one line for each underline: each
    word goes to the underline under its middle (its place estimated from its letters)."""
    out = []
    for line in lines:
        x0, _, x1, y1 = line.box
        tall, words = line.height, line.text.split()
        under = sorted(
            (
                s.box for s in shapes
                if s.kind == "hline" and -0.3 * tall <= s.box[1] - y1 <= 0.6 * tall
                and s.box[0] >= x0 - 0.3 * tall and s.box[2] <= x1 + 0.3 * tall
            ),
            key=lambda b: b[0],
        )  # fmt: skip
        if len(under) < 2 or len(words) < 2:
            out.append(line)
            continue
        per = (x1 - x0) / max(1, len(line.text))
        groups: dict[int, list[tuple[str, float, float]]] = {}
        at = 0
        for word in words:
            start = line.text.index(word, at)
            at = start + len(word)
            a, b = x0 + start * per, x0 + at * per
            nearest = min(
                range(len(under)), key=lambda k: abs((under[k][0] + under[k][2]) / 2 - (a + b) / 2)
            )
            groups.setdefault(nearest, []).append((word, a, b))
        if len(groups) < 2:
            out.append(line)
            continue
        for part in groups.values():
            box = (part[0][1], line.box[1], part[-1][2], y1)
            out.append(OcrLine(" ".join(w for w, _, _ in part), line.confidence, box, tall))
    return out


def second_look(
    pixels: np.ndarray, shapes: list[Shape], lines: list[OcrLine], ocr: TextReader
) -> list[OcrLine]:
    """Labels the text detector missed inside button-shaped boxes (a faint or scrawled word)
    and links it missed over a short underline: the recogniser reads each empty box's inside,
    and the strip just above each bare underline, on its own. An empty field reads as
    nothing."""
    recognise = getattr(ocr, "recognise", None)
    if recognise is None:
        return []
    h, w = pixels.shape[:2]
    found = []
    body = body_height(lines)
    for s in shapes:
        x0, y0, x1, y1 = s.box
        if s.kind == "hline" and body > 0 and s.width < 0.3 * w:
            above = (
                max(0, x0 - int(0.1 * s.width)),
                max(0, y0 - int(1.5 * body)),
                min(w, x1 + int(0.1 * s.width)),
                y0,
            )
            if not any(
                overlap_x(t.box, above) > 0 and t.box[3] > above[1] for t in lines if t.box[1] < y1
            ):
                text, confidence = recognise(pixels[above[1] : above[3], above[0] : above[2]])
                if is_words(text) and confidence >= SECOND_LOOK:
                    found.append(OcrLine(text, confidence, above, body))
            continue
        if s.kind != "rect" or s.crossed or not 1.2 <= s.width / max(s.height, 1) <= 8:
            continue
        if s.height > 0.15 * h or any(inside(int_box(t.box), s.box, 0.5) for t in lines):
            continue
        inset = max(3, int(0.12 * s.height))
        box = (x0 + inset, y0 + inset, x1 - inset, y1 - inset)
        text, confidence = recognise(pixels[box[1] : box[3], box[0] : box[2]])
        if is_words(text) and confidence >= SECOND_LOOK:
            found.append(OcrLine(text, confidence, box, 0.45 * s.height))
    return found


def is_words(text: str) -> bool:
    return bool(re.search(r"\w", text))


def find_underlined(
    ink: np.ndarray, lines: list[OcrLine], shapes: list[Shape], *, apart: bool = False
) -> frozenset[int]:
    """The lines with a stroke under them: an ink row just below the letters that runs along
    most of the line (a descender's loop covers far less), stops near its ends (a box's edge
    under a text runs on) and is no box's top edge (a button right under a question).
    `apart`: only a stroke with paper between it and the letters, and below it (in the faint
    mask, which thickens letters until their feet, or the tops of the line below, make a row
    as dense as a stroke)."""
    found = set()
    for n, line in enumerate(lines):
        x0, y0, x1, y1 = int_box(line.box)
        th, width = line.height, x1 - x0
        if width < 10 or any(
            s.kind == "rect" and y1 - 0.35 * th <= s.box[1] <= y1 + 0.8 * th
            and overlap_x(s.box, (x0, y0, x1, y1)) > 0.5 * width
            for s in shapes
        ):  # fmt: skip
            continue
        reach = int(0.4 * width)
        lo, hi = max(0, x0 - reach), min(ink.shape[1], x1 + reach)
        lift = int(0.3 * th)  # rows above each candidate: the letters' lower part
        top = max(0, int(y1 - 0.35 * th) - lift)
        band = ink[top : int(y1 + 0.6 * th), lo:hi]
        if band.shape[0] <= lift:
            continue
        inked = cv2.morphologyEx(band, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
        if apart:  # a light stroke drawn aslant: each column's ink a row or two either way
            inked = cv2.dilate(inked, np.ones((5, 1), np.uint8))
        inked = inked > 0
        under = inked[:, x0 - lo : x1 - lo].mean(axis=1)
        beyond = np.concatenate([inked[:, : x0 - lo], inked[:, x1 - lo :]], axis=1)
        outside = beyond.mean(axis=1) if beyond.shape[1] else np.zeros(len(under))
        # A tilted rule runs on beyond the text a row or two higher or lower: the densest of
        # the nearby rows counts.
        outside = cv2.dilate(outside.astype(np.float32)[:, None], np.ones((7, 1), np.uint8))[:, 0]
        # A line of its own: dense along the text, sparse beyond it and sparse just above,
        # and a stroke's width thick (bold letters closed up are as dense, but x-height tall).
        # ... or with bare paper between it and the letters (a stroke drawn close under them).
        bare = under < 0.1
        gap = np.array([bare[r - lift : r].any() for r in range(lift, len(under))], bool)
        line = (under[lift:] >= 0.75) & (outside[lift:] <= 0.3) & ((under[:-lift] < 0.5) | gap)
        rows = np.flatnonzero(line) + lift
        if not apart:  # letters' feet closed up make a dense row too, but drawn in pieces
            raw = band[:, x0 - lo : x1 - lo] > 0
            rows = np.array([r for r in rows if _drawn_along(raw[max(0, r - 1) : r + 2], width)])
        if any(
            end - start <= 0.25 * th and np.any((rows >= start) & (rows < end))
            for start, end in runs(under >= 0.5)
            if not apart or bare_round(under, start, end, reach=SLANT_ROWS)
        ):
            found.add(n)
    return frozenset(found)


def _drawn_along(rows: np.ndarray, width: int) -> bool:
    """Whether a stroke runs along `rows` (a few ink rows, true where inked, a tilt or two
    allowed) for 40 % of `width` in one piece: an underline, not the feet of letters
    ("Gold": their longest piece a fifth of the word)."""
    return longest_run(rows.any(axis=0)) >= 0.4 * width


def body_height(lines: list[OcrLine]) -> float:
    """The usual text height: the median without the tallest line (often the only heading)."""
    return typical([line.height for line in lines])


def typical(values: list[float]) -> float:
    """The typical value: the median without the largest (often the only heading's)."""
    values = sorted(values)[:-1] if len(values) > 1 else values
    return statistics.median(values) if values else 0.0


def is_drawn(shape: Shape, lines: list[OcrLine], w: int, h: int) -> bool:
    """False for a letter's outline (an O, a D) and for the paper's own edge in a photo."""
    if shape.width * shape.height > 0.75 * w * h:
        return False
    for line in lines:
        box = int_box(line.box)
        # Mostly inside a text line (an underline touching the letters can close their
        # outlines past its bottom) and not much taller than it.
        if (
            inside(shape.box, box, 0.6) and shape.height <= 1.6 * box_height(box)
            and not _frames(shape.box, box)
        ):  # fmt: skip
            return False
    return True


def _frames(shape: PixelBox, text: PixelBox) -> bool:
    """Whether `shape` holds the whole of `text` with room left and right of it: a button
    drawn tight round big letters, not a letter's outline or an underline closing them."""
    room = 0.15 * box_height(text)
    return inside(text, shape, 0.95) and shape[0] <= text[0] - room and shape[2] >= text[2] + room


def is_reading(line: OcrLine) -> bool:
    """Words, and not a lone CJK glyph the bilingual recogniser guessed for a scrawl."""
    guessed = re.search(r"[\u3040-\u30ff\u3400-\u9fff]", line.text) and line.confidence < 0.9
    return is_words(line.text) and not guessed
