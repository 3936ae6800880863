"""Benchmark: seconds per denoising step and peak memory, our generator against raw diffusers.

Run from the repo root: `.venv/bin/python bench/image.py [--sizes 256 512] [--steps 4]
[--runs 3] [--threads 1] [--width 64]`.

No real image weights exist offline, so this times the tiny random pipeline the tests use
(tests/tiny_diffusion.py, UNet channels `--width`/2x`--width`): what it measures is the
overhead of our wrapper (callbacks, cancel checks, PNG-free result) against calling the same
StableDiffusionPipeline directly, and how time and memory grow with the picture size. Each
configuration runs in its own process, so the peak resident memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table  # noqa: E402

PROMPT = "a watercolour of a lighthouse at dusk"
MODEL = "tiny-sd"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(args: argparse.Namespace) -> None:
    """One configuration in this process: prints its timings and memory as one JSON line."""
    import torch

    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.config import Config
    from models.diffusion import create_image_generator
    from models.image_meta import ImageRequest
    from models.store import ModelStore
    from tests.tiny_diffusion import entry_for

    torch.set_num_threads(args.threads)
    folder = Path(args.store) / "models" / MODEL
    base = _peak_mb()
    started = time.monotonic()
    if args.child == "ours":
        config = Config().replace(
            "image",
            model=MODEL,
            size=f"{args.size}x{args.size}",
            steps=args.steps,
            threads=args.threads,
            tiny_decoder=False,
            attention_slicing=args.slicing,
        )
        store = ModelStore(Path(args.store), entries=[entry_for(folder, MODEL)])
        generator = create_image_generator(config, store)
        init = Path(args.store) / "start.png" if args.mode == "img2img" else None

        def once(on_step) -> None:  # noqa: ANN001
            request = ImageRequest(PROMPT, seed=1, init_image=init, strength=0.5)
            assert generator.generate(request, CancelToken.never(), on_step).image is not None
    else:
        from diffusers import StableDiffusionPipeline

        pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
        pipe.set_progress_bar_config(disable=True)

        def once(on_step) -> None:  # noqa: ANN001
            def callback(p, i, t, tensors):  # noqa: ANN001, ANN202
                on_step(i + 1, p.num_timesteps)
                return tensors

            pipe(
                PROMPT,
                num_inference_steps=args.steps,
                guidance_scale=0.0,
                height=args.size,
                width=args.size,
                generator=torch.Generator().manual_seed(1),
                callback_on_step_end=callback,
            )

    load_s = time.monotonic() - started
    steps, firsts, decodes, totals = [], [], [], []
    for run in range(args.runs + 1):  # the first run warms up and is not counted
        marks: list[float] = []
        t0 = time.monotonic()
        once(lambda done, total, marks=marks: marks.append(time.monotonic()))
        end = time.monotonic()
        if run:
            steps += [b - a for a, b in zip(marks, marks[1:], strict=False)]
            firsts.append(marks[0] - t0)
            decodes.append(end - marks[-1])
            totals.append(end - t0)
    print(
        json.dumps(
            {
                "load_s": load_s,
                "step_s": median(steps),
                "first_s": median(firsts),
                "decode_s": median(decodes),
                "total_s": median(totals),
                "steps_run": len(marks),
                "base_mb": base,
                "peak_mb": _peak_mb(),
            }
        )
    )


def run_child(
    args: argparse.Namespace, store: Path, who: str, mode: str, size: int, slicing: bool
) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        who,
        "--mode",
        mode,
        "--size",
        str(size),
        "--store",
        str(store),
        "--steps",
        str(args.steps),
        "--runs",
        str(args.runs),
        "--threads",
        str(args.threads),
    ] + (["--slicing"] if slicing else [])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{who} {mode} {size}: failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--width", type=int, default=64, help="UNet channels of the tiny model")
    parser.add_argument("--child", choices=("ours", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="text2image", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=512, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--slicing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    print(machine_line())
    print(
        f"tiny random SD pipeline (UNet {args.width}/{2 * args.width} channels), "
        f"{args.steps} steps, {args.threads} thread(s), median of {args.runs} runs"
    )
    from PIL import Image

    from tests.tiny_diffusion import save_tiny_pipeline

    rows, found = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        save_tiny_pipeline(store / "models" / MODEL, width=args.width)
        Image.new("RGB", (512, 512), (200, 180, 120)).save(store / "start.png")
        plan = [(who, "text2image", size, False) for size in args.sizes for who in ("ours", "raw")]
        plan += [
            ("ours", "img2img", max(args.sizes), False),
            ("ours", "text2image", max(args.sizes), True),
        ]
        for who, mode, size, slicing in plan:
            r = run_child(args, store, who, mode, size, slicing)
            found[(who, mode, size, slicing)] = r
            label = "ours" if who == "ours" else "raw diffusers"
            rows.append(
                [
                    label,
                    mode + (" +slicing" if slicing else ""),
                    f"{size}x{size}",
                    r["steps_run"],
                    r["load_s"],
                    r["first_s"],
                    r["step_s"],
                    r["decode_s"],
                    r["total_s"],
                    round(r["peak_mb"]),
                    round(r["peak_mb"] - r["base_mb"]),
                ]
            )
            print(f"{label} {mode} {size}: {r['step_s']:.3f} s/step", file=sys.stderr)
    headers = [
        "engine",
        "mode",
        "size",
        "steps",
        "import+load s",
        "1st step s",
        "s/step",
        "decode s",
        "total s",
        "peak MB",
        "peak MB over torch",
    ]
    print_table(headers, rows)
    for size in args.sizes:
        ours, raw = (
            found[("ours", "text2image", size, False)],
            found[("raw", "text2image", size, False)],
        )
        print(
            f"{size}px ours/raw: s/step {ours['step_s'] / raw['step_s']:.2f}, total "
            f"{ours['total_s'] / raw['total_s']:.2f}, peak memory "
            f"{ours['peak_mb'] / raw['peak_mb']:.2f}"
        )


if __name__ == "__main__":
    main()
