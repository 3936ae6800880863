"""Turn-taking with the real models through `assistant talk --input`: a question with a
pause mid-sentence is answered once and whole; a complete one is answered as soon as the
judge says it is finished, not after the cap; a pause the judge took for the end is repaired
when the user goes on (one user turn in the saved conversation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import Config
from assistant_app.storage.history_db import DB_NAME, ConversationStore
from audio.wav import resample, write_wav
from tests.test_cli import assistant

pytestmark = pytest.mark.models
RATE = 16000


@pytest.fixture(scope="module")
def say(real_store):
    from audio.tts import create_text_to_speech

    tts = create_text_to_speech(Config().tts, real_store)

    def speak(*parts: str, pause_s: float = 1.0) -> np.ndarray:
        """The parts spoken with `pause_s` of silence between them."""
        gap = np.zeros(int(pause_s * RATE), np.float32)
        pieces = []
        for part in parts:
            audio = np.concatenate(list(tts.synthesize(part, CancelToken.never())))
            pieces += [resample(audio, tts.sample_rate_hz, RATE), gap]
        return np.concatenate(pieces[:-1])

    return speak


def talk(tmp_path: Path, store, audio: np.ndarray) -> tuple[str, list[str], str]:
    """(stdout, the reply files' lines, the -v log) of one headless spoken turn."""
    clip = tmp_path / "said.wav"
    write_wav(clip, audio, RATE)
    config = tmp_path / "config.toml"
    config.write_text(f'[models]\ndir = "{store.root}"\n[llm]\ntemperature = 0.0\n')
    env = {"ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "out"
    done = assistant("-v", "talk", "--input", str(clip), "--output-dir", str(out), env=env,
                     timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    replies = sorted(out.glob("reply_*.txt"))
    return done.stdout, [r.read_text() for r in replies], done.stderr


def test_a_pause_mid_sentence_is_waited_through(tmp_path: Path, real_store, say) -> None:
    stdout, replies, log = talk(
        tmp_path, real_store, say("Can you add nineteen and", "twenty-three?")
    )
    assert len(replies) == 1, stdout  # one turn, not a fragment and then the rest
    user, assistant_said = replies[0].splitlines()[:2]
    assert "19" in user and "23" in user, user
    assert "42" in assistant_said or "forty-two" in assistant_said.lower(), assistant_said
    assert "keep listening" in log  # the pause was judged unfinished


def test_a_complete_question_ends_the_turn_at_once(tmp_path: Path, real_store, say) -> None:
    stdout, replies, log = talk(tmp_path, real_store, say("What is the capital of France?"))
    assert len(replies) == 1 and "paris" in replies[0].lower(), replies
    assert "end the turn" in log, log[-2000:]  # ended by the judge, not after 2.5 s of silence


def test_a_misjudged_pause_is_repaired(tmp_path: Path, real_store, say) -> None:
    # "Tell me a joke" is a whole request: the judge ends the turn in the pause. The rest comes
    # ~0.6 s after the words (0.4 s between the clips), before the answer is heard (this
    # `--input` loop has no echo canceller: once its answer plays, it cannot hear the user).
    stdout, _, log = talk(
        tmp_path, real_store, say("Tell me a joke", "about a penguin.", pause_s=0.4)
    )
    assert "end the turn" in log and "continues that turn" in log, log[-3000:]
    with ConversationStore(tmp_path / "data" / DB_NAME) as saved:
        messages = saved.messages(saved.latest())
    users = [m.content for m in messages if m.role == "user"]
    assert len(users) == 1 and "joke" in users[0].lower() and "penguin" in users[0].lower(), users
    assert messages[-1].role == "assistant" and messages[-1].content, stdout


def test_the_judge_reads_its_instructions_when_it_loads(real_store) -> None:
    from models.end_of_turn import TextTurnJudge

    judge = TextTurnJudge(real_store.file_path(Config().vad.end_of_turn_model))
    assert judge._evaluated == judge._head  # the first pause evaluates only its words
    fresh = TextTurnJudge(real_store.file_path(Config().vad.end_of_turn_model))
    fresh._evaluated = []  # as if nothing had been read: the verdict must not depend on it
    text = "What is the capital of France?"
    assert abs(judge.judge(text).probability - fresh.judge(text).probability) < 1e-3
