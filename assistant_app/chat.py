"""`assistant chat`: a text conversation with the chat model, streamed token by token."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from assistant_app.cancel import CancelToken, TurnCounter
from assistant_app.engines import ChatModel
from assistant_app.messages import ChatMessage, ToolCall
from assistant_app.tools import Tool, ToolBox

Ask = Callable[[Tool, ToolCall], bool]  # may this call run? (the user's answer)
OnTool = Callable[[ToolCall, str], None]


def refuse(tool: Tool, call: ToolCall) -> bool:
    """Where nobody can be asked, a tool set to "ask" does not run."""
    return False


HELP = "Commands: /reset starts over, /quit leaves (so does Ctrl+D). Ctrl+C stops a reply."


class ChatSession:
    """A conversation in memory: the system prompt, what was said, and the tools it may use.

    A turn may take several steps: the model calls tools, reads their results, and answers.
    """

    def __init__(
        self,
        model: ChatModel,
        system_prompt: str,
        toolbox: ToolBox | None = None,
        *,
        ask: Ask = refuse,
        on_tool: OnTool | None = None,
        max_steps: int = 4,
    ) -> None:
        self.model = model
        self.system = ChatMessage("system", system_prompt)
        self.history: list[ChatMessage] = []
        self.turns = TurnCounter()
        self.toolbox = toolbox or ToolBox([])
        self.ask = ask
        self.on_tool = on_tool
        self.max_steps = max_steps

    def stream(self, text: str, cancel: CancelToken | None = None) -> Iterator[str]:
        """Yields the reply to `text` piece by piece; the history gets what was yielded."""
        token = cancel or self.turns.token()
        turn = [ChatMessage("user", text)]
        parts: list[str] = []
        seen: set[str] = set()
        specs = self.toolbox.specs()
        try:
            for _ in range(self.max_steps):
                calls = []
                messages = [self.system, *self.history, *turn]
                for delta in self.model.stream_reply(messages, specs, token):
                    if delta.tool_call is not None:
                        calls.append(delta.tool_call)
                    elif delta.text:
                        parts.append(delta.text)
                        yield delta.text
                if not calls and not parts and specs and not token.cancelled:
                    specs = []  # nothing usable with tools offered: ask again without them
                    continue
                if not calls or token.cancelled:
                    return
                repeated = {repr(c.as_dict()["function"]) for c in calls} & seen
                if repeated:
                    # Small models repeat a call whose result they already have: take the
                    # tools away so the next step must answer from the results.
                    specs = []
                    continue
                seen |= {repr(c.as_dict()["function"]) for c in calls}
                turn.append(ChatMessage("assistant", "", tool_calls=tuple(calls)))
                # Tool results are kept even if the user stops the reply right after.
                turn += [ChatMessage("tool", self._run(call), name=call.name) for call in calls]
            note = f"(I stopped after {self.max_steps} tool steps without an answer.)"
            parts.append(note)
            yield note
        finally:
            # What was shown stays in the history, even when stopped part way.
            turn.append(ChatMessage("assistant", "".join(parts).strip()))
            self.history += turn

    def _run(self, call: ToolCall) -> str:
        found = self.toolbox.get(call.name)
        if found is not None and found.permission == "ask" and not self.ask(found, call):
            result = f"Error: the user did not allow this {call.name} call."
        else:
            result = self.toolbox.run(call)
        if self.on_tool is not None:
            self.on_tool(call, result)
        return result

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


def ask_on_terminal(tool: Tool, call: ToolCall) -> bool:
    """Shows exactly what would run and asks; anything but yes is no."""
    shown = "\n".join(f"  {k}: {v}" for k, v in call.arguments.items())
    sys.stderr.write(f"The assistant wants to run {tool.name}:\n{shown}\nAllow? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def show_tool_use(call: ToolCall, result: str) -> None:
    """One line per tool call on stderr, so piped stdout stays the answer alone."""
    args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
    sys.stderr.write(f"({call.name}({args}) -> {result[:200]})\n")
    sys.stderr.flush()


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
