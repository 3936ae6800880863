"""What a sketch shows, as data: elements with a kind, text and normalised box, in rows."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

# The element kinds the reader reports and the checker counts on a rendered page.
KINDS = (
    "heading", "text", "button", "link", "input", "textarea", "checkbox", "image", "nav", "box",
)  # fmt: skip


@dataclass(frozen=True)
class Box:
    """A rectangle in fractions of the image (0..1), top-left origin."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def overlap(self, other: Box) -> float:
        """Intersection over union."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        inter = max(0.0, w) * max(0.0, h)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Element:
    """One thing on the page: `kind` is one of KINDS; `text` is its label or content
    (a nav element's text is its items joined by two spaces)."""

    kind: str
    text: str
    box: Box

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown element kind {self.kind!r}; kinds: {', '.join(KINDS)}")


@dataclass(frozen=True)
class SketchLayout:
    """The elements of one sketch, top to bottom, grouped into rows (side-by-side elements
    share a row; each row lists element indices left to right)."""

    elements: tuple[Element, ...]
    rows: tuple[tuple[int, ...], ...] = field(default=())
    aspect: float = 0.0  # the sketch's width / height (0: unknown), for pictures' proportions

    @classmethod
    def from_elements(
        cls, elements: list[Element] | tuple[Element, ...], aspect: float = 0.0
    ) -> SketchLayout:
        """Sorts elements top to bottom and groups those whose vertical spans overlap by half
        of the smaller one into rows."""
        ordered = sorted(elements, key=lambda e: (e.box.cy, e.box.cx))
        rows: list[list[int]] = []
        for i, element in enumerate(ordered):
            if rows and same_row(ordered[rows[-1][0]].box, element.box):
                rows[-1].append(i)
            else:
                rows.append([i])
        grouped = tuple(tuple(sorted(r, key=lambda i: ordered[i].box.cx)) for r in rows)
        return cls(tuple(ordered), grouped, aspect)

    def texts(self) -> list[str]:
        """Every sketched string (nav items one by one)."""
        out = []
        for e in self.elements:
            parts = e.text.split("  ") if e.kind == "nav" else [e.text]
            out += [p.strip() for p in parts if p.strip()]
        return out

    def counts(self) -> dict[str, int]:
        return dict(Counter(e.kind for e in self.elements))

    def describe(self) -> str:
        """A plain-text description for the page-writing model, one line per row."""
        lines = []
        for n, row in enumerate(self.rows, 1):
            items = []
            for i in row:
                e = self.elements[i]
                where = f"x {e.box.x0:.2f}-{e.box.x1:.2f}"
                items.append(f'{e.kind} "{e.text}" ({where})' if e.text else f"{e.kind} ({where})")
            lines.append(f"row {n}: " + "; ".join(items))
        return "\n".join(lines)

    def to_json(self) -> str:
        elements = [asdict(e) for e in self.elements]
        return json.dumps({"elements": elements, "aspect": self.aspect}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> SketchLayout:
        data = json.loads(text)
        return cls.from_elements(
            [Element(e["kind"], e["text"], Box(**e["box"])) for e in data["elements"]],
            data.get("aspect", 0.0),
        )


def same_row(a: Box, b: Box) -> bool:
    """Side by side: their vertical spans overlap by half of the smaller one."""
    shared = min(a.y1, b.y1) - max(a.y0, b.y0)
    return shared > 0.5 * min(a.height, b.height)


Node = int | tuple[str, list["Node"]]  # an element index, or ("row" | "col", children)


def structure(layout: SketchLayout, members: list[int]) -> Node:
    """Rows and columns of `members` by recursive XY cuts: split where a horizontal gap runs
    across them all (a column of bands), else where a vertical gap does (a row of columns);
    elements that overlap both ways fall back to rows of vertical-span overlap."""
    els = layout.elements
    if len(members) == 1:
        return members[0]
    for axis, kind in ((1, "col"), (0, "row")):
        groups = _split(members, [_edges(els[i].box, axis) for i in members])
        if len(groups) > 1:
            return (kind, [structure(layout, g) for g in groups])
    kept = [[i for i in r if i in members] for r in rows_of(layout, [-1] * len(els))]
    return ("col", [r[0] if len(r) == 1 else ("row", list(r)) for r in kept if r])


def _split(members: list[int], spans: list[tuple[float, float]]) -> list[list[int]]:
    """Members grouped where a gap runs between their spans (sorted by span start)."""
    order = sorted(range(len(members)), key=lambda k: spans[k])
    groups: list[list[int]] = []
    end = -1.0
    for k in order:
        start, stop = spans[k]
        if groups and start < end - 0.004:  # a hand-drawn overlap of a few pixels is a gap
            groups[-1].append(members[k])
            end = max(end, stop)
        else:
            groups.append([members[k]])
            end = stop
    return groups


def _edges(box, axis: int) -> tuple[float, float]:  # noqa: ANN001
    return (box.x0, box.x1) if axis == 0 else (box.y0, box.y1)


def span(layout: SketchLayout, node: Node) -> tuple[float, float]:
    """The horizontal extent of a node."""
    if isinstance(node, int):
        b = layout.elements[node].box
        return b.x0, b.x1
    spans = [span(layout, c) for c in node[1]]
    return min(s[0] for s in spans), max(s[1] for s in spans)


def rows_of(
    layout: SketchLayout, parent: list[int], container: int | None = None
) -> list[list[int]]:
    """The element indices of one container (all of them when None), grouped into rows."""
    els = layout.elements
    members = [i for i in range(len(els)) if container is None or parent[i] == container]
    rows: list[list[int]] = []
    for i in sorted(members, key=lambda i: (els[i].box.cy, els[i].box.cx)):
        if rows and same_row(els[rows[-1][0]].box, els[i].box):
            rows[-1].append(i)
        else:
            rows.append([i])
    return [sorted(r, key=lambda i: els[i].box.cx) for r in rows]
