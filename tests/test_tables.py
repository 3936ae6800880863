"""Pasted tables become CSV files the python tool reads, and its data files carry over."""

from __future__ import annotations

import io
from pathlib import Path

from assistant_app.cli.repl import run_repl
from assistant_app.core.messages import ReplyDelta, ToolCall
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.tables import TableFiles, find_tables, outside_tables
from assistant_app.tools.builtin import python_tool
from assistant_app.tools.toolbox import ToolBox
from tests.fakes import FakeChatModel
from tests.test_chat import Pipe
from tests.test_tools import ScriptedToolModel

ROUNDS = """Here are the rounds:

| Round | Amount ($M) | Valuation |
|:------|------------:|-----------|
| A     | 4.5         | missing   |
| B     | $1,800      | ?         |
| C     | 100         | 1000      |

Fill them in."""


def test_a_markdown_table_becomes_csv_with_missing_cells_empty() -> None:
    [table] = find_tables(ROUNDS)
    assert table.header == ("Round", "Amount ($M)", "Valuation")
    assert table.to_csv() == "Round,Amount ($M),Valuation\nA,4.5,\nB,1800,\nC,100,1000\n"
    assert find_tables("a | b\nno separator here\n") == []


def test_a_total_is_the_only_column_of_numbers_or_the_one_named() -> None:
    files = TableFiles()
    files.add_from("| product | units |\n|---|---|\n| bolts | 12 |\n| nuts | 5 |\n| pins | ? |")
    assert files.total("What is the total number of units?") == "sum(12, 5)"
    assert files.total("Which product has the most units?") == ""  # no total asked
    files.add_from(ROUNDS)  # the newest table: two columns of numbers
    assert files.total("What is the total?") == ""  # which one: the model must say
    assert files.total("Add up the valuation column.") == "sum(1000)"
    assert files.total("What is the total amount ($M)?") == "sum(4.5, 1800, 100)"


def test_a_total_asked_with_the_table_pasted_under_it_names_its_column() -> None:
    # The table's own header names every column: only the words around it count.
    asked = (
        "What is the total quantity in this table?\n\n| item | quantity | price |\n"
        "|---|---|---|\n| clips | 38 | 7.94 |\n| pens | 3 | 23.31 |"
    )
    files = TableFiles()
    files.add_from(asked)
    assert files.total(asked) == "sum(38, 3)"
    assert outside_tables(asked) == "What is the total quantity in this table?\n"
    # A column called "Total" in the table does not make every question a total.
    files.add_from("| day | total |\n|---|---|\n| Mon | 4 |")
    assert files.total("Which day is in this table?\n| day | total |\n|---|---|\n| Mon | 4 |") == ""


SHOW = "print(open('table_1.csv').read())"


def test_the_python_tool_reads_pasted_tables_and_keeps_what_it_writes(tmp_path: Path) -> None:
    code = (
        "import pandas as pd\ndf = pd.read_csv('table_1.csv')\n"
        "df['Valuation'] = df['Valuation'].fillna(df['Amount ($M)'] * 10)\n"
        "df.to_csv('table_1.csv', index=False)\nprint(df['Valuation'].sum())"
    )
    model = ScriptedToolModel(
        [
            [ReplyDelta(tool_call=ToolCall("python", {"code": code}))],
            [ReplyDelta(text="Done.")],
            [
                ReplyDelta(
                    tool_call=ToolCall("python", {"code": "print(open('table_1.csv').read())"})
                )
            ],
            [ReplyDelta(text="Same table.")],
        ]
    )
    tables = TableFiles()
    box = ToolBox([python_tool(tmp_path, tables)])
    session = ChatSession(model, "s", box, ask=lambda t, c: True, tables=tables)
    "".join(session.stream(ROUNDS))
    assert "19045" in session.history[2].content  # 45 + 18000 + 1000, read from the CSV
    context = [m.content for m in model.seen[0] if m.role == "system"][-1]
    assert "table_1.csv (columns 'Round', 'Amount ($M)', 'Valuation')" in context
    "".join(session.stream("Show the file."))
    assert "B,1800.0,18000.0" in session.history[-2].content  # the second run saw the first's
    session.reset()
    assert tables.files == {} and session.history == []


def test_reset_starts_a_new_saved_conversation(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from assistant_app.core.config import Config
    from assistant_app.kernel.session import build_session, conversations
    from assistant_app.storage.profiles import Profile

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    model = FakeChatModel(["One.", "Two."])
    session = build_session(Config(), model, Profile("default"), tools=False)
    first = session.conversation_id
    out = io.StringIO()
    run_repl(session, Pipe("hi\n/reset\nagain\n"), out)
    assert session.conversation_id != first
    store = conversations(Config())
    assert [m.content for m in store.messages(first)] == ["hi", "One."]
    assert [m.content for m in store.messages(session.conversation_id)] == ["again", "Two."]


def test_a_triple_quoted_block_is_one_message() -> None:
    model = FakeChatModel(["Got it."])
    out = io.StringIO()
    run_repl(ChatSession(model, "s"), Pipe('"""\n| a | b |\n|---|---|\n| 1 | 2 |\n"""\n'), out)
    assert len(model.requests) == 1
    assert model.requests[0][-1].content == "| a | b |\n|---|---|\n| 1 | 2 |"
