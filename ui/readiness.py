"""One line that says, per model, whether it is ready: the window opens before any loads."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QWidget

ROLES = ("chat", "speech recognition", "voice")
COLOURS = {"ready": "#2e7d32", "loading": "#8a6d00"}


class ReadinessLine(QLabel):
    """`set_state(role, state)`: "loading", "ready", or a reason it is unavailable (shown in
    full as the tooltip, and as the line's last word: "unavailable")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.states: dict[str, str] = {role: "waiting" for role in ROLES}
        self._render()

    def set_state(self, role: str, state: str) -> None:
        self.states[role] = state
        self._render()

    def _render(self) -> None:
        parts, problems = [], []
        for role, state in self.states.items():
            word = state if state in ("ready", "loading", "waiting") else "unavailable"
            if word == "unavailable":
                problems.append(f"{role}: {state}")
            colour = COLOURS.get(word, "#a40000" if word == "unavailable" else "#666")
            shown = f"<span style='color:{colour}'>{word}</span>"
            parts.append(f"{html.escape(role.capitalize())}: {shown}")
        self.setText(" · ".join(parts))
        self.setToolTip("\n".join(problems) or "Models and their state")
