from __future__ import annotations

from pathlib import Path

import pytest

from mmwatch.config import ConfigError, load_config
from mmwatch.analysis.outcomes import JudgeRole

GOOD = """
name: t
models:
  - {lineage: reference/refuse-all, adapter: reference, params: {behaviour: refuse-all}}
benchmarks: [{name: mmwatch-mini, limit: 5}]
attacks: [{name: none}, {name: figstep}]
judges: [{name: refusal-keywords}, {name: exact-match}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.benchmarks[0].limit == 5
    assert [a.name for a in cfg.attacks] == ["none", "figstep"]
    assert cfg.defenses[0].name == "none"
    assert cfg.generation.temperature == 0.0
    assert len(cfg.hash) == 16 and cfg.hash == load_config(write(tmp_path, GOOD)).hash


def test_config_hash_changes_with_content(tmp_path: Path) -> None:
    a = load_config(write(tmp_path, GOOD)).hash
    b = load_config(write(tmp_path, GOOD.replace("limit: 5", "limit: 6"))).hash
    assert a != b


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("name: figstep", "name: figstpe"), r"attacks\[1\]\.name: unknown attack 'figstpe'; did you mean 'figstep'"),
        (("limit: 5", "limit: 0"), r"benchmarks\.0\.limit: Input should be greater than or equal to 1"),
        (("name: t", "name: t\ntemprature: 1"), r"temprature: unknown field"),
        (("{name: none}, ", "{name: none, params: {size: 3}}, "), r"attacks\[0\]\.params: attack 'none' takes no parameter size"),
        (("adapter: reference", "adapter: refrence"), r"models\[0\]\.adapter: unknown adapter 'refrence'; did you mean 'reference'"),
        (("judges: [{name: refusal-keywords}, ", "judges: ["), r"safety_judge 'refusal-keywords' is not among judges \(allowed: exact-match\)"),
    ],
)
def test_bad_config_names_file_field_and_allowed(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(write(tmp_path, "models: [\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_bad_cron_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cron needs 5 fields"):
        load_config(write(tmp_path, GOOD + "schedule: {cron: '0 3 *'}\n"))


def test_demo_config_is_valid() -> None:
    cfg = load_config(Path(__file__).parents[2] / "configs" / "demo.yaml")
    assert len(cfg.models) == 4 and len(cfg.attacks) >= 3 and len(cfg.demo_models) == 2


def test_a_harm_judge_as_safety_judge_needs_a_refusal_judge(tmp_path: Path) -> None:
    """harm-rules says safe or unsafe: the refusal rates must be counted by a judge that says refused."""
    base = "benchmarks: [{name: mmwatch-mini}]\njudges: [{name: harm-rules}, {name: refusal-rules}, {name: exact-match}]\n"
    path = tmp_path / "c.yaml"
    path.write_text(base + "safety_judge: harm-rules\n")
    with pytest.raises(ConfigError, match="refusal_judge"):
        load_config(path)
    path.write_text(base + "safety_judge: harm-rules\nrefusal_judge: refusal-rules\n")
    roles = load_config(path).judge_roles()
    assert (roles.safety.name, roles.of(JudgeRole.REFUSAL).name) == ("harm-rules", "refusal-rules")
    path.write_text(base.replace("{name: harm-rules}, ", "") + "safety_judge: refusal-rules\n")
    assert load_config(path).judge_roles().of(JudgeRole.REFUSAL).name == "refusal-rules"  # one refusal judge: both roles


BENCHMARK_JUDGES = """
benchmarks:
  - {name: mmwatch-mini}
  - {name: harmbench-multimodal, params: {path: hb.csv}, safety_judge: harmbench-cls}
judges: [{name: harm-rules}, {name: refusal-rules}, {name: exact-match},
         {name: harmbench-cls, params: {judge_model: {adapter: reference, params: {behaviour: refuse-all}}}}]
