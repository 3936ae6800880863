"""The page checker against real headless Chromium (CI installs it: apt-get install chromium)."""

from __future__ import annotations

import http.server
import shutil
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vision.layout import Box, Element, SketchLayout

pytest.importorskip("playwright", reason="playwright is not installed: pip install playwright")
if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
    pytest.skip(
        "no chromium binary (CI installs it: apt-get install chromium)", allow_module_level=True
    )

from vision.page_check import (  # noqa: E402
    check_page,
    duplicate_ids,
    external_urls,
    unknown_ids,
)
from vision.render import FROZE, PageRenderer, find_browser  # noqa: E402

PAGES = Path(__file__).parent / "fixtures" / "pages"
JOKE = (PAGES / "joke.html").read_text()
REVEAL = 'document.getElementById("punchline").classList.add("shown");'
# What the sketch reader would give for the joke sketch, one OCR typo included.
JOKE_LAYOUT = SketchLayout.from_elements(
    [
        Element("heading", "Joke of the day", Box(0.3, 0.03, 0.7, 0.1)),
        Element("text", "Why did the scarecrow win an award?", Box(0.3, 0.12, 0.7, 0.16)),
        Element("button", "Reveal punchIine", Box(0.4, 0.18, 0.6, 0.24)),
    ]
)


@pytest.fixture(scope="module")
def renderer() -> Iterator[PageRenderer]:
    with PageRenderer(timeout_s=8) as r:
        yield r


def test_good_joke_page_passes(renderer: PageRenderer) -> None:
    report = check_page(JOKE, JOKE_LAYOUT, renderer)
    assert report.passed, report.differences()
    assert report.text_recall == 1.0
    assert [(i.label, i.changed) for i in report.interactions] == [("Reveal punchIine", True)]
    assert report.differences() == []
    assert report.score > 0.85


def test_reveal_click_reports_the_new_text(renderer: PageRenderer) -> None:
    page = renderer.render(JOKE)
    assert "outstanding" not in page.text  # hidden until clicked
    (click,) = page.clicks
    assert click.changed and any("outstanding in his field" in t for t in click.new_text)


def test_dead_button_is_named(renderer: PageRenderer) -> None:
    report = check_page(JOKE.replace(REVEAL, ""), JOKE_LAYOUT, renderer)
    assert not report.passed
    assert report.interaction_success == 0.0
    assert any(
        d.startswith('clicking "Reveal punchIine" changed nothing: it should make the hidden')
        for d in report.differences()
    )


def test_a_reveal_that_changes_only_styles_does_not_count(renderer: PageRenderer) -> None:
    # The classic toggle bug: style.display starts as "", so the first click hides it again.
    toggle = (
        'const p = document.getElementById("punchline");'
        'p.style.display = p.style.display === "none" ? "block" : "none";'
    )
    report = check_page(JOKE.replace(REVEAL, toggle), JOKE_LAYOUT, renderer)
    assert report.interaction_success == 0.0 and not report.passed


def test_missing_string_lowers_recall_and_is_named(renderer: PageRenderer) -> None:
    html = JOKE.replace("<p>Why did the scarecrow win an award?</p>", "")
    report = check_page(html, JOKE_LAYOUT, renderer)
    assert report.text_recall == pytest.approx(2 / 3)
    assert not report.passed
    assert any("Why did the scarecrow win an award?" in d for d in report.differences())


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"document.body.innerHTML = 'hijacked';")

    def log_message(self, *args: object) -> None:
        pass


def test_external_script_is_flagged_and_never_fetched(renderer: PageRenderer) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/lib.js"
    html = JOKE.replace("</head>", f'<script src="{url}"></script></head>')
    try:
        report = check_page(html, JOKE_LAYOUT, renderer)
    finally:
        server.shutdown()
    assert _Counter.hits == []
    assert report.external_urls == (url,) and url in report.blocked_requests
    assert not report.passed
    assert f"the page loads an external URL ({url}): inline it or drop it" in report.differences()
    assert report.text_recall == 1.0  # the page itself still rendered


def test_static_scan_finds_css_and_image_urls() -> None:
    html = (
        '<style>@import "https://fonts.example/x.css"; body{background:url(bg.png)}</style>'
        '<img src="data:image/png;base64,AAAA"><a href="https://example.org">ok</a>'
    )
    assert set(external_urls(html)) == {"https://fonts.example/x.css", "bg.png"}


def test_endless_loop_on_load_fails_clearly(renderer: PageRenderer) -> None:
    html = "<h1>Hello</h1><script>while (true) {}</script><p>after</p>"
    started = time.monotonic()
    report = check_page(html, JOKE_LAYOUT, renderer)
    assert time.monotonic() - started < renderer.timeout_s
    assert not report.passed
    assert "endless loop" in report.failure
    assert report.differences()[0].startswith("the page failed to render")
    # the renderer survives it
    assert check_page(JOKE, JOKE_LAYOUT, renderer).passed


def test_endless_loop_in_click_handler_is_a_failed_interaction(renderer: PageRenderer) -> None:
    html = JOKE.replace(REVEAL, "while (true) {}")
    started = time.monotonic()
    report = check_page(html, JOKE_LAYOUT, renderer)
    assert time.monotonic() - started < 15
    assert report.interactions[0].error == FROZE
    assert any("froze" in d for d in report.differences())


