"""Every periodic job of the installation, in the order the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from outpost.accounts.renewals import (
    expire_extra_messages,
    expire_prepaid_packages,
    reset_monthly_quotas,
)
from outpost.config import Settings
from outpost.db import utcnow
from outpost.delivery.retention import (
    purge_events,
    purge_idempotency_records,
    purge_message_bodies,
)
from outpost.domains.service import recheck_due_domains
from outpost.scheduler import Job
from outpost.tenancy.auth import purge_expired_sessions


def _purge_sessions(session: Session, _settings: Settings) -> None:
    purge_expired_sessions(session=session)


def _reset_monthly_quotas(session: Session, _settings: Settings) -> None:
    reset_monthly_quotas(session=session)


def _expire_prepaid_packages(session: Session, _settings: Settings) -> None:
    expire_prepaid_packages(session=session)


def _expire_extra_messages(session: Session, _settings: Settings) -> None:
    expire_extra_messages(session=session)


def _recheck_domains(session: Session, settings: Settings) -> None:
    recheck_due_domains(session=session, settings=settings, now=utcnow())


def _purge_message_bodies(session: Session, settings: Settings) -> None:
    purge_message_bodies(session=session, settings=settings)


def _purge_events(session: Session, settings: Settings) -> None:
    purge_events(session=session, settings=settings)


def _purge_idempotency_records(session: Session, _settings: Settings) -> None:
    purge_idempotency_records(session=session)


ALL_JOBS: list[Job] = [
    Job("purge-expired-sessions", timedelta(hours=1), _purge_sessions),
    Job("reset-monthly-quotas", timedelta(minutes=5), _reset_monthly_quotas),
    Job("expire-prepaid-packages", timedelta(minutes=5), _expire_prepaid_packages),
    Job("expire-extra-messages", timedelta(minutes=5), _expire_extra_messages),
    # Each domain has its own pace (see domains/checks.py); this only looks for due ones.
    Job("recheck-domains", timedelta(minutes=1), _recheck_domains),
    Job("purge-message-bodies", timedelta(minutes=1), _purge_message_bodies),
    Job("purge-events", timedelta(minutes=1), _purge_events),
    Job("purge-idempotency-records", timedelta(minutes=10), _purge_idempotency_records),
]
