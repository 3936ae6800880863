"""The sentence splitter on streamed text."""

from __future__ import annotations

from audio.sentences import SentenceSplitter, clean_for_speech


def split(deltas: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out = [s for d in deltas for s in splitter.push(d)]
    return out + list(splitter.flush())


def test_sentences_come_out_as_soon_as_they_end() -> None:
    splitter = SentenceSplitter()
    assert list(splitter.push("Paris is the cap")) == []
    assert list(splitter.push("ital. It has ")) == ["Paris is the capital."]
    assert list(splitter.push("2 million people! Want more")) == ["It has 2 million people!"]
    assert list(splitter.flush()) == ["Want more"]


def test_numbers_abbreviations_and_initials_do_not_split() -> None:
    text = "Pi is 3.14 roughly. Dr. Smith met J. R. Tolkien, e.g. at Oxford. Done."
    assert split([c for c in text]) == [
        "Pi is 3.14 roughly.",
        "Dr. Smith met J. R. Tolkien, e.g. at Oxford.",
        "Done.",
    ]


def test_markdown_is_not_read_aloud() -> None:
    assert clean_for_speech("**Paris** is `the` capital.") == "Paris is the capital."
    assert split(["Here:\n```python\nprint(1)\n```\nThat prints one."]) == [
        "Here:",
        "That prints one.",
    ]
    assert split(["- first item\n- second item\n"]) == ["first item", "second item"]


def test_very_long_sentences_are_cut_at_a_comma() -> None:
    long = "word " * 30 + ", and " + "more " * 40 + "."
    first = split([long])[0]
    assert len(first) < 230 and first.endswith(",")


def test_a_reply_may_start_speaking_at_the_end_of_its_first_clause() -> None:
    splitter = SentenceSplitter(first_clause=True)
    assert list(splitter.push("Sure, here's a fun fact")) == []  # a short "Sure," waits
    assert list(splitter.push(" about octopuses: they have")) == [
        "Sure, here's a fun fact about octopuses:"
    ]
    assert list(splitter.push(" three hearts, blue blood, and")) == []  # then whole sentences
    assert list(splitter.push(" no bones. Yes")) == [
        "they have three hearts, blue blood, and no bones."
    ]
    assert split(["The meeting is at 10:30 tomorrow."]) == ["The meeting is at 10:30 tomorrow."]
    first = SentenceSplitter(first_clause=True)
    assert list(first.push("It is a long way to Tipperary, as the song says")) == [
        "It is a long way to Tipperary,"
    ]
    assert list(SentenceSplitter(first_clause=True).push("Here:\n```python\nx = 1; y")) == ["Here:"]


def test_a_long_first_sentence_may_start_speaking_before_a_phrase() -> None:
    splitter = SentenceSplitter(first_clause=True)
    assert list(splitter.push("Octopuses are known for their ability to")) == []  # "to…"?
    assert list(splitter.push(" manipulate objects with their")) == [
        "Octopuses are known for their ability"
    ]
    assert list(splitter.push(" tentacles. They")) == [
        "to manipulate objects with their tentacles."  # then whole sentences
    ]
    short = SentenceSplitter(first_clause=True)
    assert list(short.push("A cat could be named Shadow. ")) == ["A cat could be named Shadow."]
    numbers = SentenceSplitter(first_clause=True)  # not between numbers, nor inside quotes
    assert list(numbers.push("The total of every number 1 to 10 is")) == []
    named = SentenceSplitter(first_clause=True)  # from 22 characters on
    assert list(named.push("A good name for a black cat could be")) == [
        "A good name for a black cat"
    ]
    place = SentenceSplitter(first_clause=True)  # a place or a time stays with its sentence
    assert list(place.push("Your dentist appointment is on June 7 at 5")) == []
    quoted = SentenceSplitter(first_clause=True)
    assert list(quoted.push('A good name for a cat is "Shadow and Smoke" maybe')) == []
    curly = SentenceSplitter(first_clause=True)
    assert list(curly.push("A good name for a cat is \u201cShadow and Smoke\u201d maybe")) == []
