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
import logging
import secrets
import struct
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Attachment

log = logging.getLogger(__name__)
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
    """Write the three copies and the row. If the row cannot be written, the files go too;
    if the transaction around it rolls back later, `uncommitted_files_sweep` removes them."""
    uncommitted_files_sweep()  # leftovers of an earlier transaction on this thread
    saved: list[str] = []
    try:
        names = {}
        for variant, name in _names(image.ext, timezone.now()).items():
            names[variant] = default_storage.save(name, ContentFile(image.variants[variant]))
            saved.append(names[variant])
        attachment = Attachment.objects.create(
            case=case, event=event, kind=kind, file=names["file"], medium=names["medium"],
            thumb=names["thumb"], content_type=image.content_type,
            size=len(image.variants["file"]), width=image.width, height=image.height,
            uploaded_by=uploaded_by,
        )  # fmt: skip
    except Exception:
        files_delete(saved)
        raise
    _track_until_commit(saved)
    return attachment


def files_delete(names: Iterable[str]) -> None:
    """Best-effort removal of files written for a submission that did not go through."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            pass


def attachment_files(attachment: Attachment) -> list[str]:
    return [f.name for f in (attachment.file, attachment.medium, attachment.thumb) if f]


# --- files and transactions ------------------------------------------------------------------
#
# Why files are written at once and removed on rollback, rather than written after commit:
# the row and the page that shows it right after the move need the file to exist, and a write
# that fails after commit would leave a row pointing at nothing. A file written inside a
# transaction is "pending" until that transaction commits (an on_commit hook clears it; Django
# drops the hooks of a rolled-back transaction or savepoint, so a pending entry is exactly a
# write whose transaction did not commit). Pending files are deleted as soon as this thread is
# outside any transaction again: at the end of every request (signal below), before the next
# store, or by the caller. Only a crashed process can leave a file behind; the scheduler's
# `orphan_files_sweep` removes those after a day.


@dataclass
class _Pending:
    alias: str
    names: list[str]


class _Ledger(threading.local):
    def __init__(self) -> None:
        self.pending: list[_Pending] = []


_ledger = _Ledger()


def _track_until_commit(names: list[str], using: str | None = None) -> None:
    alias = using or DEFAULT_DB_ALIAS
    if not names or not transaction.get_connection(alias).in_atomic_block:
        return  # autocommit: the row is already committed
    entry = _Pending(alias, list(names))
    _ledger.pending.append(entry)
    transaction.on_commit(lambda: _committed(entry), using=alias)


def _committed(entry: _Pending) -> None:
    try:
        _ledger.pending.remove(entry)
    except ValueError:
        pass


def uncommitted_files_sweep() -> int:
    """Delete files whose transaction ended without committing (rolled back, or the savepoint
    they were written in was). Does nothing while a transaction is still open, since its
    files may yet be committed. Returns the number of files deleted."""
    done, keep = [], []
    for entry in _ledger.pending:
        open_now = transaction.get_connection(entry.alias).in_atomic_block
        (keep if open_now else done).append(entry)
    if not done:
        return 0
    _ledger.pending = keep
    names = [name for entry in done for name in entry.names]
    files_delete(names)
    log.info("removed %d image files of a rolled-back transaction", len(names))
    return len(names)


def _sweep_after_request(sender, **kwargs) -> None:
    uncommitted_files_sweep()


request_finished.connect(_sweep_after_request, dispatch_uid="cases.attachments.sweep")


ORPHAN_AGE = dt.timedelta(days=1)
ORPHAN_MONTHS_BACK = 2  # month folders looked at besides the current one
ORPHAN_BATCH = 500


def _month_dirs(now: dt.datetime) -> list[str]:
    """The folders files written in the last ~2 months live in (cases/YYYY/MM, local time)."""
    local = timezone.localtime(now)
    year, month, out = local.year, local.month, []
    for _ in range(ORPHAN_MONTHS_BACK + 1):
        out.append(f"cases/{year:04d}/{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def _files_in(folder: str) -> list[str]:
    try:
        _, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [f"{folder}/{name}" for name in files]


def _referenced(names: list[str]) -> set[str]:
    rows = Attachment.objects.filter(
        Q(file__in=names) | Q(medium__in=names) | Q(thumb__in=names)
    ).values_list("file", "medium", "thumb")
    return {name for row in rows for name in row}


def orphan_files_sweep(now: dt.datetime) -> int:
    """Scheduler step: delete image files no attachment row names, older than a day (left by
    a process that died between writing a file and committing). Looks at the month folders
    of the last two months only, so each pass is bounded; younger files may still belong to
    an open transaction and are left alone. Returns the number of files deleted."""
    cutoff, removed = now - ORPHAN_AGE, 0
    for folder in _month_dirs(now):
        names = [n for n in _files_in(folder) if default_storage.get_modified_time(n) < cutoff]
        for start in range(0, len(names), ORPHAN_BATCH):
            batch = names[start : start + ORPHAN_BATCH]
            known = _referenced(batch)
            orphans = [n for n in batch if n not in known]
            files_delete(orphans)
            removed += len(orphans)
    return removed
