"""Drawing one wireframe page for sketch_gen: text and pencil shapes on a cursor, then the look."""

from __future__ import annotations

import functools
import io
import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sketches"))
from draw import Sketch, smooth_noise  # noqa: E402

MAX_H = 1400
_DJ = "/usr/share/fonts/truetype/dejavu/DejaVu"
_HANDS = (
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/truetype/breip/Breip.ttf",
    "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
)
FONTS = tuple([f"{_DJ}Sans.ttf", f"{_DJ}Sans-Oblique.ttf", f"{_DJ}Serif.ttf"]) + tuple(
    p for p in _HANDS if Path(p).exists()
)
PAPERS = ((252, 252, 250), (248, 244, 232), (244, 236, 214), (232, 232, 230))
PENS = {"pencil": (70, 70, 78), "ballpoint": (30, 50, 140), "black": (25, 25, 30)}

Box = tuple[float, float, float, float]


class Overflow(Exception):
    """The content would leave the page; the page is laid out again with fresh choices."""


class _Ink(Sketch):
    """draw.py's sketch with a per-page stroke width (2-4) instead of its fixed 3."""

    def __init__(self, size: tuple[int, int], seed: list[int], stroke: int) -> None:
        super().__init__(size, seed)  # type: ignore[arg-type]  # default_rng takes a list
        self.stroke = stroke

    def line(self, p0: tuple[float, float], p1: tuple[float, float], width: int = 3) -> None:
        super().line(p0, p1, max(2, width + self.stroke - 3))


@functools.lru_cache(maxsize=64)
def _font(face: str, size: int) -> tuple[int, ImageFont.FreeTypeFont]:
    """The point size that gives `face` DejaVu's ink height at `size` (by capital height)."""
    ref = ImageFont.truetype(FONTS[0], size).getbbox("H")
    own = ImageFont.truetype(face, size).getbbox("H")
    scaled = max(8, round(size * (ref[3] - ref[1]) / (own[3] - own[1])))
    return scaled, ImageFont.truetype(face, scaled)


def union(*boxes: Box) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


