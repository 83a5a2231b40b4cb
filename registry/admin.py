"""Admin for officers: firms with their recognitions, indicators and timeline on one page.

Edits made here go through registry.services, like every other door into the registry.
"""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html_join

from registry import permissions, services
from registry.models import (
    ApiToken, AuditEvent, Certification, CultivationEntry, CultivationNote, EligibilityRuleSet, Firm,
    IndicatorYear, IndustryChain, PipelineState, PolicyTarget, Region, RoleAssignment, Stage, Tier,
)
from registry.timeline import build_timeline


class RegionTreeFilter(admin.SimpleListFilter):
    """Region filter that includes every sub-region (a city shows its districts' firms)."""

    title = "region (with sub-regions)"
    parameter_name = "region_tree"

    def lookups(self, request, model_admin):
        return [(r.code, f"{r.name} {r.code}") for r in Region.objects.filter(level__in=("province", "city")).filter(code__startswith="32")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        region = Region.objects.filter(code=self.value()).first()
        return queryset.filter(region__path__startswith=region.path) if region else queryset.none()


class ExpiringFilter(admin.SimpleListFilter):
    title = "recognition expiring"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("90", "within 90 days"), ("180", "within 180 days"), ("365", "within a year")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        today = timezone.localdate()
        until = today + datetime.timedelta(days=int(self.value()))
        return queryset.filter(
            certifications__status="active", certifications__valid_until__gte=today,
            certifications__valid_until__lte=until,
        ).distinct()


class ChainFilter(admin.SimpleListFilter):
    title = "industry chain"
    parameter_name = "chain"

    def lookups(self, request, model_admin):
        return [(c.code, c.name) for c in IndustryChain.objects.filter(parent__isnull=True)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(chains__path__startswith=f"{self.value()}/").distinct()


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ("tier", "certificate_no", "batch", "authority", "issued_on", "valid_until", "status", "source_name", "source_row")
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ("issued_on",)

    def has_add_permission(self, request, obj=None):
        return False


class IndicatorInline(admin.TabularInline):
    model = IndicatorYear
    extra = 0
    fields = ("year", "revenue", "revenue_growth", "rd_expense", "rd_intensity", "employees", "rd_staff", "invention_patents", "valuation_usd")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ScopedAdmin(admin.ModelAdmin):
    """Officers only see firms of their regions; the check lives in registry.permissions."""

    firm_path = "firm"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = permissions.regions_in_scope(request.user)
        if scope is None or request.user.is_superuser:
            return queryset
        lookup = "region__in" if self.firm_path is None else f"{self.firm_path}__region__in"
        return queryset.filter(**{lookup: scope.values("code")})


@admin.register(Firm)
class FirmAdmin(ScopedAdmin):
    firm_path = None
    list_display = ("name", "uscc", "region", "current_stage", "current_tier", "founded_on")
    list_filter = ("current_stage", "current_tier", RegionTreeFilter, ChainFilter, ExpiringFilter, "listing_status")
    search_fields = ("name", "uscc", "name_normalized")
    list_select_related = ("region", "current_stage", "current_tier")
    readonly_fields = ("uscc", "current_stage", "current_tier", "timeline", "uscc_override_reason", "uscc_override_by")
    fields = (
        "uscc", "name", "former_names", "founded_on", "region", "chains", "industry_code", "registered_capital",
        "listing_status", "description", "main_products", "technologies", "current_stage", "current_tier",
        "timeline", "uscc_override_reason", "uscc_override_by",
    )
    autocomplete_fields = ("region",)
    filter_horizontal = ("chains",)
    inlines = (CertificationInline, IndicatorInline)

    @admin.display(description="时间线 timeline")
    def timeline(self, firm):
        certs = firm.certifications.select_related("stage", "tier")
        return format_html_join(
            "\n", "<div>{} — {} {}</div>",
            ((e.date.isoformat(), e.kind, e.tier.name) for e in build_timeline(certs)),
        ) or "—"

    def has_add_permission(self, request):
        return False  # new firms come through imports or the API, which validate the USCC

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in form.changed_data if f in services.firms.FIRM_FIELDS}
        chains = [c.code for c in form.cleaned_data["chains"]] if "chains" in form.changed_data else None
        try:
            services.upsert_firm(obj.uscc, actor=request.user, via="admin", chains=chains, **values)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))

    def save_related(self, request, form, formsets, change):
        pass  # chains were saved by the service


@admin.register(Certification)
class CertificationAdmin(ScopedAdmin):
    list_display = ("firm", "tier", "certificate_no", "batch", "issued_on", "valid_until", "status")
    list_filter = ("stage", "tier", "status", "level")
    search_fields = ("certificate_no", "firm__name", "firm__uscc")
    list_select_related = ("firm", "tier")
    date_hierarchy = "valid_until"
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Certification._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected recognitions (撤销)")
    def revoke(self, request, queryset):
        for cert in queryset:
            try:
                services.revoke_certification(cert, "Revoked by an administrator in the admin.", actor=request.user, via="admin")
            except ValidationError as error:
                messages.error(request, f"{cert}: {'; '.join(error.messages)}")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(IndustryChain)
class IndustryChainAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("rank", "code", "name", "region")
    inlines = (TierInline,)


@admin.register(PolicyTarget)
class PolicyTargetAdmin(admin.ModelAdmin):
    list_display = ("region", "stage", "tier", "kind", "start_year", "year", "target")
    list_filter = ("kind", "stage", "year")


@admin.register(EligibilityRuleSet)
class EligibilityRuleSetAdmin(admin.ModelAdmin):
    list_display = ("code", "stage", "tier", "jurisdiction", "effective_from", "effective_to")


class CultivationNoteInline(admin.TabularInline):
    model = CultivationNote
    extra = 0


@admin.register(CultivationEntry)
class CultivationEntryAdmin(ScopedAdmin):
    list_display = ("firm", "target_stage", "target_tier", "target_year", "status", "owner")
    list_filter = ("status", "target_stage", "target_year")
    inlines = (CultivationNoteInline,)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role")
    filter_horizontal = ("regions",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "acted_by", "via", "action", "model", "object_id", "firm_id")
    list_select_related = ("actor",)  # one join, and a deleted actor reads as None rather than failing
    list_filter = ("action", "model")

    @admin.display(description="actor")
    def acted_by(self, event):
        return event.actor_shown()
    search_fields = ("object_id",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PipelineState)
class PipelineStateAdmin(admin.ModelAdmin):
    """The precomputed tables' freshness, read-only: rebuilds (analytics_rebuild, the queued task) set it."""

    list_display = ("name", "complete", "rebuilt_at", "evaluated_on", "behind_since", "note")
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
