"""Row scope and field scope for the GraphQL API, each in ONE place.

Row scope: every Django-backed type derives from `ScopedObjectType`, whose `get_queryset` (the hook
graphene-django calls for nodes and connections, NetBox's BaseObjectType) narrows rows with the
type's `visible_to(user, queryset)`; the registry resolvers start from the same method.

Field scope: `FieldScope` consults `FIELD_RULES` (type name → rule) and `ARGUMENT_RULES`
((type, field) → rule); the execution context asks it before any resolver runs (no per-field
middleware). A field the role may not read resolves to null with an error naming the field and the
role; the rest of the response is kept.
Other domains register their own rules with `restrict_fields` / `restrict_arguments`.
"""

from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType

from registry import permissions
from registry.models import Role

ROLE_ATTR = "_cultivar_role"


def request_user(info_or_request):
    request = getattr(info_or_request, "context", info_or_request)
    return getattr(request, "user", None)


def request_role(info_or_request):
    """The caller's role, computed once per request."""
    request = getattr(info_or_request, "context", info_or_request)
    if not hasattr(request, ROLE_ATTR):
        setattr(request, ROLE_ATTR, permissions.role_of(getattr(request, "user", None)))
    return getattr(request, ROLE_ATTR)


class FieldRule:
    """Fields of one GraphQL type hidden from some roles: every field but `allow`, or only `deny`."""

    def __init__(self, roles, allow=None, deny=None):
        self.roles = frozenset(roles)
        self.allow = None if allow is None else frozenset(allow) | {"__typename"}
        self.deny = None if deny is None else frozenset(deny)

    def forbids(self, role, field_name):
        if role not in self.roles:
            return False
        if self.allow is not None:
            return field_name not in self.allow
        return field_name in self.deny


FIELD_RULES = {}
ARGUMENT_RULES = {}


def restrict_fields(type_name, roles, *, allow=None, deny=None):
    """Hide fields of `type_name` from `roles`: pass `allow` (everything else hidden) or `deny`."""
    FIELD_RULES[type_name] = FieldRule(roles, allow=allow, deny=deny)


def restrict_arguments(type_name, field_name, roles, arguments):
    """Refuse these (camelCase) arguments of `type_name.field_name` to `roles`."""
    ARGUMENT_RULES[(type_name, field_name)] = (frozenset(roles), frozenset(arguments))


# The registry's rules, derived from registry.permissions (the one place roles are defined).
restrict_fields(
    "IndicatorYearType", {Role.INVESTOR},
    allow={to_camel_case(f) for f in permissions.INVESTOR_PUBLIC_INDICATOR_FIELDS},
)
for _type_name in ("CultivationEntryType", "CultivationNoteType"):
    restrict_fields(_type_name, {Role.INVESTOR}, allow=set())
restrict_arguments(
    "Query", "firms", {Role.INVESTOR}, {to_camel_case(f) for f in permissions.INVESTOR_RESTRICTED_FIRM_FILTERS}
)
# The screen's raw columns follow the field policy: a role reading a figure banded or hidden gets a
# refusal for it (the screening service leaves it out of the rows, too). Indicator details are raw.
for _role, _policy in permissions.FIELD_POLICY.items():
    restrict_fields("ScreenedFirmType", {_role}, deny={
        to_camel_case(f) for f in ("revenue", "revenue_growth", "rd_intensity", "employees")
        if permissions.field_access(_role, f) != permissions.RAW})
    restrict_fields("IndicatorDetailType", {_role}, allow={"id", "year"})


class FieldScope:
    """The field scope of one request: why a field (or an argument given to it) is refused, or None.

    The execution context (api_graphql/core/execution.py) asks before any field resolves; the
    verdict on a field is kept for the request, so a page of 100 firms checks each field once.
    """

    def __init__(self, role):
        self.role = role
        self._fields = {}

    def field_refusal(self, type_name, field_name):
        key = (type_name, field_name)
        if key not in self._fields:
            rule = FIELD_RULES.get(type_name)
            refused = rule is not None and rule.forbids(self.role, field_name)
            self._fields[key] = (f"Field '{field_name}' of {type_name} is not available to the {self.role} role."
                                 if refused else None)
        return self._fields[key]

    def restricts_arguments(self, type_name, field_name):
        rule = ARGUMENT_RULES.get((type_name, field_name))
        return rule is not None and self.role in rule[0]

    def argument_refusal(self, type_name, field_name, args):
        """`args` as the resolver receives them (snake_case names); None values count as not given."""
        if not self.restricts_arguments(type_name, field_name):
            return None
        restricted = ARGUMENT_RULES[(type_name, field_name)][1]
        used = sorted(to_camel_case(a) for a in args if to_camel_case(a) in restricted and args[a] is not None)
        if used:
            return f"Argument '{used[0]}' of {field_name} is not available to the {self.role} role."
        return None


class ScopedObjectType(DjangoObjectType):
    """Base of every model-backed type: rows are narrowed to what the caller may see, here only."""

    class Meta:
        abstract = True

    @classmethod
    def visible_to(cls, user, queryset):
        """Override: the rows of `queryset` this user may read. Default: any user with a role."""
        return queryset if permissions.role_of(user) else queryset.none()

    @classmethod
    def get_queryset(cls, queryset, info):
        return cls.visible_to(request_user(info), queryset)

    @classmethod
    def is_type_of(cls, root, info):
        # Asked for every object of a page: answer the common case (an instance of exactly our model) first.
        return type(root) is cls._meta.model or super().is_type_of(root, info)

    # GraphQL field → model columns its resolver reads. None: each concrete model field under its
    # camelCase name reads its own column. KEY_COLUMNS are always read (None: pk and foreign keys,
    # which resolvers and loaders follow).
    COLUMNS = None
    KEY_COLUMNS = None

    @classmethod
    def columns(cls, selected):
        """The set of columns to load for these selected field names, or None when one of them is unknown (load all)."""
        mapping, keys = cls._column_maps()
        if not all(name in mapping for name in selected):
            return None
        return set(keys) | {column for name in selected for column in mapping[name]}

    @classmethod
    def _column_maps(cls):
        """(COLUMNS, KEY_COLUMNS) with the defaults filled in from the model, worked out once per type."""
        if "_columns_cache" not in cls.__dict__:
            fields = cls._meta.model._meta.concrete_fields
            mapping = cls.COLUMNS
            if mapping is None:
                mapping = {to_camel_case(f.name): (f.attname,) for f in fields}
                mapping["__typename"] = ()
            keys = cls.KEY_COLUMNS
            if keys is None:
                keys = tuple(f.attname for f in fields if f.primary_key or f.is_relation)
            cls._columns_cache = (mapping, keys)
        return cls._columns_cache
