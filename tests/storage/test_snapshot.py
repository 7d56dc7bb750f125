from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import duckdb
import pytest
from PIL import Image

from plans import ADAPTER, options, record_plan

from mmwatch.records import BoardMode, CellRecord, ModelRecord, ModelSource, PlanRecord, RunRecord, RunStatus
from mmwatch.types import ImageData, Label, Probe, Response, Sample, SampleKind, Verdict
from storage.snapshot import SNAPSHOT_VERSION
from storage.store import DuckDBStore

SPEC = {"name": "none", "version": 1, "params": {}}


def fill(store: DuckDBStore) -> list[CellRecord]:
    """Model m@1: 10 harmful (5 complied, 1 unscored extra, 1 error), 4 benign (1 refused), 2 utility (1 correct)."""
    samples = [Sample(benchmark="b", source_id=f"h{i}", category="Fraud" if i < 6 else "Hate Speech",
                      kind=SampleKind.HARMFUL, text=f"harm {i}") for i in range(12)]
    samples += [Sample(benchmark="b", source_id=f"n{i}", category="homonyms", kind=SampleKind.BENIGN,
                       text=f"benign {i}") for i in range(4)]
    samples += [Sample(benchmark="b", source_id=f"u{i}", category="count", kind=SampleKind.UTILITY,
                       text=f"util {i}", reference="3") for i in range(2)]
    store.upsert_samples(samples)
    store.upsert_models([ModelRecord(lineage="lin", revision="1", label="ckpt-1", source=ModelSource.CONFIG,
                                     adapter="reference")])
    labels = {**{f"h{i}": Label.COMPLIED if i < 5 else Label.REFUSED for i in range(10)}, "h10": Label.UNSCORED,
              **{f"n{i}": Label.REFUSED if i == 0 else Label.COMPLIED for i in range(4)},
              "u0": Label.CORRECT, "u1": Label.INCORRECT}
    cells, verdicts = [], []
    for s in samples:
        error = "boom" if s.source_id == "h11" else None
        cells.append(CellRecord(cell_key=s.source_id, run_id="r", model_id="lin@1", sample_id=s.id, probe_index=0,
                                attack=SPEC, attack_label="none", defense=SPEC, defense_label="none", adapter=ADAPTER,
                                generation={}, seed=0, probe=Probe(sample_id=s.id, text=s.text),
                                response=Response(text=f"answer to {s.text}", error=error)))
        if error is None:
            judge = "exact-match" if s.kind is SampleKind.UTILITY else "refusal-keywords"
            verdicts.append((s.source_id, Verdict(label=labels[s.source_id], judge=judge, judge_version=1)))
    store.write_cells(cells)
    store.write_verdicts("r", verdicts)
    return cells


@pytest.fixture()
def snapshot(tmp_path: Path) -> Path:
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        plan = record_plan(store, fill(store))
        return store.publish(tmp_path / "snap.duckdb", options(plan, run_id="r"))


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_leaderboard_rates_counts_and_wilson_intervals(snapshot: Path) -> None:
    row = query(snapshot, "SELECT n_harmful, asr, asr_lo, asr_hi, safety, n_benign, over_refusal, n_utility, "
                          "utility, unscored, errors FROM leaderboard")[0]
    n_h, asr, lo, hi, safety, n_b, over, n_u, util, unscored, errors = row
    assert (n_h, n_b, n_u, unscored, errors) == (10, 4, 2, 1, 1)
    assert asr == pytest.approx(0.5) and safety == pytest.approx(0.5)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert over == pytest.approx(0.25) and util == pytest.approx(0.5)


def test_asr_by_category(snapshot: Path) -> None:
    rows = dict((cat, (n, k)) for cat, n, k in query(snapshot, "SELECT category, n, successes FROM asr_by_category"))
    assert rows == {"Fraud": (6, 5), "Hate Speech": (4, 0)}


def test_harmful_responses_are_redacted_by_default(snapshot: Path) -> None:
    rows = query(snapshot, "SELECT kind, count(response_text) FROM examples GROUP BY kind ORDER BY kind")
    assert rows == [("benign", 4), ("harmful", 0), ("utility", 2)]
    assert dict(query(snapshot, "SELECT key, value FROM meta"))["show_responses"] == "false"


