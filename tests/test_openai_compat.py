"""The OpenAI-compatible chat backend: a scripted SSE server, then llama-cpp-python's own server."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant_app.core.cancel import CancelToken
from assistant_app.core.engines import ChatModel
from assistant_app.core.errors import ConfigError, ModelUnavailable
from assistant_app.core.messages import ChatMessage, ReplyDelta, ToolCall
from models.openai_compat import OpenAICompatibleChatModel

CALCULATOR = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Evaluate an arithmetic expression exactly.",
        "parameters": {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    },
}
# llama-cpp-python[server] without rebuilding llama-cpp-python itself.
SERVER_DEPS = (
    "uvicorn fastapi sse-starlette 'starlette-context>=0.3.6,<0.4' pydantic-settings PyYAML"
)
QUESTION = [ChatMessage("user", "What is the capital of France?")]
MULTIPLY = ChatMessage("user", "What is 1234 times 5678?")
TOOL_HISTORY = [
    MULTIPLY,
    ChatMessage("assistant", "", tool_calls=(ToolCall("calculator", {"expression": "1234*5678"}),)),
    ChatMessage("tool", "7006652", name="calculator"),
]


def reply(
    model: OpenAICompatibleChatModel, messages: list[ChatMessage], tools: list[dict] | None = None
) -> list[ReplyDelta]:
    return list(model.stream_reply(messages, tools or [], CancelToken.never()))


def text_of(deltas: list[ReplyDelta]) -> str:
    return "".join(d.text for d in deltas)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a scripted server ---------------------------------------------------------------------------
class FakeServer:
    """Answers each POST with the next scripted reply; records what it was sent."""

    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def reply(self, *chunks: dict[str, Any], status: int = 200, delay_s: float = 0) -> None:
        self.replies.append({"chunks": chunks, "status": status, "delay_s": delay_s})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": self.headers, "body": body})
                script = fake.replies.pop(0)
                if script["status"] >= 400:
                    payload = json.dumps(script["chunks"][0]).encode()
                    self.send_response(script["status"])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                events = [json.dumps(c) for c in script["chunks"]] + ["[DONE]"]
                try:
                    for event in events:
                        self._chunk(f": ping\r\n\r\ndata: {event}\r\n\r\n".encode())
                        time.sleep(script["delay_s"])
                    self._chunk(b"")
                except OSError:  # the client hung up
                    fake.disconnected.set()

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


def text(piece: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}


def fragment(index: int, arguments: str, call_id: str = "", name: str = "") -> dict[str, Any]:
    call = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        call |= {"id": call_id, "type": "function"}
        call["function"]["name"] = name
    return {"choices": [{"index": 0, "delta": {"content": None, "tool_calls": [call]}}]}


@pytest.fixture
def fake(no_network) -> Iterator[FakeServer]:
    server = FakeServer()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        assert no_network == []


def test_text_streams_in_deltas_and_the_request_is_openai_shaped(fake: FakeServer) -> None:
    fake.reply(text("Paris"), text(" is the"), text(" capital."))
    model = OpenAICompatibleChatModel(fake.url, "big-model", temperature=0.0, max_reply_tokens=9)
    assert isinstance(model, ChatModel)
    deltas = reply(model, QUESTION)
    assert [d.text for d in deltas[:-1]] == ["Paris", " is the", " capital."]
    assert deltas[-1].finished and not deltas[-1].text
    sent = fake.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert "Authorization" not in sent["headers"]
    assert sent["body"] == {
        "model": "big-model",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "temperature": 0.0,
        "max_tokens": 9,
        "stream": True,
    }


def test_native_tool_call_fragments_are_assembled(fake: FakeServer) -> None:
    # Call 0 as llama-cpp-python streams it (id and name in every fragment), call 1 as OpenAI.
    fake.reply(
        fragment(0, '{"expr', "call_a", "calculator"),
        fragment(0, 'ession": "1234 * ', "call_a", "calculator"),
        fragment(1, "", "call_b", "get_time"),
        fragment(0, '5678"}', "call_a", "calculator"),
        fragment(1, "{}"),
    )
    model = OpenAICompatibleChatModel(fake.url, "m")
    deltas = reply(model, QUESTION, [CALCULATOR])
    assert [d.tool_call for d in deltas if d.tool_call] == [
        ToolCall("calculator", {"expression": "1234 * 5678"}, "call_a"),
        ToolCall("get_time", {}, "call_b"),
    ]
    assert text_of(deltas) == "" and deltas[-1].finished
    assert fake.requests[0]["body"]["tools"] == [CALCULATOR]


def test_a_tool_call_written_as_text_is_parsed_not_shown(fake: FakeServer) -> None:
    pieces = ["<tool_call>\n", '{"name": "calculator", "arguments": ', '{"expression": "2+2"}}']
    fake.reply(*[text(p) for p in pieces], text("\n</tool_call>"))
    deltas = reply(OpenAICompatibleChatModel(fake.url, "m"), QUESTION, [CALCULATOR])
    assert [d.tool_call.arguments for d in deltas if d.tool_call] == [{"expression": "2+2"}]
    assert text_of(deltas) == ""


def test_a_plain_answer_is_released_when_tools_are_offered(fake: FakeServer) -> None:
    fake.reply(text("Paris"), text(", of course."))
    model = OpenAICompatibleChatModel(fake.url, "m")
    deltas = reply(model, QUESTION, [CALCULATOR])
    assert text_of(deltas) == "Paris, of course." and deltas[-1].finished
    assert not any(d.tool_call for d in deltas)


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_the_tool_choice_reaches_the_server(fake: FakeServer, choice: str) -> None:
    fake.reply(text("4"))
    model = OpenAICompatibleChatModel(fake.url, "m")
    deltas = list(
        model.stream_reply(QUESTION, [CALCULATOR], CancelToken.never(), tool_choice=choice)
    )
    body = fake.requests[0]["body"]
    sent = "none" if choice == "none" else "auto"  # servers differ on "required"
    assert body.get("tool_choice", "auto") == sent and body["tools"] == [CALCULATOR]
    assert text_of(deltas) == "4"


def test_history_is_sent_in_wire_format_with_the_api_key(fake: FakeServer) -> None:
    fake.reply(text("7006652"))
    reply(OpenAICompatibleChatModel(fake.url, "m", api_key="sk-local"), TOOL_HISTORY, [CALCULATOR])
    sent = fake.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer sk-local"
    assistant, tool = sent["body"]["messages"][1:]
    function = assistant["tool_calls"][0]["function"]
    assert json.loads(function["arguments"]) == {"expression": "1234*5678"}  # a string on the wire
    assert tool["tool_call_id"] == assistant["tool_calls"][0]["id"] != ""


@pytest.mark.parametrize(("status", "fix"), [(401, "api_key"), (500, "server_url")])
def test_an_http_error_is_model_unavailable(fake: FakeServer, status: int, fix: str) -> None:
    fake.reply({"error": {"message": "no can do"}}, status=status)
    with pytest.raises(ModelUnavailable) as caught:
        reply(OpenAICompatibleChatModel(fake.url, "m"), QUESTION)
    message = str(caught.value)
    assert f"HTTP {status}" in message and "no can do" in message and fix in message
    assert fake.url in message and "\n" not in message


def test_an_error_event_in_the_stream_is_model_unavailable(fake: FakeServer) -> None:
    fake.reply(text("Par"), {"error": {"message": "out of memory"}})
    model = OpenAICompatibleChatModel(fake.url, "m")
    with pytest.raises(ModelUnavailable, match="out of memory"):
        reply(model, QUESTION)


def test_cancelling_stops_reading_and_hangs_up(fake: FakeServer) -> None:
    fake.reply(*[text(f"{n} ") for n in range(200)], delay_s=0.01)
    token = CancelToken.never()
    deltas = []
    for delta in OpenAICompatibleChatModel(fake.url, "m").stream_reply(QUESTION, [], token):
        deltas.append(delta)
        if len(deltas) == 3:
            token.cancel()
    assert len(deltas) <= 5 and deltas[-1].finished
    assert fake.disconnected.wait(5)  # the server saw the connection close


def test_a_dead_port_is_model_unavailable_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        reply(OpenAICompatibleChatModel(url, "m"), QUESTION)
    assert time.monotonic() - start < 2
    assert url in str(caught.value) and "[llm] server_url" in str(caught.value)


def test_a_url_that_is_not_http_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="server_url"):
        OpenAICompatibleChatModel("127.0.0.1:8080", "m")


# -- llama-cpp-python's server on the real small models ----------------------------------------
@contextmanager
def llama_server(gguf: Path, log: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; killed however the test ends."""
    pytest.importorskip("llama_cpp.server.app", reason=f"needs `pip install {SERVER_DEPS}`")
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    # One thread: llama.cpp's spinning threads crawl when the test machine's cores are busy.
    command += ["--n_threads", "1", "--verbose", "False"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="module")
