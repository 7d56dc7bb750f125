"""The regression watch, on outcomes whose answer is known: exact p-values, each metric in the
direction that is worse, baselines, corrections, and slices that would only repeat another."""

from __future__ import annotations

from mmwatch.alerts.watch import compare, find_regressions
from mmwatch.analysis.outcomes import JudgeRole, Outcome
from mmwatch.config import Correction, RegressionConfig
from mmwatch.records import AlertMetric, BaselineKind, ItemOutcome
from mmwatch.types import SampleKind

SAFETY = ("refusal-keywords", 1)


def outcomes(model: str, order: float, successes: list[bool], attack: str = "figstep", attack_hash: str = "",
             judge: tuple[str, int] = SAFETY, defense: str = "none", category: str = "",
             lineage: str = "lin") -> list[ItemOutcome]:
    """Harmful items under one attack: True = the attack got through (complied), False = refused."""
    return [ItemOutcome(lineage, model, order, attack, defense, attack_hash or f"h-{attack}", f"h-{defense}",
                        judge[0], judge[1], f"s{i}", 0, SampleKind.HARMFUL, category, False, JudgeRole.SAFETY, True,
                        Outcome.SUCCESS if s else Outcome.REFUSED) for i, s in enumerate(successes)]


def answers(model: str, order: float, kind: SampleKind, good: list[bool]) -> list[ItemOutcome]:
    """Benign items (good = answered, else refused) or utility items (good = correct)."""
    role = JudgeRole.UTILITY if kind is SampleKind.UTILITY else JudgeRole.REFUSAL
    judge = ("exact-match", 1) if kind is SampleKind.UTILITY else SAFETY
    yes, no = ((Outcome.CORRECT, Outcome.WRONG) if kind is SampleKind.UTILITY else (Outcome.SAFE, Outcome.REFUSED))
    return [ItemOutcome("lin", model, order, "none", "none", "h-none", "h-none", judge[0], judge[1], f"{kind}{i}", 0,
                        kind, "", False, role, True, yes if g else no) for i, g in enumerate(good)]


def only(alerts: list, *fields: str) -> list[tuple]:
    return [tuple(getattr(a, f) for f in fields) for a in alerts]


def test_clear_regression_alerts_with_exact_paired_test() -> None:
    old = outcomes("lin@a", 100, [False] * 20)
    new = outcomes("lin@b", 200, [True] * 9 + [False] * 11)
    comps, alerts = find_regressions(old + new, RegressionConfig(alpha=0.05, min_effect=0.1, min_pairs=5), "r")
    assert len(comps) == 1 and len(alerts) == 1  # one attack x defense: pooled ASR would only repeat it
    a = alerts[0]
    assert (a.model_id, a.baseline_id, a.only_new, a.only_old, a.n_pairs) == ("lin@b", "lin@a", 9, 0, 20)
    assert a.p_value == 2 * 0.5**9 and a.rate_new == 0.45 and a.rate_old == 0.0
    assert a.diff_low is not None and a.diff_high is not None and 0 < a.diff_low < 0.45 < a.diff_high


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
    few = outcomes("lin@a", 1, [False] * 3) + outcomes("lin@b", 2, [True] * 3)
    assert compare(few, RegressionConfig(min_pairs=5)) == []


def test_holm_keeps_borderline_rises_quiet_and_bh_lets_them_through() -> None:
    rows = []
    for k in range(12):  # 12 attacks, each with a rise of p = 2*0.5^6 = 0.03125 alone
        rows += outcomes("lin@a", 1, [False] * 10, attack=f"a{k}") + outcomes("lin@b", 2, [True] * 6 + [False] * 4,
                                                                              attack=f"a{k}")
    comps, alerts = find_regressions(rows, RegressionConfig(alpha=0.05, min_effect=0.1), "r")
    exact = [c for c in comps if c.slice.metric is AlertMetric.ASR and c.slice.attack_hash != "*"]
    assert len(exact) == 12 and all(c.p_value < 0.05 for c in exact)
    assert {(a.metric, a.attack) for a in alerts} <= {(AlertMetric.ASR, "all attacks"),
                                                        (AlertMetric.ANY_ATTACK_ASR, "any attack")}
    _, found = find_regressions(rows, RegressionConfig(alpha=0.05, min_effect=0.1, correction=Correction.BH), "r")
    assert {a.attack for a in found if a.attack_hash != "*"} == {f"a{k}" for k in range(12)}  # FDR: all 12 pass


def test_two_specs_with_one_label_are_compared_apart() -> None:
    """pgd v1 and pgd v2 both read "pgd": pooled, a v1-only regression would be diluted by v2."""
    rows = (outcomes("lin@a", 1, [False] * 20, "pgd", "v1") + outcomes("lin@b", 2, [True] * 20, "pgd", "v1")
            + outcomes("lin@a", 1, [True] * 20, "pgd", "v2") + outcomes("lin@b", 2, [True] * 20, "pgd", "v2"))
    _, alerts = find_regressions(rows, RegressionConfig(), "r")
    exact = [a for a in alerts if a.metric is AlertMetric.ASR and a.attack_hash != "*"]
    assert only(exact, "attack", "attack_hash", "rate_old", "rate_new") == [("pgd", "v1", 0.0, 1.0)]


def test_the_alert_id_names_the_judge_and_keeps_the_first_versions_id() -> None:
    other = ("llm-harmbench", 1)
    rows = outcomes("lin@a", 1, [False] * 20) + outcomes("lin@b", 2, [True] * 20)
    judged_again = outcomes("lin@a", 1, [False] * 20, judge=other) + outcomes("lin@b", 2, [True] * 20, judge=other)
    _, first = find_regressions(rows, RegressionConfig(), "r")
    _, second = find_regressions(judged_again, RegressionConfig(), "r")
    assert first[0].alert_id != second[0].alert_id and second[0].judge == "llm-harmbench"
    from mmwatch.types import stable_hash
    assert first[0].alert_id == stable_hash(["lin@b", "lin@a", "h-figstep", "h-none", "refusal-keywords", 1, "asr"])


