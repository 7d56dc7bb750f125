from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from mmwatch.config import RunConfig
from mmwatch.records import CellRecord
from mmwatch.secrets import MASK, ScrubbingRecords, Secrets, run_secrets, scrub_cell
from mmwatch.types import Probe, Response, Verdict

KEY = "sk-planted-0123456789abcdef"


def test_the_config_names_and_conventional_names_are_secrets_short_values_are_not() -> None:
    env = {"MY_PROVIDER_KEY_VAR": KEY, "SMTP_PASSWORD": "hunter2hunter2", "HF_TOKEN": "hf_abcdefghijkl",
           "LOCAL_KEY": "EMPTY", "PATH": "/usr/bin:/bin", "SHORT_TOKEN": "abc"}
    secrets = Secrets.from_env(["MY_PROVIDER_KEY_VAR"], env)
    assert sorted(secrets.values) == ["HF_TOKEN", "MY_PROVIDER_KEY_VAR", "SMTP_PASSWORD"]
    text = f"Bearer {KEY} and hunter2hunter2 on /usr/bin"
    assert secrets.scrub(text) == f"Bearer {MASK} and {MASK} on /usr/bin"
    assert secrets.found_in(text) == ["MY_PROVIDER_KEY_VAR", "SMTP_PASSWORD"]
    assert not Secrets.from_env([], {"PATH": "/bin"})


def test_a_run_reads_every_api_key_env_its_config_names_however_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_PROVIDER_CRED", "judge-cred-0123456789")
    monkeypatch.setenv("MODEL_PROVIDER_CRED", "model-cred-0123456789")
    config = RunConfig.model_validate({
        "models": [{"lineage": "api/m", "adapter": "openai",
                    "params": {"model": "m", "api_key_env": "MODEL_PROVIDER_CRED"}}],
        "benchmarks": [{"name": "mmwatch-mini"}],
        "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"},
                   {"name": "llm-safety", "params": {"judge_model": {"adapter": "openai", "params": {
                       "model": "j", "api_key_env": "JUDGE_PROVIDER_CRED"}}}}],
    })
    secrets = run_secrets(config)
    assert {"JUDGE_PROVIDER_CRED", "MODEL_PROVIDER_CRED"} <= set(secrets.values)


@pytest.fixture
def scrubbing_logs() -> Iterator[None]:
    original = logging.getLogRecordFactory()
    ScrubbingRecords.install(Secrets({"K": KEY}))
    ScrubbingRecords.install(Secrets({"K": KEY}))  # installed twice: replaced, not stacked
    yield
    logging.setLogRecordFactory(original)


def test_log_records_are_masked_before_any_handler_sees_them(scrubbing_logs: None,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    factory = logging.getLogRecordFactory()
    assert isinstance(factory, ScrubbingRecords) and not isinstance(factory.base, ScrubbingRecords)
    log = logging.getLogger("mmwatch.test")
    with caplog.at_level(logging.INFO):
        log.info("model id %s listed", f"leak-{KEY}")
        try:
            raise RuntimeError(f"server said {KEY}")
        except RuntimeError:
            log.exception("call failed")
    text = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert KEY not in text and "leak-***" in text and "server said ***" in text


def _cell(text: str, error: str | None) -> CellRecord:
    return CellRecord(cell_key="k", run_id="r", model_id="m@1", sample_id="s", probe_index=0,
                      attack={"name": "none", "version": 1, "params": {}}, attack_label="none",
                      defense={"name": "none", "version": 1, "params": {}}, defense_label="none", adapter={},
                      generation={}, seed=0, probe=Probe(sample_id="s", text="q"), response=Response(text=text,
                                                                                                     error=error))


def test_a_cell_is_masked_in_its_answer_and_error_and_keeps_its_key() -> None:
    secrets = Secrets({"K": KEY})
    masked = scrub_cell(_cell(f"the key is {KEY}", f"500: {KEY}"), secrets)
    assert (masked.cell_key, masked.response.text, masked.response.error) == ("k", "the key is ***", "500: ***")
    clean = _cell("fine", None)
    assert scrub_cell(clean, secrets) is clean


def test_the_writer_stores_no_secret() -> None:
    from mmwatch.engine.writer import Writer

    written: list[CellRecord] = []
    verdicts: list[tuple[str, Verdict]] = []

    class Sink:
        def write(self, cells: list[CellRecord], vs: list[tuple[str, Verdict]]) -> None:
            written.extend(cells)
            verdicts.extend(vs)

    with Writer(Sink(), [], None, batch_size=1, secrets=Secrets({"K": KEY})) as writer:
        writer.add([_cell(f"echo {KEY}", None)])
    assert [c.response.text for c in written] == ["echo ***"]
