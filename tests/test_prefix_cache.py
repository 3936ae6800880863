"""A prompt's fixed start, evaluated once and kept on disk: the file format and pruning, then
the real llama.cpp model restoring it in a new process's place (a new model instance)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ChatMessage
from models.prefix_cache import KEEP_FILES, MAGIC, _load, _prune, shared_prefix

PREFIX = [
    ChatMessage("system", "You are a terse assistant. Answer in one short sentence."),
    ChatMessage("user", "Name a colour."),
    ChatMessage("assistant", "Blue."),
]
ASK = [*PREFIX, ChatMessage("user", "Name a fruit.")]


def _fruit(model) -> str:  # noqa: ANN001 - a LlamaChatModel
    """The model's greedy reply to ASK."""
    deltas = model.stream_reply(ASK, [], CancelToken.never(), max_tokens=12, temperature=0)
    return "".join(d.text for d in deltas)


def test_shared_prefix_stops_at_the_first_difference() -> None:
    assert shared_prefix([1, 2, 3, 4], [1, 2, 9, 4]) == [1, 2]
    assert shared_prefix([1, 2], [1, 2, 3]) == [1, 2] and shared_prefix([], [1]) == []


def test_only_the_newest_states_are_kept(tmp_path: Path) -> None:
    for n in range(KEEP_FILES + 2):
        state = tmp_path / f"{n}.kv"
        state.write_bytes(b"x")
        os.utime(state, (1000 + n, 1000 + n))
    _prune(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.kv")) == [f"{n}.kv" for n in range(2, 6)]


def test_a_foreign_or_mismatched_file_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "a.kv"
    foreign.write_bytes(b"not a state")
    with pytest.raises(ValueError, match="not a saved prompt state"):
        _load(None, foreign, [1, 2])
    header = b'{"tokens": [1, 2, 3], "bytes": 4}'
    other = tmp_path / "b.kv"
    other.write_bytes(MAGIC + len(header).to_bytes(8, "little") + header + b"abcd")
    with pytest.raises(ValueError, match="do not match"):
        _load(None, other, [1, 2])


@pytest.mark.models
def test_a_kept_prefix_is_loaded_by_the_next_model_and_changes_no_reply(
    real_store, tmp_path: Path
) -> None:
    from models.llm import LlamaChatModel

    gguf = real_store.file_path("qwen2.5-coder-0.5b-instruct")
    expected = _fruit(LlamaChatModel(gguf))  # no kept prefix at all
    heard: list[int] = []
    first = LlamaChatModel(gguf)
    assert first.keep_prefix(PREFIX, tmp_path, heard.append) is False  # evaluated, then saved
    (saved,) = tmp_path.glob("*.kv")
    assert heard and heard[0] > 20 and _fruit(first) == expected
    second = LlamaChatModel(gguf)  # as a later process would
    assert second.keep_prefix(PREFIX, tmp_path, heard.append) is True and len(heard) == 1
    assert _fruit(second) == expected
    saved.write_bytes(saved.read_bytes()[:-100])  # a torn file: evaluated again and rewritten
    third = LlamaChatModel(gguf)
    assert third.keep_prefix(PREFIX, tmp_path, heard.append) is False and len(heard) == 2
    assert _fruit(third) == expected and LlamaChatModel(gguf).keep_prefix(PREFIX, tmp_path)


@pytest.mark.models
def test_a_turn_start_evaluated_ahead_leaves_only_the_words_and_changes_no_reply(
    real_store,
) -> None:
    from models.llm import LlamaChatModel

    gguf = real_store.file_path("qwen2.5-coder-0.5b-instruct")
    expected = _fruit(LlamaChatModel(gguf))
    model = LlamaChatModel(gguf)
    evaluated = model.prefill(PREFIX, [])  # while the user is speaking
    assert evaluated > 20
    assert model.prefill(PREFIX, []) == 0  # already there: nothing to do
    # The request evaluates only the user message itself; the reply is the same.
    whole = model._tokens(ASK, [])[0]
    assert len(whole) - model._llm.n_tokens < 15
    assert _fruit(model) == expected
    longer = [*ASK, ChatMessage("assistant", expected), ChatMessage("system", "Be brief.")]
    assert 0 < model.prefill(longer, []) < len(model._tokens(longer, [])[0]) - evaluated


@pytest.mark.models
def test_words_read_ahead_leave_the_model_nothing_to_read_and_change_no_reply(
    real_store,
) -> None:
    from models.llm import LlamaChatModel

    gguf = real_store.file_path("qwen2.5-coder-0.5b-instruct")
    expected = _fruit(LlamaChatModel(gguf))
    model = LlamaChatModel(gguf)
    whole = model._tokens(ASK, [])[0]
    model.prefill(PREFIX, [], "Name a")  # heard while the user speaks: up to those words
    assert whole[: model._llm.n_tokens] == model._llm.input_ids[: model._llm.n_tokens].tolist()
    left = len(whole) - model._llm.n_tokens
    assert 3 < left < 10  # " fruit.", the end of the message and the reply's opening
    # At the pause, all the words: the rest is read, up to the reply.
    assert model.prefill(PREFIX, [], "Name a fruit.", whole=True) == left
    assert model._llm.input_ids[: model._llm.n_tokens].tolist() == whole
    assert _fruit(model) == expected


def _interrupted_reading_ahead(real_store, interrupt) -> tuple:  # noqa: ANN001
    """A long prompt evaluated ahead in a thread, `interrupt(model)` called once its first
    piece is in; returns the model and whether it stopped after a piece or two."""
    import threading
    import time

    from models.llm import PREFILL_PIECE, LlamaChatModel

    model = LlamaChatModel(real_store.file_path("qwen2.5-coder-0.5b-instruct"))
    long = [ChatMessage("system", "Be terse. " + "Answer in one short sentence. " * 60), *ASK[1:]]
    evaluated: list[int] = []
    ahead = threading.Thread(target=lambda: evaluated.append(model.prefill(long, [])))
    ahead.start()
    while model._llm.n_tokens == 0:  # until the first piece is in
        time.sleep(0.001)
    interrupt(model)
    ahead.join()
    return model, 0 < evaluated[0] <= 2 * PREFILL_PIECE < len(model._tokens(long, [])[0]) - 100


@pytest.mark.models
def test_a_request_does_not_wait_for_a_long_evaluation_ahead(real_store) -> None:
    def ask(model) -> None:  # noqa: ANN001
        deltas = model.stream_reply(ASK, [], CancelToken.never(), max_tokens=4, temperature=0)
        assert "".join(d.text for d in deltas)

    # It gave way after a piece or two, not the whole long prompt.
    assert _interrupted_reading_ahead(real_store, ask)[1]


@pytest.mark.models
def test_an_evaluation_ahead_stops_when_told_to_give_way(real_store) -> None:
    # The voice stops: nothing will ask for the rest.
    model, stopped = _interrupted_reading_ahead(real_store, lambda model: model.give_way())
    assert stopped
    assert model.prefill(ASK, []) > 0  # the next evaluation ahead runs as before
