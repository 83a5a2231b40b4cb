from django.urls import include, path
from django.views.i18n import set_language

from web.views import auth, candidates, firms, home, pool, regions

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth.SignOutView.as_view(), name="logout"),
    path("accounts/set-password/<uidb64>/<token>/", auth.SetPasswordView.as_view(), name="set_password"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("firms/", firms.firm_list, name="firms"),
    path("firms/export.<str:fmt>", firms.firm_export, name="firm_export"),
    path("firms/screens/", firms.save_screen, name="save_screen"),
    path("firms/screens/<int:screen_id>/delete/", firms.delete_screen, name="delete_screen"),
    path("firms/<str:uscc>/", firms.firm_profile, name="firm"),
    path("candidates/", candidates.candidate_list, name="candidates"),
    path("pool/", pool.pool_board, name="pool"),
    path("pool/add/", pool.pool_add, name="pool_add"),
    path("pool/<int:entry_id>/", pool.pool_update, name="pool_update"),
    path("pool/<int:entry_id>/owner/", pool.pool_owner, name="pool_owner"),
    path("regions/", regions.region_tree, name="regions"),
    path("", include("web.urls_more")),  # search, analytics, imports (web/urls_more.py)
]
