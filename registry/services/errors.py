from django.core.exceptions import ValidationError


def field_error(field, message, code=None):
    """A ValidationError naming the field, as every service raises them."""
    return ValidationError({field: [ValidationError(message, code=code)]})
