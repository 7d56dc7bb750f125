"""Reading the chosen option's letter out of a free-text answer (MMBench, ScienceQA).

The rule follows VLMEvalKit's `can_infer`: an option letter standing alone ("B. A dog", "(C)",
"**B**", "Option D") is the answer when it is the only distinct one; failing that, the one option
text the answer names is. Extraction never guesses: two different letters, or no letter and not
exactly one option text, is no answer (None).

Where it differs from VLMEvalKit (which gives up on any answer with a capital "A" and more than three
words), each step because an English word can look like a letter:
- an explicit statement ("the answer is B", "Answer: (B)", "the correct option is **B**", "Option B
  is correct", "I choose B") is read first and wins over letters elsewhere ("A cat is sitting here,
  so the answer is B" is B); two different statements, or one listing letters ("the answer is A or
  B"), is None; an echoed list of options ("Options: A. cat B. dog") states nothing;
- a capital inside an option text the answer quotes is no letter ("B. A dog", "B. Vitamin C");
- "A" followed by a lowercase word is the article when it starts a sentence ("A dog is shown") or
  when that word begins an option text ("it shows A dog"), unless the word is a verb or
  conjunction that follows a letter ("A is correct", "A or B"); "I" before a lowercase word or an
  apostrophe is the pronoun ("I think", "I'm"), with the same exception;
- a letter after "not" ("the answer is not A") makes the answer None rather than that letter,
  except where it sets another letter against it ("B, not A"): then only the negated one is dropped.
Letters count in upper case only, except an answer that is a single letter and nothing else ("b").
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

# A capital letter with no letter or digit on either side: "B.", "(C)", "**D**", "answer: A".
_LETTER = re.compile(r"(?<![^\W_])([A-Z])(?![^\W_])")
# "the answer is B", "Answer: (B)", "the correct option would be **B**", "I choose B"; the words in
# any case, the letter in upper case (so "the answer is a dog" states nothing). A colon makes a
# statement only after a singular "answer", "option" or "choice": "Options: A. cat B. dog" echoes
# the list, it answers nothing.
_STATED = re.compile(r"(?<![^\W_])(?:(?i:answers?|options?|choices?)"
                     r"\s+(?i:is|would\s+be|should\s+be|must\s+be|will\s+be)(?![^\W_])\s*:?"
                     r"|(?i:answer|option|choice)\s*:"
                     r"|I(?:['\u2019](?:d|ll)|\s+(?i:would|will))?\s+(?i:choose|pick|select|go\s+with)"
                     r"(?:\s+(?i:option|choice|letter))?(?![^\W_]))"
                     r"[\s*_\"'(\[]*([A-Z])(?![^\W_])")
# "Option B is correct", "choice (B) is the right answer": the letter before the words that state it.
_STATED_BEFORE = re.compile(r"(?<![^\W_])(?i:option|choice|answer)\s+[*_\"'(\[]*([A-Z])(?![^\W_])"
                            r"(?=[*_\"')\]]*\s+(?i:is|seems|would\s+be)\s+(?i:the\s+)?"
                            r"(?i:correct|right|best|answer)(?![^\W_]))")
_LISTED = re.compile(r"[\s)\]*_\"']*(?:/|&|(?i:or|and|nor)(?![^\W_]))")  # "A or B", "A/B"
_NEGATED = re.compile(r"(?:(?<![^\W_])(?i:not)|n['\u2019]t)\s+[*_\"'(\[]*\Z")  # "not A", "isn't (A)"
# Between two letters, one set against the other: "B, not A", "B (not A)", "B but not A".
_CONTRAST = re.compile(r"[\s)\]*_\"'.]*[,;(\u2014\u2013-]?\s*(?:(?i:but|and)\s+)?(?i:not)\s+[*_\"'(\[]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n])[\s\"'*(\[]*\Z")
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
    quoted = [c.strip() for c in choices if len(c.strip()) > 1]
    statements = _letters(text, _STATED, quoted, stated=True) + _letters(text, _STATED_BEFORE, quoted, stated=True)
    stated = {letter for letter, start in statements if not _LISTED.match(text, start + 1)}
    if stated:  # a letter that is no option, or two statements that differ: None
        return stated.pop() if len(stated) == 1 and next(iter(stated)) in letters else None
    found = [(letter, start) for letter, start in _letters(text, _LETTER, quoted, stated=False)
             if letter in letters]
    kept: list[tuple[str, int]] = []
    for letter, start in found:
        if not _NEGATED.search(text, 0, start):
            kept.append((letter, start))
        elif not (kept and kept[-1][1] + 1 < start and _CONTRAST.fullmatch(text, kept[-1][1] + 1, start)):
            return None  # a negated letter set against no other: never the answer, nor is any other
    distinct = {letter for letter, _ in kept}
    if len(distinct) == 1:
        return distinct.pop()
    if distinct:
        return None  # two different letters: ambiguous
    return _option_by_text(text, choices, letters)


def _letters(text: str, pattern: re.Pattern[str], quoted: Sequence[str], *,
             stated: bool) -> list[tuple[str, int]]:
    """Each letter `pattern` finds (group 1) with its position, leaving out capitals inside an
    option text the answer quotes and those that are the article "A" or the pronoun "I"."""
    inside = [m.span() for choice in quoted for m in _whole(choice).finditer(text)]
    found: list[tuple[str, int]] = []
    for match in pattern.finditer(text):
        start, end = match.span(1)
        if not any(a <= start < b for a, b in inside) and not _is_word(text, start, end, quoted, stated):
            found.append((match.group(1), start))
    return found


def _is_word(text: str, start: int, end: int, quoted: Sequence[str], stated: bool) -> bool:
    """Is this capital A the article, or this capital I the pronoun, rather than an option letter?
    After "the answer is", "A" is the article only before an option text ("the answer is A cat"),
    so that "the answer is A because ..." still states A."""
    letter = text[start]
    if letter == "I" and text[end:end + 1] in ("'", "\u2019"):
        return True  # I'm, I've
    following = _NEXT_WORD.match(text, end)
    if letter not in ("A", "I") or following is None:
        return False
    if following.group(1) in _LETTER_VERBS:
        return False
    if letter == "A" and any(_whole(choice).match(text, following.start(1)) for choice in quoted):
        return True  # "A dog" where "dog" is an option: the article
    return letter == "I" or (not stated and _SENTENCE_START.search(text, 0, start) is not None)


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
