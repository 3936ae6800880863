"""Sketch reading: image loading and its errors, shape finding, classification, real OCR."""

from __future__ import annotations

import difflib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant_app.core.errors import ModelUnavailable, UserVisibleError
from vision.image_input import load_image
from vision.ocr import OcrLine, create_ocr
from vision.shapes import find_shapes, ink_masks
from vision.sketch_reader import classify, read_sketch

SKETCHES = Path(__file__).parent / "fixtures" / "sketches"
NAMES = ["joke_site", "login", "todo", "landing_nav", "tabs", "photo_signup"]


def _draw_module():
    spec = importlib.util.spec_from_file_location("sketch_draw", SKETCHES / "draw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


draw = _draw_module()


def _image(name: str) -> Path:
    return next(p for p in SKETCHES.glob(f"{name}.*") if p.suffix in (".png", ".jpg"))


def _pixels(sketch) -> np.ndarray:
    return np.clip(sketch.paper(), 0, 255).astype(np.uint8)


class ScriptedText:
    """A stand-in text reader for logic tests: returns the lines it was given, records calls."""

    def __init__(self, lines: list[OcrLine]) -> None:
        self.lines = lines
        self.calls = 0

    def read(self, image: np.ndarray) -> list[OcrLine]:
        self.calls += 1
        return self.lines


def _line(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text, 0.99, (x0, y0, x1, y1))


# -- loading ---------------------------------------------------------------------------------


def test_pdf_is_named_as_pdf(tmp_path: Path) -> None:
    pdf = tmp_path / "sketch.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    with pytest.raises(UserVisibleError, match="PDF document") as info:
        load_image(pdf)
    assert "PNG or JPEG" in str(info.value)


def test_text_file_named_png_is_named_as_text(tmp_path: Path) -> None:
    fake = tmp_path / "sketch.png"
    fake.write_text("a heading, a button that says hello\n")
    with pytest.raises(UserVisibleError, match="looks like a text file"):
        load_image(fake)


def test_truncated_png_says_damaged(tmp_path: Path) -> None:
    data = _image("login").read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(UserVisibleError, match="damaged or incomplete") as info:
        load_image(cut)
    assert "again" in str(info.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UserVisibleError, match="No image at"):
        load_image(tmp_path / "nope.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UserVisibleError, match="empty"):
        load_image(empty)


def test_exif_orientation_turns_the_phone_photo_upright() -> None:
    path = _image("photo_signup")
    assert Image.open(path).size == (1000, 1200)  # stored on its side
    loaded = load_image(path)
    assert loaded.pixels.shape == (1000, 1200, 3)
    # Upright, the heading is in the top-left quarter: it is darker there than bottom-right.
    gray = loaded.pixels.mean(axis=2)
    assert gray[60:200, 120:450].min() < gray[800:950, 800:1100].min() - 40


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    first = Image.open(_image("login")).convert("RGB")
    blanks = [Image.new("RGB", first.size, (v, v, v)) for v in (250, 240)]
    gif = tmp_path / "anim.gif"
    first.save(gif, save_all=True, append_images=blanks, duration=200)
    loaded = load_image(gif)
    assert any("first frame" in note and "3 frames" in note for note in loaded.notes)
    assert loaded.pixels.min() < 150  # the drawing, not the blank frames


def test_transparent_png_is_put_on_white(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    rgba.paste((20, 20, 20, 255), (50, 50, 250, 60))
    path = tmp_path / "clear.png"
    rgba.save(path)
    pixels = load_image(path).pixels
    assert pixels[10, 10].tolist() == [255, 255, 255]
    assert pixels[55, 100].max() < 40


def test_large_image_is_downscaled_above_pillows_guard(tmp_path: Path) -> None:
    big = Image.open(_image("todo")).convert("L").resize((10000, 9000))  # 90 MP > Pillow's 89.5
    path = tmp_path / "big.png"
    big.save(path, compress_level=1)
    loaded = load_image(path)
    assert max(loaded.pixels.shape[:2]) == 1600
    assert loaded.original_size == (10000, 9000)
    assert any("scaled down" in note for note in loaded.notes)


def test_large_jpeg_is_downscaled(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.open(_image("tabs")).convert("RGB").resize((6000, 4500)).save(path, quality=85)
    assert load_image(path, max_side=1200).pixels.shape == (900, 1200, 3)


def test_absurd_size_is_refused_with_advice(tmp_path: Path, monkeypatch) -> None:
    import vision.image_input as image_input

    path = tmp_path / "huge.png"
    Image.new("L", (3000, 2000), 240).save(path)
    pillow_guard = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(image_input, "MAX_PIXELS", 2_000_000)  # Pillow's own bomb error path
    with pytest.raises(UserVisibleError, match="too large") as info:
        load_image(path)
    assert "Scale it" in str(info.value)
    monkeypatch.setattr(image_input, "MAX_PIXELS", 4_000_000)  # our size check
    with pytest.raises(UserVisibleError, match="3000x2000"):
        load_image(path)
    assert Image.MAX_IMAGE_PIXELS == pillow_guard  # restored after the raised limit


# -- shapes ----------------------------------------------------------------------------------


def test_wobbly_shapes_are_found_and_told_apart() -> None:
    s = draw.Sketch((1000, 700), 21)
    s.rect(100, 100, 500, 170)  # an input-like box
    s.cross(600, 100, 900, 400)  # an image placeholder
    s.rect(100, 300, 140, 340)  # a checkbox
    s.line((100, 550), (600, 552))  # a line field
    shapes = find_shapes(ink_masks(_pixels(s))[0])
    rects = sorted((sh for sh in shapes if sh.kind == "rect"), key=lambda sh: sh.box[0])
    assert len(rects) == 3
    crossed = [r for r in rects if r.crossed]
    assert len(crossed) == 1 and abs(crossed[0].box[0] - 600) < 12
    lines = [sh for sh in shapes if sh.kind == "hline"]
    assert len(lines) == 1 and abs(lines[0].width - 500) < 20


def test_shadowed_photo_of_blank_paper_has_no_ink() -> None:
    yy, xx = np.mgrid[0:600, 0:800].astype(np.float32)
    shade = 150 + 100 * (xx / 800) * (yy / 600)  # a strong shadow gradient, no drawing
    rgb = np.repeat(shade[..., None], 3, axis=2).astype(np.uint8)
    assert not any(np.count_nonzero(mask) for mask in ink_masks(rgb))


# -- classification --------------------------------------------------------------------------


def _form_sketch() -> tuple[np.ndarray, list[OcrLine]]:
    s = draw.Sketch((1200, 1000), 22)
    lines = [
        _line("Home", 700, 40, 790, 80),
        _line("Blog", 850, 40, 930, 80),
        _line("Contact", 990, 40, 1130, 80),
        _line("Contact us", 100, 140, 480, 220),
        _line("Name", 100, 300, 200, 340),
        _line("Message", 100, 420, 260, 460),
        _line("Send me news", 170, 740, 420, 780),
        _line("Send", 740, 840, 830, 880),
        _line("Thanks for writing", 100, 920, 480, 960),
    ]
    s.rect(300, 290, 900, 350)  # Name input
    s.rect(100, 480, 900, 700)  # Message textarea, label above
    s.rect(110, 740, 150, 780)  # checkbox, label right
    s.rect(700, 820, 880, 900)  # Send button
    return _pixels(s), lines


def test_form_elements_get_their_labels() -> None:
    pixels, lines = _form_sketch()
    reader = ScriptedText(lines)
    layout = read_sketch(pixels, reader)
    assert reader.calls == 1
    kinds = {(e.kind, e.text) for e in layout.elements}
    assert ("nav", "Home  Blog  Contact") in kinds
    assert ("heading", "Contact us") in kinds
    assert ("input", "Name") in kinds
    assert ("textarea", "Message") in kinds
    assert ("checkbox", "Send me news") in kinds
    assert ("button", "Send") in kinds
    assert ("text", "Thanks for writing") in kinds
    assert len(layout.elements) == 7
    nav = next(e for e in layout.elements if e.kind == "nav")
    assert nav.box.y1 < 0.1 and 0.55 < nav.box.x0 < 0.6
    assert layout.texts()[:3] == ["Home", "Blog", "Contact"]


def test_container_keeps_its_children() -> None:
    s = draw.Sketch((1000, 800), 23)
    s.rect(80, 80, 920, 720)
    s.rect(150, 500, 400, 590)
    lines = [_line("Profile", 150, 150, 400, 220), _line("Edit", 220, 525, 320, 565)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert layout.counts() == {"box": 1, "heading": 1, "button": 1}
    button = next(e for e in layout.elements if e.kind == "button")
    assert button.text == "Edit"


def test_letter_outlines_are_not_boxes() -> None:
    # An "O" drawn as a closed square-ish loop inside a recognised word is part of the word.
    s = draw.Sketch((800, 400), 24)
    s.rect(200, 150, 240, 200)
    lines = [_line("HOME", 150, 145, 420, 205)]
    layout = read_sketch(_pixels(s), ScriptedText(lines))
    assert [(e.kind, e.text) for e in layout.elements] == [("text", "HOME")]


def test_classify_underlined_heading_is_not_an_input() -> None:
    from vision.shapes import Shape

    shapes = [Shape("hline", (100, 205, 520, 212))]
    lines = [_line("Welcome", 110, 140, 500, 200), _line("hello there", 110, 300, 330, 330)]
    elements = classify(shapes, lines, (1000, 800))
    assert sorted(e.kind for e in elements) == ["heading", "text"]


def test_a_menu_read_as_one_line_above_the_title_is_a_menu() -> None:
    menu = _line("Store Blog Help Jobs", 700, 60, 1000, 120)
    title = _line("Golden Cafe", 60, 240, 380, 340)
    body = [_line("Fresh coffee every Sunday", 60, 500 + 80 * n, 500, 550 + 80 * n)
            for n in range(3)]  # fmt: skip
    elements = classify([], [menu, title, *body], (1100, 1300))
    assert ("nav", "Store  Blog  Help  Jobs") in [(e.kind, e.text) for e in elements]
    assert ("heading", "Golden Cafe") in [(e.kind, e.text) for e in elements]
    # The same words with nothing larger below them: a title, not a menu.
    alone = classify([], [menu, *body], (1100, 1300))
    assert [e.kind for e in alone if e.text == "Store Blog Help Jobs"] == ["heading"]
    # Capitalised words that are no menu ("Open 9 To 5") stay as they are.
    hours = _line("Open Daily 9 To 5", 700, 60, 1000, 120)
    assert "nav" not in [e.kind for e in classify([], [hours, title, *body], (1100, 1300))]


def test_a_rule_under_a_menu_seen_in_part_is_no_field() -> None:
    from vision.shapes import Shape

    # 945769: the rule under five menu words found from "Home" on, under 0.6 of the page.
    words = [("Prices", 111, 231), ("Home", 270, 385), ("Jobs", 452, 570),
             ("Photos", 604, 767), ("Events", 833, 982)]  # fmt: skip
    menu = [_line(t, x0, 95, x1, 148) for t, x0, x1 in words]
    title = _line("Cosy Library", 96, 230, 657, 358)
    body = _line("38 new kites this week", 593, 488, 1109, 547)
    rule = [Shape("hline", (383, 175, 1169, 186))]
    elements = classify(rule, [*menu, title, body], (1360, 887))
    assert "input" not in [e.kind for e in elements]
    assert ("nav", "Prices  Home  Jobs  Photos  Events") in [(e.kind, e.text) for e in elements]
    # A short line with one word left of it is still a field.
    field = [Shape("hline", (383, 600, 800, 606))]
    label = _line("Email", 200, 560, 360, 606)
    assert "input" in [e.kind for e in classify(field, [label, title, body], (1360, 887))]


def test_blank_page_is_refused_before_ocr() -> None:
    reader = ScriptedText([])
    with pytest.raises(UserVisibleError, match="blank") as info:
        read_sketch(SKETCHES / "blank.png", reader)
    assert "dark pen" in str(info.value)
    assert reader.calls == 0


def test_picture_without_ui_is_refused() -> None:
    with pytest.raises(UserVisibleError, match="No page elements") as info:
        read_sketch(SKETCHES / "no_ui_photo.png", ScriptedText([]))
    assert "sketch of a web page" in str(info.value)


# -- the OCR factory -------------------------------------------------------------------------


class _DirStore:
    def __init__(self, folder: Path, name: str = "rapidocr-ppocrv6") -> None:
        self.folder, self.name = folder, name

    def path(self, name: str) -> Path:
        assert name == self.name
        return self.folder


def test_create_ocr_names_missing_weights_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        create_ocr(_DirStore(tmp_path))
    message = str(info.value)
    assert "rapidocr-ppocrv6" in message and "PP-OCRv6_det_small.onnx" in message
    assert "assistant models pull rapidocr-ppocrv6" in message and str(tmp_path) in message
    with pytest.raises(ModelUnavailable, match="ch_PP-OCRv4_det_infer.onnx"):
        create_ocr(_DirStore(tmp_path, "rapidocr-ppocrv4"), model="rapidocr-ppocrv4")


# -- real OCR on the fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ocr(real_store):
    return create_ocr(real_store)


def _similar(want: str, got: list[str]) -> bool:
    return any(difflib.SequenceMatcher(None, want.lower(), g.lower()).ratio() >= 0.8 for g in got)


@pytest.mark.models
def test_ocr_loads_weights_from_the_store_folder(real_store, tmp_path: Path) -> None:
    source = real_store.path("rapidocr-ppocrv6")
    for f in source.glob("*.onnx"):
        (tmp_path / f.name).symlink_to(f)
    reader = create_ocr(_DirStore(tmp_path))
    assert reader.model_dir == tmp_path
    lines = reader.read(np.asarray(Image.open(_image("todo")).convert("RGB")))
    assert any(line.text.lower() == "add" for line in lines)
    (tmp_path / "PP-OCRv6_rec_small.onnx").unlink()
    (tmp_path / "PP-OCRv6_rec_small.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="assistant models verify rapidocr-ppocrv6"):
        create_ocr(_DirStore(tmp_path))


@pytest.mark.models
@pytest.mark.parametrize("name", NAMES)
def test_fixture_sketches_are_read(ocr, name: str) -> None:
    spec = json.loads((SKETCHES / f"{name}.json").read_text())
    layout = read_sketch(_image(name), ocr)
    got = layout.texts()
    missing = [t for t in spec["texts"] if not _similar(t, got)]
    assert not missing, f"{name}: missing {missing}; read {got}"
    counts = layout.counts()
    for kind, count in spec["counts"].items():
        assert counts.get(kind, 0) == count, f"{name}: {kind} {counts} != {spec['counts']}"
    if "nav" in spec["counts"]:
        nav = next(e for e in layout.elements if e.kind == "nav")
        assert nav.box.y1 < 0.2 and len(nav.text.split("  ")) == 3


@pytest.mark.models
def test_huge_image_is_downscaled_and_read(ocr, tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.open(_image("joke_site")).convert("L").resize((9000, 6750)).save(path, compress_level=1)
    assert path.stat().st_size > 1_000_000
    layout = read_sketch(path, ocr)
    assert _similar("Reveal punchline", [e.text for e in layout.elements if e.kind == "button"])


@pytest.mark.models
def test_no_ui_photo_is_refused_with_real_ocr(ocr) -> None:
    with pytest.raises(UserVisibleError, match="No page elements"):
        read_sketch(SKETCHES / "no_ui_photo.png", ocr)


@pytest.mark.models
def test_animated_gif_sketch_is_read_from_first_frame(ocr, tmp_path: Path) -> None:
    first = Image.open(_image("todo")).convert("RGB")
    other = Image.open(_image("login")).convert("RGB").resize(first.size)
    gif = tmp_path / "anim.gif"
    first.save(gif, save_all=True, append_images=[other], duration=300)
    texts = read_sketch(gif, ocr).texts()
    assert _similar("Add", texts) and not _similar("Password", texts)
