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
