from django.urls import include, path
from django.views.i18n import set_language

from web.views import auth, home

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth.SignOutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("web.urls_more")),  # search, analytics, imports (web/urls_more.py)
]
