"""The home page, one per role (officer, analyst, investor; admins get the officer's, over every region)."""

from django.shortcuts import render

from registry.models import Role
from web import history
from web.access import page


@page("home")
def home(request):
    role = request.role
    if role == Role.INVESTOR:
        return render(request, "web/home_investor.html", {
            "screens": history.saved_screens(request.user), "searches": history.recent_searches(request.user),
        })
    if role == Role.ANALYST:
        return render(request, "web/home_analyst.html", {})
    return render(request, "web/home_officer.html", {})
