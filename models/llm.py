"""Chat models: a GGUF run in this process by llama-cpp-python, streamed token by token."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant_app.cancel import CancelToken
from assistant_app.config import LlmConfig
from assistant_app.engines import ChatModel
from assistant_app.errors import ConfigError, ModelUnavailable
from assistant_app.messages import ChatMessage, ReplyDelta
from models.store import ModelStore
from models.tool_calls import HeldReply

log = logging.getLogger(__name__)


class LlamaChatModel:
    """llama-cpp-python with the model's own chat template (it carries the tool-call format).

    The KV cache of the previous request is reused for the longest common prefix, so a fixed
    system prompt is evaluated once: `warm_up` does that at start-up.
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
    ) -> None:
        from llama_cpp import Llama

        self.name = name or gguf.stem
        self.context_tokens = context_tokens
        self._max_tokens = max_reply_tokens
        self._temperature = temperature
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

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def warm_up(self, system_prompt: str) -> None:
        """Evaluates the system prompt so the first real turn starts from a warm cache."""
        warm_prefix(self, system_prompt)

    def stream_reply(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]],
        cancel: CancelToken,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[ReplyDelta]:
        """Streams text deltas, then one finished delta. Stops within a token when cancelled."""
        stream = self._llm.create_chat_completion(
            messages=[m.as_dict() for m in messages],
            tools=list(tools) or None,
            temperature=self._temperature if temperature is None else temperature,
            max_tokens=max_tokens or self._max_tokens,
            stream=True,
        )
        held = HeldReply(bool(tools))
        try:
            for chunk in stream:
                if cancel.cancelled:
                    break
                if text := held.push(chunk["choices"][0]["delta"].get("content") or ""):
                    yield ReplyDelta(text=text, turn=cancel.turn)
        finally:
            stream.close()
        calls, rest = held.finish(cancel.cancelled)
        for call in calls:
            yield ReplyDelta(tool_call=call, turn=cancel.turn)
        if rest:
            yield ReplyDelta(text=rest, turn=cancel.turn)
        yield ReplyDelta(finished=True, turn=cancel.turn)


def warm_prefix(model, system_prompt: str) -> None:  # noqa: ANN001 - any model with max_tokens
    """One token of a reply after `system_prompt`: the model's prefix cache then holds it."""
    messages = [ChatMessage("system", system_prompt), ChatMessage("user", "Hi")]
    for _ in model.stream_reply(messages, [], CancelToken.never(), max_tokens=1):
        pass


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
    )
