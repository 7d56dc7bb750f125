"""Strings from outside (model ids, prompts, titles, error texts) as inert text, never markup.

Everything the snapshot holds came from a config, a model or a benchmark. Put into Streamlit
markdown it could render a link, an image that every visitor's browser fetches, HTML, LaTeX
or a coloured directive; printed through rich markup it could restyle the terminal or emit a
hyperlink. Pages pass such strings through `md` wherever Streamlit reads markdown (titles,
captions, alerts, metric values, labels); plain-text sinks (dataframe cells, selectbox
options) take them raw. The terminal table wraps them in `term`.
"""

from __future__ import annotations

import re

from rich.text import Text

WORD_JOINER = "\u2060"  # invisible, zero width: splits a pattern without changing what is read

# CommonMark lets a backslash escape any ASCII punctuation character, which then reads as
# itself: no emphasis, link, image, HTML tag, heading, list, table, `$` math or `:x[...]` directive.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit and remark-gfm also match patterns on the text *after* escapes are resolved, where
# a backslash cannot stop them; a word joiner does: emoji and icon shortcodes (:smile:,
# :material/home:, :streamlit:), http:// / www. / e-mail autolinks, and the typographic
# replacements of ' -> ', ' <= ', ' -- ' and the like.
_SPLIT = re.compile(r"(?<=:)(?=[\w+/-])|(?<=@)(?=[\w-])|(?<=www)(?=\.)", re.IGNORECASE)
_TYPOGRAPHIC = re.compile(r"(?:(?<=^)|(?<=\s))(?:<->|->|<-|--|>=|<=|~=)(?=\s|$)", re.MULTILINE)
# Control characters (ANSI escapes, OSC 8 hyperlinks, bell) and bidirectional overrides would
# act on the terminal or reorder what it shows: print them as escapes instead.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def md(value: object) -> str:
    """`value` as Streamlit markdown that reads exactly as `str(value)`: no formatting, links or HTML."""
    text = _TYPOGRAPHIC.sub(lambda m: m.group()[0] + WORD_JOINER + m.group()[1:], str(value))
    text = _SPLIT.sub(WORD_JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)


def term(value: object, style: str = "") -> Text:
    """`value` as a rich Text in `style`: never parsed as markup or emoji codes, control characters escaped."""
    plain = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    return Text(plain, style=style)
