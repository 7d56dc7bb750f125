"""Reading the chosen option's letter out of a free-text answer (MMBench, ScienceQA).

The rule follows VLMEvalKit's `can_infer`: first look for option letters standing alone
("B. A dog", "(C)", "The answer is D", "**B**"); exactly one distinct letter is the answer.
Failing that, look for the option texts: exactly one found is the answer. Two different letters,
or none and no single option text, is no answer (None): extraction never guesses.

Where it is stricter than VLMEvalKit (which gives up on any answer with a capital "A" and more
than three words): the option texts are blanked out before letters are looked for, so "B. A dog"
or "B. Vitamin C" read as B; a sentence-initial "A" before a lowercase word ("A dog sits") is the
article, and "I" before a lowercase word or an apostrophe ("I think", "I'm") is the pronoun, unless
that word is a verb that follows a letter ("A is correct"). Letters count in upper case only, except
an answer that is a single letter and nothing else ("b").
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

# A capital letter with no letter or digit on either side: "B.", "(C)", "**D**", "answer: A".
_LETTER = re.compile(r"(?<![^\W_])([A-Z])(?![^\W_])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n])[\s\"'*(\[]*$")
_NEXT_WORD = re.compile(r"\s+([a-z][a-z']*)")
# Words after which a capital A or I is still a letter: "A is correct", "option I seems right",
# "A and B" (two letters: ambiguous).
_LETTER_VERBS = frozenset({"is", "was", "seems", "appears", "looks", "would", "should", "could", "must",
                           "fits", "matches", "describes", "correctly", "best", "and", "or", "nor"})


def option_letters(count: int) -> tuple[str, ...]:
    """The letters of `count` options: A, B, C, ..."""
    if not 0 <= count <= len(string.ascii_uppercase):
        raise ValueError(f"between 0 and 26 options, got {count}")
    return tuple(string.ascii_uppercase[:count])


def extract_choice(text: str, choices: Sequence[str]) -> str | None:
    """The letter of the option the answer picks, given the option texts in letter order; or None."""
    letters = option_letters(len(choices))
    if not letters or not text.strip():
        return None
    bare = text.strip().strip(string.punctuation + string.whitespace)
    if len(bare) == 1 and bare.upper() in letters:
        return bare.upper()
    found = _letters_in(_blank_options(text, choices), letters)
    if len(found) == 1:
        return found.pop()
    if found:
        return None  # two different letters: ambiguous
    return _option_by_text(text, choices, letters)


def _blank_options(text: str, choices: Sequence[str]) -> str:
    """The text with every option text of two or more characters replaced by a space, longest first,
    so that a capital letter inside an option ("A dog", "Vitamin C") is not read as a letter."""
    for choice in sorted((c.strip() for c in choices), key=len, reverse=True):
        if len(choice) > 1:
            text = _whole(choice).sub(" ", text)
    return text


def _letters_in(text: str, letters: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for match in _LETTER.finditer(text):
        letter = match.group(1)
        if letter in letters and not _is_word(text, match.start(), match.end(), letter):
            found.add(letter)
    return found


def _is_word(text: str, start: int, end: int, letter: str) -> bool:
    """Is this capital A the article, or this capital I the pronoun, rather than an option letter?"""
    if letter not in ("A", "I"):
        return False
    if letter == "I" and text[end:end + 1] in ("'", "\u2019"):
        return True  # I'm, I've
    following = _NEXT_WORD.match(text, end)
    if following is None or following.group(1) in _LETTER_VERBS:
        return False
    return letter == "I" or _SENTENCE_START.search(text[:start]) is not None


def _option_by_text(text: str, choices: Sequence[str], letters: Sequence[str]) -> str | None:
    """The one option whose text occurs in the answer as whole words; an option found only inside a
    longer one that is also found ("dog" inside "hot dog") does not count."""
    hits = {letter: choice.strip().casefold() for letter, choice in zip(letters, choices, strict=True)
            if choice.strip() and _whole(choice.strip()).search(text)}
    kept = [letter for letter, found in hits.items()
            if not any(found != other and found in other for other in hits.values())]
    return kept[0] if len(kept) == 1 else None  # two options with the same text: ambiguous


def _whole(phrase: str) -> re.Pattern[str]:
    """The phrase as whole words, case-insensitive: "cat" is not found in "category"."""
    return re.compile(rf"(?<![^\W_]){re.escape(phrase)}(?![^\W_])", re.IGNORECASE)
