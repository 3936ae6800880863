"""Misread words put right from the recogniser's own letter probabilities (vision/ocr_lexicon):
the CTC sum checked against every alignment spelled out, corrections on made-up beliefs, and
the real PP-OCRv6 reader on a generated hand-drawn page it misreads without them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

from bench.sketch_gen import generate
from vision.ocr import create_ocr
from vision.ocr_lexicon import BLANK, LineBelief, alphabet_index, ctc_log_likelihood

ALPHABET = ["blank", *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", " "]


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    merged = [k for k, _ in itertools.groupby(path)]
    return tuple(k for k in merged if k != BLANK)


def test_ctc_likelihood_is_the_sum_over_every_alignment() -> None:
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(4), size=5)  # 5 frames, blank + 3 letters
    log_probs = np.log(probs)
    for labels in ((1,), (1, 2), (2, 2), (1, 2, 3), (3, 1, 3)):
        brute = sum(
            np.prod([probs[t, k] for t, k in enumerate(path)])
            for path in itertools.product(range(4), repeat=5)
            if _collapse(path) == labels
        )
        assert np.isclose(ctc_log_likelihood(log_probs, labels), np.log(brute))


def _belief(frames: list[dict[str, float]], extra: str = "") -> LineBelief:
    """Per-frame probabilities from {letter: probability}; the rest goes to the blank.
    `extra`: characters the alphabet holds besides letters, digits and the space."""
    alphabet = [*ALPHABET[:-1], *extra, " "]
    probs = np.full((len(frames), len(alphabet)), 1e-6)
    for t, frame in enumerate(frames):
        for ch, p in frame.items():
            probs[t, alphabet.index(ch)] = p
        probs[t, BLANK] = max(1e-6, 1 - sum(frame.values()))
    probs /= probs.sum(axis=1, keepdims=True)
    (text, _), *_ = CTCLabelDecode(alphabet[1:-1])(probs[None])  # the engine's own decoder
    return LineBelief(probs, text, alphabet_index(alphabet))


def _frames(word: str, runner_up: dict[int, tuple[str, float]]) -> list[dict[str, float]]:
    """One sure frame per letter (0.999) with a blank after it; `runner_up` gives a letter
    position a second choice and its probability."""
    frames: list[dict[str, float]] = []
    for i, ch in enumerate(word):
        frame = {ch: 0.999}
        if i in runner_up:
            other, p = runner_up[i]
            frame = {ch: 0.999 - p, other: p}
        frames += [frame, {}]
    return frames


def test_a_misread_letter_the_recogniser_half_saw_is_put_right() -> None:
    belief = _belief(_frames("Jo6s", {2: ("b", 0.3)}))
    assert belief.text == "Jo6s"
    assert belief.corrections() == {"Jo6s": "Jobs"}


def test_a_letter_it_barely_considered_is_left_as_read() -> None:
    belief = _belief(_frames("Jo6s", {2: ("b", 0.0005)}))
    assert belief.corrections() == {}


def test_a_word_no_dictionary_has_takes_a_less_likely_correction() -> None:
    # 1/50 of the belief: enough against "Welsite" (no word at all), not against "mugs" (a
    # word, if a rarer one than "rugs").
    assert _belief(_frames("Welsite", {2: ("b", 0.02)})).corrections() == {"Welsite": "Website"}
    assert _belief(_frames("mugs", {0: ("r", 0.02)})).corrections() == {}
    assert _belief(_frames("mugs", {0: ("r", 0.3)})).corrections() == {"mugs": "rugs"}


def test_a_price_whose_dollar_was_read_as_a_digit_gets_it_back() -> None:
    belief = _belief(_frames("849/month", {0: ("$", 0.3)}), extra="$/")
    assert belief.corrections() == {"849": "$49"}
    belief = _belief(_frames("849/month", {0: ("$", 0.0001)}), extra="$/")
    assert belief.corrections() == {}


def test_usual_words_numbers_and_codes_are_never_changed() -> None:
    line = "Order now 4512 QTY"
    belief = _belief(_frames(line, {1: ("x", 0.4), 7: ("w", 0.4)}))
    assert belief.text == line
    assert belief.corrections() == {}


def test_a_word_in_a_line_is_judged_on_its_own_columns() -> None:
    line = "Open Hame page"
    belief = _belief(_frames(line, {6: ("o", 0.25)}))
    assert belief.corrections() == {"Hame": "Home"}


def test_a_word_split_where_the_space_was_doubtful_is_joined() -> None:
    frames = _frames("Cit y", {})
    frames[6] = {" ": 0.4, "t": 0.35}  # the space read, a blank (0.25) nearly as likely
    assert _belief(frames).corrections() == {"Cit y": "City"}
    sure = _belief(_frames("Cit y", {}))  # a space the recogniser is sure of stays
    assert sure.corrections() == {}


def test_a_first_word_the_recogniser_also_saw_as_a_button_verb_is_that_verb() -> None:
    # "Las" is a word, but the letters of "Log" were the runners-up: a button's "Log in".
    belief = _belief(_frames("Las in", {1: ("o", 0.3), 2: ("g", 0.3)}))
    assert belief.corrections() == {"Las": "Log"}
    upper = _belief(_frames("ODD ITEM", {0: ("A", 0.3)}))
    assert upper.corrections() == {"ODD": "ADD"}
    assert _belief(_frames("Co", {0: ("G", 0.2)})).corrections() == {"Co": "Go"}
    assert _belief(_frames("No ads", {0: ("G", 0.0005)})).corrections() == {}


def test_words_the_recogniser_was_sure_of_or_not_first_stay() -> None:
    assert _belief(_frames("Shop now", {3: ("w", 0.0005)})).corrections() == {}
    assert _belief(_frames("Buy now", {5: ("e", 0.45)})).corrections() == {}  # not first
    assert _belief(_frames("Sign up", {})).corrections() == {}  # a verb already


@pytest.mark.models
@pytest.mark.parametrize(
    ("seed", "drawn", "misread"),
    [(835567, "Jobs", "Jo6s"), (203738, "Log in", "Las in")],
)
def test_the_real_reader_reads_a_misread_hand_right(
    real_store, seed: int, drawn: str, misread: str
) -> None:
    # Each seed draws a text in a hand PP-OCRv6 alone misreads: "Jobs" as "Jo6s" (no word),
    # a button's "Log in" as "Las in" (a word, but not what the recogniser also saw).
    sketch = generate(seed)
    pixels = np.asarray(sketch.image.convert("RGB"))
    lines = [line.text for line in create_ocr(real_store, threads=2).read(pixels)]
    assert drawn in sketch.truth["texts"]
    assert drawn in lines and misread not in lines


def test_a_letter_read_as_signs_is_put_back() -> None:
    # "M" read as "[" then "l", the recogniser half seeing an M across both.
    m_seen = [{"[": 0.6, "M": 0.35}, {"M": 0.3}, {"l": 0.6, "M": 0.35}, {}]
    belief = _belief(m_seen + _frames("enu", {}), extra="[")
    assert belief.text == "[lenu"
    assert belief.corrections() == {"[lenu": "Menu"}
    m_unseen = [{"[": 0.99}, {}, {"l": 0.99}, {}]
    assert _belief(m_unseen + _frames("enu", {}), extra="[").corrections() == {}
    # "ilenu", letters only, keeps the wider margin of a reading no dictionary has (3.7 nats).
    m_faint = [{"i": 0.6, "M": 0.005}, {"M": 0.03}, {"l": 0.6, "M": 0.005}, {}]
    assert _belief(m_faint + _frames("enu", {})).corrections() == {"ilenu": "Menu"}


def test_a_buttons_first_verb_misread_is_put_right() -> None:
    belief = _belief(_frames("Cet started", {0: ("G", 0.3)}))
    assert belief.corrections() == {"Cet": "Get"}


def test_a_sign_alone_between_words_is_the_i_or_the_slash_it_was() -> None:
    i_seen = _frames("Can ", {}) + [{"]": 0.7, "I": 0.25}, {}] + _frames(" pay", {})
    belief = _belief(i_seen, extra="]{/")
    assert belief.text == "Can ] pay"
    assert belief.corrections() == {"]": "I"}
    slash_seen = _frames("$55 ", {}) + [{"{": 0.8, "/": 0.15}, {}] + _frames(" year", {})
    assert _belief(slash_seen, extra="]{/$").corrections() == {"{": "/"}
    unseen = _frames("Can ", {}) + [{"]": 0.999}, {}] + _frames(" pay", {})
    assert _belief(unseen, extra="]{/").corrections() == {}
    box = _frames("[ ] Remember", {})  # a drawn checkbox's sides are no word
    box[2] = {"]": 0.7, "I": 0.25}
    assert _belief(box, extra="[]").corrections() == {}


def test_two_letters_that_are_no_word_become_the_word_the_recogniser_also_saw() -> None:
    assert _belief(_frames("Tc do", {1: ("o", 0.2)})).corrections() == {"Tc": "To"}
    late = _belief(_frames("Pay rent ly Saturday", {9: ("b", 0.2)}))
    assert late.corrections() == {"ly": "by"}
    assert _belief(_frames("Cc", {0: ("G", 0.2), 1: ("o", 0.2)})).corrections() == {"Cc": "Go"}
    assert _belief(_frames("Tc do", {1: ("o", 0.0005)})).corrections() == {}
    assert _belief(_frames("At 5 pm now", {7: ("u", 0.3)})).corrections() == {}  # "pm" stays
