"""Render an HTML page in offline headless Chromium: screenshot, visible elements, clicks."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant_app.core.errors import ModelUnavailable, UserVisibleError
from vision.layout import Box

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Buttons are clicked through this selector's nth match; the collector reports the index.
BUTTON_SELECTOR = "button, input[type=button], input[type=submit], input[type=reset], [role=button]"
MAX_CLICKS = 12
SCREENSHOT_MAX_PX = 4000
FROZE = "the page froze: a click handler never finishes (an endless loop?)"
NOT_CLICKABLE = "the button could not be clicked (hidden, disabled or covered by something)"
# A hard stop below the per-request routing: anything the route misses goes to a closed port.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-background-networking",
)

_COLLECT_JS = r"""
() => {
  const de = document.documentElement, body = document.body || de;
  const W = Math.max(de.scrollWidth, body.scrollWidth, innerWidth);
  const H = Math.max(de.scrollHeight, body.scrollHeight, innerHeight);
  const sx = scrollX, sy = scrollY, consumed = new Set(), out = [];
  const buttons = [...document.querySelectorAll(__BUTTONS__)];
  const SKIP = /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE|OPTION|BR|HEAD|TITLE|META|LINK)$/;
  const CONTROL = "input,button,select,textarea,img,svg,canvas,video,[role=button],[role=img]";
  const TEXT_INPUT = /^(|text|email|password|number|search|tel|url|date|time|datetime-local)$/;
  const consumeAll = (el) => el.querySelectorAll("*").forEach((c) => consumed.add(c));
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim();
  const linkRow = (el) => {
    if (/^(P|SPAN|A|BODY|HTML)$/.test(el.tagName)) return false;
    const links = [...el.querySelectorAll("a")];
    // Links side by side as menus are written (<a>s, <li>s holding them); not one per layout cell.
    const holders = [...el.children].filter((c) => c.tagName === "A" ||
      (c.tagName === "LI" && c.querySelector("a")));
    if (links.length < 3 || holders.length < 3) return false;
    const rs = links.map((a) => a.getBoundingClientRect()).filter((r) => r.height > 0);
    return rs.length >= 3 && rs.every((r) => Math.abs(r.top - rs[0].top) < Math.max(r.height, 8));
  };
  const kindOf = (el) => {
    const t = el.tagName.toLowerCase(), role = el.getAttribute("role");
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (/^h[1-6]$/.test(t) || role === "heading") return "heading";
    if (el.matches(__BUTTONS__)) return "button";
    if (t === "input" && (type === "checkbox" || type === "radio")) return "checkbox";
    if ((t === "input" && TEXT_INPUT.test(type)) || t === "select") return "input";
    if (t === "textarea") return "textarea";
    if (/^(img|svg|canvas|video)$/.test(t) || role === "img") return "image";
    if (t === "nav" || role === "navigation" || linkRow(el)) return "nav";
    if (getComputedStyle(el).backgroundImage.includes("url(")) return "image";
    if (t === "a" && el.hasAttribute("href") && !el.closest("nav")) return "link";
    const own = [...el.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    return own ? "text" : null;
  };
  const inlineText = (el, rects) => {
    let s = "";
    for (const c of el.childNodes) {
      if (c.nodeType === 3 && c.textContent.trim()) {
        const r = document.createRange(); r.selectNodeContents(c);
        rects.push(r.getBoundingClientRect()); s += c.textContent;
      } else if (c.nodeType === 1 && !SKIP.test(c.tagName) && !c.matches(CONTROL)) {
        if (!getComputedStyle(c).display.startsWith("inline")) continue;
        consumed.add(c); consumeAll(c); rects.push(c.getBoundingClientRect());
        s += c.innerText || c.textContent || "";
      }
    }
    return s;
  };
  const union = (rs) => {
    rs = rs.filter((r) => r.width > 0 && r.height > 0);
    if (!rs.length) return null;
    const l = Math.min(...rs.map((r) => r.left)), t = Math.min(...rs.map((r) => r.top));
    const ri = Math.max(...rs.map((r) => r.right)), b = Math.max(...rs.map((r) => r.bottom));
    return {left: l, top: t, right: ri, bottom: b, width: ri - l, height: b - t};
  };
  const shown = (el, r) => {
    if (!r || r.width < 1 || r.height < 1) return false;
    const vis = {opacityProperty: true, visibilityProperty: true};
    if (el.checkVisibility && !el.checkVisibility(vis)) return false;
    if (r.right + sx <= 0 || r.bottom + sy <= 0) return false;
    for (let a = el.parentElement; a && a !== body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (!/hidden|clip/.test(cs.overflowX + cs.overflowY)) continue;
      const ar = a.getBoundingClientRect();
      const w = Math.min(r.right, ar.right) - Math.max(r.left, ar.left);
      const h = Math.min(r.bottom, ar.bottom) - Math.max(r.top, ar.top);
      if (w < 1 || h < 1) return false;
    }
    return true;
  };
  const labelOf = (el) => clean(el.labels && el.labels[0] ? el.labels[0].innerText : "");
  for (const el of body.querySelectorAll("*")) {
    if (consumed.has(el) || SKIP.test(el.tagName)) continue;
    if (el.tagName === "LABEL" && el.control && el.control.matches("input,textarea,select")) {
      el.querySelectorAll("*").forEach((c) => c.matches(CONTROL) || consumed.add(c));
      continue;  // its text is its control's
    }
    const kind = kindOf(el);
    if (!kind) continue;
    let text = "", rect = el.getBoundingClientRect();
    if (kind === "text") {
      const rects = []; text = inlineText(el, rects); rect = union(rects) || rect;
    } else if (kind === "input" || kind === "textarea") {
      const opt = el.selectedOptions && el.selectedOptions[0];
      text = opt ? opt.text : labelOf(el) || el.placeholder || el.value;
    } else if (kind === "checkbox") {
      text = labelOf(el);
      if (el.labels) for (const l of el.labels) { consumed.add(l); consumeAll(l); }
    } else if (kind === "image") {
      text = el.getAttribute("alt") || el.getAttribute("aria-label") || ""; consumeAll(el);
    } else if (kind === "nav") {
      const items = [...el.querySelectorAll("a, button, li")].filter((c) => !c.querySelector("a"));
      text = items.map((c) => clean(c.innerText)).filter(Boolean).join("  "); consumeAll(el);
    } else {
      text = el.innerText || el.value || el.getAttribute("aria-label") || ""; consumeAll(el);
    }
    if (kind === "heading") { const r = document.createRange(); r.selectNodeContents(el);
      rect = union([r.getBoundingClientRect()]) || rect; }
    out.push({kind, text: kind === "nav" ? text : clean(text), tag: el.tagName.toLowerCase(),
      visible: shown(el, rect), ref: kind === "button" ? buttons.indexOf(el) : -1,
      box: [(rect.left + sx) / W, (rect.top + sy) / H, (rect.right + sx) / W,
            (rect.bottom + sy) / H]});
  }
  return {width: W, height: H, elements: out};
}
""".replace("__BUTTONS__", json.dumps(BUTTON_SELECTOR))

# Resets the mutation counter and remembers the state a click is compared against.
_SNAPSHOT_JS = r"""
() => {
  if (!window.__pcObs) {
    window.__pcObs = new MutationObserver((ms) => { window.__pcMut += ms.length; });
    window.__pcObs.observe(document, {subtree: true, childList: true, attributes: true,
                                      characterData: true});
  }
  window.__pcMut = 0;
  window.__pcState = window.__pcRead();
  return document.body.innerText;
}
"""
_READ_JS = r"""
window.__pcRead = () => document.body.innerText + "\u0000" +
  [...document.querySelectorAll("input,textarea,select")]
    .map((e) => (e.type === "checkbox" || e.type === "radio") ? String(e.checked) : e.value)
    .join("\u0001");
