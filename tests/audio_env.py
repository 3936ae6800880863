"""Real sound devices for tests: an ALSA file device and a private PulseAudio null sink."""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audio.wav import read_audio

# Both devices are reached through ALSA's config, which PortAudio reads once, at
# `import sounddevice`: they are for subprocesses started with the env they return.
PLAYBACK_NAME = "playback.raw"
ALSA_FORMATS = {"float32": ("FLOAT_LE", "<f4"), "int16": ("S16_LE", "<i2")}
PR_SET_PDEATHSIG = 1
PULSE_ASOUNDRC = "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
# Variables that would make a client read the caller's ALSA or PulseAudio setup.
FOREIGN_VARS = (
    "ALSA_CONFIG_PATH XDG_CONFIG_HOME XDG_RUNTIME_DIR PULSE_SERVER PULSE_SINK PULSE_SOURCE "
    "PULSE_COOKIE PULSE_CLIENTCONFIG PULSE_RUNTIME_PATH PULSE_STATE_PATH PULSE_LATENCY_MSEC"
).split()


def missing_packages(pulse: bool = False) -> list[str]:
    """Debian packages these devices need that are not installed (empty when all are)."""
    missing = []
    if not ctypes.util.find_library("portaudio"):
        missing.append("libportaudio2")
    if not ctypes.util.find_library("asound"):
        missing.append("libasound2")
    if pulse:
        if not shutil.which("pulseaudio"):
            missing.append("pulseaudio")
        if not (shutil.which("pactl") and shutil.which("pacat")):
            missing.append("pulseaudio-utils")
        if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"):
            missing.append("libasound2-plugins")
    return missing


def private_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment with HOME moved to `home` and the caller's audio setup hidden."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARS}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def run_python(script: str, env: dict[str, str], timeout_s: float = 120) -> dict:
    """Runs `script` in a fresh interpreter with `env`; returns the JSON object it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout_s
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"audio subprocess failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def align(recorded: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where `reference` starts in `recorded`, in samples, and their correlation there."""
    from scipy.signal import correlate

    recorded = np.pad(recorded, (0, max(0, len(reference) - len(recorded))))
    lag = int(np.argmax(np.abs(correlate(recorded, reference, mode="valid", method="fft"))))
    return lag, float(np.corrcoef(recorded[lag : lag + len(reference)], reference)[0, 1])


def _alsa_path(path: Path) -> str:
    text = str(path)
    if any(c in text for c in '"\\%'):
        raise ValueError(f"{text}: ALSA config paths must not contain quotes, \\ or %")
    return text


@dataclass(frozen=True)
class FileDevice:
    """An ALSA default device whose capture reads a file and whose playback writes files.

    Not real-time paced: streams run as fast as the CPU allows (~700x real time here), so a
    callback stream left open for a second produces or consumes minutes of audio.
    """

    env: dict[str, str]
    capture_path: Path  # raw mono samples at rate_hz, in capture_dtype, silence appended
    playback_path: Path  # raw float32 mono at playback_rate_hz; the Nth later adds ".000N"
    rate_hz: int
    playback_rate_hz: int
    capture_dtype: str

    def playback_streams(self) -> list[np.ndarray]:
        """What each output stream played, in the order they were opened, as float32."""
        paths = [self.playback_path, *sorted(self.playback_path.parent.glob(PLAYBACK_NAME + ".*"))]
        return [read_raw(p) for p in paths if p.exists()]

    def playback(self) -> np.ndarray:
        """Everything played on the device, all streams concatenated."""
        streams = self.playback_streams()
        return np.concatenate(streams) if streams else np.zeros(0, np.float32)


def read_raw(path: Path, dtype: str = "float32") -> np.ndarray:
    """Samples of a raw little-endian file as float32 in [-1, 1]."""
    data = np.fromfile(path, dtype=ALSA_FORMATS[dtype][1])
    return data.astype(np.float32) / (32768 if dtype == "int16" else 1)


