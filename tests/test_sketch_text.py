"""A sketch's text lines mended before classification (vision/sketch_text.py and the OCR
line cut): checkboxes and underlines boxed into a line, words far apart, bold letters."""

from __future__ import annotations

import numpy as np

from tests.test_sketch_reader import ScriptedText, _line, _pixels, draw
from vision.ocr import OcrLine
from vision.sketch_reader import read_sketch


class RereadingText(ScriptedText):
    """A scripted reader that also reads a cut-out line again, as RapidOcrReader.recognise does,
    recording the width of each crop it was given."""

    def __init__(self, lines: list[OcrLine], reread: str) -> None:
        super().__init__(lines)
        self.reread, self.crops = reread, []

    def recognise(self, crop: np.ndarray) -> tuple[str, float]:
        self.crops.append(crop.shape[1])
        return self.reread, 0.9


def test_a_checkbox_read_into_its_label_is_taken_out_of_it() -> None:
    # PP-OCRv6 reads "[ ] I agree" as one line "IIagree", as tall as the box: a heading.
    s = draw.Sketch((1000, 700), 25)
    s.rect(100, 300, 150, 350)  # the checkbox, its label 40 px to the right
    s.rect(100, 450, 260, 520)  # a button below
    lines = [
        _line("Welcome back", 300, 80, 700, 150),
        _line("Name", 100, 200, 190, 240),
        _line("IIagree", 90, 290, 400, 360),
        _line("Join", 150, 465, 220, 505),
    ]
    reader = RereadingText(lines, "I agree")
    layout = read_sketch(_pixels(s), reader)
    assert ("checkbox", "I agree") in {(e.kind, e.text) for e in layout.elements}
    assert reader.crops and reader.crops[0] < 400 - 150  # read again from past the box
    assert layout.counts() == {"heading": 1, "text": 1, "checkbox": 1, "button": 1}


def test_a_letters_loop_at_a_lines_start_is_no_checkbox() -> None:
    # "OPEN" with a square-ish O: the next letter follows at once, so the O stays a letter.
    s = draw.Sketch((1000, 500), 26)
    s.rect(100, 200, 150, 250)
    s.line((158, 200), (158, 250))  # the P right after the loop: its stem and bowl
    s.line((158, 200), (190, 200))
    s.line((190, 200), (190, 225))
    s.line((158, 225), (190, 225))
    s.line((205, 200), (205, 250))
    reader = RereadingText([_line("OPEN", 95, 195, 330, 255)], "PEN")
    layout = read_sketch(_pixels(s), reader)
    assert [(e.kind, e.text) for e in layout.elements] == [("text", "OPEN")]
    assert reader.crops == []


def test_wide_gaps_split_a_detected_line_and_word_spaces_do_not() -> None:
    from vision.ocr import _pieces

    def line(text: str, xs: list[int]) -> tuple[list, np.ndarray]:
        gray = np.full((60, 400), 230, np.uint8)
        for x, ch in zip(xs, text, strict=True):
            if not ch.isspace():
                gray[14:46, x + 2 : x + 14] = 40  # a letter's ink
        corners = [[[x, 10], [x + 16, 10], [x + 16, 50], [x, 50]] for x in xs]
        return [corners, list(text), [0.9] * len(text)], gray

    quad = np.array([[0, 10], [300, 10], [300, 50], [0, 50]], dtype=np.float32)
    letters, gray = line("Ab Cd", [0, 16, 40, 82, 98])  # 40 px tall, 50 px of paper between
    assert _pieces("Ab Cd", quad, letters, 40.0, gray) == [
        ("Ab ", (0.0, 10.0, 32.0, 50.0)),
        ("Cd", (82.0, 10.0, 114.0, 50.0)),
    ]
    letters, gray = line("Ab Cd", [0, 16, 38, 44, 60])  # 12 px between the words: one text
    assert len(_pieces("Ab Cd", quad, letters, 40.0, gray)) == 1
    assert _pieces("Ab", quad, [], 40.0, gray) == [("Ab", (0.0, 10.0, 300.0, 50.0))]


