"""Benchmark: spoken questions answered by the whole assistant, through `assistant talk --input`.

Run from the repo root: `.venv/bin/python bench/voice_tasks.py [--seed N] [--model NAME …]
[--per-category K]`. Each run makes its questions afresh from the seed (printed): numbers,
units, notes and wordings are drawn at random, and each clip gets its own voice (hibari and
four espeak-ng variants, in turn), speaking rate and, for some, background noise. The
questions go, batch by batch, into the real `assistant talk --input` in a fresh data dir (a
notes folder attached for the notes batch) and the report reads what came back: the words
heard, the window's text, the tools the saved conversation shows and the timeline.

Per category it reports answer accuracy, tool routing, end of speech → first audio and, on
tool turns, → the first audio of the answer itself (after the spoken progress line).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

ASSISTANT = [sys.executable, "-m", "assistant_app.cli"]
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass
class Task:
    category: str
    question: str
    tools: frozenset[str]  # any of these counts as the right route; empty: no tool at all
    check: object  # (heard reply, window text) -> bool
    result: dict = field(default_factory=dict)


def numbers_in(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in NUMBER.findall(text.replace(" ,", ","))]


def says_number(expected: float, tolerance: float = 0.005):  # noqa: ANN201
    def check(heard: str, window: str) -> bool:
        found = numbers_in(heard) + numbers_in(window)
        return any(abs(n - expected) <= max(abs(expected) * tolerance, 0.011) for n in found)

    return check


def says_words(*words: str):  # noqa: ANN201
    def check(heard: str, window: str) -> bool:
        text = f"{heard} {window}".lower()
        return all(w.lower() in text for w in words)

    return check


def names_the_image_model(heard: str, window: str) -> bool:
    """With no image model installed: an honest answer that says which model to pull."""
    text = f"{heard} {window}".lower()
    return "sd-turbo" in text or "sd turbo" in text or "image model" in text


def answered_plainly(heard: str, window: str) -> bool:
    refusals = ("i can't", "i cannot", "i'm sorry", "as an ai")
    return bool(heard.strip()) and not any(r in heard.lower() for r in refusals)


# -- the questions --------------------------------------------------------------------------------
def make_tasks(rng: random.Random, per: int) -> tuple[list[Task], dict[str, str]]:
    """Fresh tasks; returns them and the notes files (name -> text) for the notes batch."""
    tasks: list[Task] = []
    calc = frozenset({"calculator", "python"})
    for _ in range(per):
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        form = rng.choice(["What is {a} times {b}?", "Multiply {a} by {b}.", "{a} times {b}?"])
        tasks.append(Task("arithmetic", form.format(a=a, b=b), calc, says_number(a * b)))
    for _ in range(per):
        p, x = rng.choice([5, 10, 15, 20, 25, 30, 40]), rng.choice([40, 60, 80, 120, 250, 360])
        q = f"What is {p} percent of {x}?"
        tasks.append(Task("percent", q, calc, says_number(p * x / 100)))
    for _ in range(per):
        kind = rng.choice(["miles", "pounds", "celsius", "speed"])
        if kind == "miles":
            m = rng.randint(3, 40)
            q, want = f"How many kilometres is {m} miles?", m * 1.609344
        elif kind == "pounds":
            lb = rng.randint(5, 60)
            q, want = f"How many kilograms is {lb} pounds?", lb * 0.45359237
        elif kind == "celsius":
            c = rng.choice([10, 20, 25, 30, 37, 40])
            q, want = f"What is {c} degrees Celsius in Fahrenheit?", c * 9 / 5 + 32
        else:
            km, h = rng.choice([(120, 2), (150, 3), (90, 2), (200, 4), (45, 3)])
            q, want = f"I drove {km} kilometres in {h} hours. What was my average speed?", km / h
        tasks.append(Task("units", q, calc, says_number(want, 0.02)))
    notes, facts = notes_folder(rng)
    for question, words in rng.sample(facts, min(per, len(facts))):
        # Retrieval is automatic: the route is the citation (or a search), checked in judge().
        tasks.append(Task("notes", question, frozenset(), says_words(*words)))
    for _ in range(max(1, per - 1)):
        n = rng.randint(6, 15)
        q = f"Use Python to add up the squares of the numbers from 1 to {n}."
        want = n * (n + 1) * (2 * n + 1) / 6
        tasks.append(Task("python", q, frozenset({"python"}), says_number(want)))
    tasks.append(
        Task("python", "Plot a sine wave for me.", frozenset({"python"}), says_words("window"))
    )
    chat = ["Hello, how are you today?", "Tell me a fun fact about octopuses.",
            "What's a good name for a black cat?", "Thanks, that's all for now.",
            "Can you recommend a book about space?"]  # fmt: skip
    for q in rng.sample(chat, min(per, len(chat))):
        tasks.append(Task("chat", q, frozenset(), answered_plainly))
    a, b, c = rng.randint(11, 29), rng.randint(11, 29), rng.randint(10, 99)
    tasks.append(
        # A calculation asked to think about goes to the calculator (exact), not to a vote.
        Task("think", f"Think carefully. What is {a} times {b} minus {c}?", calc,
             says_number(a * b - c))
    )  # fmt: skip
    animal = rng.choice(["cat", "horse", "lighthouse", "dragon"])
    tasks.append(
        Task("draw", f"Draw me a picture of a {animal}.", frozenset(), names_the_image_model)
    )
    return tasks, notes


def notes_folder(rng: random.Random) -> tuple[dict[str, str], list[tuple[str, tuple[str, ...]]]]:
    day = rng.randint(3, 27)
    month = rng.choice(["March", "April", "May", "June", "October"])
    hour = rng.randint(2, 5)
    room = rng.randint(100, 499)
    friend = rng.choice(["Marta", "Oskar", "Priya", "Tomás"])
    dish = rng.choice(["lentil soup", "mushroom risotto", "lemon cake"])
    color = rng.choice(["green", "orange", "purple"])
    notes = {
        "appointments.md": f"# Appointments\n\nDentist: {month} {day} at {hour} pm, "
        f"Dr. Keller, room {room}.\nHaircut: every second Friday.\n",
        "people.md": f"# People\n\n{friend} is my neighbour; her favourite dish is {dish}.\n",
        "house.md": f"# House\n\nThe spare key is in the {color} box in the garage.\n",
    }
    facts = [
        ("When is my dentist appointment?", (month, str(day))),
        (f"What is {friend}'s favourite dish?", (dish.split()[-1],)),
        ("Where is the spare key?", (color,)),
        ("Which room is the dentist in?", (str(room),)),
    ]
    return notes, facts


# -- speaking them --------------------------------------------------------------------------------
def voices() -> list[tuple[str, object]]:
    """(name, speak(text, path, rate)) for every voice available here."""
    found = [("hibari", _hibari)]
    if shutil.which("espeak-ng"):
        found += [(f"espeak {v}", _espeak(v)) for v in ("en-us", "en-gb", "en-us+f3", "en+m3")]
    return found


def _hibari(text: str, path: Path, rate: float) -> None:
    subprocess.run([*ASSISTANT, "say", text, "-o", str(path)], check=True, capture_output=True)


def _espeak(voice: str):  # noqa: ANN202
    def speak(text: str, path: Path, rate: float) -> None:
        wpm = str(int(160 * rate))
        subprocess.run(["espeak-ng", "-v", voice, "-s", wpm, "-w", str(path), text], check=True)

    return speak


def speak_all(tasks: list[Task], folder: Path, rng: random.Random) -> None:
    from audio.wav import read_audio, write_wav

    choices = voices()
    for n, task in enumerate(tasks):
        name, speak = choices[n % len(choices)]
        rate = rng.uniform(0.85, 1.15)
        path = folder / f"q{n:02d}.wav"
        speak(task.question, path, rate)
        audio = read_audio(path)
        snr = rng.choice([None, None, 25, 20])
        if snr is not None:
            power = float(np.mean(audio**2)) or 1e-9
            scale = np.sqrt(power / 10 ** (snr / 10))
            noise = np.random.default_rng(n).normal(0, scale, len(audio))
            audio = (audio + noise).astype(np.float32)
        write_wav(path, audio, 16000)
        task.result.update(voice=name, rate=round(rate, 2), snr=snr, wav=str(path))


# -- running them ---------------------------------------------------------------------------------
TIMES = re.compile(r"turn (\d+): end of speech.*")
ASK_AGAIN = re.compile(
    r"again|repeat|rephrase|didn't (?:catch|understand)|don't understand|not sure what you",
    re.IGNORECASE,
)


def run_batch(
    tasks: list[Task],
    model: str,
    work: Path,
    notes: dict[str, str],
    stt: str = "",
    beam: int | None = None,
) -> None:
    """One `assistant talk --input …` run over the batch, in a fresh data dir; with `notes`,
    the current assistant has them as its knowledge folder."""
    from assistant_app.core.config import load_config, models_dir

    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    config = work / "config.toml"
    models = models_dir(load_config())
    voice = "\n[voice]\n" + (f'stt_model = "{stt}"\n' if stt else "")
    voice += f"stt_beam_size = {beam}\n" if beam is not None else ""
    config.write_text(f'[models]\ndir = "{models}"\n\n[llm]\nmodel = "{model}"\n{voice}')
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CONFIG": str(config)}
    # The user has allowed python (as `chat --allow python` or "Always allow" would).
    create = ["create", "Bench", "--tool", "python=allow"]
    if notes:
        folder = work / "notes"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in notes.items():
            (folder / name).write_text(text)
        create += ["--folder", str(folder)]
    for args in (create, ["use", "Bench"]):
        subprocess.run([*ASSISTANT, "assistants", *args], env=env, check=True,
                       capture_output=True)  # fmt: skip
    inputs = [a for t in tasks for a in ("--input", t.result["wav"])]
    out = work / "out"
    done = subprocess.run(
        [*ASSISTANT, "talk", *inputs, "--output-dir", str(out)],
        env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:], file=sys.stderr)
    timelines = {}
    for line in done.stdout.splitlines():
        if m := TIMES.match(line):
            marks = dict(re.findall(r"(\w[\w ]*?) ([+-]\d+\.\d+)s", line.split(":", 1)[1]))
            timelines[int(m.group(1))] = {k.strip(): float(v) for k, v in marks.items()}
    used = tools_per_turn(data)
    for n, task in enumerate(tasks, 1):
        reply = out / f"reply_{n}.txt"
        text = reply.read_text() if reply.exists() else ""
        fields = dict(re.findall(r"^(user|assistant): (.*)$", text, re.M))
        fields["window"] = text.split("\nwindow: ", 1)[1] if "\nwindow: " in text else ""
        task.result.update(
            heard_question=fields.get("user", ""),
            heard=fields.get("assistant", ""),
            window=fields.get("window", ""),
            times=timelines.get(n, {}),
        )
        said = task.result["heard_question"]
        task.result["tools"] = sorted(next((t for u, t in used if u == said and said), set()))


def tools_per_turn(data: Path) -> list[tuple[str, set[str]]]:
    """(what the user said, the tools that turn called) for each user turn of the saved
    conversation; a question cut in two by a pause is two turns here."""
    from assistant_app.storage.history_db import DB_NAME, ConversationStore

    path = data / DB_NAME
    if not path.exists():
        return []
    with ConversationStore(path) as store:
        latest = store.latest()
        messages = store.messages(latest) if latest else []
    turns: list[tuple[str, set[str]]] = []
    for message in messages:
        if message.role == "user":
            turns.append((message.content, set()))
        elif turns and message.tool_calls:
            turns[-1][1].update(c.name for c in message.tool_calls)
    return turns


def _words(text: str) -> list[str]:
    text = text.lower().replace("%", " percent").replace("metres", "meters").replace("'s", "s")
    return re.findall(r"[a-z0-9]+", text)


def judge(task: Task) -> None:
    r = task.result
    r["heard_right"] = _words(r.get("heard_question", "")) == _words(task.question)
    r["correct"] = bool(r.get("heard") or r.get("window")) and task.check(r["heard"], r["window"])
    if task.category == "notes":
        r["routed"] = "(Source:" in r["window"] or "search_files" in r["tools"]
    else:
        used = set(r["tools"])
        r["routed"] = bool(used & task.tools) if task.tools else not used


def report(model: str, tasks: list[Task]) -> None:
    print(f"\n### {model}\n")
    rows = []
    for category in dict.fromkeys(t.category for t in tasks):
        done = [t.result for t in tasks if t.category == category]
        first = [r["times"].get("first audio") for r in done if r["times"].get("first audio")]
        answer = [r["times"].get("answer audio") for r in done if r["tools"]]
        answer = [a for a in answer if a]
        right = [r for r in done if r["heard_right"]]
        rows.append([
            category, len(done), f"{sum(r['correct'] for r in done)}/{len(done)}",
            f"{sum(r['routed'] for r in done)}/{len(done)}",
            f"{sum(r['correct'] for r in right)}/{len(right)}", median(first), median(answer),
        ])  # fmt: skip
    results = [t.result for t in tasks]
    no_tool = [t.result for t in tasks if not t.tools and t.category != "notes"]
    tool_turns = [r for r in results if r["tools"]]
    right = [r for r in results if r["heard_right"]]
    rows.append([
        "all", len(results), f"{sum(r['correct'] for r in results) / len(results):.0%}",
        f"{sum(r['routed'] for r in results) / len(results):.0%}",
        f"{sum(r['correct'] for r in right) / max(1, len(right)):.0%} of {len(right)}",
        median([r["times"]["first audio"] for r in no_tool if "first audio" in r["times"]]),
        median([r["times"]["answer audio"] for r in tool_turns if "answer audio" in r["times"]]),
    ])  # fmt: skip
    print_table(
        ["category", "n", "answers", "routing", "answers when heard right",
         "first audio s (median)", "answer audio s, tool turns"], rows,
    )  # fmt: skip
    print("\n('all': first audio over turns that need no tool, answer audio over tool turns)")
    # Where a no-tool turn's first audio goes: the model's first token (reading what it had
    # not read ahead), then writing up to the end of the first clause.
    token = [r["times"]["first token"] - r["times"]["transcript"] for r in no_tool
             if "first token" in r["times"] and "transcript" in r["times"]]  # fmt: skip
    print(f"no-tool turns, transcript -> first token: median {median(token):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in token)})")  # fmt: skip
    missed = [r for r in results if not r["heard_right"] and not r["correct"]]
    again = [r for r in missed if ASK_AGAIN.search(r.get("heard", ""))]
    print(f"misheard and not answered right: {len(missed)}; of them the reply asked to hear it "
          f"again: {len(again)}")  # fmt: skip
    # The ears differ most by voice (espeak's formant voices are misheard more than hibari's).
    by_voice = []
    for voice in sorted({r["voice"] for r in results}):
        mine = [r for r in results if r["voice"] == voice]
        heard, right = sum(r["heard_right"] for r in mine), sum(r["correct"] for r in mine)
        by_voice.append(f"{voice} {heard}/{len(mine)} heard right, {right}/{len(mine)} answers")
    print("by voice: " + "; ".join(by_voice))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=random.randrange(10_000))
    parser.add_argument("--model", action="append", default=[], help="chat model (repeatable)")
    parser.add_argument("--per-category", type=int, default=5)
    parser.add_argument("--stt", default="", help="[voice] stt_model (default: the config's)")
    parser.add_argument("--stt-beam", type=int, default=None, help="[voice] stt_beam_size")
    parser.add_argument("--keep", type=Path, help="keep clips, replies and data dirs here")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--only", default="", help="categories to run, comma-separated")
    args = parser.parse_args(argv)
    models = args.model or ["qwen2.5-coder-1.5b-instruct"]
    print(machine_line())
    beam = "(configured)" if args.stt_beam is None else args.stt_beam
    print(f"seed {args.seed}; models {', '.join(models)}; stt {args.stt or '(configured)'}, "
          f"beam {beam}")  # fmt: skip
    work = args.keep or Path(tempfile.mkdtemp(prefix="voice-tasks-"))
    everything = {}
    for model in models:
        rng = random.Random(args.seed)  # the same questions and voices for every model
        tasks, notes = make_tasks(rng, args.per_category)
        if args.only:  # the same questions per seed, fewer of them
            tasks = [t for t in tasks if t.category in args.only.split(",")]
        clips = work / "clips"
        clips.mkdir(parents=True, exist_ok=True)
        speak_all(tasks, clips, rng)
        # One conversation per category (a fresh `talk` run): a long one would page old turns
        # out through the model's own summaries, which is another benchmark.
        for category in dict.fromkeys(t.category for t in tasks):
            chosen = [t for t in tasks if t.category == category]
            folder = work / model / category
            shutil.rmtree(folder, ignore_errors=True)
            print(f"{model}: {len(chosen)} {category} questions ...", file=sys.stderr, flush=True)
            notes_here = notes if category == "notes" else {}
            run_batch(chosen, model, folder, notes_here, args.stt, args.stt_beam)
        for task in tasks:
            judge(task)
        report(model, tasks)
        everything[model] = [{"category": t.category, "question": t.question, **t.result}
                             for t in tasks]  # fmt: skip
        for t in tasks:
            if not t.result["correct"] or not t.result["routed"]:
                r = t.result
                print(f"  miss [{t.category}] {t.question!r} heard as {r['heard_question']!r}: "
                      f"{r['heard'][:120]!r} tools={r['tools']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
