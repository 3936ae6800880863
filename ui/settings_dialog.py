"""The settings dialog: models per role, voice, listening, tool permissions, thinking longer."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.config import CHOICES, ENGINES, Config, config_path, load_config
from assistant_app.core.errors import AssistantError
from assistant_app.storage import settings
from assistant_app.storage.profiles import Profiles
from assistant_app.tools.toolbox import PERMISSIONS
from audio.hearing import spoken_language

log = logging.getLogger(__name__)

# (section, key, label, catalog role, text for "" or None when a model is required)
MODEL_ROWS = (
    ("llm", "model", "Chat model", "llm", None),
    ("voice", "llm_model", "Voice chat model", "llm", "(same as the chat model)"),
    ("stt", "model", "Speech recognition", "stt", None),
    ("voice", "stt_model", "Voice speech recognition", "stt", "(same as speech recognition)"),
    ("sketch", "model", "Sketch model", "llm", None),
    ("sketch", "vision_model", "Sketch vision model", "vlm", "(none: OCR and layout only)"),
)
EDITABLE_ROLES = ("llm",)
LANGUAGES = (
    "en",
    "de",
    "es",
    "fr",
    "it",
    "ja",
    "nl",
    "pt",
    "zh",
)  # an OpenAI-compatible server may serve models not in the catalog


class SettingsDialog(QDialog):
    """Edits the config file and the current assistant's tool rules; OK writes both through
    assistant_app.storage.settings, Cancel writes nothing. Raises ConfigError if the file is
    broken."""

    settings_saved = Signal(object)  # the new Config

    def __init__(
        self, profiles: Profiles, config_file: Path | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.path = config_file or config_path()
        self.profiles = profiles
        self.config: Config = load_config(self.path)
        self.models: dict[tuple[str, str], QComboBox] = {}
        self.tools: dict[str, QComboBox] = {}
        layout = QVBoxLayout(self)
        for group in (self._models_group(), self._voice_group(), self._listening_group()):
            layout.addWidget(group)
        layout.addWidget(self._tools_group())
        layout.addWidget(self._think_group())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._check_models()

    # -- public ---------------------------------------------------------------------------------
    def values(self) -> dict[str, dict[str, Any]]:
        """Every setting the dialog shows, by config section."""
        out: dict[str, dict[str, Any]] = {}
        for (section, key), box in self.models.items():
            out.setdefault(section, {})[key] = _value(box)
        out["tts"] = {
            "engine": self.tts_engine.currentData(),
            "voice": self.tts_voice.text().strip(),
            "speaking_rate": _float(self.speaking_rate, self.config.tts.speaking_rate),
        }
        out["stt"]["language"] = _value(self.language)
        out["vad"] = {
            "threshold": _float(self.vad_threshold, self.config.vad.threshold),
            "end_of_turn_silence_ms": self.end_of_turn.value(),
            "end_of_turn": self.turn_method.currentText(),
            "end_of_turn_cap_ms": self.turn_cap.value(),
        }
        out["voice"]["echo_cancellation"] = self.echo.currentText()
        out["llm"] |= {
            "think_samples": self.think_samples.value(),
            "think_budget_s": _float(self.think_budget, self.config.llm.think_budget_s),
        }
        return out

    def tool_rules(self) -> dict[str, str]:
        return {tool: box.currentText() for tool, box in self.tools.items()}

    def accept(self) -> None:
        """Writes what changed; a refused value is shown and the dialog stays open."""
        try:
            changes = settings.diff(self.config, self.values())
            if changes:
                self.config = settings.update_config(changes, self.path)
            settings.save_tool_rules(self.profiles, self.tool_rules())
        except (AssistantError, OSError) as exc:
            QMessageBox.warning(self, "Settings not saved", str(exc))
            return
        self.settings_saved.emit(self.config)
        super().accept()

    # -- building -------------------------------------------------------------------------------
    def _models_group(self) -> QGroupBox:
        form, group = _form("Models")
        for section, key, label, role, empty in MODEL_ROWS:
            box = QComboBox()
            box.setEditable(role in EDITABLE_ROLES)
            if empty is not None:
                box.addItem(empty, "")
            for name in settings.catalog_names(role):
                box.addItem(name, name)
            _select(box, getattr(getattr(self.config, section), key))
            self.models[(section, key)] = box
            form.addRow(label, box)
        return group

    def _voice_group(self) -> QGroupBox:
        form, group = _form("Speech")
        self.tts_engine = QComboBox()
        for engine in ENGINES["tts"]:
            self.tts_engine.addItem(engine, engine)
        _select(self.tts_engine, self.config.tts.engine)
        self.tts_voice = QLineEdit(self.config.tts.voice)
        self.tts_voice.setToolTip("hibari: a voice such as 'heart'; espeak-ng: e.g. 'en-us'")
        self.speaking_rate = _spin(("tts", "speaking_rate"), self.config.tts.speaking_rate, 0.05)
        form.addRow("Voice engine", self.tts_engine)
        form.addRow("Voice", self.tts_voice)
        form.addRow("Speaking rate", self.speaking_rate)
        self.language = QComboBox()
        self.language.setEditable(True)
        self.language.addItem(f"(system language: {spoken_language('')})", "")
        self.language.addItem("auto (detect on every clip)", "auto")
        for code in LANGUAGES:
            self.language.addItem(code, code)
        _select(self.language, self.config.stt.language)
        self.language.setToolTip(
            "What you speak: a code such as 'en' or 'de'. tiny.en hears English only; "
            "pick whisper-base for other languages."
        )
        form.addRow("Spoken language", self.language)
        return group

    def _listening_group(self) -> QGroupBox:
        form, group = _form("Listening")
        self.vad_threshold = _spin(("vad", "threshold"), self.config.vad.threshold, 0.05)
        self.vad_threshold.setToolTip("Higher hears less: speech must be clearer to count.")
        self.end_of_turn = _spin(
            ("vad", "end_of_turn_silence_ms"), self.config.vad.end_of_turn_silence_ms, 50
        )
        self.end_of_turn.setSuffix(" ms")
        self.end_of_turn.setToolTip("With the end of turn found by silence.")
        self.turn_method = QComboBox()
        self.turn_method.addItems(list(CHOICES[("vad", "end_of_turn")]))
        self.turn_method.setCurrentText(self.config.vad.end_of_turn)
        self.turn_method.setToolTip(
            "meaning: at a pause, a small model judges whether you have finished your thought; "
            "silence: the turn ends after the silence below."
        )
        self.turn_cap = _spin(
            ("vad", "end_of_turn_cap_ms"), self.config.vad.end_of_turn_cap_ms, 100
        )
        self.turn_cap.setSuffix(" ms")
        self.turn_cap.setToolTip("The longest pause waited for an unfinished thought.")
        self.echo = QComboBox()
        self.echo.addItems(list(CHOICES[("voice", "echo_cancellation")]))
        self.echo.setCurrentText(self.config.voice.echo_cancellation)
        form.addRow("Speech sensitivity threshold", self.vad_threshold)
        form.addRow("End of turn found by", self.turn_method)
        form.addRow("Longest pause mid-thought", self.turn_cap)
        form.addRow("End of turn after silence", self.end_of_turn)
        form.addRow("Echo cancellation", self.echo)
        return group

    def _tools_group(self) -> QGroupBox:
        current = self.profiles.current()
        form, group = _form(f"Tool permissions (assistant “{current}”)")
        for tool, rule in settings.tool_rules(self.profiles).items():
            box = QComboBox()
            box.addItems(list(PERMISSIONS))
            box.setCurrentText(rule)
            self.tools[tool] = box
            form.addRow(tool, box)
        return group

    def _think_group(self) -> QGroupBox:
        form, group = _form("Think longer")
        llm = self.config.llm
        self.think_samples = _spin(("llm", "think_samples"), llm.think_samples, 1)
        self.think_budget = _spin(("llm", "think_budget_s"), llm.think_budget_s, 10, decimals=0)
        self.think_budget.setSuffix(" s")
        form.addRow("Attempts voted on", self.think_samples)
        form.addRow("Time budget", self.think_budget)
        return group

    # -- model status ---------------------------------------------------------------------------
    def _check_models(self) -> None:
        """Fills in installed / absent / damaged off the GUI thread (a check may hash a file)."""
        names = {box.itemData(i) for box in self.models.values() for i in range(box.count())}
        names |= {n for n in settings.TTS_MODELS.values() if n}
        names.discard("")
        for box in (*self.models.values(), self.tts_engine):
            for i in range(box.count()):
                if _model_of(box, i):
                    box.setItemText(i, f"{box.itemData(i)} — checking…")
        config = self.config
        # The thread emits through a relay it keeps alive, never through the dialog: the dialog
        # may be deleted meanwhile, and Qt drops a queued call to a deleted receiver.
        relay = _Relay()
        relay.states_ready.connect(self._show_states)

        def work() -> None:
            try:
                states = settings.model_states(config, sorted(names))
            except Exception:  # noqa: BLE001 - a status line must not take the dialog down
                log.exception("checking the model store failed")
                return
            relay.states_ready.emit(states)

        self._status = threading.Thread(target=work, name="settings-model-status", daemon=True)
        self._status.start()

    def done(self, result: int) -> None:
        """Closes (OK, Cancel, Esc): the status thread ends first, so it never outlives Qt."""
        self._status.join(timeout=10)
        super().done(result)

    def _show_states(self, states: dict[str, settings.ModelState]) -> None:
        for box in (*self.models.values(), self.tts_engine):
            for i in range(box.count()):
                state = states.get(_model_of(box, i))
                if state is not None:
                    text = f"{box.itemData(i)} — {state.state}, {_size(state.size)}"
                    box.setItemText(i, text)
            if box.isEditable():
                box.lineEdit().setCursorPosition(0)


def _model_of(box: QComboBox, index: int) -> str:
    """The catalog model behind a combo item ('' for none, e.g. espeak-ng)."""
    data = box.itemData(index) or ""
    return settings.TTS_MODELS.get(data, data)


def _value(box: QComboBox) -> str:
    """The chosen name; in an editable box, what the user typed when it is not an item."""
    index = box.currentIndex()
    if index >= 0 and (not box.isEditable() or box.currentText() == box.itemText(index)):
        return box.itemData(index) or ""
    return box.currentText().strip()


def _float(spin: QDoubleSpinBox, old: float) -> float:
    """The spin box's value, or the configured one when the box only shows it rounded."""
    value = round(spin.value(), spin.decimals())
    return old if round(old, spin.decimals()) == value else value


def _select(box: QComboBox, name: str) -> None:
    index = box.findData(name)
    if index >= 0:
        box.setCurrentIndex(index)
    elif box.isEditable():
        box.setEditText(name)
    else:  # a value the catalog does not know: keep it visible and selected
        box.addItem(f"{name} — not in the catalog", name)
        box.setCurrentIndex(box.count() - 1)


def _spin(
    key: tuple[str, str], value: float, step: float, decimals: int = 2
) -> QSpinBox | QDoubleSpinBox:
    low, high = settings.LIMITS[key]
    spin: QSpinBox | QDoubleSpinBox = QSpinBox() if isinstance(value, int) else QDoubleSpinBox()
    if isinstance(spin, QDoubleSpinBox):
        spin.setDecimals(decimals)
    spin.setRange(low, high)  # type: ignore[arg-type]
    spin.setSingleStep(step)  # type: ignore[arg-type]
    spin.setValue(value)  # type: ignore[arg-type]
    return spin


def _form(title: str) -> tuple[QFormLayout, QGroupBox]:
    group = QGroupBox(title)
    return QFormLayout(group), group


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


class _Relay(QObject):
    """Carries the model states from the status thread to the dialog, if it still exists."""

    states_ready = Signal(object)  # {name: ModelState}
