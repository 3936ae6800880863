"""A page the assistant wrote in a reply, saved and rendered offline for its preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vision.render import PageRenderer
from vision.sketch import free_path


@dataclass(frozen=True)
class PagePreview:
    """Shaped like a SketchResult where the preview dialog needs it."""

    html_path: Path
    screenshot_path: Path
    problems: tuple[str, ...]  # script errors and blocked requests, for the user to see

    def summary(self) -> str:
        if not self.problems:
            return "Rendered offline in Chromium: no script errors, nothing fetched."
        return "Rendered offline in Chromium. " + " ".join(self.problems[:5])


def preview_page(html: str, folder: Path, renderer: PageRenderer | None = None) -> PagePreview:
    """Writes `html` into `folder` (never overwriting) and screenshots it with every network
    request blocked; nothing on the page is clicked."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path = free_path(folder / "page.html")
    html_path.write_text(html, encoding="utf-8")
    if renderer is None:
        with PageRenderer() as own:
            page = own.render(html, click_buttons=False)
    else:
        page = renderer.render(html, click_buttons=False)
    shot = html_path.with_suffix(".png")
    shot.write_bytes(page.screenshot_png)
    problems = tuple(
        [f"The page did not load: {page.failure}."] * bool(page.failure)
        + [f"Script error: {e}" for e in (*page.page_errors, *page.console_errors)]
        + [f"Blocked (offline): {u}" for u in page.blocked_requests]
    )
    return PagePreview(html_path, shot, problems)
