"""Microphone and speaker through PortAudio (sounddevice), and file stand-ins for headless runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from assistant_app.core.errors import UserVisibleError
from audio.playback import PlaybackBuffer

MIC_HZ = 16000
BLOCK = 512  # 32 ms: one Silero VAD frame
OnBlock = Callable[[np.ndarray, float], None]  # (16 kHz float32 block, monotonic time of its end)


def _device(name: str) -> int | str | None:
    if not name:
        return None
    return int(name) if name.isdigit() else name


def _portaudio():  # noqa: ANN202
    try:
        import sounddevice as sd
    except OSError as exc:
        raise UserVisibleError(
            f"The PortAudio library is missing ({exc}). Install it: `sudo apt-get install "
            "libportaudio2` (macOS: `brew install portaudio`)."
        ) from None
    return sd


class _PortAudioStream:
    """Opening, error reporting and closing shared by the microphone and the speaker."""

    failure = ""  # what the user reads when the device cannot be opened

    def __init__(self, device: str) -> None:
        self._device = _device(device)
        self._stream = None

    def start(self) -> None:
        sd = _portaudio()
        try:
            self._stream = self._open(sd)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise UserVisibleError(self.failure.format(exc=exc)) from None

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def _open(self, sd):  # noqa: ANN001, ANN202
        raise NotImplementedError


class SoundDeviceInput(_PortAudioStream):
    """The microphone: 512-sample float32 blocks at 16 kHz, handed over from PortAudio's thread."""

    failure = (
        "No microphone could be opened ({exc}). Plug one in, or set [audio] input_device "
        "(`assistant doctor` lists the devices). On macOS, allow microphone access in System "
        "Settings > Privacy & Security > Microphone, then try again."
    )

    def __init__(self, device: str, on_block: OnBlock) -> None:
        super().__init__(device)
        self._on_block = on_block

    def _open(self, sd):  # noqa: ANN001, ANN202
        def callback(indata, frames, time_info, status) -> None:  # noqa: ANN001
            self._on_block(indata[:, 0].copy(), time.monotonic())

        return sd.InputStream(
            samplerate=MIC_HZ,
            blocksize=BLOCK,
            channels=1,
            dtype="float32",
            device=self._device,
            callback=callback,
        )


class SoundDeviceOutput(_PortAudioStream):
    """The speaker: PortAudio pulls blocks from the playback buffer in its own thread."""

    failure = (
        "No speaker could be opened ({exc}). Plug in headphones or speakers, or set "
        "[audio] output_device (`assistant doctor` lists the devices)."
    )

    def __init__(self, device: str, buffer: PlaybackBuffer) -> None:
        super().__init__(device)
        self._buffer = buffer

    def _open(self, sd):  # noqa: ANN001, ANN202
        def callback(outdata, frames, time_info, status) -> None:  # noqa: ANN001
            outdata[:, 0] = self._buffer.read(frames)

        return sd.OutputStream(
            samplerate=self._buffer.sample_rate_hz,
            channels=1,
            dtype="float32",
            device=self._device,
            callback=callback,
            latency="low",
        )


class FileInput:
    """Speaks WAV files into the loop as a microphone would, one per turn, in real time.

    Between files it sends faint noise (a real microphone is never exactly silent) until
    `wait_turn` says the assistant has answered, then speaks the next file.
    """

    def __init__(
        self,
        clips: Sequence[np.ndarray],
        on_block: OnBlock,
        wait_turn: Callable[[float], bool],
        *,
        realtime: bool = True,
        turn_timeout_s: float = 300.0,
    ) -> None:
        self._clips = clips
        self._on_block = on_block
        self._wait_turn = wait_turn
        self._realtime = realtime
        self._timeout = turn_timeout_s
        self._stop = threading.Event()
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="file-input", daemon=True)
        self._noise = np.random.default_rng(0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        started = time.monotonic()
        sent = 0
        for clip in self._clips:
            padded = np.concatenate([clip, self._quiet(MIC_HZ)])  # the pause that ends a turn
            blocks = len(padded) // BLOCK
            answered = False
            while not self._stop.is_set() and not answered:
                for i in range(blocks):
                    if self._stop.is_set():
                        break
                    sent += BLOCK
                    if self._realtime:
                        time.sleep(max(0.0, started + sent / MIC_HZ - time.monotonic()))
                    self._on_block(padded[i * BLOCK : (i + 1) * BLOCK], time.monotonic())
                blocks, padded = 4, self._quiet(4 * BLOCK)  # keep the microphone alive
                answered = self._wait_turn(0.128)
        self.finished.set()

    def _quiet(self, samples: int) -> np.ndarray:
        return self._noise.normal(0, 3e-4, samples).astype(np.float32)


class FileOutput:
    """A speaker that plays into memory: reads the buffer at real-time pace, keeps the audio."""

    def __init__(self, buffer: PlaybackBuffer, *, realtime: bool = True) -> None:
        self._buffer = buffer
        self._realtime = realtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="file-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        block = 480  # 20 ms at 24 kHz
        period = block / self._buffer.sample_rate_hz
        next_t = time.monotonic()
        while not self._stop.is_set():
            self._buffer.read(block)
            next_t += period
            delay = next_t - time.monotonic()
            if self._realtime and delay > 0:
                time.sleep(delay)
            elif not self._realtime and not self._buffer.playing:
                time.sleep(0.005)
                next_t = time.monotonic()