def smol_url(real_store, tmp_path_factory) -> Iterator[str]:
    gguf = real_store.file_path("smollm2-135m-instruct")
    with llama_server(gguf, tmp_path_factory.mktemp("smol") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def qwen_url(real_store, tmp_path_factory) -> Iterator[str]:
    gguf = real_store.file_path("qwen2.5-coder-0.5b-instruct")
    with llama_server(gguf, tmp_path_factory.mktemp("qwen") / "server.log") as url:
        yield url


@pytest.mark.models
def test_server_streams_a_reply_in_several_deltas(smol_url: str) -> None:
    model = OpenAICompatibleChatModel(smol_url, "smollm2", max_reply_tokens=24)
    deltas = reply(model, [ChatMessage("user", "Tell me about cats.")])
    assert len([d for d in deltas if d.text]) >= 3
    assert [d.finished for d in deltas].count(True) == 1 and deltas[-1].finished


@pytest.mark.models
def test_server_stops_when_cancelled_and_keeps_serving(smol_url: str) -> None:
    model = OpenAICompatibleChatModel(smol_url, "smollm2", max_reply_tokens=8)
    token = CancelToken.never()
    deltas = []
    for delta in model.stream_reply([ChatMessage("user", "Count from 1 to 100.")], [], token):
        deltas.append(delta)
        if len(deltas) == 3:
            token.cancel()
    assert len(deltas) <= 5
    assert reply(model, QUESTION)[-1].finished


@pytest.mark.models
def test_server_accepts_our_tool_history(smol_url: str) -> None:
    # llama-cpp-python's server rejects (HTTP 422) arguments sent as an object, not a string.
    model = OpenAICompatibleChatModel(smol_url, "smollm2", max_reply_tokens=4)
    assert reply(model, TOOL_HISTORY, [CALCULATOR])[-1].finished


@pytest.mark.models
def test_server_answers_the_capital_of_france(qwen_url: str) -> None:
    model = OpenAICompatibleChatModel(qwen_url, "qwen", temperature=0.0, max_reply_tokens=32)
    messages = [ChatMessage("system", "Answer in one short sentence."), *QUESTION]
    assert "paris" in text_of(reply(model, messages)).lower()


@pytest.mark.models
def test_server_tool_call_comes_back_as_a_tool_call(qwen_url: str) -> None:
    # The server renders Qwen's own template with the tools; the 0.5B writes the call as text.
    model = OpenAICompatibleChatModel(qwen_url, "qwen", temperature=0.0, max_reply_tokens=64)
    deltas = reply(model, [MULTIPLY], [CALCULATOR])
    calls = [d.tool_call for d in deltas if d.tool_call]
    assert [c.name for c in calls] == ["calculator"]
    expression = str(calls[0].arguments.get("expression", ""))
    assert "1234" in expression and "5678" in expression
    assert text_of(deltas) == ""


@pytest.mark.models
def test_the_cli_chats_through_the_server_with_tools(qwen_url: str, real_store, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[models]\ndir = "{real_store.root}"\n[llm]\nengine = "openai"\n'
        f'server_url = "{qwen_url}"\nmodel = "qwen"\ntemperature = 0.0\n'
    )
    env = {**os.environ, "ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "assistant_app.cli", "chat"]
    plain = subprocess.run(
        cli,
        input="What is the capital of France?\n",
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert plain.returncode == 0, plain.stderr
    assert "paris" in plain.stdout.lower()
    tools = subprocess.run(
        [*cli, "--tools"],
        input="What is 1234 times 5678?\n",
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert tools.returncode == 0, tools.stderr
    assert "(calculator(expression=" in tools.stderr


def test_a_later_system_message_joins_the_first_on_the_wire() -> None:
    from models.openai_compat import wire_messages

    sent = wire_messages(
        [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"),
         ChatMessage("assistant", "Hello."), ChatMessage("system", "Passages: …"),
         ChatMessage("user", "And?")]
    )  # fmt: skip
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "Be brief.\n\nPassages: …"
