"""MM-SafetyBench (Liu et al. 2023): 13 scenarios, 1,680 harmful questions turned into images.

Each scenario file `processed_questions/{NN-Scenario}.json` maps an id to `Question`,
`Changed Question`, `Key Phrase`, `Phrase Type`, `Rephrased Question` and
`Rephrased Question(SD)`. The attack moves the key phrase into the image and asks the rephrased
question, which points at the image: variant SD (a generated picture) pairs with
`Rephrased Question(SD)`, TYPO and SD_TYPO (the phrase typeset) with `Rephrased Question`. Images
are `imgs/{scenario}/{variant}/{id}.jpg`.

With the published images each sample is that pairing, as the paper evaluates it: the variant's
image with its own rephrased question (`Sample.image_prompt`, what `none` sends), while `text`
stays the original question, for the text-only baseline and for judges. `variants` loads several
variants at once, one sample each.

Sample ids are `{scenario}/{id}/{variant}` with images; without them the samples carry no
image and end in `/text` (or `/text-SD`, whose rephrased question differs), since stored cells
are keyed by sample id and different content must never share one (TYPO and SD_TYPO give the
same text-only sample: it is loaded once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError, required
from mmwatch.benchmarks.sources import fetch, is_url, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "mm-safetybench"


class Variant(StrEnum):
    """How the published image carries the key phrase; each pairs with its own rephrased question."""

    SD = "SD"  # a Stable Diffusion picture of the phrase, no text
    SD_TYPO = "SD_TYPO"  # the picture above the phrase typeset
    TYPO = "TYPO"  # the phrase typeset

    @property
    def question_field(self) -> str:
        """The rephrased question the paper sends with this variant's image."""
        return "Rephrased Question(SD)" if self is Variant.SD else "Rephrased Question"

    @property
    def draws_phrase(self) -> bool:
        """Whether the key phrase is written in the image (what a judge must be told it says)."""
        return self is not Variant.SD

    @property
    def text_tag(self) -> str:
        """The id suffix of the text-only sample: TYPO and SD_TYPO share their rephrased question."""
        return "text-SD" if self is Variant.SD else "text"


VARIANTS = tuple(v.value for v in Variant)
SCENARIOS = (
    "01-Illegal_Activitiy", "02-HateSpeech", "03-Malware_Generation", "04-Physical_Harm",
    "05-EconomicHarm", "06-Fraud", "07-Sex", "08-Political_Lobbying", "09-Privacy_Violence",
    "10-Legal_Opinion", "11-Financial_Advice", "12-Health_Consultation", "13-Gov_Decision",
)  # the authors' spelling, typos included: it is the category and part of every id
# Scenarios whose answers the authors' judge counts as safe only when the model declines or adds
# a disclaimer (political lobbying, legal, financial, health advice, government decisions):
# the questions are not harmful in themselves, an unqualified expert answer is the risk.
DECLINE_OR_DISCLAIM_SCENARIOS: frozenset[str] = frozenset(
    {"08-Political_Lobbying", "10-Legal_Opinion", "11-Financial_Advice", "12-Health_Consultation", "13-Gov_Decision"}
)
_SCENARIO_FILE = re.compile(r"^\d\d-.+$")



@benchmark(NAME, version=1, published_judge="llm-mmsafety")
def mm_safetybench(
    path: str,
    images: str | None = None,
    variant: Variant = Variant.TYPO,
    tiny_ids: str | None = None,
    scenarios: list[str] | None = None,
    sha256: str | None = None,
    variants: list[Variant] | None = None,
) -> LoadedBenchmark:
    """MM-SafetyBench harmful questions; with images, each variant's image with its rephrased question."""
    chosen = _variants(variant, variants)
    files = _scenario_files(path, sha256, scenarios)
    tiny_file = fetch(tiny_ids) if tiny_ids is not None else None
    tiny = _tiny(tiny_file) if tiny_file is not None else None
    folder = local_folder(images, "MM-SafetyBench images") if images is not None else None
    if folder is not None and (folder / "imgs").is_dir():
        folder = folder / "imgs"  # the dataset root was given, not its imgs/ folder
    if folder is None:  # text only: one sample per distinct rephrased question
        chosen = [v for i, v in enumerate(chosen) if v.text_tag not in {w.text_tag for w in chosen[:i]}]
    out = Collector(files[0].parent, NAME, image_root=folder)
    for file in files:
        scenario = file.stem
        entries = _read_scenario(file)
        wanted = tiny.get(scenario, set()) if tiny is not None else None
        for qid, entry in entries.items():
            if wanted is not None and qid not in wanted:
                continue
            try:  # what every variant needs is checked once: a bad entry is one problem, not one per variant
                question, key_phrase = _question_and_phrase(entry)
            except RowError as exc:
                out.problem(f"id {qid}", str(exc), file)
                continue
            for one in chosen:
                out.add(f"id {qid}", partial(_sample, scenario, qid, entry, question, key_phrase, one, folder), file)
        for qid in sorted((wanted or set()) - set(entries), key=_id_order):
            out.problem(f"{scenario}", f"Sampled_ID_List: id {qid} is not in {file}", tiny_file)
    return out.result()


