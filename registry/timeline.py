"""A firm's path up the ladder, derived from its recognitions (never stored twice)."""

import datetime
from dataclasses import dataclass

from registry.models import CertificationStatus


class EventKind:
    ENTERED = "entered"  # first recognition of the firm
    UPGRADED = "upgraded"  # a stage or tier higher than any the firm held before
    RENEWED = "renewed"  # a recognition that renews an earlier one of the same tier
    RECOGNIZED = "recognized"  # any other new recognition (same or lower rung, or a re-entry)
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class TimelineEvent:
    date: datetime.date
    kind: str
    certification: object

    @property
    def stage(self):
        return self.certification.stage

    @property
    def tier(self):
        return self.certification.tier


def rank(cert):
    return (cert.stage.rank, cert.tier.rank)


def build_timeline(certifications):
    """Events in date order. Pass certifications with stage and tier loaded (select_related)."""
    certs = sorted(certifications, key=lambda c: (c.valid_from, c.id or 0))
    events = []
    for index, cert in enumerate(certs):
        if index == 0:
            kind = EventKind.ENTERED
        elif cert.renews_id:
            kind = EventKind.RENEWED
        elif rank(cert) > max(rank(c) for c in certs[:index]):
            kind = EventKind.UPGRADED
        else:
            kind = EventKind.RECOGNIZED
        events.append(TimelineEvent(cert.issued_on, kind, cert))
        if cert.status == CertificationStatus.REVOKED and cert.revoked_on:
            events.append(TimelineEvent(cert.revoked_on, EventKind.REVOKED, cert))
        elif cert.status == CertificationStatus.EXPIRED:
            events.append(TimelineEvent(cert.valid_until + datetime.timedelta(days=1), EventKind.EXPIRED, cert))
    order = {EventKind.EXPIRED: 0, EventKind.REVOKED: 0}
    return sorted(events, key=lambda e: (e.date, order.get(e.kind, 1)))
