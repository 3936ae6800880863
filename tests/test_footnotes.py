"""The notes under an answer: a small table the python tool made is shown, not only its path."""

from __future__ import annotations

from pathlib import Path

from assistant_app.core.messages import ChatMessage, ReplyDelta, ToolCall
from assistant_app.kernel.chat import ChatSession
from assistant_app.kernel.turn import SHOWN_ROWS, footnotes, small_table
from assistant_app.tools.builtin import python_tool
from assistant_app.tools.toolbox import ToolBox
from tests.test_tools import ScriptedToolModel

MAKES_TABLE = (
    "import csv\n"
    "with open('completed.csv', 'w', newline='') as f:\n"
    "    w = csv.writer(f)\n"
    "    w.writerow(['Round', 'Valuation'])\n"
    "    w.writerow(['Series A', 82.56])\n"
    "    w.writerow(['Series B', 330.25])\n"
)


def test_a_small_table_the_code_made_is_shown_under_a_typed_answer(tmp_path: Path) -> None:
    call = ToolCall("python", {"code": MAKES_TABLE})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="Saved it.")]])
    tools = ToolBox([python_tool(tmp_path / "kept").with_permission("allow")])
    reply = "".join(ChatSession(model, "s", tools).stream("Print the completed table."))
    assert reply.startswith("Saved it.")
    assert "completed.csv" in reply  # the path, as before
    assert "| Round | Valuation |\n|---|---|\n| Series A | 82.56 |\n| Series B | 330.25 |" in reply


def test_only_a_small_well_formed_csv_becomes_a_table(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("n\n" + "".join(f"{i}\n" for i in range(SHOWN_ROWS + 1)))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1\n")
    text = tmp_path / "notes.txt"
    text.write_text("a,b\n1,2\n")
    pipe = tmp_path / "pipe.csv"
    pipe.write_text("a\nx|y\n")
    assert [small_table(p) for p in (big, ragged, text, tmp_path / "gone.csv")] == [""] * 4
    assert small_table(pipe) == "| a |\n|---|\n| x\\|y |"


def test_a_spoken_turn_gets_the_path_but_no_table_to_read_aloud(tmp_path: Path) -> None:
    made = tmp_path / "t.csv"
    made.write_text("a,b\n1,2\n")
    turn = [ChatMessage("tool", f"stdout:\nok\nattached file: {made}", name="python")]
    tools = ToolBox([python_tool(tmp_path)])
    typed = footnotes([], tools, turn, "Done.")
    spoken = footnotes([], tools, turn, "Done.", tables=False)
    assert spoken == [f"\n(attached: {made})"]
    assert typed == [*spoken, "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"]