def test_operator_can_publish_responses_and_republish_replaces_atomically(tmp_path: Path, snapshot: Path) -> None:
    reader = duckdb.connect(str(snapshot), read_only=True)  # a reader holding the old file
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        plan = record_plan(store, fill(store))  # the same cells: the same plan, already stored
        store.publish(snapshot, options(plan, mode=BoardMode.OPERATOR))
    assert reader.execute("SELECT count(response_text) FROM examples WHERE kind='harmful'").fetchone() == (0,)
    reader.close()
    assert query(snapshot, "SELECT count(response_text) FROM examples WHERE kind='harmful'") == [(12,)]
    assert dict(query(snapshot, "SELECT key, value FROM meta"))["show_responses"] == "true"


def test_show_responses_alone_publishes_no_harmful_response(tmp_path: Path) -> None:
    """The mode decides: a public snapshot never holds a harmful response, whatever show_responses says."""
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        path = store.publish(tmp_path / "s.duckdb", options(record_plan(store, fill(store)), show_responses=True))
    assert query(path, "SELECT count(response_text) FROM examples WHERE kind='harmful'") == [(0,)]
    meta = dict(query(path, "SELECT key, value FROM meta"))
    assert (meta["mode"], meta["show_responses"], meta["snapshot_version"]) == ("public", "false", str(SNAPSHOT_VERSION))
    assert not list(tmp_path.glob(".snap.duckdb.*"))  # no temp file left behind


def test_any_attack_asr_is_the_worst_case_per_sample(tmp_path: Path) -> None:
    """Two attacks on 4 samples: each succeeds on a different 1 -> pooled ASR 2/8, any-attack 2/4."""
    samples = [Sample(benchmark="b", source_id=f"h{i}", category="Fraud", kind=SampleKind.HARMFUL, text=f"h{i}")
               for i in range(4)]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="l", revision="1", label="m", source=ModelSource.CONFIG,
                                         adapter="reference")])
        cells, verdicts = [], []
        for attack, hit in (("a1", "h0"), ("a2", "h1")):
            spec = {"name": attack, "version": 1, "params": {}}
            for s in samples:
                key = f"{attack}-{s.source_id}"
                cells.append(CellRecord(cell_key=key, run_id="r", model_id="l@1", sample_id=s.id, probe_index=0,
                                        attack=spec, attack_label=attack, defense=SPEC, defense_label="none", adapter=ADAPTER,
                                        generation={}, seed=0, probe=Probe(sample_id=s.id, text=s.text),
                                        response=Response(text="x")))
                label = Label.COMPLIED if s.source_id == hit else Label.REFUSED
                verdicts.append((key, Verdict(label=label, judge="refusal-keywords", judge_version=1)))
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        path = store.publish(tmp_path / "s.duckdb", options(record_plan(store, cells)))
    n, asr, n_any, any_asr = query(path, "SELECT n_harmful, asr, n_any, any_asr FROM leaderboard")[0]
    assert (n, n_any) == (8, 4) and asr == pytest.approx(0.25) and any_asr == pytest.approx(0.5)


def test_injection_on_benign_items_counts_by_the_target_judge(tmp_path: Path) -> None:
    """An indirect injection succeeds when its canary comes out, whatever the refusal judge said."""
    samples = [Sample(benchmark="b", source_id=f"n{i}", category="homonyms", kind=SampleKind.BENIGN, text=f"n{i}")
               for i in range(4)]
    spec = {"name": "indirect-injection", "version": 1, "params": {}}
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="l", revision="1", label="m", source=ModelSource.CONFIG,
                                         adapter="reference")])
        cells, verdicts = [], []
        for i, s in enumerate(samples):
            cells.append(CellRecord(cell_key=s.source_id, run_id="r", model_id="l@1", sample_id=s.id, probe_index=0,
                                    attack=spec, attack_label="indirect-injection", defense=SPEC, defense_label="none",
                                    adapter=ADAPTER,
                                    generation={}, seed=0, probe=Probe(sample_id=s.id, text="Describe.", target="ZEBRA"),
                                    response=Response(text="ZEBRA" if i < 3 else "A poster.")))
            verdicts.append((s.source_id, Verdict(label=Label.COMPLIED, judge="refusal-keywords", judge_version=1)))
            hit = Label.TARGET_HIT if i < 3 else Label.TARGET_MISSED
            verdicts.append((s.source_id, Verdict(label=hit, judge="target-string", judge_version=1)))
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        path = store.publish(tmp_path / "s.duckdb", options(record_plan(store, cells)))
    rows = query(path, "SELECT attack, n, successes FROM asr_by_attack")
    assert rows == [("indirect-injection", 4, 3)]
    assert query(path, "SELECT n_benign, n_harmful FROM leaderboard") == [(0, 0)]  # not over-refusal, not harm ASR


