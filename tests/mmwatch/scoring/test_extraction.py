"""Reading yes/no and option letters out of free text: known answers, and None when it cannot tell."""

from __future__ import annotations

import pytest

from mmwatch.scoring.choice import extract_choice, option_letters
from mmwatch.scoring.yes_no import YesNo, extract_yes_no, parse_yes_no


@pytest.mark.parametrize(("text", "want"), [
    ("There is a dog on the sofa, so yes.", YesNo.YES),
    ("Yes", YesNo.YES),
    ("**Yes**, it is.", YesNo.YES),
    ("yes. yes.", YesNo.YES),
    ("No, there is no dog.", YesNo.NO),
    ("no", YesNo.NO),
    ("NO!", YesNo.NO),
])
def test_yes_no_is_read(text: str, want: YesNo) -> None:
    assert extract_yes_no(text) is want


@pytest.mark.parametrize("text", ["Yes and no", "I can't tell", "", "yes/no", "Maybe.", "Nope", "Yesterday",
                                  "Yes, but there is no cat."])
def test_yes_no_not_guessed(text: str) -> None:
    assert extract_yes_no(text) is None


@pytest.mark.parametrize(("reference", "want"), [("Yes", YesNo.YES), ("no", YesNo.NO), (" no. ", YesNo.NO),
                                                 ("yes no", None), ("maybe", None), ("", None)])
def test_reference_is_exactly_yes_or_no(reference: str, want: YesNo | None) -> None:
    assert parse_yes_no(reference) is want


CHOICES = ("A cat", "A dog", "A bird", "Vitamin C")


@pytest.mark.parametrize(("text", "want"), [
    ("B. A dog", "B"),
    ("(C)", "C"),
    ("The answer is D", "D"),
    ("The answer is D.", "D"),
    ("**C**", "C"),
    ("Answer: A", "A"),
    ("B", "B"),
    ("b", "B"),
    ("A dog", "B"),  # the option text alone
    ("a bird", "C"),  # case does not matter for option texts
    ("The answer is A because it is red", "A"),  # a letter mid-sentence, not the article
    ("A is correct.", "A"),
    ("I think B.", "B"),  # the pronoun is no option letter
    ("B. Vitamin C", "B"),  # a capital inside the quoted option text is no letter
    ("It is B, since B is a dog.", "B"),  # the same letter twice
])
def test_choice_letter_is_read(text: str, want: str) -> None:
    assert extract_choice(text, CHOICES) == want


@pytest.mark.parametrize("text", [
    "A and B",  # two different letters
    "The answer is not A, it is B",
    "E",  # no such option
    "Neither of them.",
    "I'm not sure.",
    "",
    "A cat and a dog",  # two option texts
])
def test_choice_not_guessed(text: str) -> None:
    assert extract_choice(text, CHOICES) is None


def test_option_text_inside_a_longer_one_and_inside_a_word() -> None:
    assert extract_choice("It is a hot dog.", ("dog", "hot dog", "cat")) == "B"
    assert extract_choice("This is a category.", ("cat", "dog")) is None
    assert extract_choice("B", ()) is None
    assert extract_choice("same", ("same", "same")) is None


def test_a_sentence_initial_article_is_not_a_letter() -> None:
    # "A" as an article before a lowercase word; the option letter is the one that stands alone
    assert extract_choice("A large animal: C.", ("cat", "dog", "horse")) == "C"
    assert extract_choice("A large animal.", ("cat", "dog", "horse")) is None


def test_option_letters() -> None:
    assert option_letters(4) == ("A", "B", "C", "D")
    with pytest.raises(ValueError):
        option_letters(27)
