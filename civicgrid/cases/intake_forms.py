"""Forms of the intake pages. They parse what a phone sends; the rules of a case (locating,
routing, idempotency, who may handle on the spot) stay in the services. Photos are read from
`request.FILES.getlist("photos")` and checked by cases/attachments.py."""

from __future__ import annotations

import math
import uuid

from django import forms
from django.core.exceptions import ValidationError

from .choices import Source
from .models import Category

MAX_TEXT = 2000
KEY_CHARS = frozenset("0123456789abcdefABCDEF-")


def new_key() -> str:
    return str(uuid.uuid4())


def _minors():
    return Category.objects.active().minors().select_related("parent")


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}"


class IntakeForm(forms.Form):
    """What every source has: category, words, a point, the page's idempotency key."""

    category = CategoryChoice(
        queryset=_minors(), label="问题类别", error_messages={"required": "请选择问题类别"}
    )
    description = forms.CharField(
        label="问题描述",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请简单描述问题", "max_length": "描述不能超过 2000 字"},
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(label="位置描述", max_length=200, required=False)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    photos = forms.Field(required=False)  # files come from request.FILES; errors land here

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data["idempotency_key"].strip()
        if not key or not set(key) <= KEY_CHARS:
            raise ValidationError("页面已过期,请刷新后重新提交", code="key")
        return key

    def clean(self):
        data = super().clean()
        lat, lng = data.get("lat"), data.get("lng")
        if (lat is None) != (lng is None):
            raise ValidationError("位置不完整,请重新选择位置", code="position")
        if lat is not None and not (
            math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180
        ):
            raise ValidationError("位置超出范围,请重新选择位置", code="position")
        return data

    def title(self) -> str:
        """Residents write one sentence, not a title: the title is its first words."""
        first = self.cleaned_data["description"].strip().splitlines()[0][:30]
        return first or self.cleaned_data["category"].name


class ResidentForm(IntakeForm):
    anonymous = forms.BooleanField(label="匿名反映(工作人员看不到您的姓名和电话)", required=False)

    def clean(self):
        data = super().clean()
        if data.get("lat") is None and not (data.get("address") or "").strip():
            raise ValidationError("请在地图上标出位置,或填写位置描述", code="position")
        return data


class PatrolForm(IntakeForm):
    on_spot = forms.BooleanField(label="当场处置(小事不出网格)", required=False)
    handle_note = forms.CharField(
        label="处置情况",
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("on_spot") and not (data.get("handle_note") or "").strip():
            self.add_error("handle_note", "当场处置须填写处置情况")
        if data.get("lat") is None:
            raise ValidationError("请获取当前位置(GPS)或在地图上标出位置", code="position")
        return data


class HotlineForm(IntakeForm):
    source = forms.ChoiceField(
        label="来源",
        choices=[(Source.HOTLINE, Source.HOTLINE.label), (Source.OFFICIAL, Source.OFFICIAL.label)],
        initial=Source.HOTLINE,
    )
    reporter_name = forms.CharField(label="来电人姓名", max_length=50, required=False)
    reporter_phone = forms.CharField(label="来电号码", max_length=20, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].required = False


class CameraEventForm(forms.Form):
    category = CategoryChoice(
        queryset=_minors(), label="事件类别", error_messages={"required": "请选择事件类别"}
    )
    description = forms.CharField(
        label="事件描述",
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    photos = forms.Field(required=False)
    clean_idempotency_key = IntakeForm.clean_idempotency_key


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form; unknown keys become non-field errors."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)
