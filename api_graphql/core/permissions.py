"""Row scope and field scope for the GraphQL API, each in ONE place.

Row scope: every Django-backed type derives from `ScopedObjectType`, whose `get_queryset` (the hook
graphene-django calls for nodes and connections, NetBox's BaseObjectType) narrows rows with the
type's `visible_to(user, queryset)`; the registry resolvers start from the same method.

Field scope: `FieldPermissionMiddleware` consults `FIELD_RULES` (type name → rule) and
`ARGUMENT_RULES` ((type, field) → rule) before any resolver runs. A field the role may not read
resolves to null with an error naming the field and the role; the rest of the response is kept.
Other domains register their own rules with `restrict_fields` / `restrict_arguments`.
"""

from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType
from graphql import GraphQLError

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


class FieldPermissionMiddleware:
    """graphene middleware: refuses restricted fields and arguments before their resolvers run."""

    def resolve(self, next_, root, info, **args):
        parent = info.parent_type.name
        rule = FIELD_RULES.get(parent)
        if rule is not None:
            role = request_role(info)
            if rule.forbids(role, info.field_name):
                raise GraphQLError(f"Field '{info.field_name}' of {parent} is not available to the {role} role.")
        if args:
            arg_rule = ARGUMENT_RULES.get((parent, info.field_name))
            if arg_rule is not None:
                role = request_role(info)
                if role in arg_rule[0]:
                    used = sorted(to_camel_case(a) for a in args if to_camel_case(a) in arg_rule[1] and args[a] is not None)
                    if used:
                        raise GraphQLError(
                            f"Argument '{used[0]}' of {info.field_name} is not available to the {role} role."
                        )
        return next_(root, info, **args)


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
