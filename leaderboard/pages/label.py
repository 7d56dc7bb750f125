"""Label (operator snapshots only): people label answers, disagreements first, into the primary store,
where `mmwatch calibrate` and the corrected ASR find them.

A label is never lost: it waits in the session until the store takes it (the nightly cycle holds
the store while it runs), and a retry button sends what waits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from leaderboard import data, labelling
from leaderboard.text import md
from leaderboard.widgets import run_page, what_was_sent
from mmwatch.analysis.labels import HumanLabel, LabelledRow

TITLE = "Label"
PENDING, DONE, NOTE, LABELLER = "label_pending", "label_done", "label_note", "labeller"
BUSY = "The store is busy (a cycle is running); try again in a few minutes. Your label is kept."


def _pending() -> list[LabelledRow]:
    return st.session_state.setdefault(PENDING, [])


def _done() -> set[str]:
    return st.session_state.setdefault(DONE, set())


def _flush(store: Path, artifacts: Path | None) -> None:
    """Send every waiting label; on a busy or missing store they stay waiting."""
    waiting = _pending()
    if not waiting:
        return
    try:
        labelling.save_labels(store, waiting, artifacts)
    except labelling.StoreBusy:
        st.session_state[NOTE] = ("warning", BUSY)
        return
    except labelling.StoreError as exc:
        st.session_state[NOTE] = ("warning", f"Not saved: {exc}. Your label is kept.")
        return
    _done().update(r.cell_key for r in waiting if r.cell_key)
    st.session_state[NOTE] = ("success", f"Saved {len(waiting)} label(s) to the store.")
    waiting.clear()


def _label(item: pd.Series, image: bytes | None, label: HumanLabel, store: Path, artifacts: Path | None) -> None:
    """Button callback: runs before the page is drawn again, so the next item shows at once."""
    _pending().append(labelling.labelled_row(item, label, st.session_state.get(LABELLER, ""), image))
    _flush(store, artifacts)


def _queue(store: Path) -> pd.DataFrame:
    try:
        stored = labelling.labelled_keys(store)
    except labelling.StoreError:  # busy or missing: what this session labelled is still skipped
        stored = frozenset()
    skip = stored | _done() | {r.cell_key for r in _pending() if r.cell_key}
    return data.label_queue(exclude=tuple(sorted(skip)))


def _show(item: pd.Series) -> bytes | None:
    """The item as the model saw and answered it, and what the judges said; its first published image."""
    st.markdown(f"**{md(item['model'])}** · {md(item['sample_id'])} · {md(item['kind'])} · "
                f"{md(item['category'])} · {md(item['attack'])} / {md(item['defense'])}")
    view = data.sample_detail(str(item["cell_key"]), with_predecessor=False)
    images = view.images if view is not None else []
    what_was_sent(images, item["system_text"], item["prompt"], "not in this snapshot")
    st.caption("Response")
    st.code(item["response_text"], language=None, wrap_lines=True)
    if view is not None and not view.verdicts.empty:
        v = view.verdicts
        st.dataframe(pd.DataFrame({"Judge": v["judge"], "Label": v["label"], "Counts as": v["outcome"],
                                   "Score": v["score"], "Rationale": v["rationale"].fillna("—")}), hide_index=True)
    return next((png for png in images if png is not None), None)


def main() -> None:
    st.title(TITLE)
    meta = data.meta()
    if not meta.operator:
        st.info("Labelling is only on an operator snapshot: a public snapshot shows no answers to harmful items.",
                icon=":material/lock:")
        return
    if meta.store is None:
        st.info("This operator snapshot names no primary store (meta `store`), so labels have nowhere to go.")
        return
    store = Path(meta.store)
    artifacts = Path(meta.extra[labelling.ARTIFACTS_KEY]) if meta.extra.get(labelling.ARTIFACTS_KEY) else None
    st.caption(f"Labels go to {md(store)} (source `{labelling.SOURCE}`), where `mmwatch calibrate` reads them. "
               "Label one question per item: refusal / compliance, or unsafe / safe.")
    if note := st.session_state.pop(NOTE, None):
        (st.warning if note[0] == "warning" else st.success)(md(note[1]))
    if waiting := _pending():
        st.warning(f"{len(waiting)} label(s) wait to be saved.")
        st.button("Retry saving", on_click=_flush, args=(store, artifacts))
    queue = _queue(store)
    if queue.empty:
        st.info("Nothing left to label in this snapshot.")
        return
    names = {r.cell_key: f"{r.sample_id} · {r.model} · {r.attack} / {r.defense}" for r in queue.itertuples()}
    key = st.selectbox(f"Item ({len(queue)} to label, judges' disagreements first)", list(names),
                       format_func=names.__getitem__)
    item = queue[queue["cell_key"] == key].iloc[0]
    image = _show(item)
    labeller = st.text_input("Your name", key=LABELLER)
    for column, label in zip(st.columns(len(HumanLabel)), HumanLabel, strict=True):
        column.button(label.value, key=f"label-{label.value}", disabled=not labeller.strip(), width="stretch",
                      on_click=_label, args=(item, image, label, store, artifacts))


run_page(TITLE, main)
