"""Celery through a real Redis broker and worker (runs under scripts/with-services, skipped otherwise)."""

import datetime
import os

import pytest

from registry.models import Certification, CertificationStatus
from registry.services import record_certification

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="CELERY_BROKER_URL is not a Redis URL (run under scripts/with-services)",
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_expiry_sweep_runs_on_a_real_worker_through_redis(firm, settings):
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connection

    from cultivar.celery import app
    from registry.tasks import expire_lapsed_recognitions

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    cert, _ = record_certification(firm, "hnte", datetime.date(2020, 1, 2), today=datetime.date(2021, 1, 1))
    assert cert.status == CertificationStatus.ACTIVE

    def close_worker_connection(**kwargs):  # the worker thread's own connection would outlive the test database
        connection.close()

    task_postrun.connect(close_worker_connection, weak=False)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            result = expire_lapsed_recognitions.delay()
            assert result.get(timeout=30) == 1
    finally:
        task_postrun.disconnect(close_worker_connection)
        app.conf.task_always_eager = True
    assert Certification.objects.get(pk=cert.pk).status == CertificationStatus.EXPIRED
