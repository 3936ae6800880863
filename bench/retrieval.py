"""Benchmark: when are passages from the user's notes relevant to a message? Measures the
cosine similarity threshold that puts notes in front of the model for notes questions and
leaves every other message clean (no outside text, so allowed tools are not asked about).

Run from the repo root: `.venv/bin/python bench/retrieval.py [--seeds 1,2,3]`. For each seed a
notes folder is written afresh (the answers benchmark's notes plus long journal-like files that
mix topics in one chunk), then bench/answers.py's requests for that seed are searched: notes
questions must find their note above the threshold; every other request must find nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, print_table  # noqa: E402
from bench.answer_requests import make_requests  # noqa: E402

TOPICS = [
    "Bought flour, eggs and {a} lemons at the market; the baker said the rye is back on {d}.",
    "Call the plumber about the kitchen tap before {d}. Quote was {a} euros.",
    "Reading list: a novel about lighthouses, a history of salt, {a} pages of poetry.",
    "Project Falcon standup moved to {d}; ship the onboarding screens by sprint {a}.",
    "Garden: the tomatoes need water every {d}; planted {a} basil seedlings by the fence.",
    "Ideas for the holiday: hiking near the lakes, {a} nights in a cabin, leave on {d}.",
    "Insurance renewal is due {d}; the premium went up to {a} per month.",
    "Podcast notes: episode {a} on sleep science said to keep the bedroom cool.",
]
# Notes questions asked the way people ask, in other words than the notes use.
PARAPHRASES = [
    "When do I have to go to the dentist?", "Who lives next door to me?",
    "What's my dog's doctor called?", "How do I get onto the internet at home?",
    "Where did I put the extra key?", "What's the licence plate of my car?",
    "When do I work out?", "What does my neighbour like to eat?",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Friday", "the 14th", "the 3rd", "next week"]


def journal(rng: random.Random, lines: int = 24) -> str:
    """A long, mixed note: several topics share each 500-character chunk."""
    picked = [rng.choice(TOPICS).format(a=rng.randint(2, 90), d=rng.choice(DAYS))
              for _ in range(lines)]  # fmt: skip
    return "# Journal\n\n" + "\n".join(picked) + "\n"


def measure(seed: int) -> list[tuple[bool, str, float, bool]]:
    """(relevant, request, best similarity, every term found) for each request of the seed."""
    from assistant_app.core.config import load_config
    from assistant_app.storage.knowledge import KnowledgeIndex
    from models.embed import create_embedder
    from models.store import open_store

    rng = random.Random(seed)
    requests, notes = make_requests(rng)
    config = load_config()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "notes"
        folder.mkdir()
        for name, text in {**notes, "journal.md": journal(rng), "log.md": journal(rng)}.items():
            (folder / name).write_text(text, encoding="utf-8")
        index = KnowledgeIndex(
            Path(work) / "k.sqlite3", create_embedder(config.embed, open_store(config))
        )
        index.add_folder(folder)
        index.refresh()
        asked = [(r.category == "notes" or (r.category == "injection" and not r.attach), r.text)
                 for r in requests] + [(True, q) for q in PARAPHRASES]  # fmt: skip
        found = []
        for relevant, text in asked:
            hits = index.search(text, 3)
            best = max((h.similarity for h in hits), default=0.0)
            found.append((relevant, text, best, any(h.every_term for h in hits)))
        index.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=",".join(str(random.randrange(10_000)) for _ in "ab"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(machine_line())
    print(f"seeds {seeds}")
    results = {seed: measure(seed) for seed in seeds}
    rows = []
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        row: list[object] = [threshold]
        for seed in seeds:
            found = results[seed]
            notes = [f for f in found if f[0]]
            other = [f for f in found if not f[0]]
            kept = sum(sim >= threshold or every for _, _, sim, every in notes)
            tainted = sum(sim >= threshold or every for _, _, sim, every in other)
            row += [f"{kept}/{len(notes)}", f"{tainted}/{len(other)}"]
        rows.append(row)
    heads = ["threshold"]
    for seed in seeds:
        heads += [f"notes found (seed {seed})", f"others tainted (seed {seed})"]
    print_table(heads, rows)
    for seed in seeds:
        notes = sorted(f[2] for f in results[seed] if f[0])
        other = sorted((f[2], f[1][:60]) for f in results[seed] if not f[0])
        lowest = [round(s, 2) for s in notes[:3]]
        print(f"\nseed {seed}: notes questions, lowest similarities {lowest}")
        print(f"seed {seed}: other requests, highest: {[(round(s, 2), t) for s, t in other[-3:]]}")


if __name__ == "__main__":
    main()
