"""Family 2, bad benchmark inputs: bad rows and images in CSV / JSONL files through the real loaders."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import SECRET, Outcome, capture_logs, check, short

@dataclass(frozen=True)
class BadRow:
    fault: str
    file: Path
    where: str  # the line or record the problem must name
    says: str  # what the problem must say
    sample: str = ""  # for a path that leaves the folder: the sample that must not load with it


def bad_inputs(tmp: Path) -> list[Outcome]:
    """Bad rows in CSV / JSONL files through the real loaders and `load_samples` (image screen
    included): each is one problem naming file, row and field, and the good rows all load."""
    from PIL import Image, PngImagePlugin

    from mmwatch.config import RunConfig
    from mmwatch.engine.samples import load_samples
    from mmwatch.types import SampleImageError

    bench, pics = tmp / "bench", tmp / "bench" / "pics"
    pics.mkdir(parents=True)
    outside = tmp / "outside.png"  # holds the secret: if it gets through, it leaks
    info = PngImagePlugin.PngInfo()
    info.add_text("secret", SECRET)
    Image.new("RGB", (4, 4), "red").save(outside, pnginfo=info)
    (tmp / "secret.txt").write_text(SECRET)
    Image.new("RGB", (4, 4), "blue").save(pics / "ok.png")
    (pics / "link.png").symlink_to(outside)
    (pics / "huge.png").write_bytes(png_header(8000, 8000))  # 64 MP declared, 40 MP allowed, ~60 bytes
    (pics / "bomb.png").write_bytes(png_header(20000, 20000))  # 400 MP: a decompression bomb
    (pics / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage, not a PNG chunk" * 8)

    csv = bench / "set.csv"
    lines = [b"id,text,kind,img", b"good-1,What is shown?,harmful,pics/ok.png", b"good-2,How do I bake bread?,benign,",
             b"no-text,,harmful,", b"bad-kind,Hello,evil,", b"climb,What is shown?,harmful,../outside.png",
             f"abs,What is shown?,harmful,{outside}".encode(), b"link,What is shown?,harmful,pics/link.png",
             b"huge,What is shown?,harmful,pics/huge.png", b"bomb,What is shown?,harmful,pics/bomb.png",
             b"corrupt,What is shown?,harmful,pics/corrupt.png", b"latin,caf\xe9 au lait?,benign,",
             b"fields,a,harmful,,extra", b"good-1,Again?,harmful,", b"util,What is 2+2?,utility,",
             b"secret,What is shown?,harmful,../secret.txt", b"good-3,What colour is the sky?,benign,"]
    csv.write_bytes(b"\n".join(lines) + b"\n")
    rows = [BadRow("missing required field (text)", csv, "4", "text:"), BadRow("unknown kind", csv, "5", "'evil'"),
            BadRow("image ../outside.png", csv, "6", "outside", "csvset:climb"),
            BadRow("image: absolute path outside", csv, "7", "outside", "csvset:abs"),
            BadRow("image: symlink escaping", csv, "8", "outside", "csvset:link"),
            BadRow("image over the pixel limit (header only)", csv, "9", "over the limit of 40,000,000"),
            BadRow("image: decompression bomb", csv, "10", "decompression bomb"),
            BadRow("non-UTF-8 line", csv, "12", "not UTF-8"), BadRow("wrong number of fields", csv, "13", "fields"),
            BadRow("duplicate id", csv, "14", "duplicate id"),
            BadRow("utility row without a reference", csv, "15", "reference"),
            BadRow("image path at a secret text file outside", csv, "16", "outside", "csvset:secret")]

    lines_file = bench / "lines.jsonl"
    good = {"text": "What is shown?", "kind": "harmful", "category": "c"}
    records = [json.dumps({"id": "j1", **good, "image": "pics/ok.png"}).encode(),
               json.dumps({"id": "j2", "text": "t", "kind": "harmful"}).encode(),
               json.dumps({"id": "j3", **good, "kind": "evil"}).encode(),
               b'{"id": "j4", "text": "caf\xe9", "kind": "benign", "category": "c"}',
               b'{"id": "j5", "text": ', json.dumps({"id": "j6", **good, "image": "../outside.png"}).encode(),
               b'["not", "an", "object"]', json.dumps({"id": "j8", **good, "image": "pics/bomb.png"}).encode(),
               json.dumps({"id": "j9", **good}).encode()]
    lines_file.write_bytes(b"\n".join(records) + b"\n")
    rows += [BadRow("jsonl: missing required field", lines_file, "2", "category: missing required field"),
             BadRow("jsonl: unknown kind", lines_file, "3", "'evil'"),
             BadRow("jsonl: non-UTF-8 line", lines_file, "4", "not UTF-8"),
             BadRow("jsonl: invalid JSON", lines_file, "5", "invalid JSON"),
             BadRow("jsonl: image ../outside.png", lines_file, "6", "outside", "lines:j6"),
             BadRow("jsonl: not an object", lines_file, "7", "expected a JSON object"),
             BadRow("jsonl: decompression bomb", lines_file, "8", "decompression bomb")]

    table_jsonl = bench / "table.jsonl"
    table_jsonl.write_bytes(b"\n".join([json.dumps({"q": "What is shown?", "kind": "harmful"}).encode(),
                                        b'{"q": "caf\xe9", "kind": "benign"}', b"{not json",
                                        json.dumps({"kind": "harmful"}).encode(),
                                        json.dumps({"q": "Describe it.", "kind": "benign"}).encode()]) + b"\n")
    rows += [BadRow("table jsonl: non-UTF-8 line", table_jsonl, "2", "not UTF-8"),
             BadRow("table jsonl: invalid JSON", table_jsonl, "3", "invalid JSON"),
             BadRow("table jsonl: mapped column missing in a row", table_jsonl, "4", "q: missing required field")]

    judges = [{"name": "refusal-keywords"}, {"name": "exact-match"}]
    config = RunConfig.model_validate({"judges": judges, "benchmarks": [
        {"name": "table", "params": {"path": str(csv), "columns": {"image": "img"}, "name": "csvset"}},
        {"name": "jsonl", "params": {"path": str(lines_file)}},
        {"name": "table", "params": {"path": str(table_jsonl), "columns": {"text": "q"}, "name": "tjsonl"}},
    ]})
    with capture_logs() as logs:
        samples, problems = load_samples(config)
    ids = [s.id for s in samples]
    want = ["csvset:good-1", "csvset:good-2", "csvset:corrupt", "csvset:good-3", "lines:j1", "lines:j9", "tjsonl:1",
            "tjsonl:5"]
    shared = [] if ids == want else [f"loaded {ids}, expected the good rows {want}"]
    claimed = {f"{r.file}:{r.where}: " for r in rows}
    stray = [p for p in problems if not any(p.startswith(c) for c in claimed)]
    shared += [f"a problem no bad row explains: {short(p)}" for p in stray]
    escaped = {s.id for s in samples if s.image_path is not None
               and not s.image_path.resolve().is_relative_to(bench.resolve())}
    logged = "a log record" if SECRET in logs.text else None

    out: list[Outcome] = []
    for row in rows:
        mine = [p for p in problems if p.startswith(f"{row.file}:{row.where}: ")]
        wrong = list(shared)
        if len(mine) != 1 or row.says not in mine[0]:
            wrong.append(f"problems for that row: {[short(p) for p in mine]}")
        leak = ("a loaded sample: its image from outside, with the secret, would go to the model"
                if row.sample in escaped else "its problem" if any(SECRET in p for p in mine) else logged)
        out.append(check(row.fault, wrong, f"one problem '{row.file.name}:{row.where}: ...{row.says}...'", leak))

    corrupt = next((s for s in samples if s.id == "csvset:corrupt"), None)
    wrong = list(shared)
    if corrupt is None:
        wrong.append("the row did not load (it should, and fail when read)")
    else:
        try:
            corrupt.load_image()
            wrong.append("load_image() read a corrupt file")
        except SampleImageError as exc:
            if str(pics / "corrupt.png") not in str(exc) or "csvset:corrupt" not in str(exc):
                wrong.append(f"message {short(str(exc))!r} does not name file and sample")
    out.append(check("corrupt image bytes (read later: that cell's error)", wrong,
                     "the row loads; reading it raises an error naming the file and the sample"))
    out += empty_files(tmp, judges)
    return out


def empty_files(tmp: Path, judges: list[dict[str, str]]) -> list[Outcome]:
    """An empty benchmark file is a problem of that file, named, not zero samples said nowhere."""
    from mmwatch.config import RunConfig
    from mmwatch.engine.samples import load_samples

    out = []
    for fault, name, file in (("empty CSV file", "table", tmp / "empty.csv"),
                              ("empty JSONL file", "jsonl", tmp / "empty.jsonl"),
                              ("empty JSONL table", "table", tmp / "empty-table.jsonl")):
        file.write_bytes(b"")
        params: dict[str, Any] = {"path": str(file)} | ({"kind": "harmful"} if name == "table" else {})
        config = RunConfig.model_validate({"judges": judges, "benchmarks": [{"name": name, "params": params}]})
        try:
            samples, problems = load_samples(config)
        except Exception as exc:  # noqa: BLE001 - a whole-file error is fine if it names the file
            said = f"{type(exc).__name__}: {exc}"
            wrong = [] if str(file) in said else [f"error {short(said)!r} does not name the file"]
        else:
            named = [p for p in problems if str(file) in p]
            wrong = [] if named else [f"{len(samples)} samples and {len(problems)} problems: nothing says the file is empty"]
        out.append(check(fault, wrong, f"an error or problem naming {file.name}"))
    return out


def png_header(width: int, height: int) -> bytes:
    """A valid PNG of a few dozen bytes whose header declares width x height (no pixel data)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
