"""{% firm_url uscc %}: the firm profile's address (the profile page, /firms/<uscc>/)."""

from urllib.parse import quote

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()
PROFILE_URL_NAMES = ("web:firm", "web:firm_profile", "web:profile")


@register.simple_tag
def firm_url(uscc):
    for name in PROFILE_URL_NAMES:
        try:
            return reverse(name, args=[uscc])
        except NoReverseMatch:
            continue
    return f"/firms/{quote(str(uscc))}/"
