"""`assistant sketch FILE`: a drawing of a web page becomes a working, checked HTML file."""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from pathlib import Path

from assistant_app.core.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sketch", help="turn a sketch of a web page (PNG/JPEG) into an HTML page")
    p.add_argument("file", type=Path, help="the sketch: a photo or scan of a drawing")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the HTML file to write (default: next to the sketch, never overwriting)",
    )
    p.add_argument("--open", action="store_true", help="open the page in the browser after")
    p.add_argument("--model", help="coder model from the catalog (default: [sketch] model)")
    p.add_argument(
        "--writer",
        choices=("layout", "model"),
        help="layout: build the page from the sketch, the model writes its implied texts; "
        "model: the model writes the whole page (default: [sketch] writer)",
    )
    p.add_argument("--no-repair", action="store_true", help="keep the first draft as it is")


def run(args: argparse.Namespace, config: Config) -> int:
    from vision.render import PageRenderer
    from vision.sketch import create_sketch_to_page, free_path

    if args.model:
        config = config.replace("sketch", model=args.model)
    if args.writer:
        config = config.replace("sketch", writer=args.writer)
    if args.no_repair:
        config = config.replace("sketch", repair_rounds=0)
    out = args.output or free_path(args.file.with_suffix(".html"))

    def progress(step: str) -> None:
        print(f"... {step}", file=sys.stderr, flush=True)

    progress("loading the models and the browser")
    with PageRenderer() as renderer:
        pipeline = create_sketch_to_page(config, renderer, progress)
        result = pipeline.run(args.file, out, progress=progress)
    print(result.summary())
    print(f"Page: {result.html_path}\nScreenshot: {result.screenshot_path}")
    if args.open:
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            print("(--open: there is no display here; open the page on a machine with one.)")
        else:
            webbrowser.open(result.html_path.resolve().as_uri())
    return 0 if result.report.passed else 3