"""
_CHANGED_JS = "() => (window.__pcMut || 0) > 0 || window.__pcRead() !== window.__pcState"
_FILL_JS = r"""
(values) => {
  let n = 0;
  for (const e of document.querySelectorAll("input, textarea")) {
    const t = (e.type || "text").toLowerCase();
    if (e.value || e.disabled || e.readOnly || !(t in values)) continue;
    e.value = values[t]; n++;
    e.dispatchEvent(new Event("input", {bubbles: true}));
    e.dispatchEvent(new Event("change", {bubbles: true}));
  }
  return n;
}
"""
# Plausible values typed into empty fields before a click, so "Add" has something to add.
FILL_VALUES = {
    "text": "Buy milk", "search": "milk", "email": "test@example.com", "password": "Secret123!",
    "number": "3", "tel": "5551234", "url": "https://example.org", "date": "2024-05-01",
    "textarea": "Hello there",
}  # fmt: skip


@dataclass(frozen=True)
class RenderedElement:
    """One element of the rendered page, classified into a layout kind (see vision.layout.KINDS).
    `box` is normalised to the full page; `ref` is the button's index for clicking, else -1."""

    kind: str
    text: str
    box: Box
    visible: bool
    tag: str
    ref: int = -1


@dataclass(frozen=True)
class ClickResult:
    """What clicking one button did: `changed` says the page reacted; `new_text` lists visible
    lines that were not there before; `error` is empty or says why the click failed."""

    element: int  # index into RenderedPage.elements
    label: str
    changed: bool
    new_text: tuple[str, ...] = ()
    reloaded: bool = False
    error: str = ""
    again: bool = False  # a second click, after the other buttons (see _click_all)


