"""What every page shares: the error frame, the judge and plan line, the public-mode chrome.

A page is a script (`st.navigation` runs it, AppTest can run it alone), so it calls
`run_page(title, main)`: a missing or unreadable snapshot becomes one readable error, never a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from leaderboard import data
from leaderboard.text import md

# Public mode: no Streamlit main menu or Deploy button for the public. The server's
# `client.toolbarMode = "minimal"` (.streamlit/config.toml) leaves them out; this hides them where a
# server was started without that file. (Not the whole toolbar: the page navigation lives in it.)
PUBLIC_CHROME_CSS = """<style>
[data-testid="stAppDeployButton"], [data-testid="stMainMenu"], [data-testid="stToolbarActions"],
.stDeployButton { display: none !important; }
</style>"""


def run_page(title: str, main: Callable[[], None]) -> None:
    """Run a page's body; a snapshot that cannot be read shows as one error under the page's title."""
    try:
        main()
    except data.SnapshotError as exc:
        st.title(title)
        st.error(md(exc), icon=":material/error:")


def provenance(meta: data.Meta) -> str:
    """Which run, judges, config and plan every number on the board is for (escaped markdown)."""
    judges = f" · judges: {md(meta.judges_text())}" if meta.safety_judge else ""
    plan = (f" · numbers for config {md(meta.config_hash)}, plan {md(meta.plan_id)} ({meta.plan_cells} cells)"
            if meta.config_hash else "")
    return (f"Published {md(meta.published_at or 'at an unknown time')} · run {md(meta.run_id or '—')}"
            f"{judges}{plan} · snapshot format v{md(meta.snapshot_version or '?')}")


def demo_notice(meta: data.Meta) -> None:
    if meta.demo:
        st.info(
            "**Demo snapshot.** These numbers come from tiny, locally built demonstration models "
            "and a few benchmark items: they show how the leaderboard works, not how safe any "
            "real model is.",
            icon=":material/science:",
        )


def link(page: str, label: str) -> None:
    """A link to another page ("pages/alerts.py"); a page run on its own (AppTest, no navigation)
    names the page instead."""
    try:
        st.page_link(page, label=label)
    except StreamlitPageNotFoundError:
        st.caption(f"See the {label} page.")


def what_was_sent(images: Sequence[bytes | None], system_text: object, prompt: object, missing: str) -> None:
    """The images (PNG; None: `missing`), the system text when there is one, and the user text, as
    the model received them: the Samples and Label pages show an item the same way."""
    for i, png in enumerate(images, start=1):
        if png is None:
            st.caption(f"Image {i}: {missing}")
        else:
            st.image(png, caption=f"Image {i} sent", output_format="PNG")
    if isinstance(system_text, str) and system_text:
        st.caption("System text")
        st.code(system_text, language=None, wrap_lines=True)
    st.caption("User text")
    st.code(str(prompt), language=None, wrap_lines=True)