def test_bold_letters_are_no_underline_and_a_stroke_under_them_is() -> None:
    from vision.sketch_text import find_underlined

    ink = np.zeros((200, 600), np.uint8)
    ink[70:88, 100:400] = 255  # letters' bodies, closed up into a band 18 px tall
    line = _line("Join us", 100, 50, 400, 95)
    assert find_underlined(ink, [line], []) == frozenset()
    ink[98:101, 100:400] = 255  # a 3 px stroke under them
    ink[70:88, 100:400] = 0
    ink[70:88:4, 100:400] = 255  # letters, not a solid band
    assert find_underlined(ink, [line], []) == frozenset({0})


def test_letters_feet_closed_up_are_no_underline() -> None:
    from vision.sketch_text import find_underlined

    # "Gold" written tight: each letter's foot a piece 18 px wide, 6 px from the next, which
    # closes up into a dense row like a stroke's; the letters' middles are sparser.
    ink = np.zeros((200, 600), np.uint8)
    line = _line("Gold", 100, 50, 400, 95)
    feet = (np.arange(100, 400) % 24) < 18
    ink[60:90, 100:400][:, (np.arange(100, 400) % 24) < 4] = 255
    ink[90:93, 100:400][:, feet] = 255
    assert find_underlined(ink, [line], []) == frozenset()
    ink[90:93, 100:400] = 255  # one stroke along them, a tilt of a row or two allowed
    ink[90, 250:400], ink[93, 250:400] = 0, 255
    assert find_underlined(ink, [line], []) == frozenset({0})


def test_full_width_forms_read_as_ascii() -> None:
    from vision.ocr_words import halfwidth

    assert halfwidth("$11 ／month （new）：") == "$11 /month (new):"
    assert halfwidth("Café 50%") == "Café 50%"
    assert halfwidth("$32 ノ year") == "$32 / year"  # a slant stroke read as a kana
    assert halfwidth("カノン") == "カノン"  # among kana it is one


def test_in_the_faint_mask_letters_feet_are_no_underline_and_a_stroke_below_them_is() -> None:
    from vision.sketch_text import find_underlined

    line = _line("Call Zoe", 100, 50, 400, 95)
    strokes = (np.arange(100, 400) % 25) < 10  # letters' strokes, a third of the width
    faint = np.zeros((200, 600), np.uint8)
    faint[60:89, 100:400][:, strokes] = 255
    faint[89:92, 100:400] = 255  # their feet, thickened by the faint mask into one row
    assert find_underlined(faint, [line], [], apart=True) == frozenset()
    faint[89:92, 100:400][:, ~strokes] = 0
    faint[97:100, 100:400] = 255  # a light stroke 8 px under the letters
    assert find_underlined(faint, [line], [], apart=True) == frozenset({0})


def test_a_light_slanted_stroke_close_under_dense_letters_is_an_underline() -> None:
    from vision.sketch_text import find_underlined

    # "Jobs" in 887128: the faint mask fills the letters' lower half, a few rows of paper,
    # then the stroke, drawn aslant, its rows thinning out for several rows below it.
    line = _line("Jobs", 100, 50, 400, 95)
    faint = np.zeros((200, 600), np.uint8)
    faint[60:88, 100:400][:, (np.arange(100, 400) % 10) < 8] = 255
    assert find_underlined(faint, [line], [], apart=True) == frozenset()
    for x in range(100, 400):
        y = 93 + (x - 100) * 6 // 300  # 6 rows down across the word
        faint[y : y + 3, x] = 255
    assert find_underlined(faint, [line], [], apart=True) == frozenset({0})


