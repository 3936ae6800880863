"""`assistant chat` in a terminal: the read-answer loop, its commands, prompts and progress."""

from __future__ import annotations

import sys
from typing import TextIO

from assistant_app.core.messages import ToolCall
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.context import split_turns
from assistant_app.tools.toolbox import Tool

HELP = (
    "Commands: /context shows what is in the model's window and what it remembers, /forget N "
    "drops remembered fact N, /reset starts over, /quit leaves (so does Ctrl+D). Ctrl+C stops a "
    'reply. Say "remember that ..." to keep a fact across sessions. To paste several lines (a '
    'table), put a line with """ before and after them.'
)
BLOCK = '"""'


def ask_on_terminal(tool: Tool, call: ToolCall) -> bool:
    """Shows exactly what would run and asks; anything but yes is no."""
    shown = "\n".join(f"  {k}: {v}" for k, v in call.arguments.items())
    sys.stderr.write(f"The assistant wants to run {tool.name}:\n{shown}\nAllow? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def show_thinking(attempt: int, total: int, answer: str) -> None:
    """Progress of 'think longer' on stderr: it takes a while, so say what is happening."""
    sys.stderr.write(f"(thinking: attempt {attempt} of up to {total} says {answer or '?'})\n")
    sys.stderr.flush()


def show_tool_use(call: ToolCall, result: str) -> None:
    """One line per tool call on stderr, so piped stdout stays the answer alone."""
    args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
    sys.stderr.write(f"({call.name}({args}) -> {result[:200]})\n")
    sys.stderr.flush()


def describe_context(session: ChatSession) -> str:
    """The `/context` view: how full the window is and what it holds."""
    window, memory = session.window, session.memory
    facts = memory.facts() if memory is not None else []
    lines = [f"remembered facts: {len(facts)}"] + [f"  #{i} {t}" for i, t in facts]
    if window is None or window.last is None:
        lines.append(f"turns in the conversation: {len(split_turns(session.history))}")
        return "\n".join(lines)
    r = window.last
    full = 100 * r.used_tokens // max(1, r.budget_tokens)
    lines[:0] = [
        f"window: {r.used_tokens} of {r.budget_tokens} tokens ({full}% full)",
        f"  system prompt {r.system_tokens}, facts {r.memory_tokens}, summary {r.summary_tokens}",
        f"  turns in the window: {r.turns_in_window}; paged out: {r.turns_paged_out}",
    ]
    if window.summary:
        lines.append(f"summary: {window.summary}")
    return "\n".join(lines)


def forget(session: ChatSession, which: str) -> str:
    """`/forget N` removes remembered fact number N (as `/context` lists them)."""
    if session.memory is None or not which.isdigit():
        return "Use /forget N with a fact number from /context."
    if session.memory.forget(int(which)):
        return f"Forgot fact #{which}."
    return f"There is no fact #{which}; /context lists them."


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
        if text == BLOCK:
            text = _read_block(stdin, out, interactive)
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text == "/context":
            out.write(describe_context(session) + "\n")
            continue
        if text.startswith("/forget"):
            out.write(forget(session, text.removeprefix("/forget").strip()) + "\n")
            continue
        if text == "/reset":
            session.reset()
            out.write("(conversation cleared)\n")
            continue
        if text.startswith("/"):
            out.write(f"Unknown command {text}. {HELP}\n")
            continue
        reply(session, text, out)


def reply(session: ChatSession, text: str, out: TextIO) -> str:
    """Streams the answer to `text` into `out`; Ctrl+C stops it and keeps what was shown."""
    try:
        for piece in session.stream(text):
            out.write(piece)
            out.flush()
    except KeyboardInterrupt:
        session.stop()
        out.write(" [stopped]")
    out.write("\n")
    return session.history[-1].content


def _read_block(stdin: TextIO, out: TextIO, interactive: bool) -> str:
    """The lines up to the closing triple quote (or the end of input), as one message."""
    lines = []
    while True:
        if interactive:
            out.write("...> ")
            out.flush()
        line = stdin.readline()
        if not line or line.strip() == BLOCK:
            return "\n".join(lines).strip()
        lines.append(line.rstrip("\n"))
