"""Shared helpers for the benchmark scripts: repo root, machine facts, medians, tables."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU model name from lscpu (or platform as a fallback)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def load_average() -> str:
    """The 1/5/15-minute load averages, to judge whether other jobs shared the cores."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_line() -> str:
    """One line naming the date, CPU, core count, current load and llama.cpp's build."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    line = f"{now} | {cpu_model()} | {os.cpu_count()} cores | load {load_average()}"
    return f"{line} | llama.cpp {build}" if (build := llama_build()) else line


def llama_build() -> str:
    """The widest vector extension llama-cpp-python was built with ("AVX512", "AVX2"), or ""
    when it is not installed: the two builds read prompts at different speeds."""
    try:
        import llama_cpp
    except ImportError:
        return ""
    info = llama_cpp.llama_print_system_info().decode()
    return next((f for f in ("AVX512", "AVX2", "AVX", "NEON") if f"{f} = 1" in info), "other")


def word_edits(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    from vision.ocr_words import edit_distance

    return edit_distance(reference, hypothesis)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table, so the output can be pasted into docs/BENCHMARKS.md as is."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
