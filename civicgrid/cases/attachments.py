"""Photos of cases: checked by content, re-encoded without metadata, stored in three sizes.

Why re-encode every copy instead of storing the upload: a resident's phone photo carries EXIF
(GPS position, device, time) and sometimes XMP; the only sure way to drop all of it is to keep
nothing but the pixels. Re-encoding also defuses files that are "images" only by name.

The checks, in the order they cost: number of files, bytes per file, what the content really
is (Pillow's own sniffing, limited to JPEG/PNG/WebP, plus HEIC when `pillow-heif` is
installed), pixels declared in the header (decompression-bomb guard, before decoding), then a
full decode (truncated or corrupt data is refused). Each refusal is a ValidationError on
`photos` with a Chinese message and one machine code: `too_many_files`, `too_large`,
`unsupported_type`, `corrupt_image`.

`image_prepare` does all the work in memory and writes nothing, so a page or the API can
validate every photo before a case exists; `attachment_store` then writes the files and the row.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import struct
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Attachment

FIELD = "photos"
BASE_FORMATS = ("JPEG", "PNG", "WEBP")
VARIANTS = ("file", "medium", "thumb")
OUTPUT = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}
# Anything Pillow may raise while decoding hostile or damaged data.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


@dataclass(frozen=True)
class PreparedImage:
    """A validated photo as clean encoded bytes per variant, not yet stored."""

    label: str  # "第2张图片" for messages
    fmt: str  # output format: JPEG or PNG (when the image has transparency)
    width: int  # of the largest stored copy
    height: int
    variants: dict[str, bytes]

    @property
    def ext(self) -> str:
        return OUTPUT[self.fmt][0]

    @property
    def content_type(self) -> str:
        return OUTPUT[self.fmt][1]


def refuse(message: str, code: str) -> ValidationError:
    return ValidationError({FIELD: [ValidationError(message, code=code)]})


@lru_cache(maxsize=1)
def heic_supported() -> bool:
    """HEIC (iPhone photos) needs the optional pillow-heif package; registered once."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


def allowed_formats() -> tuple[str, ...]:
    return BASE_FORMATS + (("HEIF",) if heic_supported() else ())


def _limits() -> tuple[int, int, int]:
    return (
        int(settings.CASE_UPLOAD_MAX_BYTES),
        int(settings.CASE_UPLOAD_MAX_FILES),
        int(settings.CASE_UPLOAD_MAX_PIXELS),
    )


def _types_text() -> str:
    return "JPEG、PNG、WebP" + ("、HEIC" if heic_supported() else "")


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return int(size)


def _open(upload, label: str) -> Image.Image:
    """Sniff and fully decode, refusing anything that is not a sane image of an allowed type."""
    max_bytes, _, max_pixels = _limits()
    size = _size_of(upload)
    if size > max_bytes:
        mb = max_bytes / 1024 / 1024
        raise refuse(f"{label}超过 {mb:g} MB,请压缩后再上传", "too_large")
    if size == 0:
        raise refuse(f"{label}是空文件", "corrupt_image")
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(upload, formats=allowed_formats())
        except UnidentifiedImageError as exc:
            raise refuse(
                f"{label}不是支持的图片格式(仅支持{_types_text()})", "unsupported_type"
            ) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise refuse(f"{label}像素过大,请缩小后再上传", "too_large") from exc
        except DECODE_ERRORS as exc:
            raise refuse(f"{label}已损坏,无法识别", "corrupt_image") from exc
        if img.width * img.height > max_pixels or min(img.size) < 1:
            raise refuse(f"{label}像素过大,请缩小后再上传", "too_large")
        return _decode(img, label)


def _decode(img: Image.Image, label: str) -> Image.Image:
    longest = settings.CASE_IMAGE_SIZES["file"]
    if img.format == "JPEG":
        img.draft("RGB", (longest, longest))  # decode big JPEGs at 1/2..1/8 scale: less memory
    try:
        img.load()
        img = ImageOps.exif_transpose(img)  # keep the picture upright once EXIF is gone
        img = _plain_mode(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise refuse(f"{label}像素过大,请缩小后再上传", "too_large") from exc
    except DECODE_ERRORS as exc:
        raise refuse(f"{label}已损坏或不完整,无法读取", "corrupt_image") from exc
    img.info = {}  # drop EXIF, XMP, ICC, text chunks: only pixels are kept
    return img


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def _plain_mode(img: Image.Image) -> Image.Image:
    return img.convert("RGBA") if _has_alpha(img) else img.convert("RGB")


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.info = {}
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=85, optimize=True)
    else:
        img.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _variants(img: Image.Image, fmt: str) -> tuple[dict[str, bytes], tuple[int, int]]:
    """Each size made from the previous one (cheaper than from the full image each time).
    Returns the encoded copies and the pixel size of the largest stored one."""
    out, current, stored_size = {}, img, img.size
    for name in VARIANTS:
        side = settings.CASE_IMAGE_SIZES[name]
        current = current.copy()
        current.thumbnail((side, side), Image.Resampling.LANCZOS)
        out[name] = _encode(current, fmt)
        if name == "file":
            stored_size = current.size
    return out, stored_size


def image_prepare(upload, *, index: int = 1) -> PreparedImage:
    """Validate one upload and return its clean copies (nothing is written)."""
    label = f"第{index}张图片"
    img = _open(upload, label)
    fmt = "PNG" if img.mode == "RGBA" else "JPEG"
    variants, (width, height) = _variants(img, fmt)
    return PreparedImage(label, fmt, width, height, variants)


def images_prepare(files: Sequence) -> list[PreparedImage]:
    """Validate every upload of one submission; the first refusal stops it."""
    _, max_files, _ = _limits()
    files = [f for f in files if f is not None]
    if len(files) > max_files:
        raise refuse(f"一次最多上传 {max_files} 张图片,您选择了 {len(files)} 张", "too_many_files")
    return [f if isinstance(f, PreparedImage) else image_prepare(f, index=i)
            for i, f in enumerate(files, start=1)]  # fmt: skip


# --- storing -----------------------------------------------------------------------------------


def _names(ext: str, now: dt.datetime) -> dict[str, str]:
    """Random names: nothing in a path tells who uploaded what, or can be guessed."""
    token = secrets.token_hex(16)
    base = f"cases/{timezone.localtime(now):%Y/%m}/{token}"
    return {"file": f"{base}.{ext}", "medium": f"{base}_m.{ext}", "thumb": f"{base}_t.{ext}"}


def attachment_store(
    *, case, image: PreparedImage, kind: str, uploaded_by=None, event=None
) -> Attachment:
    """Write the three copies and the row. If the row cannot be written, the files go too."""
    saved: list[str] = []
    try:
        names = {}
        for variant, name in _names(image.ext, timezone.now()).items():
            names[variant] = default_storage.save(name, ContentFile(image.variants[variant]))
            saved.append(names[variant])
        return Attachment.objects.create(
            case=case, event=event, kind=kind, file=names["file"], medium=names["medium"],
            thumb=names["thumb"], content_type=image.content_type,
            size=len(image.variants["file"]), width=image.width, height=image.height,
            uploaded_by=uploaded_by,
        )  # fmt: skip
    except Exception:
        files_delete(saved)
        raise


def files_delete(names: Iterable[str]) -> None:
    """Best-effort removal of files written for a submission that did not go through."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            pass


def attachment_files(attachment: Attachment) -> list[str]:
    return [f.name for f in (attachment.file, attachment.medium, attachment.thumb) if f]
