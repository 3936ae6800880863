"""Benchmark: accuracy of a normal reply vs 'think longer' on word problems, same model, same run.

Run from the repo root: `.venv/bin/python bench/think.py [--model NAME] [--samples 5]`.
Normal = one greedy attempt with the same 'Answer:' instruction, so only the voting differs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, print_table  # noqa: E402

PROBLEMS = [
    (
        "Pens cost 3 dollars each. Tom buys 7 pens and pays with a 50 dollar note. How many "
        "dollars of change does he get?",
        "29",
    ),
    (
        "Anna is 3 years older than Ben. Ben is twice as old as Carl. Carl is 6. How old is Anna?",
        "15",
    ),
    ("A train travels at 60 km per hour for 2.5 hours. How many km does it travel?", "150"),
    (
        "If 5 machines make 5 widgets in 5 minutes, how many minutes do 100 machines need to make "
        "100 widgets?",
        "5",
    ),
    ("What is 17 times 24, minus 8?", "400"),
    ("A rectangle is 7 cm wide and 12 cm long. What is its perimeter in cm?", "38"),
    (
        "A box holds 12 eggs. I use 5, buy another full box, then use 4. How many eggs do I have?",
        "15",
    ),
    (
        "After a 25 percent discount a book costs 12 dollars. What was its price in dollars before "
        "the discount?",
        "16",
    ),
    (
        "Sara has twice as many apples as Tim. Together they have 18. How many apples does Sara "
        "have?",
        "12",
    ),
    ("What is the sum of the whole numbers from 1 to 20?", "210"),
    (
        "A bat and a ball cost 1.10 dollars together. The bat costs 1 dollar more than the ball. "
        "How many cents does the ball cost?",
        "5",
    ),
    ("Today is Monday. What day of the week is it 10 days from now?", "thursday"),
]


def main() -> None:
    from assistant_app.core.cancel import CancelToken
    from assistant_app.core.config import load_config
    from assistant_app.core.messages import ChatMessage
    from assistant_app.kernel.think import INSTRUCTION, extract_answer, think_longer
    from models.llm import create_chat_model
    from models.store import open_store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--temperature", type=float, default=0.7, help="of the extra attempts")
    args = parser.parse_args()
    config = load_config()
    llm = dataclasses.replace(config.llm, model=args.model, max_reply_tokens=320)
    model = create_chat_model(llm, open_store(config))
    system = ChatMessage("system", "You are a careful assistant who solves word problems.")
    print(machine_line())
    print(
        f"model {args.model}, think longer = up to {args.samples} attempts (temperature "
        f"{args.temperature} after the first), majority vote"
    )
    rows, normal_ok, think_ok, normal_s, think_s = [], 0, 0, 0.0, 0.0
    for n, (question, want) in enumerate(PROBLEMS, 1):
        start = time.perf_counter()
        request = [system, ChatMessage("user", f"{question}\n\n{INSTRUCTION}")]
        text = "".join(
            d.text for d in model.stream_reply(request, [], CancelToken.never(), temperature=0.0)
        )
        normal = extract_answer(text)
        normal_s += time.perf_counter() - start
        start = time.perf_counter()
        verdict = think_longer(
            model,
            [system, ChatMessage("user", question)],
            samples=args.samples,
            budget_s=600,
            temperature=args.temperature,
        )
        think_s += time.perf_counter() - start
        normal_ok += normal == want
        think_ok += verdict.answer == want
        rows.append([n, want, normal, verdict.answer, f"{verdict.votes}/{len(verdict.attempts)}"])
    print_table(["problem", "expected", "normal", "think longer", "votes"], rows)
    total = len(PROBLEMS)
    print(f"\naccuracy: normal {normal_ok}/{total}, think longer {think_ok}/{total}")
    print(f"seconds per problem: normal {normal_s / total:.1f}, think longer {think_s / total:.1f}")
    print(machine_line())


if __name__ == "__main__":
    main()
