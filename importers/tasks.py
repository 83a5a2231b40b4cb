"""Celery tasks: run an import job by id (eager in the embedded set-up); end stalled jobs (beat)."""

from celery import shared_task
from django.conf import settings


@shared_task(name="importers.tasks.run_import", soft_time_limit=settings.IMPORT_TIMEOUT_SECONDS + 60)
def run_import(job_id):
    from importers.services import run_job

    return run_job(job_id).status


@shared_task(name="importers.tasks.reap_stalled_imports")
def reap_stalled_imports():
    """Every few minutes (CELERY_BEAT_SCHEDULE): running jobs whose process died end FAILED."""
    from importers.lifecycle import reap_stalled_jobs

    return [job.pk for job in reap_stalled_jobs()]
