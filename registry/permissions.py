"""Roles and district scope in one place; the API, admin and services ask here."""

from registry.models import Firm, Region, Role, RoleAssignment


def role_of(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    try:
        return user.cultivar_role.role
    except RoleAssignment.DoesNotExist:
        return None


def is_admin(user):
    return role_of(user) == Role.ADMIN


def region_paths(user):
    """Region path prefixes the user is scoped to, or None when the user sees every region."""
    role = role_of(user)
    if role in (Role.ADMIN, Role.ANALYST, Role.INVESTOR):
        return None
    if role == Role.OFFICER:
        return list(user.cultivar_role.regions.values_list("path", flat=True))
    return []


def regions_in_scope(user):
    """A Region queryset of everything the user may see (None = all)."""
    paths = region_paths(user)
    if paths is None:
        return None
    query = Region.objects.none()
    for path in paths:
        query = query | Region.objects.filter(path__startswith=path)
    return query


def firms_visible_to(user, queryset=None):
    queryset = Firm.objects.all() if queryset is None else queryset
    scope = regions_in_scope(user)
    if scope is None:
        return queryset if role_of(user) else queryset.none()
    return queryset.filter(region__in=scope.values("code"))


def can_write_region(user, region):
    """Officers write in their regions; admins everywhere; analysts and investors nowhere."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.OFFICER or region is None:
        return False
    return any(region.path.startswith(p) for p in region_paths(user))
