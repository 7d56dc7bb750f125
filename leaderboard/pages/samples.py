"""Samples: per-item verdicts behind the rates, with harmful responses redacted by policy."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md

HIDDEN = "🔒 hidden (harmful item)"


def _response(row: pd.Series) -> str:
    if row["redacted"]:
        return HIDDEN
    if isinstance(row["error"], str) and row["error"]:
        return f"⚠ error: {row['error']}"
    return row["response_text"] if isinstance(row["response_text"], str) else ""


def _ordered(present: set[str], order: list[str]) -> list[str]:
    """The names present, in the snapshot's order (baseline first), then any it does not list."""
    return [name for name in order if name in present] + sorted(present - set(order))


def main() -> None:
    meta = data.meta()
    st.title("Samples")
    if meta.show_responses:
        st.caption("The operator has chosen to publish raw responses, including responses to "
                   "harmful prompts (config `leaderboard.show_responses`).")
    else:
        st.caption("Raw responses to harmful prompts are hidden unless the operator publishes "
                   "them (config `leaderboard.show_responses`). Verdicts are always shown.")
    index = data.example_index()
    if index.empty:
        st.info("This snapshot publishes no per-sample results.")
        return
    left, mid, right = st.columns(3)
    model = left.selectbox("Model", list(dict.fromkeys(index["model"])))
    rows = index[index["model"] == model]
    attack = mid.selectbox("Attack", _ordered(set(rows["attack"]), data.attacks()))
    defense = right.selectbox("Defense", _ordered(set(rows[rows["attack"] == attack]["defense"]), data.defenses()))
    model_id = rows["model_id"].iloc[0]
    found = data.examples(model_id, attack, defense=defense)
    st.markdown(f"**{len(found)} samples** for *{md(model)}* under attack *{md(attack)}*, "
                f"defense *{md(defense)}*")
    st.dataframe(
        pd.DataFrame({
            "Sample": found["sample_id"],
            "Kind": found["kind"],
            "Category": found["category"],
            "Prompt": found["prompt"],
            "Verdict": found["label"].fillna("—"),
            "Counts as": found["outcome"],
            "Judge": found["judge"],
            "Response": [_response(r) for _, r in found.iterrows()],
        }),
        hide_index=True,
        column_config={"Prompt": st.column_config.TextColumn(width="medium"),
                       "Response": st.column_config.TextColumn(width="large")},
    )


try:
    main()
except data.SnapshotError as exc:
    st.title("Samples")
    st.error(md(exc), icon=":material/error:")
