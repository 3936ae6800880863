"""Benchmark: sketch -> page on freshly generated sketches (or the committed fixtures), scored
against what was really drawn.

Run from the repo root: `.venv/bin/python bench/sketch.py [--count 40] [--seed N] [--kind K]
[--writer layout|model] [--model NAME] [--ocr NAME] [--no-repair] [--fixtures] [--keep DIR]`.
Without --seed a random one is drawn and printed; sketch i uses seed + i (bench/sketch_gen.py
draws it). Each page the pipeline saves is rendered again in headless Chromium and scored by
bench/sketch_score.py: renders with no JS error, word and exact-string recall, all element
kinds right, relative-position agreement, behaviours that work when clicked, and seconds per
sketch split into read / write / render / repair.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, machine_line, median, print_table  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sketches"
HEADERS = ["sketch", "kind", "renders", "words", "exact", "kinds right", "position",
           "behaviours", "seconds", "read", "write", "render", "repair", "wrong"]  # fmt: skip


def cases(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, Path, dict]]:
    """(name, page kind, image, truth) for each sketch to run."""
    if args.fixtures:
        out = []
        for truth_path in sorted(FIXTURES.glob("*.json")):
            image = next(FIXTURES.glob(f"{truth_path.stem}.*[gG]"))
            out.append((truth_path.stem, "fixture", image, json.loads(truth_path.read_text())))
        return out
    from bench.sketch_gen import generate, write

    out = []
    for n in range(args.count):
        sketch = generate(args.seed + n, args.kind)
        image = write(sketch, folder / "sketches")
        out.append((f"gen-{sketch.seed}", sketch.truth["page_kind"], image, sketch.truth))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="generated sketches")
    parser.add_argument("--seed", type=int, help="first seed (default: random, printed)")
    parser.add_argument("--kind", help="one page kind (bench/sketch_gen.py PAGE_KINDS)")
    parser.add_argument("--fixtures", action="store_true", help="the committed sketches")
    parser.add_argument("--writer", choices=("layout", "model"), help="[sketch] writer")
    parser.add_argument("--model", help="[sketch] model")
    parser.add_argument("--ocr", help="OCR model from the catalog (default: vision/ocr.py's)")
    parser.add_argument("--no-repair", action="store_true", help="model writer: first drafts")
    parser.add_argument("--keep", type=Path, help="keep sketches and pages in this folder")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1, 1_000_000)
    from assistant_app.core.config import load_config
    from bench.sketch_score import score_page
    from models.store import open_store
    from vision.ocr import OCR_MODEL, create_ocr
    from vision.render import PageRenderer
    from vision.sketch import create_sketch_to_page

    config = load_config()
    changes = {"writer": args.writer, "model": args.model}
    config = config.replace("sketch", **{k: v for k, v in changes.items() if v})
    if args.no_repair:
        config = config.replace("sketch", repair_rounds=0)
    print(machine_line())
    source = "the committed fixtures" if args.fixtures else f"{args.count} generated, seeds "
    source += "" if args.fixtures else f"{args.seed}..{args.seed + args.count - 1}"
    ocr = args.ocr or OCR_MODEL
    print(f"sketches: {source}; writer {config.sketch.writer}, model {config.sketch.model}, {ocr}")
    rows, scores = [], []
    with tempfile.TemporaryDirectory() as tmp, PageRenderer() as renderer:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        pipeline = create_sketch_to_page(config, renderer)
        if args.ocr:
            pipeline.ocr = create_ocr(open_store(config), model=args.ocr)
        runs = cases(args, folder)
        for name, kind, image, truth in runs:
            result = pipeline.run(image, folder / f"{name}.html")
            s = score_page(result.html_path.read_text(), truth, renderer)
            scores.append((s, result))
            t = result.timings
            rows.append(
                [name, kind, s.renders, s.word_recall, s.exact_recall, s.kinds_right, s.position,
                 f"{s.behaviours_ok}/{len(s.behaviours)}", result.seconds, t.get("read", 0.0),
                 t.get("write", 0.0), t.get("render", 0.0), t.get("repair", 0.0),
                 "; ".join([*s.wrong_counts, *s.errors[:1], *(f"miss {m!r}" for m in s.missing[:2]),
                            *(f"{lb} ({d}) failed" for lb, d, ok in s.behaviours if not ok)])]
            )  # fmt: skip
            print(
                f"{name} ({kind}): {result.seconds:.1f} s, words {s.word_recall:.2f}",
                file=sys.stderr,
            )
    print_table(HEADERS, rows)
    n = len(scores)
    by_hand: dict[str, list[float]] = {}
    for (s, _), (*_, truth) in zip(scores, runs, strict=True):
        for font in truth.get("fonts", ["fixture"]):
            by_hand.setdefault(font.rsplit(".", 1)[0], []).append(s.word_recall)
    print("\nword recall by hand (pages using it): " + ", ".join(
        f"{k} {sum(v) / len(v):.2f} ({len(v)})" for k, v in sorted(by_hand.items())))  # fmt: skip
    done = [b for s, _ in scores for b in s.behaviours]
    seconds = [r.seconds for _, r in scores]
    split = {k: median([r.timings.get(k, 0.0) for _, r in scores]) for k in HEADERS[9:13]}
    print(
        f"\n{n} sketches: renders with no JS error {sum(s.renders for s, _ in scores)}/{n}, "
        f"word recall {sum(s.word_recall for s, _ in scores) / n:.3f}, "
        f"exact strings {sum(s.exact_recall for s, _ in scores) / n:.3f}, "
        f"all kinds right {sum(s.kinds_right for s, _ in scores)}/{n}, "
        f"position agreement {sum(s.position for s, _ in scores) / n:.3f}, "
        f"behaviours working {sum(ok for _, _, ok in done)}/{len(done)}, "
        f"median {median(seconds):.1f} s per sketch (max {max(seconds):.1f}; median "
        + ", ".join(f"{k} {v:.1f}" for k, v in split.items())
        + ")"
    )


if __name__ == "__main__":
    main()
