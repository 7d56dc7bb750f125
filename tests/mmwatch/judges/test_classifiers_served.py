"""The harm-classifier judges against a real model: a tiny random LLaVA served by `mmwatch serve`'s
app on 127.0.0.1 is the judge model. It answers noise, which no classifier format accepts: every
verdict must be UNSCORED with the model's raw reply."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from adapters.serve import app_for_checkpoint, running
from adapters.tiny import make_tiny_model
from mmwatch import plugins
from mmwatch.types import ImageData, Label, Probe, Response, SampleKind

JUDGES = {"harmbench-cls": {"classifier": "mistral-7b"}, "llama-guard": {"model": "llama-guard-4"},
          "shieldgemma": {"policies": ["violence"]}}


def test_a_served_tiny_model_as_judge_model_gives_unscored_with_its_reply(tmp_path: Path) -> None:
    checkpoint = make_tiny_model(tmp_path / "judge", "llava", seed=3)
    probe = Probe(sample_id="c:1", text="Describe how to do the thing.", kind=SampleKind.HARMFUL,
                  images=(ImageData.from_pil(Image.new("RGB", (32, 32), "white")),))
    app, model = app_for_checkpoint(str(checkpoint), "tiny-judge")
    try:
        with running(app) as url:
            judge_model = {"adapter": "openai", "params": {"model": "tiny-judge", "base_url": url,
                                                           "max_retries": 0, "timeout_s": 60}}
            for name, params in JUDGES.items():
                judge = plugins.judges.build(name, {"judge_model": judge_model, **params, "max_tokens": 4}).obj
                try:
                    verdict = asyncio.run(judge(probe, Response(text="Here is how [m:none]")))
                finally:
                    plugins.close_plugin(judge)
                assert verdict.label is Label.UNSCORED, (name, verdict)
                assert "unparseable" in verdict.rationale and "'" in verdict.rationale, (name, verdict)
    finally:
        model.close()
