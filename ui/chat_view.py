"""The conversation view: turns, replies rendered as Markdown, code to copy, images tools made.

Nothing in a reply reaches the network or opens on its own:
- links are never followed by the view; clicking one shows its real host and asks before
  handing it to the system browser (`QDesktopServices.openUrl`);
- images load only from local files inside the attachments folder (where the python tool keeps
  its figures) and the images folder (generate_image's pictures); remote `![img](http...)`
  images, and local files anywhere else, are not loaded;
- raw HTML in a reply is not interpreted (Markdown is read with `MarkdownNoHTML`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImageReader,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QMessageBox, QTextBrowser, QWidget

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)
OPENABLE = ("http", "https", "mailto")
ERROR_STYLE = "color:#a40000"


def attached_images(result: str) -> list[Path]:
    """The images a tool result names ("attached image: PATH" lines, from the python tool)."""
    prefix = "attached image: "
    return [
        Path(line[len(prefix) :].strip()) for line in result.splitlines() if line.startswith(prefix)
    ]


def is_page(language: str, code: str) -> bool:
    """An HTML page (not a fragment of another language) that a browser can show."""
    start = code.lstrip()[:15].lower()
    return language in ("html", "htm") or start.startswith(("<!doctype html", "<html"))


def new_block(cursor: QTextCursor) -> None:
    """A paragraph with default formats: no list, quote or code style carried over."""
    if cursor.block().length() > 1:
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
    else:  # the paragraph here is empty: reuse it
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.setCharFormat(QTextCharFormat())


class ChatView(QTextBrowser):
    """Shows the conversation; the window feeds it turns, streaming text and tool results."""

    notice = Signal(str)  # something for the status line (a link not opened, code copied)
    page_requested = Signal(str)  # "Preview page" under an HTML block: the page's source

    def __init__(
        self,
        attachments_dir: Path,
        parent: QWidget | None = None,
        *,
        images_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.attachments_dir = attachments_dir
        # Folders whose images may be shown: the python tool's and generate_image's.
        self.image_dirs = (attachments_dir, images_dir or attachments_dir.parent / "images")
        self.code_blocks: list[str] = []  # "copy:N" links copy code_blocks[N]
        self.setOpenLinks(False)  # anchorClicked decides; the view never navigates
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._clicked)
        self._start: int | None = None  # where the streaming reply begins; None when idle
        self._parts: list[str] = []
        self._notes: list[str] = []  # one line per tool call, kept above the rendered reply
        self._images: list[Path] = []

    @property
    def streaming(self) -> bool:
        return self._start is not None

    def add_user(self, text: str) -> None:
        self._insert_html(f"<b>You:</b> {html.escape(text)}")

    def begin_reply(self) -> None:
        """The assistant's turn starts: text streams in plain, then renders as Markdown."""
        self._insert_html("<b>Assistant:</b>")
        cursor = self._end()
        new_block(cursor)
        self._start = cursor.position()
        self._parts, self._notes, self._images = [], [], []

    def append_delta(self, text: str) -> None:
        if not self.streaming:
            return
        self._parts.append(text)
        self._end().insertText(text, QTextCharFormat())
        self._scroll_down()

    def add_tool_result(self, tool: str, result: str) -> None:
        """A tool ran (or was refused): a short note now, its images inline when the reply ends."""
        if not self.streaming:
            return
        lines = [ln for ln in result.strip().splitlines() if not ln.startswith("attached ")]
        note = f"[{tool}: {' '.join(lines)[:160]}]"
        self._notes.append(note)
        self._end().insertText(f"{note}\n", QTextCharFormat())
        self._images += [p for p in attached_images(result) if self._allowed(p)]

    def finish_reply(self) -> None:
        """Replaces the plain streamed text with the rendered reply, code blocks and images."""
        if self._start is None:
            return
        cursor = self._end()
        cursor.setPosition(self._start, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._start = None
        self._render("".join(self._parts).strip(), self._notes, self._images)
        self._scroll_down()

    def show_error(self, message: str) -> None:
        """An error stays in the conversation, after what was already said."""
        self.finish_reply()
        self._insert_html(f'<span style="{ERROR_STYLE}"><i>{html.escape(message)}</i></span>')

    def show_note(self, message: str) -> None:
        self._insert_html(f"<i>{html.escape(message)}</i>")

    def clear_conversation(self) -> None:
        self.clear()
        self.code_blocks.clear()
        self._start = None

    def loadResource(self, kind: int, url: QUrl) -> object:  # noqa: N802 - Qt's name
        """Only images, only local files in the app's image folders; nothing remote, ever."""
        if kind == QTextDocument.ResourceType.ImageResource and url.isLocalFile():
            if self._allowed(Path(url.toLocalFile())):
                return super().loadResource(kind, url)
        return None

    def _render(self, text: str, notes: list[str], images: list[Path]) -> None:
        cursor = self._end()
        for note in notes:
            cursor.insertHtml(f'<span style="color:#666"><i>{html.escape(note)}</i></span>')
            new_block(cursor)
        at = 0
        for match in FENCE.finditer(text):
            self._insert_markdown(cursor, text[at : match.start()])
            self._insert_code(cursor, match.group(2), match.group(1).strip().lower())
            at = match.end()
        self._insert_markdown(cursor, text[at:])
        for image in images:
            new_block(cursor)
            cursor.insertHtml(self._image_html(image))

    def _insert_markdown(self, cursor: QTextCursor, text: str) -> None:
        if text.strip():
            new_block(cursor)
            cursor.insertFragment(QTextDocumentFragment.fromMarkdown(text.strip("\n"), MARKDOWN))

    def _insert_code(self, cursor: QTextCursor, code: str, language: str = "") -> None:
        index = len(self.code_blocks)
        self.code_blocks.append(code.rstrip("\n"))
        new_block(cursor)
        cursor.insertHtml(
            f'<pre style="background:#f3f3f3">{html.escape(self.code_blocks[-1])}</pre>'
        )
        new_block(cursor)
        links = f'<a href="copy:{index}">Copy</a>'
        if is_page(language, code):
            links += f' · <a href="page:{index}">Preview page</a>'
        cursor.insertHtml(links)

    def _image_html(self, image: Path) -> str:
        url = QUrl.fromLocalFile(str(image)).toString()
        natural = QImageReader(str(image)).size().width()
        room = max(self.viewport().width() - 30, 80)
        width = min(natural, room) if natural > 0 else room
        return f'<img src="{html.escape(url)}" width="{width}">'

    def _allowed(self, path: Path) -> bool:
        try:
            where = path.resolve()
            inside = any(where.is_relative_to(d.resolve()) for d in self.image_dirs)
            return inside and path.is_file()
        except OSError:
            return False

    def _clicked(self, url: QUrl) -> None:
        if url.scheme() == "copy":
            self._copy(url.path())
        elif url.scheme() == "page":
            index = url.path()
            if index.isdigit() and int(index) < len(self.code_blocks):
                self.page_requested.emit(self.code_blocks[int(index)])
        else:
            self._open_link(url)

    def _copy(self, index: str) -> None:
        if index.isdigit() and int(index) < len(self.code_blocks):
            QGuiApplication.clipboard().setText(self.code_blocks[int(index)])
            self.notice.emit("Code copied.")

    def _open_link(self, url: QUrl) -> None:
        """Asks first, naming where the link really goes (not what its text says)."""
        if url.scheme().lower() not in OPENABLE:
            self.notice.emit(f"Not opened: {url.toString()[:200]} is not a web link.")
            return
        where = url.host() or url.path()
        answer = QMessageBox.question(
            self,
            "Open link?",
            f"This link goes to {where}:\n\n{url.toString()}\n\nOpen it in your browser?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(url)
        else:
            self.notice.emit("Link not opened.")

    def _insert_html(self, markup: str) -> None:
        """`markup` in a new plain paragraph (formats of the text before do not leak in)."""
        cursor = self._end()
        new_block(cursor)
        cursor.insertHtml(markup)
        self._scroll_down()

    def _end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _scroll_down(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
