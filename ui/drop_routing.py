"""What a dropped (or chosen) file becomes: a sketch to turn into a page, an image attached to
the next message, a document for the assistant's knowledge, or a one-line refusal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant_app.storage.knowledge_files import KNOWLEDGE_KINDS, can_learn
from ui.sketch_files import KINDS, is_image

SKETCH, ATTACH, LEARN, REFUSE = "sketch", "attach", "learn", "refuse"
WHITE = 200  # a pixel this light (0-255) is paper
PAPER_SHARE = 0.6  # a sketch is mostly paper...
GREY_SATURATION = 40  # ...and mostly grey (0-255): a photo or a screenshot is colourful


@dataclass(frozen=True)
class Drop:
    action: str  # sketch | attach | learn | refuse
    path: Path | None
    reason: str = ""  # for refuse: what is wrong and what would work


def looks_like_sketch(path: Path) -> bool:
    """A drawing on paper or a whiteboard: mostly light, mostly grey. Cheap (a thumbnail), so
    it runs on the GUI thread; a wrong guess costs one click (the sketch dialog's Cancel)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image.draft("RGB", (128, 128))  # JPEG decodes at a fraction of the size
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((128, 128))
    except (OSError, ValueError, Image.DecompressionBombError):
        return True  # unreadable: the sketch flow says why, with the details
    import numpy as np

    hsv = np.asarray(small.convert("HSV")).reshape(-1, 3)
    grey = hsv[hsv[:, 1] < GREY_SATURATION]
    paper = int((grey[:, 2] >= WHITE).sum())
    return len(grey) >= 0.85 * len(hsv) and paper >= PAPER_SHARE * len(hsv)


def route(paths: list[Path | None]) -> list[Drop]:
    """One Drop per dropped item; at most one sketch (one page at a time)."""
    drops: list[Drop] = []
    for path in paths:
        drop = _route_one(path)
        if drop.action == SKETCH and any(d.action == SKETCH for d in drops):
            drop = Drop(REFUSE, path, f"{path.name}: drop one sketch at a time.")
        drops.append(drop)
    return drops


def _route_one(path: Path | None) -> Drop:
    accepted = f"a sketch or picture ({KINDS}), or a {KNOWLEDGE_KINDS} file for knowledge"
    if path is None:
        return Drop(REFUSE, None, f"Only files can be dropped here: {accepted}.")
    if path.is_dir():
        return Drop(REFUSE, path, f"{path.name} is a folder: drop {accepted}.")
    if not path.is_file():
        return Drop(REFUSE, path, f"{path} was not found.")
    if can_learn(path):
        return Drop(LEARN, path)
    if is_image(path):
        return Drop(SKETCH if looks_like_sketch(path) else ATTACH, path)
    return Drop(REFUSE, path, f"{path.name} cannot be used here: drop {accepted}.")
