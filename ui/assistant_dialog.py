"""The dialog that creates or edits a custom assistant: instructions, folders, voice, tools."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.config import ENGINES
from assistant_app.core.errors import AssistantError
from assistant_app.storage.profiles import Profile, Profiles
from assistant_app.storage.settings import default_tool_rules
from assistant_app.tools.toolbox import PERMISSIONS


class AssistantDialog(QDialog):
    """Saves through `profiles` on OK; a refused name or rule keeps the dialog open."""

    def __init__(
        self, profiles: Profiles, profile: Profile | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.profiles, self.editing = profiles, profile
        self.saved: Profile | None = None
        profile = profile or Profile("")
        self.setWindowTitle(f"Edit {profile.name}" if self.editing else "New assistant")
        self.name = QLineEdit(profile.name, placeholderText="e.g. Tutor")
        self.name.setReadOnly(self.editing is not None)
        self.instructions = QPlainTextEdit(profile.instructions)
        self.instructions.setPlaceholderText("What it is told before every chat")
        self.folders = QListWidget()
        self.folders.addItems(list(profile.knowledge_folders))
        self.voice = QComboBox()
        self.voice.addItem("(the configured voice)", "")
        for engine in ENGINES["tts"]:
            self.voice.addItem(engine, engine)
        self.voice.setCurrentIndex(max(0, self.voice.findData(profile.voice)))
        self.tools: dict[str, QComboBox] = {}
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Instructions", self.instructions)
        form.addRow("Knowledge folders", self._folders_box())
        form.addRow("Voice", self.voice)
        for tool, default in default_tool_rules().items():
            box = QComboBox()
            box.addItems(list(PERMISSIONS))
            box.setCurrentText(profile.permission(tool, default))
            self.tools[tool] = box
            form.addRow(f"Tool: {tool}", box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def profile(self) -> Profile:
        """The assistant as the form describes it (tool rules equal to the default left out)."""
        defaults = default_tool_rules()
        rules = {t: box.currentText() for t, box in self.tools.items()}
        return Profile(
            self.name.text().strip(),
            self.instructions.toPlainText().strip(),
            tuple(self.folders.item(i).text() for i in range(self.folders.count())),
            self.voice.currentData() or "",
            {t: rule for t, rule in rules.items() if defaults.get(t) != rule},
        )

    def accept(self) -> None:
        profile = self.profile()
        if self.editing is None and profile.name in self.profiles.names():
            QMessageBox.warning(
                self, "New assistant", f"There already is an assistant called '{profile.name}'."
            )
            return
        try:
            self.profiles.save(profile)
        except (AssistantError, OSError) as exc:
            QMessageBox.warning(self, "Assistant not saved", str(exc))
            return
        self.saved = profile
        super().accept()

    def _folders_box(self) -> QWidget:
        add, remove = QPushButton("Add…"), QPushButton("Remove")
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(lambda: self.folders.takeItem(self.folders.currentRow()))
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch()
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.folders)
        layout.addLayout(buttons)
        return box

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Knowledge folder")
        if folder and not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(folder)