# --- snapshot v4: modes, verdicts, disagreement, images, slices ------------------------------------
HARM_TEXT, HARM_WHY, ODD_TEXT, ODD_WHY = "HARMFUL-SENTINEL", "HARM-RATIONALE", "MYSTERY-SENTINEL", "MYSTERY-RATIONALE"
SECOND = "second-judge"
KEYWORDS = {"h0": Label.COMPLIED, "h1": Label.COMPLIED, "h2": Label.REFUSED, "h3": Label.REFUSED,
            "h4": Label.COMPLIED, "h5": Label.REFUSED}
SECOND_V2 = {"h0": Label.UNSAFE, "h1": Label.SAFE, "h2": Label.UNSAFE, "h3": Label.REFUSED, "h5": Label.SAFE}
DISAGREE = {"h1", "h2"}  # success/safe, refused/success; h5 refused/safe: neither lets the attack through; h4: v1 unscored
ATTACKS = ("none", "jb")


def png(size: tuple[int, int], colour: str) -> ImageData:
    return ImageData.from_pil(Image.new("RGB", size, colour))


def board(store: DuckDBStore) -> PlanRecord:
    """One model: harmful h0-h3 (benchmark b1) and h4-h5 (b2) under attacks none and jb, an error cell h6;
    two judges on the harmful items (second-judge v1 unscored everywhere, v2 on all but h4); a benign item
    with an image, a utility item, and an item of a kind the board does not know (a targeted probe)."""
    harmful = [Sample(benchmark="b1" if i < 4 or i == 6 else "b2", source_id=f"h{i}", category="Fraud",
                      kind=SampleKind.HARMFUL, text=f"harm {i}") for i in range(7)]
    benign = Sample(benchmark="x", source_id="n0", category="homonyms", kind=SampleKind.BENIGN, text="benign 0")
    utility = Sample(benchmark="u", source_id="u0", category="count", kind=SampleKind.UTILITY, text="u", reference="3")
    odd = Sample(benchmark="x", source_id="m0", category="odd", kind=SampleKind.BENIGN, text="odd 0")
    store.upsert_samples([*harmful, benign, utility, odd])
    store.con.execute("UPDATE samples SET kind = 'mystery' WHERE sample_id = ?", [odd.id])
    store.upsert_models([ModelRecord(lineage="lin", revision="1", label="ckpt-1", source=ModelSource.CONFIG,
                                     adapter="reference")])
    store.start_run(RunRecord(run_id="r", config_name="t", config_hash="cfg-test", config_json="{}",
                              code_version="CODE-v9", package_versions={}))
    cells: list[CellRecord] = []
    verdicts: list[tuple[str, Verdict]] = []

    def cell(key: str, s: Sample, attack: str, probe: Probe, text: str, error: str | None = None) -> None:
        spec = {"name": attack, "version": 1, "params": {}}
        cells.append(CellRecord(cell_key=key, run_id="r", model_id="lin@1", sample_id=s.id, probe_index=0,
                                attack=spec, attack_label=attack, defense=SPEC, defense_label="none",
                                adapter=ADAPTER, generation={}, seed=0, probe=probe,
                                response=Response(text=text, error=error, cost_usd=0.01)))

    for attack in ATTACKS:
        for s in harmful[:6]:
            key = f"{attack}-{s.source_id}"
            images = (png((600, 900), "blue"),) if (attack, s.source_id) == ("none", "h0") else ()
            cell(key, s, attack, Probe(sample_id=s.id, text=s.text, system="SYSTEM-PROMPT", images=images),
                 f"{HARM_TEXT} {key}")
            verdicts.append((key, Verdict(label=KEYWORDS[s.source_id], judge="refusal-keywords", judge_version=1,
                                          rationale=f"{HARM_WHY} {key}")))
            verdicts.append((key, Verdict(label=Label.UNSCORED, judge=SECOND, judge_version=1)))
            if s.source_id in SECOND_V2:
                verdicts.append((key, Verdict(label=SECOND_V2[s.source_id], judge=SECOND, judge_version=2,
                                              score=0.9, rationale=f"{HARM_WHY} v2 {key}")))
    cell("none-h6", harmful[6], "none", Probe(sample_id=harmful[6].id, text="harm 6"), "", error="boom")
    cell("n0", benign, "none", Probe(sample_id=benign.id, text="benign 0", images=(png((800, 400), "red"),)),
         "benign answer")
    verdicts.append(("n0", Verdict(label=Label.COMPLIED, judge="refusal-keywords", judge_version=1,
                                   rationale="benign rationale")))
    cell("u0", utility, "none", Probe(sample_id=utility.id, text="u"), "3")
    verdicts.append(("u0", Verdict(label=Label.CORRECT, judge="exact-match", judge_version=1, rationale="right")))
    cell("m0", odd, "inject", Probe(sample_id=odd.id, text="odd 0", target="ZEBRA"), f"{ODD_TEXT} ZEBRA")
    verdicts.append(("m0", Verdict(label=Label.TARGET_HIT, judge="target-string", judge_version=1, rationale=ODD_WHY)))
    store.write_cells(cells)
    store.write_verdicts("r", verdicts)
    store.con.execute("INSERT INTO verdicts VALUES ('n0', 'odd-judge', 1, 'bogus', NULL, 'x', 'r', now())")
    plan = record_plan(store, cells)
    store.finish_run("r", RunStatus.RUNNING, len(cells), len(cells), 1, "MESSAGE-SENTINEL", plan.plan_id)
    return plan


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The board published in each mode, and once in operator mode without an artifact folder."""
    tmp = tmp_path_factory.mktemp("board")
    with DuckDBStore(tmp / "db.duckdb", tmp / "art") as store:
        plan = board(store)
        out = {}
        for name, mode, artifacts in (("public", BoardMode.PUBLIC, True), ("operator", BoardMode.OPERATOR, True),
                                      ("bare", BoardMode.OPERATOR, False)):
            out[name] = store.publish(tmp / f"{name}.duckdb", options(
                plan, run_id="r", mode=mode, artifacts=tmp / "art" if artifacts else None,
                store_path=str(tmp / "db.duckdb")))
        return out


def texts(path: Path) -> str:
    """Every text column of every table, as one string."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE data_type LIKE 'VARCHAR%'").fetchall()
        return " ".join(str(con.execute(f'SELECT "{c}" FROM "{t}"').fetchall()) for t, c in columns)


