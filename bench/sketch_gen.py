"""Random hand-drawn web-page wireframe sketches with their ground truth, for benchmarks and tests.

Run from the repo root: `.venv/bin/python bench/sketch_gen.py --seed 100 --count 40 --out DIR
[--kind cards]`. The seed alone decides the page: its kind, words, layout, fonts and the look.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._sketch_page import MAX_H, Overflow, Page, look, tilted, union  # noqa: E402

PAGE_KINDS = (
    "login", "contact", "landing", "cards", "pricing", "list",
    "faq", "tabs", "search", "footer", "table", "combo",
)  # fmt: skip
# Word lists: one per line, "name: words" (a "|" splits entries of several words).
_WORDS = """
adj: Maple Sunny Blue Quiet Golden Little Green Happy Silver Cosy Red Bright Old Wild Urban Lucky
 Honey Rocky North Velvet Copper Misty Paper Lemon Cedar River Orange Sunset
place: Books Bakery Garden Cafe Studio Market Kitchen Travel Music Bikes Pets Yoga Tea Press Games
 Photos Shoes Club Farm Library Dental Motors Florist Gym Records Hotel Pottery
name: Anna Ben Clara David Emma Felix Grace Hugo Iris Jack Lena Max Nora Oscar Paula Rosa Sam Tom
 Vera Zoe Omar Mia Leo Ruth
city: Paris Oslo Rome Lisbon Dublin Vienna Berlin Madrid Prague Boston Denver Austin Leeds York
 Bristol Cork Bergen Porto
day: Monday Tuesday Wednesday Thursday Friday Saturday Sunday
thing: bread cake coffee tea books plants shoes bikes maps cards soap jam honey cheese candles lamps
 rugs mugs socks kites
