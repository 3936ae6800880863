"""The permission prompt: shows exactly what a tool set to "ask" will run; allow or deny."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ONCE, ALWAYS, DENY = "once", "always", "deny"


def shown_call(arguments: dict[str, Any]) -> str:
    """The call's arguments as the user reads them: a lone `code` argument verbatim."""
    if set(arguments) == {"code"}:
        return str(arguments["code"])
    return "\n".join(
        f"{name}: {value if isinstance(value, str) else json.dumps(value)}"
        for name, value in arguments.items()
    )


class PermissionDialog(QDialog):
    """Window-modal but non-blocking: the answer comes as `answered` (once, always or deny).

    Closing it any other way (the title bar, Esc, the window's Stop) answers "deny".
    """

    answered = Signal(str)

    def __init__(
        self, parent: QWidget | None, tool: str, arguments: dict[str, Any], reason: str = ""
    ) -> None:
        super().__init__(parent)
        self.tool = tool
        self.choice = ""
        self.setWindowTitle(f"Allow {tool}?")
        self.resize(560, 360)
        self.code = QPlainTextEdit(shown_call(arguments))
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.once_button = QPushButton("Allow once")
        self.always_button = QPushButton("Always allow")
        self.always_button.setToolTip(f"Run {tool} without asking until the app is closed")
        self.deny_button = QPushButton("Deny")
        self.deny_button.setDefault(True)  # Enter never runs code by accident
        row = QHBoxLayout()
        row.addStretch(1)
        for button in (self.once_button, self.always_button, self.deny_button):
            row.addWidget(button)
        column = QVBoxLayout(self)
        column.addWidget(
            QLabel(f"The assistant wants to run <b>{html.escape(tool)}</b> with exactly this:")
        )
        column.addWidget(self.code)
        if reason:  # asked only because of outside text: say so, and offer no "always"
            why = QLabel(reason, wordWrap=True)
            why.setStyleSheet("color:#8a4b00")
            column.addWidget(why)
            self.always_button.setEnabled(False)
        column.addLayout(row)
        self.once_button.clicked.connect(lambda: self._answer(ONCE))
        self.always_button.clicked.connect(lambda: self._answer(ALWAYS))
        self.deny_button.clicked.connect(lambda: self._answer(DENY))
        self.rejected.connect(lambda: self._answer(DENY))

    def deny(self) -> None:
        """Stop or closing the main window while the question is open."""
        self._answer(DENY)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._answer(DENY)
        super().closeEvent(event)

    def _answer(self, choice: str) -> None:
        if self.choice:
            return  # answered already (the close that follows a click)
        self.choice = choice
        self.answered.emit(choice)
        self.hide()
