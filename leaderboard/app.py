"""Entry of the public leaderboard: `streamlit run leaderboard/app.py`. It only routes.

Each page reads the published snapshot through leaderboard/data.py and handles a missing
snapshot itself, so a page also runs on its own (AppTest.from_file on the page file).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="mmwatch safety leaderboard", page_icon="🛡️", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "ranking.py", title="Ranking", icon=":material/leaderboard:", default=True),
        st.Page(PAGES / "attacks.py", title="Attacks & defenses", icon=":material/shield:"),
        st.Page(PAGES / "history.py", title="History & alerts", icon=":material/timeline:"),
        st.Page(PAGES / "samples.py", title="Samples", icon=":material/list:"),
    ],
    position="top",
)
navigation.run()
