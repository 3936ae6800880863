"""Finds the drawn shapes of a sketch with OpenCV: ink, wobbly rectangles, crossed boxes, lines."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PixelBox = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Shape:
    """A drawn rectangle (`crossed` when it has both diagonals: an image placeholder; `solid`
    when inked all over: a bullet or a blot, not a box) or a horizontal line ("hline")."""

    kind: str  # "rect" | "hline"
    box: PixelBox
    crossed: bool = False
    solid: bool = False

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def ink_masks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dark strokes as 255 on 0, and a more sensitive mask that takes in light pencil too (for
    long strokes only: it also takes in paper blotches). Each pixel is compared with the paper
    around it (a blurred max filter, estimated once for both), so pencil on off-white paper,
    shadows and uneven light all work."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    gray = gray.astype(np.float32)
    k = _odd(max(gray.shape) / 40)
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 2)
    ratio = gray / np.maximum(paper, 1.0)
    below = paper - gray
    ink = _without_specks((ratio < 0.8) & (below > 18))
    return ink, _without_specks((ratio < 0.9) & (below > 10))


def _without_specks(dark: np.ndarray) -> np.ndarray:
    mask = dark.astype(np.uint8) * 255
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < 12)
    specks = specks[specks > 0]
    if len(specks):
        mask[np.isin(labels, specks)] = 0
    return mask


def find_shapes(ink: np.ndarray, faint: np.ndarray | None = None) -> list[Shape]:
    """Rectangles and horizontal lines in an ink mask (`faint`: a more sensitive one, whose long
    straight strokes join the search); anything touching the image edge (the edge of the
    paper in a photo) is left out."""
    side = max(ink.shape)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _disk(_odd(side * 0.006, 5)))
    # A second, coarser pass closes corners left open by a wider gap (about 1.3% of the page).
    wide = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _disk(_odd(side * 0.013, 11)))
    # A third pass for faint strokes broken in places (pencil grain) or sides that stop short
    # of a corner: long straight runs only (no letter has one) are extended along themselves.
    runs = _long_runs(ink if faint is None else faint, side)
    along = cv2.morphologyEx(ink | runs, cv2.MORPH_CLOSE, _disk(5))
    rects = _drop_duplicates(find_rects(closed) + find_rects(wide))
    rects = _drop_duplicates(rects + [r for r in find_rects(along) if not _merges(r, rects)])
    rects = [r for r in rects if not _bridged(r, rects)]
    lines = find_hlines(closed, faint)
    lines = [ln for ln in lines if not any(_on_side(ln.box, r.box) for r in rects)]
    return rects + lines


def _long_runs(ink: np.ndarray, side: int) -> np.ndarray:
    """Horizontal and vertical strokes at least 3% of the page long (grain gaps of a few
    pixels first filled), with gaps of up to 3.5% of the page along them bridged."""
    length, gap = _odd(side * 0.03), _odd(side * 0.035)
    out = np.zeros_like(ink)
    for horizontal in (True, False):
        runs = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _line(5, horizontal))
        runs = cv2.morphologyEx(runs, cv2.MORPH_OPEN, _line(length, horizontal))
        out |= cv2.morphologyEx(runs, cv2.MORPH_CLOSE, _line(gap, horizontal))
    return out


def _line(n: int, horizontal: bool) -> np.ndarray:
    return np.ones((1, n) if horizontal else (n, 1), np.uint8)


def find_rects(closed: np.ndarray) -> list[Shape]:
    """Closed four-sided outlines, however wobbly: each contour is filled, thin spurs (the
    overshoot at hand-drawn corners) are opened away, and what is left must fill its box."""
    h, w = closed.shape
    min_side = max(14, int(max(h, w) * 0.016))
    contours, _ = cv2.findContours(closed, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Shape] = []
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if cw < min_side or ch < min_side or _touches_edge((x, y, x + cw, y + ch), w, h):
            continue
        box = _solid_box(contour, (x, y, cw, ch), min_side)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        solid = float(np.mean(closed[y0:y1, x0:x1] > 0)) > 0.6
        found.append(Shape("rect", box, _crossed(closed, box), solid))
    return _drop_duplicates(found)


def find_hlines(closed: np.ndarray, faint: np.ndarray | None = None) -> list[Shape]:
    """Strokes much wider than tall that are not part of a rectangle (`faint`: the sensitive
    ink mask, in which a line's pieces are followed across the gaps where the pencil went
    light)."""
    h, w = closed.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    lines = []
    for i in range(1, count):
        x, y, cw, ch = stats[i, :4]
        box = (int(x), int(y), int(x + cw), int(y + ch))
        if cw < 0.04 * w or ch > 0.25 * cw or _touches_edge(box, w, h):
            continue
        if ch > max(14, 0.06 * cw):  # a tilted line is taller than its stroke: measure across
            points = cv2.findNonZero((labels[y : y + ch, x : x + cw] == i).astype(np.uint8))
            (_, _), (rw, rh), _ = cv2.minAreaRect(points)
            if min(rw, rh) > max(14, 0.04 * max(rw, rh)):
                continue
        lines.append(Shape("hline", box))
    return _joined(lines, max(6, int(0.01 * w)), faint)


def _joined(lines: list[Shape], gap: int, faint: np.ndarray | None = None) -> list[Shape]:
    """Lines that continue one another (a long rule drawn in strokes end to end, or broken
    where the pencil skipped or, in `faint`, went on lightly) as one line."""
    out: list[Shape] = []
    for line in sorted(lines, key=lambda s: s.box[0]):
        for k, left in enumerate(out):
            a, b = left.box, line.box
            level = abs((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) <= max(6, a[3] - a[1], b[3] - b[1])
            near = level and -gap <= b[0] - a[2] <= gap
            if near or (faint is not None and b[0] - a[2] > gap and _traced(faint, a, b)):
                out[k] = Shape("hline", (a[0], min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
                break
        else:
            out.append(line)
    # A piece left between two others a traced stroke joined lies inside their line.
    out = [s for s in out if not any(o is not s and _within(s.box, o.box) for o in out)]
    return sorted(out, key=lambda s: (s.box[1], s.box[0]))


def _within(a: PixelBox, b: PixelBox) -> bool:
    return b[0] <= a[0] and a[2] <= b[2] and b[1] <= a[1] and a[3] <= b[3]


def _traced(faint: np.ndarray, a: PixelBox, b: PixelBox) -> bool:
    """Whether a light stroke runs straight from the right end of line `a` to the left end of
    line `b`, alone on its level (a word between two underlines is no stroke joining them)."""
    ya, yb = _end_level(faint, a, a[2] - 4), _end_level(faint, b, b[0] + 4)
    span = b[0] - a[2]
    if abs(ya - yb) > max(6, 0.06 * span):
        return False
    h = faint.shape[0]
    traced = 0
    for x in range(a[2], b[0]):
        y = round(ya + (yb - ya) * (x - a[2]) / span)
        on = faint[max(0, y - 3) : y + 4, x].any()
        apart = faint[max(0, y - 15) : max(0, y - 6), x].any() or faint[y + 7 : y + 16, x].any()
        traced += on and not apart and 0 <= y < h
    return traced >= 0.85 * span


def _end_level(mask: np.ndarray, box: PixelBox, x: int) -> float:
    """The middle of a line's stroke at column `x` (the box's middle where nothing is inked)."""
    rows = np.flatnonzero(mask[box[1] : box[3] + 1, max(box[0], x - 2) : x + 3].any(axis=1))
    return box[1] + float(np.median(rows)) if len(rows) else (box[1] + box[3]) / 2


def _on_side(line: PixelBox, rect: PixelBox) -> bool:
    """Whether a line runs along a rectangle's top or bottom side (a side the finer closing
    left apart from the rest of its box: a button's top edge is no field)."""
    if overlap_x(line, rect) < 0.8 * box_width(line):
        return False
    near = max(8, 0.12 * box_height(rect))
    middle = (line[1] + line[3]) / 2
    return min(abs(middle - rect[1]), abs(middle - rect[3])) <= near


