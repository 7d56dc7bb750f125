from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mmwatch.engine.discovery import discover
from adapters.tiny import make_tiny_model
from mmwatch.config import RunConfig
from fault_endpoint import FaultEndpoint, fault_endpoint  # noqa: F401


def config(tmp_path: Path, **extra: object) -> RunConfig:
    return RunConfig.model_validate({
        "models": [{"lineage": "reference/refuse-all", "adapter": "reference", "params": {"behaviour": "refuse-all"}}],
        "watch": [{"path": str(tmp_path / "trusted")}, {"path": str(tmp_path / "other")},
                  {"path": str(tmp_path / "missing")}],
        "benchmarks": [{"name": "mmwatch-mini"}],
        "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}],
        **extra,
    })


def test_named_models_first_then_sources_with_intake_rules(tmp_path: Path) -> None:
    make_tiny_model(tmp_path / "trusted" / "step-1", seed=1)
    make_tiny_model(tmp_path / "other" / "step-1", seed=2)
    found = discover(config(tmp_path, intake={"trust_remote_code": ["trust*"]}))
    assert [m.lineage for m in found.models] == ["reference/refuse-all", "trusted", "other"]
    remote = {m.lineage: m.adapter_params.get("trust_remote_code", False) for m in found.models}
    assert remote == {"reference/refuse-all": False, "trusted": True, "other": False}
    assert any("missing" in s for s in found.skipped)  # reported, and the other sources still count


def test_remote_code_without_allow_list_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not allow-listed in intake.trust_remote_code"):
        RunConfig.model_validate({
            "models": [{"lineage": "x/y", "adapter": "hf", "params": {"path": "x", "trust_remote_code": True}}],
            "benchmarks": [{"name": "mmwatch-mini"}], "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}],
        })


def test_an_endpoint_listing_an_id_that_holds_the_key_is_refused_with_a_reason(
        fault_endpoint: Callable[..., FaultEndpoint], monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-planted-discovery-0123456789"
    monkeypatch.setenv("PLANTED_API_KEY", key)
    server = fault_endpoint(models=["good-model", "leak-{key}"])
    found = discover(RunConfig.model_validate({
        "watch": [{"source": "openai-endpoint", "base_url": server.url, "api_key_env": "PLANTED_API_KEY"}],
        "benchmarks": [{"name": "mmwatch-mini"}], "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}],
    }))
    assert [m.model_id for m in found.models] == ["good-model@good-model"]
    (why,) = [s for s in found.skipped if "refused" in s]
    assert "PLANTED_API_KEY" in why and key not in why and key not in " ".join(found.skipped)
