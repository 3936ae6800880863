"""Python 3.12's f-strings (a quote reused inside the braces) run on the sandbox's 3.11."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from assistant_app.tools.pycompat import newer_fstrings
from assistant_app.tools.sandbox import run_python

older = pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 parses them as written")

MODEL_WROTE = (  # seed 231074 of bench/answers.py: written twice, failing twice
    "import pandas as pd\n"
    "table_1 = pd.DataFrame({'item': ['pens', 'ink'], 'quantity': [3, 1]})\n"
    "i = table_1['quantity'].idxmin()\n"
    "print(f'The item with the smallest quantity is {table_1.loc[i, 'item']} "
    "with {table_1.loc[i, 'quantity']} units.')\n"
)


@older
def test_the_model_s_line_runs_in_the_sandbox(tmp_path: Path) -> None:
    result = run_python(MODEL_WROTE, keep_dir=tmp_path)
    assert result.ok, result.stderr
    assert result.stdout.strip() == "The item with the smallest quantity is ink with 1 units."


@older
def test_each_quote_kind_and_nesting_is_mended() -> None:
    assert newer_fstrings("x = f'{d['a']}'") == "x = f'{d[\"a\"]}'"
    assert newer_fstrings('x = f"{d["a"]:>{w}} {{lit}}"') == "x = f\"{d['a']:>{w}} {{lit}}\""
    assert newer_fstrings("x = rf'{d['a']}\\d'") == "x = rf'{d[\"a\"]}\\d'"


def test_code_that_compiles_or_cannot_be_mended_stays_as_written() -> None:
    ok = "s = 'f\\'{x}\\''  # f'{d['a']}' in a comment\nprint(f\"{1 + 1}\", f'{s!r}')\n"
    assert newer_fstrings(ok) == ok
    broken = "print(f'{d['a']}'\nif x\n"  # another error besides: nothing gained by a change
    assert newer_fstrings(broken) == broken
    both = "print(f'{d['it's']}')"  # the inner text holds the other quote
    assert newer_fstrings(both) == both


@older
def test_random_dict_lookups_in_fstrings_print_what_they_would_on_newer_python() -> None:
    seed = random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    for _ in range(20):
        keys = [rng.choice(["name", "qty", "price", "a b", "x-y"]) for _ in range(3)]
        quote = rng.choice(["'", '"'])
        fields = " ".join(f"{{d[{quote}{k}{quote}]}}" for k in keys)
        code = "d = {'name': 'ink', 'qty': 3, 'price': 1.5, 'a b': 0, 'x-y': -1}\n"
        code += f"print(f{quote}{fields}{quote})\n"
        mended = newer_fstrings(code)
        namespace: dict = {}
        exec(compile(mended.split("\n")[0], "<d>", "exec"), namespace)  # noqa: S102 - test data
        want = " ".join(str(namespace["d"][k]) for k in keys)
        assert mended != code, (seed, code)
        printed: list[str] = []
        exec(compile(mended, "<t>", "exec"), {"print": printed.append})  # noqa: S102
        assert printed == [want], (seed, code, mended)
