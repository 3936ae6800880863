"""Turn-taking on scripted VAD probabilities, and the dead-microphone guard."""

from __future__ import annotations

import numpy as np

from assistant_app.core.messages import SpeechStarted, Utterance
from audio.endpoint import DeadMicrophone, TurnDetector

FRAME = 512
FRAME_S = FRAME / 16000


def run(probabilities: list[float], **kwargs) -> list[tuple[int, object]]:
    detector = TurnDetector(**kwargs)
    events = []
    for i, p in enumerate(probabilities):
        frame = np.full(FRAME, i, np.float32)  # the frame index, to check what was kept
        for event in detector.push(frame, p, (i + 1) * FRAME_S):
            events.append((i, event))
    return events


def final(events: list[tuple[int, object]]) -> list[Utterance]:
    return [e for _, e in events if isinstance(e, Utterance) and not e.tentative]


def test_speech_then_silence_makes_one_utterance_with_pre_roll() -> None:
    probs = [0.0] * 20 + [0.9] * 30 + [0.1] * 20
    events = run(probs, end_silence_ms=400, pre_roll_ms=320, start_ms=160)
    (i_start, started), (i_guess, guess), (i_end, utterance) = events
    assert isinstance(started, SpeechStarted) and i_start == 24  # after 5 voiced frames
    assert abs(started.at_s - 20 * FRAME_S) < 1e-9
    assert isinstance(utterance, Utterance) and not utterance.tentative
    assert guess.tentative and i_guess == 49 + 3  # offered 96 ms into the pause ...
    assert np.array_equal(guess.audio, utterance.audio)  # ... with exactly the final audio
    assert abs(utterance.end_s - 50 * FRAME_S) < 1e-9  # end of speech, not end of silence
    assert i_end == 49 + round(400 / 32)
    kept = sorted(set(utterance.audio[::FRAME].astype(int)))
    assert kept[0] == 10 and kept[-1] == 52  # 320 ms of pre-roll, ~100 ms of the silence after


def test_the_words_so_far_are_offered_every_read_ahead_of_speech() -> None:
    probs = [0.0] * 10 + [0.9] * 45 + [0.0] * 20
    events = run(probs, end_silence_ms=400, start_ms=160, read_ahead_ms=320)
    partial = [(i, e) for i, e in events if isinstance(e, Utterance) and e.partial]
    # Every 10 frames of speech after its start (frame 14), never in the pause after it.
    assert [i for i, _ in partial] == [24, 34, 44, 54]
    assert all(not e.tentative for _, e in partial)
    sizes = [len(e.audio) for _, e in partial]
    assert sizes == sorted(sizes) and sizes[1] - sizes[0] == 10 * FRAME  # the audio so far
    (utterance,) = [e for e in final(events) if not e.partial]
    assert np.array_equal(partial[-1][1].audio, utterance.audio[: sizes[-1]])
    assert not any(isinstance(e, Utterance) and e.partial for _, e in run(probs))  # off


def test_short_pauses_inside_speech_do_not_end_the_turn() -> None:
    probs = [0.9] * 20 + [0.1] * 8 + [0.9] * 20 + [0.0] * 15
    events = run(probs)
    utterances = final(events)
    assert len(utterances) == 1
    assert abs(utterances[0].end_s - 48 * FRAME_S) < 1e-9
    guesses = [e for _, e in events if isinstance(e, Utterance) and e.tentative]
    assert len(guesses) == 2  # the short pause was offered too, then speech went on
    assert len(guesses[0].audio) < len(utterances[0].audio)


def test_hysteresis_keeps_a_turn_going_through_weak_frames() -> None:
    probs = [0.9] * 10 + [0.4] * 30 + [0.0] * 15
    utterances = final(run(probs, threshold=0.5))
    assert len(utterances) == 1 and abs(utterances[0].end_s - 40 * FRAME_S) < 1e-9


def test_clicks_and_blips_make_no_turn() -> None:
    probs = ([0.9] * 2 + [0.0] * 10) * 5 + [0.9] * 6 + [0.0] * 20
    events = run(probs, start_ms=160, min_speech_ms=250)
    assert [type(e) for _, e in events] == [SpeechStarted]  # started, but too short to keep


def test_endless_speech_is_cut_at_the_limit() -> None:
    events = run([0.9] * 200, max_utterance_s=2.0)
    assert len(final(events)) >= 2


def test_dead_microphone_is_reported_once_and_rearms() -> None:
    guard = DeadMicrophone(after_s=2.0)
    zeros = np.zeros(FRAME, np.float32)
    hits = [guard.push(zeros) for _ in range(200)]
    assert hits.count(True) == 1 and hits.index(True) == 62  # 63 frames = 2.016 s
    assert not guard.push(np.full(FRAME, 1e-4, np.float32))
    assert any(guard.push(zeros) for _ in range(70))


def test_quiet_real_noise_is_not_a_dead_microphone() -> None:
    guard = DeadMicrophone(after_s=2.0)
    noise = np.random.default_rng(1).normal(0, 1e-4, FRAME * 100).astype(np.float32)
    assert not any(guard.push(f) for f in noise.reshape(-1, FRAME))
