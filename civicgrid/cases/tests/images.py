"""Small images made in memory for upload tests (no fixtures on disk)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

GPS = {1: "N", 2: (33.0, 30.0, 0.0), 3: "E", 4: (119.0, 8.0, 24.0)}


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = GPS
    return exif


def image_bytes(fmt: str = "JPEG", size=(64, 48), *, gps: bool = False, mode="RGB") -> bytes:
    img = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    out = io.BytesIO()
    kwargs = {"exif": exif_with_gps().tobytes()} if gps else {}
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def upload(name="photo.jpg", data: bytes | None = None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type)


def png_bomb(side: int = 20000) -> bytes:
    """A tiny PNG declaring side×side pixels (a decompression bomb: 1-bit, all zeros)."""
    img = Image.new("1", (side, side))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def noise_png(side: int = 100) -> bytes:
    """Random pixels: a PNG that does not compress (for size limits)."""
    import random

    rng = random.Random(side)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()
