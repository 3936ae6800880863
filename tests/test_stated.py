"""A calculation the kernel called itself, answered in its own words (spoken turns)."""

from __future__ import annotations

import pytest

from assistant_app.kernel.hints import written_calculation
from assistant_app.kernel.stated import stated
from assistant_app.tools.builtin import calculator


@pytest.mark.parametrize(
    ("question", "answer"),
    [("What is 83 times 65?", "83 times 65 is 5,395."), ("What is 51x88?", "51 times 88 is 4,488."),
     ("What is 12,345 + 1,000?", "12,345 plus 1,000 is 13,345."),
     ("What is 7 divided by 3?", "7 divided by 3 is about 2.33."),
     ("What is 15% of 80?", "15% of 80 is 12."),
     ("What is the mean of 62, 10, 27?", "The average is 33."),
     ("How many km is 17 miles?", "17 miles is about 27.36 kilometres."),
     ("It's 212°F outside. What is that in Celsius?",
      "212 degrees Fahrenheit is 100 degrees Celsius."),
     ("How much is (46 + 85) x 9?", "That's 1,179."),
     ("I drove 45 km in 3 hours. What was my average speed?",
      "That's an average of 15 kilometres per hour."),
     ("Multiply 67 by 81.", "67 times 81 is 5,427."),
     ("What is 0.001 times 0.002?", "0.001 times 0.002 is 0.000002.")],
)  # fmt: skip
def test_the_result_is_one_sentence_as_people_say_it(question: str, answer: str) -> None:
    expression = written_calculation(question)
    assert stated(expression, calculator.function(expression)) == answer


def test_an_error_or_a_missing_result_leaves_the_answer_to_the_model() -> None:
    assert stated("1 / 0", "Error: division by zero") == ""
    assert stated("2 + 2", "") == ""
    assert stated("2 + 2", "Error: the user did not allow this calculator call.") == ""