def test_an_underline_inside_a_lines_box_is_cut_off_and_makes_it_a_link() -> None:
    from vision.sketch_text import trim_underlines

    ink = np.zeros((200, 400), np.uint8)
    ink[60:90, 100:300:4] = 255  # the letters: their strokes
    ink[90:96, 140:150] = 255  # a descender ("y"), close under them
    ink[104:107, 95:305] = 255  # the underline, apart from them
    boxed = OcrLine("Privacy", 0.9, (90, 55, 310, 110))  # the detector's box takes it in
    other = _line("Blog", 90, 150, 200, 190)
    lines, cut = trim_underlines(ink, [boxed, other])
    assert lines[1] == other and cut == {lines[0]}
    assert lines[0].text == "Privacy" and 95 <= lines[0].box[3] <= 104
    assert lines[0].height < boxed.height * 0.9
    ink[104:107, 95:305] = 0
    ink[104:107, 140:160] = 255  # a stray mark under one letter is no underline
    assert trim_underlines(ink, [boxed]) == ([boxed], set())


def test_a_cell_border_through_a_line_cuts_it_at_the_nearest_space() -> None:
    from vision.ocr import _pieces

    # "Saturday Oscar" read across a table's border, the words a word space apart: cut at
    # the space, each piece stopping at the border.
    text = "Day Ann"
    gray = np.full((120, 400), 230, np.uint8)
    xs = [0, 20, 40, 56, 62, 82, 102]  # 12 px of paper between "y" and "A"
    for x, ch in zip(xs, text, strict=True):
        if not ch.isspace():
            gray[44:76, x + 4 : x + 14] = 40
    assert len(_pieces(text, *_letters(text, xs, gray))) == 1  # no border: one text
    gray[:, 58:61] = 40  # the border, from above the line to below it
    pieces = _pieces(text, *_letters(text, xs, gray))
    assert [t.strip() for t, _ in pieces] == ["Day", "Ann"]
    assert pieces[0][1][2] <= 58 and pieces[1][1][0] >= 61
    gray[60:, 58:61] = 230  # a stroke that ends inside the line (a tall letter's) cuts not
    assert len(_pieces(text, *_letters(text, xs, gray))) == 1


def test_a_space_dropped_beside_a_slash_is_put_back() -> None:
    from vision.ocr import _pieces

    # "$8 / yr" read as "$8/yr": 12 px of paper (0.3 line heights) each side of the slash.
    text = "$8/yr"
    gray = np.full((120, 400), 230, np.uint8)
    xs = [0, 14, 40, 66, 80]
    for x in xs:
        gray[44:76, x + 2 : x + 14] = 40
    assert _pieces(text, *_letters(text, xs, gray))[0][0] == "$8 / yr"
    xs = [0, 14, 28, 42, 56]  # written close: 2 px beside it, as between the letters
    gray[:] = 230
    for x in xs:
        gray[44:76, x + 2 : x + 14] = 40
    assert _pieces(text, *_letters(text, xs, gray))[0][0] == "$8/yr"


def _letters(text: str, xs: list[int], gray: np.ndarray) -> tuple:
    """_pieces' arguments for a line of `text` whose letters start at `xs` (18 px wide)."""
    corners = [[[x, 40], [x + 18, 40], [x + 18, 80], [x, 80]] for x in xs]
    quad = np.array([[0, 40], [150, 40], [150, 80], [0, 80]], dtype=np.float32)
    return quad, [corners, list(text), [0.9] * len(text)], 40.0, gray


def test_a_line_with_two_underlines_is_two_links() -> None:
    from vision.shapes import Shape
    from vision.sketch_text import split_underlined

    line = OcrLine("HELP CAREERS", 0.99, (197, 483, 629, 552), 64)
    rules = [Shape("hline", (205, 556, 338, 562)), Shape("hline", (389, 550, 626, 557))]
    parts = split_underlined([line], rules)
    assert [p.text for p in parts] == ["HELP", "CAREERS"]
    assert parts[0].box[2] <= parts[1].box[0]
    assert split_underlined([line], rules[1:]) == [line]  # one underline: one link


