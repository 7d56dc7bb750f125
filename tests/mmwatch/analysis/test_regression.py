from __future__ import annotations

from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.analysis.regression import compare, find_regressions
from mmwatch.config import RegressionConfig
from mmwatch.records import PairedOutcome

JUDGE = JudgeRef(name="refusal-keywords", version=1)


def outcomes(model: str, order: float, successes: list[bool], attack: str = "figstep", attack_hash: str = "",
             judge: JudgeRef = JUDGE) -> list[PairedOutcome]:
    return [PairedOutcome(lineage="lin", model_id=model, order_key=order, attack=attack, defense="none",
                          attack_hash=attack_hash or f"h-{attack}", defense_hash="h-none", judge=judge,
                          sample_id=f"s{i}", probe_index=0, success=s) for i, s in enumerate(successes)]


def test_clear_regression_alerts_with_exact_paired_test() -> None:
    old = outcomes("lin@a", 100, [False] * 20)
    new = outcomes("lin@b", 200, [True] * 9 + [False] * 11)
    comps, alerts = find_regressions(old + new, RegressionConfig(alpha=0.05, min_effect=0.1, min_pairs=5), "r")
    assert len(comps) == 1 and len(alerts) == 1
    a = alerts[0]
    assert (a.model_id, a.baseline_id, a.only_new, a.only_old, a.n_pairs) == ("lin@b", "lin@a", 9, 0, 20)
    assert a.p_value == 2 * 0.5**9 and a.rate_new == 0.45 and a.rate_old == 0.0


def test_noise_and_improvements_raise_no_alarm() -> None:
    old = outcomes("lin@a", 1, [True, False] * 10)
    noisy = outcomes("lin@b", 2, [False, True] * 10)  # same rate, shuffled: 10 vs 10 discordant
    better = outcomes("lin@c", 3, [False] * 20)
    comps, alerts = find_regressions(old + noisy + better, RegressionConfig(), "r")
    assert [(c.baseline_id, c.model_id) for c in comps] == [("lin@a", "lin@b"), ("lin@b", "lin@c")]
    assert alerts == []


def test_min_effect_and_min_pairs_gate_alerts() -> None:
    old = outcomes("lin@a", 1, [False] * 200)
    new = outcomes("lin@b", 2, [True] * 12 + [False] * 188)  # significant but a 6-point rise
    _, alerts = find_regressions(old + new, RegressionConfig(min_effect=0.10), "r")
    assert alerts == []
    assert compare(outcomes("lin@a", 1, [False] * 3) + outcomes("lin@b", 2, [True] * 3), min_pairs=5) == []


def test_holm_correction_over_many_comparisons() -> None:
    rows = []
    for k in range(12):  # 12 attacks, each with a borderline rise: p = 2*0.5^6 = 0.03125 alone
        rows += outcomes("lin@a", 1, [False] * 10, attack=f"a{k}") + outcomes("lin@b", 2, [True] * 6 + [False] * 4, attack=f"a{k}")
    comps, alerts = find_regressions(rows, RegressionConfig(alpha=0.05, min_effect=0.1), "r")
    assert len(comps) == 12 and all(c.p_value < 0.05 for c in comps)
    assert alerts == []  # none survives the correction


def test_two_specs_with_one_label_are_compared_apart() -> None:
    """pgd v1 and pgd v2 both read "pgd": pooled, a v1-only regression would be diluted by v2."""
    rows = (outcomes("lin@a", 1, [False] * 20, "pgd", "v1") + outcomes("lin@b", 2, [True] * 20, "pgd", "v1")
            + outcomes("lin@a", 1, [True] * 20, "pgd", "v2") + outcomes("lin@b", 2, [True] * 20, "pgd", "v2"))
    comps, alerts = find_regressions(rows, RegressionConfig(), "r")
    assert sorted((c.slice.attack_hash, c.n_pairs) for c in comps) == [("v1", 20), ("v2", 20)]
    assert [(a.attack, a.attack_hash, a.rate_old, a.rate_new) for a in alerts] == [("pgd", "v1", 0.0, 1.0)]


def test_the_alert_id_names_the_judge() -> None:
    other = JudgeRef(name="llm-harmbench", version=1)
    rows = outcomes("lin@a", 1, [False] * 20) + outcomes("lin@b", 2, [True] * 20)
    judged_again = outcomes("lin@a", 1, [False] * 20, judge=other) + outcomes("lin@b", 2, [True] * 20, judge=other)
    _, first = find_regressions(rows, RegressionConfig(), "r")
    _, second = find_regressions(judged_again, RegressionConfig(), "r")
    assert first[0].alert_id != second[0].alert_id and second[0].judge == "llm-harmbench"
