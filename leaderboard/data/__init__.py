"""Every query the leaderboard makes, against the published snapshot only (storage/snapshot.sql).

Pages, the terminal table and the static site never query: they call these functions, so the
snapshot schema is read in one place. source: opening the file, meta, display names; rates: the
ranking, frontier and attack matrix; scores: each benchmark's own numbers; timeline: revisions,
nights, changes, alerts, runs; items: per-item results; formats: how a rate reads; export: whole
tables to files (the one COPY).
"""

from leaderboard.data.export import ExportedTable, ExportFormat, all_verdicts, export_tables, published_images
from leaderboard.data.formats import format_interval, format_points, format_rate, intervals
from leaderboard.data.items import (
    SampleView,
    example_index,
    examples,
    image,
    label_queue,
    sample_detail,
    sample_items,
    verdicts,
)
from leaderboard.data.rates import (
    asr_by_attack,
    asr_by_category,
    attacks,
    benchmarks,
    defense_deltas,
    defenses,
    frontier,
    judges,
    pareto_front,
    ranking,
    refusal_rates,
)
from leaderboard.data.scores import benchmark_scores
from leaderboard.data.source import (
    DEFAULT_SNAPSHOT,
    SNAPSHOT_ENV,
    Meta,
    SnapshotError,
    SnapshotMissing,
    meta,
    opened,
    query,
    snapshot_path,
)
from leaderboard.data.timeline import (
    Changes,
    alerts,
    changes,
    history,
    lineages,
    night_alerts,
    nights,
    regressed_samples,
    runs,
    trend,
    trend_nights,
)

__all__ = [
    "DEFAULT_SNAPSHOT", "SNAPSHOT_ENV", "Changes", "ExportFormat", "ExportedTable", "Meta", "SampleView",
    "SnapshotError", "SnapshotMissing", "alerts", "all_verdicts", "asr_by_attack", "asr_by_category", "attacks",
    "benchmark_scores", "benchmarks", "changes", "defense_deltas", "defenses", "example_index", "examples", "export_tables",
    "format_interval", "format_points", "format_rate", "frontier", "history", "image", "intervals", "judges",
    "label_queue", "lineages", "meta", "night_alerts", "nights", "opened", "pareto_front", "published_images", "query",
    "ranking", "refusal_rates", "regressed_samples", "runs", "sample_detail", "sample_items", "snapshot_path",
    "trend", "trend_nights", "verdicts",
]
