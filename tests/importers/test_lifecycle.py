"""Jobs that stop without finishing (issue 13): a killed or silent job is ended failed by the reaper
with its reason; no upload is left behind without a job; messages never show the stored file name."""

import datetime
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from importers.lifecycle import reap_stalled_jobs
from importers.models import ImportJob, JobStatus
from importers.services import ImportRefused, create_job, run_job

pytestmark = pytest.mark.django_db


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running(data_dir, **fields):
    job = create_job(data_dir / "firms_master.csv", kind="firms")
    now = timezone.now()
    defaults = dict(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker=f"{socket.gethostname()}:{os.getpid()}")
    ImportJob.objects.filter(pk=job.pk).update(**{**defaults, **fields})
    return job


def test_a_job_whose_process_was_killed_ends_failed_with_the_reason(data_dir, settings):
    job = running(data_dir, worker=f"{socket.gethostname()}:{dead_pid()}")
    # alive, busy in one long statement (no heartbeat for a while) but within its timeout: left alone
    quiet = timezone.now() - datetime.timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS + 60)
    alive = running(data_dir, heartbeat_at=quiet)
    assert [j.pk for j in reap_stalled_jobs()] == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "killed or crashed" in job.message and job.finished_at
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING
    assert Path(job.file_path).is_file()  # kept on purpose: it can be run again


def test_a_job_without_heartbeat_for_too_long_ends_failed(data_dir, settings):
    old = timezone.now() - datetime.timedelta(seconds=settings.IMPORT_TIMEOUT_SECONDS
                                              + 2 * settings.IMPORT_HEARTBEAT_STALE_SECONDS + 60)
    job = running(data_dir, heartbeat_at=old, started_at=old, worker="another-host:1")
    call_command("reap_imports")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "IMPORT_HEARTBEAT_STALE_SECONDS" in job.message


def test_the_beat_task_is_scheduled_and_reaps(data_dir, settings):
    from importers.tasks import reap_stalled_imports

    assert settings.CELERY_BEAT_SCHEDULE["reap-stalled-imports"]["task"] == "importers.tasks.reap_stalled_imports"
    job = running(data_dir, worker=f"{socket.gethostname()}:{dead_pid()}")
    assert reap_stalled_imports.delay().get() == [job.pk]


def test_orphan_uploads_are_removed_and_job_files_kept(data_dir, settings):
    job = create_job(data_dir / "firms_master.csv", kind="firms")
    orphan = Path(job.file_path).parent / "06000000000000-orphan.csv"
    orphan.write_text("企业名称\n")
    old = timezone.now().timestamp() - settings.IMPORT_HEARTBEAT_STALE_SECONDS - 10
    for path in (orphan, Path(job.file_path)):
        os.utime(path, (old, old))
    reap_stalled_jobs()
    assert not orphan.exists() and Path(job.file_path).exists()


def test_a_refused_upload_leaves_no_file(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    root = Path(settings.VAR_DIR) / "imports"
    before = set(root.glob("*/*")) if root.exists() else set()
    with pytest.raises(ImportRefused):
        create_job(b"x" * 5000, kind="firms", file_name="big.csv")
    assert set(root.glob("*/*")) == before


def test_messages_name_the_uploaded_file_never_the_stored_copy(tmp_path):
    import zipfile

    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    job = run_job(create_job(path, kind="firms", file_name="名单.xlsx"))
    stored = Path(job.file_path).name
    assert job.status == JobStatus.FAILED and "名单.xlsx" in job.message
    assert stored not in job.message and "imports" not in job.message
    gone = create_job(path, kind="firms", file_name="名单.xlsx")
    Path(gone.file_path).unlink()
    job = run_job(gone)
    assert job.status == JobStatus.FAILED and Path(gone.file_path).name not in job.message
