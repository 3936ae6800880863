"""Spelled numbers in what was heard become digits, as Whisper writes them; words that only
look like numbers stay words."""

from __future__ import annotations

import pytest

from audio.numerals import value, with_digits


@pytest.mark.parametrize(
    ("heard", "written"),
    [
        ("What is sixty one times sixty-eight?", "What is 61 times 68?"),
        ("What is ten percent of forty?", "What is 10% of 40?"),
        ("What is five per cent of 80?", "What is 5% of 80?"),
        ("Add up the squares from one to twelve.", "Add up the squares from 1 to 12."),
        ("Add two hundred and five and thirty one.", "Add 205 and 31."),
        ("I have three thousand five hundred euros.", "I have 3500 euros."),
        ("Multiply 74 by sixty six.", "Multiply 74 by 66."),
        ("Plot it from zero to 15.", "Plot it from 0 to 15."),
        ("How many kilograms in six pounds?", "How many kilograms in 6 pounds?"),
        (
            "Add the squares of the numbers from one to seven.",
            "Add the squares of the numbers from 1 to 7.",
        ),
        ("Convert three miles to kilometres.", "Convert 3 miles to kilometres."),
        # Not numbers, or not one number: left as said.
        ("Tell me one joke, then another one.", "Tell me one joke, then another one."),
        ("No one knows. Someone does.", "No one knows. Someone does."),
        ("Remind me at five thirty.", "Remind me at five thirty."),
        ("Tell me about the seven wonders.", "Tell me about the seven wonders."),
        (
            "One day I will see Rome, one step at a time.",
            "One day I will see Rome, one step at a time.",
        ),
        ("Twenty twenty five was a year.", "Twenty twenty five was a year."),
    ],
)
def test_spelled_numbers_are_written_in_digits(heard: str, written: str) -> None:
    assert with_digits(heard) == written


def test_a_run_of_words_is_one_number_or_none() -> None:
    assert value(["nine", "hundred", "ninety", "nine"]) == 999
    assert value(["twelve", "thousand"]) == 12000
    assert value(["one", "two"]) is None
    assert value(["hundred"]) is None