@dataclass(frozen=True)
class RenderedPage:
    """The outcome of rendering one page. `failure` is empty when it loaded and could be read."""

    screenshot_png: bytes
    text: str
    elements: tuple[RenderedElement, ...]
    width_px: int
    height_px: int
    console_errors: tuple[str, ...]
    page_errors: tuple[str, ...]
    blocked_requests: tuple[str, ...]
    clicks: tuple[ClickResult, ...] = ()
    failure: str = ""
    seconds: float = 0.0


class PageHung(Exception):
    """A page script did not return in time (typically an endless loop)."""


def find_browser() -> str:
    """The path of an installed Chromium or Chrome; raises ModelUnavailable with the fix."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise ModelUnavailable(
        "chromium", "no Chromium or Chrome browser found to render pages",
        looked_in=f"PATH for {', '.join(BROWSERS)}",
        fix="install chromium: apt-get install chromium",
    )  # fmt: skip


class PageRenderer:
    """One headless Chromium, reused for many pages; each page gets a fresh, offline context.
    Use as a context manager or call close(). Playwright's sync API allows one per thread at a
    time, used from the thread that made it."""

    def __init__(
        self, *, width: int = 1280, height: int = 800, timeout_s: float = 20.0, browser: str = ""
    ) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise ModelUnavailable(
                "playwright", "the package that drives Chromium is not installed",
                fix="pip install playwright (it uses the system chromium; no 'playwright install')",
            ) from exc  # fmt: skip
        path = browser or find_browser()
        self.width, self.height, self.timeout_s = width, height, timeout_s
        self._dir = tempfile.TemporaryDirectory(prefix="page-check-")
        self._count = 0
        started = time.monotonic()
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=path, headless=True, args=list(LAUNCH_ARGS), timeout=30_000
            )
        except Exception as exc:
            self._pw.stop()
            raise UserVisibleError(
                f"Could not start the browser at {path}: {str(exc).splitlines()[0]}. "
                "Fix: install chromium: apt-get install chromium"
            ) from exc
        self.launch_s = time.monotonic() - started
        log.info("Chromium %s started in %.2f s", self._browser.version, self.launch_s)

    def __enter__(self) -> PageRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the browser and removes the temporary page files."""
        if self._pw is None:
            return
        try:
            self._browser.close()
        finally:
            self._pw.stop()
            self._pw = None
            self._dir.cleanup()

    def render(self, html: str, *, click_buttons: bool = True) -> RenderedPage:
        """Loads `html` as a local file with every other request blocked, screenshots the full
        page, reads its elements and, if asked, clicks each visible button once."""
        self._count += 1
        path = Path(self._dir.name) / f"page-{self._count}.html"
        path.write_text(html, encoding="utf-8")
        url = path.as_uri()
        started = time.monotonic()
        ctx = self._browser.new_context(
            viewport={"width": self.width, "height": self.height}, service_workers="block"
        )
        blocked: list[str] = []
        console: list[str] = []
        errors: list[str] = []

        def route(r) -> None:
            if r.request.url.split("#")[0].split("?")[0] == url or r.request.url.startswith(
                ("data:", "blob:")
            ):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort("blockedbyclient")

        ctx.route("**/*", route)
        ctx.route_web_socket("**/*", lambda ws: blocked.append(ws.url) or ws.close())
        page = ctx.new_page()
        page.on("console", lambda m: m.type == "error" and console.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(_READ_JS)
        try:
            shot, data, clicks, failure = self._inspect(ctx, page, url, click_buttons)
        finally:
            ctx.close()
        return RenderedPage(
            screenshot_png=shot, text=_visible_text(data), elements=_elements(data),
            width_px=int(data.get("width", 0)), height_px=int(data.get("height", 0)),
            console_errors=tuple(c for c in console if "ERR_BLOCKED_BY_CLIENT" not in c),
            page_errors=tuple(errors), blocked_requests=tuple(dict.fromkeys(blocked)),
            clicks=clicks, failure=failure, seconds=time.monotonic() - started,
        )  # fmt: skip

    def _inspect(self, ctx, page, url: str, click_buttons: bool):
        cdp = ctx.new_cdp_session(page)
        timeout_ms = self.timeout_s * 1000
        failure = ""
        try:
            page.goto(url, wait_until="load", timeout=timeout_ms / 4)
        except Exception as exc:  # playwright's TimeoutError or a crashed page
            cdp.send("Runtime.terminateExecution")
            failure = (
                f"the page did not finish loading within {self.timeout_s / 4:.0f} s: a script "
                "never finishes (an endless loop?)"
            )
            log.info("page load failed: %s", str(exc).splitlines()[0])
        try:
            data = self._eval(page, cdp, _COLLECT_JS)
            clip = {"x": 0, "y": 0, "width": max(1, min(int(data["width"]), 4 * self.width)),
                    "height": max(1, min(int(data["height"]), SCREENSHOT_MAX_PX))}  # fmt: skip
            shot = page.screenshot(clip=clip, full_page=True, timeout=timeout_ms / 4)
        except PageHung:
            return b"", {}, (), failure or "a page script never finishes (an endless loop?)"
        except Exception as exc:  # a crashed renderer or a page that navigated away
            log.info("reading the page failed: %s", exc)
            return b"", {}, (), failure or f"the page could not be read: {str(exc)[:200]}"
        elements = _elements(data)
        clicks: tuple[ClickResult, ...] = ()
        if click_buttons and not failure:
            clicks = self._click_all(page, cdp, elements)
        return shot, data, clicks, failure

    def _eval(self, page, cdp, script: str, arg: object = None, timeout_ms: float = 3000) -> object:
        """Runs `script` in the page with a deadline (page.evaluate has none); on a hang it stops
        the running script and raises PageHung."""
        wrapped = f"(a) => JSON.stringify({{v: ({script})(a)}})"
        try:
            handle = page.wait_for_function(wrapped, arg=arg, timeout=timeout_ms)
            return json.loads(handle.json_value())["v"]
        except Exception as exc:
            if "Timeout" not in type(exc).__name__ + str(exc)[:40]:
                raise
            cdp.send("Runtime.terminateExecution")
            raise PageHung(script[:40]) from exc

    def _click_all(
        self, page, cdp, elements: tuple[RenderedElement, ...]
    ) -> tuple[ClickResult, ...]:
        results: list[ClickResult] = []
        buttons = [(i, el) for i, el in enumerate(elements) if el.kind == "button" and el.ref >= 0]
        for i, el in (b for b in buttons if b[1].visible and len(results) < MAX_CLICKS):
            results.append(self._click(page, cdp, i, el))
            if results[-1].error == FROZE:
                return tuple(results)
        # Buttons whose first click showed nothing new get a second, after the others (the tab
        # already open). The checker judges first clicks only: a reveal that first hides is broken.
        again = {r.element for r in results if not r.new_text and not r.error}
        for i, el in buttons:
            if i in again and len(results) < 2 * MAX_CLICKS:
                results.append(dataclasses.replace(self._click(page, cdp, i, el), again=True))
                if results[-1].error == FROZE:
                    break
        return tuple(results)

    def _click(self, page, cdp, index: int, el: RenderedElement) -> ClickResult:
        navigations: list[object] = []
        listener = lambda frame: frame == page.main_frame and navigations.append(frame)  # noqa: E731
        page.on("framenavigated", listener)
        try:
            self._eval(page, cdp, _FILL_JS, FILL_VALUES)
            before = self._eval(page, cdp, _SNAPSHOT_JS)
            page.locator(BUTTON_SELECTOR).nth(el.ref).click(timeout=2000)
            try:
                page.wait_for_function(_CHANGED_JS, timeout=1000, polling=50)
                changed = True
                page.wait_for_timeout(150)  # let a reveal or an animation finish
            except Exception:
                changed = False
            after = self._eval(page, cdp, "() => document.body.innerText")
        except PageHung:
            return ClickResult(index, el.text, False, error=FROZE)
        except Exception as exc:  # the click timed out: a hung handler, or a hidden button
            log.info("click on %r failed: %s", el.text, str(exc).splitlines()[0])
            try:
                self._eval(page, cdp, "() => 1", timeout_ms=1000)
            except PageHung:
                return ClickResult(index, el.text, False, error=FROZE)
            return ClickResult(index, el.text, False, error=NOT_CLICKABLE)
        finally:
            page.remove_listener("framenavigated", listener)
        if navigations:  # a form submit reloaded the page: only a different text counts
            changed = after != before
        old = {line.strip() for line in before.splitlines()}
        new = tuple(t for t in (line.strip() for line in after.splitlines()) if t and t not in old)
        return ClickResult(index, el.text, changed, new, reloaded=bool(navigations))


def render_page(
    html: str, *, width: int = 1280, height: int = 800, timeout_s: float = 20.0
) -> RenderedPage:
    """Renders one page with a browser started for it; use PageRenderer for several pages."""
    with PageRenderer(width=width, height=height, timeout_s=timeout_s) as renderer:
        return renderer.render(html)


def _elements(data: dict) -> tuple[RenderedElement, ...]:
    return tuple(
        RenderedElement(e["kind"], e["text"], Box(*e["box"]), e["visible"], e["tag"], e["ref"])
        for e in data.get("elements", ())
    )


def _visible_text(data: dict) -> str:
    return "\n".join(e["text"] for e in data.get("elements", ()) if e["visible"] and e["text"])
