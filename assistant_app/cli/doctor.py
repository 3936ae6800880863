"""`assistant doctor`: checks audio devices, the microphone, models, disk, display, browser."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable

from assistant_app.core.config import Config, models_dir
from models import catalog
from models.store import open_store

Check = tuple[str, bool, str]  # (what, ok, detail or fix)


def run_doctor(config: Config, out: Callable[[str], None] = print) -> int:
    """Prints one line per check and the fix for each problem; returns the number of problems."""
    checks = [*_audio(config), *_models(config), _disk(config), _display(), _browser()]
    for what, ok, detail in checks:
        out(f"{'ok  ' if ok else 'FIX '} {what}: {detail}")
    problems = sum(not ok for _, ok, _ in checks)
    out(f"\n{problems} problem(s)." if problems else "\nEverything looks fine.")
    return problems


def _audio(config: Config) -> list[Check]:
    try:
        import sounddevice as sd
    except OSError:
        fix = (
            "`sudo apt-get install libportaudio2`"
            if sys.platform.startswith("linux")
            else "`brew install portaudio`"
        )
        return [("audio", False, f"the PortAudio library is missing. Fix: {fix}")]
    devices = sd.query_devices()
    inputs = [d for d in devices if d["max_input_channels"] > 0]
    outputs = [d for d in devices if d["max_output_channels"] > 0]
    checks: list[Check] = [
        (
            "speaker",
            bool(outputs),
            f"{len(outputs)} output device(s)"
            if outputs
            else "no output device. Plug in headphones or speakers, or check the sound settings.",
        ),
        (
            "microphone",
            bool(inputs),
            f"{len(inputs)} input device(s)"
            if inputs
            else "no input device. Plug in a microphone; `assistant chat` works without one.",
        ),
    ]
    if inputs:
        checks.append(_mic_signal(sd, config))
    return checks


def _mic_signal(sd, config: Config) -> Check:  # noqa: ANN001
    device = config.audio.input_device or None
    try:
        audio = sd.rec(8000, samplerate=16000, channels=1, dtype="float32", device=device)
        sd.wait()
    except Exception as exc:  # noqa: BLE001 - PortAudio raises several kinds
        return (
            "microphone signal",
            False,
            f"could not record ({exc}). Check [audio] "
            "input_device in the config (`assistant config show`).",
        )
    if not audio.any():
        hint = (
            "On macOS: System Settings > Privacy & Security > Microphone, allow your terminal."
            if sys.platform == "darwin"
            else "Check that it is not muted."
        )
        return ("microphone signal", False, f"pure digital silence. {hint}")
    return ("microphone signal", True, f"peak level {abs(audio).max():.3f}")


def _models(config: Config) -> list[Check]:
    store = open_store(config)
    wanted = {
        config.stt.model,
        config.llm.model,
        config.embed.model,
        config.voice.llm_model,
        config.voice.stt_model,
        config.vad.end_of_turn_model if config.vad.end_of_turn == "meaning" else "",
        "silero-vad",
        "hibari-heart",
    }
    checks: list[Check] = []
    for entry in catalog.CATALOG:
        if entry.name not in wanted:
            continue
        states = {s.state for s in store.status(entry.name)}
        ok = states == {"ok"}
        checks.append(
            (
                f"model {entry.name}",
                ok,
                "installed and verified"
                if ok
                else f"{', '.join(sorted(states - {'ok'}))}. "
                f"Fix: `assistant models pull {entry.name}`",
            )
        )
    return checks


def _disk(config: Config) -> Check:
    where = models_dir(config)
    probe = where if where.exists() else where.parent
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free / 1e9
    return (
        "disk",
        free > 3,
        f"{free:.1f} GB free in {where}"
        + ("" if free > 3 else ". Free some space or set [models] dir to another disk."),
    )


def _display() -> Check:
    if has_display():
        return ("display", True, "available for the desktop app")
    return ("display", True, "none (fine for `assistant chat`; the window needs a desktop)")


def _browser() -> Check:
    from assistant_app.core.errors import ModelUnavailable
    from vision.render import find_browser

    try:
        return ("browser", True, f"{find_browser()} renders and checks sketched pages")
    except ModelUnavailable as exc:
        return ("browser", False, f"{exc}")


def has_display() -> bool:
    """Whether a desktop window could open here."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