def test_a_usual_word_starting_with_a_square_letter_is_no_checkbox() -> None:
    s = draw.Sketch((1000, 500), 27)
    s.rect(100, 200, 145, 245)  # the O of "Orders", drawn square, a gap before the "r"
    reader = RereadingText([_line("Orders", 95, 190, 380, 255)], "rders")
    layout = read_sketch(_pixels(s), reader)
    assert [(e.kind, e.text) for e in layout.elements] == [("text", "Orders")]
    assert reader.crops  # read again without the square: "rders" has lost the word


def test_a_checkbox_before_a_usual_word_the_line_was_read_as_is_taken_out() -> None:
    # "[] I AGREE" read "AGREE", its box starting well left of the square (345389, 345524).
    s = draw.Sketch((1000, 500), 28)
    s.rect(120, 205, 165, 250)
    reader = RereadingText([_line("AGREE", 100, 190, 420, 262)], "I AGREE")
    layout = read_sketch(_pixels(s), reader)
    assert [(e.kind, e.text) for e in layout.elements] == [("checkbox", "I AGREE")]


def test_big_words_in_two_table_cells_stay_two_texts() -> None:
    from vision.sketch_text import join_split_lines

    ink = np.zeros((400, 800), np.uint8)
    ink[100:300, 430:433] = 255  # the cell border between them
    lines = [_line("Saturday", 280, 200, 428, 258), _line("Anna", 440, 200, 531, 258)]
    lines += [_line("x", 100, 300, 120, 340), _line("y", 100, 350, 120, 390)]  # body text
    assert len(join_split_lines(lines, ink)) == 4
    ink[100:300, 430:433] = 0
    assert len(join_split_lines(lines, ink)) == 3  # a heading cut in two is joined
    # Links side by side, boxed tall with their underlines (cut off, so each one underlined).
    assert len(join_split_lines(lines, ink, underlined=set(lines[:2]))) == 4
    assert len(join_split_lines(lines, ink, underlined={lines[0]})) == 3


def test_a_short_word_boxed_apart_where_a_buttons_word_ends_joins_it() -> None:
    # PP-OCRv6 boxed "Log in" as "Log" and a smaller "in" overlapping its end (generated 644632).
    s = draw.Sketch((1000, 700), 8)
    s.rect(240, 421, 416, 511)
    s.rect(238, 220, 689, 281)
    lines = [_line("Orange Library", 555, 75, 834, 160), _line("Username", 75, 239, 194, 284)]
    split = [_line("Log", 282, 436, 352, 494), _line("in", 346, 445, 368, 467)]
    found = {
        (e.kind, e.text) for e in read_sketch(_pixels(s), ScriptedText(lines + split)).elements
    }
    assert ("button", "Log in") in found
    apart = [_line("Log", 282, 436, 352, 494), _line("in", 300, 445, 322, 467)]  # inside the word
    found = {
        (e.kind, e.text) for e in read_sketch(_pixels(s), ScriptedText(lines + apart)).elements
    }
    assert ("button", "Log in") not in found


def test_three_big_words_in_a_row_stay_apart_and_two_are_joined() -> None:
    # Menu words written large and slanted, as tall as a heading (530105): a row of three
    # pieces is no heading cut in two, and is left for the menu.
    from vision.sketch_text import join_split_lines

    ink = np.zeros((500, 1100), np.uint8)
    row = [
        _line("Home Prices", 603, 54, 803, 142),
        _line("Blog", 833, 63, 911, 147),
        _line("Team", 968, 68, 1039, 152),
    ]
    body = [_line("x", 100, 300, 160, 350), _line("y", 100, 360, 160, 410)]
    assert len(join_split_lines(row + body, ink)) == 5
    assert "Home Prices Blog" in [x.text for x in join_split_lines(row[:2] + body, ink)]
