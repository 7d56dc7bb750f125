"""Samples: the items behind the rates, then one item in full: what was sent, what came back, what
every judge said, and the same item on the revision before. Harmful answers stay redacted by policy."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import run_page, what_was_sent
from mmwatch.types import SampleKind

TITLE = "Samples"
HIDDEN = "🔒 hidden (harmful item)"
NO_IMAGE = "image not published (harmful item)"
ITEM = "item"  # session key of the item shown in full


def _any(label: str) -> Callable[[object], str]:
    """Selectbox text for an optional filter: None reads as 'any'."""
    return lambda value: f"any {label}" if value is None else str(value)


def _ordered(present: set[str], order: list[str]) -> list[str]:
    """The names present, in the snapshot's order (baseline first), then any it does not list."""
    return [name for name in order if name in present] + sorted(present - set(order))


def _response(row: pd.Series) -> str:
    if row["redacted"]:
        return HIDDEN
    if isinstance(row["error"], str) and row["error"]:
        return f"⚠ error: {row['error']}"
    return row["response_text"] if isinstance(row["response_text"], str) else ""


def _alert_names() -> dict[str, str]:
    alerts = data.alerts()
    return {str(a.alert_id): f"{a.model} vs {a.baseline} · {a.attack} / {a.defense} ({a.state or 'new'})"
            for a in alerts.itertuples()}


def _filters(index: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The filter widgets; the items they keep (category filtered here, so its options are those present)
    and a line saying which they are."""
    names = dict(zip(index["model"], index["model_id"], strict=True))
    row1, row2 = st.columns(4), st.columns([1, 1, 2])
    model = row1[0].selectbox("Model", [None, *names], format_func=_any("model"))
    attack = row1[1].selectbox("Attack", [None, *_ordered(set(index["attack"]), data.attacks())],
                               format_func=_any("attack"))
    defense = row1[2].selectbox("Defense", [None, *_ordered(set(index["defense"]), data.defenses())],
                                format_func=_any("defense"))
    kind = row1[3].selectbox("Kind", [None, *(k.value for k in SampleKind)], format_func=_any("kind"))
    alerts = _alert_names()
    alert = row2[0].selectbox("Alert", [None, *alerts], format_func=lambda a: "no alert" if a is None else alerts[a],
                              help="only the items an alert counted as newly failed")
    search = row2[2].text_input("Search prompt or item id")
    disagree = row2[1].checkbox("Judges disagree", help="only items the judges count differently")
    items = data.sample_items(None if model is None else names[model], attack, defense=defense, kind=kind,
                              disagree=disagree, alert_id=alert, search=search or None)
    category = st.columns(4)[0].selectbox("Category", [None, *sorted(set(items["category"].dropna()))],
                                          format_func=_any("category"))
    items = items if category is None else items[items["category"] == category]
    said = (f"**{len(items)} samples** for {md(model or 'any model')} under attack {md(attack or 'any')}, "
            f"defense {md(defense or 'any')}")
    return items, said


def _list(items: pd.DataFrame, index: pd.DataFrame) -> str | None:
    """The items as a table (a selected row opens it) and a picker; the chosen cell key."""
    models = dict(zip(index["model_id"], index["model"], strict=True))
    items = items.reset_index(drop=True).assign(model=items["model_id"].map(models).fillna(items["model_id"]).values)
    event = st.dataframe(pd.DataFrame({
        "Sample": items["sample_id"], "Model": items["model"], "Kind": items["kind"], "Category": items["category"],
        "Attack": items["attack"], "Defense": items["defense"], "Prompt": items["prompt"],
        "Verdict": items["label"].fillna("—"), "Counts as": items["outcome"], "Judges disagree": items["disagree"],
        "Response": [_response(r) for _, r in items.iterrows()],
    }), hide_index=True, on_select="rerun", selection_mode="single-row", key="items",
        column_config={"Prompt": st.column_config.TextColumn(width="medium"),
                       "Response": st.column_config.TextColumn(width="large")})
    keys = list(items["cell_key"])
    picked = list(event.selection.rows) if event is not None else []
    if picked and picked != st.session_state.get("picked") and picked[0] < len(keys):
        st.session_state[ITEM] = keys[picked[0]]  # a newly selected row opens that item
    st.session_state["picked"] = picked
    if st.session_state.get(ITEM) not in keys:
        st.session_state.pop(ITEM, None)
    labels = {r.cell_key: f"{r.sample_id} · {r.model} · {r.attack} / {r.defense}" for r in items.itertuples()}
    return st.selectbox("Item", keys, format_func=labels.__getitem__, key=ITEM)


def _item(view: data.SampleView, heading: str) -> None:
    row = view.row
    st.markdown(f"**{heading}: {md(view.model)}** · {md(row['sample_id'])} · {md(row['attack'])} / "
                f"{md(row['defense'])}")
    st.markdown(f"Verdict **{md(row['label'] if isinstance(row['label'], str) else '—')}**, "
                f"counts as **{md(row['outcome'])}** (judge {md(row['judge'])})")
    what_was_sent(view.images, row["system_text"], row["prompt"], NO_IMAGE)
    if view.steps:  # empty where redacted: a draft can be an answer to the harmful request
        st.caption("What the defense did first")
        for step in view.steps:
            st.markdown(f"{md(step.defense)} · {md(step.kind.value)}")
            if step.text:
                st.code(step.text, language=None, wrap_lines=True)
    st.caption("Response")
    if row["redacted"]:
        st.markdown(HIDDEN)
    else:
        st.code(_response(row), language=None, wrap_lines=True)
    verdicts = view.verdicts
    st.dataframe(pd.DataFrame({
        "Judge": verdicts["judge"], "Version": verdicts["judge_version"], "Label": verdicts["label"],
        "Counts as": verdicts["outcome"], "Score": verdicts["score"],
        "Rationale": [HIDDEN if row["redacted"] else (r if isinstance(r, str) else "—")
                      for r in verdicts["rationale"]],
    }), hide_index=True)


def _policy(meta: data.Meta) -> None:
    if meta.operator:
        st.caption("Operator snapshot: responses, judge rationales, defense steps and images of harmful items "
                   "are shown (config `leaderboard.operator_snapshot`). Do not share it.")
    else:
        st.caption("Public snapshot: responses to harmful prompts, the judges' rationales on them and their "
                   "images are never published; verdicts are always shown. An operator snapshot (config "
                   "`leaderboard.operator_snapshot`) shows them to the team.")


def main() -> None:
    st.title(TITLE)
    _policy(data.meta())
    index = data.example_index()
    if index.empty:
        st.info("This snapshot publishes no per-sample results.")
        return
    items, said = _filters(index)
    st.markdown(said)
    if items.empty:
        st.info("No item matches these filters.")
        return
    key = _list(items, index)
    view = data.sample_detail(key) if key is not None else None
    if view is None:
        return
    st.subheader("The item in full")
    if view.predecessor is None:
        _item(view, "This revision")
        return
    now, before = st.columns(2)
    with now:
        _item(view, "This revision")
    with before:
        _item(view.predecessor, "Predecessor")


run_page(TITLE, main)
