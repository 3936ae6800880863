"""Which dropped files are sketches, where their pages go, and the real pipeline runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config

SketchRunner = Callable[[Path, Path, CancelToken, Callable[[str], None]], object]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
KINDS = "PNG, JPEG, WebP, GIF or BMP"


def default_sketch_runner(config: Config | None = None) -> SketchRunner:
    """The real pipeline, built inside the worker that runs it: the browser is bound to its
    thread (Playwright's rule). Without `config` the config file is read when a sketch comes."""

    def run(
        image: Path, out_html: Path, cancel: CancelToken, progress: Callable[[str], None]
    ) -> object:
        from assistant_app.core.config import load_config
        from vision.render import PageRenderer
        from vision.sketch import create_sketch_to_page

        progress("loading the models and the browser")
        with PageRenderer() as renderer:
            pipeline = create_sketch_to_page(config or load_config(), renderer, progress)
            return pipeline.run(image, out_html, cancel=cancel, progress=progress)

    return run


def sketch_output_path(image: Path, fallback_dir: Path) -> Path:
    """Next to the sketch, never overwriting; in `fallback_dir` if that folder is read-only."""
    from vision.sketch import free_path

    folder = image.parent if os.access(image.parent, os.W_OK) else fallback_dir
    return free_path(folder / f"{image.stem}.html")


def sketch_problem(paths: list[Path | None]) -> str:
    """Why `paths` (None for a non-file URL) is not one sketch image; "" when it is."""
    if not paths or None in paths:
        return f"Only image files can be dropped here: a sketch of a web page as {KINDS}."
    if len(paths) > 1:
        return f"Drop one sketch at a time ({len(paths)} files were dropped)."
    path = paths[0]
    if path.is_dir():
        return f"{path.name} is a folder: drop one sketch image ({KINDS})."
    if not path.is_file():
        return f"{path} was not found."
    if is_image(path):
        return ""
    hint = " Export the drawing as a PNG first." if path.suffix.lower() == ".pdf" else ""
    return (
        f"{path.name} is not an image, so it cannot be read as a sketch: drop a drawing of a "
        f"web page as {KINDS}.{hint}"
    )


def is_image(path: Path) -> bool:
    """A picture format the app reads (by its suffix, else by its first bytes)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True  # a broken one is reported by the pipeline, with the reason
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.format in IMAGE_FORMATS
    except (OSError, ValueError):
        return False


def image_patterns() -> str:
    """The file-dialog filter for sketch images."""
    return " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