label: Name|Email|Phone|City|Company|Username|Address|Country|Website|Full name|Zip code
nav: Home About Blog Shop Contact Menu Events Team Prices Help News Photos Music Store Jobs
foot: About Contact Privacy Terms Jobs Help Blog FAQ Press Careers
tab: Overview Details Reviews Photos Prices Menu Hours Map News Events
plan: Basic Starter Pro Plus Team Family Gold Student
"""
W = {
    key: [w.strip() for w in words.replace("\n", " ").split("|" if "|" in words else None)]
    for key, words in (
        part.split(":", 1) for part in _WORDS.replace("\n ", " ").strip().split("\n")
    )
}
LINES = (
    "Fresh {thing} every {day}|Open 9-5 on {day}|Made in {city} since {year}|Call us at 555-{nnnn}|"
    "{name} loves good {thing}|We sell {thing} and {thing2}|Free delivery over ${n}|"
    "{n} new {thing} this week|The best {thing} in {city}|Join {n} happy readers|"
    "Ask {name} about {thing}|Handmade {thing}, {n} colours|Visit us in {city}|"
    "Our {thing} ship in {n} days|Closed on {day}, sorry!"
).split("|")
QUESTIONS = (
    "Do you ship to {city}?|Can I pay by card?|How long does {thing} keep?|Are you open on {day}?|"
    "Can I return the {thing}?|Is there parking in {city}?|Do you sell {thing} online?|"
    "Who is {name}?|How much is delivery?|Can I order {n} {thing}?"
).split("|")
ITEMS = (
    "Buy {thing}|Call {name}|Visit {city}|Pay rent by {day}|Bake {thing} for {name}|Read {n} pages|"
    "Water the plants|Email {name} at {h}|Fix the {thing}|Pack {n} {thing}"
).split("|")
SUBMIT = ("Sign up", "Log in", "Send", "Join", "Subscribe", "Submit", "Register")
REVEAL = ("Show answer", "Reveal", "Read more", "Show more", "Load more")
MESSAGE = ("Buy now", "Choose plan", "Learn more", "Get started", "Order now", "Book now")
CHECKS = ("Remember me", "I agree", "Send me news", "Keep me signed in")
# Table columns: a header and the template its cells are filled from.
COLUMNS = {"Name": "{name}", "Price": "${n}", "Day": "{day}", "Time": "{h}:30", "City": "{city}",
           "Qty": "{n}", "Team": "{Adj}", "Item": "{Thing}"}  # fmt: skip


@dataclass(frozen=True)
class GeneratedSketch:
    """One generated page: its seed, the RGB picture and the truth dict (JSON-serialisable)."""

    seed: int
    image: Image.Image
    truth: dict


def fill(p: Page, templates: list[str], max_w: float = 1e9) -> str:
    """A line from `templates` with fresh words, short enough for `max_w` pixels if possible."""
    r = p.rng
    for _ in range(12):
        words = r.choice(templates).format(
            thing=r.choice(W["thing"]), thing2=r.choice(W["thing"]), city=r.choice(W["city"]),
            name=r.choice(W["name"]), day=r.choice(W["day"]), n=r.randint(2, 60), h=r.randint(2, 8),
            year=r.randint(1950, 2022), nnnn=r.randint(1000, 9999), Adj=r.choice(W["adj"]),
            Thing=r.choice(W["thing"]).capitalize(), Place=r.choice(W["place"]),
        )  # fmt: skip
        if p.measure(words)[0] <= max_w:
            return words
    raise Overflow


def brand(p: Page) -> str:
    return fill(p, ["{Adj} {Place}"])


def s_heading(p: Page, words: str = "") -> None:
    r = p.rng
    size, face, words = int(p.size * r.uniform(1.4, 2.0)), r.choice(p.faces), words or brand(p)
    x = p.m if r.random() < 0.75 else (p.w - p.measure(words, size, face)[0]) / 2
    p.down(p.text(x, p.y, words, kind="heading", size=size, face=face), 1.3)


def s_nav(p: Page) -> None:
    r = p.rng
    words, face = r.sample(W["nav"], r.randint(3, 5)), p.face()
    size = int(p.size * r.uniform(0.85, 1))
    gaps = [r.uniform(1.0, 2.2) * size for _ in words]
    total = sum(p.measure(w, size, face)[0] for w in words) + sum(gaps[1:])
    x = p.m if r.random() < 0.4 or total > 0.8 * p.cw else p.w - p.m - total
    boxes = []
    for word, gap in zip(words, gaps, strict=True):
        boxes.append(p.write(x, p.y + r.uniform(-4, 4), word, size, face))
        x = boxes[-1][2] + gap
    box = union(*boxes)
    p.add("nav", "  ".join(words), box)
    if r.random() < 0.6:
        ry = box[3] + 0.7 * p.th + 6
        p.ink.line((0.4 * p.m, ry), (p.w - 0.4 * p.m, ry), width=2)
        box = (box[0], box[1], box[2], ry)
    p.down(box, 1.3)


def s_fields(p: Page, specs: list[tuple[str, str]]) -> float:
    """Labelled fields one under another; returns the x where their boxes start."""
    r, above = p.rng, p.rng.random() < 0.4
    col = p.m + max(p.measure(label)[0] for _, label in specs) + r.uniform(1.0, 1.8) * p.th
    for kind, label in specs:
        p.down(p.field(p.m, p.y, label, kind, above=above, box_x=col))
    return p.m if above else col


def page_login(p: Page) -> None:
    r = p.rng
    s_heading(p, r.choice(["Welcome back", "Create account", f"Join {brand(p)}", brand(p)]))
    labels = [r.choice(("Email", "Username"))]
    labels += r.sample(["Name", "Phone", "City"], r.randint(0, 1))
    x = s_fields(p, [("input", label) for label in labels + ["Password"]])
    if r.random() < 0.5:
        p.down(p.checkbox(x, p.y, r.choice(CHECKS)))
    p.down(p.button(x, p.y, r.choice(SUBMIT), "submit"))


def page_contact(p: Page) -> None:
    r = p.rng
    s_heading(p, fill(p, ["Contact us", "Get in touch", "Write to {name}"]))
    if r.random() < 0.5:
        p.down(p.text(p.m, p.y, fill(p, LINES, p.cw)))
    specs = [("input", label) for label in r.sample(W["label"], r.randint(1, 2))]
    x = s_fields(p, specs + [("textarea", r.choice(["Message", "Comments", "Notes"]))])
    p.down(p.button(x, p.y, r.choice(("Send", "Submit", "Send message")), "submit"))


def page_landing(p: Page) -> None:
    r = p.rng
    s_nav(p)
    s_heading(p)
    iw, ih, left = p.cw * r.uniform(0.35, 0.45), r.uniform(220, 380), r.random() < 0.7
    ix, cx = (p.m, p.m + iw + 2 * p.th) if left else (p.w - p.m - iw, p.m)
    top, y = p.y, p.y + r.uniform(0, 0.25) * ih
    if left:
        p.image((ix, top, ix + iw, top + ih))
    for _ in range(r.randint(1, 2)):
        y = p.text(cx, y, fill(p, LINES, p.cw - iw - 2 * p.th))[3] + p.gap()
    b = p.button(cx, y, r.choice(MESSAGE), "message")
    if not left:
        p.image((ix, top, ix + iw, top + ih))
    p.down((0, 0, 0, max(b[3], top + ih)))
    if r.random() < 0.5:
        s_footer(p)


def s_columns(p: Page, counts: list[int], width_needed: float, draw) -> None:  # noqa: ANN001
    """Boxes side by side; `draw(i, x, width, parent)` fills box i and returns its bottom."""
    gap = p.rng.uniform(0.8, 1.5) * p.size
    pad = 0.6 * p.th + 18
    for n in counts:
        width = (p.cw - (n - 1) * gap) / n
        if width >= width_needed + 2 * pad:
            break
    else:
        raise Overflow
    top, opened, bottoms = p.y, [], []
    for i in range(n):
        x0 = p.m + i * (width + gap)
        opened.append((p.add("box", "", None), x0))
        p.y = top + pad
        bottoms.append(draw(i, x0 + pad, width - 2 * pad, opened[-1][0]))
    bottom = max(bottoms) + pad
    for index, x0 in opened:
        p.close_box(index, (x0, top, x0 + width, bottom))
    p.down((0, 0, 0, bottom))


def s_cards(p: Page) -> None:
    r = p.rng
    labels = [r.choice(("Learn more", "Buy now", "Read more", "Order now")) for _ in range(4)]
    titles = [fill(p, ["{Adj} {thing}"]) for _ in range(4)]
    need = max(p.measure(t)[0] for t in titles + labels) + 3 * p.th
    image_h = r.uniform(130, 220)

    def card(i: int, x: float, width: float, parent: int) -> float:
        top = p.y
        p.image((x, top, x + width, top + image_h), parent)
        t = p.text(x, top + image_h + p.gap(), titles[i], parent)
        does = "reveal" if labels[i] == "Read more" else "message"
        return p.button(x, t[3] + p.gap(), labels[i], does, parent)[3]

    s_columns(p, r.sample([2, 3, 4], 3), need, card)


def s_pricing(p: Page) -> None:
    r = p.rng
    plans = r.sample(W["plan"], 3)
    period, label = r.choice(("month", "year")), r.choice(("Choose plan", "Buy now", "Select"))
    feature = r.random() < 0.5

    def column(i: int, x: float, width: float, parent: int) -> float:
        y = p.text(x, p.y, plans[i], parent)[3] + p.gap()
        y = p.text(x, y, f"${r.randint(2, 99)} / {period}", parent)[3] + p.gap()
        if feature:
            extra = fill(p, ["{n} GB storage", "{h} users", "No ads", "Email support"])
            y = p.text(x, y, extra, parent)[3] + p.gap()
        return p.button(x, y, label, "message", parent)[3]

    need = max(p.measure(t)[0] for t in [f"$99 / {period}", "10 GB storage", label]) + 3 * p.th
    s_columns(p, r.sample([2, 3], 2), need, column)


def s_list(p: Page) -> None:
    r = p.rng
    label = r.choice(["New item", "Task", "Item", "To do", "", ""])
    p.field(p.m, p.y, label, above=r.random() < 0.5, width=r.uniform(0.35, 0.5) * p.cw)
    rect = p.elements[-1]["box"]
    b = p.button(rect[2] + r.uniform(1, 2) * p.th, (rect[1] + rect[3]) / 2 - 1.1 * p.th,
                 r.choice(("Add", "Add", "Add item")), "add")  # fmt: skip
    p.down(union(rect, b))
    for _ in range(r.randint(2, 5)):
        radius, cy = r.uniform(0.15, 0.22) * p.th, p.y + p.th / 2
        p.ink.pen.ellipse((p.m - radius, cy - radius, p.m + radius, cy + radius), fill=235)
        p.down(p.text(p.m + 1.2 * p.th, p.y, fill(p, ITEMS)), 0.7)


def s_faq(p: Page) -> None:
    r = p.rng
    for question in r.sample(QUESTIONS, r.randint(2, 3)):
        p.down(p.text(p.m, p.y, fill(p, [question], p.cw)), 0.6)
        p.down(p.button(p.m, p.y, r.choice(REVEAL), "reveal"))


def s_tabs(p: Page) -> None:
    r = p.rng
    x, row = float(p.m), []
    for label in r.sample(W["tab"], r.randint(2, 4)):
        row.append(p.button(x, p.y, label, "tab"))
        x = row[-1][2] + r.uniform(0.5, 1.2) * p.th + 12
    top = max(b[3] for b in row) + p.gap(0.6)
    panel, pad = p.add("box", "", None), p.th + 18
    y = top + pad
    for _ in range(r.randint(1, 2)):
        y = p.text(p.m + pad, y, fill(p, LINES, p.cw - 2 * pad), panel)[3] + p.gap()
    box = (p.m, top, p.w - p.m, y + r.uniform(1, 4) * p.th)
    p.close_box(panel, box)
    p.down(box)


def s_search(p: Page) -> None:
    r = p.rng
    label = r.choice(["Search", "Find", "", ""])
    p.field(p.m, p.y, label, above=r.random() < 0.5, width=r.uniform(0.35, 0.5) * p.cw)
    rect = p.elements[-1]["box"]
    b = p.button(rect[2] + r.uniform(1, 2) * p.th, (rect[1] + rect[3]) / 2 - 1.1 * p.th,
                 r.choice(("Search", "Search", "Find", "Go")), "submit")  # fmt: skip
    p.down(union(rect, b))
    t = ["No results yet", "{n} results for {thing}", "Try '{thing}'", "Popular: {thing}"]
    p.down(p.text(p.m, p.y, fill(p, t)))


def s_footer(p: Page) -> None:
    r = p.rng
    p.y += p.gap(0.5)
    if r.random() < 0.5:
        p.ink.line((0.5 * p.m, p.y), (p.w - 0.5 * p.m, p.y), width=2)
        p.y += p.gap()
    x = p.m + r.uniform(0, 0.3) * p.cw
    for word in r.sample(W["foot"], r.randint(2, 4)):
        x = p.link(x, p.y, word)[2] + r.uniform(1.2, 2.5) * p.th
    p.down(p.elements[-1]["box"])


def s_table(p: Page) -> None:
    r = p.rng
    names = r.sample(list(COLUMNS), r.randint(2, 4))
    rows = [names] + [[fill(p, [COLUMNS[c]]) for c in names] for _ in range(r.randint(1, 3))]
    pad = 0.5 * p.th + 16
    widths = [max(p.measure(row[j])[0] for row in rows) + 2 * pad + 10 for j in range(len(names))]
    xs = [p.m + sum(widths[:j]) for j in range(len(names) + 1)]
    height = p.th + 2 * pad + 10
    frame = p.add("box", "", None)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            p.text(xs[j] + pad, p.y + i * height + pad, cell, frame)
    box = (p.m, p.y, xs[-1], p.y + len(rows) * height)
    for x in xs[1:-1]:
        p.ink.line((x, box[1] + r.uniform(-3, 3)), (x, box[3] + r.uniform(-3, 3)))
    for i in range(1, len(rows)):
        p.ink.line((box[0] + r.uniform(-3, 3), box[1] + i * height), (box[2], box[1] + i * height))
    p.close_box(frame, box)
    p.down(box)


def page_footer(p: Page) -> None:
    s_heading(p)
    for _ in range(p.rng.randint(1, 3)):
        p.down(p.text(p.m, p.y, fill(p, LINES, p.cw)))
    s_footer(p)


def page_combo(p: Page) -> None:
    r = p.rng
    if r.random() < 0.7:
        s_nav(p)
    s_heading(p)
    for section in r.sample([s_cards, s_pricing, s_faq, s_search, s_table, s_list, s_tabs], 2):
        section(p)
    if r.random() < 0.5:
        s_footer(p)


def _simple(section, *titles: str):  # noqa: ANN001, ANN202
    """A page of a heading (one of `titles` or a made-up name) and `section`."""

    def page(p: Page) -> None:
        s_heading(p, p.rng.choice([*titles, ""]))
        section(p)

    return page


PAGES = {
    "login": page_login, "contact": page_contact, "landing": page_landing,
    "cards": _simple(s_cards, "Our shop", "New this week"),
    "pricing": _simple(s_pricing, "Pricing", "Our plans", "Choose a plan"),
    "list": _simple(s_list, "Todo", "Shopping list", "Reading list"),
    "faq": _simple(s_faq, "FAQ", "Questions", "Help"), "tabs": _simple(s_tabs),
    "search": _simple(s_search, "Recipes", "Find a book", "Search"),
    "footer": page_footer, "table": _simple(s_table, "Opening hours", "Results", "Orders"),
    "combo": page_combo,
}  # fmt: skip


def generate(seed: int, page_kind: str | None = None) -> GeneratedSketch:
    """The page for `seed` (of `page_kind`, or one the seed picks from PAGE_KINDS)."""
    kind = page_kind or random.Random(seed).choice(PAGE_KINDS)
    if kind not in PAGES:
        raise ValueError(f"unknown page kind {kind!r}; kinds: {', '.join(PAGE_KINDS)}")
    for attempt in range(40):
        p = Page(seed, attempt)
        try:
            PAGES[kind](p)
        except Overflow:
            continue
        break
    else:
        raise RuntimeError(f"seed {seed}: no {kind} page fits after 40 layouts")
    h = int(min(MAX_H, max(800, max(e["box"][3] for e in p.elements) + p.m)))
    image, style = look(p, h)
    elements = [{**e, "box": tilted(e["box"], style["angle"], p.w, h)} for e in p.elements]
    texts = [
        t for e in elements for t in (e["text"].split("  ") if e["kind"] == "nav" else [e["text"]])
    ]
    truth = {
        "seed": seed, "page_kind": kind, "size": [p.w, h], "fonts": sorted(p.used),
        "elements": elements, "texts": [t for t in texts if t],
        "counts": dict(Counter(e["kind"] for e in elements)), "behaviours": p.behaviours,
        "look": style,
    }  # fmt: skip
    return GeneratedSketch(seed, image, truth)


def write(sketch: GeneratedSketch, folder: Path) -> Path:
    """Saves gen-SEED.png (or .jpg, at the page's quality) and gen-SEED.json; returns the image."""
    folder.mkdir(parents=True, exist_ok=True)
    quality = sketch.truth["look"]["jpeg_quality"]
    path = folder / f"gen-{sketch.seed}.{'jpg' if quality else 'png'}"
    sketch.image.save(path, quality=quality) if quality else sketch.image.save(path)
    (folder / f"gen-{sketch.seed}.json").write_text(json.dumps(sketch.truth, indent=1) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=100, help="first seed")
    parser.add_argument("--count", type=int, default=10, help="how many pages")
    parser.add_argument("--out", type=Path, required=True, help="folder for the pages")
    parser.add_argument("--kind", choices=PAGE_KINDS, help="one page kind for all (default: mixed)")
    args = parser.parse_args(argv)
    for seed in range(args.seed, args.seed + args.count):
        sketch = generate(seed, args.kind)
        print(seed, sketch.truth["page_kind"], write(sketch, args.out))


if __name__ == "__main__":
    main()
