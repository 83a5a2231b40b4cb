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


@shared_task
def rebuild_precomputed_tables():
    """After a write too large to refresh inline (registry.receivers): rebuild both precomputed groups."""
    from registry.analytics.precomputed import rebuild as rebuild_pipeline
    from registry.eligibility.precomputed import rebuild as rebuild_candidates

    rebuild_pipeline()
    rebuild_candidates()
