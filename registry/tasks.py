from celery import shared_task

from registry.services import expire_lapsed


@shared_task
def expire_lapsed_recognitions():
    """Daily sweep (Celery beat): expire recognitions past valid_until and refresh current stages."""
    return expire_lapsed()
