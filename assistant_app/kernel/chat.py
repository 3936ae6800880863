"""The chat session: a conversation with the model, its tools, memory and context window."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

from assistant_app.core.cancel import CancelToken, TurnCounter
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import UserVisibleError
from assistant_app.core.messages import ChatMessage, ToolCall
from assistant_app.kernel.context import ContextWindow, as_sent
from assistant_app.kernel.hints import (
    NO_IMAGE_MODEL,
    NO_WORDS,
    PASSAGES_IN_CODE,
    misrouted,
    needs_no_tool,
    route,
    turn_hint,
    wants_a_picture,
    written_calculation,
)
from assistant_app.kernel.memory import Memory
from assistant_app.kernel.reach import HeldNo, out_of_reach, why_not
from assistant_app.kernel.repeats import LoopGuard
from assistant_app.kernel.stated import stated
from assistant_app.kernel.tables import TableFiles
from assistant_app.kernel.think import SPOKEN_BUDGET_S, think_longer, wants_thinking
from assistant_app.kernel.turn import (
    ERROR_NOTE,
    OKAY,
    REFUSED,
    RESULT_NOTE,
    SpokenTurn,
    ThinkSettings,
    after_result,
    cited,
    footnotes,
    gave_up,
    joined,
    last_result,
    taken_back,
    tool_failed,
)
from assistant_app.security.audit import ToolUse
from assistant_app.security.demands import echoed, wanted
from assistant_app.security.untrusted import Ask, Attachment, Untrusted, decide, must_ask, refuse
from assistant_app.tools.toolbox import ToolBox
from models.constrained import opens_a_call
from models.tool_calls import HeldReply

__all__ = ["ERROR_NOTE", "RESULT_NOTE", "Ask", "ChatSession", "OnTool", "SpokenTurn",
           "ThinkSettings", "cited", "refuse"]  # fmt: skip
OnTool = Callable[[ToolCall, str], None]


class ChatSession:
    """A conversation in memory: the system prompt, what was said, and the tools it may use.

    A turn may take several steps: the model calls tools, reads their results, and answers.
    Outside text (attachments, retrieved passages, tool results) is scanned for hidden
    instructions, which are cut, and fenced as data; the user is told when some were found.
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
        window: ContextWindow | None = None,
        memory: Memory | None = None,
        think: ThinkSettings | None = None,
        on_record: Callable[[ChatMessage], None] | None = None,
        retrieve: Callable[[str], list[tuple[str, str]]] | None = None,
        tables: TableFiles | None = None,
        read_image: Callable[[Path], str] | None = None,
        untrusted: Untrusted | None = None,
    ) -> None:
        self.model = model
        self.system = ChatMessage("system", system_prompt)
        self.history: list[ChatMessage] = []
        self.turns = TurnCounter()
        self.toolbox = toolbox or ToolBox([])
        self.ask = ask
        self.on_tool = on_tool
        self.max_steps = max_steps
        self.window = window
        self.memory = memory
        self.think = think or ThinkSettings()
        self.on_record = on_record  # persistence: every message as it joins the history
        self.conversation_id: int | None = None
        self.on_reset: Callable[[], None] | None = None  # persistence: a new conversation
        # Small models rarely search on their own: the knowledge folders are searched for each.
        self.retrieve = retrieve
        self._passages: list[tuple[str, str]] = []  # (citation, text) for the current turn
        self.tables = tables or TableFiles()  # pasted tables, as files for the python tool
        self.read_image = read_image  # an image's text: OCR, and a vision model's reading
        self.untrusted = untrusted or Untrusted()
        self.on_audit: Callable[[ToolUse], None] | None = None  # every tool call, for the log
        self._attached: list[Attachment] = []  # for the next message
        self._context = ""  # this turn's fenced passages
        self._spoken: SpokenTurn | None = None  # the turn in progress, when it is spoken
        self._sent: list[ChatMessage] = []  # the last prompt's messages after the history
        self._one_turn = threading.RLock()
        self._tables_now = False  # the turn in progress came with tables (pasted or attached)

    @property
    def untrusted_in_context(self) -> bool:
        """Whether outside text beyond the user's own unflagged notes entered the current turn
        (sensitive tools then always ask, whatever "Always allow" said)."""
        return self.untrusted.risky

    def attach_text(self, name: str, text: str) -> Attachment:
        """Text the user pasted or dropped, sent with the next message as data."""
        self._attached.append(Attachment(name, "text", text))
        return self._attached[-1]

    def attach_image(self, path: Path | str) -> Attachment:
        """An image, sent with the next message as its text read (and a vision model's view)."""
        if self.read_image is None:
            raise UserVisibleError("This assistant cannot read images (no OCR model is set up).")
        self._attached.append(Attachment(Path(path).name, "image", self.read_image(Path(path))))
        return self._attached[-1]

    def reset(self) -> None:
        """Starts over: empty history, no tables; a saved session starts a new conversation."""
        self.history.clear()
        self.tables.clear()
        self._attached.clear()
        if self.on_reset is not None:
            self.on_reset()

    def record_turn(self, messages: list[ChatMessage]) -> None:
        """A spoken turn joins the history and saved conversation, once what was heard is known."""
        self._record(messages)

    def stream(
        self, text: str, cancel: CancelToken | None = None, *, spoken: SpokenTurn | None = None
    ) -> Iterator[str]:
        """Yields the reply to `text` piece by piece; the history gets what was yielded (a
        spoken turn's history is written by `spoken.keep`). One turn at a time: a typed turn
        waits for a spoken one still finishing (and the other way round)."""
        with self._one_turn:
            yield from self._turn(text, cancel or self.turns.token(), spoken)

    def _turn(self, text: str, token: CancelToken, spoken: SpokenTurn | None) -> Iterator[str]:
        self._spoken, self._sent = spoken, []
        if taken_back(text):  # "…, never mind.": nothing is done, run or remembered
            self._finish([ChatMessage("user", text)], OKAY)
            yield OKAY
            return
        if self.memory is not None:
            self.memory.capture(text)
        self.untrusted.begin_turn()
        attached, self._attached = self._attached, []
        self._tables_now = any([self.tables.add_from(a.text) for a in attached])
        data = self.untrusted.attachments(attached)
        asked, question = wants_thinking(text)
        self._passages = self.retrieve(text) if self.retrieve is not None else []
        self._context = self.untrusted.passages(self._passages)
        exact = "calculator" in self.toolbox.offered() and written_calculation(question)
        if (asked or self.think.always) and not exact:  # a calculation is worked out, not voted on
            if spoken is not None:
                spoken.on_step("think")
            yield from self._think(joined(text, data), joined(question, data), token)
            return
        turn = [ChatMessage("user", joined(text, data))]
        self._tables_now |= bool(self.tables.add_from(text))
        if self.toolbox.tools and not self.toolbox.get("generate_image") and wants_a_picture(text):
            self._finish(turn, NO_IMAGE_MODEL)  # not a bare refusal: why, and the fix
            yield NO_IMAGE_MODEL
            return
        parts: list[str] = []
        try:
            for piece in self._steps(text, turn, token):
                parts.append(piece)
                yield piece
        finally:
            # What was shown stays in the history, even when stopped part way.
            self._finish(turn, "".join(parts).strip())

    def _finish(self, turn: list[ChatMessage], reply: str) -> None:
        turn = as_sent(self._sent, turn)
        if self._spoken is not None:
            self._spoken.keep(turn, reply)
        else:
            self._record([*turn, ChatMessage("assistant", reply)])

    def _steps(self, text: str, turn: list[ChatMessage], token: CancelToken) -> Iterator[str]:
        """Model steps until an answer, running tool calls in between; yields what is shown."""
        seen: set[str] = set()
        retried: set[str] = set()  # tools whose failed call got its second try
        specs = self.toolbox.specs()
        # A plain calculation is a call to a tool, a chart a call to python; "none" keeps the
        # tools listed (the prompt's evaluated start is reused) while the model must answer.
        choice = route(text, self.toolbox.offered(), self._tables_now) or "auto"
        if choice == "auto" and (needs_no_tool(text) or out_of_reach(text)):
            choice = "none"  # attached text cannot ask for a tool: only the user's words
        elif (
            choice == "python"
            and self._tables_now
            and (self.tables.total(text) or not self._runs_unasked("python"))
        ):
            # A column's total, or a sum python would wait on a yes for: the calculator adds.
            choice = "calculator" if "calculator" in self.toolbox.offered() else choice
        own = written_calculation(text) or self.tables.total(text)  # a column's total
        own = own if choice == "calculator" else ""
        if self._spoken is not None and not own:  # a line said now, while the model reads
            if self._passages:  # the passages take seconds to read
                self._spoken.on_step("search_files")
            if choice in ("required", "calculator"):  # or writes the call
                self._spoken.on_step("calculate")
            elif choice in ("python", "generate_image") and self._runs_unasked(choice, True):
                self._spoken.on_step(choice)  # ~5 s of writing code or a prompt first
        shown: list[str] = []
        for step in range(self.max_steps):
            if step == 0 and own:
                # The user wrote the expression ("(46 + 85) x 9", "212°F in Celsius"): the
                # kernel makes the call itself; small models drop brackets and mix up formulas.
                calls = [ToolCall("calculator", {"expression": own}, "call_own")]
                said, written, rest = [], [], ""
            else:
                step_out = yield from self._model_step(text, turn, specs, choice, token)
                calls, said, written, rest = step_out
                shown += said
            if token.cancelled:
                return
            results = any(m.role == "tool" for m in turn)
            if written and not (rest or said or results) and specs and step + 1 < self.max_steps:
                # Only a call, though calls were taken away, and no result: ask once more with no
                # tools at all (slower: the prompt's start is evaluated anew), so words come back.
                specs, choice = [], "auto"
                continue
            if written or rest:  # a call nobody can run: answer with the last result instead
                piece = rest or last_result(turn)
                shown.append(piece)
                said.append(piece)
                yield piece
            if not calls and not said and specs:
                # Nothing usable (or a bare no): ask again with no calls, then with no tools.
                specs, choice = ([], "auto") if choice == "none" else (specs, "none")
                continue
            if not calls:
                failed = yield from self._run_written_code("".join(said), turn, token)
                if failed and step + 1 < self.max_steps:
                    choice = "none" if failed == "refused" else choice  # then: in words
                    continue  # the model reads the error and tries again
                if not "".join(shown).strip() and not token.cancelled:
                    yield NO_WORDS  # never silence: the model ended without a word
                yield from self._footnotes(turn, "".join(shown))
                return
            if all(misrouted(c, turn[0].content) for c in calls):
                # "What is the capital of France?" sent to the calculator: answer instead.
                choice = "none"
                continue
            keys = {repr(c.as_dict()["function"]) for c in calls}
            if keys & seen:
                # A call repeated though its result is in: calls are taken away, so it answers.
                choice = "none"
                continue
            seen |= keys
            choice = "auto"
            turn.append(ChatMessage("assistant", "", tool_calls=tuple(calls)))
            # Tool results are kept even if the user stops the reply right after.
            results = [ChatMessage("tool", self._run(c, token), name=c.name) for c in calls]
            turn += results
            if step == 0 and own and self._spoken and (line := stated(own, results[0].content)):
                yield line  # spoken, the kernel's own calculation is answered at once
                return
            failed = [m.name for m in results if tool_failed(m.content)]
            if failed and failed[0] not in retried:
                # A failed call gets one more try, and it must be a call: small models would
                # rather explain the error than fix it.
                retried.add(failed[0])
                choice = failed[0]
        yield gave_up(turn, self.max_steps)
        yield from self._footnotes(turn, "")

    def _model_step(
        self, text: str, turn: list[ChatMessage], specs: list, choice: str, token: CancelToken
    ) -> Generator[str, None, tuple[list[ToolCall], list[str], list, str]]:
        """One model step: yields the text shown; returns its calls, the pieces shown, and the
        calls it wrote as text though calls were taken away (with the text after them)."""
        calls, said = [], []
        # With calls taken away a small model may still write one as text: hold it.
        guard = HeldReply(choice == "none" and bool(specs))
        no = HeldNo(bool(specs) and not out_of_reach(text))  # a bare no: asked again, see _steps
        model = (self._spoken and self._spoken.model) or self.model
        prompt = self._prompt(text, turn)
        loop = LoopGuard((RESULT_NOTE, ERROR_NOTE))  # cut before a repeat, or the notes read
        # Outside text asking an assistant to say something: the step is checked before shown.
        held = wanted([d for _, d in self.untrusted.demands], text)
        deltas = model.stream_reply(prompt, specs, token, tool_choice=choice)
        for delta in deltas:
            if delta.tool_call is not None:
                calls.append(delta.tool_call)
            elif delta.text and (piece := no.push(loop.push(guard.push(delta.text)))):
                said.append(piece)
                if not held:
                    yield piece
            if loop.looping:
                getattr(deltas, "close", lambda: None)()  # the model stops writing now
                break
        if piece := no.push(loop.finish()) + no.rest():
            said.append(piece)
            if not held:
                yield piece
        written, rest = guard.finish(False)
        if found := echoed(held, "".join([*said, rest]), [*calls, *written]):
            # It obeyed: those sentences are cut as the detector would have, and it writes again.
            turn[:] = [ChatMessage(m.role, self.untrusted.unsay(found, m.content), m.name,
                                   m.tool_calls) for m in turn]  # fmt: skip
            self._context = self.untrusted.unsay(found, self._context)
            return (yield from self._model_step(text, turn, specs, choice, token))
        if held:  # checked: none of it carries a demand
            yield from said
        if rest and opens_a_call(rest) and '"arguments"' in rest:
            written, rest = [rest], ""  # a call, if a malformed one ({{"name": …}})
        return calls, said, written, rest

    def _run_written_code(
        self, reply: str, turn: list[ChatMessage], token: CancelToken
    ) -> Generator[str, None, str]:
        """Small models answer "plot this" with a ```python block rather than a tool call;
        with the python tool offered, that block runs as the call (permissions still apply).
        Returns "failed" or "refused" (the model then tries again), else ""."""
        blocks = re.findall(r"```python\n(.*?)```", reply, re.DOTALL)
        if "python" not in self.toolbox.offered() or not blocks:
            return ""
        call = ToolCall("python", {"code": blocks[0]}, "call_code")
        result = self._run(call, token)
        turn += [
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", result, name=call.name),
        ]
        said = "\n".join(ln for ln in result.splitlines() if not ln.startswith("attached "))
        yield f"\n(ran it: {said[:600]})"
        refused = result == REFUSED.format(call.name)
        return "refused" if refused else ("failed" if tool_failed(result) else "")

    def _footnotes(self, turn: list[ChatMessage], answer: str) -> list[str]:
        notes = footnotes(self._passages, self.toolbox, turn, answer, self._spoken is None)
        return [n for n in (why_not(turn[0].content, answer), *notes, self.untrusted.notice()) if n]

    def _think(self, text: str, question: str, token: CancelToken) -> Iterator[str]:
        turn = [ChatMessage("user", question)]
        verdict = think_longer(
            self.model,
            self._prompt(question, turn, tools=False),
            cancel=token,
            samples=self.think.samples,
            budget_s=min(self.think.budget_s, SPOKEN_BUDGET_S if self._spoken else float("inf")),
            progress=self.think.progress,
        )
        answer = verdict.reply(spoken=self._spoken is not None) + self.untrusted.notice()
        self._finish([ChatMessage("user", text)], answer)
        yield answer

    def _record(self, messages: list[ChatMessage]) -> None:
        self.history += messages
        if self.on_record is not None:
            for message in messages:
                self.on_record(message)

    def _prompt(
        self, text: str, turn: list[ChatMessage], *, tools: bool = True
    ) -> list[ChatMessage]:
        facts = self.memory.recall(text) if self.memory is not None else []
        extra = self._context
        if tools and not any(m.role == "tool" for m in turn):  # before a tool ran this turn
            hint = turn_hint(text, self.toolbox.offered(), bool(self.toolbox.tools))
            extra = f"{extra}\n\n{hint}".strip()
        if self.toolbox.get("python") is not None and (files := self.tables.describe()):
            extra = f"{extra}\n\n{files}".strip()
        if self._passages and route(text, self.toolbox.offered(), self._tables_now) == "python":
            extra = f"{extra}\n\n{PASSAGES_IN_CODE}"  # the model tries to open the notes
        if rule := self.untrusted.rule([*self.history, *turn], extra):
            extra = f"{rule}\n\n{extra}".strip()
        if self._spoken is not None:
            # The style opens this turn's own system message, not the instructions: typed and
            # spoken turns share one evaluated prefix, and the voice loop has the style
            # evaluated while the user is still speaking (`warm_up`).
            extra = f"{self._spoken.style}\n\n{extra}".strip()
        window = self.window or ContextWindow(len, 2**62)  # without a budget: everything fits
        messages = window.fit(self.system, facts, self.history, turn, extra)
        if self._spoken is not None:  # its note follows the words, read ahead as they came
            messages[-len(turn)] = self._spoken.noted(messages[-len(turn)])
        if turn[-1].role == "tool":  # small models call again rather than read the result
            messages[-1] = after_result(messages[-1])
        self._sent = messages[1 + len(self.history) :]
        return messages

    def warm_up(self, model: ChatModel | None = None, spoken: SpokenTurn | None = None,
                words: str = "", *, whole: bool = False) -> None:  # fmt: skip
        """Evaluates what every turn's prompt starts with (instructions, tools, history) so the
        first turn answers as fast as the next; with `spoken`, the style and the `words` so far."""
        if whole and "calculator" in self.toolbox.offered() and written_calculation(words):
            return  # the kernel makes the call itself: the model will not read them
        with self._one_turn:
            self._spoken, self._context, self._passages = spoken, "", []
            asked = [ChatMessage("user", words or "Hi")]
            messages, self._spoken = self._prompt(words if whole else "Hi", asked), None
        model, specs = model or self.model, self.toolbox.specs()
        if spoken is not None:  # only a model in this process is worth it (llama.cpp)
            words = messages[-1].prompt if whole else words  # with the note, if any
            getattr(model, "prefill", lambda *a: None)(messages[:-1], specs, words, whole)
            return
        for _ in model.stream_reply(messages, specs, CancelToken.never(), max_tokens=1):
            pass

    def _runs_unasked(self, name: str, strictly: bool = False) -> bool:
        """Whether a call to tool `name` would run now, or be refused for want of anyone to ask
        (piped chat): allowed, not made to ask by risky outside text; or askable, not `strictly`."""
        found = self.toolbox.get(name)
        if found is None or found.permission == "deny":
            return False
        asker = self._spoken.ask if self._spoken else self.ask
        return not must_ask(found, self.untrusted.risky) or (asker is not refuse and not strictly)

    def _run(self, call: ToolCall, token: CancelToken) -> str:
        """Runs a call the permissions allow; returns its result as the model will read it."""
        found, started, at = self.toolbox.get(call.name), time.monotonic(), time.time()
        outside = self.untrusted.entered
        spoken = self._spoken
        decision = decide(found, call, spoken.ask if spoken else self.ask, self.untrusted.risky)
        if decision == "asked-no":
            result = REFUSED.format(call.name)
        else:
            if spoken is not None and found is not None and call.call_id != "call_own":
                spoken.on_step(call.name)
            result = self.toolbox.run(call, token)
        if self.on_tool is not None:
            self.on_tool(call, result)
        if self.on_audit is not None:
            took = time.monotonic() - started
            self.on_audit(ToolUse(call.name, call.arguments, decision, outside, result, took, at))
        return self.untrusted.tool_result(found, result)

    def stop(self) -> None:
        """Cancels the reply in progress (from any thread)."""
        self.turns.advance()
