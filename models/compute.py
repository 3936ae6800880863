"""One thread runs the llama.cpp evaluations of every multi-threaded model in the process.

llama.cpp shares its work between threads with OpenMP (GNU libgomp). Each thread that asks
for an evaluation keeps a pool of OpenMP workers for as long as it lives, and once the
process holds more of them than there are cores, libgomp stops spinning at its barriers and
sleeps in the kernel instead (its "throttled" spin): ~375 sleeps a token here. The voice loop
asks from three threads (reading ahead while the user speaks, answering, judging pauses), so
every token of the 1.5B model took 90 ms instead of 69 ms (bench/llama_threads.py). Handing
each evaluation to one long-lived thread keeps a single pool, whichever thread asks.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_jobs: queue.SimpleQueue = queue.SimpleQueue()
_thread: threading.Thread | None = None
_start = threading.Lock()


def _work() -> None:
    while True:
        job, done, box = _jobs.get()
        try:
            box.append((True, job()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller, raised there
            box.append((False, exc))
        done.set()


def run(job: Callable[[], T]) -> T:
    """`job()`, run on the evaluating thread; its result, or its exception raised here."""
    global _thread
    if threading.current_thread() is _thread:
        return job()
    with _start:
        if _thread is None:
            _thread = threading.Thread(target=_work, name="llama.cpp", daemon=True)
            _thread.start()
    done, box = threading.Event(), []
    _jobs.put((job, done, box))
    interrupted = None
    while not done.is_set():
        try:
            done.wait()
        except KeyboardInterrupt as exc:  # the evaluation finishes first: the model's state
            interrupted = exc  # (its token count) must not change under the next request
    if interrupted is not None:
        raise interrupted
    ok, value = box[0]
    if not ok:
        raise value
    return value


def evaluate_on_one_thread(llm: Any) -> None:
    """Makes `llm.eval` (a llama_cpp.Llama's, which generation and prompts go through) run
    on the evaluating thread, a batch (`n_batch` tokens) at a time, as `eval` itself goes: a
    long prompt stopped by Ctrl+C stops after the batch in progress, as it did before."""
    evaluate = llm.eval

    def on_one_thread(tokens: Any) -> None:
        step = getattr(llm, "n_batch", 0) or max(1, len(tokens))
        for start in range(0, len(tokens), step):
            batch = tokens[start : start + step]
            run(lambda batch=batch: evaluate(batch))

    llm.eval = on_one_thread
