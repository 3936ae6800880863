"""Image generation with diffusers on the CPU: text-to-image and image-to-image, step by step."""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ConfigError, ModelUnavailable, UserVisibleError
from models.catalog_image import DIFFUSERS, TINY_DECODER, TINY_DECODER_ENGINE, recommended
from models.diffusion_load import load_pipelines
from models.image_meta import (
    ImageProgress,
    ImageRequest,
    ImageResult,
    fit_size,
    no_progress,
    open_start_image,
    parse_size,
    snap_size,
)
from models.store import ModelStore

log = logging.getLogger(__name__)
DTYPES = ("float32", "bfloat16")
NO_MODEL = "no image model is installed (image models are not shipped with the app)"


class _Stopped(Exception):
    """Raised from diffusers' step callback to leave the denoising loop (and skip decoding)."""


class DiffusersImageGenerator:
    """A Stable Diffusion-family pipeline from a diffusers folder, run on the CPU.

    Loading takes seconds to a minute (the weights); every `generate` call after that reuses
    it. Cancelling stops after the denoising step in progress and skips decoding. One call at a
    time: a second caller waits (the pipeline is not thread-safe).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str = "",
        steps: int = 2,
        guidance: float = 0.0,
        size: tuple[int, int] = (512, 512),
        strength: float = 0.5,
        dtype: str = "float32",
        threads: int = 0,
        attention_slicing: bool = False,
        decoder_dir: Path | None = None,
    ) -> None:
        if dtype not in DTYPES:
            raise ConfigError(
                f"image dtype '{dtype}' is not valid. Valid values: float32, bfloat16."
            )
        self.name = name or Path(model_dir).name
        self.model_dir = Path(model_dir)
        self.steps, self.guidance, self.strength = steps, guidance, strength
        self.size = snap_size(*size)
        self.threads = threads
        self.decoder = TINY_DECODER if decoder_dir is not None else ""
        self._lock = threading.Lock()
        self._torch, self._text2image, self._image2image = load_pipelines(
            self.model_dir, self.name, dtype, attention_slicing, decoder_dir
        )

    def generate(
        self, request: ImageRequest, cancel: CancelToken, progress: ImageProgress = no_progress
    ) -> ImageResult:
        """Makes the picture `request` describes; a cancelled result has no image."""
        settings, init = self._settings(request)
        started = time.monotonic()
        with self._lock, _threads(self._torch, self.threads), self._torch.inference_mode():
            if cancel.cancelled:  # stopped while waiting for the previous picture
                return ImageResult(None, **settings, cancelled=True)
            image, done = self._denoise(settings, request.negative_prompt, init, cancel, progress)
        seconds = time.monotonic() - started
        if image is None:
            log.info("%s: stopped after %d steps", self.name, done)
        return ImageResult(
            image, **settings, steps_done=done, seconds=seconds, cancelled=image is None
        )

    def _settings(self, request: ImageRequest) -> tuple[dict[str, Any], Any]:
        """The request with every default filled in (as ImageResult fields), and the start
        image, if any, read and resized."""
        strength = request.strength or self.strength
        if not 0 < strength <= 1:
            raise UserVisibleError(f"The strength must be above 0 and at most 1, not {strength}.")
        steps = request.steps or self.steps
        init = open_start_image(request.init_image) if request.init_image is not None else None
        width, height = self._size(request, init)
        if init is not None:
            init = init.resize((width, height))
            # Image-to-image runs int(steps * strength) steps: never let that be zero.
            steps = max(steps, math.ceil(1 / strength - 1e-9))
        settings = dict(
            prompt=request.prompt,
            seed=request.seed if request.seed is not None else secrets.randbelow(2**32),
            steps=steps,
            width=width,
            height=height,
            guidance=self.guidance if request.guidance is None else request.guidance,
            model=self.name,
            negative_prompt=request.negative_prompt,
            init_image=request.init_image,
            strength=strength if init is not None else 0.0,
            extra={"decoder": self.decoder} if self.decoder else {},
        )
        return settings, init

    def _denoise(
        self,
        settings: dict[str, Any],
        negative: str,
        init: Any,
        cancel: CancelToken,
        progress: ImageProgress,
    ) -> tuple[Any, int]:
        """The picture (None if cancelled) and the number of denoising steps that ran."""
        done = 0

        def on_step(pipe: Any, index: int, _timestep: Any, tensors: dict[str, Any]) -> dict:
            nonlocal done
            done = index + 1
            progress(done, pipe.num_timesteps)
            if cancel.cancelled:
                raise _Stopped  # unlike pipe._interrupt, this also skips the slow decode
            return tensors

        guidance = settings["guidance"]
        args: dict[str, Any] = dict(
            prompt=settings["prompt"],
            num_inference_steps=settings["steps"],
            guidance_scale=guidance,
            generator=self._torch.Generator("cpu").manual_seed(settings["seed"]),
            callback_on_step_end=on_step,
        )
        if guidance > 1 and negative:
            args["negative_prompt"] = negative
        try:
            if init is None:
                size = {"width": settings["width"], "height": settings["height"]}
                made = self._text2image(**size, **args)
            else:
                made = self._image2image(image=init, strength=settings["strength"], **args)
        except _Stopped:
            return None, done
        return made.images[0], done

    def _size(self, request: ImageRequest, init: Any) -> tuple[int, int]:
        """The requested size; else, from a start image, its shape fitted inside the
        configured size; else the configured size."""
        if request.width and request.height:
            return snap_size(request.width, request.height)
        if init is not None:
            return fit_size(init.size, self.size)
        return self.size


def create_image_generator(config, store: ModelStore) -> DiffusersImageGenerator:  # noqa: ANN001 - Config
    """The image generator [image] names, loaded from the store (see `check_image_model` for
    the errors)."""
    settings = config.image
    name = check_image_model(config, store)
    decoder = None
    tiny = store.entries.get(TINY_DECODER)
    if settings.tiny_decoder and tiny is not None and tiny.engine == TINY_DECODER_ENGINE:
        if installed(store, TINY_DECODER):
            decoder = store.model_dir(TINY_DECODER)
        else:
            log.info("tiny decoder not installed: `assistant models pull %s`", TINY_DECODER)
    size = parse_size(settings.size) if settings.size else recommended(name).size
    return DiffusersImageGenerator(
        store.model_dir(name),
        name=name,
        steps=settings.steps or recommended(name).steps,
        guidance=settings.guidance if settings.guidance >= 0 else recommended(name).guidance,
        size=size,
        strength=settings.strength,
        dtype=settings.dtype,
        threads=settings.threads,
        attention_slicing=settings.attention_slicing,
        decoder_dir=decoder,
    )


def check_image_model(config, store: ModelStore) -> str:  # noqa: ANN001 - Config
    """The name of the image model [image] asks for, once it is known to be installed:
    ModelUnavailable (with the pull command) when it is not, ConfigError for a name that is no
    image model. Cheap: nothing is loaded or downloaded."""
    name = config.image.model
    entry = store.entries.get(name)
    if entry is None or entry.role != "image" or entry.engine != DIFFUSERS:
        known = [e.name for e in store.entries.values() if e.engine == DIFFUSERS]
        raise ConfigError(
            f"[image] model '{name}' is not an image model. Image models: {', '.join(known)}."
        )
    if not installed(store, name):
        others = [
            e.name
            for e in store.entries.values()
            if e.engine == DIFFUSERS and e.name != name and installed(store, e.name)
        ]
        problem = f"it is not installed; installed: {', '.join(others)}" if others else NO_MODEL
        fix = f"run `assistant models pull {name}` when online ({entry.size / 1e9:.1f} GB)"
        if others:
            fix += f', or set [image] model = "{others[0]}" in the config'
        raise ModelUnavailable(name, problem, looked_in=str(store.model_dir(name)), fix=fix + ".")
    return name


def installed(store: ModelStore, name: str) -> bool:
    """Whether every file of the model is in the store and checked (the cheap check: no
    download is attempted, unlike `store.path`)."""
    return all(s.state == "ok" for s in store.status(name))


@contextlib.contextmanager
def _threads(torch: Any, threads: int) -> Iterator[None]:
    """torch's thread count for the duration of a generation (it is process-wide)."""
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads > 0:
            torch.set_num_threads(before)