def test_wrong_counts_are_named(renderer: PageRenderer) -> None:
    layout = SketchLayout.from_elements(
        [
            Element("heading", "Sign up", Box(0.3, 0.05, 0.7, 0.1)),
            Element("input", "Name", Box(0.3, 0.2, 0.7, 0.25)),
            Element("input", "Email", Box(0.3, 0.3, 0.7, 0.35)),
            Element("button", "Send", Box(0.4, 0.4, 0.6, 0.45)),
        ]
    )
    html = (
        "<h1>Sign up</h1><input placeholder='Name'><p>Email</p>"
        "<button onclick=\"this.textContent='Sent'\">Send</button>"
    )
    report = check_page(html, layout, renderer)
    assert "expected 2 input fields, found 1" in report.differences()
    assert not report.passed
    assert report.count_accuracy < 1


def test_add_button_fills_the_input_and_adds_an_item(renderer: PageRenderer) -> None:
    html = (
        "<input id='t'><button id='a'>Add</button><ul id='l'></ul><script>"
        "a.onclick = () => { if (!t.value) return; const li = document.createElement('li');"
        "li.textContent = t.value; l.append(li); t.value = ''; };</script>"
    )
    (click,) = renderer.render(html).clicks
    assert click.changed and "Buy milk" in click.new_text


def test_elements_are_classified_into_layout_kinds(renderer: PageRenderer) -> None:
    html = (
        "<nav><a href='#'>Home</a><a href='#'>About</a><a href='#'>Blog</a></nav>"
        "<h2>Title</h2><p>Some <b>bold</b> words</p><input type='email' placeholder='Email'>"
        "<textarea></textarea><label><input type='checkbox'> Remember me</label>"
        "<canvas width='50' height='50'></canvas><input type='submit' value='Go'>"
        "<p style='display:none'>secret</p>"
    )
    page = renderer.render(html, click_buttons=False)
    got = [(e.kind, e.text, e.visible) for e in page.elements]
    assert got == [
        ("nav", "Home  About  Blog", True), ("heading", "Title", True),
        ("text", "Some bold words", True), ("input", "Email", True), ("textarea", "", True),
        ("checkbox", "Remember me", True), ("image", "", True), ("button", "Go", True),
        ("text", "secret", False),
    ]  # fmt: skip
    assert "secret" not in page.text


def test_a_label_belongs_to_its_input_not_to_the_text_blocks(renderer: PageRenderer) -> None:
    html = (
        "<label for='e'>Email</label><input id='e' type='email' placeholder='you@example.com'>"
        "<label>Name <input></label><p>Plain text</p>"
    )
    page = renderer.render(html, click_buttons=False)
    assert [(e.kind, e.text) for e in page.elements] == [
        ("input", "Email"),
        ("input", "Name"),
        ("text", "Plain text"),
    ]


def test_a_script_looking_up_a_missing_id_is_named_for_the_repair(
    renderer: PageRenderer,
) -> None:
    html = (
        "<h1>Joke of the day</h1><p>Why did the scarecrow win an award?</p>"
        "<button id='b'>Reveal punchIine</button><p id='punchline' hidden>Outstanding.</p>"
        "<script>document.getElementById('b').onclick = () => {"
        "document.getElementById('answer').hidden = false; };</script>"
    )
    report = check_page(html, JOKE_LAYOUT, renderer)
    assert not report.passed and report.unknown_ids == ("answer",)
    assert any('looks up id "answer"' in d for d in report.differences())
    made = "<script>const p = document.createElement('p'); p.id = 'x';</script>"
    assert unknown_ids(made + "<script>document.querySelector('#x')</script>") == ()
    assert unknown_ids("<div id=a></div><script>document.querySelector('#b')</script>") == ("b",)
    twice = "<input id='b1'><button id=\"b1\">Go</button><script>x.id = 'b1'</script>"
    assert duplicate_ids(twice) == ("b1",) and duplicate_ids("<p id=a></p><p id=b>") == ()


def test_sketched_neighbours_kept_side_by_side_or_stacked(renderer: PageRenderer) -> None:
    layout = SketchLayout.from_elements(
        [
            Element("input", "", Box(0.1, 0.2, 0.6, 0.26)),
            Element("button", "Add", Box(0.65, 0.2, 0.8, 0.26)),
        ]
    )
    side = "<div style='display:flex'><input><button>Add</button></div>"
    stacked = "<input style='display:block'><button>Add</button>"
    kept = check_page(side, layout, renderer)
    assert kept.rows_kept == 1.0 and kept.split_rows == ()
    split = check_page(stacked, layout, renderer)
    assert split.rows_kept == 0.0 and split.split_rows == (("input", "Add"),)


def test_screenshot_is_a_full_width_png(renderer: PageRenderer) -> None:
    page = renderer.render("<div style='height:2000px'>tall</div>", click_buttons=False)
    png = page.screenshot_png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280 and height >= 2000


def test_missing_browser_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant_app.core.errors import ModelUnavailable

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ModelUnavailable, match="apt-get install chromium"):
        find_browser()