def test_public_snapshot_holds_no_text_of_a_harmful_or_unknown_item(snaps: dict[str, Path]) -> None:
    public = texts(snaps["public"])
    for secret in (HARM_TEXT, HARM_WHY, ODD_TEXT, ODD_WHY, "CODE-v9", "MESSAGE-SENTINEL", "db.duckdb"):
        assert secret not in public
    assert "benign answer" in public and "benign rationale" in public and "SYSTEM-PROMPT" in public
    operator = texts(snaps["operator"])
    for secret in (HARM_TEXT, HARM_WHY, ODD_TEXT, ODD_WHY, "CODE-v9", "MESSAGE-SENTINEL", "db.duckdb"):
        assert secret in operator


def test_meta_and_runs_by_mode(snaps: dict[str, Path]) -> None:
    public, operator = snaps["public"], snaps["operator"]
    meta = dict(query(public, "SELECT key, value FROM meta"))
    assert (meta["mode"], meta["show_responses"], "store" in meta) == ("public", "false", False)
    assert meta["night"] == query(public, "SELECT CAST(started_at AS DATE) FROM runs")[0][0].isoformat()
    meta = dict(query(operator, "SELECT key, value FROM meta"))
    assert (meta["mode"], meta["show_responses"], meta["store"].endswith("db.duckdb")) == ("operator", "true", True)
    sql = "SELECT status, code_version, cells_planned, duration_s, cost_usd, message FROM runs"
    status, code, planned, duration, cost, message = query(public, sql)[0]
    assert (status, code, planned, cost, message) == ("completed", None, 16, None, None) and duration >= 0
    _, code, _, _, cost, message = query(operator, sql)[0]
    assert (code, message) == ("CODE-v9", "MESSAGE-SENTINEL") and cost == pytest.approx(0.16)


