"""Benchmark: sketch -> page over the committed fixture sketches, scored against their truth.

Run from the repo root: `.venv/bin/python bench/sketch.py [--models A B] [--no-repair]`.
Each fixture's JSON lists what was drawn; the rendered page is scored against that (not against
what OCR read): render success, text recall, element-count accuracy, the checker's block match,
rows kept (sketched neighbours still side by side) and button success, and seconds per sketch.
With two models the second row set is the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sketches"


def truth_scores(html: str, truth: dict, renderer) -> tuple[bool, float, float]:  # noqa: ANN001
    """Renders the saved page again: did it render, what share of the drawn texts it shows,
    and how close its element counts are to the drawn ones."""
    from vision.page_check import COUNTED, text_recall

    page = renderer.render(html)
    revealed = "\n".join(line for c in page.clicks for line in c.new_text)
    recall, _ = text_recall(truth["texts"], page.text + "\n" + revealed)
    shown = [e.kind for e in page.elements if e.visible]
    kinds = [k for k in truth["counts"] if k in COUNTED]
    hit = sum(min(truth["counts"][k], shown.count(k)) for k in kinds)
    total = sum(max(truth["counts"][k], shown.count(k)) for k in kinds)
    return not page.failure, recall, hit / total if total else 1.0


def run(model: str, repair: bool, names: list[str]) -> list[list[object]]:
    from assistant_app.core.config import load_config
    from vision.render import PageRenderer
    from vision.sketch import create_sketch_to_page

    config = load_config().replace("sketch", model=model, repair_rounds=1 if repair else 0)
    rows = []
    with PageRenderer() as renderer, tempfile.TemporaryDirectory() as out:
        pipeline = create_sketch_to_page(config, renderer)
        for name in names:
            image = next(FIXTURES.glob(f"{name}.*[gG]"))
            truth = json.loads((FIXTURES / f"{name}.json").read_text())
            result = pipeline.run(image, Path(out) / f"{name}.html")
            html = result.html_path.read_text()
            rendered, recall, counts = truth_scores(html, truth, renderer)
            r = result.report
            rows.append(
                [model, name, rendered, recall, counts, r.block_match, r.rows_kept,
                 r.interaction_success, r.passed, result.rounds, result.seconds]
            )  # fmt: skip
            print(f"{name}: {result.seconds:.1f} s, score {r.score:.2f}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b-instruct"])
    parser.add_argument("--no-repair", action="store_true", help="first drafts only")
    parser.add_argument("--only", nargs="+", help="fixture names (default: all)")
    args = parser.parse_args()
    names = args.only or sorted(p.stem for p in FIXTURES.glob("*.json"))
    print(machine_line())
    headers = ["model", "sketch", "renders", "text recall", "counts", "block match",
               "rows kept", "buttons work", "checker passed", "drafts", "seconds"]  # fmt: skip
    all_rows = []
    for model in args.models:
        rows = run(model, not args.no_repair, names)
        all_rows += rows
        print_table(headers, rows)
        n = len(rows)
        print(
            f"\n{model}: renders {sum(bool(r[2]) for r in rows)}/{n}, "
            f"text recall {sum(r[3] for r in rows) / n:.1%}, "
            f"counts {sum(r[4] for r in rows) / n:.1%}, "
            f"block match {sum(r[5] for r in rows) / n:.2f}, "
            f"rows kept {sum(r[6] for r in rows) / n:.1%}, "
            f"buttons work {sum(r[7] for r in rows) / n:.1%}, "
            f"checker passed {sum(bool(r[8]) for r in rows)}/{n}, "
            f"median {median([r[10] for r in rows]):.1f} s per sketch\n"
        )
    if len(args.models) == 2:
        a, b = ([r[10] for r in all_rows if r[0] == m] for m in args.models)
        print(f"seconds ratio {args.models[0]} / {args.models[1]}: {median(a) / median(b):.2f}")


if __name__ == "__main__":
    main()
