"""Entry of the leaderboard: `streamlit run leaderboard/app.py`. It only routes.

Which pages exist depends on the snapshot's mode: a public snapshot (the default) gets no Label
and no Runs page, and no Streamlit toolbar or Deploy button. Each page reads the snapshot through
leaderboard/data and handles a missing snapshot itself, so a page also runs on its own
(AppTest.from_file on the page file).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from leaderboard import data
from leaderboard.widgets import PUBLIC_CHROME_CSS

PAGES = Path(__file__).parent / "pages"


def _mode() -> data.Meta:
    try:
        return data.meta()
    except data.SnapshotError:
        return data.Meta()  # public; the page shows why there is nothing to read


st.set_page_config(page_title="mmwatch safety leaderboard", page_icon="🛡️", layout="wide")
meta = _mode()
if not meta.operator:
    st.html(PUBLIC_CHROME_CSS)
pages = [
    st.Page(PAGES / "overview.py", title="Overview", icon=":material/today:", default=True),
    st.Page(PAGES / "ranking.py", title="Ranking", icon=":material/leaderboard:"),
    st.Page(PAGES / "frontier.py", title="Frontier", icon=":material/scatter_plot:"),
    st.Page(PAGES / "trends.py", title="Trends", icon=":material/timeline:"),
    st.Page(PAGES / "matrix.py", title="Matrix", icon=":material/grid_on:"),
    st.Page(PAGES / "benchmarks.py", title="Benchmarks", icon=":material/fact_check:"),
    st.Page(PAGES / "samples.py", title="Samples", icon=":material/image:"),
    st.Page(PAGES / "alerts.py", title="Alerts", icon=":material/notifications:"),
]
if meta.operator:
    pages += [
        st.Page(PAGES / "label.py", title="Label", icon=":material/label:"),
        st.Page(PAGES / "runs.py", title="Runs", icon=":material/history:"),
    ]
st.navigation(pages, position="top").run()
