"""A page built from a sketch's layout: its structure, texts and behaviour, without a model.

The reader's layout decides the markup: what is drawn inside a box goes inside it, elements side
by side stay side by side (a flex row; boxes side by side a grid of equal columns), every read
string is put on the page verbatim (escaped) and each button is wired from its label with a
script assembled from tested snippets, on ids the builder itself gives out. The words a sketch
implies but does not show (a punchline behind "Reveal", a second tab's content, a thank-you)
come from `Fillers`: a model's lines when there are some, else plain ones written here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from vision.layout import Element, Node, SketchLayout, span, structure
from vision.page_roles import Role, parents, roles, slug, unique_names
from vision.page_writer import HOUSE_STYLE

FIXED_WIDTH = ("button", "checkbox", "link")  # kinds that keep their own width in a row
INPUT_TYPES = (
    (r"e-?mail", "email"), (r"password|passcode|pin\b", "password"), (r"phone|tel", "tel"),
    (r"search|find", "search"), (r"\bage\b|number|qty|quantity|amount", "number"),
    (r"date|birthday", "date"), (r"website|url", "url"),
)  # fmt: skip


@dataclass
class Fillers:
    """Words the sketch implies: revealed text, tab panels and messages, by button name.
    Missing entries get plain defaults."""

    by_name: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str) -> str:
        text = " ".join(self.by_name.get(name, "").split())
        return text or default


def nearby_text(layout: SketchLayout, button: int) -> str:
    """The nearest text above a button (a question, a card's title), or ""."""
    els, b = layout.elements, layout.elements[button].box
    above = [e for e in els if e.kind in ("text", "heading") and e.box.cy < b.cy and e.text]
    if not above:
        return ""
    return min(above, key=lambda e: (b.cy - e.box.cy) + 0.5 * abs(e.box.cx - b.cx)).text


def build_page(layout: SketchLayout, fillers: Fillers | None = None) -> str:
    """The whole HTML document for `layout` (house stylesheet inlined, no external URL)."""
    fill = fillers or Fillers()
    parent, plan = parents(layout), roles(layout)
    ids = unique_names(
        [(i, e.text or e.kind) for i, e in enumerate(layout.elements) if e.kind != "button"],
        suffix="field",
    )
    ids = {i: f"f-{name}" for i, name in ids.items()}
    writer = _Writer(layout, parent, plan, ids, fill)
    body = writer.container(-1)
    heading = next((e.text for e in layout.elements if e.kind == "heading"), "Page")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(heading)}</title>\n{HOUSE_STYLE}\n</head>\n<body>\n{body}"
        f"<script>\n{writer.script()}</script>\n</body>\n</html>\n"
    )


