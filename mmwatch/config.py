"""Run configuration: YAML validated by frozen pydantic models, checked before any work starts.

A bad config raises ConfigError naming the file, the field and what is allowed. Relative paths
are taken from the directory the command runs in, as a shell user expects.
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from mmwatch import plugins
from mmwatch.plugins import Measure
from mmwatch.registry import PluginParamsError, Registry, UnknownPluginError
from mmwatch.analysis.outcomes import ROLE_KINDS, BenchmarkJudge, JudgeRef, JudgeRole, JudgeRoles
from mmwatch.records import BoardMode
from mmwatch.types import GenerationParams, InputLimits, stable_hash


class ConfigError(ValueError):
    """A config that cannot run; the message names the file, the field and the allowed values."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PluginRef(_Frozen):
    """A plugin by registry name plus the arguments its factory takes."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class BenchmarkRef(PluginRef):
    limit: int | None = Field(default=None, ge=1, description="take only the first N samples")
    safety_judge: str | None = Field(default=None, description="this benchmark's ASR by this judge instead of "
                                     "the run's safety_judge (HarmBench's by harmbench-cls, as its paper counts)")
    refusal_judge: str | None = Field(default=None, description="this benchmark's refusal rates by this judge")
    utility_judge: str | None = Field(default=None, description="this benchmark's utility by this judge (MM-Vet's "
                                      "open answers by mmvet-grader)")

    def sample_benchmark(self) -> str | None:
        """The benchmark name its samples carry: its `name` parameter where given, else the loader's
        own; None for a generic loader (a file format) left to name its samples after their file."""
        given = self.params.get("name")
        if isinstance(given, str) and given:
            return given
        try:
            generic = plugins.benchmarks.info(self.name).traits.generic
        except UnknownPluginError:
            return None  # reported where plugins are checked
        return None if generic else self.name

    def own_judge(self, role: JudgeRole) -> str | None:
        return {JudgeRole.SAFETY: self.safety_judge, JudgeRole.REFUSAL: self.refusal_judge,
                JudgeRole.UTILITY: self.utility_judge, JudgeRole.TARGET: None}[role]


# A benchmark's own judges, added after configs were in use: left out of the config hash while unset,
# so that a config that does not use them keeps its hash.
_LATER_FIELDS = ("refusal_judge", "safety_judge", "utility_judge")
# What a role's judge may measure: a rate is named by it (an ASR by a refusal judge is a non-refusal rate).
ROLE_MEASURES: dict[JudgeRole, frozenset[Measure]] = {
    JudgeRole.SAFETY: frozenset({Measure.HARM, Measure.REFUSAL, Measure.MIXED}),
    JudgeRole.REFUSAL: frozenset({Measure.REFUSAL, Measure.MIXED}),
    JudgeRole.UTILITY: frozenset({Measure.UTILITY, Measure.MIXED}),
    JudgeRole.TARGET: frozenset({Measure.TARGET, Measure.MIXED}),
}


class ModelConfig(_Frozen):
    """A model named in the config. `lineage` groups revisions that regressions compare."""

    lineage: str = Field(pattern=r"^[A-Za-z0-9_.\-/]+$")
    revision: str = "v1"
    label: str | None = Field(default=None, description="the name people read; default: the lineage's last "
                              "part (the board adds the revision where two revisions share a name)")
    adapter: str
    params: dict[str, Any] = Field(default_factory=dict)
    order: float | None = Field(default=None, description="position in the lineage; default: the "
                                "revision's trailing number (v2 -> 2), else 0")


class WatchBase(_Frozen):
    """A place where new model revisions appear. Every revision found joins `lineage`."""

    lineage: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-/]+$")
    adapter: str
    params: dict[str, Any] = Field(default_factory=dict, description="adapter params for every model found")
    allow_pickle: bool = Field(default=False, description="accept pickle (.bin/.pt) weights from this source")


class WatchFolder(WatchBase):
    """Checkpoint subfolders of `path` (the lineage defaults to the folder's name)."""

    source: Literal["folder"] = "folder"
    path: Path
    adapter: str = "hf"


class WatchHub(WatchBase):
    """New commits of listed Hugging Face repos, and new repos of listed authors matching `match`.

    The endpoint is `HF_ENDPOINT` (or `endpoint`), the token `HF_TOKEN` from the environment.
    """

    source: Literal["hf-hub"]
    repos: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    match: str = Field(default="*", description="glob on repo ids, for authors' repos")
    branch: str = "main"
    endpoint: str | None = None
    adapter: str = "hf"


class WatchEndpoint(WatchBase):
    """Model ids on an OpenAI-compatible `/v1/models` that match a glob (e.g. `gpt-4o-*`)."""

    source: Literal["openai-endpoint"]
    base_url: str
    match: str = "*"
    api_key_env: str = "OPENAI_API_KEY"
    adapter: str = "openai"


WatchSource = Annotated[WatchFolder | WatchHub | WatchEndpoint, Field(discriminator="source")]


class IntakeConfig(_Frozen):
    """Pulling checkpoints from strangers is running code from strangers: opt in per lineage."""

    trust_remote_code: tuple[str, ...] = Field(default=(), description="lineage globs allowed remote code")
    min_free_disk_gb: float = Field(default=10.0, ge=0, description="refuse a hub download with less free")

    def allows_remote_code(self, lineage: str) -> bool:
        return any(fnmatch.fnmatchcase(lineage, pattern) for pattern in self.trust_remote_code)


class DemoModel(_Frozen):
    """A tiny random checkpoint that `mmwatch demo` builds when it is missing."""

    path: Path
    arch: str = "llava"
    seed: int = 0


class StoreConfig(_Frozen):
    path: Path = Path("mmwatch.duckdb")
    artifacts: Path = Path("artifacts")
    snapshot: Path = Path("leaderboard.duckdb")
    results: str | None = Field(default=None, description="where work units write result shards: a folder or "
                                "any fsspec URL (s3://bucket/prefix); by default `results/` beside the store file")
    wait_s: float = Field(default=0.0, ge=0, description="how long a cycle waits for a store another cycle "
                          "holds before it gives up (exit code 4, with a run row saying so)")


    @property
    def results_location(self) -> str:
        return self.results if self.results is not None else str(self.path.parent / "results")


class Dispatch(StrEnum):
    LOCAL = "local"  # units run in this process: the embedded default, no server
    PREFECT = "prefect"  # units run as Prefect deployment runs on work pools by hardware


class WorkConfig(_Frozen):
    """How the new cells are split into work units and where the units run."""

    shard_size: int = Field(default=500, ge=1, description="cells per work unit (one model revision each)")
    max_attempts: int = Field(default=3, ge=1, description="error cells are retried on later cycles up to "
                              "this many attempts, then kept as errors with the reason")
    write_interval_s: float = Field(default=1.0, ge=0, description="a unit writes a result part at most this "
                                    "often (each holds at least generation.batch_size cells); a crash loses at "
                                    "most about this much work")
    dispatch: Dispatch = Dispatch.LOCAL
    deployments: dict[str, str] = Field(
        default_factory=lambda: {"gpu": "mmwatch-unit/gpu", "cpu": "mmwatch-unit/cpu"},
        description="work pool (hardware) -> the unit deployment that runs on it")
    unit_retries: int = Field(default=2, ge=0, description="re-dispatches of a unit whose run crashed or failed")
    heartbeat_s: float = Field(default=10.0, gt=0, description="how often a running unit says it is alive")
    unit_stale_s: float = Field(default=120.0, gt=0, description="a running unit silent for this long is taken "
                                "for lost (a dead worker) and dispatched again, up to unit_retries")
    unit_timeout_s: float = Field(default=6 * 3600, gt=0, description="how long a unit may run (from its start) before the orchestrator stops waiting")


class Correction(StrEnum):
    """How the night's p-values are adjusted for making many comparisons."""

    HOLM = "holm"  # family-wise: the chance of any false alert stays under alpha
    BH = "bh"  # Benjamini-Hochberg: the share of false alerts among those raised stays under alpha


class RegressionConfig(_Frozen):
    """When a revision counts as worse than a baseline of its lineage (mmwatch.alerts.watch)."""

    alpha: float = Field(default=0.01, gt=0, lt=1, description="error rate after the correction: at 0.01 about "
                         "1 night in 200 without any change raises an alert (benchmarks/alert_power.py)")
    min_effect: float = Field(default=0.10, ge=0, le=1, description="smallest change (in the worse "
                              "direction) that alerts, as a share: 0.10 = 10 points")
    min_pairs: int = Field(default=5, ge=1, description="fewer paired samples than this: no test")
    correction: Correction = Correction.HOLM
    baselines: dict[str, str] = Field(default_factory=dict, description="lineage -> pinned baseline "
                                      "revision; a lineage without one is compared with its best earlier revision")
    per_category: bool = Field(default=True, description="also compare ASR per harm category")


class CanaryConfig(_Frozen):
    """API models are re-tested every night on a fixed subset of their cells, because a provider can
    change the model behind an id at any time; a significant change against earlier nights alerts."""

    enabled: bool = True
    cells: int = Field(default=200, ge=10, le=10_000, description="cells per API model and night")
    seed: int = Field(default=0, description="chooses the subset; the same subset every night")


class AlertsConfig(_Frozen):
    """Where alerts are sent (each sink a plugin: webhook, slack, email, prefect-event) and how hard."""

    sinks: tuple[PluginRef, ...] = ()
    board_url: str | None = Field(default=None, description="the published board, for links in alerts")
    send_attempts: int = Field(default=3, ge=1, le=10, description="tries per sink and cycle before "
                               "the alerts wait for the next cycle")
    backoff_s: float = Field(default=0.5, ge=0, le=60, description="wait before the second try; doubles")


class ScheduleConfig(_Frozen):
    cron: str = "0 3 * * *"

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("cron needs 5 fields: minute hour day month weekday, e.g. '0 3 * * *'")
        return value


class LeaderboardConfig(_Frozen):
    mode: BoardMode = Field(default=BoardMode.PUBLIC, description="who `store.snapshot` is for: public (no "
                            "response or judge rationale of a harmful item, no run internals) or operator (all)")
    operator_snapshot: Path | None = Field(default=None, description="also publish an operator snapshot "
                                           "(everything, for the team) at this path")
    show_responses: bool = Field(default=False, description="publish raw responses to harmful items: "
                                 "true means mode operator (the older name of it)")
    title: str = "mmwatch safety leaderboard"

    @model_validator(mode="before")
    @classmethod
    def _show_responses_is_operator(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "show_responses" not in data:
            return data
        try:
            shown = TypeAdapter(bool).validate_python(data["show_responses"])
        except ValidationError:
            return data  # the field's own check names it
        if not shown:
            return data
        if str(data.get("mode", BoardMode.OPERATOR)) != BoardMode.OPERATOR.value:
            raise ValueError(f"show_responses: true means mode: operator, but mode is {data['mode']}: drop one")
        return {**data, "mode": BoardMode.OPERATOR}


class RunConfig(_Frozen):
    name: str = "mmwatch"
    store: StoreConfig = StoreConfig()
    models: tuple[ModelConfig, ...] = ()
    watch: tuple[WatchSource, ...] = ()
    intake: IntakeConfig = IntakeConfig()
    inputs: InputLimits = InputLimits()  # where benchmark images may come from, how large they may be
    demo_models: tuple[DemoModel, ...] = ()
    benchmarks: tuple[BenchmarkRef, ...] = Field(min_length=1)
    attacks: tuple[PluginRef, ...] = (PluginRef(name="none"),)
    defenses: tuple[PluginRef, ...] = (PluginRef(name="none"),)
    judges: tuple[PluginRef, ...] = Field(min_length=1)
    safety_judge: str = Field(default="refusal-keywords", description="scores harmful items: attack success")
    refusal_judge: str | None = Field(default=None, description="scores harmful and benign items: refusal rates "
                                      "and over-refusal (default: the safety judge, when it judges refusal)")
    utility_judge: str = Field(default="exact-match", description="scores utility items")
    target_judge: str = Field(default="target-string", description="scores probes whose attack wants a string")
    generation: GenerationParams = GenerationParams()
    seed: int = 0
    regression: RegressionConfig = RegressionConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    work: WorkConfig = WorkConfig()
    leaderboard: LeaderboardConfig = LeaderboardConfig()
    alerts: AlertsConfig = AlertsConfig()
    canary: CanaryConfig = CanaryConfig()
    secret_env: tuple[str, ...] = Field(default=(), description="more environment variables whose values are "
                                        "secrets (every api_key_env, *_TOKEN, *_PASSWORD... already are)")

    @model_validator(mode="before")
    @classmethod
    def _folder_is_the_default_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("watch"), list):
            data = {**data, "watch": [{"source": "folder", **w} if isinstance(w, dict) and "source" not in w else w
                                      for w in data["watch"]]}
        return data

    @model_validator(mode="after")
    def _remote_code_is_allow_listed(self) -> RunConfig:
        for i, model in enumerate(self.models):
            if model.params.get("trust_remote_code") and not self.intake.allows_remote_code(model.lineage):
                raise ValueError(f"models[{i}]: lineage {model.lineage!r} sets trust_remote_code but is not "
                                 "allow-listed in intake.trust_remote_code")
        for i, watch in enumerate(self.watch):
            if watch.params.get("trust_remote_code") and not self.intake.allows_remote_code(watch.lineage or ""):
                raise ValueError(f"watch[{i}]: trust_remote_code needs its lineage allow-listed in "
                                 "intake.trust_remote_code")
        return self

    @model_validator(mode="after")
    def _headline_judges_listed(self) -> RunConfig:
        listed = [j.name for j in self.judges]
        for role in ("safety_judge", "utility_judge", "refusal_judge"):
            name = getattr(self, role)
            if name is not None and name not in listed:
                raise ValueError(f"{role} {name!r} is not among judges (allowed: {', '.join(listed)})")
        owners: dict[tuple[str, JudgeRole], str | None] = {}
        for i, ref in enumerate(self.benchmarks):
            for role in (JudgeRole.SAFETY, JudgeRole.REFUSAL, JudgeRole.UTILITY):
                name = ref.own_judge(role)
                if name is not None and name not in listed:
                    raise ValueError(f"benchmarks[{i}].{role.value}_judge {name!r} is not among judges "
                                     f"(allowed: {', '.join(listed)})")
                named = ref.sample_benchmark()
                if name is not None and named is None:
                    raise ValueError(f"benchmarks[{i}].{role.value}_judge: give the {ref.name} loader a `name` "
                                     "param, the benchmark its samples carry, so that its judge finds them")
                if owners.setdefault((named or ref.name, role), name) != name:
                    raise ValueError(f"benchmarks[{i}].{role.value}_judge: {named} is listed again with "
                                     f"another {role.value} judge ({owners[named or ref.name, role]!r}); its items "
                                     "have one")
        if self.refusal_judge is None and _measures(self.safety_judge) is Measure.HARM:
            raise ValueError(f"safety_judge {self.safety_judge!r} judges harm, not refusal: name a refusal_judge "
                             "(e.g. refusal-rules) for refusal rates and over-refusal")
        return self

    @property
    def hash(self) -> str:
        dumped = self.model_dump(mode="json")
        _drop_unset_later(dumped)
        return stable_hash(dumped)

    def secret_env_names(self) -> list[str]:
        """Every environment variable the config reads a secret from: what must never be shown."""
        params = [m.params for m in self.models] + [w.params for w in self.watch] + [j.params for j in self.judges]
        named = [name for p in params for name in _key_env_names(p)]
        named += [w.api_key_env for w in self.watch if isinstance(w, WatchEndpoint)]
        named += ["OPENAI_API_KEY", "HF_TOKEN"] if self.models or self.watch else []
        return sorted(set(named) | set(self.secret_env))

    def role_judge(self, role: JudgeRole) -> str:
        return {JudgeRole.SAFETY: self.safety_judge, JudgeRole.REFUSAL: self.refusal_judge or self.safety_judge,
                JudgeRole.UTILITY: self.utility_judge, JudgeRole.TARGET: self.target_judge}[role]

    def benchmark_judges(self) -> list[tuple[str, JudgeRole, str]]:
        """(benchmark, role, judge) for every role a benchmark gives a judge of its own."""
        found = {(ref.sample_benchmark() or ref.name, role): ref.own_judge(role) for ref in self.benchmarks
                 for role in JudgeRole}
        return [(benchmark, role, name) for (benchmark, role), name in found.items() if name is not None]

    def loaders(self) -> dict[str, str]:
        """Benchmark as its samples name it -> its loader, where the two differ (`mmbench` named `mmbench-cn`):
        the publisher reads a benchmark's scoring rule from its loader."""
        named = {ref.sample_benchmark(): ref.name for ref in self.benchmarks}
        return {b: loader for b, loader in named.items() if b is not None and b != loader}

    def judge_roles(self) -> JudgeRoles:
        """Each role's judge at the version this code registers: the verdicts every number counts."""
        def ref(name: str) -> JudgeRef:
            return JudgeRef(name=name, version=plugins.judges.info(name).version)

        own = tuple(BenchmarkJudge(benchmark=b, role=role, judge=ref(name)) for b, role, name in self.benchmark_judges())
        return JudgeRoles.model_validate({**{role.value: ref(self.role_judge(role)) for role in JudgeRole},
                                          "by_benchmark": own})


def _drop_unset_later(dumped: dict[str, Any]) -> None:
    for ref in dumped.get("benchmarks", []):
        for name in _LATER_FIELDS:
            if ref.get(name) is None:
                ref.pop(name, None)


def _measures(judge: str) -> Measure | None:
    try:
        return plugins.judges.info(judge).traits.measures
    except UnknownPluginError:
        return None  # an unknown judge is reported where plugins are checked


def _key_env_names(value: Any) -> list[str]:
    """Every `api_key_env` inside plugin params, however deep (a judge's `judge_model.params`)."""
    if isinstance(value, dict):
        own = [str(value["api_key_env"])] if isinstance(value.get("api_key_env"), str) else []
        return own + [name for v in value.values() for name in _key_env_names(v)]
    if isinstance(value, list | tuple):
        return [name for v in value for name in _key_env_names(v)]
    return []


def _check_plugin(registry: Registry[Any, Any], ref_name: str, params: dict[str, Any], where: str) -> None:
    try:
        registry.check(ref_name, params)
    except UnknownPluginError as exc:
        raise ConfigError(f"{where}.name: {exc}") from None
    except PluginParamsError as exc:
        raise ConfigError(f"{where}.params: {exc}") from None


def _check_adapter(name: str, params: dict[str, Any], where: str, required: bool) -> None:
    try:
        info = plugins.adapters.check(name, params)
    except UnknownPluginError as exc:
        raise ConfigError(f"{where}.adapter: {exc}") from None
    except PluginParamsError as exc:
        raise ConfigError(f"{where}.params: {exc}") from None
    if required:
        missing = [p for p, default in info.parameters().items() if default is None and p not in params
                   and _is_required(info.factory, p)]
        if missing:
            raise ConfigError(f"{where}.params: adapter {name!r} needs {', '.join(missing)}")


def _is_required(factory: Any, name: str) -> bool:
    import inspect

    return inspect.signature(factory).parameters[name].default is inspect.Parameter.empty


def _check_roles(config: RunConfig) -> None:
    """Each role's judge scores what the role needs; a targeted attack needs its target judge listed."""
    listed = [j.name for j in config.judges]
    chosen = [(f"{role.value}_judge", role, config.role_judge(role)) for role in JudgeRole]
    chosen += [(f"benchmarks[{i}].{role.value}_judge", role, name) for i, ref in enumerate(config.benchmarks)
               for role in JudgeRole if (name := ref.own_judge(role)) is not None]
    for where, role, name in chosen:
        traits = plugins.judges.info(name).traits
        kinds = ROLE_KINDS[role]
        fits = traits.target_only if kinds is None else bool(kinds & traits.applies_to)
        if not fits:
            what = "probes with a target string" if kinds is None else " or ".join(sorted(k.value for k in kinds))
            raise ConfigError(f"{where}: {name!r} does not score {what}")
        if traits.measures not in ROLE_MEASURES[role]:
            allowed = ", ".join(sorted(m.value for m in ROLE_MEASURES[role]))
            raise ConfigError(f"{where}: {name!r} measures {traits.measures.value}, not what a {role.value} judge "
                              f"counts ({allowed})")
    targeted = [a.name for a in config.attacks if plugins.attacks.info(a.name).traits.targeted]
    if targeted and config.target_judge not in listed:
        raise ConfigError(f"target_judge: attack(s) {', '.join(targeted)} set target strings, so "
                          f"{config.target_judge!r} must be among judges (listed: {', '.join(listed)})")


def check_plugins(config: RunConfig) -> None:
    """Every plugin name and parameter must exist before a run starts."""
    for field_name, registry, refs in (
        ("benchmarks", plugins.benchmarks, config.benchmarks),
        ("attacks", plugins.attacks, config.attacks),
        ("defenses", plugins.defenses, config.defenses),
        ("judges", plugins.judges, config.judges),
        ("alerts.sinks", plugins.sinks, config.alerts.sinks),
    ):
        for i, ref in enumerate(refs):
            _check_plugin(registry, ref.name, ref.params, f"{field_name}[{i}]")
    for i, model in enumerate(config.models):
        _check_adapter(model.adapter, model.params, f"models[{i}]", required=True)
    for i, watch in enumerate(config.watch):  # the source adds what it finds (model, path, base_url)
        _check_adapter(watch.adapter, watch.params, f"watch[{i}]", required=False)
    try:
        _check_roles(config)
    except UnknownPluginError as exc:
        raise ConfigError(f"target_judge: {exc}") from None


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = [f"invalid config {path}:"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        allowed = (err.get("ctx") or {}).get("expected")
        lines.append(f"  {field}: {msg}" + (f" (allowed: {allowed})" if allowed else ""))
    return "\n".join(lines)


def load_config(path: Path | str) -> RunConfig:
    """Read and fully validate a config file, plugin names and parameters included."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
                          ) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML in {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"invalid config {path}: the top level must be a mapping of fields")
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation(path, exc)) from None
    try:
        check_plugins(config)
    except ConfigError as exc:
        raise ConfigError(f"invalid config {path}: {exc}") from None
    return config
