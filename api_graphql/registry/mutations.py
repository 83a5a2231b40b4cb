"""Registry mutations: thin wrappers over registry.services, scoped by registry.permissions.

Each returns the changed object, `outcome` (created / updated / unchanged) and `errors`. An officer
writing outside their regions gets an error that names no data of the firm.
"""

import graphene
from graphql_relay import from_global_id

from api_graphql.core.mutations import MutationError, ServiceMutation
from api_graphql.core.permissions import request_role
from api_graphql.registry.types import CertificationType, FirmType, IndicatorYearType
from registry import permissions
from registry import services
from registry import uscc as uscc_codes
from registry.models import Certification, Firm, IndicatorYear
from registry.services.firms import resolve_region

OUT_OF_SCOPE = "No firm with this USCC in your regions."


def require_writer(info):
    role = request_role(info)
    if role not in permissions.WRITER_ROLES:
        raise MutationError(None, f"The {role} role may not change the registry.", code="forbidden")


def writable_firm(info, uscc):
    """The firm with this USCC if the caller may change it; the same error whether absent or out of scope."""
    require_writer(info)
    firm = permissions.writable_firm(info.context.user, uscc)
    if firm is None:
        raise MutationError("uscc", OUT_OF_SCOPE, code="not_found")
    return firm


class UpsertFirm(ServiceMutation):
    """Create or update a firm by USCC; only the arguments given are changed."""

    class Arguments:
        uscc = graphene.String(required=True)
        name = graphene.String()
        former_names = graphene.List(graphene.NonNull(graphene.String))
        founded_on = graphene.String(description="YYYY-MM-DD")
        region = graphene.String(description="Region code (required for a new firm)")
        chains = graphene.List(graphene.NonNull(graphene.String), description="Industry chain codes (replaces)")
        industry_code = graphene.String()
        registered_capital = graphene.Decimal(description="万元")
        description = graphene.String()
        main_products = graphene.String()
        technologies = graphene.String()
        listing_status = graphene.String(description="unlisted, listed, acquired or deregistered")
        override_reason = graphene.String(description="Administrators only: accept a USCC failing its check digit")

    firm = graphene.Field(FirmType)
    outcome = graphene.String()

    @classmethod
    def perform(cls, info, uscc, override_reason="", chains=None, **values):
        require_writer(info)
        user = info.context.user
        code = uscc_codes.normalize(uscc)
        existing = Firm.objects.select_related("region").filter(uscc=code).first()
        if existing is not None and not permissions.can_write_firm(user, existing):
            raise MutationError("uscc", "This USCC belongs to a firm outside your regions.", code="forbidden")
        if values.get("region") is not None:
            region = resolve_region(values["region"])
            if not permissions.can_write_region(user, region):
                raise MutationError("region", f"Region {region.code} is outside your regions.", code="forbidden")
            values["region"] = region
        firm, outcome = services.upsert_firm(
            uscc, actor=user, via="api", override_reason=override_reason or "", chains=chains,
            **{k: v for k, v in values.items() if v is not None},
        )
        return {"firm": Firm.objects.get(pk=firm.pk), "outcome": outcome}  # re-read: stored decimals, derived state


class RecordCertification(ServiceMutation):
    """Record a recognition (or update the one with the same certificate number / start date)."""

    class Arguments:
        uscc = graphene.String(required=True)
        tier = graphene.String(required=True, description="Tier code, e.g. hnte, srdi_sme")
        issued_on = graphene.String(required=True, description="YYYY-MM-DD")
        valid_from = graphene.String(description="YYYY-MM-DD; defaults to issuedOn")
        valid_until = graphene.String(description="YYYY-MM-DD; defaults to the tier's validity")
        certificate_no = graphene.String()
        batch = graphene.String()
        batch_year = graphene.Int()
        authority = graphene.String()
        level = graphene.String(description="national, provincial, municipal or district; defaults to the tier's")

    certification = graphene.Field(CertificationType)
    firm = graphene.Field(FirmType)
    outcome = graphene.String()

    @classmethod
    def perform(cls, info, uscc, tier, issued_on, valid_from=None, valid_until=None, **details):
        firm = writable_firm(info, uscc)
        cert, outcome = services.record_certification(
            firm, tier, issued_on, valid_from=valid_from, valid_until=valid_until,
            actor=info.context.user, via="api", **{k: v for k, v in details.items() if v is not None},
        )
        return {"certification": cert, "firm": Firm.objects.get(pk=firm.pk), "outcome": outcome}


class RevokeCertification(ServiceMutation):
    """Revoke a recognition (撤销); it stops counting and shows in the timeline."""

    class Arguments:
        id = graphene.ID(required=True, description="The certification's global id")
        reason = graphene.String(required=True)
        revoked_on = graphene.String(description="YYYY-MM-DD; defaults to today")

    certification = graphene.Field(CertificationType)

    @classmethod
    def perform(cls, info, id, reason, revoked_on=None):
        require_writer(info)
        not_found = MutationError("id", "No recognition with this id in your regions.", code="not_found")
        try:
            type_name, pk = from_global_id(id)
            pk = int(pk)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise not_found from None
        if type_name != CertificationType._meta.name:
            raise not_found
        cert = Certification.objects.select_related("firm__region").filter(pk=pk).first()
        if cert is None or not permissions.can_write_firm(info.context.user, cert.firm):
            raise not_found
        cert = services.revoke_certification(cert, reason, revoked_on=revoked_on, actor=info.context.user, via="api")
        return {"certification": cert}


class UpsertIndicators(ServiceMutation):
    """Create or update a firm's indicators for one year. Money in 万元; ratios as fractions."""

    class Arguments:
        uscc = graphene.String(required=True)
        year = graphene.Int(required=True)
        revenue = graphene.Decimal()
        revenue_growth = graphene.Float()
        rd_expense = graphene.Decimal()
        total_cost = graphene.Decimal()
        employees = graphene.Int()
        rd_staff = graphene.Int()
        ip_class1 = graphene.Int()
        ip_class2 = graphene.Int()
        invention_patents = graphene.Int()
        hightech_revenue = graphene.Decimal()
        total_assets = graphene.Decimal()
        debt_ratio = graphene.Float()
        new_equity_financing = graphene.Decimal()
        valuation_usd = graphene.Decimal()

    indicators = graphene.Field(IndicatorYearType)
    firm = graphene.Field(FirmType)
    outcome = graphene.String()

    @classmethod
    def perform(cls, info, uscc, year, **values):
        firm = writable_firm(info, uscc)
        row, outcome = services.upsert_indicators(
            firm, year, {k: v for k, v in values.items() if v is not None}, actor=info.context.user, via="api"
        )
        return {"indicators": IndicatorYear.objects.get(pk=row.pk), "firm": Firm.objects.get(pk=firm.pk), "outcome": outcome}
