"""Faster loading of rows into model instances, for the models read in bulk (API pages, loaders).

Model.__init__ costs ~10 µs a row (field loop, descriptor writes, init signals): more than the SQL
of a page of 100 firms with its joined stage, region and indicators. A row from the database
needs none of that: like unpickling, `from_db` can fill `__dict__` directly. It does so only while
nothing could notice the difference — no pre_init/post_init receivers for the model and no field
with a custom attribute setter — and otherwise uses Django's own path.
"""

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)
_plain_setters = {}


def _plain_attributes(model):
    """True when every concrete field's attribute is a plain Django descriptor (no custom __set__)."""
    if model not in _plain_setters:
        _plain_setters[model] = all(
            type(model.__dict__.get(f.attname)) in PLAIN_DESCRIPTORS for f in model._meta.concrete_fields
        )
    return _plain_setters[model]


def _init_receivers(model):
    # has_listeners() per row costs more than the instance; ask it only when any receiver exists at all.
    return (pre_init.receivers or post_init.receivers) and (pre_init.has_listeners(model) or
                                                            post_init.has_listeners(model))


class BulkReadModel(models.Model):
    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        if not _plain_attributes(cls) or _init_receivers(cls):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        new.__dict__.update(zip(field_names, values))
        state = new._state = ModelState()
        state.adding, state.db = False, db
        return new
