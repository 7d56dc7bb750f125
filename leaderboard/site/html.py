"""HTML built from escaped parts: every string from the snapshot goes in as text, never as markup.

`Markup` marks what this package wrote itself; `el` escapes every other child and every attribute
value, so a model called `<script>` reads as those characters and runs nothing. Links are made
only by `href`, from paths this package chose (slugged file names), never from the data.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_TAG = re.compile(r"[a-z][a-z0-9-]*")
_ATTR = re.compile(r"[a-z][a-zA-Z0-9-]*")
_RELATIVE = re.compile(r"(\.\./)?[a-z0-9][a-z0-9_./-]*(#[a-z0-9_-]+)?|#[a-z0-9_-]+")
# No script at all, nothing loaded from anywhere but the site's own folder.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; object-src 'none'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Markup(str):
    """Text that is already HTML: built here from escaped parts."""


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def esc(value: object) -> Markup:
    """Any value as inert text: escaped, control and bidi characters shown as escapes, None as '—'."""
    if isinstance(value, Markup):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Markup("—")
    return Markup(html.escape(_CONTROL.sub(_visible, str(value)), quote=True))


def href(path: str) -> str:
    """A link inside the site; refuses anything that is not a plain relative path this package made."""
    rest = path.removeprefix("../").split("#")[0]
    if not _RELATIVE.fullmatch(path) or (rest and any(part in ("", ".", "..") for part in rest.split("/"))):
        raise ValueError(f"not a site-relative link: {path!r}")
    return path


def el(tag: str, *children: object, **attrs: object) -> Markup:
    """<tag attrs>children</tag>; `class_` sets class; a None or False attribute is left out."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"bad tag {tag!r}")
    parts = [tag]
    for key, value in attrs.items():
        name = key.rstrip("_").replace("_", "-")
        if not _ATTR.fullmatch(name) or name.startswith("on"):
            raise ValueError(f"bad attribute {name!r}")
        if value is None or value is False:
            continue
        parts.append(name if value is True else f'{name}="{esc(value)}"')
    body = "".join(esc(child) for child in children if child is not None)
    return Markup(f"<{' '.join(parts)}>{body}</{tag}>")


def void(tag: str, **attrs: object) -> Markup:
    """An element with no content (img, meta, link, br)."""
    return Markup(el(tag, **attrs).removesuffix(f"</{tag}>"))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(esc(sep).join(esc(p) for p in parts))


def link(text: object, path: str) -> Markup:
    return el("a", text, href=href(path))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, caption: str | None = None,
          numeric: Sequence[int] = (), class_: str | None = None) -> Markup:
    """A table; columns listed in `numeric` are right-aligned."""
    head = el("tr", *(el("th", h, scope="col") for h in headers))
    body = [el("tr", *(el("td", c, class_="num" if i in numeric else None) for i, c in enumerate(row)))
            for row in rows]
    if not body:
        body = [el("tr", el("td", "none", colspan=len(headers), class_="empty"))]
    return el("table", el("caption", caption) if caption else None, el("thead", head), el("tbody", *body),
              class_=class_)


def section(title: str, *children: object, id_: str | None = None) -> Markup:
    return el("section", el("h2", title), *children, id=id_)


def page(title: str, body: Markup, *, root: str, nav: Sequence[tuple[str, str]]) -> Markup:
    """A whole document; `root` is the way back to the site's top folder ('' or '../')."""
    head = el("head", void("meta", charset="utf-8"),
              void("meta", http_equiv="Content-Security-Policy", content=CSP),
              void("meta", name="viewport", content="width=device-width, initial-scale=1"),
              void("meta", name="referrer", content="no-referrer"),
              el("title", title), void("link", rel="stylesheet", href=href(f"{root}style.css")))
    links = el("nav", *(link(text, f"{root}{path}") for text, path in nav))
    return Markup("<!DOCTYPE html>\n" + el("html", head, el("body", links, el("main", body)), lang="en") + "\n")
