"""manage.py reap_imports: end FAILED every running import whose process stopped (killed, timed out,
crashed), with the reason; remove stored uploads no job refers to. The beat task does the same."""

from django.core.management.base import BaseCommand

from importers.lifecycle import reap_stalled_jobs


class Command(BaseCommand):
    help = "End stalled import jobs (killed, timed out, crashed) as failed, with the reason."

    def handle(self, *args, **options):
        ended = reap_stalled_jobs()
        for job in ended:
            self.stdout.write(f"job {job.pk} ({job.file_name}): failed — {job.message}")
        self.stdout.write(f"{len(ended)} stalled job(s) ended.")
