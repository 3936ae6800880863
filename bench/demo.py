"""Benchmark: the funding-rounds demo (impute two valuations, then plot them on a log axis with
a trend line), run N times through `assistant chat --tools`, each run in a fresh data folder.

Run from the repo root: `.venv/bin/python bench/demo.py [--runs 5] [--model NAME]`.
Prints, per run, whether the imputed values were right, whether a figure came out and whether
the plotting code used a log scale and a fitted line, then the success rates and seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table  # noqa: E402

DEMO = REPO_ROOT / "tests" / "fixtures" / "funding_rounds.txt"


def one_run(model: str, store_root: str) -> list[object]:
    with tempfile.TemporaryDirectory() as data:
        config = Path(data) / "config.toml"
        config.write_text(
            f'[models]\ndir = "{store_root}"\n[llm]\nmodel = "{model}"\ntemperature = 0.0\n'
        )
        env = {**os.environ, "ASSISTANT_CONFIG": str(config), "ASSISTANT_DATA_DIR": data}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "assistant_app.cli", "chat", "--tools", "--allow", "python"],
            input=DEMO.read_text(), capture_output=True, text=True, cwd=REPO_ROOT, env=env,
            timeout=1200,
        )  # fmt: skip
        seconds = time.monotonic() - started
        said = done.stdout + done.stderr
        imputed = "82.56" in said and "330.25" in said
        figures = list((Path(data) / "attachments").glob("*.png"))
        code = [line for line in done.stderr.splitlines() if "plt." in line]
        fitted = any("log" in c and ("polyfit" in c or "linregress" in c) for c in code)
        return [imputed, bool(figures), fitted, seconds]


def main() -> None:
    from assistant_app.core.config import load_config
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    args = parser.parse_args()
    root = str(open_store(load_config()).root)
    print(machine_line())
    rows = []
    for n in range(1, args.runs + 1):
        rows.append([n, *one_run(args.model, root)])
        print(f"run {n}: {rows[-1][1:]}", file=sys.stderr)
    print_table(["run", "imputed right", "figure made", "log axis + fit", "seconds"], rows)
    k = len(rows)
    print(
        f"\n{args.model}: imputed {sum(r[1] for r in rows)}/{k}, figure {sum(r[2] for r in rows)}"
        f"/{k}, log + fit in the code {sum(r[3] for r in rows)}/{k}, "
        f"median {median([r[4] for r in rows]):.0f} s per conversation"
    )


if __name__ == "__main__":
    main()