def alsa_file_device(
    tmp_dir: Path,
    mic_wav: Path | None,
    rate_hz: int = 16000,
    capture_dtype: str = "float32",
    tail_silence_s: float = 2.0,
    playback_rate_hz: int | None = None,
) -> FileDevice:
    """Writes an .asoundrc under `tmp_dir` whose default device is a pair of files.

    Capture replays `mic_wav` (resampled to `rate_hz` mono), then `tail_silence_s` of zeros;
    without a WAV it is silence. Every capture stream starts again from the beginning. At the
    end of the file ALSA's file plugin returns no error and does not block: it hands back the
    ring buffer's previous contents again, so the appended silence (longer than any buffer)
    makes the end read as silence forever. The client must open the input at `rate_hz`, mono,
    `capture_dtype`: ALSA's format or rate conversion over the file plugin drops and repeats
    blocks. Playback is converted to float32 at `playback_rate_hz` (default `rate_hz`) and
    lands sample-exact after a short run of zeros PortAudio primes each stream with; streams at
    other rates go through ALSA's rate plugin (not exact: about 0.1% pitch error).
    """
    playback_rate_hz = playback_rate_hz or rate_hz
    alsa_format, np_dtype = ALSA_FORMATS[capture_dtype]
    home = Path(tmp_dir)
    home.mkdir(parents=True, exist_ok=True)
    capture, playback = home / "capture.raw", home / PLAYBACK_NAME
    infile = ""
    if mic_wav is not None:
        audio = np.concatenate(
            [read_audio(mic_wav, rate_hz), np.zeros(int(tail_silence_s * rate_hz), np.float32)]
        )
        if capture_dtype == "int16":
            audio = np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768)
        audio.astype(np_dtype).tofile(capture)
        infile = f' infile "{_alsa_path(capture)}"'
    slave = f"format {alsa_format} rate {rate_hz} channels 1"
    (home / ".asoundrc").write_text(
        "pcm.!default {\n  type asym\n"
        f'  playback.pcm {{ type plug slave {{ pcm {{ type file slave.pcm "null" '
        f'file "{_alsa_path(playback)}" format "raw" truncate false }} '
        f"format FLOAT_LE rate {playback_rate_hz} channels 1 }} }}\n"
        f'  capture.pcm {{ type plug slave {{ pcm {{ type file slave.pcm "null" '
        f'file "/dev/null"{infile} }} {slave} }} }}\n}}\n'
    )
    return FileDevice(
        private_env(home), capture, playback, rate_hz, playback_rate_hz, capture_dtype
    )


@dataclass
class PulseDevice:
    """A private PulseAudio server: the default sink "speaker", the default source the
    monitor of sink "mic". Real-time paced; clients use `env`."""

    env: dict[str, str]
    server: str
    rate_hz: int
    home: Path
    daemon_pid: int  # so a test can check that it is gone
    speaker: str = "speaker"
    mic: str = "mic"
    _children: list[subprocess.Popen] = field(default_factory=list)

    def pactl(self, *args: str) -> str:
        """Runs pactl against this server and returns its output."""
        return subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, check=True, timeout=20
        ).stdout

    def feed_mic(self, audio: np.ndarray) -> subprocess.Popen:
        """Starts playing float32 mono `audio` at rate_hz into the mic, in real time."""
        path = self.home / f"mic-feed-{len(self._children)}.raw"
        np.asarray(audio, "<f4").tofile(path)
        with open(path, "rb") as feed:
            return self._pacat("--playback", f"--device={self.mic}", stdin=feed)

    def record_speaker(self, path: Path) -> subprocess.Popen:
        """Starts recording what the sink plays to raw float32 `path` (read with read_raw)."""
        with open(path, "wb") as out:
            return self._pacat("--record", f"--device={self.speaker}.monitor", stdout=out)

    def _pacat(self, *args: str, **popen: Any) -> subprocess.Popen:
        fmt = f"--raw --format=float32le --rate={self.rate_hz} --channels=1 --latency-msec=20"
        proc = subprocess.Popen(["pacat", *args, *fmt.split()], env=self.env, **popen)
        self._children.append(proc)
        return proc