safety_judge: harm-rules
refusal_judge: refusal-rules
"""


def test_a_benchmark_may_name_its_own_judge_for_a_role(tmp_path: Path) -> None:
    """HarmBench's ASR by its classifier, the rest by the run's judge; the roles carry both."""
    roles = load_config(write(tmp_path, BENCHMARK_JUDGES)).judge_roles()
    assert roles.of(JudgeRole.SAFETY, "harmbench-multimodal").name == "harmbench-cls"
    assert roles.of(JudgeRole.SAFETY, "mmwatch-mini").name == "harm-rules"
    assert roles.of(JudgeRole.REFUSAL, "harmbench-multimodal").name == "refusal-rules"  # only the role it names


@pytest.mark.parametrize(("change", "expected"), [
    (("safety_judge: harmbench-cls}", "safety_judge: llm-harmbench}"),
     r"benchmarks\[1\]\.safety_judge 'llm-harmbench' is not among judges"),
    (("safety_judge: harmbench-cls}", "refusal_judge: harmbench-cls}"),
     r"benchmarks\[1\]\.refusal_judge: 'harmbench-cls' measures harm, not what a refusal judge counts"),
    (("safety_judge: harmbench-cls}", "utility_judge: harm-rules}"),
     r"benchmarks\[1\]\.utility_judge: 'harm-rules' does not score utility"),
    (("  - {name: mmwatch-mini}\n", "  - {name: harmbench-multimodal, params: {path: b.csv}, safety_judge: harm-rules}\n"),
     r"harmbench-multimodal is listed again with another safety judge"),
])
def test_a_benchmarks_own_judge_is_checked_like_the_runs(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, BENCHMARK_JUDGES.replace(*change)))


def test_a_role_judge_must_measure_what_the_role_counts(tmp_path: Path) -> None:
    """ShieldGemma judges the images shown, not the answer: no ASR may be counted by it."""
    text = ("benchmarks: [{name: mmwatch-mini}]\njudges: [{name: refusal-rules}, {name: exact-match}, "
            "{name: shieldgemma, params: {judge_model: {adapter: reference, params: {behaviour: refuse-all}}}}]\n")
    with pytest.raises(ConfigError, match="safety_judge: 'shieldgemma' measures image-harm"):
        load_config(write(tmp_path, text + "safety_judge: shieldgemma\nrefusal_judge: refusal-rules\n"))
    with pytest.raises(ConfigError, match="refusal_judge: 'harm-rules' measures harm"):
        load_config(write(tmp_path, text.replace("[{name: refusal-rules}", "[{name: refusal-rules}, {name: harm-rules}")
                          + "safety_judge: harm-rules\nrefusal_judge: harm-rules\n"))


def test_fields_added_later_leave_the_config_hash_of_a_config_without_them(tmp_path: Path) -> None:
    """Runs and plans are stored under the config hash: a config that does not name a benchmark's own
    judges must keep the hash it had before they existed."""
    from mmwatch.types import stable_hash

    cfg = load_config(write(tmp_path, GOOD))
    dumped = cfg.model_dump(mode="json")
    for ref in dumped["benchmarks"]:
        for name in ("safety_judge", "refusal_judge", "utility_judge"):
            ref.pop(name)
    assert cfg.hash == stable_hash(dumped)
    assert load_config(write(tmp_path, BENCHMARK_JUDGES)).hash != load_config(
        write(tmp_path, BENCHMARK_JUDGES.replace(", safety_judge: harmbench-cls", ""))).hash


def test_a_renamed_benchmark_keeps_its_loaders_scoring_and_its_own_judge(tmp_path: Path) -> None:
    """Samples carry the benchmark's `name` where one is given: a judge and a scoring rule are found by it."""
    text = BENCHMARK_JUDGES.replace("  - {name: mmwatch-mini}\n", "  - {name: mmbench, params: {path: m.tsv, name: "
                                    "mmbench-cn}, utility_judge: utility-answers}\n").replace(
        "{name: exact-match}", "{name: exact-match}, {name: utility-answers}")
    config = load_config(write(tmp_path, text))
    assert config.loaders() == {"mmbench-cn": "mmbench"}
    assert config.judge_roles().of(JudgeRole.UTILITY, "mmbench-cn").name == "utility-answers"


def test_a_generic_loaders_own_judge_needs_the_name_its_samples_carry(tmp_path: Path) -> None:
    text = BENCHMARK_JUDGES.replace("  - {name: mmwatch-mini}\n",
                                    "  - {name: jsonl, params: {path: x.jsonl}, safety_judge: harm-rules}\n")
    with pytest.raises(ConfigError, match=r"benchmarks\[0\]\.safety_judge: give the jsonl loader a `name`"):
        load_config(write(tmp_path, text))
    named = text.replace("{path: x.jsonl}", "{path: x.jsonl, name: my-set}")
    assert load_config(write(tmp_path, named)).judge_roles().of(JudgeRole.SAFETY, "my-set").name == "harm-rules"
