"""Mutation plumbing shared by every domain: call a service, turn ValidationError into `errors`.

    result, errors = call_service(record_certification, firm, tier, issued_on, actor=user, via="api")
    return RecordCertification(certification=result and result[0], errors=errors)

Services raise django ValidationError with message_dict naming the field; `errors` carries
`{field, message}` with the field in camelCase (as the client sent it). Unexpected exceptions
are NOT swallowed here: they are logged by Django and surface as a generic GraphQL error.
"""

import datetime
import logging

import graphene
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from graphene.utils.str_converters import to_camel_case

from api_graphql.core.permissions import request_user
from registry.services.writes import prepared_statements

logger = logging.getLogger(__name__)
NON_FIELD = "__all__"


class ErrorType(graphene.ObjectType):
    """A problem with the input; `field` is the argument name (null for the input as a whole)."""

    field = graphene.String()
    message = graphene.String(required=True)
    code = graphene.String()


class MutationError(Exception):
    """Raise inside a mutation to answer with errors instead of the object."""

    def __init__(self, field, message, code=None):
        super().__init__(message)
        self.errors = [ErrorType(field=field, message=message, code=code)]


def errors_from_validation(error, field_names=None):
    """ValidationError → [ErrorType]; `field_names` maps service field names to argument names."""
    field_names = field_names or {}
    if hasattr(error, "error_dict"):
        out = []
        for field, items in error.error_dict.items():
            name = None if field == NON_FIELD else field_names.get(field, to_camel_case(field))
            for item in items:
                for message in item.messages if hasattr(item, "messages") else [str(item)]:
                    out.append(ErrorType(field=name, message=message, code=getattr(item, "code", None)))
        return out
    return [ErrorType(field=None, message=m, code=getattr(error, "code", None)) for m in error.messages]


def call_service(fn, *args, field_names=None, **kwargs):
    """Run a service in a savepoint; return (result, []) or (None, [ErrorType, ...]).

    The savepoint means a failed write leaves nothing behind even when ATOMIC_MUTATIONS keeps the
    outer transaction open for the rest of the request.
    """
    try:
        with transaction.atomic():
            return fn(*args, **kwargs), []
    except ValidationError as error:
        return None, errors_from_validation(error, field_names)
    except MutationError as error:
        return None, error.errors
    except IntegrityError as error:
        logger.info("mutation refused by a database constraint: %s", error)
        return None, [ErrorType(field=None, message="The change conflicts with a record already stored.",
                                code="conflict")]


def parse_date(value, field):
    """ISO date text → date, or MutationError naming the argument."""
    if value is None or isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise MutationError(field, f"“{value}” is not a date (use YYYY-MM-DD).", code="invalid_date") from None


def get_or_error(queryset, field, message, **lookup):
    try:
        return queryset.get(**lookup)
    except ObjectDoesNotExist:
        raise MutationError(field, message, code="not_found") from None


class ServiceMutation(graphene.Mutation):
    """Base for mutations: subclasses implement `perform(info, **arguments)` returning a dict of outputs.

    `perform` may raise ValidationError or MutationError; both become `errors`. Every subclass
    gets an `errors` field.
    """

    class Meta:
        abstract = True

    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @classmethod
    def mutate(cls, root, info, **arguments):
        with prepared_statements():  # each subclass writes one firm
            outputs, errors = call_service(cls.perform, info, **arguments)
        return cls(errors=errors, **(outputs or {}))

    @classmethod
    def perform(cls, info, **arguments):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def user(info):
        return request_user(info)
