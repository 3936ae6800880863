"""One thread evaluates for every llama.cpp model, whichever thread asks (models/compute.py)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.messages import ChatMessage
from models import compute


def _threads_of(calls: int) -> set[str]:
    """The names of the threads that ran `calls` jobs asked for from as many threads."""
    seen: set[str] = set()

    def ask() -> None:
        compute.run(lambda: seen.add(threading.current_thread().name))

    askers = [threading.Thread(target=ask) for _ in range(calls)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    return seen


def test_jobs_asked_for_from_many_threads_run_on_one() -> None:
    assert _threads_of(4) == {"llama.cpp"}
    assert compute.run(lambda: 6 * 7) == 42


def test_a_job_that_fails_raises_in_the_thread_that_asked() -> None:
    def fail() -> None:
        raise ValueError("bad tokens")

    with pytest.raises(ValueError, match="bad tokens"):
        compute.run(fail)
    assert compute.run(lambda: "still working") == "still working"


def test_a_job_may_ask_for_another_without_waiting_on_itself() -> None:
    assert compute.run(lambda: compute.run(lambda: "inner") + " and outer") == "inner and outer"


@contextlib.contextmanager
def _ctrl_c_after(seconds: float) -> Iterator[None]:
    """Ctrl+C reaches the main thread `seconds` in; the block must end in KeyboardInterrupt."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        threading.Timer(seconds, signal.raise_signal, (signal.SIGINT,)).start()
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_evaluation_in_progress_finishes_before_ctrl_c_reaches_the_caller() -> None:
    finished = threading.Event()

    def evaluation() -> None:
        time.sleep(0.4)
        finished.set()

    with _ctrl_c_after(0.1):
        compute.run(evaluation)
    assert finished.is_set()  # the model's token count is settled before the next request


class _Recorder:
    def __init__(self, n_batch: int = 512) -> None:
        self.threads: list[str] = []
        self.batches: list[list[int]] = []
        self.n_batch = n_batch

    def eval(self, tokens: list[int]) -> None:
        self.threads.append(threading.current_thread().name)
        self.batches.append(list(tokens))


def test_a_models_evaluations_are_moved_to_the_one_thread() -> None:
    model = _Recorder()
    compute.evaluate_on_one_thread(model)
    askers = [threading.Thread(target=model.eval, args=([1, 2],)) for _ in range(3)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    model.eval([3])
    assert model.threads == ["llama.cpp"] * 4


def _last_logits(llm) -> np.ndarray:  # noqa: ANN001 - a llama_cpp.Llama
    import llama_cpp

    row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).copy()


def test_a_long_prompt_goes_a_batch_at_a_time_and_ctrl_c_stops_it_after_one() -> None:
    model = _Recorder(n_batch=2)
    compute.evaluate_on_one_thread(model)
    model.eval([1, 2, 3, 4, 5])
    assert model.batches == [[1, 2], [3, 4], [5]]

    real = _Recorder.eval

    def slow_eval(self: _Recorder, tokens: list[int]) -> None:
        time.sleep(0.3)
        real(self, tokens)

    model = _Recorder(n_batch=2)
    model.eval = slow_eval.__get__(model)
    compute.evaluate_on_one_thread(model)
    with _ctrl_c_after(0.1):
        model.eval([1, 2, 3, 4, 5])
    assert model.batches == [[1, 2]]  # the batch in progress finished; no more were begun


@pytest.mark.models
def test_the_chat_model_evaluates_on_the_one_thread_and_answers_the_same(real_store) -> None:
    from llama_cpp import Llama

    from models.llm import LlamaChatModel

    gguf = real_store.file_path("smollm2-135m-instruct")
    direct = Llama(model_path=str(gguf), n_ctx=512, n_threads=2, verbose=False)
    tokens = direct.tokenize(b"The capital of France is")
    direct.eval(tokens)
    expected = _last_logits(direct)

    seen: list[str] = []
    real_eval = Llama.eval

    def recorded(self: Llama, batch: list[int]) -> None:
        seen.append(threading.current_thread().name)
        real_eval(self, batch)

    Llama.eval = recorded
    try:
        chat = LlamaChatModel(gguf, context_tokens=512, max_reply_tokens=8, temperature=0.0)
    finally:
        Llama.eval = real_eval
    asker = threading.Thread(target=chat._llm.eval, args=(tokens,))
    asker.start()
    asker.join()
    assert np.allclose(_last_logits(chat._llm), expected, atol=1e-3)
    reply = "".join(
        d.text for d in chat.stream_reply([ChatMessage("user", "Say hi.")], [], CancelToken.never())
    )
    assert reply.strip() and set(seen) == {"llama.cpp"}
