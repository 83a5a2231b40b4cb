"""BulkReadModel.from_db: instances from the database equal Django's own, and Django's path is kept when it matters."""

import pytest
from django.db.models import Model
from django.db.models.signals import post_init

from registry.models import Firm, IndicatorYear
from registry.services import upsert_indicators
from tests.factories import FirmFactory


def django_from_db(model, db, field_names, values):
    return Model.from_db.__func__(model, db, field_names, values)


def state(instance):
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


@pytest.mark.django_db
def test_loaded_firm_equals_what_django_builds():
    firm = FirmFactory()
    names = [f.attname for f in Firm._meta.concrete_fields]
    values = Firm.objects.filter(pk=firm.pk).values_list(*names).get()

    fast = Firm.from_db("default", names, values)
    slow = django_from_db(Firm, "default", names, values)

    assert type(fast) is Firm and state(fast) == state(slow)
    assert fast._state.adding is False and fast._state.db == "default"
    assert fast.region.code == firm.region_id  # relations still load through their descriptors


@pytest.mark.django_db
def test_deferred_columns_stay_deferred_and_relations_join():
    firm = FirmFactory()
    upsert_indicators(firm, 2025, {"revenue": 1000, "rd_expense": 60})
    loaded = Firm.objects.select_related("latest_indicators").only("uscc", "latest_indicators__year").get(pk=firm.pk)

    assert "name" in loaded.get_deferred_fields()
    assert loaded.latest_indicators.year == 2025 and "revenue" in loaded.latest_indicators.get_deferred_fields()
    assert loaded.name == firm.name  # loaded on access, as Django does
    assert isinstance(loaded.latest_indicators, IndicatorYear)


@pytest.mark.django_db
def test_post_init_receivers_get_django_path():
    firm = FirmFactory()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Firm)
    try:
        Firm.objects.get(pk=firm.pk)
    finally:
        post_init.disconnect(receiver, sender=Firm)
    assert seen == [firm.pk]
