"""What each button of a sketch does, decided from its label, its row and its container: the
page builder wires them, the model writer is told them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vision.layout import Element, SketchLayout, rows_of, same_row

# Button label -> role (first match wins). "tab" is decided by the row, not the label.
ROLE_PATTERNS = (
    ("reveal", r"reveal|show|punchline|answer|spoiler|more|details|expand|read"),
    ("add", r"\badd\b|new item|\+"),
    ("submit", r"submit|sign ?up|log ?in|sign ?in|send|register|subscribe|save|join|search|go\b"),
    ("clear", r"clear|reset|delete|remove"),
)
# The first words of the labels that give a button something to do: the OCR reads a line's
# first word as one of these when the recogniser saw it nearly as well as the usual word it
# read ("Las in" -> "Log in", "Road more" -> "Read more"; vision/ocr_lexicon.py).
ACTION_WORDS = (
    "add", "answer", "clear", "delete", "details", "expand", "go", "join", "log", "more",
    "read", "register", "remove", "reset", "reveal", "save", "search", "send", "show", "sign",
    "submit", "subscribe",
)  # fmt: skip
TAB_LABEL_MAX = 14  # a row of short buttons with no submit among them is a row of tabs
SEARCH = r"search|find|look ?up"  # a button that searches the page for the field beside it


@dataclass(frozen=True)
class Role:
    """What one button does: `kind` is reveal, add, submit, search, clear, tab or message;
    `name` is the id stem every element it acts on shares (its own id is name + "-button")."""

    kind: str
    name: str
    tabs: tuple[int, ...] = ()  # for a tab: every tab of its row, in order (element indices)
    fields: tuple[int, ...] = ()  # inputs it reads (add, search: the one; submit: its form's)


def parents(layout: SketchLayout) -> list[int]:
    """Each element's container: the smallest drawn box holding most of it, or -1 (the page)."""
    out = []
    for i, e in enumerate(layout.elements):
        holders = [
            j
            for j, b in enumerate(layout.elements)
            if j != i and b.kind == "box" and b.box.area > e.box.area and _holds(b, e)
        ]
        out.append(min(holders, key=lambda j: layout.elements[j].box.area, default=-1))
    return out


def roles(layout: SketchLayout) -> dict[int, Role]:
    """Element index -> Role for every button, from its label, its row and its container."""
    els, parent = layout.elements, parents(layout)
    names = unique_names(
        [(i, e.text) for i, e in enumerate(els) if e.kind == "button"], suffix="button"
    )
    out: dict[int, Role] = {}
    rows = [r for c in {-1, *parent} for r in rows_of(layout, parent, c)]
    for row in rows:
        buttons = [i for i in row if els[i].kind == "button"]
        labels = [els[i].text for i in buttons]
        if (
            len(buttons) >= 2
            and len(buttons) == len(row)
            and all(len(t) <= TAB_LABEL_MAX for t in labels)
            and not any(_role_of(t) in ("submit", "add") for t in labels)
            and len({t.lower() for t in labels}) == len(labels)
        ):
            for i in buttons:
                out[i] = Role("tab", names[i], tabs=tuple(buttons))
    for i, e in enumerate(els):
        if e.kind != "button" or i in out:
            continue
        kind = _role_of(e.text)
        fields: tuple[int, ...] = ()
        finds = kind in ("submit", "message") and re.search(SEARCH, e.text, re.I)
        near = _nearest_input(layout, parent, i) if kind in ("add", "submit") or finds else -1
        if kind == "add":
            kind, fields = ("add", (near,)) if near >= 0 else ("message", ())
        elif finds and near >= 0:
            kind, fields = "search", (near,)  # "Search" or "Find" beside a field
        elif kind == "submit":
            fields = tuple(
                j
                for j, f in enumerate(els)
                if f.kind in ("input", "textarea") and _within(parent, j, parent[i])
            )
        out[i] = Role(kind, names[i], fields=fields)
    return out


def _holds(outer: Element, inner: Element) -> bool:
    a, b = outer.box, inner.box
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return b.area > 0 and max(0.0, w) * max(0.0, h) >= 0.8 * b.area


def _within(parent: list[int], i: int, container: int) -> bool:
    """Whether element `i` lies in `container` (-1: the page, which holds everything)."""
    while i >= 0:
        if parent[i] == container:
            return True
        i = parent[i]
    return container == -1


def _nearest_input(layout: SketchLayout, parent: list[int], button: int) -> int:
    """The input an "Add" or "Search" button reads: one in its row, else the closest one
    above it in its container; -1 when there is none."""
    els, b = layout.elements, layout.elements[button].box
    fields = [j for j, e in enumerate(els) if e.kind in ("input", "textarea")]
    beside = [j for j in fields if same_row(els[j].box, b)]
    above = [j for j in fields if parent[j] == parent[button] and els[j].box.cy < b.cy]
    for group in (beside, above):
        if group:
            return min(group, key=lambda j: abs(els[j].box.cy - b.cy) + abs(els[j].box.cx - b.cx))
    return -1


def _role_of(label: str) -> str:
    return next((k for k, p in ROLE_PATTERNS if re.search(p, label, re.I)), "message")


def unique_names(items: list[tuple[int, str]], suffix: str) -> dict[int, str]:
    """Index -> a name from its text ("reveal-punchline"), unique among `items`: a second
    one gets "-2"; a text with no letters or digits is named `suffix`."""
    taken: set[str] = set()
    out = {}
    for i, text in items:
        stem = slug(text) or suffix
        name = next(
            c for n in range(1, 999) if (c := stem if n == 1 else f"{stem}-{n}") not in taken
        )
        taken.add(name)
        out[i] = name
    return out


def slug(text: str) -> str:
    """`text` as an id: lower case, dashes between words, at most 24 characters."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24].strip("-")
