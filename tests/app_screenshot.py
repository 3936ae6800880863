"""Run by test_ui_screenshot.py under Xvfb: the real app, one real exchange, a screenshot."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from assistant_app.core.config import load_config
from ui.app import default_loader, default_voice_loader, import_engines, start
from ui.bridge import Bridge
from ui.main_window import MainWindow


def main(out: str, message: str) -> int:
    app = QApplication(sys.argv)
    config = load_config()
    window = MainWindow(Bridge(), config=config)
    window.resize(1000, 640)
    window.show()
    import_engines(config)
    start(window, default_loader(config), config, None, default_voice_loader(config))
    deadline = time.monotonic() + 600
    state = {"sent": False}

    def speech_settled() -> bool:
        return all(s not in ("waiting", "loading") for s in window.readiness.states.values())

    def poll() -> None:
        if time.monotonic() > deadline:
            app.exit(3)
        elif window.send_button.isEnabled() and not state["sent"]:
            state["sent"] = True
            window.input.setText(message)
            window.send()
        elif window.send_button.isEnabled() and state["sent"] and speech_settled():
            window.grab().save(out)
            print(window.view.toPlainText())
            app.exit(0)

    timer = QTimer(window)
    timer.timeout.connect(poll)
    timer.start(200)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