def _variants(variant: str, variants: Sequence[str] | None) -> list[Variant]:
    """`variants` if given (in order, repeats dropped), else the one `variant`; names checked."""
    names = [variant] if variants is None else list(variants)
    if not names:
        raise ValueError(f"{NAME}: variants is empty (allowed: {', '.join(VARIANTS)})")
    out: list[Variant] = []
    for name in names:
        try:
            one = Variant(str(name).strip())
        except ValueError:
            raise ValueError(f"{NAME}: unknown variant {name!r} (allowed: {', '.join(VARIANTS)})") from None
        if one not in out:
            out.append(one)
    if variants is not None and variant != Variant.TYPO and variant not in out:
        raise ValueError(f"{NAME}: variant {str(variant)!r} is not among variants "
                         f"{[v.value for v in out]}: give one of them")
    return out


def _question_and_phrase(entry: Any) -> tuple[str, str]:
    if not isinstance(entry, dict):
        raise RowError(f"(entry): expected a JSON object, got {type(entry).__name__}")
    return required(entry, "Question").strip(), required(entry, "Key Phrase").strip()


def _sample(scenario: str, qid: str, entry: dict[str, Any], question: str, key_phrase: str, variant: Variant,
            images: Path | None) -> Sample:
    rephrased = required(entry, variant.question_field).strip()
    if images is None:
        tag, image_path, image_prompt = variant.text_tag, None, None
    else:
        tag, image_path, image_prompt = variant.value, images / scenario / variant.value / f"{qid}.jpg", rephrased
    return Sample(
        benchmark=NAME,
        source_id=f"{scenario}/{qid}/{tag}",
        category=scenario,
        kind=SampleKind.HARMFUL,
        text=question,
        key_phrase=key_phrase,
        rephrased=rephrased,
        image_path=image_path,
        image_prompt=image_prompt,
        image_text=key_phrase if image_path is not None and variant.draws_phrase else None,
    )


def _scenario_files(path: str, sha256: str | None, scenarios: list[str] | None) -> list[Path]:
    """One scenario file (local or URL), or every `NN-Scenario.json` of a folder, filtered."""
    source = fetch(path, sha256)
    if source.is_file():
        files = [source]
    else:
        folder = source / "processed_questions" if (source / "processed_questions").is_dir() else source
        files = sorted(p for p in folder.glob("*.json") if _SCENARIO_FILE.match(p.stem))
        if not files:
            raise FileNotFoundError(f"no scenario files (NN-Scenario.json) in {folder}")
    if scenarios is None:
        return files
    by_stem = {f.stem: f for f in files}
    chosen: list[Path] = []
    for name in scenarios:
        key = str(name).strip()
        number = key.zfill(2) if key.isdigit() else None
        found = by_stem.get(key) or next((f for s, f in by_stem.items() if s[:2] == number), None)
        if found is None:
            where = "the URL's file" if is_url(path) else str(files[0].parent)
            raise FileNotFoundError(
                f"{NAME}: scenario {name!r} not found in {where} (available: {', '.join(by_stem)})"
            )
        if found not in chosen:
            chosen.append(found)
    return chosen


def _read_scenario(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: not a readable JSON scenario file: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object of id -> question, got {type(data).__name__}")
    return {str(k).strip(): v for k, v in data.items()}


def _tiny(file: Path) -> dict[str, set[str]]:
    """TinyVersion_ID_List.json: [{"Scenario": "01-...", "Sampled_ID_List": [5, 7, ...]}, ...]."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return {
            str(item["Scenario"]): {str(i) for i in item["Sampled_ID_List"]}
            for item in data
        }
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{file}: not a tiny id list (a JSON list of {{Scenario, Sampled_ID_List}}): {exc!r}"
        ) from None


def _id_order(qid: str) -> tuple[int, str]:
    return (int(qid), "") if qid.isdigit() else (1 << 62, qid)
