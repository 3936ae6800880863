"""The voice loop as the desktop app drives it: devices, input level, push-to-talk, mute."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

from assistant_app.core.config import Config
from assistant_app.kernel.chat import ChatSession
from assistant_app.voice.asking import OnPermission
from assistant_app.voice.loop import VoiceEngines
from assistant_app.voice.stages import Emit
from assistant_app.voice.talk import make_loop
from audio.devices import OnBlock, SoundDeviceInput, SoundDeviceOutput
from audio.endpoint import detector_for

log = logging.getLogger(__name__)
LEVEL_EVERY = 3  # microphone blocks per level report: about ten a second
FLOOR_DB = -60.0  # the meter's empty end


class Device(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


# (the microphone's block callback, the buffer the speaker reads) -> (microphone, speaker)
Devices = Callable[[OnBlock, "SpeakerMute"], tuple[Device, Device]]


def level(block: np.ndarray) -> float:
    """The block's loudness on a 0..1 meter (-60 dBFS .. 0 dBFS)."""
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if len(block) else 0.0
    db = 20 * math.log10(rms) if rms > 0 else FLOOR_DB
    return min(1.0, max(0.0, (db - FLOOR_DB) / -FLOOR_DB))


class SpeakerMute:
    """What the speaker reads: the playback buffer, or silence of the same length when muted.
    Muted replies still advance, so the history keeps what was shown instead of heard."""

    def __init__(self, buffer) -> None:  # noqa: ANN001 - an audio.playback.PlaybackBuffer
        self._buffer = buffer
        self.sample_rate_hz = buffer.sample_rate_hz
        self.muted = False

    @property
    def playing(self) -> bool:
        return self._buffer.playing

    def read(self, frames: int) -> np.ndarray:
        block = self._buffer.read(frames)
        return np.zeros_like(block) if self.muted else block


def sound_devices(config: Config) -> Devices:
    """The configured microphone and speaker through PortAudio."""

    def open_both(on_block: OnBlock, speaker: SpeakerMute) -> tuple[Device, Device]:
        return (
            SoundDeviceInput(config.audio.input_device, on_block),
            SoundDeviceOutput(config.audio.output_device, speaker),  # type: ignore[arg-type]
        )

    return open_both


class VoiceController:
    """Owns one voice loop and its devices for the window. The devices open on first use
    (`open`); until then the microphone is not touched. Push-to-talk is always available;
    hands-free listening is a switch. Spoken turns are turns of the window's session: the same
    tools, notes, memory and saved conversation as typing. Every method may be called from the
    GUI thread: none blocks on an engine."""

    def __init__(
        self,
        config: Config,
        engines: VoiceEngines,
        session: ChatSession,
        emit: Emit,
        on_level: Callable[[float], None],
        devices: Devices | None = None,
        on_permission: OnPermission | None = None,
    ) -> None:
        self.loop = make_loop(config, engines, session, emit, on_permission=on_permission)
        self._on_level = on_level
        self._devices = devices or sound_devices(config)
        self.speaker = SpeakerMute(self.loop.playback)
        self._mic: Device | None = None
        self._out: Device | None = None
        self._blocks = 0
        self.hands_free = False
        self.loop.set_mode("push-to-talk")  # nothing is heard until the user asks

    @property
    def opened(self) -> bool:
        return self._mic is not None

    def open(self) -> None:
        """Opens the devices and starts the stages; raises UserVisibleError (no microphone,
        no speaker) with nothing left open, so the user can fix it and try again."""
        if self.opened:
            return
        mic, out = self._devices(self._hear, self.speaker)
        out.start()
        try:
            mic.start()
        except Exception:
            out.stop()
            raise
        self._mic, self._out = mic, out
        self.loop.start()

    def close(self) -> None:
        """Closes the devices and ends the stages; speech in progress is dropped."""
        if self._mic is None:
            return
        self._mic.stop()
        self._out.stop()  # type: ignore[union-attr]
        self._mic = self._out = None
        self.loop.stop(2)

    def push_to_talk(self, pressed: bool) -> None:
        """Held: everything heard is the turn (and the assistant stops talking at once)."""
        self.loop.push_to_talk(pressed)

    def set_hands_free(self, on: bool) -> None:
        """Hands-free: voice activity starts a turn, and speaking over the reply interrupts."""
        self.hands_free = on
        self.loop.set_mode("hands-free" if on else "push-to-talk")

    def set_speaker_muted(self, muted: bool) -> None:
        self.speaker.muted = muted

    def interrupt(self) -> None:
        """The Stop button: speech and generation stop now."""
        if self.opened:
            self.loop.interrupt()

    def apply_listening(self, config: Config) -> None:
        """[vad] threshold, end-of-turn silence and cap, applied while running."""
        self.loop.set_detector(detector_for(config.vad, self.loop.engines.judge is not None))

    def use_session(self, session: ChatSession) -> None:
        """The window opened another conversation: spoken turns continue that one."""
        self.loop.session = session

    def answer_permission(self, allowed: bool) -> None:
        """The window's buttons answer a question that was asked aloud."""
        self.loop.answer_permission(allowed)

    def _hear(self, block: np.ndarray, t: float) -> None:
        self.loop.hear(block, t)
        self._blocks += 1
        if self._blocks % LEVEL_EVERY == 0:
            self._on_level(level(block))