class Page:
    """A page being laid out: a cursor, the ink layer and the elements drawn so far."""

    def __init__(self, seed: int, attempt: int) -> None:
        self.rng = r = random.Random(f"{seed}/{attempt}")
        self.w = r.randrange(1000, 1401, 10)
        self.ink = _Ink((self.w, MAX_H), [seed, attempt], r.choice((2, 3, 3, 4)))
        self.size = r.randint(30, 44)
        self.faces = r.sample(FONTS, r.randint(1, 3))
        self.mixed = r.random() < 0.3  # a face per element rather than one per page
        self.m = r.randint(70, 110)
        self.y = float(self.m)
        self.th = self.measure("Hg", face=FONTS[0])[1]
        self.elements: list[dict] = []
        self.behaviours: list[dict] = []
        self.used: set[str] = set()

    @property
    def cw(self) -> float:
        return self.w - 2 * self.m

    def face(self) -> str:
        return self.rng.choice(self.faces) if self.mixed else self.faces[0]

    def gap(self, k: float = 1.0) -> float:
        """Room between elements: over half a text height plus what a wobbly stroke takes."""
        return k * (self.rng.uniform(0.7, 1.2) * self.th + 16)

    def down(self, box: Box, k: float = 1.0) -> None:
        self.y = box[3] + self.gap(k)

    def measure(self, words: str, size: int = 0, face: str = "") -> tuple[int, int]:
        left, top, right, bottom = _font(face or self.faces[0], size or self.size)[1].getbbox(words)
        return right - left, bottom - top

    def write(self, x: float, y: float, words: str, size: int = 0, face: str = "") -> Box:
        """Draws `words` with the ink's top-left near (x, y); returns the ink's bounding box."""
        face = face or self.face()
        scaled, font = _font(face, size or self.size)
        left, top, right, bottom = font.getbbox(words)
        ox, oy = int(x - 10 - left), int(y - 10 - top)
        if ox < 0 or oy < 0:
            raise Overflow
        region = (ox, oy, ox + right + 40 + bottom // 10, oy + bottom + 40 + right // 15)
        before = self.ink.ink.crop(region)
        self.ink.text(ox, oy, words, scaled, face=face)
        found = ImageChops.difference(self.ink.ink.crop(region), before).getbbox()
        self.used.add(Path(face).name)
        if found is None:
            raise Overflow
        return (ox + found[0], oy + found[1], ox + found[2], oy + found[3])

    def check(self, box: Box) -> None:
        if box[0] < self.m / 2 or box[2] > self.w - self.m / 2 or box[3] > MAX_H - self.m:
            raise Overflow

    def add(self, kind: str, text: str, box: Box | None, parent: int = -1, does: str = "") -> int:
        if box is not None:
            self.check(box)
        self.elements.append({"kind": kind, "text": text, "box": box, "parent": parent})
        if does:
            self.behaviours.append({"label": text, "does": does})
        return len(self.elements) - 1

    def text(self, x: float, y: float, words: str, parent: int = -1, **style) -> Box:
        kind = style.pop("kind", "text")
        box = self.write(x, y, words, **style)
        self.add(kind, words, box, parent)
        return box

    def button(self, x: float, y: float, label: str, does: str, parent: int = -1) -> Box:
        """A label with a rectangle drawn round it; (x, y) is about the rectangle's top-left."""
        r, th = self.rng, self.th
        pad_x = r.uniform(0.5, 1.1) * th + 12
        want = r.uniform(1.8, 2.6) * th
        t = self.write(x + pad_x, y + (want - th) / 2, label)
        pad_y = max((want - (t[3] - t[1])) / 2, 0.3 * th + 10)
        box = (t[0] - pad_x, t[1] - pad_y, t[2] + pad_x, t[3] + pad_y)
        self.ink.rect(*box)
        self.add("button", label, box, parent, does)
        return box

    def field(self, x: float, y: float, label: str, kind: str = "input", **how) -> Box:
        """An input or textarea with its label left of it (or above); returns both's bounds."""
        r, th = self.rng, self.th
        h = r.uniform(1.5, 2.0) * th if kind == "input" else r.uniform(3.2, 5.0) * th
        flat = kind == "input" and r.random() < 0.15  # a line to write on rather than a box
        face, above = self.face(), how.get("above", False)
        parts: list[Box] = []
        if label and above:
            parts.append(self.write(x, y, label, face=face))
            fx, fy = x + r.uniform(-4, 10), parts[0][3] + r.uniform(0.4, 0.8) * th + 8
        elif label:
            ly = y + (0 if flat else (h - th) / 2 if kind == "input" else r.uniform(0.2, 0.6) * th)
            parts.append(self.write(x, ly, label, face=face))
            fx = max(how.get("box_x") or 0, parts[0][2] + r.uniform(0.8, 1.5) * th)
            fy = y
        else:
            fx, fy = x, y
        right = self.w - self.m if how.get("width") is None else fx + how["width"]
        width = min(right - fx, r.uniform(max(3.3 * h, 8 * th), 16 * th))
        if width < 3 * h:
            raise Overflow
        if flat:
            ly = fy + th * 1.3
            self.ink.line((fx, ly), (fx + width, ly))
            box = (fx, ly - 8, fx + width, ly + 8)
        else:
            box = (fx, fy, fx + width, fy + h)
            self.ink.rect(*box)
        self.add(kind, label, box, how.get("parent", -1))
        return union(box, *parts)

    def checkbox(self, x: float, y: float, label: str) -> Box:
        side = self.rng.uniform(0.9, 1.2) * self.th
        box = (x, y, x + side, y + side)
        self.ink.rect(*box)
        self.add("checkbox", label, box)
        gap = self.rng.uniform(0.6, 1.0) * self.th + 10
        return union(box, self.write(x + side + gap, y + (side - self.th) / 2, label))

    def link(self, x: float, y: float, words: str) -> Box:
        t = self.write(x, y, words)
        uy = t[3] + 0.25 * self.th + 4
        self.ink.line((t[0] - 4, uy), (t[2] + 4, uy), width=2)
        box = (t[0] - 4, t[1], t[2] + 4, uy + 4)
        self.add("link", words, box)
        return box

    def image(self, box: Box, parent: int = -1) -> Box:
        self.ink.cross(*box)
        self.add("image", "", box, parent)
        return box

    def close_box(self, index: int, box: Box) -> None:
        """Draws a container opened earlier (with add(box=None)) round its children."""
        self.check(box)
        self.ink.rect(*box)
        self.elements[index]["box"] = box


def look(p: Page, h: int) -> tuple[Image.Image, dict]:
    """Ink on tinted paper: page tilt, grain, pen colour, lighting, blur, noise, maybe JPEG."""
    r, g, w = p.rng, p.ink.rng, p.w
    angle = r.uniform(-2, 2)
    ink = p.ink.ink.crop((0, 0, w, h)).rotate(angle, Image.Resampling.BICUBIC)
    alpha = np.asarray(ink, dtype=np.float32) / 255 * g.uniform(0.55, 1.0, (h, w))
    alpha = np.clip(alpha * 1.05, 0, 1)[..., None].astype(np.float32)
    pen = r.choice(sorted(PENS))
    sheet = np.array(r.choice(PAPERS), np.float32) + smooth_noise(g, (h, w), 2.5)[..., None]
    pixels = sheet * (1 - alpha) + np.array(PENS[pen], np.float32) * alpha
    lit = r.random() < 0.4
    if lit:  # a phone photo: light falls off across the page and towards the corners
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(w, h)
        a = r.uniform(0, 2 * math.pi)
        ramp = (xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a)
        corner = (xx - w / max(w, h) / 2) ** 2 + (yy - h / max(w, h) / 2) ** 2
        pixels *= (1 - r.uniform(0.05, 0.2) * (ramp + 0.5) - r.uniform(0, 0.4) * corner)[..., None]
    blur = r.uniform(0.4, 1.2)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(blur)), np.float32)
    pixels = pixels + g.normal(0, r.uniform(1.5, 5), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    quality = r.randint(70, 90) if r.random() < 0.3 else None
    if quality:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        image = Image.open(buffer).convert("RGB")
    look = {"angle": round(angle, 3), "pen": pen, "lighting": lit, "blur": round(blur, 3)}
    return image, {**look, "jpeg_quality": quality}


def tilted(box: Box, angle: float, w: int, h: int) -> list[float]:
    """The bounds of `box` once the page is turned `angle` degrees anticlockwise, in 0..1."""
    c, s, cx, cy = math.cos(math.radians(angle)), math.sin(math.radians(angle)), w / 2, h / 2
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        xs.append(cx + (x - cx) * c + (y - cy) * s)
        ys.append(cy - (x - cx) * s + (y - cy) * c)
    bounds = (min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h)
    return [round(min(1.0, max(0.0, v)), 4) for v in bounds]
