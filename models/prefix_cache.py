"""A llama.cpp context's evaluated prompt prefix, kept on disk between processes.

A fixed start of every request (a long system prompt with a worked example) costs the same
prompt evaluation in every process: ~20 s for 1,300 tokens of a 1.5B model on two cores. Its
KV state is ~28 KB a token for that model and loads in well under a second, so it is saved
once and loaded after. Only llama.cpp's own state bytes are kept (llama-cpp-python's
`save_state` also copies a 300 MB logits array that a longer request never reads)."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
KEEP_FILES = 4  # newest states kept; older ones (a changed prompt, another model) are removed
MAGIC = b"ASSISTANT-KV1\n"


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """The tokens `a` and `b` start with in common."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return list(a[:n])


def state_key(llm: Any, tokens: Sequence[int]) -> str:
    """Names one state: the llama.cpp build, the weights, the context size and the tokens."""
    import llama_cpp

    model = Path(llm.model_path)
    head = f"{llama_cpp.__version__}|{model.name}|{model.stat().st_size}|{llm.n_ctx()}|"
    digest = hashlib.sha256(head.encode() + json.dumps(list(tokens)).encode())
    return digest.hexdigest()[:32]


def restore_or_evaluate(
    llm: Any,
    tokens: Sequence[int],
    folder: Path | None,
    evaluating: Callable[[int], None] | None = None,
) -> bool:
    """Leaves `llm` with `tokens` evaluated, from `folder` when a state for them is there
    (True), else by evaluating them and saving the state for the next process (False).
    `evaluating` hears the token count before a (slow) evaluation."""
    path = folder / f"{state_key(llm, tokens)}.kv" if folder is not None else None
    if path is not None and path.exists():
        try:
            _load(llm, path, tokens)
            os.utime(path)  # recently used: pruned last
            return True
        except (OSError, ValueError) as exc:
            log.warning("the saved prompt state %s is unusable (%s); evaluating again", path, exc)
            path.unlink(missing_ok=True)
    if evaluating is not None:
        evaluating(len(tokens))
    llm.reset()
    llm.eval(list(tokens))
    if path is not None:
        try:
            _save(llm, path, tokens)
            _prune(path.parent)
        except OSError as exc:  # a read-only or full disk: the next process evaluates again
            log.warning("could not save the prompt state to %s: %s", path, exc)
    return False


def _save(llm: Any, path: Path, tokens: Sequence[int]) -> None:
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llm.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    used = int(llama_cpp.llama_state_get_data(llm.ctx, buffer, size))
    header = json.dumps({"tokens": list(tokens), "bytes": used}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with partial.open("wb") as out:
        out.write(MAGIC + len(header).to_bytes(8, "little") + header)
        out.write(memoryview(buffer)[:used])
    partial.replace(path)


def _load(llm: Any, path: Path, tokens: Sequence[int]) -> None:
    import llama_cpp

    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise ValueError("not a saved prompt state")
    start = len(MAGIC) + 8
    length = int.from_bytes(data[len(MAGIC) : start], "little")
    header = json.loads(data[start : start + length])
    state = data[start + length :]
    if header["tokens"] != list(tokens) or header["bytes"] != len(state):
        raise ValueError("its tokens or size do not match")
    llm.reset()
    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if llama_cpp.llama_state_set_data(llm.ctx, buffer, len(state)) != len(state):
        raise ValueError("llama.cpp refused it")
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True  # no live logits: a request equal to the prefix re-evaluates one


def _prune(folder: Path) -> None:
    states = sorted(folder.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[KEEP_FILES:]:
        old.unlink(missing_ok=True)
