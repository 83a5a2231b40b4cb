"""Jobs that stop without finishing: killed, timed out, crashed.

A running job writes a heartbeat (importers.services.ProgressWriter, on a second connection on
PostgreSQL) and records the process running it (``worker`` = host:pid). ``reap_stalled_jobs`` —
the Celery beat task ``importers.tasks.reap_stalled_imports`` and ``manage.py reap_imports`` —
ends FAILED, with the reason, every RUNNING job that:

- ran on this host in a process that no longer exists (killed, crashed);
- ran elsewhere and has no heartbeat for IMPORT_HEARTBEAT_STALE_SECONDS;
- is past IMPORT_TIMEOUT_SECONDS plus that, though its process is alive (hung) or no heartbeat can
  be written (SQLite: one writer at a time).

The registry is never touched: a job writes in one transaction, so a stopped job wrote nothing.
Uploaded files: the stored copy of every job that has a record is KEPT on purpose (the rejected
rows download re-reads it; administrators may re-run it); files under VAR_DIR/imports that no job
refers to (an upload that broke off between storing and recording) are removed once they are older
than the stale limit.
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import ImportJob, JobStatus


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


def why_stalled(job, now=None):
    """The reason a RUNNING job is dead, or None while it may still be running."""
    now = now or timezone.now()
    host, _, pid = (job.worker or "").rpartition(":")
    here = host == socket.gethostname() and pid.isdigit()
    alive = here and (int(pid) == os.getpid() or _alive(int(pid)))
    if here and not alive:
        return f"The process running the import ({job.worker}) ended before the job finished (killed or crashed)."
    stale = datetime.timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)
    if alive or connection.vendor != "postgresql":
        # its process is alive (one long statement writes no heartbeat), or no heartbeat can be written
        # while the job's transaction is open (SQLite: one writer): only past its own deadline is it hung
        stale += datetime.timedelta(seconds=settings.IMPORT_TIMEOUT_SECONDS)
    last = job.heartbeat_at or job.started_at or job.created_at
    if last and now - last > stale:
        return (f"No sign of life from the import since {timezone.localtime(last):%Y-%m-%d %H:%M:%S} "
                f"(IMPORT_HEARTBEAT_STALE_SECONDS={settings.IMPORT_HEARTBEAT_STALE_SECONDS}); it stopped without "
                f"finishing (killed, timed out or crashed). Nothing was written; run it again.")
    return None


def reap_stalled_jobs(now=None):
    """End every stalled RUNNING job FAILED with its reason; returns the jobs ended."""
    now = now or timezone.now()
    ended = []
    for job in ImportJob.objects.filter(status=JobStatus.RUNNING):
        reason = why_stalled(job, now)
        if reason is None:
            continue
        # only if still RUNNING: a job that finished meanwhile keeps its own status
        if ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, message=reason, finished_at=now):
            job.status, job.message = JobStatus.FAILED, reason
            ended.append(job)
    remove_orphan_files(now)
    return ended


def remove_orphan_files(now=None):
    """Stored uploads no job refers to, older than the stale limit; returns the paths removed."""
    root = Path(settings.VAR_DIR) / "imports"
    if not root.is_dir():
        return []
    cutoff = (now or timezone.now()).timestamp() - settings.IMPORT_HEARTBEAT_STALE_SECONDS
    files = [p for p in root.glob("*/*") if p.is_file() and p.stat().st_mtime < cutoff]
    known = set(ImportJob.objects.filter(file_path__in=[str(p) for p in files]).values_list("file_path", flat=True))
    removed = []
    for path in files:
        if str(path) not in known:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
