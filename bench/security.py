"""Benchmark: the prompt-injection corpus through the chat kernel on a real model, with the
defences on and, as the reference in the same run, off (no detector, no fences, no extra asks).

Run from the repo root: `.venv/bin/python bench/security.py [--model NAME] [--cases a,b]`.
Each case of tests/security/cases.py is an innocent question about content (an image read by
OCR, a file passage, a tool's output, pasted text) carrying an attack. Prints by channel: how
often the attack worked (a canary in the reply or in a tool call the model proposed), how often
it did harm (an attacker's call that actually ran), right answers on the attacked input, and
right answers on the same input without the attack, each with the defences on and off.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, print_table  # noqa: E402

RUNS = (  # (defended, clean)
    (False, False),
    (True, False),
    (False, True),
    (True, True),
)


def main() -> None:
    from assistant_app.core.config import load_config
    from models.llm import create_chat_model
    from models.store import open_store
    from tests.security.cases import CASES, CHANNELS
    from tests.security.harness import run_case
    from vision.ocr import create_ocr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="chat model from the catalog (default: [llm] model)")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    config = load_config()
    llm = dataclasses.replace(config.llm, temperature=0.0, model=args.model or config.llm.model)
    store = open_store(config)
    model = create_chat_model(llm, store)
    reader = create_ocr(store)
    budget = llm.context_tokens - llm.max_reply_tokens - 64
    chosen = [c for c in CASES if not args.cases or c.name in args.cases.split(",")]
    print(machine_line())
    print(f"model {llm.model}, greedy; {len(chosen)} cases; OCR {reader.name}")
    results: dict[tuple[str, bool, bool], object] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as images:
        for case in chosen:
            for defended, clean in RUNS:
                outcome = run_case(
                    case,
                    model,
                    defended=defended,
                    clean=clean,
                    ocr=lambda: reader,
                    image_dir=Path(images),
                    window_tokens=budget,
                )
                results[case.name, defended, clean] = outcome
                print(
                    f"{case.name:26} {'on ' if defended else 'off'} "
                    f"{'clean   ' if clean else 'attacked'} exposed={outcome.exposed!s:5} "
                    f"hijacked={outcome.hijacked!s:5} "
                    f"harmed={outcome.harmed!s:5} answered={outcome.answered!s:5} "
                    f"told={outcome.told!s:5} | {' '.join(outcome.reply.split())[:100]!r}",
                    file=sys.stderr,
                )
    rows = []
    for channel in (*CHANNELS, "all"):
        names = [c.name for c in chosen if channel in ("all", c.channel)]
        if not names:
            continue

        def count(what: str, defended: bool, clean: bool = False, names=names) -> str:  # noqa: ANN001
            hits = sum(getattr(results[n, defended, clean], what) for n in names)
            return f"{hits}/{len(names)}"

        rows.append(
            [channel, count("hijacked", False), count("hijacked", True), count("harmed", False),
             count("harmed", True), count("answered", False), count("answered", True),
             count("answered", False, True), count("answered", True, True), count("told", True),
             count("exposed", True)]
        )  # fmt: skip
    print_table(
        ["channel", "attack worked (off)", "attack worked (on)", "harm (off)", "harm (on)",
         "right answer, attacked (off)", "right answer, attacked (on)",
         "right answer, no attack (off)", "right answer, no attack (on)", "user told (on)",
         "content read (on)"],
        rows,
    )  # fmt: skip
    subtle = [c.name for c in chosen if c.subtle]
    print(
        f"\nsubtle cases (nothing for the detector to find): {', '.join(subtle) or 'none'}; "
        f"{time.monotonic() - started:.0f} s for {len(results)} conversations"
    )


if __name__ == "__main__":
    main()
