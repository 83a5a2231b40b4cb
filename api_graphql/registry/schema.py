"""Registry queries (`firm`, `firms`, `ladder`, `expiringCertificates`, `node`) and mutations.

Every list starts from the type's scoped queryset (ScopedObjectType.get_queryset), so an officer's
region scope holds for lists, single lookups, totals and errors alike.
"""

import functools

import graphene
from django.conf import settings
from django.core.exceptions import ValidationError
from graphene import relay
from graphene.utils.str_converters import to_camel_case
from graphene_django.filter.utils import get_filtering_args_from_filterset
from graphql import GraphQLError

from api_graphql.core.fastpath import NotFast, answers_from_rows, fast_requested
from api_graphql.core.limits import check_page_size
from api_graphql.core.rows import NotPlain, row_page
from api_graphql.core.selection import selection_tree
from api_graphql.core.pagination import CountableConnection, Ordering, cursor_of, keyset_connection
from api_graphql.registry.mutations import RecordCertification, RevokeCertification, UpsertFirm, UpsertIndicators
from api_graphql.registry.types import CertificationType, FirmType, StageType
from registry import uscc as uscc_codes
from registry.filtersets import CertificationFilterSet, FirmFilterSet
from registry import cache as data_cache
from registry.models import Certification, Firm, Region
from registry.services import ladder_for


class FirmConnection(CountableConnection):
    class Meta:
        node = FirmType

    def resolve_total_count(self, info):
        return data_cache.count(self.queryset)  # remembered per registry data version (registry/cache.py)


class FirmOrder(graphene.Enum):
    """Orderings of `firms`; each is a keyset on an indexed column with `id` as tie-breaker."""

    ID = "id"
    NEWEST = "-id"
    NAME = "name_normalized"
    FOUNDED_ON = "founded_on"
    FOUNDED_ON_DESC = "-founded_on"


ORDERINGS = {
    "id": Ordering(),
    "-id": Ordering(descending=True),
    "name_normalized": Ordering("name_normalized"),
    "founded_on": Ordering("founded_on"),
    "-founded_on": Ordering("founded_on", descending=True),
}


def invalid_argument(error):
    """A filter's ValidationError or form errors → one GraphQL error naming the argument and value."""
    items = error.message_dict.items() if hasattr(error, "message_dict") else error.items()
    messages = [f"Invalid argument '{to_camel_case(name)}': {' '.join(msgs)}" for name, msgs in items]
    return GraphQLError(" ".join(messages) or "Invalid arguments.")


@functools.lru_cache(maxsize=256)
def narrowed(filterset_class, names):
    """`filterset_class` with only the filters named (and the required ones), its form class built once.

    A FilterSet deep-copies every declared filter and builds a form class with a field for each, per
    request; a filter without a value is skipped anyway, so leaving it out changes nothing but the
    cost. The form class can be shared: each form deep-copies its fields.
    """
    keep = {name: f for name, f in filterset_class.base_filters.items() if name in names or f.extra.get("required")}
    form_class = None

    def get_form_class(self):
        nonlocal form_class
        if form_class is None:
            form_class = filterset_class.get_form_class(self)
        return form_class

    narrow = type(filterset_class.__name__, (filterset_class,),
                  {"__module__": filterset_class.__module__, "get_form_class": get_form_class})
    narrow.base_filters = keep
    return narrow


def filtered(filterset_class, queryset, arguments):
    data = {name: value for name, value in arguments.items() if value is not None}
    filterset = narrowed(filterset_class, frozenset(data))(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise invalid_argument(filterset.errors)
    try:
        return filterset.qs
    except ValidationError as error:
        raise invalid_argument(error) from None


def region_or_error(code, argument="region"):
    if code is None:
        return None
    region = Region.objects.filter(code=str(code).strip()).first()
    if region is None:
        raise GraphQLError(f"Invalid argument '{argument}': Unknown region code “{code}”.")
    return region


FIRM_FILTER_ARGS = get_filtering_args_from_filterset(FirmFilterSet, FirmType)


class RegistryQuery(graphene.ObjectType):
    node = relay.Node.Field()
    firm = graphene.Field(
        FirmType, uscc=graphene.String(required=True),
        description="One firm by USCC (full-width, lower-case and spaced text accepted), or null.",
    )
    firms = graphene.Field(
        FirmConnection, first=graphene.Int(), after=graphene.String(),
        order_by=graphene.Argument(FirmOrder, default_value=FirmOrder.ID.value), **FIRM_FILTER_ARGS,
        description="Firms matching every filter given, keyset-paginated (first ≤ GRAPHQL_MAX_PAGE_SIZE, default 20).",
    )
    ladder = graphene.List(
        graphene.NonNull(StageType), required=True, region=graphene.String(),
        description="Stages lowest first, with their tiers: the default ladder plus the rungs the region adds.",
    )
    expiring_certificates = graphene.List(
        graphene.NonNull(CertificationType), required=True,
        before=graphene.Date(required=True), region=graphene.String(), stage=graphene.String(), first=graphene.Int(),
        description="ACTIVE recognitions valid until before `before` (strict), soonest first, in your regions. "
                    "`first` defaults to GRAPHQL_MAX_PAGE_SIZE.",
    )

    def resolve_firm(root, info, uscc):
        code = uscc_codes.normalize(uscc)
        # The selected to-one relations joined and only the needed columns read, as for a page (FirmType.plan).
        queryset = FirmType.get_queryset(Firm.objects.filter(uscc=code), info)
        return FirmType.plan(queryset, selection_tree(info)).first()

    def resolve_firms(root, info, first=None, after=None, order_by=FirmOrder.ID.value, **filters):
        first = check_page_size(first)
        order_key = getattr(order_by, "value", order_by)
        queryset = filtered(FirmFilterSet, FirmType.get_queryset(Firm.objects.all(), info), filters)
        ordering = ORDERINGS[order_key]
        kind = f"firms{order_key}"
        page_of = functools.partial(keyset_connection, FirmConnection, count_queryset=queryset, first=first, after=after,
                                    ordering=ordering, kind=kind)
        rows = row_page(info, FirmType, extra_columns=[ordering.field] if ordering.field else [],
                        cursor=functools.partial(cursor_of, kind, ordering))
        if rows is None and fast_requested(info):
            raise NotFast  # before the page query: the executor runs this request (core/fastpath.py)
        if rows is not None:
            try:  # only columns selected: complete the page from plain rows (core/rows.py)
                return page_of(queryset.values(*sorted(rows.columns)), complete_edges=rows.edges)
            except NotPlain:
                pass  # e.g. a null where the schema says non-null: the ordinary path reports it
        return page_of(FirmType.plan(queryset, selection_tree(info, ("edges", "node"))))

    def resolve_ladder(root, info, region=None):
        return list(ladder_for(region_or_error(region)))

    def resolve_expiring_certificates(root, info, before, region=None, stage=None, first=None):
        first = check_page_size(settings.GRAPHQL_MAX_PAGE_SIZE if first is None else first)
        queryset = CertificationType.get_queryset(Certification.objects.select_related("stage", "tier"), info)
        queryset = filtered(CertificationFilterSet, queryset, {"before": before, "region": region, "stage": stage})
        return list(queryset.order_by("valid_until", "id")[:first])


# resolve_firms raises NotFast before its page query when its selection is not plain (core/fastpath.py).
answers_from_rows("Query", "firms")


class RegistryMutation(graphene.ObjectType):
    upsert_firm = UpsertFirm.Field()
    record_certification = RecordCertification.Field()
    revoke_certification = RevokeCertification.Field()
    upsert_indicators = UpsertIndicators.Field()
