"""Sign-in, sign-out, and setting a password from the one-time link `grant_role` prints.

The link is Django's password-reset token (`default_token_generator`): an HMAC under SECRET_KEY of the
user's password hash, last sign-in and the time, so nothing is stored, and it dies once the password
changes and after PASSWORD_RESET_TIMEOUT. Django's confirm view moves the token into the session and redirects, so the
page the user types the password on has no token in its address (nothing in a Referer or history).
"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from web.forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django's LogoutView), so a link or an image cannot sign a user out."""

    next_page = "web:login"


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """/accounts/set-password/<uid>/<token>/: choose a password, then sign in with it (no automatic sign-in,
    so the first sign-in goes through the same throttled form as every other)."""

    template_name = "web/set_password.html"
    success_url = reverse_lazy("web:login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已设置，请用新密码登录。"))
        return response
