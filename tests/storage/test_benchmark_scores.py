"""Each benchmark's own numbers: its own judge, its own metric, and the scores that weigh them.

Two harmful benchmarks, one counted by its own judge (HarmBench by harmbench-cls, which calls 1 of
4 answers harmful where the run's harm-rules calls all 4), and two utility benchmarks of different
sizes and metrics (POPE's F1 on 4 items, ScienceQA's accuracy on 10): the headline ASR and the
utility score weigh each benchmark the same, and every number names its judge.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from plans import ADAPTER, options, record_plan

from mmwatch.analysis.outcomes import BenchmarkJudge, JudgeRef, JudgeRole, JudgeRoles
from mmwatch.records import CellRecord, ModelRecord, ModelSource
from mmwatch.types import AnswerFormat, AnswerKey, Label, Probe, Response, Sample, SampleKind, Verdict
from storage.store import DuckDBStore

NONE = {"name": "none", "version": 1, "params": {}}
ROLES = JudgeRoles(safety=JudgeRef(name="harm-rules", version=1), refusal=JudgeRef(name="refusal-keywords", version=1),
                   utility=JudgeRef(name="exact-match", version=1), target=JudgeRef(name="target-string", version=1),
                   by_benchmark=(BenchmarkJudge(benchmark="harmbench-multimodal", role=JudgeRole.SAFETY,
                                                judge=JudgeRef(name="harmbench-cls", version=1)),))


def _sample(benchmark: str, i: int, kind: SampleKind, **more: object) -> Sample:
    return Sample(benchmark=benchmark, source_id=str(i), category="c", kind=kind, text=f"{benchmark} {i}", **more)


def _cell(sample: Sample) -> CellRecord:
    return CellRecord(cell_key=f"m|{sample.id}", run_id="r", model_id="lin@1", sample_id=sample.id, probe_index=0,
                      attack=NONE, attack_label="none", defense=NONE, defense_label="none", adapter=ADAPTER,
                      generation={}, seed=0, probe=Probe(sample_id=sample.id, text=sample.text, kind=sample.kind),
                      response=Response(text="an answer"))


@pytest.fixture()
def snapshot(tmp_path: Path) -> Path:
    harmbench = [_sample("harmbench-multimodal", i, SampleKind.HARMFUL) for i in range(4)]
    other = [_sample("figstep-safebench", i, SampleKind.HARMFUL) for i in range(4)]
    pope = [_sample("pope", i, SampleKind.UTILITY, reference=ref, answer_key=AnswerKey(format=AnswerFormat.YES_NO))
            for i, ref in enumerate(["yes", "yes", "no", "no"])]
    science = [_sample("scienceqa", i, SampleKind.UTILITY, reference="A") for i in range(10)]
    verdicts: list[tuple[str, Verdict]] = []

    def say(sample: Sample, judge: str, label: Label) -> None:
        verdicts.append((f"m|{sample.id}", Verdict(label=label, judge=judge, judge_version=1)))

    for i, s in enumerate(harmbench):
        say(s, "harm-rules", Label.UNSAFE)
        say(s, "harmbench-cls", Label.UNSAFE if i == 0 else Label.SAFE)
        say(s, "refusal-keywords", Label.COMPLIED)
    for i, s in enumerate(other):
        say(s, "harm-rules", Label.UNSAFE if i < 2 else Label.SAFE)
        say(s, "refusal-keywords", Label.REFUSED if i == 3 else Label.COMPLIED)
    for s, right in zip(pope, [True, False, True, True], strict=True):  # TP 1, FN 1, TN 2: F1 = 2 / 3
        say(s, "exact-match", Label.CORRECT if right else Label.INCORRECT)
    for i, s in enumerate(science):  # 9 of 10
        say(s, "exact-match", Label.CORRECT if i else Label.INCORRECT)
    samples = harmbench + other + pope + science
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="lin", revision="1", label="one", source=ModelSource.CONFIG,
                                         adapter="reference", order_key=1.0)])
        cells = [_cell(s) for s in samples]
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        return store.publish(tmp_path / "snap.duckdb", options(record_plan(store, cells), roles=ROLES))


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_benchmark_counts_its_asr_by_its_own_judge(snapshot: Path) -> None:
    rows = _rows(snapshot, "SELECT benchmark, value, n, judge, published_judge FROM benchmark_scores "
                           "WHERE metric = 'asr' AND attack = '*' ORDER BY benchmark")
    assert rows == [("figstep-safebench", 0.5, 4, "harm-rules", None),
                    ("harmbench-multimodal", 0.25, 4, "harmbench-cls", "harmbench-cls")]
    (asr, n), = _rows(snapshot, "SELECT asr, n_harmful FROM leaderboard")
    assert (asr, n) == (pytest.approx(0.375), 8)  # each benchmark weighs the same, by its own judge


def test_refusal_rates_per_benchmark_are_the_refusal_judges(snapshot: Path) -> None:
    rows = _rows(snapshot, "SELECT benchmark, value, judge FROM benchmark_scores WHERE metric = 'refusal rate' "
                           "ORDER BY benchmark")
    assert rows == [("figstep-safebench", 0.25, "refusal-keywords"), ("harmbench-multimodal", 0.0, "refusal-keywords")]


def test_each_utility_benchmark_has_its_own_metric_and_the_score_weighs_them_equally(snapshot: Path) -> None:
    rows = dict(((b, m), (v, head)) for b, m, v, head in _rows(
        snapshot, "SELECT benchmark, metric, value, headline FROM benchmark_scores WHERE kind = 'utility'"))
    assert rows["pope", "F1"] == (pytest.approx(2 / 3), True)
    assert rows["pope", "accuracy"] == (0.75, False)
    assert rows["pope", "yes ratio"] == (0.25, False)
    assert rows["scienceqa", "accuracy"] == (0.9, True)
    (utility, lo, hi, n), = _rows(snapshot, "SELECT utility, utility_lo, utility_hi, n_utility FROM leaderboard")
    assert utility == pytest.approx((2 / 3 + 0.9) / 2)  # not the pooled 12 / 14 right
    assert lo < utility < hi and n == 14


def test_the_snapshot_names_the_benchmarks_own_judges(snapshot: Path) -> None:
    meta = dict(_rows(snapshot, "SELECT key, value FROM meta"))
    assert '"benchmark": "harmbench-multimodal"' in meta["benchmark_judges"]
    assert '"judge": "harmbench-cls"' in meta["benchmark_judges"]


def test_an_item_without_a_verdict_is_left_out_and_a_partial_mix_gets_no_score(tmp_path: Path) -> None:
    """Revision 2's ScienceQA answers have no verdict yet (a judge still to run): they say nothing
    about its answers, so ScienceQA has no number for it, and a utility score over POPE alone would
    rank it on another mix than revision 1's: it gets none. An answer the rule could not read
    (unscored by exact-match's stand-in here: no answer key) counts as wrong."""
    pope = [_sample("pope", i, SampleKind.UTILITY, reference="yes", answer_key=AnswerKey(format=AnswerFormat.YES_NO))
            for i in range(2)]
    science = [_sample("scienceqa", i, SampleKind.UTILITY, reference="A") for i in range(4)]
    cells, verdicts = [], []
    for model in ("lin@1", "lin@2"):
        for s in pope + science:
            cell = _cell(s).model_copy(update={"cell_key": f"{model}|{s.id}", "model_id": model})
            cells.append(cell)
            label = Label.UNSCORED if s.source_id == "0" and s.benchmark == "scienceqa" else Label.CORRECT
            if model == "lin@1" or s.benchmark == "pope":
                verdicts.append((cell.cell_key, Verdict(label=label, judge="exact-match", judge_version=1)))
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(pope + science)
        store.upsert_models([ModelRecord(lineage="lin", revision=r, label=r, source=ModelSource.CONFIG,
                                         adapter="reference", order_key=float(r)) for r in ("1", "2")])
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        path = store.publish(tmp_path / "snap.duckdb", options(record_plan(store, cells), roles=ROLES))
    rows = _rows(path, "SELECT model_id, value, n, unscored FROM benchmark_scores WHERE benchmark = 'scienceqa' "
                       "AND headline")
    assert rows == [("lin@1", 0.75, 4, 1)]  # 3 of 4: the unreadable answer counts as wrong
    utility = dict(_rows(path, "SELECT model_id, utility FROM leaderboard"))
    assert utility == {"lin@1": pytest.approx((1.0 + 0.75) / 2), "lin@2": None}


def test_a_rate_pooled_over_benchmarks_names_every_judge_behind_it(snapshot: Path) -> None:
    assert _rows(snapshot, "SELECT judge, n FROM asr_by_attack") == [("harm-rules, harmbench-cls", 8)]


def test_a_renamed_benchmark_is_scored_by_its_loaders_rule() -> None:
    from storage.benchmark_scores import traits
    from mmwatch.scoring.benchmark import UtilityScore

    assert traits("mmbench-cn", {"mmbench-cn": "mmbench"}).utility_score is UtilityScore.CIRCULAR
    assert traits("mmbench-cn").utility_score is UtilityScore.ACCURACY  # unknown: the plain default


def test_an_empty_open_answer_counts_zero_and_an_ungraded_one_is_left_out(tmp_path: Path) -> None:
    """MM-Vet graded by its judge model: an empty answer is a wrong one (the grader was not needed to
    see that), a grader failure says nothing about the answer; the same open answers under a rule
    judge, which cannot grade them, give no number at all."""
    items = [_sample("mm-vet", i, SampleKind.UTILITY, reference="STOP", answer_key=AnswerKey(format=AnswerFormat.OPEN))
             for i in range(3)]
    cells = [_cell(s) for s in items]
    cells[1] = cells[1].model_copy(update={"response": Response(text="  ")})
    graded = [(Label.CORRECT, 0.9), (Label.UNSCORED, None), (Label.UNSCORED, None)]  # 3: the grader's call failed
    verdicts = [(c.cell_key, Verdict(label=label, score=score, judge="mmvet-grader", judge_version=1))
                for c, (label, score) in zip(cells, graded, strict=True)]
    verdicts += [(c.cell_key, Verdict(label=Label.UNSCORED, judge="utility-answers", judge_version=1)) for c in cells]
    own = JudgeRoles(safety=ROLES.safety, refusal=ROLES.refusal, utility=JudgeRef(name="utility-answers", version=1),
                     target=ROLES.target, by_benchmark=(BenchmarkJudge(benchmark="mm-vet", role=JudgeRole.UTILITY,
                                                                       judge=JudgeRef(name="mmvet-grader", version=1)),))
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(items)
        store.upsert_models([ModelRecord(lineage="lin", revision="1", label="one", source=ModelSource.CONFIG,
                                         adapter="reference", order_key=1.0)])
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        plan = record_plan(store, cells)
        graded_path = store.publish(tmp_path / "graded.duckdb", options(plan, roles=own))
        rule_path = store.publish(tmp_path / "rule.duckdb", options(plan, roles=own.model_copy(
            update={"by_benchmark": ()}), history=False))
    assert _rows(graded_path, "SELECT value, n, unscored FROM benchmark_scores WHERE headline") == [
        (pytest.approx(0.45), 2, 2)]
    assert _rows(rule_path, "SELECT count(*) FROM benchmark_scores") == [(0,)]
