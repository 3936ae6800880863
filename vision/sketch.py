"""Sketch to page: read the drawing, write the page, render and check it, repair, save."""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config, SketchConfig, data_dir
from assistant_app.core.engines import ChatModel
from models.vision_llm import sketch_prompt
from vision.image_input import load_image
from vision.layout import SketchLayout
from vision.ocr import TextReader
from vision.page_check import PageReport, check_page
from vision.page_writer import write_page, writer_prefix
from vision.render import PageRenderer
from vision.sketch_reader import read_sketch

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


class VisionDescriber(Protocol):
    """A vision-language model's reading of an image (models/vision_llm.py)."""

    def describe(self, image: bytes, prompt: str, cancel: CancelToken) -> str: ...


@dataclass(frozen=True)
class SketchResult:
    """A finished sketch: where the page and its screenshot went and how well it matched."""

    html_path: Path
    screenshot_path: Path
    layout: SketchLayout
    report: PageReport
    rounds: int  # pages written: 1, or more after repairs
    seconds: float
    notes: tuple[str, ...]  # e.g. "used the first frame of an animated image"

    def summary(self) -> str:
        """One paragraph for the user: the score and what is still off."""
        r = self.report
        verdict = "matches the sketch" if r.passed else "differs from the sketch"
        lines = [
            f"The page {verdict}: score {r.score:.2f} (text {r.text_recall:.0%}, elements "
            f"{r.count_accuracy:.0%}, layout {r.block_match:.0%}, buttons working "
            f"{r.interaction_success:.0%}); {self.rounds} draft(s) in {self.seconds:.0f} s."
        ]
        lines += [f"Still off: {d}" for d in r.differences()[:5] if not r.passed]
        return "\n".join([*self.notes, *lines])


class SketchToPage:
    """The pipeline, on loaded engines: OCR, the coder model and a headless browser.

    The renderer belongs to the thread that made it (Playwright's rule): run the pipeline
    on that thread."""

    def __init__(
        self,
        model: ChatModel,
        ocr: TextReader,
        renderer: PageRenderer,
        settings: SketchConfig | None = None,
        describer: VisionDescriber | None = None,
    ) -> None:
        self.model = model
        self.ocr = ocr
        self.renderer = renderer
        self.settings = settings or SketchConfig()
        self.describer = describer  # a vision model's second view of the sketch, if configured
        # The fence marker; empty: a fresh random one per prompt. Tests fix it so that greedy
        # decoding gives the same page on every run.
        self.marker = ""

    def run(
        self,
        image: Path,
        out_html: Path,
        *,
        cancel: CancelToken | None = None,
        progress: Progress = lambda _: None,
    ) -> SketchResult:
        """Reads `image`, writes `out_html` and a screenshot beside it (.png)."""
        started = time.monotonic()
        cancel = cancel or CancelToken.never()
        progress("reading the sketch")
        loaded = load_image(image)
        layout = read_sketch(loaded.pixels, self.ocr)
        reading = ""
        if self.describer is not None:
            progress("a vision model is reading the sketch too")
            reading = self.describer.describe(_png(loaded.pixels), sketch_prompt(), cancel)
        progress(f"found {len(layout.elements)} elements ({_counted(layout)}); writing the page")
        html = self._write(layout, cancel, progress, reading=reading)
        progress("checking the page in a browser")
        report = check_page(html, layout, self.renderer)
        best, rounds = (report, html), 1
        while not best[0].passed and rounds <= self.settings.repair_rounds:
            fixes = best[0].differences()[:8]
            progress(f"repairing {len(fixes)} problem(s): {'; '.join(fixes[:2])}")
            html = self._write(
                layout, cancel, progress, previous=best[1], differences=fixes, reading=reading
            )
            report = check_page(html, layout, self.renderer)
            rounds += 1
            if report.score >= best[0].score:
                best = (report, html)
        report, html = best
        out_html.parent.mkdir(parents=True, exist_ok=True)
        out_html.write_text(html, encoding="utf-8")
        shot = out_html.with_suffix(".png")
        shot.write_bytes(report.screenshot_png)
        return SketchResult(
            out_html, shot, layout, report, rounds, time.monotonic() - started, loaded.notes
        )

    def _write(
        self, layout: SketchLayout, cancel: CancelToken, progress: Progress, **repair: object
    ) -> str:
        budget = self.settings.max_page_tokens
        last = [0]

        def written(chars: int) -> None:
            if chars - last[0] >= 400:  # about every 100 tokens
                last[0] = chars
                progress(f"writing: {chars} characters")

        return write_page(
            self.model,
            layout,
            cancel,
            max_tokens=budget,
            temperature=self.settings.temperature,
            on_text=written,
            marker=self.marker,
            **repair,  # type: ignore[arg-type]
        )


def create_sketch_to_page(
    config: Config, renderer: PageRenderer, progress: Progress = lambda _: None
) -> SketchToPage:
    """The pipeline on the configured coder model and the store's OCR weights."""
    from models.llm import create_chat_model
    from models.store import open_store
    from models.vision_llm import create_vision_describer
    from vision.ocr import create_ocr

    store = open_store(config)
    # A repair round holds the sketch, the first page and the new one: give it room.
    llm = dataclasses.replace(
        config.llm,
        model=config.sketch.model,
        temperature=config.sketch.temperature,
        max_reply_tokens=config.sketch.max_page_tokens,
        context_tokens=max(config.llm.context_tokens, 8192),
    )
    describer = create_vision_describer(
        config.sketch.vision_model, store, threads=config.llm.threads
    )
    model = create_chat_model(llm, store)
    keep = getattr(model, "keep_prefix", None)  # llama.cpp: the prompt's fixed start, evaluated
    if keep is not None:  # once and kept on disk (~20 s the first time, then under 1 s)

        def evaluating(tokens: int) -> None:
            progress(f"preparing the page writer ({tokens} tokens of instructions): only once")

        keep(writer_prefix(), data_dir(config) / "cache" / "prompts", evaluating)
    return SketchToPage(model, create_ocr(store), renderer, config.sketch, describer)


def free_path(path: Path) -> Path:
    """`path`, or `name-1.html`, `name-2.html`... if it exists: nothing is overwritten."""
    candidate, n = path, 0
    while candidate.exists() or candidate.with_suffix(".png").exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _png(pixels) -> bytes:  # noqa: ANN001 - an RGB uint8 array
    """The working-size image (at most ~1600 px a side) as PNG bytes, for a vision model."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _counted(layout: SketchLayout) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(layout.counts().items()))