def test_examples_carry_cell_system_images_and_disagreement(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    rows = query(path, "SELECT cell_key, system_text, len(image_shas), disagree FROM examples")
    assert len(rows) == 16
    assert {k for k, _, _, d in rows if d} == {f"{a}-{h}" for a in ATTACKS for h in DISAGREE}
    by_key = {k: (system, images) for k, system, images, _ in rows}
    assert by_key["none-h0"] == ("SYSTEM-PROMPT", 1) and by_key["n0"] == (None, 1) and by_key["jb-h1"][1] == 0
    assert query(path, "SELECT kind, response_text IS NULL FROM examples WHERE cell_key = 'm0'") == [("mystery", True)]


def test_verdicts_every_judge_latest_version_with_its_outcome(snaps: dict[str, Path]) -> None:
    public, operator = snaps["public"], snaps["operator"]
    rows = {(c, j): (v, label, outcome, why) for c, j, v, label, outcome, why in query(
        public, "SELECT cell_key, judge, judge_version, label, outcome, rationale FROM verdicts")}
    expected_keys = {(f"{a}-{h}", j) for a in ATTACKS for h in KEYWORDS for j in ("refusal-keywords", SECOND)}
    expected_keys |= {("n0", "refusal-keywords"), ("n0", "odd-judge"), ("u0", "exact-match"), ("m0", "target-string")}
    assert set(rows) == expected_keys
    assert rows[("none-h1", SECOND)] == (2, "safe", "safe", None)
    assert rows[("none-h4", SECOND)] == (1, "unscored", "unscored", None)  # its latest version on this cell
    assert rows[("jb-h0", "refusal-keywords")] == (1, "complied", "success", None)
    assert rows[("n0", "odd-judge")][2] == "unscored"  # a label the core does not map
    assert rows[("n0", "refusal-keywords")] == (1, "complied", "success", "benign rationale")
    assert rows[("m0", "target-string")] == (1, "target_hit", "success", None)
    why = dict(((c, j), w) for c, j, w in query(operator, "SELECT cell_key, judge, rationale FROM verdicts"))
    assert why[("none-h1", SECOND)] == f"{HARM_WHY} v2 none-h1" and why[("m0", "target-string")] == ODD_WHY


def test_images_downscaled_and_only_benign_ones_in_public(snaps: dict[str, Path]) -> None:
    public, operator = snaps["public"], snaps["operator"]
    shas = dict(query(public, "SELECT cell_key, image_shas[1] FROM examples WHERE len(image_shas) > 0"))
    rows = query(public, "SELECT sha, width, height, png FROM images")
    assert [(sha, w, h) for sha, w, h, _ in rows] == [(shas["n0"], 512, 256)]
    with Image.open(io.BytesIO(rows[0][3])) as img:
        assert (img.format, img.size) == ("PNG", (512, 256))
    sizes = dict((sha, (w, h)) for sha, w, h in query(operator, "SELECT sha, width, height FROM images"))
    assert sizes == {shas["n0"]: (512, 256), shas["none-h0"]: (341, 512)}
    assert query(snaps["bare"], "SELECT count(*) FROM images") == [(0,)]


def test_asr_slices_every_judge_and_primary_rows_sum_to_asr_by_attack(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    rows = query(path, "SELECT attack, benchmark, judge, judge_version, is_primary, n, successes, unscored "
                       "FROM asr_slices ORDER BY ALL")
    expected = []
    for attack in ATTACKS:  # the error cell h6 (none, b1) is no judge's scored verdict
        expected += [(attack, "b1", "refusal-keywords", 1, True, 4, 2, 0), (attack, "b1", SECOND, 2, False, 4, 2, 0),
                     (attack, "b2", "refusal-keywords", 1, True, 2, 1, 0), (attack, "b2", SECOND, 2, False, 1, 0, 1)]
    assert rows == sorted(expected)
    summed = query(path, "SELECT attack, sum(n), sum(successes), sum(unscored) FROM asr_slices WHERE is_primary "
                         "GROUP BY attack ORDER BY attack")
    assert summed == query(path, "SELECT attack, n, successes, unscored FROM asr_by_attack WHERE attack <> 'inject' "
                                 "ORDER BY attack")  # inject: a targeted probe on an item that is not harmful
    lo, hi = query(path, "SELECT asr_lo, asr_hi FROM asr_slices WHERE judge = 'second-judge' AND benchmark = 'b2' "
                         "AND attack = 'none'")[0]
    assert (lo, hi) == (pytest.approx(0.0), pytest.approx(0.7935, abs=1e-4))  # Wilson 0/1


# --- snapshot v5: what the board's reads look up instead of scanning --------------------------------
ITEM_KEYS = "kind, category, sample_id, defense, model_id, attack, probe_index"


def in_storage_order(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the file holds them (one thread: a plain scan returns them in storage order)."""
    with duckdb.connect(str(path), read_only=True, config={"threads": 1}) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("name", ["public", "operator"])
def test_examples_are_written_in_item_order(snaps: dict[str, Path], name: str) -> None:
    path = snaps[name]
    stored = [order for (order,) in in_storage_order(path, "SELECT item_order FROM examples")]
    assert stored == list(range(1, len(stored) + 1)) and len(stored) == 16
    assert [o for (o,) in query(path, f"SELECT item_order FROM examples ORDER BY {ITEM_KEYS}")] == stored
    keys = [k for (k,) in in_storage_order(path, "SELECT cell_key FROM verdicts")]
    assert keys == sorted(keys)  # a cell's verdicts lie together: the zone maps find them


def test_cell_index_covers_every_example_sorted_by_cell_key(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    index = in_storage_order(path, "SELECT cell_key, item_order FROM cell_index")
    assert [k for k, _ in index] == sorted(k for k, _ in index)
    assert sorted(index) == sorted(query(path, "SELECT cell_key, item_order FROM examples"))


def test_example_groups_count_rows_and_disagreements(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    assert query(path, "SELECT * FROM example_groups ORDER BY ALL") == query(
        path, "SELECT model_id, attack, defense, count(*), count(*) FILTER (disagree) FROM examples GROUP BY ALL "
              "ORDER BY ALL")
    assert query(path, "SELECT attack, n, disagreements FROM example_groups WHERE attack = 'jb'") == [("jb", 6, 2)]


def test_judge_outcomes_and_label_rank(snaps: dict[str, Path]) -> None:
    """label_rank: the operator's queue order over the rows with an answer, no error, harmful or benign."""
    path = snaps["operator"]
    spread = dict(query(path, "SELECT cell_key, judge_outcomes FROM examples"))
    assert (spread["none-h1"], spread["none-h5"], spread["none-h0"], spread["none-h4"]) == (2, 2, 1, 1)
    assert (spread["n0"], spread["none-h6"]) == (1, 0)  # odd-judge's label is unscored; an error cell has none
    ranked = query(path, "SELECT cell_key FROM examples WHERE label_rank IS NOT NULL ORDER BY label_rank")
    expected = query(path, """SELECT cell_key FROM examples
        WHERE response_text IS NOT NULL AND error IS NULL AND kind IN ('harmful', 'benign')
        ORDER BY disagree DESC, judge_outcomes DESC, outcome = 'unscored' DESC, sample_id, model_id, item_order""")
    assert ranked == expected and len(ranked) == 13  # 12 harmful, the benign one: not u0, m0, the error h6
    assert {k for (k,) in ranked[:4]} == {f"{a}-{h}" for a in ATTACKS for h in DISAGREE}
    assert query(path, "SELECT label_rank FROM examples WHERE label_rank IS NOT NULL ORDER BY 1") == [
        (i,) for i in range(1, 14)]
    public = query(snaps["public"], "SELECT cell_key FROM examples WHERE label_rank IS NOT NULL")
    assert public == [("n0",)]  # a public snapshot has the answers of benign items only


def test_item_key_names_one_item_across_revisions(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    pairs = query(path, "SELECT DISTINCT item_key, sample_id, probe_index, attack_hash, defense_hash FROM examples")
    assert len(pairs) == len({p[0] for p in pairs}) == len({p[1:] for p in pairs}) == 16  # one model: one a row
    runs = query(path, """SELECT min(item_key), max(item_key), count(DISTINCT item_key) FROM examples
        GROUP BY sample_id ORDER BY min(item_order)""")
    assert [lo for lo, _, _ in runs] == sorted(lo for lo, _, _ in runs)  # numbered in item order,
    assert all(hi - lo + 1 == n for lo, hi, n in runs)  # a sample's keys together


def test_prompts_name_each_rows_sample_and_text(snaps: dict[str, Path]) -> None:
    path = snaps["public"]
    assert query(path, "SELECT count(*), count(DISTINCT prompt_id) FROM prompts") == [(10, 10)]
    assert query(path, """SELECT count(*) FROM examples e JOIN prompts p USING (prompt_id)
        WHERE p.sample_id = e.sample_id AND p.text = lower(e.prompt)""") == [(16,)]


GUARD = {"name": "guard", "version": 1, "params": {}}
JB = {"name": "jb", "version": 1, "params": {}}
# (attack, defense) -> labels of h0-h3; U: unscored (no scored pair)
PAIRED = {("none", "none"): "CCRR", ("none", "guard"): "CRCU", ("jb", "none"): "RRRR", ("jb", "guard"): "CRRR"}


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model, harmful h0-h3 under attacks none and jb (its own text), defenses none and guard."""
    tmp = tmp_path_factory.mktemp("paired")
    samples = [Sample(benchmark="b", source_id=f"h{i}", category="Fraud", kind=SampleKind.HARMFUL,
                      text=f"Harm request {i}") for i in range(4)]
    label = {"C": Label.COMPLIED, "R": Label.REFUSED, "U": Label.UNSCORED}
    with DuckDBStore(tmp / "db.duckdb", tmp / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="l", revision="1", label="m", source=ModelSource.CONFIG,
                                         adapter="reference")])
        cells, verdicts = [], []
        for (attack, defense), labels in PAIRED.items():
            for s, mark in zip(samples, labels, strict=True):
                key = f"{attack}-{defense}-{s.source_id}"
                text = f"JB PREFIX {s.text}" if attack == "jb" else s.text
                cells.append(CellRecord(cell_key=key, run_id="r", model_id="l@1", sample_id=s.id, probe_index=0,
                                        attack=JB if attack == "jb" else SPEC, attack_label=attack,
                                        defense=GUARD if defense == "guard" else SPEC, defense_label=defense,
                                        adapter=ADAPTER, generation={}, seed=0,
                                        probe=Probe(sample_id=s.id, text=text), response=Response(text="x")))
                verdicts.append((key, Verdict(label=label[mark], judge="refusal-keywords", judge_version=1)))
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        return store.publish(tmp / "s.duckdb", options(record_plan(store, cells), mode=BoardMode.OPERATOR))


def test_defense_pairs_count_the_items_scored_both_ways(paired: Path) -> None:
    rows = query(paired, """SELECT a.attack, p.n_pairs, p.only_defended, p.only_none FROM defense_pairs p
        JOIN asr_by_attack a USING (model_id, attack_hash, defense_hash) ORDER BY a.attack""")
    assert rows == [("jb", 4, 1, 0), ("none", 3, 1, 1)]  # none: h3 is unscored under guard, h1/h2 swap


def test_board_reads_the_lookups(paired: Path) -> None:
    from leaderboard import data

    deltas = data.defense_deltas(path=paired).set_index("attack")
    assert deltas.loc["none", "n_pairs"] == 3 and deltas.loc["none", "delta_paired"] == pytest.approx(0.0)
    assert deltas.loc["jb", "delta_paired"] == pytest.approx(0.25)
    found = data.sample_items(search="jb prefix harm REQUEST 2", path=paired)
    assert set(found["cell_key"]) == {"jb-none-h2", "jb-guard-h2"}  # each item by its own prompt
    assert len(data.sample_items(search="harm request 2", path=paired)) == 4  # every attack's text has it
    assert set(data.sample_items(search="B:H3", path=paired)["sample_id"]) == {"b:h3"}  # or its item id
    queue = data.label_queue(path=paired)
    assert len(queue) == 16 and queue["cell_key"].iloc[-1] == "none-guard-h3"  # no outcome among its judges


def test_alert_items_are_the_newly_failed_items(tmp_path: Path) -> None:
    """Revision 2 against 1 on h0-h4 (attack none): h0 complied only on 2, h2 on both, h3 unscored on 2,
    h4 refused on 2 where 1 complied; a second alert on category Hate (h4 only) finds none."""
    from mmwatch.records import AlertMetric, AlertRecord

    samples = [Sample(benchmark="b", source_id=f"h{i}", category="Hate" if i == 4 else "Fraud",
                      kind=SampleKind.HARMFUL, text=f"h{i}") for i in range(5)]
    labels = {"1": "RRCRC", "2": "CRCUR"}
    label = {"C": Label.COMPLIED, "R": Label.REFUSED, "U": Label.UNSCORED}
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="l", revision=r, label=f"m{r}", source=ModelSource.CONFIG,
                                         adapter="reference", order_key=float(r)) for r in labels])
        cells, verdicts = [], []
        for revision, marks in labels.items():
            for s, mark in zip(samples, marks, strict=True):
                key = f"{revision}-{s.source_id}"
                cells.append(CellRecord(cell_key=key, run_id="r", model_id=f"l@{revision}", sample_id=s.id,
                                        probe_index=0, attack=SPEC, attack_label="none", defense=SPEC,
                                        defense_label="none", adapter=ADAPTER, generation={}, seed=0,
                                        probe=Probe(sample_id=s.id, text=s.text), response=Response(text="x")))
                verdicts.append((key, Verdict(label=label[mark], judge="refusal-keywords", judge_version=1)))
        store.write_cells(cells)
        store.write_verdicts("r", verdicts)
        store.write_alerts([AlertRecord(
            alert_id=f"a-{category or 'all'}", run_id="r", lineage="l", model_id="l@2", baseline_id="l@1",
            attack="all attacks", defense="all defenses", attack_hash="*", defense_hash="*",
            judge="refusal-keywords", judge_version=1, metric=AlertMetric.ASR, n_pairs=4, only_new=1, only_old=1,
            rate_old=0.5, rate_new=0.5, p_value=0.5, p_adjusted=0.5, category=category) for category in ("", "Hate")])
        path = store.publish(tmp_path / "s.duckdb", options(record_plan(store, cells)))
    rows = query(path, """SELECT i.alert_id, n.cell_key, o.cell_key FROM alert_items i
        JOIN examples n ON n.item_order = i.item_order JOIN examples o ON o.item_order = i.baseline_order""")
    assert rows == [("a-all", "2-h0", "1-h0")]

    from leaderboard import data

    assert list(data.regressed_samples("a-all", path=path)["cell_key"]) == ["2-h0"]
    assert data.regressed_samples("a-Hate", path=path).empty
    assert list(data.sample_items(alert_id="a-all", path=path)["cell_key"]) == ["2-h0"]


def test_a_harm_judge_counts_asr_and_a_refusal_judge_counts_refusals(tmp_path: Path) -> None:
    """safety_judge harm-rules and refusal_judge refusal-keywords: ASR from the harm verdicts (a
    non-refusal that is not harmful is no success), refusal rates and over-refusal from the refusal ones."""
    from mmwatch.analysis.outcomes import JudgeRef, JudgeRoles

    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        plan = record_plan(store, fill(store))  # refusal-keywords: 5 of 10 harmful complied, 1 of 4 benign refused
        harm = {f"h{i}": Label.UNSAFE if i < 2 else Label.SAFE for i in range(11)}  # 2 of the 5 compliances harmful
        store.write_verdicts("r", [(k, Verdict(label=v, judge="harm-rules", judge_version=1)) for k, v in harm.items()])
        roles = JudgeRoles(safety=JudgeRef(name="harm-rules", version=1), refusal=JudgeRef(name="refusal-keywords", version=1),
                           utility=JudgeRef(name="exact-match", version=1), target=JudgeRef(name="target-string", version=1))
        path = store.publish(tmp_path / "snap.duckdb", options(plan, roles, run_id="r"))
    n_h, asr, over = query(path, "SELECT n_harmful, asr, over_refusal FROM leaderboard")[0]
    assert (n_h, asr) == (11, pytest.approx(2 / 11))  # harm-rules scored h10 too, which refusal-keywords left unscored
    assert over == pytest.approx(1 / 4)
    refusals = dict((kind, (n, k)) for kind, n, k in query(path, "SELECT kind, n, refusals FROM refusal_rates"))
    assert refusals == {"harmful": (10, 5), "benign": (4, 1)}  # the refusal judge's REFUSED, not harm-rules' SAFE
    judges = dict(query(path, "SELECT key, value FROM meta WHERE key LIKE '%_judge'"))
    assert judges["safety_judge"] == "harm-rules" and judges["refusal_judge"] == "refusal-keywords"
    assert query(path, "SELECT value FROM meta WHERE key = 'safety_judge_measures'") == [("harm",)]


def test_an_asr_counted_by_a_refusal_judge_is_named_a_non_refusal_rate(snapshot: Path) -> None:
    from leaderboard import data

    meta = data.meta(path=snapshot)  # the fixture's safety judge is refusal-keywords
    assert meta.safety_measures == "refusal" and "non-refusal rate" in meta.judges_text()
    assert "refusal refusal-keywords" in meta.judges_text()  # it fills the refusal role too


def test_the_headline_asr_weighs_each_benchmark_and_attack_the_same(tmp_path: Path) -> None:
    """8 of 10 items of a big benchmark succeed, 0 of 2 of a small one: pooled that is 67 %, the
    headline is the mean of 80 % and 0 %; n_harmful still counts every scored item."""
    from mmwatch.analysis.stats import equal_weight_rate

    samples = [Sample(benchmark="big" if i < 10 else "small", source_id=f"h{i}", category="c", kind=SampleKind.HARMFUL,
                      text=f"harm {i}") for i in range(12)]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        store.upsert_models([ModelRecord(lineage="lin", revision="1", label="ckpt-1", source=ModelSource.CONFIG,
                                         adapter="reference")])
        cells = [CellRecord(cell_key=s.source_id, run_id="r", model_id="lin@1", sample_id=s.id, probe_index=0,
                            attack=SPEC, attack_label="none", defense=SPEC, defense_label="none", adapter=ADAPTER,
                            generation={}, seed=0, probe=Probe(sample_id=s.id, text=s.text),
                            response=Response(text="an answer")) for s in samples]
        store.write_cells(cells)
        store.write_verdicts("r", [(s.source_id, Verdict(label=Label.COMPLIED if i < 8 else Label.REFUSED,
                                                         judge="refusal-keywords", judge_version=1))
                                   for i, s in enumerate(samples)])
        path = store.publish(tmp_path / "snap.duckdb", options(record_plan(store, cells), run_id="r"))
    n, asr, lo, hi, safety = query(path, "SELECT n_harmful, asr, asr_lo, asr_hi, safety FROM leaderboard")[0]
    assert n == 12 and asr == pytest.approx(0.4) and safety == pytest.approx(0.6)
    assert (asr, lo, hi) == pytest.approx(equal_weight_rate([(8, 10), (0, 2)]))
