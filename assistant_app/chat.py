"""`assistant chat`: a text conversation with the chat model, streamed token by token."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TextIO

from assistant_app.cancel import CancelToken, TurnCounter
from assistant_app.engines import ChatModel
from assistant_app.messages import ChatMessage

HELP = "Commands: /reset starts over, /quit leaves (so does Ctrl+D). Ctrl+C stops a reply."


class ChatSession:
    """A conversation in memory: the system prompt plus what was said."""

    def __init__(self, model: ChatModel, system_prompt: str) -> None:
        self.model = model
        self.system = ChatMessage("system", system_prompt)
        self.history: list[ChatMessage] = []
        self.turns = TurnCounter()

    def stream(self, text: str, cancel: CancelToken | None = None) -> Iterator[str]:
        """Yields the reply to `text` piece by piece; the history gets what was yielded."""
        token = cancel or self.turns.token()
        parts: list[str] = []
        messages = [self.system, *self.history, ChatMessage("user", text)]
        try:
            for delta in self.model.stream_reply(messages, [], token):
                if delta.text:
                    parts.append(delta.text)
                    yield delta.text
        finally:
            # What was shown stays in the history, even when stopped part way.
            answer = "".join(parts).strip()
            self.history += [ChatMessage("user", text), ChatMessage("assistant", answer)]

    def stop(self) -> None:
        """Cancels the reply in progress (from any thread)."""
        self.turns.advance()

    def reply(self, text: str, out: TextIO) -> str:
        """Streams the answer to `text` into `out`; Ctrl+C stops it and keeps what was shown."""
        try:
            for piece in self.stream(text):
                out.write(piece)
                out.flush()
        except KeyboardInterrupt:
            self.stop()
            out.write(" [stopped]")
        out.write("\n")
        return self.history[-1].content


def run_repl(session: ChatSession, stdin: TextIO | None = None, out: TextIO | None = None) -> None:
    """Reads lines until end of input; a terminal gets a prompt, a pipe just the answers."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        out.write(f"Chatting with {session.model.name}. {HELP}\n")
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            out.write("\n")
            continue
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text == "/reset":
            session.history.clear()
            out.write("(conversation cleared)\n")
            continue
        if text.startswith("/"):
            out.write(f"Unknown command {text}. {HELP}\n")
            continue
        session.reply(text, out)
