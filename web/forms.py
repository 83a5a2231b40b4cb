from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registry.permissions import role_of
from web import throttle
from web.widgets import FastDateInput, FastNumberInput, FastSelect, RegionPicker


class SignInForm(AuthenticationForm):
    """Django's sign-in with throttling, and open to every active user holding a Cultivar role
    (staff or not: the admin's sign-in requires staff)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
        "no_role": _("此账号没有 Cultivar 角色，请联系管理员授予角色。"),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        ip = throttle.client_ip(self.request) if self.request else ""
        wait = throttle.wait_seconds(username, ip)
        if wait:
            minutes = (wait + 59) // 60
            raise forms.ValidationError(
                ngettext("登录失败次数过多，请 %(minutes)d 分钟后再试。",
                         "登录失败次数过多，请 %(minutes)d 分钟后再试。", minutes) % {"minutes": minutes},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, ip)
            raise
        throttle.clear(username, ip)
        return cleaned

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if role_of(user) is None:
            raise forms.ValidationError(self.error_messages["no_role"], code="no_role")


class FirmFilterForm(forms.Form):
    """The firms page's filters; names match registry.filtersets.FirmFilterSet (and the API's arguments)."""

    SORTS = {  # page parameter → Firm ordering (each column indexed; id breaks ties)
        "name": ("name_normalized", "id"), "-name": ("-name_normalized", "-id"),
        "founded": ("founded_on", "id"), "-founded": ("-founded_on", "-id"),
        "uscc": ("uscc",), "-uscc": ("-uscc",), "id": ("id",), "-id": ("-id",),
    }

    stage = forms.ChoiceField(label=_("阶段"), required=False, widget=FastSelect)
    tier = forms.ChoiceField(label=_("层级"), required=False, widget=FastSelect)
    region = forms.CharField(label=_("地区"), required=False, max_length=6, widget=RegionPicker)
    chain = forms.ChoiceField(label=_("产业链"), required=False, widget=FastSelect)
    founded_after = forms.DateField(label=_("成立晚于"), required=False, widget=FastDateInput(attrs={"type": "date"}))
    founded_before = forms.DateField(label=_("成立早于"), required=False, widget=FastDateInput(attrs={"type": "date"}))
    # Firms holding an active recognition valid until before this date: the officer home's lapsing counts link here.
    certificate_expiring_before = forms.DateField(label=_("认定到期早于"), required=False,
                                                  widget=FastDateInput(attrs={"type": "date"}))
    revenue_min = forms.DecimalField(label=_("营业收入 ≥（万元）"), required=False, min_value=0, widget=FastNumberInput)
    revenue_max = forms.DecimalField(label=_("营业收入 ≤（万元）"), required=False, min_value=0, widget=FastNumberInput)
    rd_intensity_min = forms.FloatField(label=_("研发强度 ≥（%）"), required=False, min_value=0, max_value=100,
                                        widget=FastNumberInput)
    revenue_growth_min = forms.FloatField(label=_("营收增长率 ≥（%）"), required=False, widget=FastNumberInput)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[(k, k) for k in SORTS])
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, user, restricted=frozenset()):
        from web import choices

        super().__init__(data)
        self.user = user
        self.restricted = restricted
        for name in restricted:  # filters that would reveal an indicator this role may not read
            self.fields.pop(name, None)
        self.fields["stage"].choices = choices.stage_choices()
        self.fields["tier"].choices = choices.tier_choices()
        self.fields["chain"].choices = choices.chain_choices()

    def clean_region(self):
        return clean_region_code(self.cleaned_data["region"], self.user)

    def clean(self):
        cleaned = super().clean()
        for name in sorted(self.restricted):
            if self.data.get(name) not in (None, ""):
                self.add_error(None, _("筛选条件“%(name)s”对您的角色不可用。") % {"name": name})
        after, before = cleaned.get("founded_after"), cleaned.get("founded_before")
        if after and before and after >= before:
            self.add_error("founded_before", _("应晚于“成立晚于”的日期。"))
        low, high = cleaned.get("revenue_min"), cleaned.get("revenue_max")
        if low is not None and high is not None and low > high:
            self.add_error("revenue_max", _("应不小于营业收入下限。"))
        return cleaned

    def filterset_data(self):
        """The cleaned filters in FirmFilterSet's terms (percentages → fractions)."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name in ("sort", "page") or value in (None, ""):
                continue
            if name in ("rd_intensity_min", "revenue_growth_min"):
                value = value / 100
            data[name] = value
        return data

    def ordering(self):
        return self.SORTS.get(self.cleaned_data.get("sort") or "id")


def clean_region_code(code, user):
    """A region code typed or picked: '' (all), else a known code inside the user's regions."""
    from web import regions

    code = (code or "").strip()
    if not code:
        return ""
    if not regions.in_scope(user, code):  # unknown and out-of-scope codes get the same answer
        raise forms.ValidationError(_("没有代码为“%(code)s”的地区，或不在您的辖区内。"), code="unknown_region",
                                    params={"code": code})
    return code


class AddToPoolForm(forms.Form):
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=40)
    target_stage = forms.ChoiceField(label=_("目标阶段"))
    target_tier = forms.ChoiceField(label=_("目标层级"), required=False)
    target_year = forms.IntegerField(label=_("目标年度"), min_value=2000, max_value=2100)
    note = forms.CharField(label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from web import choices

        super().__init__(*args, **kwargs)
        self.fields["target_stage"].choices = choices.stage_choices(blank=False)
        self.fields["target_tier"].choices = choices.tier_choices()


class PoolUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from registry.models import PoolStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "")] + list(PoolStatus.choices)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("status") and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("请填写备注或选择新的状态。"))
        return cleaned


def first_error(error):
    """'field: message' of a service's ValidationError (registry.services.errors.field_error)."""
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


def form_errors(form):
    """'label: message; …' of a bound form's errors, each naming its field."""
    return "; ".join((f"{form.fields[f].label}: " if f in form.fields else "") + " ".join(m)
                     for f, m in form.errors.items())
