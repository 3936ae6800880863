"""Loads a user's image file safely: checks what it is, turns it upright and scales it down."""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from assistant_app.core.errors import UserVisibleError

log = logging.getLogger(__name__)

WORKING_SIDE = 1600  # the longest side the sketch reader works at, in pixels
MAX_PIXELS = 150_000_000  # larger than any camera; beyond this we refuse instead of decoding
MAX_FILE_BYTES = 200 * 1024 * 1024
_bomb_lock = threading.Lock()
ORIENTATION = 0x0112  # EXIF tag: how a phone held the camera
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class LoadedImage:
    """An upright RGB image at working size; `original_size` is (width, height) in the file and
    `notes` say what was done to it that the user may want to know (first frame, downscaled)."""

    pixels: np.ndarray
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def load_image(path: str | Path, *, max_side: int = WORKING_SIDE) -> LoadedImage:
    """Reads `path` as an RGB uint8 array whose longest side is at most `max_side`.

    Raises UserVisibleError, saying what the file seems to be and what to do, for a missing
    file, a file that is not an image, a damaged image or an absurdly large one.
    """
    path = Path(path)
    if not path.is_file():
        raise UserVisibleError(f"No image at {path}. Check the file name and try again.")
    size = path.stat().st_size
    if size == 0:
        raise UserVisibleError(f"{path.name} is empty (0 bytes). Save the sketch again and retry.")
    if size > MAX_FILE_BYTES:
        raise UserVisibleError(
            f"{path.name} is {size // 2**20} MB, too big to read. "
            "Save it as a JPEG or PNG under 200 MB and try again."
        )
    notes: list[str] = []
    try:
        with _UnguardedOpen(path) as image:
            original = image.size
            _check_pixels(path, original)
            if getattr(image, "is_animated", False):
                frames = getattr(image, "n_frames", 0)
                notes.append(f"{path.name} is animated ({frames} frames); read its first frame.")
                image.seek(0)
            orientation = image.getexif().get(ORIENTATION, 1)
            image = _shrink(image, max_side)
            if orientation in _TURNS:
                image = image.transpose(_TURNS[orientation])
            pixels = _to_rgb(image)
    except UnidentifiedImageError:
        raise UserVisibleError(
            f"{path.name} is not an image: it looks like {describe_file(path)}. "
            "Give a PNG or JPEG picture or photo of the sketch."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise UserVisibleError(
            f"{path.name} could not be read as an image: it seems damaged or incomplete ({exc}). "
            "Save or export the sketch again, or take a new photo, and retry."
        ) from None
    if max(original) > max_side:
        notes.append(f"scaled down from {original[0]}x{original[1]} to fit {max_side} px.")
    for note in notes:
        log.info("%s", note)
    return LoadedImage(pixels, original, tuple(notes))


def describe_file(path: Path) -> str:
    """A guess at what a non-image file is, from its first bytes."""
    head = path.open("rb").read(2048)
    signatures = (
        (b"%PDF", "a PDF document (export the page as PNG first)"),
        (b"PK\x03\x04", "a ZIP archive or an office document"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"<svg", "an SVG drawing (export it as PNG first)"),
        (b"<?xml", "an XML file"),
        (b"ID3", "an MP3 audio file"),
        (b"RIFF", "a RIFF file (audio or video)"),
        (b"\x7fELF", "a program"),
    )
    for magic, what in signatures:
        if head.lstrip().startswith(magic):
            return what
    if b"ftyp" in head[:16]:
        return "a video or HEIC photo (convert it to JPEG first)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of an unknown kind"
    if "<html" in text.lower():
        return "an HTML page"
    return "a text file" if text.strip() else "an empty or blank text file"


class _UnguardedOpen:
    """Image.open with Pillow's decompression-bomb limit raised to MAX_PIXELS: we check the size
    ourselves and never decode more than the working size of a JPEG."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Image.Image:
        with _bomb_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            try:
                self.image = Image.open(self.path)
            except Image.DecompressionBombError:
                raise UserVisibleError(_too_large(self.path)) from None
            finally:
                Image.MAX_IMAGE_PIXELS = saved
        return self.image

    def __exit__(self, *exc: object) -> None:
        self.image.close()


def _check_pixels(path: Path, size: tuple[int, int]) -> None:
    if size[0] * size[1] > MAX_PIXELS or min(size) < 1:
        raise UserVisibleError(_too_large(path, size))


def _too_large(path: Path, size: tuple[int, int] | None = None) -> str:
    dims = f" ({size[0]}x{size[1]} pixels)" if size else ""
    return (
        f"{path.name} is far too large to read safely{dims}. "
        f"Scale it to at most about 4000 pixels on its longest side and try again."
    )


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Decodes at most a little more than the working size where the format allows (JPEG's
    DCT scaling through `draft`), then resamples down to `max_side`."""
    w, h = image.size
    scale = max_side / max(w, h)
    if scale >= 1:
        image.load()
        return image
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    if image.format == "JPEG":
        image.draft(image.mode if image.mode in ("RGB", "L") else "RGB", target)
    image.load()
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """RGB uint8; transparency goes on white paper (drawing apps export transparent PNGs)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = float(values.max()) or 1.0
        image = Image.fromarray((values / top * 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
