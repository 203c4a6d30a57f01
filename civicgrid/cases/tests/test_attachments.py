"""Photos are checked by what they contain, cleaned of EXIF, resized, and all-or-nothing."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from civicgrid.cases import attachments, services
from civicgrid.cases.choices import Source
from civicgrid.cases.models import Attachment, Case

from .factories import IN_A
from .images import image_bytes, noise_png, png_bomb, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _code(exc: ValidationError) -> str:
    return exc.error_dict["photos"][0].code


def _report(actors, category, files, key="k1"):
    return services.case_report_with_photos(
        files=files, source=Source.RESIDENT, reporter=actors.resident, title="井盖没了",
        category=category, lat=IN_A[0], lng=IN_A[1], idempotency_key=key,
    )  # fmt: skip


def test_text_named_jpg_is_refused_as_unsupported():
    with pytest.raises(ValidationError) as err:
        attachments.image_prepare(upload("evil.jpg", b"<?php echo 'hi'; ?>" * 10))
    assert _code(err.value) == "unsupported_type"
    assert "不是支持的图片格式" in err.value.error_dict["photos"][0].message


def test_gif_and_truncated_jpeg_are_refused():
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    with pytest.raises(ValidationError) as err:
        attachments.image_prepare(upload("a.gif", gif.getvalue()))
    assert _code(err.value) == "unsupported_type"
    data = image_bytes("JPEG", (400, 300))
    with pytest.raises(ValidationError) as err:
        attachments.image_prepare(upload("cut.jpg", data[: len(data) // 2]))
    assert _code(err.value) == "corrupt_image"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_and_gps_are_gone_from_every_stored_copy(tree, actors, category, fmt):
    data = image_bytes(fmt, (3000, 2000), gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload has GPS
    case = _report(actors, category, [upload("gps.png", data)]).case
    att = case.attachments.get()
    assert (att.width, att.height) == (2560, 1707)
    for field, longest in ((att.file, 2560), (att.medium, 1280), (att.thumb, 320)):
        with default_storage.open(field.name) as fh:
            img = Image.open(fh)
            img.load()
            assert max(img.size) == longest
            assert not img.getexif() and not img.getexif().get_ifd(0x8825)
            assert "exif" not in img.info and "xmp" not in img.info
    assert att.file.name.startswith("cases/") and "gps" not in att.file.name


def test_transparent_png_stays_png(tree, actors, category):
    data = image_bytes("PNG", (50, 50), mode="RGBA")
    img = attachments.image_prepare(upload("a.png", data))
    assert img.fmt == "PNG" and img.content_type == "image/png"


def test_oversized_file_is_refused(settings):
    settings.CASE_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as err:
        attachments.image_prepare(upload("big.jpg", noise_png()))
    assert _code(err.value) == "too_large" and "MB" in str(err.value)


def test_too_many_files_are_refused():
    with pytest.raises(ValidationError) as err:
        attachments.images_prepare([upload() for _ in range(10)])
    assert _code(err.value) == "too_many_files"


def test_decompression_bomb_is_refused_before_decoding(settings):
    with pytest.raises(ValidationError) as err:  # beyond Pillow's own hard limit
        attachments.image_prepare(upload("bomb.png", png_bomb(15000), "image/png"))
    assert _code(err.value) == "too_large"
    settings.CASE_UPLOAD_MAX_PIXELS = 10_000  # our limit, below Pillow's
    with pytest.raises(ValidationError) as err:
        attachments.image_prepare(upload("big.png", image_bytes("PNG", (200, 200))))
    assert _code(err.value) == "too_large"


def test_a_bad_photo_writes_no_case(tree, actors, category):
    with pytest.raises(ValidationError):
        _report(actors, category, [upload(), upload("x.jpg", b"not an image")])
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0


def test_storage_failure_rolls_the_case_back(tree, actors, category, monkeypatch):
    calls = []

    def failing_create(**kwargs):
        calls.append(kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Attachment.objects, "create", failing_create)
    with pytest.raises(OSError):
        _report(actors, category, [upload()])
    assert calls and Case.objects.count() == 0
    assert not any(files for _, files in _walk("cases"))  # the written copies were removed


def _walk(top):
    if not default_storage.exists(top):
        return
    dirs, files = default_storage.listdir(top)
    yield top, files
    for d in dirs:
        yield from _walk(f"{top}/{d}")


def test_replayed_key_stores_no_second_copy(tree, actors, category):
    first = _report(actors, category, [upload(), upload()])
    again = _report(actors, category, [upload(), upload()])
    assert first.created and not again.created and first.case.pk == again.case.pk
    assert Attachment.objects.count() == 2


def test_handler_photos_go_through_the_same_checks(tree, actors, category):
    from .factories import report, to_status

    case = to_status(actors, report(actors, category), tree, "signed")
    with pytest.raises(ValidationError) as err:
        services.case_handle(case=case, actor=actors.handler, note="已补",
                             files=[upload("a.jpg", b"text")])  # fmt: skip
    assert _code(err.value) == "unsupported_type"
    case.refresh_from_db()
    assert case.status == "signed"
    services.case_handle(case=case, actor=actors.handler, note="已补", files=[upload()])
    assert case.attachments.get().kind == "after"
