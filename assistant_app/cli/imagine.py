"""`assistant imagine PROMPT`: a picture from a description, or from a start image, as a PNG."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "imagine",
        help="make a picture from a description (needs an image model: `models pull sd-turbo`)",
    )
    p.add_argument("prompt", help="what the picture shows, e.g. 'a watercolour of a lighthouse'")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="PNG to write (default: only the images folder in the data dir; the path is printed)",
    )
    p.add_argument("--seed", type=int, help="fix the picture: the same seed makes it again")
    p.add_argument("--steps", type=int, help="denoising steps (default: [image] steps)")
    p.add_argument("--size", help="WIDTHxHEIGHT, e.g. 512x512 (default: [image] size)")
    p.add_argument("--model", help="image model from the catalog (default: [image] model)")
    p.add_argument("--image", type=Path, help="start from this picture (a sketch or a photo)")
    p.add_argument(
        "--strength",
        type=float,
        help="with --image: how much to change it, 0.1 (a little) to 1.0 (all) "
        "(default: [image] strength)",
    )
    p.add_argument("--guidance", type=float, help="guidance scale (default: the model's own)")


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant_app.storage.image_history import ImageHistory, images_dir
    from models.diffusion import check_image_model, create_image_generator
    from models.image_meta import ImageRequest, parse_size
    from models.store import open_store

    if args.model:
        config = config.replace("image", model=args.model)
    width, height = parse_size(args.size) if args.size else (0, 0)
    request = ImageRequest(
        args.prompt,
        args.seed,
        args.steps or 0,
        width,
        height,
        args.guidance,
        init_image=args.image,
        strength=args.strength or 0.0,
    )
    store = open_store(config)
    check_image_model(config, store)  # before "loading": a missing model is said plainly
    print(f"loading {config.image.model} ...", file=sys.stderr, flush=True)
    generator = create_image_generator(config, store)
    result = generate_stoppably(generator, request, StepBar(sys.stderr))
    if result.cancelled:
        steps = f"{result.steps_done} step{'' if result.steps_done == 1 else 's'}"
        print(f"Stopped after {steps}: no picture was made.", file=sys.stderr)
        return 130
    made = ImageHistory(images_dir(config)).add(result)
    print(result.save(args.output) if args.output else made.path)
    print(
        f"seed {made.seed} ({made.model}, {made.steps} steps, {made.width}x{made.height}, "
        f"{made.seconds:.1f} s); --seed {made.seed} makes it again"
    )
    return 0


def generate_stoppably(generator, request, progress):  # noqa: ANN001, ANN201
    """Runs the generation in a worker so Ctrl+C can stop it cleanly: the first press cancels
    after the step in progress (no half-made file), a second one quits at once."""
    cancel = CancelToken.never()
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["result"] = generator.generate(request, cancel, progress)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="imagine", daemon=True)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)  # a short wait keeps the main thread able to take Ctrl+C
    except KeyboardInterrupt:
        cancel.cancel()
        print("\nstopping after this step (Ctrl+C again quits now)", file=sys.stderr, flush=True)
        worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]


class StepBar:
    """Denoising progress on stderr: one redrawn line on a terminal, a line per step on a pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        per_step = (time.monotonic() - self._started) / max(done, 1)
        bar = "#" * (24 * done // max(total, 1))
        line = f"step {done}/{total} [{bar:<24}] {per_step:.1f} s/step"
        if done >= total:
            line += ", decoding ..."
        self._stream.write(f"\r{line}" if self._tty else f"{line}\n")
        if self._tty and done >= total:
            self._stream.write("\n")
        self._stream.flush()
