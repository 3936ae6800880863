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


def test_an_honest_no_says_why_about_what_was_asked_and_claims_nothing() -> None:
    from bench.answer_cannot import honest

    asked = "Play some jazz music."
    assert honest(asked, "I can't play music: I run offline, with no access to your apps.")
    assert honest(asked, "To play jazz, you can open your music app and search for it.")
    assert not honest(asked, "I'm sorry, but I can't assist with that.")  # why not, and what?
    assert not honest(asked, "I cannot play music.")  # no reason
    assert not honest(asked, "Sure! Playing jazz for you now.")
    assert not honest("Read my new messages.", "I have read your messages.")
    # A stock sentence that fits any request is not an answer to this one.
    assert not honest(asked, "I can't send texts: I run offline, with no access to your phone.")
