"""VQA accuracy (VQAv2, TextVQA): a predicted answer against ten human answers.

The rules are those of the official evaluation (GT-Vision-Lab/VQA,
PythonEvaluationTools/vqaEvaluation/vqaEval.py):

- normalisation: newlines and tabs to spaces; punctuation `; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? !`
  removed where it touches a space (or anywhere, when a comma sits between digits) and replaced by
  a space elsewhere; a period removed unless a digit follows it ("3.5" keeps it); lowercase; the
  number words zero-ten (and "none") as digits; the articles a, an, the dropped; the contractions
  list applied ("dont" -> "don't").
- accuracy: for each of the ten ways of leaving one human answer out, min(#matches among the other
  nine / 3, 1); averaged. So an answer 1 human gave scores 0.3, 2 -> 0.6, 3 -> 0.9, 4 or more -> 1.

Two deliberate differences, both because models answer in free text rather than the short
answers the official script was written for: both sides are always normalised (the official
script skips normalisation when all ten humans agree, as their answers are already clean, so "Two."
would lose against ten "2"), and the apparent intent of its period rule is followed without its
accidental cap of 32 replacements (`re.UNICODE` passed as `count`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",",
               "?", "!")
_COMMA_IN_NUMBER = re.compile(r"(\d)(,)(\d)")
_PERIOD = re.compile(r"\.(?!\d)")  # the official "(?!<=\d)(\.)(?!\d)" is a malformed look-behind: it acts as this
NUMBER_WORDS: Mapping[str, str] = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ARTICLES = frozenset({"a", "an", "the"})
# The official list, as it applies after lowercasing (its capitalised keys, "Im", "Ive", "Id've",
# "I'dve", can never match and are left out). "somebody'd" -> "somebodyd" is the official mapping.
CONTRACTIONS: Mapping[str, str] = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've",
    "it'dve": "it'd've", "itll": "it'll", "let's": "let's", "maam": "ma'am", "mightnt": "mightn't",
    "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't",
    "mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
    "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
    "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
    "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've",
    "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're",
    "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
    "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
    "youve": "you've",
}
MATCHES_FOR_FULL_CREDIT = 3


def _punctuation(text: str) -> str:
    anywhere = _COMMA_IN_NUMBER.search(text) is not None
    out = text
    for mark in PUNCTUATION:  # the tests look at the text as it came in, as the official script does
        touches_space = mark + " " in text or " " + mark in text
        out = out.replace(mark, "" if anywhere or touches_space else " ")
    return _PERIOD.sub("", out)


def _digits_articles(text: str) -> str:
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    return " ".join(CONTRACTIONS.get(w, w) for w in words if w not in ARTICLES)


def normalise_vqa(answer: str) -> str:
    """An answer as the VQA evaluation compares it: "Two dogs." -> "2 dogs", "The Cat!" -> "cat"."""
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    return _digits_articles(_punctuation(text))


def vqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """The VQA accuracy of one predicted answer against the human answers (repeats kept), in [0, 1]."""
    if len(answers) < 2:
        raise ValueError(f"VQA accuracy leaves one of the human answers out in turn: it needs at least two, "
                         f"got {len(answers)}")
    want = normalise_vqa(prediction)
    said = [normalise_vqa(a) == want for a in answers]
    total = sum(said)
    # leaving out a human who said it leaves total-1 matches; leaving out another leaves total
    scores = [min(1.0, (total - hit) / MATCHES_FOR_FULL_CREDIT) for hit in said]
    return sum(scores) / len(scores)


_ANSWER_PREFIX = re.compile(r"^\s*(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*)?[:\-]?\s*", re.IGNORECASE)


def short_answer(text: str) -> str | None:
    """The short answer in a model's reply: its first non-empty line, less a leading "Answer:" or
    "The answer is"; None when there is none. VQA compares the whole normalised answer, so a
    second line of explanation would otherwise make every answer wrong."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _ANSWER_PREFIX.sub("", line, count=1).strip()
    return line if normalise_vqa(line) else None
