"""培育库: the board by status, adding a firm (one click from candidates or the profile), moving a card,
handing it to another owner.

Reads come from registry.pool (the API's cultivationPool), writes from registry.services.cultivation
(the API's mutations), so status rules, notes and the audit trail are the same whichever door is used.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from registry import permissions
from registry.models import PoolStatus
from registry.pool import owner_for, pool_entries, possible_owners, writable_entry
from registry.services import cultivation
from web import choices
from web.access import page
from web.forms import AddToPoolForm, PoolUpdateForm, first_error, form_errors

# The board's columns, in the order an entry moves (入库 → 辅导 → 申报 → 认定 / 退出).
COLUMNS = (PoolStatus.POOLED, PoolStatus.COACHING, PoolStatus.APPLIED, PoolStatus.RECOGNIZED, PoolStatus.REJECTED)
CARDS_PER_COLUMN = 200
# The same answer whether the firm or entry is absent or outside the user's regions (as the API answers).
NOT_FOUND = gettext_lazy("您的辖区内没有此统一社会信用代码的企业。")
NO_ENTRY = gettext_lazy("您的辖区内没有这条培育记录。")


def is_htmx(request):
    return request.headers.get("HX-Request") == "true"


def safe_next(request, fallback):
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def board_context(request):
    """The board for the request's filters (year, target stage, region); errors name the filter."""
    params = {k: (request.GET.get(k) or "").strip() for k in ("year", "stage", "region")}
    errors = {}
    year = None
    if params["year"]:
        try:
            year = int(params["year"])
        except ValueError:
            errors["year"] = _("“%(value)s”不是年份。") % {"value": params["year"]}
    columns = []
    if not errors:
        try:
            entries = pool_entries(request.user, region=params["region"] or None, target_stage=params["stage"] or None,
                                   target_year=year)
            entries = list(entries.select_related("firm__region", "target_stage", "target_tier", "owner")
                           .prefetch_related("notes__author")[:CARDS_PER_COLUMN * len(COLUMNS)])
        except ValidationError as error:
            errors.update({k: " ".join(v) for k, v in error.message_dict.items()})
            entries = []
        for status in COLUMNS:
            cards = [e for e in entries if e.status == status]
            columns.append((status, cards))
    writer = permissions.can_write(request.user)
    # The owner select of each card: who may own an entry in that card's region (registry.pool).
    owners = possible_owners({e.firm.region for e in entries}) if writer and not errors else {}
    return {
        "columns": columns, "params": params, "errors": errors, "writer": writer, "owners": owners,
        "moves": {status: sorted(cultivation.TRANSITIONS[status], key=COLUMNS.index) for status in COLUMNS},
        "stage_choices": choices.stage_choices(),
    }


@page("pool")
def pool_board(request):
    return render(request, "web/pool.html", board_context(request))


@require_POST
@page("pool")
def pool_add(request):
    """Add a firm to the pool (officers and admins, their regions). htmx gets a fragment, others a redirect."""
    if not permissions.can_write(request.user):
        return HttpResponseForbidden(_("您的角色不能修改培育库。"))
    form = AddToPoolForm(request.POST)
    error, entry = None, None
    if not form.is_valid():
        error = form_errors(form)
    else:
        data = form.cleaned_data
        firm = permissions.writable_firm(request.user, data["uscc"])
        if firm is None:
            error = f"{form.fields['uscc'].label}: {NOT_FOUND}"
        else:
            try:
                entry = cultivation.add_to_cultivation_pool(
                    firm, data["target_stage"], data["target_tier"] or None, data["target_year"], owner=request.user,
                    actor=request.user, note=data["note"], via="web", today=timezone.localdate(),
                )
            except ValidationError as problem:
                error = first_error(problem)
    if is_htmx(request):
        # htmx swaps only 2xx answers: an error comes back as a 200 fragment that says what is wrong.
        return render(request, "web/_pool_added.html", {"entry": entry, "error": error})
    if entry:
        messages.success(request, _("已加入培育库：%(name)s") % {"name": entry.firm.name})
    else:
        messages.error(request, error)
    return redirect(safe_next(request, "web:pool"))


@require_POST
@page("pool")
def pool_update(request, entry_id):
    """Move a card to another status and/or add a note, through services.cultivation."""
    if not permissions.can_write(request.user):
        return HttpResponseForbidden(_("您的角色不能修改培育库。"))
    entry = writable_entry(request.user, entry_id)
    form = PoolUpdateForm(request.POST)
    error = None
    if entry is None:
        error = str(NO_ENTRY)
    elif not form.is_valid():
        error = form_errors(form)
    else:
        try:
            cultivation.update_cultivation_entry(entry, status=form.cleaned_data["status"] or None,
                                                 note=form.cleaned_data["note"], actor=request.user, via="web")
        except ValidationError as problem:
            error = first_error(problem)
    return board_answer(request, error)


@require_POST
@page("pool")
def pool_owner(request, entry_id):
    """Hand a card to another owner (改派): an officer of the firm's region or an admin; "" clears it.

    Out-of-scope entries and owners get the same answers as absent ones, so nothing leaks.
    """
    if not permissions.can_write(request.user):
        return HttpResponseForbidden(_("您的角色不能修改培育库。"))
    entry = writable_entry(request.user, entry_id)
    error = None
    if entry is None:
        error = str(NO_ENTRY)
    elif "owner" not in request.POST:
        error = "owner: " + _("请选择负责人。")
    else:
        try:
            owner = owner_for(entry.firm, request.POST["owner"][:150])
            if (owner.pk if owner else None) != entry.owner_id:  # the same owner again: nothing to write
                cultivation.update_cultivation_entry(entry, owner=owner, actor=request.user, via="web")
        except ValidationError as problem:
            error = first_error(problem)
    return board_answer(request, error)


def board_answer(request, error):
    """After a board action: the board itself for htmx (with the error in place), else back with a message."""
    if is_htmx(request):
        context = board_context(request)
        context["board_error"] = error
        return render(request, "web/_pool_board.html", context)
    if error:
        messages.error(request, error)
    return redirect(safe_next(request, "web:pool"))
