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
    """After a write too large to refresh inline (registry.services.effects.queue_rebuild): rebuild both
    precomputed groups; each clears its behind mark when it commits."""
    from django.core.cache import cache

    from registry.analytics.precomputed import rebuild as rebuild_pipeline
    from registry.eligibility.precomputed import rebuild as rebuild_candidates
    from registry.services.effects import REBUILD_QUEUED

    cache.delete(REBUILD_QUEUED)  # started: writes committed from now on need another one
    rebuild_pipeline()
    rebuild_candidates()