def _solid_box(contour: np.ndarray, rect: tuple[int, int, int, int], min_side: int):
    x, y, cw, ch = rect
    pad = 2
    filled = np.zeros((ch + 2 * pad, cw + 2 * pad), np.uint8)
    cv2.drawContours(filled, [contour], -1, 255, thickness=cv2.FILLED, offset=(pad - x, pad - y))
    k = _odd(min(cw, ch) * 0.25, 5)
    opened = cv2.morphologyEx(filled, cv2.MORPH_OPEN, cv2.getStructuringElement(0, (k, k)))
    points = cv2.findNonZero(opened)
    if points is None:
        return None
    bx, by, bw, bh = cv2.boundingRect(points)
    if bw < min_side or bh < min_side:
        return None
    # It must fill its box; a tilted box (a tilted page, a slanted hand) its turned box.
    (_, _), (rw, rh), _ = cv2.minAreaRect(points)
    if cv2.countNonZero(opened) < 0.88 * min(bw * bh, rw * rh):
        return None
    return (x - pad + bx, y - pad + by, x - pad + bx + bw, y - pad + by + bh)


def _merges(rect: Shape, found: list[Shape]) -> bool:
    """Whether `rect` is two found rectangles bridged into one (side by side boxes whose
    facing sides ran close): it holds two or more that each fill a quarter of it."""
    area = rect.width * rect.height
    big = [
        f for f in found
        if f.width * f.height >= 0.25 * area and _iou(f.box, rect.box) < 0.6
        and f.box[0] >= rect.box[0] - 3 and f.box[1] >= rect.box[1] - 3
        and f.box[2] <= rect.box[2] + 3 and f.box[3] <= rect.box[3] + 3
    ]  # fmt: skip
    return len(big) >= 2


