"""Forms of the registry pages: they parse input only; services validate and write.

`apply_errors` puts a service's ValidationError back onto the form fields (including the
`members.<i>.<field>` keys of a household), so "校验位不符" appears under the ID box.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from civicgrid.accounts.scope import scope_of
from civicgrid.grids.models import Region

from .choices import TAG_SPECS, Relation, Residency, Sex, TagKind

INPUT = {"class": "form-control"}
SELECT = {"class": "form-select"}


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name}({obj.code})"


def unit_field(user) -> UnitChoiceField:
    qs = Region.objects.for_scope(scope_of(user)).units().defer("boundary_wkb").order_by("code")
    return UnitChoiceField(queryset=qs, label="基础网格单元", widget=forms.Select(attrs=SELECT))


class PersonForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50, widget=forms.TextInput(attrs=INPUT))
    id_number = forms.CharField(
        label="身份证号", max_length=40, required=False,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off", "inputmode": "text"}),
    )  # fmt: skip
    phone = forms.CharField(
        label="联系电话", max_length=30, required=False,
        widget=forms.TextInput(attrs={**INPUT, "inputmode": "tel"}),
    )  # fmt: skip
    sex = forms.ChoiceField(
        label="性别", required=False, choices=[("", "按身份证号")] + list(Sex.choices),
        widget=forms.Select(attrs=SELECT),
    )  # fmt: skip
    birth_date = forms.DateField(
        label="出生日期", required=False, widget=forms.DateInput(attrs={**INPUT, "type": "date"})
    )
    residency = forms.ChoiceField(
        label="人口类别", choices=Residency.choices, widget=forms.Select(attrs=SELECT)
    )
    nationality = forms.CharField(
        label="国籍", max_length=40, initial="中国", widget=forms.TextInput(attrs=INPUT)
    )
    address = forms.CharField(
        label="现住地址", max_length=200, required=False, widget=forms.TextInput(attrs=INPUT)
    )
    notes = forms.CharField(
        label="备注", max_length=2000, required=False,
        widget=forms.Textarea(attrs={**INPUT, "rows": 2}),
    )  # fmt: skip

    def __init__(self, *args, user=None, with_unit: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_unit:
            self.fields = {"unit": unit_field(user), **self.fields}


class MemberForm(forms.Form):
    """One row of the household form; a row left blank is skipped."""

    name = forms.CharField(label="姓名", max_length=50, required=False,
                           widget=forms.TextInput(attrs=INPUT))  # fmt: skip
    relation = forms.ChoiceField(label="与户主关系", choices=Relation.choices,
                                 widget=forms.Select(attrs=SELECT))  # fmt: skip
    id_number = forms.CharField(
        label="身份证号", max_length=40, required=False,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off"}),
    )  # fmt: skip
    phone = forms.CharField(
        label="电话", max_length=30, required=False,
        widget=forms.TextInput(attrs={**INPUT, "inputmode": "tel"}),
    )  # fmt: skip
    residency = forms.ChoiceField(label="类别", choices=Residency.choices,
                                  widget=forms.Select(attrs=SELECT))  # fmt: skip


MemberFormSet = forms.formset_factory(MemberForm, extra=0, min_num=1, max_num=12)


class HouseholdForm(forms.Form):
    building = forms.ModelChoiceField(
        queryset=None, label="楼栋", widget=forms.Select(attrs=SELECT)
    )
    room = forms.CharField(
        label="单元-房号", max_length=20, help_text="如 2-501(2单元501室)",
        widget=forms.TextInput(attrs={**INPUT, "placeholder": "2-501"}),
    )  # fmt: skip
    number = forms.CharField(label="户号", max_length=32, required=False,
                             widget=forms.TextInput(attrs=INPUT))  # fmt: skip

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class TagForm(forms.Form):
    kind = forms.ChoiceField(label="人群类别", choices=TagKind.choices,
                             widget=forms.Select(attrs=SELECT))  # fmt: skip
    visit_every_days = forms.IntegerField(
        label="走访周期(天)", min_value=1, max_value=366, required=False,
        help_text="留空按类别默认(独居老人每7天)", widget=forms.NumberInput(attrs=INPUT),
    )  # fmt: skip

    def data_values(self) -> dict[str, str]:
        """The kind's own fields arrive as `data_<name>`; the service validates them."""
        kind = self.cleaned_data.get("kind")
        spec = TAG_SPECS.get(kind)
        if spec is None:
            return {}
        return {d["name"]: self.data.get(f"data_{d['name']}", "")[:2000] for d in spec.fields}


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", "身份证号"), ("phone", "电话")])
    reason = forms.CharField(label="查看原因", max_length=200, required=False)


class VisitForm(forms.Form):
    findings = forms.CharField(
        label="走访情况", max_length=5000, required=False,
        widget=forms.Textarea(attrs={**INPUT, "rows": 4}),
    )  # fmt: skip
    problem_found = forms.BooleanField(
        label="发现问题", required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )  # fmt: skip
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, min_value=0, max_value=100000,
                                  widget=forms.HiddenInput)  # fmt: skip


def apply_errors(form: forms.Form, exc: ValidationError, members=None) -> None:
    """Service errors onto form fields; unknown keys become non-field errors."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        parts = key.split(".")
        if parts[0] == "members" and members is not None and len(parts) == 3:
            target = _member_form(members, parts[1])
            field = parts[2] if target is not None and parts[2] in target.fields else None
            (target or form).add_error(field, errors)
        elif key in form.fields:
            form.add_error(key, errors)
        else:
            form.add_error(None, errors)


def _member_form(members, index: str):
    rows = [f for f in members.forms if (f.cleaned_data or {}).get("name")]
    try:
        return rows[int(index)]
    except (ValueError, IndexError):
        return None
