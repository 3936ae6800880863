"""Fakes for fast logic tests: a scripted chat model that records what it was asked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from assistant_app.cancel import CancelToken
from assistant_app.messages import ChatMessage, ReplyDelta


class FakeChatModel:
    """Replies with scripted texts, one word per delta; records every request."""

    name = "fake"
    context_tokens = 4096

    def __init__(self, replies: list[str], on_delta=None) -> None:  # noqa: ANN001
        self.replies = list(replies)
        self.requests: list[list[ChatMessage]] = []
        self.on_delta = on_delta

    def stream_reply(
        self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]], cancel: CancelToken
    ) -> Iterator[ReplyDelta]:
        self.requests.append(list(messages))
        for i, word in enumerate(self.replies.pop(0).split(" ")):
            if cancel.cancelled:
                break
            yield ReplyDelta(text=word if i == 0 else " " + word, turn=cancel.turn)
            if self.on_delta:
                self.on_delta(i)
        yield ReplyDelta(finished=True, turn=cancel.turn)
