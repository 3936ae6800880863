"""The random sketch generator: same seed same page, every kind draws, truth matches the ink."""

from __future__ import annotations

import functools
import json
from collections import Counter

import numpy as np
import pytest

from bench.sketch_gen import PAGE_KINDS, generate, write

BUTTON_DOES = {"reveal", "add", "submit", "tab", "message"}


@functools.cache
def page(seed: int, kind: str | None = None):  # noqa: ANN201
    return generate(seed, kind)


def pixel_box(box: list[float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return int(box[0] * w), int(box[1] * h), int(np.ceil(box[2] * w)), int(np.ceil(box[3] * h))


def test_same_seed_gives_identical_image_and_truth() -> None:
    a, b = generate(7), generate(7)
    assert a.image.tobytes() == b.image.tobytes()
    assert json.dumps(a.truth, sort_keys=True) == json.dumps(b.truth, sort_keys=True)


def test_different_seeds_give_different_texts() -> None:
    texts = [tuple(page(seed, "login").truth["texts"]) for seed in range(1, 5)]
    assert len(set(texts)) == len(texts)
    headings = {page(seed, "cards").truth["texts"][0] for seed in range(1, 5)}
    assert len(headings) >= 3


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_page_kind_draws_a_page_of_that_kind(kind: str) -> None:
    sketch = page(11, kind)
    w, h = sketch.image.size
    assert sketch.image.mode == "RGB"
    assert sketch.truth["page_kind"] == kind and sketch.truth["size"] == [w, h]
    assert 1000 <= w <= 1400 and 800 <= h <= 1400
    assert sketch.truth["elements"] and sketch.truth["fonts"]
    json.dumps(sketch.truth)


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_each_element_box_is_inside_the_image_and_inked(kind: str) -> None:
    sketch = page(11, kind)
    gray = np.asarray(sketch.image.convert("L"), dtype=np.float32)
    for element in sketch.truth["elements"]:
        assert all(0 <= v <= 1 for v in element["box"]), element
        x0, y0, x1, y1 = pixel_box(element["box"], sketch.image.size)
        assert x1 > x0 and y1 > y0, element
        region = gray[y0:y1, x0:x1]
        paper = np.percentile(region, 95)
        assert np.count_nonzero(region < paper - 45) >= 30, f"blank box for {element}"


def test_leaf_elements_do_not_touch_and_children_lie_in_their_box() -> None:
    for seed in range(30, 42):
        elements = page(seed).truth["elements"]
        leaves = [e for e in elements if e["kind"] != "box"]
        for i, a in enumerate(leaves):
            for b in leaves[i + 1 :]:
                apart = a["box"][2] <= b["box"][0] or b["box"][2] <= a["box"][0]
                apart = apart or a["box"][3] <= b["box"][1] or b["box"][3] <= a["box"][1]
                assert apart, (seed, a, b)
        for e in elements:
            if e["parent"] >= 0:
                outer = elements[e["parent"]]
                assert outer["kind"] == "box", (seed, e)
                assert outer["box"][0] <= e["box"][0] and e["box"][2] <= outer["box"][2], (seed, e)
                assert outer["box"][1] <= e["box"][1] and e["box"][3] <= outer["box"][3], (seed, e)


def test_counts_and_texts_agree_with_elements() -> None:
    for seed in range(30, 42):
        truth = page(seed).truth
        elements = truth["elements"]
        assert truth["counts"] == dict(Counter(e["kind"] for e in elements))
        expected = []
        for e in elements:
            expected += e["text"].split("  ") if e["kind"] == "nav" else [e["text"]]
        assert truth["texts"] == [t for t in expected if t]
        assert all(e["text"] == "" for e in elements if e["kind"] in ("image", "box"))
        for nav in (e for e in elements if e["kind"] == "nav"):
            assert 3 <= len(nav["text"].split("  ")) <= 5


def test_behaviours_are_the_drawn_buttons_in_order() -> None:
    for seed in range(30, 42):
        truth = page(seed).truth
        buttons = [e["text"] for e in truth["elements"] if e["kind"] == "button"]
        assert [b["label"] for b in truth["behaviours"]] == buttons
        assert {b["does"] for b in truth["behaviours"]} <= BUTTON_DOES


def test_button_labels_decide_what_they_do() -> None:
    seen = {}
    for kind in ("faq", "list", "tabs", "login", "pricing"):
        for seed in range(3):
            for b in page(seed, kind).truth["behaviours"]:
                seen.setdefault(kind, set()).add(b["does"])
    assert seen["faq"] == {"reveal"} and seen["list"] == {"add"} and seen["tabs"] == {"tab"}
    assert seen["login"] == {"submit"} and seen["pricing"] == {"message"}


def test_every_layout_fits_the_page_without_clipping() -> None:
    for seed in range(100, 116):
        sketch = page(seed, "combo" if seed % 2 else None)
        assert all(0 < v < 1 for e in sketch.truth["elements"] for v in e["box"]), seed


def test_write_saves_the_image_and_its_truth(tmp_path) -> None:  # noqa: ANN001
    sketch = page(23, "table")
    path = write(sketch, tmp_path)
    assert path.stem == "gen-23" and path.exists()
    saved = json.loads((tmp_path / "gen-23.json").read_text())
    assert saved == json.loads(json.dumps(sketch.truth))


def test_an_unknown_page_kind_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="cards"):
        generate(1, "blog")
