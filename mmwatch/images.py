"""Images as mmwatch holds them: PNG bytes whose sha256 is their identity, read from files that
strangers publish, so every read is bounded (bytes and pixels, from the header, before decoding)
and names the file and the sample when it fails.
"""

from __future__ import annotations

import functools
import hashlib
import io
from enum import StrEnum
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field


class SampleImageError(ValueError):
    """An image that a sample points to cannot be read; names the file and the sample."""


class InputRefusal(StrEnum):
    """Why an input was refused before anything of it was decoded."""

    OUTSIDE = "outside"  # its path leaves the benchmark's folder and the allowed roots
    BYTES = "bytes"  # the file is larger than the byte limit
    PIXELS = "pixels"  # its header declares more pixels than the limit
    BOMB = "bomb"  # PIL would not even open it: a decompression bomb


class InputRefusedError(SampleImageError):
    """An image refused for where it is or how large it is; `refusal` says which."""

    def __init__(self, message: str, refusal: InputRefusal) -> None:
        super().__init__(message)
        self.refusal = refusal

    def __reduce__(self) -> tuple[Any, ...]:  # picklable although __init__ takes two arguments
        return type(self), (str(self), self.refusal)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PIL's own decompression-bomb threshold (it warns above it, refuses above twice it). No config may
# allow more, so an image PIL would warn about is always refused here, by name.
PIXEL_CEILING = 1024 * 1024 * 1024 // 4 // 3
BYTE_CEILING = 1 << 30


class InputLimits(BaseModel):
    """What a run accepts from benchmark data, which is often downloaded from strangers.

    Image paths stay inside the benchmark's folder or `allowed_roots` (mmwatch.benchmarks.inputs).
    Sizes come from the file's length and the image header, so a huge image is refused before it
    is decoded (a 12000 x 12000 PNG of a few hundred KB decodes to 432 MB of RGB).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_image_pixels: int = Field(default=40_000_000, ge=1, le=PIXEL_CEILING,
                                  description="width x height; benchmark images are mostly under 4 MP")
    max_image_bytes: int = Field(default=50_000_000, ge=1, le=BYTE_CEILING, description="file size")
    allowed_roots: tuple[Path, ...] = Field(default=(), description="folders any benchmark's images may come "
                                            "from besides its own folder")

    def check_image(self, source: Path | bytes, name: str) -> None:
        """Refuse a file (or encoded image) that is too large; `name` (file, sample) heads the
        message. A missing or unreadable image is not refused here: reading it reports that."""
        try:
            size = len(source) if isinstance(source, bytes) else source.stat().st_size
        except OSError:
            return
        self.check_bytes(size, name)
        self.check_header(source, name)

    def check_bytes(self, size: int, name: str) -> None:
        if size > self.max_image_bytes:
            raise InputRefusedError(f"{name} has {size:,} bytes, over the limit of {self.max_image_bytes:,}",
                                    InputRefusal.BYTES)

    def check_header(self, source: Path | bytes, name: str) -> None:
        """Width x height from the header only (PIL's open decodes nothing)."""
        try:
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
                size = img.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # warnings may be errors
            raise InputRefusedError(f"{name} refused as a decompression bomb: {exc}", InputRefusal.BOMB) from None
        except (OSError, SyntaxError, ValueError):  # not an image PIL knows: reading it reports that
            return
        self.check_pixels(size, name)

    def check_pixels(self, size: tuple[int, int], name: str) -> None:
        width, height = size
        if width * height > self.max_image_pixels:
            raise InputRefusedError(f"{name} is {width}x{height} = {width * height:,} pixels, over the limit of "
                                    f"{self.max_image_pixels:,}", InputRefusal.PIXELS)


CEILING = InputLimits(max_image_pixels=PIXEL_CEILING, max_image_bytes=BYTE_CEILING)  # any read, configured or not


class ImageData(BaseModel):
    """An image held as PNG bytes; its sha256 is its identity in the artifact store."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")  # travels in JSON

    png: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()

    @classmethod
    def from_pil(cls, image: Image.Image) -> ImageData:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return cls(png=buf.getvalue())

    @classmethod
    def from_file(cls, path: Path, sample_id: str = "", limits: InputLimits = CEILING) -> ImageData:
        """Read any image format PIL knows; a missing, corrupt or too large file names itself and
        the sample. The size is checked from the file's length and header before any decoding."""
        where = f" (sample {sample_id})" if sample_id else ""
        try:
            file = Path(path)
            limits.check_bytes(file.stat().st_size, f"image {path}{where}")
            data = file.read_bytes()
            limits.check_header(data, f"image {path}{where}")
            if data.startswith(PNG_SIGNATURE):  # kept as it is once its chunks check out: no re-encoding
                with Image.open(io.BytesIO(data)) as img:
                    img.verify()
                return cls(png=data)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                return cls.from_pil(img.convert("RGB"))
        except FileNotFoundError as exc:
            raise SampleImageError(f"image file not found: {path}{where}") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:  # a bomb here: PIL's limit was set below ours
            raise SampleImageError(f"cannot read image {path}{where}: {exc}") from exc

    def to_pil(self) -> Image.Image:
        return Image.open(io.BytesIO(self.png)).convert("RGB")


@functools.lru_cache(maxsize=256)
def read_image_cached(path: str, mtime_ns: int, size: int) -> ImageData | SampleImageError:
    """One read of an image file for all the attacks (and samples) that show it; an edited file
    (new mtime or size) is read again."""
    try:
        return ImageData.from_file(Path(path))
    except SampleImageError as exc:
        return exc
