"""One brain on the real models: spoken questions reach the kernel's tools, notes, permissions
and saved conversation. The chat model runs greedily here, so each run is the same."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.session import build_session, conversations, knowledge_index
from assistant_app.storage.profiles import Profile
from assistant_app.voice.loop import VoiceEngines, VoiceLoop
from assistant_app.voice.stages import VoiceEvent
from audio.devices import FileOutput
from audio.endpoint import TurnDetector
from audio.wav import resample

pytestmark = pytest.mark.models
BLOCK = 512


@dataclasses.dataclass
class Parts:
    config: Config
    engines: VoiceEngines
    model: object  # the chat model, shared by every test's session


@pytest.fixture(scope="module")
def parts(real_store) -> Parts:
    from assistant_app.voice.talk import load_ears_and_voice
    from models.llm import create_chat_model

    config = Config()
    config = config.replace("llm", temperature=0.0)  # greedy: the same reply every run
    model = create_chat_model(config.llm, real_store)
    return Parts(config, load_ears_and_voice(config, real_store, model, echo=False), model)


class Room:
    """A voice loop around a saved session, a speaker that plays as fast as it is fed, and a
    microphone the test speaks into (with the real voice, read by the real ears)."""

    def __init__(self, parts: Parts, session: ChatSession) -> None:
        self.parts, self.session = parts, session
        self.events: list[VoiceEvent] = []
        self.changed = threading.Condition()
        self.loop = VoiceLoop(
            parts.engines, session, self.record, detector=TurnDetector(), language="en"
        )
        self.speaker = FileOutput(self.loop.playback, realtime=False)
        self.t = 0.0
        self.quiet = np.random.default_rng(0)
        self.loop.start()
        self.speaker.start()

    def record(self, event: VoiceEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def kinds(self, kind: str) -> list[VoiceEvent]:
        return [e for e in list(self.events) if e.kind == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 120) -> VoiceEvent:
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.kinds(kind)) >= count, timeout)
        assert ok, f"no {kind}; got {[(e.kind, e.text[:40]) for e in self.events]}"
        return self.kinds(kind)[count - 1]

    def speak(self, text: str) -> None:
        """The user says `text` (hibari's voice), then pauses long enough to end the turn."""
        tts = self.parts.engines.tts
        audio = np.concatenate(list(tts.synthesize(text, CancelToken.never())))
        audio = resample(audio.astype(np.float32), tts.sample_rate_hz, 16000)
        self._feed(audio)
        self.hear_the_room(1.0)

    def hear_the_room(self, seconds: float) -> None:
        """The microphone hears only the room for `seconds` (its clock runs on, as a real one's
        does while the assistant talks and works)."""
        self._feed(self.quiet.normal(0, 3e-4, int(seconds * 16000)).astype(np.float32))

    def _feed(self, samples: np.ndarray) -> None:
        for i in range(len(samples) // BLOCK):
            self.t += BLOCK / 16000
            self.loop.hear(samples[i * BLOCK : (i + 1) * BLOCK], self.t)

    def heard(self, turn: int = 1) -> str:
        return self.wait_for("reply_done", turn).text

    def window(self, turn: int) -> str:
        return "".join(e.text for e in self.kinds("text") if e.turn == turn)

    def close(self) -> None:
        self.speaker.stop()
        self.loop.stop()


@pytest.fixture
def room(parts: Parts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    made: list[Room] = []

    def build(profile: Profile | None = None, allow: tuple[str, ...] = ()) -> Room:
        profile = profile or Profile("default")
        knowledge = knowledge_index(parts.config, profile)
        session = build_session(
            parts.config, parts.model, profile, tools=True, allow=allow, knowledge=knowledge
        )
        made.append(Room(parts, session))
        return made[-1]

    yield build
    for r in made:
        r.close()


def tools_called(session: ChatSession) -> list[str]:
    return [c.name for m in session.history for c in m.tool_calls]


def test_a_spoken_sum_is_answered_through_the_calculator(room) -> None:
    r = room()
    r.speak("What is 17 times 23?")
    heard = r.heard()
    assert tools_called(r.session) == ["calculator"]
    assert "391" in heard.replace(",", "")
    # The kernel made the call and says the result itself: the answer is the first sound.
    said = [e.text for e in r.events if e.kind == "sentence"]
    assert said[0] == "17 times 23 is 391."


def test_a_spoken_notes_question_is_answered_with_a_citation(room, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "appointments.md").write_text(
        "# Appointments\n\nDentist: March 14 at 3 pm with Dr. Keller, room 212.\n"
    )
    r = room(Profile("Notes", knowledge_folders=(str(notes),)))
    r.speak("When is my dentist appointment?")
    heard = r.heard()
    window = r.window(r.kinds("transcript")[0].turn)
    assert "march" in heard.lower() and "14" in heard
    assert "(Source: " in window and "appointments.md" in window  # cited in the window...
    assert "Source" not in heard and "appointments" not in heard  # ...and not read out


def test_typed_and_spoken_turns_share_one_saved_conversation(room) -> None:
    r = room()
    typed = "".join(r.session.stream("Please remember for this chat: my name is Ada."))
    assert typed
    r.speak("What is my name?")
    assert "ada" in r.heard().lower()
    saved = conversations(r.parts.config).messages(r.session.conversation_id)
    said = [(m.role, m.content) for m in saved if m.role == "user"]
    assert said == [
        ("user", "Please remember for this chat: my name is Ada."),
        ("user", r.kinds("transcript")[0].text),
    ]
    assert saved[-1].role == "assistant" and "ada" in saved[-1].content.lower()


def test_a_spoken_no_keeps_python_from_running(room) -> None:
    r = room()
    r.speak("Use Python to print the first ten prime numbers.")
    question = r.wait_for("permission")
    assert "Python" in question.text
    while r.loop.playback.playing or not r.kinds("first_audio"):
        time.sleep(0.05)  # the question is spoken to the end
    r.speak("No.")
    r.heard()
    assert r.wait_for("permission_answered").text == "no"
    results = [m.content for m in r.session.history if m.role == "tool"]
    assert results and all("did not allow" in c for c in results)
    from assistant_app.core.config import data_dir
    from assistant_app.security.audit import AUDIT_NAME, AuditLog

    log = AuditLog(data_dir(r.parts.config) / AUDIT_NAME).entries()
    assert [(e.tool, e.decision) for e in log] == [("python", "asked-no")] * len(results)


def test_barge_in_during_a_python_run_stops_it(room) -> None:
    r = room(allow=("python",))
    running = threading.Event()  # the call has begun (its code written)
    run = r.session.toolbox.run
    r.session.toolbox.run = lambda call, token: (running.set(), run(call, token))[1]
    r.speak("Use Python to sleep for 30 seconds and then print done.")
    r.wait_for("first_audio")  # "Let me run that." as the model starts writing the code
    assert running.wait(120)
    while r.loop.playback.playing:
        time.sleep(0.05)
    r.hear_the_room(2.0)  # the user stops it after the progress line, not within 1.5 s: no
    started = time.monotonic()  # going on with the request
    r.speak("Stop, never mind.")
    r.wait_for("barge_in")
    r.heard()  # the second turn is answered (the first, cut off, never finished)
    assert r.kinds("reply_done")[0].turn == r.kinds("transcript")[1].turn
    assert time.monotonic() - started < 60
    results = [m.content for m in r.session.history if m.role == "tool"]
    assert results and "stopped by the user" in results[0]
    users = [m.content for m in r.session.history if m.role == "user"]
    assert len(users) == 2
