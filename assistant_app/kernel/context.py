"""The context window as RAM: what fits stays, older turns are paged out into a running summary."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant_app.core.cancel import CancelToken
from assistant_app.core.engines import ChatModel
from assistant_app.core.messages import ChatMessage
from assistant_app.security.untrusted import FENCE_PREFIX

log = logging.getLogger(__name__)
# The note the kernel puts under an answer drawn from the user's files (kernel/turn.footnotes).
SOURCE_NOTE = re.compile(r"\n*\(Source: [^)\n]*\)")
SUMMARY_PROMPT = (
    "Summarise the conversation below for your own memory in at most 120 words. Keep every "
    "name, number, date, preference and promise; drop small talk. Write plain sentences."
)


@dataclass(frozen=True)
class WindowReport:
    """What `/context` shows: the pieces in the window and how full it is."""

    used_tokens: int
    budget_tokens: int
    system_tokens: int
    memory_tokens: int
    summary_tokens: int
    turns_in_window: int
    turns_paged_out: int


KEPT_CONTEXT_CHARS = 600  # a turn's context this short is kept with it (see `as_sent`)


def split_turns(history: Sequence[ChatMessage]) -> list[list[ChatMessage]]:
    """Groups history into turns, each starting at a user message."""
    turns: list[list[ChatMessage]] = []
    for message in history:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def as_sent(sent: Sequence[ChatMessage], turn: list[ChatMessage]) -> list[ChatMessage]:
    """A finished turn as it joins the history, carrying how the model last read it (`sent`:
    the prompt's messages after the history): the next prompt then starts exactly as that
    one did, and the model evaluates only what is new. A short context (hints, remembered
    facts) is kept; long retrieved passages and fenced text are not (the next prompt reads on
    from there anew, once). Messages added after the last prompt follow as they are."""
    shown = [m for m in sent if m.role != "system"]
    if not shown or [(m.role, m.content) for m in shown] != [
        (m.role, m.content) for m in turn[: len(shown)]
    ]:
        return turn  # not this turn's prompt (thinking longer asks its own way)
    context = "\n\n".join(m.content for m in sent if m.role == "system")
    if len(context) > KEPT_CONTEXT_CHARS or FENCE_PREFIX in context:
        context = ""
    return [replace(shown[0], context=context), *shown[1:], *turn[len(shown) :]]


def read_back(message: ChatMessage) -> ChatMessage:
    """An earlier reply as the model reads it again: without the sources the kernel noted
    under it. Read with them, the model wrote such notes itself, naming files it never saw
    ("(Source: notes/buildings.md:1-3)" under a misheard question nothing was found for)."""
    if message.role != "assistant" or "(Source: " not in message.prompt:
        return message
    return replace(message, sent=SOURCE_NOTE.sub("", message.prompt).rstrip())


class ContextWindow:
    """Builds the prompt for each step within a token budget.

    The system prompt, remembered facts and the current turn always stay. Older turns are
    folded, oldest first, into a running summary written by the model itself, so the prompt
    never overflows and what mattered is not simply forgotten.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        budget_tokens: int,
        summarize: Callable[[str, list[ChatMessage]], str] | None = None,
    ) -> None:
        self.count = count_tokens
        self.budget = budget_tokens
        self.summarize = summarize or truncating_summary
        self.summary = ""
        self.paged_out = 0  # turns folded into the summary so far
        self.last: WindowReport | None = None

    def fit(
        self,
        system: ChatMessage,
        facts: Sequence[str],
        history: list[ChatMessage],
        current: list[ChatMessage],
        extra: str = "",
    ) -> list[ChatMessage]:
        """The messages to send. Pages whole old turns out of `history` (in place) as needed.

        What changes from turn to turn (remembered facts that fit this message, retrieved
        passages, the outside-text rule with this turn's code) goes in a system message just
        before the current turn, not in the first one: the instructions, tools and history
        then start every prompt the same way, and the model evaluates only what is new."""
        while True:
            head = self._head(system)
            context = self._context(facts, extra)
            messages = [head, *map(read_back, history), *context, *current]
            used = sum(self._tokens(m) for m in messages)
            turns = split_turns(history)
            if used <= self.budget or not turns:
                self.last = WindowReport(
                    used,
                    self.budget,
                    self._tokens(system),
                    self.count("\n".join(facts)) if facts else 0,
                    self.count(self.summary) if self.summary else 0,
                    len(turns),
                    self.paged_out,
                )
                if used > self.budget:
                    log.warning("the current turn alone exceeds the context budget")
                return messages
            oldest = turns[0]
            del history[: len(oldest)]
            self.summary = self.summarize(self.summary, oldest)
            self.paged_out += 1

    def _head(self, system: ChatMessage) -> ChatMessage:
        if self.summary:
            summary = f"Summary of the earlier conversation: {self.summary}"
            return ChatMessage("system", f"{system.content}\n\n{summary}")
        return system

    @staticmethod
    def _context(facts: Sequence[str], extra: str) -> list[ChatMessage]:
        parts = [extra] if extra else []
        if facts:
            parts.append(
                "Facts the user asked you to remember:\n" + "\n".join(f"- {f}" for f in facts)
            )
        return [ChatMessage("system", "\n\n".join(parts))] if parts else []

    def _tokens(self, message: ChatMessage) -> int:
        calls = " ".join(str(c.as_dict()) for c in message.tool_calls)
        # A kept context is a message of its own; each has role markers and separators.
        return self.count(message.context + message.prompt + calls) + (8 if message.context else 4)


def truncating_summary(summary: str, turn: list[ChatMessage]) -> str:
    """The fallback when no model can summarise: keep the start of each paged-out turn."""
    said = " / ".join(m.content[:80] for m in turn if m.content and m.role in ("user", "assistant"))
    return (summary + " " + said).strip()[-1200:]


def model_summary(model: ChatModel) -> Callable[[str, list[ChatMessage]], str]:
    """A summariser that asks the chat model itself to fold a turn into the summary."""

    def summarize(summary: str, turn: list[ChatMessage]) -> str:
        transcript = "\n".join(f"{m.role}: {m.content}" for m in turn if m.content)
        text = (f"Earlier summary: {summary}\n\n" if summary else "") + transcript
        request = [ChatMessage("system", SUMMARY_PROMPT), ChatMessage("user", text)]
        try:
            reply = "".join(d.text for d in model.stream_reply(request, [], CancelToken.never()))
        except Exception:  # noqa: BLE001 - a failed summary must not lose the conversation
            log.exception("summarising failed; truncating instead")
            return truncating_summary(summary, turn)
        return reply.strip() or truncating_summary(summary, turn)

    return summarize
