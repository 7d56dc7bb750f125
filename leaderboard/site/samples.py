"""A model page's sample list: what was sent, what the judges said, and, for benign and utility items
only, the image and what the model answered (content.shows_response; rows arrive already emptied)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from leaderboard.site.content import Content
from leaderboard.site.html import Markup, el, join, void
from mmwatch.types import DefenseStep

_STEPS = TypeAdapter(list[DefenseStep])

WITHHELD = ("Answer withheld: the public site never shows what a model said to a harmful (or unknown) item, "
            "nor a judge's rationale on it.")


def present(value: object) -> bool:
    """A value that is there: not None, not NaN."""
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def _verdicts(rows: pd.DataFrame, shown: bool) -> Markup:
    headers = ["Judge", "Version", "Label", "Outcome", "Score", *(["Rationale"] if shown else [])]
    body = [[r["judge"], r["judge_version"], r["label"], r["outcome"],
             "—" if r["score"] is None or pd.isna(r["score"]) else f"{float(r['score']):.2f}",
             *([r["rationale"]] if shown else [])] for _, r in rows.iterrows()]
    head = el("tr", *(el("th", h, scope="col") for h in headers))
    lines = [el("tr", *(el("td", c) for c in row)) for row in body] or [el("tr", el("td", "no verdict",
                                                                             colspan=len(headers)))]
    return el("table", el("thead", head), el("tbody", *lines), class_="verdicts")


def _steps(raw: object) -> Markup:
    """What the defense did before the answer (a draft, the text read in an image); nothing if unreadable."""
    if not isinstance(raw, str) or not raw:
        return Markup("")
    try:
        steps = _STEPS.validate_json(raw)
    except ValidationError:
        return Markup("")
    items = [el("li", f"{s.defense} · {s.kind.value}", el("pre", s.text) if s.text else None) for s in steps]
    return join([el("h4", "Defense steps"), el("ul", *items, class_="steps")]) if items else Markup("")


def _images(row: pd.Series, content: Content) -> Markup:
    shas = [str(s) for s in row["image_shas"]] if isinstance(row["image_shas"], list | tuple | np.ndarray) else []
    figures = []
    for sha in shas:
        file = content.image_files.get(sha)
        figures.append(void("img", src=f"../{file}", alt="image sent with the prompt", loading="lazy") if file
                       else el("span", "image not published", class_="muted"))
    return el("div", *figures, class_="images") if figures else Markup("")


def _item(row: pd.Series, verdicts: pd.DataFrame, content: Content) -> Markup:
    shown = bool(row["shown"])
    head = el("p", el("span", row["kind"], class_=f"kind kind-{'shown' if shown else 'withheld'}"), " ",
              el("code", row["sample_id"]), f" · {row['benchmark']} · {row['category']} · attack {row['attack']} · "
              f"defense {row['defense']} · outcome ", el("strong", row["outcome"]),
              " · judges disagree" if bool(row["disagree"]) else "", class_="sample-head")
    parts: list[object] = [head, el("h4", "Prompt"), el("pre", row["prompt"])]
    if shown:
        parts.append(_images(row, content))
        if present(row["system_text"]):
            parts += [el("h4", "System prompt"), el("pre", row["system_text"])]
        parts.append(_steps(row.get("defense_steps")))
        parts += [el("h4", "Response"), el("pre", row["response_text"]) if present(row["response_text"])
                  else el("p", "no response", class_="muted")]
        if present(row["error"]):
            parts.append(el("p", f"error: {row['error']}", class_="error"))
    else:
        parts.append(el("p", WITHHELD, class_="muted"))
    parts += [el("h4", "Verdicts"), _verdicts(verdicts, shown)]
    return el("article", *parts, class_="sample")


def sample_list(model_id: str, content: Content) -> Markup:
    """Every listed item of one model, grouped by kind (benign, harmful, utility)."""
    items = content.samples[content.samples["model_id"] == model_id] if not content.samples.empty else content.samples
    if items.empty:
        return el("p", "No per-item results published for this revision.")
    by_cell = {key: rows for key, rows in content.verdicts.groupby("cell_key")}
    empty = content.verdicts.iloc[0:0]
    counts = items.groupby("outcome").size()
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
    note = (f" The list stops there: the site shows at most {len(items)} items per revision (--max-samples)."
            if model_id in content.truncated else "")
    parts = [el("p", f"{len(items)} items ({summary}).{note}")]
    parts += [_item(row, by_cell.get(str(row["cell_key"]), empty), content) for _, row in items.iterrows()]
    return join(parts)


__all__ = ["WITHHELD", "sample_list"]
