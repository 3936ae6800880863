"""Turn-taking: voice activity per frame becomes speech-start events and finished utterances."""

from __future__ import annotations

from collections import deque

import numpy as np

from assistant_app.core.config import VadConfig
from assistant_app.core.messages import SpeechStarted, Utterance

# Frames of the trailing silence an utterance keeps (~100 ms): less audio for STT, no clipped
# ending. bench/turns.py reads it to know where a turn's audio ends.
KEPT_SILENCE_FRAMES = 3
# While the user speaks, the words so far are heard this often and read by the chat model, so
# that after the end of speech it has only the last few to read (bench/voice_tasks.py).
READ_AHEAD_MS = 640


class TurnDetector:
    """A small state machine over VAD probabilities, one 32 ms frame at a time.

    Speech starts after `start_ms` of voiced frames (short clicks and coughs do not barge in);
    the turn ends after `end_silence_ms` below the threshold minus a hysteresis margin. Audio
    from just before the start is kept so the first syllable is not clipped.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        end_silence_ms: int = 400,
        start_ms: int = 160,
        min_speech_ms: int = 250,
        pre_roll_ms: int = 320,
        speculate_ms: int = 96,
        read_ahead_ms: int = 0,
        max_utterance_s: float = 30.0,
        frame_samples: int = 512,
        sample_rate_hz: int = 16000,
    ) -> None:
        frame_ms = 1000 * frame_samples / sample_rate_hz
        self.frame_s = frame_ms / 1000
        self._on = threshold
        self._off = max(0.05, threshold - 0.15)
        self._start_frames = max(1, round(start_ms / frame_ms))
        self._end_frames = max(1, round(end_silence_ms / frame_ms))
        # Early in a pause (~100 ms) the utterance is offered as tentative: if the pause ends
        # the turn, its transcript is ready (or nearly) by the time the turn ends.
        self._speculate_frames = min(self._end_frames - 1, max(2, round(speculate_ms / frame_ms)))
        self._min_frames = max(1, round(min_speech_ms / frame_ms))
        # Every `read_ahead_ms` of speech, the audio so far is offered as partial (0: never):
        # its words can be read by the chat model before the user has finished.
        self._read_ahead = round(read_ahead_ms / frame_ms)
        self._max_frames = round(max_utterance_s * 1000 / frame_ms)
        # The pre-roll reaches back `pre_roll_ms` before the first voiced frame.
        pre_roll = round(pre_roll_ms / frame_ms) + self._start_frames
        self._pre_roll: deque[np.ndarray] = deque(maxlen=pre_roll)
        self.reset()

    @property
    def in_speech(self) -> bool:
        return self._started

    def reset(self) -> None:
        """Forget any speech in progress (mute, push-to-talk, a new turn)."""
        self._frames: list[np.ndarray] = []
        self._voiced_run = 0
        self._voiced = 0
        self._silent_run = 0
        self._started = False
        self._start_s = 0.0
        self._last_s = 0.0
        self._pause_end_s = -1.0
        self._resumed = False
        self._soft_end = 0  # frames of silence that end this pause's turn (0: the cap's)
        self._offered = 0  # frames in the last partial utterance
        self._pre_roll.clear()

    def push(
        self, frame: np.ndarray, probability: float, end_s: float
    ) -> list[SpeechStarted | Utterance]:
        """Feeds one frame ending at stream time `end_s`; returns the events it caused."""
        events: list[SpeechStarted | Utterance] = []
        self._last_s = end_s
        voiced = probability >= (self._off if self._frames else self._on)
        if not self._frames:
            self._pre_roll.append(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run:
                if self._voiced_run == 1:
                    self._start_s = end_s - self.frame_s
                if self._voiced_run >= self._start_frames:
                    self._frames = list(self._pre_roll)
                    self._offered = len(self._frames)
                    self._voiced = self._voiced_run
                    self._started = True
                    events.append(SpeechStarted(self._start_s))
            return events
        self._frames.append(frame)
        self._voiced += voiced
        self._silent_run = 0 if voiced else self._silent_run + 1
        self._resumed |= bool(voiced)
        if voiced:
            self._soft_end = 0  # the pause a judgement's shorter wait was for is over
        ended = (
            self._silent_run >= self._end_frames
            or 0 < self._soft_end <= self._silent_run
            or len(self._frames) >= self._max_frames
        )
        pausing = self._silent_run == self._speculate_frames
        if (ended or pausing) and self._voiced >= self._min_frames:
            events.append(self._utterance(end_s, tentative=not ended))
            if pausing and not ended:  # the pause a judgement of this utterance refers to
                self._pause_end_s, self._resumed = events[-1].end_s, False
        elif self._read_ahead and voiced and len(self._frames) - self._offered >= self._read_ahead:
            self._offered = len(self._frames)
            if self._voiced >= self._min_frames:
                audio = np.concatenate(self._frames)
                events.append(Utterance(audio, self._start_s, end_s, partial=True))
        if ended:
            self.reset()
        return events

    def end_after(self, speech_end_s: float, silence_s: float = 0.0) -> Utterance | None:
        """Ends the turn in the pause after speech that ended at `speech_end_s` once it has
        lasted `silence_s` (the thought was judged finished, or maybe finished): the turn if
        that is now, else None and `push` ends it then unless speech resumes first. None too
        when speech has resumed since, or the turn already ended."""
        if not self._started or self._resumed or speech_end_s != self._pause_end_s:
            return None  # speech went on since: this judgement is stale
        if self._silent_run * self.frame_s < silence_s:
            self._soft_end = max(1, round(silence_s / self.frame_s))
            return None
        cut = self._utterance(self._last_s, tentative=False)  # the same audio as at the pause
        self.reset()
        return Utterance(cut.audio, cut.start_s, speech_end_s)

    def _utterance(self, end_s: float, *, tentative: bool) -> Utterance:
        speech_end = end_s - self._silent_run * self.frame_s
        # The same cut for tentative and final utterances, so a tentative transcript can be
        # reused.
        keep = len(self._frames) - max(0, self._silent_run - KEPT_SILENCE_FRAMES)
        audio = np.concatenate(self._frames[:keep])
        return Utterance(audio, self._start_s, speech_end, tentative=tentative)


def detector_for(vad: VadConfig, judged: bool) -> TurnDetector:
    """The turn detector for the [vad] settings. When a judge decides at pauses whether the
    thought is finished, silence alone only ends a turn at the cap."""
    silence = vad.end_of_turn_cap_ms if judged else vad.end_of_turn_silence_ms
    return TurnDetector(
        threshold=vad.threshold, end_silence_ms=silence, read_ahead_ms=READ_AHEAD_MS
    )


class DeadMicrophone:
    """Notices a microphone that delivers exact digital zeros: no permission, or muted in hardware.

    Real microphones always have some noise, so a long run of exact zeros means no signal at all.
    """

    def __init__(self, after_s: float = 2.0, sample_rate_hz: int = 16000) -> None:
        self._limit = int(after_s * sample_rate_hz)
        self._zeros = 0
        self.reported = False

    def push(self, frame: np.ndarray) -> bool:
        """True once, when the run of zeros first passes the limit."""
        self._zeros = self._zeros + len(frame) if not frame.any() else 0
        if self._zeros >= self._limit and not self.reported:
            self.reported = True
            return True
        if self._zeros == 0:
            self.reported = False
        return False


DEAD_MIC_MESSAGE = (
    "The microphone delivers pure silence. On macOS this means the app has no microphone "
    "permission: System Settings > Privacy & Security > Microphone, allow it, then restart. "
    "Elsewhere check that the microphone is not muted and that [audio] input_device is right "
    "(`assistant doctor` tests it)."
)
