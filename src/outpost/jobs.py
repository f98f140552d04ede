"""Every periodic job of the installation, in the order the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import utcnow
from outpost.delivery.retention import purge_events, purge_message_bodies
from outpost.domains.service import recheck_due_domains
from outpost.scheduler import Job
from outpost.tenancy.auth import purge_expired_sessions


def _purge_sessions(session: Session, _settings: Settings) -> None:
    purge_expired_sessions(session=session)


def _recheck_domains(session: Session, settings: Settings) -> None:
    recheck_due_domains(session=session, settings=settings, now=utcnow())


def _purge_message_bodies(session: Session, settings: Settings) -> None:
    purge_message_bodies(session=session, settings=settings)


def _purge_events(session: Session, settings: Settings) -> None:
    purge_events(session=session, settings=settings)


ALL_JOBS: list[Job] = [
    Job("purge-expired-sessions", timedelta(hours=1), _purge_sessions),
    # Each domain has its own pace (see domains/checks.py); this only looks for due ones.
    Job("recheck-domains", timedelta(minutes=1), _recheck_domains),
    Job("purge-message-bodies", timedelta(minutes=1), _purge_message_bodies),
    Job("purge-events", timedelta(minutes=1), _purge_events),
]
