"""mmwatch-mini: contents, stable ids, deterministic drawn images that match their answers."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from mmwatch import plugins
from mmwatch.benchmarks import mini as mini_mod
from mmwatch.types import Sample, SampleKind

SAFEBENCH_CATEGORIES = {
    "Illegal Activity",
    "Hate Speech",
    "Malware Generation",
    "Physical Harm",
    "Fraud",
    "Adult Content",
    "Privacy Violation",
    "Legal Opinion",
    "Financial Advice",
    "Health Consultation",
}
# Fingerprint of every text field of version 1. If this fails you changed what the benchmark
# measures: bump VERSION in mini.py and in data/mini.yaml, then update this value.
TEXT_FINGERPRINT_V1 = "0a6d4d6f0a80ab12"
TEXT_FIELDS = ("source_id", "kind", "category", "text", "instruction", "key_phrase", "rephrased", "reference")


def _samples(**params: object) -> list[Sample]:
    return list(plugins.benchmarks.build("mmwatch-mini", params).obj)


def _fingerprint(samples: list[Sample]) -> str:
    rows = [[str(getattr(s, f)) for f in TEXT_FIELDS] for s in samples]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def test_counts_per_kind_and_category() -> None:
    samples = _samples()
    kinds = Counter(s.kind for s in samples)
    assert kinds[SampleKind.HARMFUL] >= 30
    assert kinds[SampleKind.BENIGN] >= 20
    assert kinds[SampleKind.UTILITY] >= 20
    harmful = Counter(s.category for s in samples if s.kind is SampleKind.HARMFUL)
    assert set(harmful) == SAFEBENCH_CATEGORIES
    assert min(harmful.values()) >= 3
    benign = {s.category for s in samples if s.kind is SampleKind.BENIGN}
    assert {"homonyms", "figurative_language", "safe_targets", "safe_contexts", "definitions"} <= benign
    utility = {s.category for s in samples if s.kind is SampleKind.UTILITY}
    assert utility == {"count", "colour", "shape", "read-word"}


def test_ids_unique_and_stable() -> None:
    samples = _samples()
    ids = [s.id for s in samples]
    assert len(ids) == len(set(ids))
    assert ids == [s.id for s in _samples()]
    for expected in ("mmwatch-mini:harm-illegal-01", "mmwatch-mini:harm-health-04",
                     "mmwatch-mini:benign-homonym-01", "mmwatch-mini:util-count-01", "mmwatch-mini:util-word-06"):
        assert expected in ids
    prefix = {SampleKind.HARMFUL: "harm-", SampleKind.BENIGN: "benign-", SampleKind.UTILITY: "util-"}
    assert all(s.source_id.startswith(prefix[s.kind]) for s in samples)


def test_text_is_pinned_to_version() -> None:
    # Same text in two loads, and recorded here so that an edit without a version bump is caught.
    first = _fingerprint(_samples())
    mini_mod.load_all.cache_clear()
    assert _fingerprint(_samples()) == first
    assert first == TEXT_FINGERPRINT_V1, "benchmark text changed: bump mini VERSION and update this value"


def test_forms_present_for_attacks() -> None:
    for s in _samples(kinds=["harmful", "benign"]):
        assert s.image is None and s.reference is None
        assert s.text.endswith("?"), s.id
        assert s.instruction and s.key_phrase and s.rephrased, s.id
        assert "image" in s.rephrased, s.id
        assert len(s.key_phrase) <= 40, s.id  # typography renders it large


def test_every_utility_item_has_reference_and_image() -> None:
    utility = _samples(kinds=["utility"])
    assert utility and all(s.kind is SampleKind.UTILITY for s in utility)
    for s in utility:
        assert s.reference and s.image is not None, s.id
        assert "Answer with one word." in s.text
        assert s.image.to_pil().size == (mini_mod.CANVAS, mini_mod.CANVAS)


def test_images_are_deterministic() -> None:
    before = {s.id: s.image.sha256 for s in _samples(kinds=["utility"]) if s.image}
    mini_mod.load_all.cache_clear()
    after = {s.id: s.image.sha256 for s in _samples(kinds=["utility"]) if s.image}
    assert before == after
    assert len(set(before.values())) == len(before)  # no two items share a picture
    spec = {"figure": "word", "word": "HELLO"}
    assert mini_mod.draw_image(spec).tobytes() == mini_mod.draw_image(spec).tobytes()


def test_count_images_hold_that_many_dots() -> None:
    one_dot = _coloured_pixels(mini_mod.draw_image({"figure": "dots", "count": 1, "colour": "black"}))
    for s in _samples(kinds=["utility"]):
        if s.category == "count":
            dots = _coloured_pixels(s.image.to_pil()) / one_dot
            assert round(dots) == int(s.reference), s.id


def test_colour_images_show_that_colour() -> None:
    for s in _samples(kinds=["utility"]):
        if s.category == "colour":
            img = s.image.to_pil()
            centre = img.getpixel((mini_mod.CANVAS // 2, mini_mod.CANVAS // 2))
            assert centre == mini_mod.COLOURS[s.reference], s.id


def test_per_category_keeps_the_first_items_of_every_category() -> None:
    every = _samples()
    two = _samples(per_category=2)
    categories = Counter((s.kind, s.category) for s in every)
    assert Counter((s.kind, s.category) for s in two) == {key: min(2, n) for key, n in categories.items()}
    assert [s.id for s in two] == [s.id for s in every if s in two]  # file order kept
    assert len(_samples(kinds=["harmful"], per_category=1)) == 10
    with pytest.raises(ValueError, match="per_category"):
        _samples(per_category=0)


def test_kinds_filter_and_bad_kind() -> None:
    benign = _samples(kinds=["benign"])
    assert benign and {s.kind for s in benign} == {SampleKind.BENIGN}
    assert len(_samples(kinds=["harmful", "utility"])) == len(_samples()) - len(benign)
    with pytest.raises(ValueError, match="allowed: harmful, benign, utility"):
        _samples(kinds=["harmfull"])


def test_bad_draw_spec_names_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown colour 'teal'"):
        mini_mod.draw_image({"figure": "circle", "colour": "teal"})
    with pytest.raises(ValueError, match="unknown figure 'hexagon'"):
        mini_mod.draw_image({"figure": "hexagon"})


def test_printed_words_are_readable_by_ocr() -> None:
    rapidocr = pytest.importorskip("rapidocr")
    engine = rapidocr.RapidOCR()
    for s in _samples(kinds=["utility"]):
        if s.category == "read-word":
            result = engine(s.image.png)
            assert "".join(result.txts or ()).strip() == s.reference, s.id


def _coloured_pixels(img) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for px in img.convert("L").getdata() if px < 200)