class _Writer:
    """Writes the markup of one layout and collects the script its buttons need."""

    def __init__(self, layout, parent, plan, ids, fill) -> None:  # noqa: ANN001
        self.els: tuple[Element, ...] = layout.elements
        self.layout, self.parent, self.plan, self.ids, self.fill = layout, parent, plan, ids, fill
        self.handlers: list[str] = []
        self.tabs_written: set[int] = set()
        self.shown = set(layout.texts())  # texts on the page: what a button shows is new
        self.headings = 0

    def container(self, index: int) -> str:
        """The markup of everything drawn directly in box `index` (-1: the page)."""
        members = [i for i, p in enumerate(self.parent) if p == index]
        return self.node(structure(self.layout, members)) if members else ""

    def node(self, node: Node) -> str:
        if isinstance(node, int):
            return self.element(node) + self.after(node)
        kind, children = node
        if kind == "row":
            return self.row(children)
        out, n = [], 0
        while n < len(children):  # a column: children top to bottom
            child = children[n]
            tabs = self._tabs(child)
            if tabs:
                nxt = children[n + 1] if n + 1 < len(children) else None
                under = nxt if isinstance(nxt, int) and self.els[nxt].kind == "box" else -1
                out.append(self.tab_row(tabs, under))
                n += 2 if under >= 0 else 1
                continue
            out.append(self.node(child))
            n += 1
        return "".join(out)

    def row(self, children: list[Node]) -> str:
        """Side by side: boxes as a grid of equal columns, anything else as a flex row whose
        cells share the width as the sketch does; what a button adds goes under the row."""
        leaves = [c for c in children if isinstance(c, int)]
        items = [self.element(c) if isinstance(c, int) else self.node(c) for c in children]
        after = "".join(self.after(i) for i in leaves)
        if len(leaves) == len(children) >= 2 and all(self.els[i].kind == "box" for i in leaves):
            grid = f'<div class="grid" style="--cols: {len(children)}">\n'
            return f"{grid}{''.join(items)}</div>\n{after}"
        spans = [span(self.layout, c) for c in children]
        total = sum(x1 - x0 for x0, x1 in spans) or 1.0
        cells = []
        for child, item, (x0, x1) in zip(children, items, spans, strict=True):
            fixed = isinstance(child, int) and self.els[child].kind in FIXED_WIDTH
            share = max(1, round(100 * (x1 - x0) / total))
            style = "flex: 0 0 auto" if fixed else f"flex: {share} 1 0"
            cells.append(f'<div class="cell" style="{style}">\n{item}</div>\n')
        return f'<div class="row">\n{"".join(cells)}</div>\n{after}'

    def _tabs(self, node: Node) -> list[int]:
        """The tab buttons a row node consists of, or []."""
        if isinstance(node, int) or node[0] != "row":
            return []
        kids = node[1]
        if not all(isinstance(k, int) for k in kids):
            return []
        role = self.plan.get(kids[0])  # type: ignore[arg-type]
        if role is None or role.kind != "tab" or sorted(role.tabs) != sorted(kids):
            return []
        return list(role.tabs)

    def element(self, i: int) -> str:
        e, name = self.els[i], self.ids.get(i, "")
        text = _esc(e.text)
        if e.kind == "heading":
            self.headings += 1
            tag = "h1" if self.headings == 1 else "h2"
            return f"<{tag}>{text}</{tag}>\n"
        if e.kind == "text":
            return f"<p>{text}</p>\n"
        if e.kind == "link":
            return f'<p class="link"><a href="#{name}">{text}</a></p>\n'
        if e.kind == "button":
            role = self.plan[i]
            if role.kind == "tab" and i not in self.tabs_written:
                # Tabs not laid out as one row above their panels: each shows a message.
                role = self.plan[i] = Role("message", role.name)
            self.handlers.append(self.handler(i, role))
            return f'<button type="button" id="{role.name}-button">{text}</button>\n'
        if e.kind in ("input", "textarea"):
            label = f'<label for="{name}">{text}</label>\n' if text else ""
            if e.kind == "textarea":
                return f'{label}<textarea id="{name}" name="{name}" required></textarea>\n'
            kind = next((t for p, t in INPUT_TYPES if re.search(p, e.text, re.I)), "text")
            aria = "" if text else f' aria-label="{_esc(name)}"'
            return f'{label}<input id="{name}" name="{name}" type="{kind}"{aria} required>\n'
        if e.kind == "checkbox":
            return f'<label class="check"><input type="checkbox" id="{name}"> {text}</label>\n'
        if e.kind == "image":
            aspect = self.layout.aspect or 4 / 3
            ratio = max(0.3, min(3.0, aspect * e.box.width / max(e.box.height, 0.01)))
            style = f"aspect-ratio: {ratio:.2f}"
            return f'<div role="img" aria-label="{text or "picture"}" style="{style}"></div>\n'
        if e.kind == "nav":
            links = "".join(
                f'<a href="#{slug(item)}">{_esc(item)}</a>'
                for item in e.text.split("  ")
                if item.strip()
            )
            return f"<nav>{links}</nav>\n"
        return f'<div class="box">\n{self.container(i)}</div>\n'  # box

    def after(self, i: int) -> str:
        """What a button adds below its row: the hidden text, the list, the message line."""
        role = self.plan.get(i)
        if role is None or role.kind == "tab":
            return ""
        if role.kind == "reveal":
            about = nearby_text(self.layout, i) or self.els[i].text
            words = self.words(i, f"More about “{about}” will be here.")
            return f'<p id="{role.name}-text" hidden>{_esc(words)}</p>\n'
        if role.kind == "add":
            return f'<ul id="{role.name}-list"></ul>\n'
        return f'<p id="{role.name}-result" role="status"></p>\n'

    def tab_row(self, row: list[int], under: int) -> str:
        """The tab buttons, then one panel per tab; `under` (a box index, or -1) is the first."""
        self.tabs_written.update(row)
        out = f'<div class="row tabs">\n{"".join(self.element(i) for i in row)}</div>\n'
        for n, i in enumerate(row):
            name = self.plan[i].name
            if n == 0 and under >= 0:
                inner = self.container(under)
            else:
                label = self.els[i].text
                inner = f"<p>{_esc(self.words(i, f'This is the {label} tab.'))}</p>\n"
            hidden = " hidden" if n else ""
            out += f'<div class="box panel" id="{name}-panel"{hidden}>\n{inner}</div>\n'
        return out

    def handler(self, i: int, role: Role) -> str:
        b = f"$('{role.name}-button')"
        if role.kind == "reveal":
            return (
                f"{b}.addEventListener('click', () => {{ $('{role.name}-text').hidden = false; }});"
            )
        if role.kind == "tab":
            panels = ", ".join(f"'{self.plan[t].name}-panel'" for t in role.tabs)
            return (
                f"{b}.addEventListener('click', () => {{ for (const p of [{panels}]) "
                f"$(p).hidden = p !== '{role.name}-panel'; }});"
            )
        if role.kind == "add":
            field = self.ids[role.fields[0]]
            return (
                f"{b}.addEventListener('click', () => {{ const input = $('{field}'); "
                "const text = input.value.trim(); if (!text) { input.focus(); return; } "
                "const li = document.createElement('li'); li.textContent = text; "
                f"$('{role.name}-list').append(li); input.value = ''; }});"
            )
        if role.kind == "clear":
            return (
                f"{b}.addEventListener('click', () => {{ document.querySelectorAll('input, "
                "textarea').forEach((f) => { f.value = ''; f.checked = false; }); "
                "document.querySelectorAll('ul').forEach((l) => l.replaceChildren()); "
                f"$('{role.name}-result').textContent = 'Cleared.'; }});"
            )
        if role.kind == "submit":
            fields = ", ".join(f"'{self.ids[f]}'" for f in role.fields)
            labels = {self.ids[f]: self.els[f].text or "this field" for f in role.fields}
            names = ", ".join(f"'{k}': '{_js(v)}'" for k, v in labels.items())
            thanks = self.words(i, "Thank you! We have received it.")
            return (
                f"{b}.addEventListener('click', (event) => {{ event.preventDefault(); "
                f"const names = {{{names}}}; const empty = [{fields}].filter((f) => "
                "!$(f).value.trim()).map((f) => names[f]); "
                f"$('{role.name}-result').textContent = empty.length ? "
                f"'Please fill in: ' + empty.join(', ') + '.' : '{_js(thanks)}'; }});"
            )
        if role.kind == "search":  # the page's own lines that hold the words typed
            field = self.ids[role.fields[0]]
            return (
                f"{b}.addEventListener('click', (event) => {{ event.preventDefault(); "
                f"const input = $('{field}'); const out = $('{role.name}-result'); "
                "const words = input.value.trim(); if (!words) { out.textContent = "
                "'Type what to search for.'; input.focus(); return; } const hits = "
                "[...document.querySelectorAll('h1, h2, h3, p, li, a, label')].filter((e) => "
                "!e.matches('[role=status]') && e.offsetParent !== null && e.textContent"
                ".toLowerCase().includes(words.toLowerCase())).map((e) => e.textContent.trim()); "
                "out.textContent = hits.length ? 'Found on this page: ' + hits.slice(0, 3)"
                ".join(' · ') : 'No results for “' + words + '”.'; });"
            )
        message = self.words(i, f"{self.els[i].text}: done.")
        return (
            f"{b}.addEventListener('click', () => {{ "
            f"$('{role.name}-result').textContent = '{_js(message)}'; }});"
        )

    def words(self, i: int, default: str) -> str:
        """The text button `i` shows: the model's, else `default`; never one another button
        shows already (a second "Choose plan" must show something new to be seen working)."""
        text = self.fill.get(self.plan[i].name, default)
        if text in self.shown:
            about = nearby_text(self.layout, i)
            tries = [f"{text} ({about})"] if about and about not in text else []
            tries += [f"{text} ({n})" for n in range(i + 1, i + 2 + len(self.shown))]
            text = next(t for t in tries if t not in self.shown)
        self.shown.add(text)
        return text

    def script(self) -> str:
        lines = ["const $ = (id) => document.getElementById(id);", *self.handlers]
        return "\n".join(lines) + "\n"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _js(text: str) -> str:
    """`text` inside a single-quoted JS string in an HTML script: no quote, backslash or tag
    can end it."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ").replace("<", "\\x3c")
