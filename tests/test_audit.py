"""The audit log of tool calls: written by built sessions, read back by `assistant audit`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from assistant_app.core.config import Config
from assistant_app.core.messages import ReplyDelta
from assistant_app.kernel.session import build_session
from assistant_app.security.audit import AUDIT_NAME, AuditLog, ToolUse, describe
from assistant_app.storage.profiles import Profile
from tests.test_tools import ScriptedToolModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    return tmp_path


def use(n: int, decision: str = "allowed") -> ToolUse:
    return ToolUse("calculator", {"expression": f"{n}+1"}, decision, False, f"= {n + 1}", 0.01)


def test_entries_append_and_read_back_newest_last(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "sub" / AUDIT_NAME)
    assert log.entries() == []
    for n in range(5):
        log.record(use(n), conversation=7, assistant="Tutor")
    assert [e.arguments["expression"] for e in log.entries(2)] == ["3+1", "4+1"]
    assert len(log.entries()) == 5
    first = log.entries()[0]
    assert (first.conversation, first.assistant, first.decision) == (7, "Tutor", "allowed")
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600  # arguments may hold private data


def test_a_damaged_line_is_skipped_and_long_results_are_cut(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / AUDIT_NAME)
    log.record(use(1), conversation=None, assistant="default")
    with log.path.open("a") as out:
        out.write('{"at": 1, "tool": "pyth')  # a crash mid-write
    log.record(
        ToolUse("python", {"code": "print(1)"}, "asked-no", True, "x" * 5000, 0.5),
        conversation=3,
        assistant="default",
    )
    entries = log.entries()
    assert [e.tool for e in entries] == ["calculator", "python"]
    assert len(entries[1].result) == 500


def test_an_entry_reads_as_one_heading_then_arguments_and_result(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / AUDIT_NAME)
    call = ToolUse("python", {"code": "import os\nos.system('id')"}, "asked-no", True, "Error", 0.2)
    log.record(call, conversation=12, assistant="default")
    text = describe(log.entries()[0])
    heading, *rest = text.splitlines()
    assert "conversation 12  default  python  asked-no  0.20 s  after outside content" in heading
    assert rest == ["    code: import os", "      os.system('id')", "    -> Error"]


def test_a_built_session_logs_every_call_with_its_conversation(data: Path) -> None:
    # The user wrote the calculation out: the kernel makes the call, the model answers.
    model = ScriptedToolModel([[ReplyDelta(text="42")]])
    session = build_session(Config(), model, Profile("Tutor"), tools=True)
    assert session.toolbox.get("python").sensitive  # survives the profile's permission rule
    assert not session.toolbox.get("calculator").sensitive
    "".join(session.stream("What is 6 times 7?"))
    lines = (data / AUDIT_NAME).read_text().splitlines()
    entry = json.loads(lines[0])
    assert entry["conversation"] == session.conversation_id and entry["assistant"] == "Tutor"
    assert (entry["tool"], entry["decision"], entry["untrusted"]) == (
        "calculator",
        "allowed",
        False,
    )
    assert entry["result"] == "6 * 7 = 42"

    shown = subprocess.run(
        [sys.executable, "-m", "assistant_app.cli", "audit", "--last", "5"],
        cwd=ROOT,
        env={**os.environ, "ASSISTANT_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert f"conversation {session.conversation_id}  Tutor  calculator  allowed" in shown.stdout
    assert "expression: 6 * 7" in shown.stdout and "-> 6 * 7 = 42" in shown.stdout
