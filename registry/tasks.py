from celery import shared_task

from registry.services import expire_lapsed


@shared_task
def expire_lapsed_recognitions():
    """Daily sweep (Celery beat): expire recognitions past valid_until and refresh current stages."""
    return expire_lapsed()


@shared_task
def rebuild_candidate_ranks():
    """Daily (Celery beat): the candidates ranking answers for one evaluation date, so build today's."""
    from registry.eligibility.precomputed import rebuild

    rebuild()
