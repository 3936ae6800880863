"""The sidebar: saved conversations (search, resume, rename, delete, export) and assistants."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.errors import AssistantError
from assistant_app.storage.history_db import ConversationStore
from assistant_app.storage.profiles import DEFAULT, Profiles
from ui.assistant_dialog import AssistantDialog

ID = Qt.ItemDataRole.UserRole


class Sidebar(QWidget):
    """Lists conversations and assistants. Each call into SQLite or the profile folder is a
    small read or write, so it runs on the GUI thread."""

    resume_requested = Signal(int)  # a conversation id the user activated
    assistant_switched = Signal(str)  # the assistant new conversations now start with

    def __init__(self, store: ConversationStore, profiles: Profiles, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.profiles = store, profiles
        self.search = QLineEdit(placeholderText="Search conversations", clearButtonEnabled=True)
        self.conversations = QListWidget()
        self.conversations.setWordWrap(True)
        self.assistants = QListWidget()
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.export_button = QPushButton("Export…")
        self.use_button = QPushButton("Use")
        self.new_button = QPushButton("New…")
        self.edit_button = QPushButton("Edit…")
        self.delete_assistant_button = QPushButton("Delete")
        self._lay_out()
        self._connect()
        self.refresh()

    # -- public ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reloads both lists, keeping the selection where it can."""
        self.refresh_conversations()
        self.refresh_assistants()

    def refresh_conversations(self) -> None:
        keep = self.selected_conversation()
        self.conversations.clear()
        try:
            found = self.store.list(limit=500, search=self.search.text().strip())
        except AssistantError as exc:
            self._warn("Conversations", exc)
            found = []
        for info in found:
            when = info.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
            title = info.title or f"Conversation {info.id}"
            count = f"{info.message_count} message{'' if info.message_count == 1 else 's'}"
            item = QListWidgetItem(f"{title}\n{when} · {count}")
            item.setData(ID, info.id)
            item.setToolTip(f"{title}\nassistant: {info.assistant}")
            self.conversations.addItem(item)
            if info.id == keep:
                self.conversations.setCurrentItem(item)
        if not found:
            empty = "Nothing matches." if self.search.text().strip() else "No conversations yet."
            placeholder = QListWidgetItem(empty)
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.conversations.addItem(placeholder)
        self._update_buttons()

    def refresh_assistants(self) -> None:
        self.assistants.clear()
        current = self.profiles.current()
        names = [DEFAULT, *(n for n in self.profiles.names() if n != DEFAULT)]
        for name in names:
            mark = name == current
            item = QListWidgetItem(f"✓ {name}" if mark else f"   {name}")
            item.setData(ID, name)
            if mark:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
                item.setToolTip("New conversations start with this assistant.")
            self.assistants.addItem(item)
            if mark:
                self.assistants.setCurrentItem(item)
        self._update_buttons()

    def selected_conversation(self) -> int | None:
        item = self.conversations.currentItem()
        value = item.data(ID) if item is not None else None
        return int(value) if value is not None else None

    def selected_assistant(self) -> str | None:
        item = self.assistants.currentItem()
        return item.data(ID) if item is not None else None

    # -- conversations --------------------------------------------------------------------------
    def rename_selected(self) -> None:
        cid = self.selected_conversation()
        if cid is None:
            return
        old = self._title(cid)
        if old is None:
            return
        title, ok = QInputDialog.getText(
            self, "Rename conversation", "Title (empty: the first words):", text=old
        )
        if ok:
            self._try("Rename", lambda: self.store.rename(cid, title.strip()))
            self.refresh_conversations()

    def delete_selected(self) -> None:
        cid = self.selected_conversation()
        if cid is None:
            return
        title = self._title(cid)
        if title is not None and self._confirm(
            "Delete conversation", f"Delete “{title}” and all its messages?"
        ):
            self._try("Delete", lambda: self.store.delete(cid))
            self.refresh_conversations()

    def export_selected(self) -> None:
        cid = self.selected_conversation()
        if cid is None:
            return
        title = self._title(cid)
        if title is None:
            return
        suggested = str(Path.home() / (_file_name(title or f"conversation-{cid}") + ".md"))
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to Markdown", suggested, "Markdown (*.md)"
        )
        if path:
            write = Path(path).write_text
            self._try("Export", lambda: write(self.store.export_markdown(cid), encoding="utf-8"))

    # -- assistants -----------------------------------------------------------------------------
    def use_selected(self) -> None:
        name = self.selected_assistant()
        if name is None or name == self.profiles.current():
            return
        if self._try("Switch assistant", lambda: self.profiles.use(name)):
            self.refresh_assistants()
            self.assistant_switched.emit(name)

    def new_assistant(self) -> None:
        if AssistantDialog(self.profiles, None, self).exec():
            self.refresh_assistants()

    def edit_selected(self) -> None:
        name = self.selected_assistant()
        if name is None:
            return
        try:
            profile = self.profiles.load(name)
        except AssistantError as exc:
            self._warn("Edit assistant", exc)
            return
        if AssistantDialog(self.profiles, profile, self).exec():
            self.refresh_assistants()

    def delete_selected_assistant(self) -> None:
        name = self.selected_assistant()
        if name is None or name == DEFAULT:
            return
        was_current = name == self.profiles.current()
        if not self._confirm("Delete assistant", f"Delete the assistant “{name}”?"):
            return
        if self._try("Delete assistant", lambda: self.profiles.delete(name)):
            self.refresh_assistants()
            if was_current:
                self.assistant_switched.emit(self.profiles.current())

    # -- internals ------------------------------------------------------------------------------
    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>Conversations</b>"))
        layout.addWidget(self.search)
        layout.addWidget(self.conversations, 3)
        layout.addLayout(_row(self.rename_button, self.delete_button, self.export_button))
        layout.addWidget(QLabel("<b>Assistants</b>"))
        layout.addWidget(self.assistants, 1)
        layout.addLayout(_row(self.use_button, self.new_button, self.edit_button))
        layout.addLayout(_row(self.delete_assistant_button))
        for list_widget, actions in (
            (
                self.conversations,
                (
                    ("Rename…", self.rename_selected),
                    ("Export to Markdown…", self.export_selected),
                    ("Delete", self.delete_selected),
                ),
            ),
            (
                self.assistants,
                (
                    ("Use", self.use_selected),
                    ("Edit…", self.edit_selected),
                    ("Delete", self.delete_selected_assistant),
                ),
            ),
        ):
            list_widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            for text, slot in actions:
                action = QAction(text, list_widget)
                action.triggered.connect(slot)
                list_widget.addAction(action)

    def _connect(self) -> None:
        self.search.textChanged.connect(self.refresh_conversations)
        self.conversations.itemActivated.connect(self._activated)
        self.conversations.currentItemChanged.connect(self._update_buttons)
        self.assistants.currentItemChanged.connect(self._update_buttons)
        self.assistants.itemActivated.connect(self.use_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export_selected)
        self.use_button.clicked.connect(self.use_selected)
        self.new_button.clicked.connect(self.new_assistant)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_assistant_button.clicked.connect(self.delete_selected_assistant)

    def _activated(self, item: QListWidgetItem) -> None:
        cid = item.data(ID)
        if cid is not None:
            self.resume_requested.emit(int(cid))

    def _update_buttons(self) -> None:
        has = self.selected_conversation() is not None
        for button in (self.rename_button, self.delete_button, self.export_button):
            button.setEnabled(has)
        name = self.selected_assistant()
        self.use_button.setEnabled(name is not None and name != self.profiles.current())
        self.edit_button.setEnabled(name is not None)
        self.delete_assistant_button.setEnabled(name is not None and name != DEFAULT)

    def _title(self, cid: int) -> str | None:
        """The conversation's title; None (after a warning) when it is gone."""
        try:
            return self.store.info(cid).title
        except AssistantError as exc:
            self._warn("Conversations", exc)
            self.refresh_conversations()
            return None

    def _try(self, what: str, action) -> bool:  # noqa: ANN001 - a no-argument callable
        try:
            action()
        except (AssistantError, OSError) as exc:
            self._warn(what, exc)
            return False
        return True

    def _warn(self, what: str, exc: Exception) -> None:
        QMessageBox.warning(self, what, str(exc))

    def _confirm(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(self, title, question)
        return answer == QMessageBox.StandardButton.Yes


def _row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    return row


def _file_name(title: str) -> str:
    """A title made safe as a file name."""
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return "-".join(safe.split())[:60] or "conversation"
