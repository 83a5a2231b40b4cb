from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registry.permissions import role_of
from web import throttle


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
