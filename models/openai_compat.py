"""Chat models on an OpenAI-compatible server (llama.cpp, vLLM, Ollama), streamed over HTTP."""

from __future__ import annotations

import http.client
import json
import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ConfigError, ModelUnavailable
from assistant_app.core.messages import ChatMessage, ReplyDelta, ToolCall
from models.tool_calls import HeldReply

log = logging.getLogger(__name__)
FIX = (
    "check that the server is running and reachable from this computer, and that "
    "`[llm] server_url` in the config is its OpenAI address (it usually ends in /v1)."
)


class OpenAICompatibleChatModel:
    """Any server speaking POST /chat/completions with server-sent events.

    Tool calls come back either natively (`delta.tool_calls`) or, from small models behind a
    plain chat template, as text; both end as `ReplyDelta(tool_call=...)`. Only `base_url`'s
    host is ever contacted: http.client follows no redirects and reads no proxy settings.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        context_tokens: int = 4096,
        max_reply_tokens: int = 512,
        temperature: float = 0.2,
        timeout_s: float = 60,
    ) -> None:
        url = urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(
                f"[llm] server_url '{base_url}' is not an http:// or https:// address, "
                "for example http://127.0.0.1:8080/v1."
            )
        self.name = model
        self.context_tokens = context_tokens
        self.base_url = base_url.rstrip("/")
        self._url = url
        self._api_key = api_key
        self._max_tokens = max_reply_tokens
        self._temperature = temperature
        self._timeout_s = timeout_s

    def count_tokens(self, text: str) -> int:
        """An over-estimate (3 characters a token): the OpenAI API has no tokenizer call."""
        return math.ceil(len(text) / 3)

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
        """Streams text deltas, then tool calls, then one finished delta.

        Stops reading and closes the connection within one chunk when cancelled. Raises
        ModelUnavailable when the server cannot be reached or answers with an error.
        """
        body: dict[str, Any] = {
            "model": self.name,
            "messages": wire_messages(messages),
            "temperature": self._temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self._max_tokens,
            "stream": True,
        }
        if tools:
            body["tools"] = list(tools)
            if tool_choice == "none":
                body["tool_choice"] = "none"
            # "required" is not sent: llama-cpp-python's server answered without a call (and
            # wrongly) when given it; the kernel's calculation hint asks for the call instead.
        conn, response = self._post(body)
        held = HeldReply(bool(tools) and tool_choice != "none")
        native = ToolCallAssembler()
        try:
            for delta in self._deltas(response, cancel):
                native.add(delta.get("tool_calls") or [])
                if text := held.push(delta.get("content") or ""):
                    yield ReplyDelta(text=text, turn=cancel.turn)
        finally:
            conn.close()
        text_calls, rest = held.finish(cancel.cancelled)
        calls = [] if cancel.cancelled else native.calls() or text_calls
        for call in calls:
            yield ReplyDelta(tool_call=call, turn=cancel.turn)
        if rest:
            yield ReplyDelta(text=rest, turn=cancel.turn)
        yield ReplyDelta(finished=True, turn=cancel.turn)

    # -- HTTP -----------------------------------------------------------------------------------
    def _post(
        self, body: dict[str, Any]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends the request; returns the open connection and response once the server said OK."""
        https = self._url.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        conn = kind(self._url.hostname or "", self._url.port, timeout=self._timeout_s)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            conn.request(
                "POST", f"{self._url.path}/chat/completions", json.dumps(body).encode(), headers
            )
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unavailable(exc) from None
        if response.status >= 400:
            detail = _error_detail(_json_or_text(response.read(4096)))
            conn.close()
            raise self._http_error(response.status, detail)
        return conn, response

    def _deltas(self, response: http.client.HTTPResponse, cancel: CancelToken) -> Iterator[dict]:
        """The `delta` of each streamed chunk (or the whole message of a non-streamed answer)."""
        try:
            if "json" in (response.getheader("Content-Type") or ""):
                # Some servers ignore `stream` and answer in one piece.
                yield _first_choice(self._load_event(response.read()), "message")
                return
            while not cancel.cancelled:
                line = response.readline()
                if not line:
                    return
                data = _sse_data(line)
                if data is None:
                    continue
                if data == "[DONE]" or cancel.cancelled:
                    return
                delta = _first_choice(self._load_event(data), "delta")
                if delta:
                    yield delta
        except (OSError, http.client.HTTPException) as exc:
            if not cancel.cancelled:
                raise self._unavailable(exc, mid_reply=True) from None

    # -- errors ---------------------------------------------------------------------------------
    def _unavailable(self, exc: BaseException, *, mid_reply: bool = False) -> ModelUnavailable:
        if isinstance(exc, TimeoutError):
            problem = f"the chat server did not answer within {self._timeout_s:g} s"
        elif mid_reply:
            problem = f"the connection to the chat server broke during the reply ({exc})"
        else:
            problem = f"the chat server could not be reached ({exc})"
        return ModelUnavailable(self.name, problem, looked_in=self.base_url, fix=FIX)

    def _http_error(self, status: int, detail: str) -> ModelUnavailable:
        problem = f"the chat server answered HTTP {status}" + (f" ({detail})" if detail else "")
        fix = FIX
        if status in (401, 403):
            fix = "check `[llm] api_key` in the config against the server's key."
        elif status == 404:
            fix = f"check that the server has a model called '{self.name}', then {FIX}"
        return ModelUnavailable(self.name, problem, looked_in=self.base_url, fix=fix)

    def _load_event(self, raw: str | bytes) -> dict[str, Any]:
        """One JSON event; an `error` event (llama.cpp, vLLM fail mid-stream so) raises."""
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            problem = f"the chat server sent something that is not JSON ({raw[:200]!r})"
            raise ModelUnavailable(self.name, problem, self.base_url, FIX) from None
        if isinstance(event, dict) and event.get("error"):
            problem = f"the chat server failed during the reply ({_error_detail(event)})"
            raise ModelUnavailable(self.name, problem, self.base_url, FIX)
        return event if isinstance(event, dict) else {}


