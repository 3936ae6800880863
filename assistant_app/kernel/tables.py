"""Tables pasted into the conversation, kept as CSV files the python tool's code can read."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
# Cells that mean "no value": left empty in the CSV, so pandas reads them as NaN.
_TOTAL = re.compile(r"\b(?:total|sum|add (?:up|together)|altogether|in all)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
MISSING = {"", "?", "-", "n/a", "na", "missing", "unknown", "none", "null", "tbd"}


@dataclass(frozen=True)
class Table:
    """One Markdown table: its header and rows, cells as written."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        for row in self.rows:
            writer.writerow(["" if c.lower() in MISSING else _plain(c) for c in row])
        return out.getvalue()


def find_tables(text: str) -> list[Table]:
    """The Markdown tables (a header row, a |---| row, then rows) in `text`."""
    lines = [line.strip() for line in text.splitlines()]
    tables = []
    for start, end in _table_spans(lines):
        header = _cells(lines[start])
        rows = [
            tuple((_cells(ln) + [""] * len(header))[: len(header)]) for ln in lines[start + 2 : end]
        ]
        if rows:
            tables.append(Table(tuple(header), tuple(rows)))
    return tables


def outside_tables(text: str) -> str:
    """`text` without its Markdown tables: the words the user wrote around them."""
    lines = text.splitlines()
    inside = {
        i for start, end in _table_spans([ln.strip() for ln in lines]) for i in range(start, end)
    }
    return "\n".join(ln for i, ln in enumerate(lines) if i not in inside)


def _table_spans(lines: list[str]) -> list[tuple[int, int]]:
    """Where each table lies: (its header's line, the line after its last row)."""
    spans = []
    i = 0
    while i + 1 < len(lines):
        if "|" in lines[i] and _SEPARATOR.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and "|" in lines[end]:
                end += 1
            spans.append((i, end))
            i = end
        else:
            i += 1
    return spans


class TableFiles:
    """The python tool's files in one conversation: the pasted tables (table_1.csv,
    table_2.csv, ... in order) and the data files its runs left."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}  # name -> CSV text
        self._columns: dict[str, str] = {}

    def add_from(self, text: str) -> list[str]:
        """Keeps the tables in a user's message; returns their file names."""
        added = []
        for table in find_tables(text):
            name = f"table_{len(self.files) + 1}.csv"
            self.files[name] = table.to_csv()
            self._columns[name] = ", ".join(repr(h) for h in table.header)
            added.append(name)
        return added

    def describe(self) -> str:
        """What the model is told, so its code reads the files instead of inventing data."""
        if not self.files:
            return ""
        listed = "; ".join(
            f"{n} (columns {self._columns[n]})" if n in self._columns else n for n in self.files
        )
        return (
            "Files in the python tool's folder, kept between runs (the tables the user pasted "
            f"are CSV files; empty cells are missing values): {listed}. Read them from there."
        )

    def total(self, text: str) -> str:
        """A calculator expression for the total `text` asks of the newest table ("What is the
        total number of units?"): its only column of numbers, or the one `text` names; else "".
        The kernel makes that calculator call itself: exact, and no python code to write.
        Only the words around a table pasted with the question count: its header names
        every column."""
        text = outside_tables(text)
        if not self.files or not _TOTAL.search(text):
            return ""
        rows = list(csv.reader(io.StringIO(list(self.files.values())[-1])))
        numeric = {
            h: [r[i] for r in rows[1:] if i < len(r) and r[i]]
            for i, h in enumerate(rows[0])
            if all(_NUMBER.fullmatch(r[i]) for r in rows[1:] if i < len(r) and r[i])
        }
        numeric = {h: v for h, v in numeric.items() if v}
        named = [h for h in numeric if re.search(rf"(?<!\w){re.escape(h)}(?!\w)", text, re.I)]
        columns = named if len(named) == 1 else list(numeric)
        return f"sum({', '.join(numeric[columns[0]])})" if len(columns) == 1 else ""

    def clear(self) -> None:
        self.files.clear()
        self._columns.clear()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _plain(cell: str) -> str:
    """A number written with $ or thousands commas becomes the bare number."""
    bare = cell.replace(",", "").replace("$", "").strip()
    return bare if re.fullmatch(r"[-+]?\d+(\.\d+)?", bare) else cell
