"""Reading yes or no out of a free-text answer (MME, POPE).

Models rarely answer with the bare word: "There is a dog, so yes.", "No, there is no dog.". The
rule is VLMEvalKit's `YOrN_Extraction`: the answer is yes when "yes" occurs as a word and "no"
does not, and the other way round. Both ("Yes and no") or neither ("I can't tell") is no answer:
extraction returns None rather than guess, and the judge says unscored.
"""

from __future__ import annotations

import re
from enum import StrEnum

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # words; "can't" stays one word, "yes." loses its period


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"

    @property
    def opposite(self) -> YesNo:
        return YesNo.NO if self is YesNo.YES else YesNo.YES


def words(text: str) -> list[str]:
    """The lowercased words of a text, punctuation dropped."""
    return _WORD.findall(text.casefold())


def extract_yes_no(text: str) -> YesNo | None:
    """YES / NO when exactly one of the two words occurs in the text; None when both or neither do."""
    found = set(words(text)) & {YesNo.YES.value, YesNo.NO.value}
    return YesNo(found.pop()) if len(found) == 1 else None


def parse_yes_no(reference: str) -> YesNo | None:
    """A reference answer as YES / NO: the whole of it must be the one word ("Yes", "no."), or None."""
    found = words(reference)
    return YesNo(found[0]) if len(found) == 1 and found[0] in (YesNo.YES.value, YesNo.NO.value) else None