class ToolCallAssembler:
    """Joins OpenAI `tool_calls` fragments (arguments arrive as pieces of a JSON string)."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}

    def add(self, fragments: Sequence[dict[str, Any]]) -> None:
        for position, fragment in enumerate(fragments):
            index = fragment.get("index", position)
            part = self._parts.setdefault(index, {"id": "", "name": "", "arguments": ""})
            function = fragment.get("function") or {}
            # Some servers repeat the id and name in every fragment: keep the first.
            part["id"] = part["id"] or fragment.get("id") or ""
            part["name"] = part["name"] or function.get("name") or ""
            arguments = function.get("arguments")
            if isinstance(arguments, dict):  # Ollama sends an object, not a string
                part["arguments"] = json.dumps(arguments)
            elif arguments:
                part["arguments"] += arguments

    def calls(self) -> list[ToolCall]:
        """The finished calls, in index order; unreadable arguments become {}."""
        calls = []
        for index in sorted(self._parts):
            part = self._parts[index]
            if not part["name"]:
                continue
            arguments = _json_object(part["arguments"])
            if arguments is None:
                log.warning("unreadable arguments for %s: %r", part["name"], part["arguments"])
            calls.append(ToolCall(part["name"], arguments or {}, part["id"] or f"call_{index}"))
        return calls


def wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """The messages in the OpenAI wire format: arguments as JSON strings, tool results
    linked to their call by `tool_call_id` (our ChatMessage links them by name and order).
    A later system message (this turn's context) joins the first: some servers' templates
    accept a system message only at the start."""
    first = next((m for m in messages if m.role == "system"), None)
    later = [m.content for m in messages if m.role == "system" and m is not first]
    if first is not None and later:
        merged = ChatMessage("system", "\n\n".join([first.content, *later]))
        messages = [
            merged if m is first else m for m in messages if m.role != "system" or m is first
        ]
    wire: list[dict[str, Any]] = []
    waiting: list[tuple[str, str]] = []  # (name, id) of calls whose results have not come
    for i, message in enumerate(messages):
        entry = message.as_dict()
        if message.tool_calls:
            # Calls parsed from text may have no id; the wire format needs one to link results.
            waiting = [
                (c.name, c.call_id or f"call_{i}_{n}") for n, c in enumerate(message.tool_calls)
            ]
            entry["tool_calls"] = [
                {"id": call_id, "type": "function", "function": _wire_function(c)}
                for c, (_, call_id) in zip(message.tool_calls, waiting, strict=True)
            ]
        elif message.role == "tool":
            match = next((w for w in waiting if w[0] == message.name), None)
            match = match or (waiting[0] if waiting else (message.name, f"call_{i}"))
            if match in waiting:
                waiting.remove(match)
            entry["tool_call_id"] = match[1]
        wire.append(entry)
    return wire


def _wire_function(call: ToolCall) -> dict[str, str]:
    return {"name": call.name, "arguments": json.dumps(call.arguments)}


def _sse_data(line: bytes) -> str | None:
    """The payload of a `data:` line; None for blank lines, comments (pings) and other fields."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if not text.startswith("data:"):
        return None
    return text[5:].removeprefix(" ")


def _first_choice(event: dict[str, Any], key: str) -> dict[str, Any]:
    choices = event.get("choices") or [{}]
    return choices[0].get(key) or {}


def _json_or_text(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _error_detail(body: Any) -> str:
    """The server's own words from an error body, kept to one short line."""
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        body = error.get("message", error) if isinstance(error, dict) else error
    text = " ".join(str(body).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _json_object(raw: str) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.strip() or "{}")
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
