"""Chat models: a GGUF run in this process by llama-cpp-python, streamed token by token."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant_app.core.cancel import CancelToken
from assistant_app.core.config import LlmConfig
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import ConfigError, ModelUnavailable, UserVisibleError
from assistant_app.core.messages import ChatMessage, ReplyDelta, unfolded
from models.compute import evaluate_on_one_thread
from models.constrained import (
    CALL_END,
    CALL_PREFIX,
    CallGrammars,
    closed,
    fitting_call,
    looping,
    object_end,
    opens_a_call,
    read_call,
)
from models.store import ModelStore
from models.tool_calls import HeldReply

log = logging.getLogger(__name__)
# Tokens evaluated at a time ahead of a request: ~0.45 s of the 1.5B on two cores, at ~4 % more
# per token than one batch (10 tokens: ~15 % more).
PREFILL_PIECE = 16
# A call whose code went round in a loop is written once more with repeats held back.
LOOP_PENALTY = 1.3


class LlamaChatModel:
    """llama-cpp-python with the model's own chat template (it carries the tool-call format).

    The KV cache of the previous request is reused for the longest common prefix, so a fixed
    system prompt is evaluated once (the chat session warms it at start-up).
    """

    def __init__(
        self,
        gguf: Path,
        *,
        name: str = "",
        threads: int = 2,
        context_tokens: int = 4096,
        max_reply_tokens: int = 512,
        temperature: float = 0.2,
        tool_calls: str = "free",
    ) -> None:
        from llama_cpp import Llama

        self.name = name or gguf.stem
        self.context_tokens = context_tokens
        self._max_tokens = max_reply_tokens
        self._temperature = temperature
        self._free_calls = tool_calls == "free"
        try:
            self._llm = Llama(
                model_path=str(gguf),
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelUnavailable(
                self.name,
                f"llama.cpp could not load {gguf} ({exc})",
                fix=f"run `assistant models verify {self.name}`.",
            ) from None
        evaluate_on_one_thread(self._llm)  # whichever thread asks (models/compute.py)
        self._format = _chat_formatter(self._llm)
        self._grammars = CallGrammars()
        self._busy = threading.RLock()
        self._asked = threading.Event()  # a request waits: evaluating ahead gives way
        self._halts = 0  # bumped by `give_way`: evaluating ahead stops after its piece

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def keep_prefix(
        self,
        messages: Sequence[ChatMessage],
        folder: Path | None = None,
        evaluating: Callable[[int], None] | None = None,
    ) -> bool:
        """Evaluates `messages`, the fixed start of the coming requests, so that each of them
        evaluates only what follows. With `folder`, the evaluated state is saved there and a
        later process loads it instead (True when it was loaded). `evaluating` hears the
        token count when they have to be evaluated."""
        from models.prefix_cache import restore_or_evaluate, shared_prefix

        # What any longer conversation shares: the tokens up to where a next message differs.
        a, b = (self._tokens([*messages, ChatMessage("user", x)], [])[0] for x in "ab")
        with self._busy:
            return restore_or_evaluate(self._llm, shared_prefix(a, b), folder, evaluating)

    def prefill(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        words: str = "",
        whole: bool = False,
    ) -> int:
        """Evaluates the start the next request will have (`messages` with `tools`, then a user
        message beginning with `words`, up to where what follows could differ; `whole`: the
        user message is `words`, up to the reply), reusing what is already evaluated. Done
        while the user is still speaking, it leaves the model only their last words to read.
        Returns the number of tokens evaluated."""
        from models.prefix_cache import shared_prefix

        if whole:
            tokens = self._tokens([*messages, ChatMessage("user", words)], tools)[0]
        else:
            a, b = (self._tokens([*messages, ChatMessage("user", f"{words} {x}".lstrip())],
                                 tools)[0] for x in "ab")  # fmt: skip
            tokens = shared_prefix(a, b)
        halts = self._halts
        with self._busy:
            done = self._llm.input_ids[: self._llm.n_tokens].tolist()
            same = min(_common_prefix(done, tokens), len(tokens))
            self._llm.n_tokens = same  # what follows is overwritten
            # In pieces, so that a request arriving meanwhile waits for one piece at most
            # (~0.4 s), not for the whole; what was evaluated stays for it.
            for start in range(same, len(tokens), PREFILL_PIECE):
                if self._asked.is_set() or self._halts != halts:
                    break
                self._llm.eval(tokens[start : start + PREFILL_PIECE])
            return self._llm.n_tokens - same

    def give_way(self) -> None:
        """Stops an evaluation ahead in progress after its current piece (the voice is
        stopping: nothing will ask for it)."""
        self._halts += 1

    def _tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]]
    ) -> tuple[list[int], Any]:
        """The prompt's tokens (a last assistant message is continued) and its stop strings."""
        prefill = messages[-1].content if messages and messages[-1].role == "assistant" else ""
        if prefill:
            messages = messages[:-1]
        prompt = self._format(messages=unfolded(messages), tools=list(tools) or None)
        text = (prompt.prompt + prefill).encode("utf-8")
        return self._llm.tokenize(text, add_bos=not prompt.added_special, special=True), prompt.stop

    def stream_reply(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        cancel: CancelToken,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        tool_choice: str = "auto",
    ) -> Iterator[ReplyDelta]:
        """Streams text deltas, then one finished delta. Stops within a token when cancelled.

        A reply that opens a tool call is cut there and the call is written again under a
        grammar built from the tools' schemas, so its name and arguments are always valid.
        A last assistant message is the start of the reply: what streams continues it."""
        self._asked.set()
        with self._busy:  # one request at a time: a typed and a spoken turn may meet here
            self._asked.clear()
            yield from self._stream(messages, tools, cancel, max_tokens, temperature, tool_choice)

    def _stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        cancel: CancelToken,
        max_tokens: int | None,
        temperature: float | None,
        tool_choice: str,
    ) -> Iterator[ReplyDelta]:
        tokens, stop = self._tokens(messages, tools)
        if len(tokens) >= self.context_tokens:
            raise UserVisibleError(
                f"This message is too long for the model: {len(tokens)} tokens with the "
                f"conversation, its window holds {self.context_tokens}. Shorten it, or raise "
                "[llm] context_tokens."
            )
        if log.isEnabledFor(logging.DEBUG):
            cached = _common_prefix(self._llm.input_ids.tolist(), tokens)
            log.debug("prompt: %d tokens, %d of them already evaluated", len(tokens), cached)
        settings = {
            "temperature": self._temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self._max_tokens,
            "stop": stop,
        }
        named = [t for t in tools if t["function"]["name"] == tool_choice]
        if tools and (tool_choice == "required" or named):  # the reply is a call
            yield from self._constrained_call(tokens, named or tools, settings, cancel, bool(named))
            yield ReplyDelta(finished=True, turn=cancel.turn)
            return
        stream = self._llm.create_completion(tokens, stream=True, **settings)
        held = HeldReply(bool(tools) and tool_choice != "none")  # else a call is the caller's
        calling = False
        try:
            for chunk in stream:
                if cancel.cancelled:
                    break
                text = held.push(chunk["choices"][0]["text"])
                if held.holding and opens_a_call(held.held):
                    calling = True
                    break
                if text:
                    yield ReplyDelta(text=text, turn=cancel.turn)
        finally:
            stream.close()
        if calling and not cancel.cancelled:
            yield from self._constrained_call(tokens, tools, settings, cancel)
        else:
            calls, rest = held.finish(cancel.cancelled)
            for call in calls:
                yield ReplyDelta(tool_call=call, turn=cancel.turn)
            if rest:
                yield ReplyDelta(text=rest, turn=cancel.turn)
        yield ReplyDelta(finished=True, turn=cancel.turn)

    def _constrained_call(
        self,
        prompt: list[int],
        tools: Sequence[dict[str, Any]],
        settings: dict[str, Any],
        cancel: CancelToken,
        named: bool = False,
    ) -> Iterator[ReplyDelta]:
        """The call a reply opened. It is first written freely after the opening, which is
        fast; when that names no tool or misses its arguments (or [llm] tool_calls is
        "grammar"), it is written under a grammar from the tools' schemas (always valid, but
        ~0.1 s a token on two cores). `named`: `tools` is the one tool the call must be to;
        the free writing starts at its arguments."""
        head = _call_head(tools[0]) if named else ""
        opening = self._llm.tokenize(CALL_PREFIX.encode("utf-8"), add_bos=False, special=True)
        started = self._llm.tokenize(head.encode("utf-8"), add_bos=False, special=True)
        # Code arguments run long: a call may use twice a reply's tokens, as the window allows.
        room = self.context_tokens - len(prompt) - len(opening) - len(started) - 8
        settings = {**settings, "max_tokens": max(16, min(2 * settings["max_tokens"], room))}
        free, looped = "", False
        if self._free_calls:
            written = prompt + opening + started
            # Done where the object closes: a model may go on with more calls, never ending.
            # Or where its code goes round in a loop: once more with repeats held back, and
            # not under the grammar (it would loop the same way there, ten times slower).
            done = lambda text: object_end(head + text) is not None or looping(text)  # noqa: E731
            free = self._complete(written, {**settings, "stop": [CALL_END]}, cancel, done)
            if free is not None and looping(free):
                log.warning("a tool call's code went round in a loop; written again")
                again = {**settings, "stop": [CALL_END], "repeat_penalty": LOOP_PENALTY}
                free = self._complete(written, again, cancel, done)
                free, looped = closed(head + free)[len(head) :] if free else free, True
        whole = head + (free or "")
        call = fitting_call(whole[: object_end(whole) or len(whole)], tools) if free else None
        if call is None and free is not None and not looped:
            grammar = self._grammars.for_tools(tools)
            written = self._complete(prompt + opening, {**settings, "grammar": grammar}, cancel)
            call = read_call(written) if written is not None else None
        if call is not None and not cancel.cancelled:
            yield ReplyDelta(tool_call=call, turn=cancel.turn)

    def _complete(
        self,
        tokens: list[int],
        settings: dict[str, Any],
        cancel: CancelToken,
        done: Callable[[str], bool] = lambda text: False,
    ) -> str | None:
        """The text that follows `tokens`, up to where `done` says it is; None when cancelled
        part way."""
        stream = self._llm.create_completion(tokens, stream=True, **settings)
        written = ""
        try:
            for chunk in stream:
                if cancel.cancelled:
                    return None
                written += chunk["choices"][0]["text"]
                if done(written):
                    break
        finally:
            stream.close()
        return written


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _chat_formatter(llm: Any) -> Any:
    """The GGUF's own chat template (it carries the model's tool-call format)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelUnavailable(
            Path(llm.model_path).stem,
            "the GGUF has no chat template",
            fix="use a chat (instruct) model from `assistant models list`.",
        )
    eos, bos = llm.token_eos(), llm.token_bos()
    return Jinja2ChatFormatter(
        template,
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )


def _call_head(spec: dict[str, Any]) -> str:
    """How a call to this tool starts, up to where the model writes: into its one required
    string argument when it has one (small models otherwise write a bare number there)."""
    function = spec["function"]
    head = f'{{"name": "{function["name"]}", "arguments": '
    parameters = function.get("parameters", {})
    required = parameters.get("required", [])
    if len(required) == 1 and parameters["properties"][required[0]].get("type") == "string":
        head += f'{{"{required[0]}": "'
    return head


def create_chat_model(config: LlmConfig, store: ModelStore) -> ChatModel:
    """The chat model named in the config, on its verified weights."""
    if config.engine == "openai":
        from models.openai_compat import OpenAICompatibleChatModel

        if not config.server_url:
            raise ConfigError(
                "[llm] engine = openai needs server_url, e.g. "
                'server_url = "http://localhost:8000/v1".'
            )
        return OpenAICompatibleChatModel(
            config.server_url,
            config.model,
            api_key=config.api_key,
            context_tokens=config.context_tokens,
            max_reply_tokens=config.max_reply_tokens,
            temperature=config.temperature,
        )
    if config.tool_calls not in ("free", "grammar"):
        raise ConfigError(f"[llm] tool_calls must be free or grammar, not '{config.tool_calls}'.")
    if config.engine != "llama-cpp":
        raise ConfigError(
            f"[llm] engine '{config.engine}' is not known. Valid engines: llama-cpp, openai."
        )
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            config.model,
            f"llama-cpp-python is missing ({exc})",
            fix="run scripts/setup to install it.",
        ) from None
    return LlamaChatModel(
        store.file_path(config.model),
        name=config.model,
        threads=config.threads,
        context_tokens=config.context_tokens,
        max_reply_tokens=config.max_reply_tokens,
        temperature=config.temperature,
        tool_calls=config.tool_calls,
    )
