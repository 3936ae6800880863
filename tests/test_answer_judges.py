"""bench/answers.py's judges: a right answer in other words counts, a wrong one does not."""

from __future__ import annotations

from bench.answer_requests import Outcome, says


def test_a_number_is_found_within_its_tolerance() -> None:
    check = says(135)
    assert check(Outcome("The total quantity is 135."))
    assert not check(Outcome("The total quantity in the table is 144."))


def test_a_zero_may_be_said_in_words() -> None:
    check = says(0)
    assert check(Outcome("There are no rows in the table with a price above 10."))
    assert check(Outcome("None of them: 0 rows."))
    assert not check(Outcome("There are 2 rows with a price above 10."))
    assert not says(3)(Outcome("There are no rows with a price above 10."))
