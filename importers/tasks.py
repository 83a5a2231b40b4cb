"""Celery task: run an import job by id (eager in the embedded set-up)."""

from celery import shared_task


@shared_task(name="importers.tasks.run_import")
def run_import(job_id):
    from importers.services import run_job

    return run_job(job_id).status
