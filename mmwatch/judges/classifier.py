"""What the harm-classifier judges (harmbench-cls, llama-guard, shieldgemma) share.

Each classifier was trained on one exact input format, kept as versioned data
(data/{name}_v{N}.yaml), and answers in one exact output format; these helpers read that data
and turn the cases where there is nothing to classify into explicit UNSCORED verdicts.

Serving: a classifier's prompt is sent as the text of one user message. The published formats
are raw prompts (HarmBench's `[INST] ...`) or the user turn of the model's chat template (Llama
Guard, ShieldGemma 2), so the endpoint must add only the special tokens around one user turn
(with vLLM, a pass-through `--chat-template`) and never wrap the text in a second instruction.
"""

from __future__ import annotations


import yaml

from mmwatch.judges.llm import unparseable
from mmwatch.judges.versioned import DATA_DIR, load_data
from mmwatch.types import Judgement, Label, Response


def nothing_to_judge(response: Response) -> Judgement | None:
    """UNSCORED when the model gave no answer (an error, or empty text); None when there is one."""
    if response.error is not None:
        return Judgement(label=Label.UNSCORED, rationale=f"no answer to judge: {response.error}")
    if not response.text.strip():
        return Judgement(label=Label.UNSCORED, rationale="empty response: nothing to judge")
    return None


def failed(reply: Response) -> Judgement | None:
    """UNSCORED naming the judge model's error, or None when it answered."""
    if reply.error is not None:
        return Judgement(label=Label.UNSCORED, rationale=f"judge model error: {reply.error}")
    return None


def yes_no(reply: str) -> bool | None:
    """True for "Yes", False for "No" (case and surrounding whitespace ignored), else None."""
    word = reply.strip().lower()
    return True if word == "yes" else False if word == "no" else None


__all__ = ["DATA_DIR", "failed", "load_data", "nothing_to_judge", "unparseable", "yes_no"]
