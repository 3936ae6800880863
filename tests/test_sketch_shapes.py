"""Drawn shapes read the way the drawer meant them (vision/shapes.py, vision/sketch_reader.py):
tabs side by side, boxes drawn twice round, rules drawn in pieces or gone light in places,
fields of every height, menu words the reader took two at a time."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_sketch_reader import ScriptedText, _line, _pixels, draw
from vision.ocr import OcrLine
from vision.shapes import Shape, find_shapes, ink_masks
from vision.sketch_reader import classify, read_sketch


def _shapes(sketch) -> list:
    ink, faint = ink_masks(_pixels(sketch))
    return find_shapes(ink, faint)


@pytest.mark.parametrize(
    ("boxes", "joins", "lines", "kind"),
    [
        (  # tabs whose facing sides were joined at top and bottom
            [(100, 100, 300, 180), (340, 100, 540, 180)],
            [((300, 100), (340, 100)), ((300, 180), (340, 180))],
            [_line("Overview", 130, 120, 270, 160), _line("Hours", 380, 120, 500, 160)],
            "button",
        ),
        (  # fields drawn close whose sides overshot and met (530097)
            [(215, 196, 459, 253), (212, 292, 458, 358)],
            [((215, 240), (212, 305)), ((459, 240), (458, 305))],
            [_line("Email", 59, 206, 140, 250), _line("Password", 63, 303, 178, 347)],
            "input",
        ),
    ],
)
def test_the_strip_closed_between_two_boxes_is_nothing(boxes, joins, lines, kind) -> None:
    # A third box, empty, between the two: neither a field nor a checkbox.
    s = draw.Sketch((1000, 600), 31)
    for box in boxes:
        s.rect(*box)
    for join in joins:
        s.line(*join)
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert sorted((e.kind, e.text) for e in layout.elements) == sorted(
        (kind, line.text) for line in lines
    )


def test_a_box_drawn_twice_round_is_one_box() -> None:
    s = draw.Sketch((900, 500), 32)
    s.rect(100, 200, 140, 240)
    s.rect(104, 204, 136, 236)  # the pen went round once more, just inside
    lines = [_line("Send me news", 170, 200, 400, 240)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert [(e.kind, e.text) for e in layout.elements] == [("checkbox", "Send me news")]


def test_two_boxes_side_by_side_are_not_also_one_box_round_both() -> None:
    s = draw.Sketch((1100, 700), 33)
    s.rect(100, 150, 500, 550)
    s.rect(500, 150, 900, 550)  # sharing the first one's right side
    found = sorted(x.box for x in _shapes(s) if x.kind == "rect" and x.width > 300)
    assert len(found) == 2
    assert found[0][2] < 560 and found[1][0] > 440  # each its own column, none round both


def test_a_container_round_two_boxes_with_room_inside_stays() -> None:
    s = draw.Sketch((1100, 700), 34)
    s.rect(80, 100, 920, 600)
    s.rect(140, 160, 480, 540)
    s.rect(520, 160, 860, 540)
    assert len([x for x in _shapes(s) if x.kind == "rect" and x.width > 300]) == 3


def test_a_rule_drawn_in_pieces_is_one_rule_and_no_field() -> None:
    # A footer's rule drawn in three strokes end to end, text above it: no input.
    s = draw.Sketch((1000, 600), 35)
    s.line((40, 300), (325, 302))  # 9 px skipped between strokes
    s.line((334, 302), (640, 301))
    s.line((649, 301), (960, 303))
    rules = [x for x in _shapes(s) if x.kind == "hline"]
    assert len(rules) == 1 and rules[0].width > 900
    lines = [_line("Closed on Sunday", 60, 240, 400, 285), _line("Help", 100, 400, 180, 440)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert {e.kind for e in layout.elements} == {"text"}


def test_a_buttons_top_side_found_apart_is_no_field_for_the_text_above() -> None:
    # The top side drawn short of the corners: found alone as a line by the fine pass, and
    # with the rest of the box by the coarse one. It is the box's side, not a field.
    s = draw.Sketch((900, 600), 36)
    s.line((108, 300), (352, 300))
    s.line((100, 300), (100, 380))
    s.line((360, 300), (360, 380))
    s.line((100, 380), (360, 380))
    assert [x.kind for x in _shapes(s)] == ["rect"]
    lines = [_line("Can I order 14 bikes?", 100, 220, 420, 270), _line("Show", 170, 320, 290, 360)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert sorted(e.kind for e in layout.elements) == ["button", "text"]


@pytest.mark.parametrize(
    ("boxes", "lines", "kinds"),
    [
        (  # 1.75 text heights: one line; 2.7: a few lines
            [(250, 100, 700, 170), (250, 250, 700, 358)],
            [_line("Email", 100, 115, 200, 155), _line("Notes", 100, 260, 200, 300)],
            ["input", "textarea"],
        ),
        (  # written large, "Notes"' box is under 2.4 text heights, but 1.7 times as tall as
            # the page's other fields
            [(250, 100, 700, 160), (250, 200, 700, 260), (250, 300, 700, 402)],
            [
                _line(w, 100, y, 200, y + 45)
                for w, y in (("Name", 110), ("Email", 210), ("Notes", 310))
            ],  # fmt: skip
            ["input", "input", "textarea"],
        ),
    ],
)
def test_an_empty_box_a_few_lines_tall_is_a_textarea_and_a_short_one_an_input(
    boxes, lines, kinds
) -> None:
    s = draw.Sketch((1000, 700), 37)
    for box in boxes:
        s.rect(*box)
    lines = [*lines, _line("Say hello", 100, 450, 300, 490)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    got = {e.text: e.kind for e in layout.elements}
    assert [got[line.text] for line in lines[:-1]] == kinds


def test_a_big_button_drawn_tight_round_its_word_is_a_button() -> None:
    # Big letters fill most of the box: it must not be taken for a letter's outline.
    s = draw.Sketch((900, 600), 38)
    s.rect(120, 300, 350, 400)
    lines = [_line("Choose plan", 141, 310, 326, 390)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert [(e.kind, e.text) for e in layout.elements] == [("button", "Choose plan")]


def test_a_line_field_takes_the_label_at_its_own_level() -> None:
    # Two line fields one under another, labels left of them: each the label beside it.
    s = draw.Sketch((1000, 700), 39)
    s.line((345, 310), (845, 312))
    s.line((343, 446), (848, 444))
    lines = [_line("Name", 150, 270, 270, 318), _line("Email", 150, 404, 265, 452)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    fields = sorted((e.box.y0, e.text) for e in layout.elements if e.kind == "input")
    assert [text for _, text in fields] == ["Name", "Email"]


@pytest.mark.parametrize("labelled", [False, True])
def test_a_hint_under_a_field_is_no_label_of_the_field_below(labelled: bool) -> None:
    # A search box, "Popular: lamps" written under it, then a second field (120455): the hint
    # is the search box's, nearer under it than above the next field. A label written close
    # above the next field is still that field's.
    s = draw.Sketch((1000, 900), 43)
    s.rect(60, 200, 420, 270)
    s.rect(500, 200, 660, 270)
    s.rect(60, 380, 400, 450)
    lines = [_line("Search", 520, 215, 640, 255), _line("Popular: lamps", 62, 292, 300, 332)]
    if labelled:
        lines.append(_line("Item", 62, 338, 140, 372))
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    fields = sorted((e.box.y0, e.text) for e in layout.elements if e.kind == "input")
    assert [text for _, text in fields] == ["", "Item" if labelled else ""]
    assert ("text", "Popular: lamps") in {(e.kind, e.text) for e in layout.elements}


def test_card_titles_side_by_side_near_the_top_are_no_menu() -> None:
    # Three pricing cards just under the title (385397): "Starter", "Pro", "Basic" in a row,
    # each in its own box, are texts; the same words in one box across the top are a menu.
    s = draw.Sketch((1200, 1000), 44)
    for x in (60, 420, 780):
        s.rect(x, 130, x + 320, 450)
    words = [("Starter", 100), ("Pro", 460), ("Basic", 820)]
    lines = [_line("Little Records", 60, 40, 420, 100)]
    lines += [_line(word, x, 160, x + 40 + 25 * len(word), 200) for word, x in words]
    kinds = {e.text: e.kind for e in read_sketch(_pixels(s), ScriptedText(lines)).elements}
    assert [kinds[w] for w, _ in words] == ["text", "text", "text"]
    s = draw.Sketch((1200, 1000), 44)
    s.rect(60, 130, 1100, 220)
    nav = {e.kind for e in read_sketch(_pixels(s), ScriptedText(lines)).elements}
    assert "nav" in nav


def test_a_title_far_above_a_line_field_does_not_hide_the_field() -> None:
    s = draw.Sketch((1040, 800), 40)
    s.line((322, 304), (738, 306))
    lines = [_line("Join Happy Bikes", 93, 91, 728, 205), _line("Email", 99, 248, 224, 299)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert ("input", "Email") in {(e.kind, e.text) for e in layout.elements}


def test_a_panel_holding_one_line_by_its_left_side_is_a_box_not_a_button() -> None:
    s = draw.Sketch((1300, 700), 41)
    s.rect(70, 320, 1100, 500)
    lines = [_line("The best mugs in Lisbon", 118, 359, 572, 425)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert sorted(e.kind for e in layout.elements) == ["box", "text"]


def test_a_word_the_detector_missed_over_an_underline_is_read_there() -> None:
    from tests.test_sketch_text import RereadingText

    s = draw.Sketch((1000, 700), 42)
    s.line((360, 500), (445, 502))  # an underline with no text found over it
    s.line((530, 502), (615, 503))
    lines = [_line("FAQ", 524, 450, 618, 498), _line("Maple Bikes", 80, 100, 470, 190)]
    lines += [_line("Free delivery", 80, 250, 400, 300)]
    reader = RereadingText(lines, "Jobs")
    layout = read_sketch(_pixels(s), reader)
    assert ("link", "Jobs") in {(e.kind, e.text) for e in layout.elements}
    assert len(reader.crops) == 1  # only the bare underline is read again


def _faded(s, spans: list[tuple[int, int]], scale: float = 0.3) -> None:
    """The pencil pressed lightly over these columns."""
    alpha = np.asarray(s.ink, dtype=np.float32)
    for x0, x1 in spans:
        alpha[:, x0:x1] *= scale
    s.ink = Image.fromarray(alpha.astype(np.uint8))


def test_a_slanted_rule_gone_light_in_places_is_one_rule_and_no_field() -> None:
    s = draw.Sketch((1000, 600), 37)
    s.line((40, 320), (960, 290))  # falling 30 px over the page
    _faded(s, [(200, 330), (520, 600), (760, 850)])
    ink, faint = ink_masks(_pixels(s))
    assert len([x for x in find_shapes(ink) if x.kind == "hline"]) == 4  # dark pieces alone
    rules = [x for x in find_shapes(ink, faint) if x.kind == "hline"]
    assert len(rules) == 1 and rules[0].width > 900
    lines = [_line("Join 48 happy readers", 60, 230, 330, 275)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert [(e.kind, e.text) for e in layout.elements] == [("text", "Join 48 happy readers")]


def test_two_line_fields_on_one_level_stay_two_with_a_label_between() -> None:
    # "Name ____ City ____": the label between the lines is no stroke joining them.
    s = draw.Sketch((1100, 500), 38)
    s.line((160, 262), (460, 262))
    s.line((600, 262), (900, 262))
    s.text(480, 215, "City", 40, oblique=False)
    ink, faint = ink_masks(_pixels(s))
    fields = sorted(x.box for x in find_shapes(ink, faint) if x.kind == "hline")
    assert len(fields) == 2 and fields[0][2] < 480 and fields[1][0] > 580


def test_menu_words_read_as_two_texts_are_still_a_navigation_bar() -> None:
    body = [
        _line("Made in Austin since 2022", 537, 342, 1005, 390),
        _line("Buy now", 560, 500, 730, 545),
    ]
    menu = [_line("Music", 691, 95, 804, 136), _line("News Help", 839, 92, 1057, 140)]
    found = [(e.kind, e.text) for e in classify([], menu + body, (1150, 800))]
    assert ("nav", "Music  News Help") in found
    not_menu = [_line("Sunny Gym", 80, 95, 300, 136), _line("Call us", 839, 92, 1000, 140)]
    assert "nav" not in {e.kind for e in classify([], not_menu + body, (1150, 800))}


def test_a_title_no_bigger_than_the_menu_words_is_still_a_heading() -> None:
    def line(text: str, box: tuple[float, float, float, float], tall: float) -> OcrLine:
        return OcrLine(text, 0.99, box, tall)

    menu = [line(w, (515 + 160 * k, 80, 640 + 160 * k, 130), 50) for k, w in enumerate("ABC")]
    rest = [
        line("Lemon Games", (85, 225, 511, 289), 64),
        line("Visit us in Rome", (545, 363, 886, 410), 47),
        line("Call us at 555-9785", (546, 466, 955, 510), 44),
    ]
    found = [(e.kind, e.text) for e in classify([], menu + rest, (1050, 800))]
    assert ("nav", "A  B  C") in found and ("heading", "Lemon Games") in found


def _written(s, x: float, y: float, words: str, size: int) -> OcrLine:
    """`words` drawn upright at (x, y), and the line the detector would box round them."""
    before = np.asarray(s.ink) > 0
    s.text(x, y, words, size, oblique=False)
    ys, xs = np.nonzero((np.asarray(s.ink) > 0) & ~before)
    return _line(words, xs.min() - 4, ys.min() - 4, xs.max() + 4, ys.max() + 4)


def test_a_light_pencil_underline_drawn_aslant_makes_a_link_and_close_lines_stay_text() -> None:
    s = draw.Sketch((1000, 700), 11)
    s.line((296, 370), (402, 379))  # falling 9 px under the word
    _faded(s, [(0, 1000)], 0.35)  # pressed lightly: no stroke in the dark-ink mask, no rule
    lines = [_written(s, 290, 300, "Blog", 44), _written(s, 80, 100, "Maple Bikes", 60)]
    # Two list lines 4 px apart: in the faint mask the lower line's tops make a dense row.
    lines += [_written(s, 600, 300, "Call Zoe", 36), _written(s, 600, 345, "Water the plants", 36)]
    found = {(e.kind, e.text) for e in read_sketch(_pixels(s), ScriptedText(lines)).elements}
    assert ("link", "Blog") in found
    assert {("text", "Call Zoe"), ("text", "Water the plants")} <= found


def _lines(*specs: tuple[str, tuple[float, float, float, float], float]) -> list[OcrLine]:
    return [OcrLine(text, 0.99, box, tall) for text, box, tall in specs]


def test_a_title_no_taller_than_flourished_body_lines_but_wider_lettered_is_a_heading() -> None:
    # The dkg hand's tall loops make its body lines as tall as a title written half again bigger.
    body = _lines(
        ("Open 9-5 on Saturday", (97, 188, 348, 244), 53),
        ("Ask Grace about jam", (93, 277, 330, 334), 54),
        ("Contact", (159, 440, 253, 492), 51),
    )
    wide = _lines(("Sunset Music", (393, 91, 658, 153), 51))
    assert ("heading", "Sunset Music") in [
        (e.kind, e.text) for e in classify([], wide + body, (1050, 800))
    ]
    narrow = _lines(("Sunset Music", (393, 91, 560, 153), 51))  # 15 px a letter, as the rest
    assert ("text", "Sunset Music") in [
        (e.kind, e.text) for e in classify([], narrow + body, (1050, 800))
    ]


def test_a_title_under_a_menu_is_a_heading_and_labels_no_field() -> None:
    menu = _lines(
        *(
            (w, (80 + 150 * k, 53, 200 + 150 * k, 111), 57)
            for k, w in enumerate(["Events", "Blog", "News"])
        )
    )
    title = _lines(("River Garden", (73, 166, 464, 228), 60))
    rest = _lines(
        ("Add", (585, 280, 674, 328), 48),
        ("Email Tom at 3", (108, 389, 385, 428), 39),
        ("Pay rent by Wednesday", (107, 521, 534, 579), 50),
    )
    field = [Shape("rect", (72, 266, 510, 337)), Shape("rect", (551, 263, 702, 344))]
    found = [(e.kind, e.text) for e in classify(field, menu + title + rest, (1150, 1250))]
    assert ("heading", "River Garden") in found and ("input", "") in found
    # Its bottom past a third of the page, the menu above it: still the page's title.
    low = _lines(
        ("URBAN LIBRARY", (80, 207, 554, 284), 63),
        ("CALL US AT 555-2999", (502, 308, 965, 367), 50),
        ("CHOOSE PLAN", (553, 411, 853, 466), 50),
    )
    found = [(e.kind, e.text) for e in classify([], menu + low, (1000, 800))]
    assert ("heading", "URBAN LIBRARY") in found


def test_a_long_flat_field_is_no_crossed_image() -> None:
    # At eleven widths to one height a diagonal allowed to start 6 % of the width off its
    # corner could run along the top and bottom sides: the field was read as an image.
    for seed, width, height in ((15, 591, 45), (22, 589, 47), (26, 536, 48)):
        s = draw.Sketch((1300, 800), seed)
        s.rect(270, 273, 270 + width, 273 + height)
        rects = [x for x in _shapes(s) if x.kind == "rect"]
        assert rects and not any(x.crossed for x in rects), seed
    s = draw.Sketch((1300, 800), 15)  # a banner image that flat still has its cross
    s.rect(100, 100, 1000, 190)
    s.line((100, 100), (1000, 190))
    s.line((100, 190), (1000, 100))
    assert [x.crossed for x in _shapes(s) if x.kind == "rect" and x.width > 500] == [True]
