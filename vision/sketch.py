"""Sketch to page: read the drawing, write the page, render and check it, repair, save."""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config, SketchConfig, data_dir
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import UserVisibleError
from models.vision_llm import sketch_prompt
from vision.image_input import load_image
from vision.layout import SketchLayout
from vision.ocr import TextReader
from vision.page_builder import build_page
from vision.page_check import PageReport, check_page
from vision.page_words import write_words
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
    # Seconds per stage: read (OCR and shapes), write (the model), render (the browser's
    # check), repair (rewrites and their checks).
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One paragraph for the user: the score and what is still off."""
        r = self.report
        verdict = "matches the sketch" if r.passed else "differs from the sketch"
        split = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items() if v >= 0.05)
        lines = [
            f"The page {verdict}: score {r.score:.2f} (text {r.text_recall:.0%}, elements "
            f"{r.count_accuracy:.0%}, layout {r.block_match:.0%}, buttons working "
            f"{r.interaction_success:.0%}); {self.rounds} draft(s) in {self.seconds:.0f} s"
            + (f" ({split})." if split else ".")
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
        clock = _Clock()
        progress("reading the sketch")
        loaded = load_image(image)
        layout = read_sketch(loaded.pixels, self.ocr)
        reading = ""  # a vision model's view joins the model writer's prompt (only there)
        if self.describer is not None and self.settings.writer == "model":
            progress("a vision model is reading the sketch too")
            reading = self.describer.describe(_png(loaded.pixels), sketch_prompt(), cancel)
        clock.lap("read")
        progress(f"found {len(layout.elements)} elements ({_counted(layout)}); writing the page")
        notes = list(loaded.notes)
        if self.settings.writer == "layout":
            html, report, rounds = self._build(layout, cancel, progress, clock)
        else:
            html, report, rounds = self._draft_and_repair(layout, cancel, progress, clock, reading)
            if report.failure or report.js_errors:
                # Never ship a script that throws: the page built from the layout does not.
                progress("the model's page has script errors: building it from the layout")
                notes.append(
                    "The model's page threw script errors; this one is built from the layout."
                )
                html, report, _ = self._build(layout, cancel, progress, clock)
        out_html.parent.mkdir(parents=True, exist_ok=True)
        out_html.write_text(html, encoding="utf-8")
        shot = out_html.with_suffix(".png")
        shot.write_bytes(report.screenshot_png)
        return SketchResult(
            out_html, shot, layout, report, rounds, time.monotonic() - started, tuple(notes),
            clock.laps,
        )  # fmt: skip

    def _build(
        self, layout: SketchLayout, cancel: CancelToken, progress: Progress, clock: _Clock
    ) -> tuple[str, PageReport, int]:
        """The page built from the layout, with the words the model writes for it."""
        progress("writing the page's texts")
        words = write_words(
            self.model, layout, cancel, marker=self.marker, temperature=self.settings.temperature
        )
        if cancel.cancelled:
            raise UserVisibleError("Stopped: the page was not finished.")
        html = build_page(layout, words)
        clock.lap("write")
        progress("checking the page in a browser")
        report = check_page(html, layout, self.renderer)
        clock.lap("render")
        return html, report, 1

    def _draft_and_repair(
        self,
        layout: SketchLayout,
        cancel: CancelToken,
        progress: Progress,
        clock: _Clock,
        reading: str,
    ) -> tuple[str, PageReport, int]:
        """The model writes the whole page; a page that differs from the sketch gets up to
        `repair_rounds` rewrites told the differences; the best scoring one is kept."""
        html = self._write(layout, cancel, progress, reading=reading)
        clock.lap("write")
        progress("checking the page in a browser")
        report = check_page(html, layout, self.renderer)
        clock.lap("render")
        best, rounds = (report, html), 1
        while not best[0].passed and rounds <= self.settings.repair_rounds:
            fixes = best[0].differences()[:8]
            progress(f"repairing {len(fixes)} problem(s): {'; '.join(fixes[:2])}")
            html = self._write(
                layout, cancel, progress, previous=best[1], differences=fixes, reading=reading
            )
            report = check_page(html, layout, self.renderer)
            clock.lap("repair")
            rounds += 1
            if report.score >= best[0].score:
                best = (report, html)
        return best[1], best[0], rounds

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
    if keep is not None and config.sketch.writer == "model":  # once, kept on disk (~20 s the
        # first time, then under 1 s); the layout writer's short prompts need no kept state

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


class _Clock:
    """Seconds spent per stage, summed over repeated laps of one name."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def _counted(layout: SketchLayout) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(layout.counts().items()))