def _daemon_script(socket: Path, rate_hz: int) -> str:
    spec = f"rate={rate_hz} channels=1 format=float32le"
    # An idle null sink sleeps up to its 2 s maximum latency and new streams wait for that
    # wake-up (0-2 s stalls, starved callbacks); a silent low-latency loopback keeps it awake.
    keep = "latency_msec=20 source_dont_move=true sink_dont_move=true"
    return "\n".join(
        [
            f"load-module module-native-protocol-unix socket={socket} auth-anonymous=1",
            f"load-module module-null-sink sink_name=speaker {spec}",
            f"load-module module-null-sink sink_name=mic {spec}",
            f"load-module module-null-source source_name=keepalive {spec}",
            f"load-module module-loopback source=keepalive sink=speaker {keep}",
            f"load-module module-loopback source=keepalive sink=mic {keep}",
            "set-default-sink speaker",
            "set-default-source mic.monitor",
            "",
        ]
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()  # a no-op once it has exited
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextmanager
def pulse_null_sink(tmp_dir: Path, rate_hz: int = 16000) -> Iterator[PulseDevice]:
    """Runs a private PulseAudio daemon for the duration of the block, then kills it.

    Works as root without --system: the daemon only warns. Nothing of the real user's setup
    is read or written: HOME, the runtime and state dirs and the socket live under `tmp_dir`.
    """
    home = Path(tmp_dir)
    home.mkdir(parents=True, exist_ok=True)
    run_dir = home / "pulse"
    if len(str(run_dir)) > 80:  # a unix socket path must fit in 108 bytes
        run_dir = Path(tempfile.mkdtemp(prefix="pulse-"))
    run_dir.mkdir(exist_ok=True)
    socket = run_dir / "native"
    (home / ".asoundrc").write_text(PULSE_ASOUNDRC)
    script = home / "daemon.pa"
    script.write_text(_daemon_script(socket, rate_hz))
    dirs = dict.fromkeys(
        ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH"), str(run_dir)
    )
    client_env = private_env(home, PULSE_SERVER=f"unix:{socket}", **dirs)
    device = PulseDevice(client_env, f"unix:{socket}", rate_hz, home, daemon_pid=-1)
    argv = ["pulseaudio", "--daemonize=no", "--use-pid-file=no", "--exit-idle-time=-1", "-n"]
    argv += ["-F", str(script), "--realtime=no", "--high-priority=no", "--log-target=stderr"]
    with open(home / "pulseaudio.log", "wb") as log:
        daemon = subprocess.Popen(
            argv,
            env=private_env(home, **dirs),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        device.daemon_pid = daemon.pid
        _wait_until_ready(device, daemon, home / "pulseaudio.log")
        yield device
    finally:
        for child in device._children:
            _stop(child)
        _stop(daemon)
        if run_dir.parent != home:
            shutil.rmtree(run_dir, ignore_errors=True)


def _die_with_parent() -> None:
    # The daemon gets SIGTERM if the test process dies without reaching `finally` (SIGKILL).
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_ready(device: PulseDevice, daemon: subprocess.Popen, log: Path) -> None:
    # A null sink starts with a 2 s block scheduled; streams opened before it ends stall, so
    # wait until both sinks run at the keep-alive's latency (about 2 s after start).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"pulseaudio exited ({daemon.returncode}):\n{log.read_text()}")
        probe = subprocess.run(["pactl", "list", "sinks"], env=device.env, capture_output=True)
        lines = probe.stdout.decode().splitlines() if probe.returncode == 0 else []
        usec = [int(x.split()[1]) for x in lines if x.strip().startswith("Latency:")]
        if len(usec) == 2 and max(usec) < 100_000:
            return
        time.sleep(0.1)
    raise RuntimeError(f"pulseaudio was not ready within 20 s:\n{log.read_text()}")
