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


ANIMALS = ("cat", "dog")


@pytest.mark.parametrize(("text", "want"), [
    ("A dog is shown.", "B"),  # the article, then the one option text named
    ("A cat is sitting on the mat, so the answer is B.", "B"),  # the statement wins over the article
    ("a cat", "A"),
    ("There is a cat on the mat.", "A"),  # a mid-sentence article: the option text decides
    ("It shows A dog.", "B"),  # a capital article before an option text
    ("A dog.", "B"),
    ("Answer: A dog", "B"),  # "A" before an option text is the article even after "Answer:"
])
def test_the_article_a_is_no_letter(text: str, want: str) -> None:
    assert extract_choice(text, ANIMALS) == want


@pytest.mark.parametrize("text", ["A", "A.", "(A)", "A)", "A:", "Answer: A", "The answer is A", "A. cat",
                                  "Option A", "A is correct.", "The answer is A because it is furry.",
                                  "**A**", "I choose A."])
def test_a_standing_alone_is_the_letter(text: str) -> None:
    assert extract_choice(text, ANIMALS) == "A"


@pytest.mark.parametrize("text", [
    "The answer is B",
    "Answer: B",
    "The correct option is (B).",
    "The correct answer is: **B**",
    "ANSWER: B",
    "Option A is wrong; the answer is B.",  # a statement wins over a letter elsewhere
    "The answer is B, not A.",
    "A cat would hiss, so the answer is B.",
    "Answer: I think B.",  # the pronoun after "Answer:" is no letter
])
def test_an_explicit_statement_wins(text: str) -> None:
    assert extract_choice(text, ANIMALS) == "B"


@pytest.mark.parametrize("text", [
    "A or B",
    "I cannot tell",
    "I'm not sure.",
    "A cat or a dog",  # two option texts
    "A dog and a cat",
    "The answer is A or B.",  # a statement listing two letters
    "The answer is (A) or (B).",
    "Answer: A. On second thought, the answer is B.",  # two statements that differ
    "The answer is C.",  # a statement of a letter that is no option
    "A is wrong. The answer is C.",
    "The answer is not A.",  # a negated letter is never the answer
    "It isn't A.",
    "Not A.",
    "A large animal.",  # only the article
    "The answer is a dog or a cat.",  # a lowercase "a" states nothing
])
def test_choice_stays_none(text: str) -> None:
    assert extract_choice(text, ANIMALS) is None


def test_i_is_a_letter_when_there_are_nine_options() -> None:
    nine = tuple(f"option {n}" for n in range(9))
    assert extract_choice("The answer is I.", nine) == "I"
    assert extract_choice("I think the answer is H.", nine) == "H"
    assert extract_choice("I think H.", nine) == "H"


@pytest.mark.parametrize(("text", "want"), [
    ("Options: A. cat B. dog. I choose B.", "B"),  # an echoed list is no statement; "I choose B" is
    ("Options: (A) cat (B) dog\nAnswer: B", "B"),
    ("Choices: A. cat B. dog. The answer is B.", "B"),
    ("Options: A. cat B. dog. Option B is correct.", "B"),
    ("Options: A. cat B. dog. The correct option is (B).", "B"),
    ("Option: B", "B"),  # a singular "option:" still states
    ("I'd go with B.", "B"),
    ("I choose option B.", "B"),
])
def test_an_echoed_option_list_is_no_statement(text: str, want: str) -> None:
    assert extract_choice(text, ANIMALS) == want


@pytest.mark.parametrize("text", [
    "Options: A. cat B. dog",  # the list alone answers nothing
    "Options: A. cat B. dog. I'm not sure.",
    "Answers: A. cat B. dog",
])
def test_an_echoed_option_list_alone_stays_none(text: str) -> None:
    assert extract_choice(text, ANIMALS) is None


@pytest.mark.parametrize(("text", "want"), [
    ("B, not A.", "B"),  # the negated letter is dropped, the one set against it stands
    ("The answer is B, not A.", "B"),
    ("B (not A)", "B"),
    ("It is B but not A.", "B"),
])
def test_a_letter_set_against_a_negated_one_stands(text: str, want: str) -> None:
    assert extract_choice(text, ANIMALS) == want


@pytest.mark.parametrize("text", [
    "The answer is not A.",  # only a negation: never a guess at the other option
    "Not A.",
    "Not B, not A.",
    "A is wrong, not B.",  # the negation is set against no letter
])
def test_a_negation_alone_stays_none(text: str) -> None:
    assert extract_choice(text, ANIMALS) is None
