"""Benchmark: two builds of llama-cpp-python on the same model, prompts and threads.

`scripts/setup` builds llama-cpp-python with AVX-512, VBMI and VNNI on a CPU that has them
(`ASSISTANT_AVX512=0`: AVX2 still), else with AVX2. This measures what a build buys: reading
a prompt (prefill) and writing (tokens/s), each build in its own child process, taking turns,
with nothing else loaded.

Run from the repo root, with two built wheels (the first is the reference):
`.venv/bin/python bench/llama_build.py WHEEL_A WHEEL_B [--model NAME] [--rounds N]`
e.g. the two caches in ~/.cache/assistant/wheels/llama-x86_64-{avx2,avx512}/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, median, print_table  # noqa: E402

PROMPT_TOKENS = (40, 700, 1500)  # a first turn, a turn with notes, a long conversation
WRITTEN = 40

# Run in the child, with the build's directory first on sys.path: one JSON line per prompt.
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[2], n_ctx=4096, n_threads=2, n_threads_batch=2, verbose=False)
for size in json.loads(sys.argv[3]):
    text = "You are a helpful assistant. " * (size // 6)
    prompt = ("<|im_start|>system\\n" + text + "<|im_end|>\\n<|im_start|>user\\n"
              "Tell me a fun fact about octopuses.<|im_end|>\\n<|im_start|>assistant\\n")
    tokens = llm.tokenize(prompt.encode(), special=True)
    llm.reset()
    start, times = time.perf_counter(), []
    for _ in llm.create_completion(tokens, stream=True, max_tokens=int(sys.argv[4]), temperature=0):
        times.append(time.perf_counter())
    print(json.dumps({"tokens": len(tokens), "prefill_s": times[0] - start,
                      "tok_s": (len(times) - 1) / (times[-1] - times[0])}), flush=True)
"""


def run_build(site: Path, model: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(site), str(model), json.dumps(PROMPT_TOKENS),
         str(WRITTEN)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheels", nargs=2, type=Path, help="reference wheel, then the other")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--rounds", type=int, default=2, help="turns each build takes")
    args = parser.parse_args()
    from assistant_app.core.config import load_config
    from models.store import open_store

    model = next(open_store(load_config()).model_dir(args.model).glob("*.gguf"))
    print(machine_line())
    print(f"model {model.name}; {WRITTEN} tokens written after each prompt; 2 threads")
    with tempfile.TemporaryDirectory() as tmp:
        sites = []
        for i, wheel in enumerate(args.wheels):
            zipfile.ZipFile(wheel).extractall(Path(tmp) / str(i))
            sites.append(Path(tmp) / str(i))
        runs: list[list[list[dict]]] = [[], []]
        for _ in range(args.rounds):
            for i, site in enumerate(sites):
                runs[i].append(run_build(site, model))
    names = [wheel.parent.name or wheel.name for wheel in args.wheels]
    rows = []
    for p in range(len(PROMPT_TOKENS)):
        prefill = [median([r[p]["prefill_s"] for r in runs[i]]) for i in (0, 1)]
        writing = [median([r[p]["tok_s"] for r in runs[i]]) for i in (0, 1)]
        rows.append([
            str(runs[0][0][p]["tokens"]),
            *(f"{s:.2f}" for s in prefill), f"{prefill[0] / prefill[1]:.2f}x",
            *(f"{w:.1f}" for w in writing), f"{writing[1] / writing[0]:.2f}x",
        ])  # fmt: skip
    print_table(
        ["prompt tokens", f"prefill s {names[0]}", f"prefill s {names[1]}", "faster",
         f"tok/s {names[0]}", f"tok/s {names[1]}", "faster"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