def _bridged(rect: Shape, found: list[Shape]) -> bool:
    """Whether `rect` is boxes drawn side by side (or one on another), touching, found once
    more as one: two or more found inside it, each its full height (or width), that
    together reach all four of its sides. (A table's cells are not its full height.)"""
    near = max(6, 0.03 * min(rect.width, rect.height))
    x0, y0, x1, y1 = rect.box
    inner = [
        f for f in found
        if f is not rect and f.box[0] >= x0 - near and f.box[1] >= y0 - near
        and f.box[2] <= x1 + near and f.box[3] <= y1 + near
    ]  # fmt: skip
    for across in (True, False):
        parts = [
            f
            for f in inner
            if (f.height if across else f.width) >= 0.8 * (y1 - y0 if across else x1 - x0)
        ]
        if len(parts) < 2:
            continue
        union = (min(p.box[0] for p in parts), min(p.box[1] for p in parts),
                 max(p.box[2] for p in parts), max(p.box[3] for p in parts))  # fmt: skip
        if all(abs(u - r) <= near for u, r in zip(union, rect.box, strict=True)):
            return True
    return False


def _crossed(closed: np.ndarray, box: PixelBox) -> bool:
    """Both diagonals inked along most of their length (ignoring the frame itself). A tilted
    or wobbly box's diagonals run a little off the corner-to-corner line: each may start and
    end up to 6% of the width above or below its corner, but no more than a quarter of the
    height (or a long flat field's "diagonals" would run along its top and bottom sides)."""
    x0, y0, x1, y1 = box
    if min(x1 - x0, y1 - y0) < 40:
        return False
    near = cv2.dilate(closed[y0:y1, x0:x1], np.ones((7, 7), np.uint8)) > 0
    w, h = x1 - x0 - 1, y1 - y0 - 1
    t = np.linspace(0.15, 0.85, 40)
    xs = (w * t).astype(int)
    slack = min(0.06 * w, 0.25 * h)
    shifts = np.linspace(-slack, slack, 9)
    for ya, yb in ((0, h), (h, 0)):
        best = 0.0
        for da in shifts:
            ys = np.clip(ya + da + (yb - ya + shifts[:, None] - da) * t, 0, h).astype(int)
            best = max(best, float(near[ys, xs].mean(axis=1).max()))
        if best < 0.8:
            return False
    return True


def _drop_duplicates(shapes: list[Shape]) -> list[Shape]:
    """Keeps the larger of two rectangles that are nearly the same (a doubled stroke, a box
    drawn twice round)."""
    ordered = sorted(shapes, key=lambda s: -(s.width * s.height))
    kept: list[Shape] = []
    for shape in ordered:
        if not any(_iou(shape.box, k.box) > 0.6 or _retraced(shape, k) for k in kept):
            kept.append(shape)
    return kept


def _retraced(inner: Shape, outer: Shape) -> bool:
    """Whether `inner` is `outer` drawn again just inside it: every side within 35 % of
    its size (and 10 pixels) of the other's."""
    near = min(10, 0.35 * min(inner.width, inner.height))
    return all(abs(a - b) <= near for a, b in zip(inner.box, outer.box, strict=True))


def _iou(a: PixelBox, b: PixelBox) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _touches_edge(box: PixelBox, w: int, h: int, margin: int = 3) -> bool:
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


def _odd(value: float, minimum: int = 3) -> int:
    n = max(minimum, int(value))
    return n if n % 2 else n + 1


def _disk(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of true values in `flags`, end exclusive."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.asarray(flags, np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def bare_round(profile: np.ndarray, start: int, end: int, reach: int = 3) -> bool:
    """Whether rows start..end of an ink profile (each row's share inked) have a nearly bare
    row within `reach` above them and within `reach` below them: a stroke of its own."""
    above, below = profile[max(0, start - reach) : start], profile[end : end + reach]
    return start > 0 and end < len(profile) and above.min() < 0.25 and below.min() < 0.25


def crossing_strokes(mask: np.ndarray) -> np.ndarray:
    """The columns of `mask` (a band of ink, true where inked) that a stroke runs through from
    its top row to its bottom one, slanting up to 4 pixels: a table's border across a line."""
    if mask.size == 0:
        return np.zeros(mask.shape[1:], bool)
    widened = cv2.dilate(mask.astype(np.uint8), np.ones((1, 5), np.uint8))
    return widened.mean(axis=0) >= 0.95


def longest_run(flags: np.ndarray) -> int:
    """The most consecutive true values in `flags` (blank columns between words, say)."""
    return max((end - start for start, end in runs(flags)), default=0)


# Pixel-box geometry for the sketch reader.


def enclosing(boxes: list[PixelBox]) -> PixelBox:
    """The smallest box holding every one of `boxes`."""
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def inside(inner: PixelBox, outer: PixelBox, share: float = 0.9) -> bool:
    area = box_area(inner)
    return area > 0 and intersection(inner, outer) >= share * area


def intersection(a: PixelBox, b: PixelBox) -> float:
    return max(0, overlap_x(a, b)) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def overlap_x(a: PixelBox, b: PixelBox) -> float:
    return min(a[2], b[2]) - max(a[0], b[0])


def box_area(b: PixelBox) -> float:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def box_width(b: PixelBox) -> int:
    return b[2] - b[0]


def box_height(b: PixelBox) -> int:
    return b[3] - b[1]


def int_box(box: tuple[float, float, float, float]) -> PixelBox:
    return (int(box[0]), int(box[1]), int(round(box[2])), int(round(box[3])))
