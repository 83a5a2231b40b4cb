"""Sign-in and sign-out (Django auth; `/` is the home page, which sends visitors here)."""

from django.contrib.auth import views as auth_views

from web.forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django's LogoutView), so a link or an image cannot sign a user out."""

    next_page = "web:login"
