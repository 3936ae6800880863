"""The page built from a sketch's layout: structure and wiring as data, then real headless
Chromium clicking every button of pages built from generated sketches' truths."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator

import pytest

from bench.sketch_gen import PAGE_KINDS, generate
from vision.layout import Box, Element, SketchLayout, structure
from vision.page_builder import Fillers, build_page, roles
from vision.page_words import parse_lines, wants_words

PRODUCT = SketchLayout.from_elements(
    [
        Element("image", "", Box(0.07, 0.13, 0.43, 0.62)),
        Element("heading", "Blue Mug", Box(0.5, 0.15, 0.9, 0.23)),
        Element("text", "Handmade, 350 ml", Box(0.5, 0.33, 0.8, 0.38)),
        Element("button", "Add to cart", Box(0.5, 0.48, 0.78, 0.58)),
    ],
    aspect=4 / 3,
)
TABS = SketchLayout.from_elements(
    [
        Element("button", "Tab A", Box(0.1, 0.1, 0.25, 0.18)),
        Element("button", "Tab B", Box(0.3, 0.1, 0.45, 0.18)),
        Element("box", "", Box(0.1, 0.25, 0.9, 0.8)),
        Element("text", "Content of tab A", Box(0.15, 0.35, 0.5, 0.4)),
    ]
)


def _by_text(layout: SketchLayout, text: str) -> int:
    return next(i for i, e in enumerate(layout.elements) if e.text == text)


def test_a_picture_beside_a_column_stays_beside_it() -> None:
    tree = structure(PRODUCT, list(range(len(PRODUCT.elements))))
    image = _by_text(PRODUCT, "")
    column = sorted(_by_text(PRODUCT, t) for t in ("Blue Mug", "Handmade, 350 ml", "Add to cart"))
    assert tree[0] == "row" and tree[1][0] == image
    assert tree[1][1][0] == "col" and sorted(tree[1][1][1]) == column


def test_strings_are_put_on_the_page_verbatim_and_escaped() -> None:
    layout = SketchLayout.from_elements(
        [
            Element("heading", "Tom & Jerry's <b>", Box(0.1, 0.05, 0.6, 0.12)),
            Element("button", "Say 'hi' </script>", Box(0.1, 0.3, 0.4, 0.38)),
        ]
    )
    page = build_page(layout, Fillers({"say-hi-script": "It's </script><b>"}))
    assert "<h1>Tom &amp; Jerry&#x27;s &lt;b&gt;</h1>" in page
    assert "Say &#x27;hi&#x27; &lt;/script&gt;</button>" in page
    script = page.split("<script>")[1].split("</script>")[0]
    assert "<" not in script.replace("=>", "")  # no tag can close the script early


def test_a_row_of_short_buttons_over_a_box_becomes_tabs_with_panels() -> None:
    plan = roles(TABS)
    assert {r.kind for r in plan.values()} == {"tab"}
    page = build_page(TABS)
    assert page.count('class="box panel"') == 2 and 'id="tab-b-panel" hidden' in page
    assert re.search(r'id="tab-a-panel">\s*<p>Content of tab A</p>', page)


def test_buttons_with_the_same_label_in_different_cards_are_not_tabs() -> None:
    cards = [
        e
        for x in (0.05, 0.5)
        for e in (
            Element("box", "", Box(x, 0.2, x + 0.4, 0.8)),
            Element("text", f"Plan {x}", Box(x + 0.05, 0.3, x + 0.3, 0.35)),
            Element("button", "Choose", Box(x + 0.05, 0.6, x + 0.25, 0.7)),
        )
    ]
    layout = SketchLayout.from_elements(cards)
    assert [r.kind for r in roles(layout).values()] == ["message", "message"]
    assert '<div class="grid" style="--cols: 2">' in build_page(layout)


def test_the_model_is_asked_only_for_what_the_sketch_implies() -> None:
    wanted = dict(wants_words(PRODUCT))
    assert list(wanted) == ["add-to-cart"] and "Add to cart" in wanted["add-to-cart"]
    assert parse_lines('1. "Added!"\n2) Second\n9. out of range\nnoise', 2) == {
        1: "Added!",
        2: "Second",
    }
    # The ask echoed back round the words: only the words the button shows.
    echoed = '1. Soloct" will show a short message saying "Soloct is selected."'
    assert parse_lines(echoed, 1) == {1: "Soloct is selected."}


def test_buttons_given_the_same_words_each_show_their_own() -> None:
    # Three buttons, one under another below one text, the model writing the same thank-you
    # for each: the second gets the text above it added, the third (which would then repeat
    # it) a number.
    layout = SketchLayout.from_elements(
        [Element("text", "No ads", Box(0.1, 0.1, 0.4, 0.15))]
        + [Element("button", f"Buy {n}", Box(0.1, 0.3 + 0.15 * n, 0.3, 0.4 + 0.15 * n))
           for n in range(3)]
    )  # fmt: skip
    same = "Thank you for your order."
    page = build_page(layout, Fillers({f"buy-{n}": same for n in range(3)}))
    shown = re.findall(r"textContent = '([^']*)'", page)
    assert len(shown) == 3 and len(set(shown)) == 3 and shown[0] == same, shown


pytest.importorskip("playwright", reason="playwright is not installed: pip install playwright")
if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
    pytest.skip("no chromium binary (apt-get install chromium)", allow_module_level=True)

from bench.sketch_score import score_page  # noqa: E402
from vision.render import PageRenderer  # noqa: E402


@pytest.fixture(scope="module")
def renderer() -> Iterator[PageRenderer]:
    with PageRenderer(timeout_s=8) as r:
        yield r


def test_pages_built_from_generated_layouts_render_without_errors_and_work(
    renderer: PageRenderer,
) -> None:
    """The builder alone (no OCR): from each page kind's drawn truth, a page that throws no
    error, shows every drawn word, keeps the drawn positions and does what each label says."""
    seed = random.randrange(1_000_000)
    print(f"seed {seed}")  # a failure names the seed to reproduce it with
    for n, kind in enumerate(PAGE_KINDS):
        truth = generate(seed + n, kind).truth
        layout = SketchLayout.from_elements(
            [Element(e["kind"], e["text"], Box(*e["box"])) for e in truth["elements"]],
            aspect=truth["size"][0] / truth["size"][1],
        )
        score = score_page(build_page(layout), truth, renderer)
        where = f"seed {seed + n} ({kind})"
        assert score.renders, (where, score.errors)
        assert score.word_recall == 1.0 and score.exact_recall == 1.0, (where, score.missing)
        assert score.kinds_right, (where, score.wrong_counts)
        assert score.position >= 0.9, where
        assert all(ok for _, _, ok in score.behaviours), (where, score.behaviours)


@pytest.mark.parametrize(
    ("label", "texts", "shown"),
    [
        ("Search", ["Fresh milk daily", "Rye bread"], "Found on this page: Fresh milk daily"),
        ("Search", ["Rye bread", "Sourdough"], "No results for “milk”."),
        ("Find", ["Rye bread", "Milk rolls"], "Found on this page: Milk rolls"),
    ],
)
def test_a_search_button_searches_the_page_for_what_is_typed(
    renderer: PageRenderer, label: str, texts: list[str], shown: str
) -> None:
    layout = SketchLayout.from_elements(
        [
            Element("heading", "Corner Bakery", Box(0.1, 0.05, 0.6, 0.12)),
            Element("input", "Search", Box(0.1, 0.2, 0.6, 0.28)),
            Element("button", label, Box(0.65, 0.2, 0.85, 0.28)),
            *(Element("text", t, Box(0.1, 0.4 + 0.1 * n, 0.6, 0.45 + 0.1 * n))
              for n, t in enumerate(texts)),
        ]
    )  # fmt: skip
    assert [r.kind for r in roles(layout).values()] == ["search"]
    assert wants_words(layout) == []  # no thank-you to write for a search
    page = renderer.render(build_page(layout))
    assert not page.page_errors and not page.console_errors, page.page_errors
    (first, *_) = [c for c in page.clicks if c.label == label]  # the page's words: "milk"
    assert first.new_text == (shown,)
