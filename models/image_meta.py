"""The image-generation role: request, result, the ImageGenerator Protocol and PNG text metadata."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ConfigError, UserVisibleError

if TYPE_CHECKING:
    from PIL.Image import Image

ImageProgress = Callable[[int, int], None]
"""Called with (denoising steps done, steps in all) after each step, from the generating thread.

After the last step the image is still decoded: well under a second with the tiny decoder, tens
of seconds with a full VAE on a laptop CPU.
"""

SOFTWARE = "assistant (offline desktop assistant)"
MIN_SIDE = 64
_SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")


def no_progress(done: int, total: int) -> None:
    """An ImageProgress that reports nowhere."""


@dataclass(frozen=True)
class ImageRequest:
    """What to make. Zeros and Nones mean "the generator's configured default"."""

    prompt: str
    seed: int | None = None  # None: a new random seed, reported in the result
    steps: int = 0  # denoising steps; 0: the model's recommended count
    width: int = 0  # pixels, multiples of 8; 0: the configured size (img2img: the start
    height: int = 0  # image's shape, fitted inside the configured size)
    guidance: float | None = None  # classifier-free guidance scale; None: the model's own
    negative_prompt: str = ""  # what to avoid (only used with guidance above 1)
    init_image: Path | None = None  # image-to-image: the sketch or photo to start from
    strength: float = 0.0  # image-to-image: how much to change it, 0..1; 0: configured default


@dataclass(frozen=True, eq=False)
class ImageResult:
    """A finished (or stopped) generation and every setting that made it, defaults resolved."""

    image: Image | None  # None when cancelled
    prompt: str
    seed: int
    steps: int
    width: int
    height: int
    guidance: float
    model: str
    negative_prompt: str = ""
    init_image: Path | None = None
    strength: float = 0.0
    steps_done: int = 0  # denoising steps that ran (fewer than `steps` for image-to-image)
    seconds: float = 0.0
    cancelled: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # e.g. {"decoder": "taesd"}

    def request(self, **changes: Any) -> ImageRequest:
        """The request that makes this image again (same seed), with `changes` applied."""
        return replace(request_again(self), **changes)

    def metadata(self) -> dict[str, str]:
        """The settings as PNG text chunks; `parameters` is one line, as other tools write it."""
        text = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": str(self.seed),
            "model": self.model,
            "steps": str(self.steps),
            "size": f"{self.width}x{self.height}",
            "guidance": f"{self.guidance:g}",
        }
        if self.init_image is not None:
            text |= {"init_image": str(self.init_image), "strength": f"{self.strength:g}"}
        text |= self.extra
        text["parameters"] = (
            f"{self.prompt}\nSteps: {self.steps}, Seed: {self.seed}, Size: "
            f"{self.width}x{self.height}, CFG scale: {self.guidance:g}, Model: {self.model}"
        )
        text["Software"] = SOFTWARE
        return text

    def save(self, path: Path) -> Path:
        """Writes the image as a PNG with the settings in its text chunks; returns the path."""
        from PIL.PngImagePlugin import PngInfo

        if self.image is None:
            raise ValueError("a cancelled generation has no image to save")
        info = PngInfo()
        for key, value in self.metadata().items():
            info.add_text(key, value)  # Pillow writes an iTXt chunk for non-Latin-1 text
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.image.save(path, format="PNG", pnginfo=info)
        return path


def read_png_metadata(path: Path) -> dict[str, str]:
    """The text chunks of a PNG (empty for an image without them)."""
    from PIL import Image

    with Image.open(path) as image:
        return {str(k): str(v) for k, v in getattr(image, "text", {}).items()}


def request_from_png(path: Path) -> ImageRequest:
    """The request that made a PNG this app wrote: the same prompt, seed, steps and size."""
    text = read_png_metadata(path)
    if "prompt" not in text or "seed" not in text:
        raise ValueError(f"{path} carries no generation settings")
    width, height = parse_size(text.get("size", "0x0"))
    return ImageRequest(
        text["prompt"],
        int(text["seed"]),
        int(text.get("steps", "0")),
        width,
        height,
        float(text["guidance"]) if "guidance" in text else None,
        text.get("negative_prompt", ""),
        Path(text["init_image"]) if text.get("init_image") else None,
        float(text.get("strength", "0")),
    )


def parse_size(text: str) -> tuple[int, int]:
    """'512x384' -> (512, 384); ConfigError for anything else. '0x0' means "not set"."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ConfigError(f"image size '{text}' is not WIDTHxHEIGHT, e.g. 512x512.")
    return int(match.group(1)), int(match.group(2))


def snap_size(width: int, height: int) -> tuple[int, int]:
    """Rounded down to multiples of 8 (what the autoencoder needs), at least MIN_SIDE."""
    return max(MIN_SIDE, width // 8 * 8), max(MIN_SIDE, height // 8 * 8)


def fit_size(shape: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`shape` (w, h) scaled to fit inside `box` keeping its aspect ratio, snapped to 8 px.
    A start image never makes more pixels than the configured size asks for."""
    scale = min(box[0] / shape[0], box[1] / shape[1])
    return snap_size(round(shape[0] * scale), round(shape[1] * scale))


def open_start_image(path: Path) -> Image:
    """The start image as RGB; transparent parts (a sketch on a clear background) become white."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened
    except (OSError, UnidentifiedImageError) as exc:
        raise UserVisibleError(f"Cannot read the start image {path}: {exc}.") from None
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def request_again(made: Any) -> ImageRequest:
    """The request that makes `made` (an ImageResult, or a saved picture's record) again,
    seed included."""
    return ImageRequest(
        made.prompt,
        made.seed,
        made.steps,
        made.width,
        made.height,
        made.guidance,
        made.negative_prompt,
        made.init_image,
        made.strength if made.init_image else 0.0,
    )


@runtime_checkable
class ImageGenerator(Protocol):
    """Makes an image from a prompt, or from a prompt and a start image; checks `cancel` after
    every denoising step and reports each step to `progress`."""

    name: str

    def generate(
        self,
        request: ImageRequest,
        cancel: CancelToken,
        progress: ImageProgress = no_progress,
    ) -> ImageResult: ...