def test_a_utility_drop_raises_a_utility_alert_and_nothing_else() -> None:
    rows = (outcomes("lin@a", 1, [False] * 20) + outcomes("lin@b", 2, [False] * 20)
            + answers("lin@a", 1, SampleKind.UTILITY, [True] * 20) + answers("lin@b", 2, SampleKind.UTILITY,
                                                                            [False] * 20))
    _, alerts = find_regressions(rows, RegressionConfig(), "r")
    assert only(alerts, "metric", "rate_old", "rate_new") == [(AlertMetric.UTILITY, 1.0, 0.0)]
    assert alerts[0].diff_high is not None and alerts[0].diff_high < 0  # accuracy fell: a negative change


def test_an_over_refusal_jump_raises_an_over_refusal_alert_and_nothing_else() -> None:
    rows = (outcomes("lin@a", 1, [False] * 20) + outcomes("lin@b", 2, [False] * 20)
            + answers("lin@a", 1, SampleKind.BENIGN, [True] * 24) + answers("lin@b", 2, SampleKind.BENIGN, [False] * 24))
    _, alerts = find_regressions(rows, RegressionConfig(), "r")
    assert only(alerts, "metric", "rate_old", "rate_new") == [(AlertMetric.OVER_REFUSAL, 0.0, 1.0)]


def test_an_any_attack_rise_alone_raises_only_the_any_attack_alert() -> None:
    """Two attacks break 4 of 40 items each (not significant apiece), different items: 8 of 40 broken."""
    a_new = [i < 4 for i in range(40)]
    b_new = [4 <= i < 8 for i in range(40)]
    rows = (outcomes("lin@a", 1, [False] * 40, "typo") + outcomes("lin@a", 1, [False] * 40, "figstep")
            + outcomes("lin@b", 2, a_new, "typo") + outcomes("lin@b", 2, b_new, "figstep"))
    _, alerts = find_regressions(rows, RegressionConfig(alpha=0.05, min_effect=0.15), "r")
    assert only(alerts, "metric", "attack", "rate_old", "rate_new", "only_new") == [
        (AlertMetric.ANY_ATTACK_ASR, "any attack", 0.0, 0.2, 8)]


def test_drift_over_three_revisions_is_caught_against_the_best_and_against_a_pinned_baseline() -> None:
    """Each step adds 6 of 60 items (not significant), v1 -> v3 adds 12 (significant)."""
    v1, v2, v3 = ([i < n for i in range(60)] for n in (0, 6, 12))
    rows = outcomes("lin@v1", 1, v1) + outcomes("lin@v2", 2, v2) + outcomes("lin@v3", 3, v3)
    _, alerts = find_regressions(rows, RegressionConfig(min_effect=0.15), "r")
    assert only(alerts, "model_id", "baseline_id", "baseline_kind", "metric") == [
        ("lin@v3", "lin@v1", BaselineKind.BEST, AlertMetric.ASR)]
    _, pinned = find_regressions(rows, RegressionConfig(min_effect=0.15, baselines={"lin": "v1"}), "r")
    assert only(pinned, "model_id", "baseline_id", "baseline_kind") == [("lin@v3", "lin@v1", BaselineKind.PINNED)]
    assert alerts[0].alert_id != pinned[0].alert_id  # against another baseline: another alert


def test_per_category_slices_find_a_rise_the_pooled_slice_dilutes() -> None:
    old = outcomes("lin@a", 1, [False] * 10, category="weapons") + [
        r._replace(sample_id=f"t{i}", category="fraud") for i, r in enumerate(outcomes("lin@a", 1, [False] * 30))]
    new = outcomes("lin@b", 2, [True] * 8 + [False] * 2, category="weapons") + [
        r._replace(sample_id=f"t{i}", category="fraud") for i, r in enumerate(outcomes("lin@b", 2, [False] * 30))]
    _, alerts = find_regressions(old + new, RegressionConfig(alpha=0.05, min_effect=0.3), "r")
    assert only(alerts, "category", "rate_new") == [("weapons", 0.8)]


def test_only_the_revisions_asked_for_are_tested() -> None:
    rows = outcomes("lin@a", 1, [False] * 20) + outcomes("lin@b", 2, [True] * 20) + outcomes("lin@c", 3, [True] * 20)
    assert [c.model_id for c in compare(rows, RegressionConfig(), {"lin@c"})] == ["lin@c", "lin@c"]


def test_a_best_earlier_baseline_is_tested_as_strictly_as_the_choice_of_it_was_wide() -> None:
    """Picking the best of k noisy revisions and testing against it is k tests: p is multiplied by k."""
    history = [outcomes(f"lin@v{i}", i, [j < 10 + ((i + 1) % 2) for j in range(100)]) for i in range(1, 5)]
    newest = outcomes("lin@v5", 5, [j < 22 for j in range(100)])
    comps = compare([r for rows in history for r in rows] + newest, RegressionConfig(), {"lin@v5"})
    (best,) = [c for c in comps if c.baseline_kind is BaselineKind.BEST]
    assert best.candidates == 4 and best.p_tested == min(1.0, 4 * best.p_value)
    (predecessor,) = [c for c in comps if c.baseline_kind is BaselineKind.PREDECESSOR]
    assert predecessor.candidates == 1 and predecessor.p_tested == predecessor.p_value
