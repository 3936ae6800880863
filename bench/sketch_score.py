"""Scores a written page against what a sketch really shows (its truth JSON), not what OCR read.

Used by bench/sketch.py and the end-to-end sketch tests. Measures, on the rendered page in
headless Chromium: whether it rendered with no JavaScript error (clicks included), the share of
drawn words on it (case and punctuation aside) and of drawn strings written exactly, whether
every element kind has the drawn count, how many pairs of drawn elements keep their relative
position (side by side in order, or one above the other), and, for each button whose label
implies a behaviour, whether clicking it did that.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from dataclasses import dataclass

from vision.layout import Box, Element, same_row
from vision.page_check import COUNTED, match_elements
from vision.render import FILL_VALUES, ClickResult, PageRenderer, RenderedPage


@dataclass(frozen=True)
class PageScore:
    renders: bool  # loaded, no uncaught error or console error, before or after the clicks
    errors: tuple[str, ...]
    word_recall: float  # drawn words found on the page (case and punctuation ignored)
    exact_recall: float  # drawn strings found on the page exactly as written
    missing: tuple[str, ...]
    kinds_right: bool  # every counted kind has the drawn number of elements
    wrong_counts: tuple[str, ...]  # "button 3 != 2"
    position: float  # drawn element pairs whose relative position the page keeps
    behaviours: tuple[tuple[str, str, bool], ...]  # (label, does, worked)

    @property
    def behaviours_ok(self) -> int:
        return sum(ok for _, _, ok in self.behaviours)


def score_page(html: str, truth: dict, renderer: PageRenderer) -> PageScore:
    """Renders `html` (clicking every button) and compares it with `truth`."""
    page = renderer.render(html)
    errors = tuple(page.page_errors + page.console_errors) + (
        (page.failure,) if page.failure else ()
    )
    revealed = [line for c in page.clicks for line in c.new_text]
    shown = page.text + "\n" + "\n".join(revealed)
    word, exact, missing = recall(truth["texts"], shown)
    counts = Counter(e.kind for e in page.elements if e.visible)
    wanted = {k: n for k, n in truth["counts"].items() if k in COUNTED}
    wrong = tuple(
        f"{k} {counts.get(k, 0)} != {wanted.get(k, 0)}"
        for k in COUNTED
        if counts.get(k, 0) != wanted.get(k, 0)
    )
    elements = [_element(e) for e in truth.get("elements", ()) if e["kind"] in COUNTED]
    return PageScore(
        renders=not errors, errors=errors, word_recall=word, exact_recall=exact,
        missing=missing, kinds_right=not wrong, wrong_counts=wrong,
        position=position_agreement(elements, page),
        behaviours=tuple(behaviours(truth.get("behaviours", ()), page)),
    )  # fmt: skip


def recall(texts: list[str], shown: str) -> tuple[float, float, tuple[str, ...]]:
    """(word recall, exact-string recall, strings not found exactly)."""
    have = Counter(_words(shown))
    flat = " ".join(shown.split())
    found = total = 0
    for text in texts:
        for w in _words(text):
            total += 1
            if have[w] > 0:
                have[w] -= 1
                found += 1
    missing = tuple(t for t in texts if " ".join(t.split()) not in flat)
    exact = 1 - len(missing) / len(texts) if texts else 1.0
    return (found / total if total else 1.0), exact, missing


def position_agreement(elements: list[Element], page: RenderedPage) -> float:
    """Of all pairs of drawn elements found on the page, the share placed as drawn: one above
    the other in one column stays above it; side by side in one row stays side by side, in
    order; in different columns and rows, it keeps its side or its height."""
    shown = [e for e in page.elements if e.visible]
    pairs = match_elements(elements, shown)
    kept = total = 0
    for (a, pa), (b, pb) in itertools.combinations(pairs, 2):
        total += 1
        side = (a.box.cx < b.box.cx) == (pa.box.cx < pb.box.cx)
        height = (a.box.cy < b.box.cy) == (pa.box.cy < pb.box.cy)
        if min(a.box.x1, b.box.x1) > max(a.box.x0, b.box.x0):  # one column
            kept += height
        elif same_row(a.box, b.box):
            kept += side and min(pa.box.y1, pb.box.y1) > max(pa.box.y0, pb.box.y0)
        else:
            kept += side or height
    return kept / total if total else 1.0


def behaviours(wanted: list[dict], page: RenderedPage) -> list[tuple[str, str, bool]]:
    """Each drawn button's behaviour and whether clicking its page button did it. Buttons
    with the same label are taken in page order."""
    clicks: dict[int, list[ClickResult]] = {}
    for c in page.clicks:
        clicks.setdefault(c.element, []).append(c)
    buttons = [i for i, e in enumerate(page.elements) if e.kind == "button"]
    used: set[int] = set()
    out = []
    for want in wanted:
        free = [i for i in buttons if i not in used]
        near = [(_similar(want["label"], page.elements[i].text), i) for i in free]
        best, match = max(near, default=(0.0, None))
        if match is None or best < 0.8:
            out.append((want["label"], want["does"], False))
            continue
        used.add(match)
        out.append((want["label"], want["does"], _did(want["does"], clicks.get(match, []))))
    return out


def _did(does: str, results: list[ClickResult]) -> bool:
    """Whether a click did what `does` asks (any new visible text; for "add", the typed text
    showing up)."""
    for r in results:
        if r.error or not r.changed or r.reloaded or (r.again and does != "tab"):
            continue  # only a tab may need a second click (the open one, after the others)
        new = " ".join(r.new_text).lower()
        if does == "add":
            if any(v.lower() in new for v in FILL_VALUES.values()):
                return True
        elif new.strip():
            return True
    return False


def _element(e: dict) -> Element:
    return Element(e["kind"], e["text"], Box(*e["box"]))


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def _similar(a: str, b: str) -> float:
    """Labels compared without case, punctuation or spaces (OCR may glue two words)."""
    return difflib.SequenceMatcher(None, "".join(_words(a)), "".join(_words(b))).ratio()
